package scan

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// seeded returns a deterministic random source.
func seeded(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	s[1] = byte(seed >> 8)
	return rand.NewChaCha8(s)
}

// testOptions are hermetic defaults: no certificate, no groups, a short
// timeout, deterministic randomness.
func testOptions(versions ...tls.Version) Options {
	return Options{
		Timeout:    2 * time.Second,
		Rand:       seeded(1),
		SkipCert:   true,
		SkipGroups: true,
		Versions:   versions,
	}
}

// targetOf parses a faketls address.
func targetOf(t testing.TB, addr string) Target {
	t.Helper()
	tg, err := ParseTarget(addr, TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func scanFake(t testing.TB, cfg faketls.Config, opts Options) (*Result, *faketls.Server) {
	t.Helper()
	srv := faketls.Start(t, cfg)
	res := ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	return res, srv
}

func registryIDs(v tls.Version) []uint16 {
	var ids []uint16
	for _, s := range ciphers.ForVersion(v) {
		ids = append(ids, s.ID)
	}
	return ids
}

// allSuiteIDs are the code points of every registry suite (SCSV and
// GREASE excluded): the candidates of SSLv3 … TLS 1.2.
func allSuiteIDs() []uint16 {
	var ids []uint16
	for _, s := range ciphers.All() {
		if s.Kind == ciphers.KindSuite {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

func sorted(ids []uint16) []uint16 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestFullRegistry(t *testing.T) {
	for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.Version(v).String(), func(t *testing.T) {
			t.Parallel()
			res, srv := scanFake(t, faketls.FullRegistry(tls.Version(v)), testOptions(v))
			vr := res.Version(v)
			if vr == nil || vr.Outcome != Accepted {
				t.Fatalf("version: %+v", vr)
			}
			want := registryIDs(v)
			if got := sorted(vr.Suites); !slices.Equal(got, want) {
				t.Errorf("suites: got %d, want %d; inconclusive %v %q", len(got), len(want), vr.Inconclusive, vr.InconclusiveReason)
			}
			h := res.Handshakes
			if h.Total != srv.Connections() {
				t.Errorf("handshakes %+v, server saw %d", h, srv.Connections())
			}
			// Every suite of the version accepted; for SSLv3 … TLS 1.2
			// the other code points are refused in one more hello (for
			// SSLv3 too: the 263 left make a hello past 511 bytes).
			extra := 0
			switch v {
			case tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12:
				extra = 1
			}
			if got := h.Versions + h.Suites; got != len(want)+extra {
				t.Errorf("enumeration connections %d, want %d (%+v)", got, len(want)+extra, h)
			}
			t.Logf("%s: %d suites, handshakes %+v", tls.Version(v).String(), len(vr.Suites), h)
		})
	}
}

// pick returns n suites of version v chosen by seed, in a random order
// (the server's order under server preference).
func pick(v tls.Version, n int, seed uint64) []uint16 {
	ids := registryIDs(v)
	r := rand.New(seeded(seed))
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	return ids[:min(n, len(ids))]
}

// lowerBound is the fewest enumeration connections for a version with a
// accepted suites out of c candidates: one per accepted suite and one
// refusal, unless every candidate was accepted.
func lowerBound(a, c int) int {
	if a == c {
		return a
	}
	return a + 1
}

func TestRandomSubsets(t *testing.T) {
	versions := []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}
	for _, serverPref := range []bool{false, true} {
		for seed := uint64(1); seed <= 6; seed++ {
			name := "client"
			if serverPref {
				name = "server"
			}
			t.Run(name+"/"+string(rune('0'+seed)), func(t *testing.T) {
				t.Parallel()
				cfg := faketls.Config{Suites: map[tls.Version][]uint16{}, ServerPreference: serverPref}
				// Version subsets vary with the seed; sizes 1 … 60.
				sizes := map[tls.Version]int{
					tls.VersionSSL30: int(seed*7) % 12,
					tls.VersionTLS10: 1 + int(seed*13)%40,
					tls.VersionTLS11: int(seed*5) % 3,
					tls.VersionTLS12: 1 + int(seed*17)%60,
					tls.VersionTLS13: 1 + int(seed)%6,
				}
				for i, v := range versions {
					if sizes[v] > 0 {
						cfg.Suites[v] = pick(v, sizes[v], seed*10+uint64(i))
					}
				}
				opts := testOptions(versions...)
				opts.Rand = seeded(seed)
				res, srv := scanFake(t, cfg, opts)
				bound := 0
				for _, v := range versions {
					vr := res.Version(v)
					want, ok := cfg.Suites[tls.Version(v)]
					if !ok {
						if vr.Outcome != Rejected || vr.Reason != "alert protocol_version" {
							t.Errorf("%s: %s %q, want rejected by protocol_version", vr.Name(), vr.Outcome, vr.Reason)
						}
						bound++
						continue
					}
					bound += lowerBound(len(want), vr.Candidates)
					if vr.Outcome != Accepted || len(vr.Inconclusive) > 0 {
						t.Errorf("%s: %s %q inconclusive %v", vr.Name(), vr.Outcome, vr.Reason, vr.Inconclusive)
					}
					if !serverPref {
						if !slices.Equal(sorted(vr.Suites), sorted(want)) {
							t.Errorf("%s: suites %04x, want %04x", vr.Name(), vr.Suites, want)
						}
						if len(want) >= 2 && (vr.ServerOrder == nil || *vr.ServerOrder) {
							t.Errorf("%s: server order %v, want false", vr.Name(), vr.ServerOrder)
						}
						continue
					}
					if !slices.Equal(vr.Suites, want) {
						t.Errorf("%s: suites %04x, want in server order %04x", vr.Name(), vr.Suites, want)
					}
					if len(want) >= 2 && (vr.ServerOrder == nil || !*vr.ServerOrder || vr.OrderIncomplete) {
						t.Errorf("%s: server order %v (incomplete %v), want true", vr.Name(), vr.ServerOrder, vr.OrderIncomplete)
					}
				}
				h := res.Handshakes
				if h.Total != srv.Connections() {
					t.Errorf("handshakes %+v, server saw %d", h, srv.Connections())
				}
				enum := h.Versions + h.Suites
				// The first hello of TLS 1.0 and 1.2 carries only 128
				// suites: a version whose accepted suites all lie beyond
				// it, or with one accepted suite among more than 128
				// candidates, costs one more.
				if enum < bound || enum > bound+4 {
					t.Errorf("enumeration connections %d, lower bound %d (%+v)", enum, bound, h)
				}
				t.Logf("enumeration %d (lower bound %d), order %d, total %d", enum, bound, h.Order, h.Total)
			})
		}
	}
}

// TestCertSkipped: an endpoint that accepted a version but whose
// certificate handshake was skipped says so (never a silent "no
// certificate"); one that accepted nothing does not.
func TestCertSkipped(t *testing.T) {
	srv := faketls.Start(t, faketls.Intermediate())
	opts := testOptions(tls.VersionTLS12)
	opts.VersionsOnly = true
	res := ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	if res.Version(tls.VersionTLS12).Outcome != Accepted || res.Cert != nil || res.CertSkipped != "skipped" {
		t.Errorf("SkipCert: TLS 1.2 %s, cert %v, CertSkipped %q; want accepted, nil, \"skipped\"", res.Version(tls.VersionTLS12).Outcome, res.Cert, res.CertSkipped)
	}
	opts.SkipCertReason = "--versions-only"
	res = ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	if res.CertSkipped != "--versions-only" {
		t.Errorf("CertSkipped %q, want the reason given", res.CertSkipped)
	}
	opts.Versions = []tls.Version{tls.VersionSSL30} // refused: nothing to check
	res = ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	if res.Version(tls.VersionSSL30).Outcome != Rejected || res.CertSkipped != "" {
		t.Errorf("nothing accepted: SSLv3 %s, CertSkipped %q", res.Version(tls.VersionSSL30).Outcome, res.CertSkipped)
	}
}
