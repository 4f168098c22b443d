package scan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

func TestSSLv2AllKinds(t *testing.T) {
	t.Parallel()
	res, srv := scanFake(t, faketls.FullRegistry(tls.VersionSSL20), testOptions(tls.VersionSSL20))
	if res.SSLv2 == nil || res.SSLv2.Outcome != Accepted {
		t.Fatalf("SSLv2: %+v", res.SSLv2)
	}
	if !slices.Equal(res.SSLv2.Kinds, faketls.AllSSLv2Kinds()) {
		t.Errorf("kinds %06x, want %06x", res.SSLv2.Kinds, faketls.AllSSLv2Kinds())
	}
	if res.Handshakes.SSLv2 != 1 || srv.Connections() != 1 {
		t.Errorf("handshakes %+v, server %d", res.Handshakes, srv.Connections())
	}
}

func TestSSLv2Refused(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{SSLv2Kinds: []uint32{0x0700C0}}
	res, _ := scanFake(t, cfg, testOptions(tls.VersionSSL20))
	if res.SSLv2.Outcome != Accepted || !slices.Equal(res.SSLv2.Kinds, []uint32{0x0700C0}) {
		t.Errorf("SSLv2: %+v", res.SSLv2)
	}
	res, _ = scanFake(t, faketls.Config{Suites: map[tls.Version][]uint16{tls.VersionTLS12: {0xC02F}}}, testOptions(tls.VersionSSL20))
	if res.SSLv2.Outcome != Rejected || res.SSLv2.Reason != "alert protocol_version" {
		t.Errorf("SSLv2 on a TLS server: %+v", res.SSLv2)
	}
}

func TestChaChaPriority(t *testing.T) {
	t.Parallel()
	for _, prioritize := range []bool{true, false} {
		cfg := faketls.Old()
		cfg.PrioritizeChaCha = prioritize
		res, srv := scanFake(t, cfg, testOptions(tls.VersionTLS12, tls.VersionTLS13))
		vr := res.Version(tls.VersionTLS12)
		want := cfg.Suites[tls.VersionTLS12]
		if !slices.Equal(vr.Suites, want) {
			t.Errorf("suites %04x, want %04x", vr.Suites, want)
		}
		if vr.ServerOrder == nil || !*vr.ServerOrder {
			t.Errorf("server order %v", vr.ServerOrder)
		}
		if vr.ChaChaPriority == nil || *vr.ChaChaPriority != prioritize {
			t.Errorf("PrioritizeChaCha %v: ChaChaPriority %v", prioritize, vr.ChaChaPriority)
		}
		v13 := res.Version(tls.VersionTLS13)
		if !slices.Equal(v13.Suites, cfg.Suites[tls.VersionTLS13]) || v13.ChaChaPriority == nil || *v13.ChaChaPriority != prioritize {
			t.Errorf("TLS 1.3: %04x chacha %v", v13.Suites, v13.ChaChaPriority)
		}
		if res.Handshakes.Total != srv.Connections() {
			t.Errorf("handshakes %+v, server %d", res.Handshakes, srv.Connections())
		}
	}
}

func TestLengthIntolerance(t *testing.T) {
	for _, max := range []int{64, 100, 127} {
		for _, refusal := range []faketls.Refusal{faketls.RefuseDefault, faketls.RefuseAlert, faketls.RefuseReset} {
			t.Run(fmt.Sprintf("%d/%s", max, refusal), func(t *testing.T) {
				t.Parallel()
				full := faketls.FullRegistry(tls.VersionTLS12)
				subset := pick(tls.VersionTLS12, 40, uint64(max))
				for _, suites := range [][]uint16{full.Suites[tls.VersionTLS12], subset, subset[:1]} {
					cfg := faketls.FullRegistry(tls.VersionTLS12)
					cfg.Suites[tls.VersionTLS12] = suites
					cfg.MaxSuites, cfg.Intolerance = max, refusal
					res, srv := scanFake(t, cfg, testOptions(tls.VersionTLS12))
					vr := res.Version(tls.VersionTLS12)
					if !slices.Equal(sorted(vr.Suites), sorted(suites)) || len(vr.Inconclusive) > 0 {
						t.Errorf("max %d, %d suites: got %d, inconclusive %d %q", max, len(suites), len(vr.Suites), len(vr.Inconclusive), vr.InconclusiveReason)
					}
					if res.Handshakes.Total != srv.Connections() {
						t.Errorf("handshakes %+v, server %d", res.Handshakes, srv.Connections())
					}
					t.Logf("max %d, %d accepted: enumeration %d (lower bound %d)", max, len(suites),
						res.Handshakes.Versions+res.Handshakes.Suites, lowerBound(len(suites), vr.Candidates))
				}
			})
		}
	}
}

func TestIntolerant256to511(t *testing.T) {
	t.Parallel()
	for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13} {
		cfg := faketls.FullRegistry(tls.Version(v))
		cfg.Intolerant256to511 = true
		cfg.HangFor = time.Second
		opts := testOptions(v)
		opts.Timeout = 500 * time.Millisecond
		res, srv := scanFake(t, cfg, opts)
		vr := res.Version(v)
		if !slices.Equal(sorted(vr.Suites), registryIDs(v)) || len(vr.Inconclusive) > 0 {
			t.Errorf("%s: %d suites, inconclusive %d %q", vr.Name(), len(vr.Suites), len(vr.Inconclusive), vr.InconclusiveReason)
		}
		for _, ch := range srv.Hellos() {
			if n, _ := ch.Marshal(); len(n) >= 256 && len(n) <= 511 {
				t.Errorf("%s: a hello of %d bytes", vr.Name(), len(n))
				break
			}
		}
	}
}

func TestUnofferedSuite(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{
		Suites:         map[tls.Version][]uint16{tls.VersionTLS12: {0xC02F, 0xC030}},
		UnofferedSuite: 0xFEFE, // not in the registry: never offered
	}
	res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS12))
	vr := res.Version(tls.VersionTLS12)
	if vr.Outcome != Inconclusive || !strings.Contains(vr.Reason, "0xFEFE which was not offered") {
		t.Errorf("outcome %s %q", vr.Outcome, vr.Reason)
	}
	if len(vr.Inconclusive) != vr.Candidates || !strings.Contains(vr.InconclusiveReason, "not offered") {
		t.Errorf("inconclusive %d of %d: %q", len(vr.Inconclusive), vr.Candidates, vr.InconclusiveReason)
	}

	// A broken server that names one real suite whatever is offered: the
	// suite is accepted while offered, everything else is inconclusive,
	// never rejected.
	cfg.UnofferedSuite = 0xC02F
	res, _ = scanFake(t, cfg, testOptions(tls.VersionTLS12))
	vr = res.Version(tls.VersionTLS12)
	if !slices.Equal(vr.Suites, []uint16{0xC02F}) || len(vr.Inconclusive) != vr.Candidates-1 {
		t.Errorf("suites %04x, inconclusive %d of %d", vr.Suites, len(vr.Inconclusive), vr.Candidates)
	}
}

func TestVersionOverride(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{
		// 0x1301 makes the server answer the TLS 1.3 hello (in TLS 1.2).
		Suites:          map[tls.Version][]uint16{tls.VersionTLS12: {0xC02F, 0xC013, 0x1301}},
		VersionOverride: tls.VersionTLS12,
	}
	res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13))
	if v := res.Version(tls.VersionTLS10); v.Outcome != Inconclusive || v.Reason != "server answered TLSv1.2 to a TLSv1.0 hello" {
		t.Errorf("TLS 1.0: %s %q", v.Outcome, v.Reason)
	}
	if v := res.Version(tls.VersionTLS13); v.Outcome != Rejected || v.Reason != "server answered TLSv1.2 to a TLSv1.3 hello" {
		t.Errorf("TLS 1.3: %s %q", v.Outcome, v.Reason)
	}
	// 0x1301 is offered in TLS 1.2 hellos too (every code point is), and
	// this server takes it there.
	if v := res.Version(tls.VersionTLS12); !slices.Equal(sorted(v.Suites), []uint16{0x1301, 0xC013, 0xC02F}) {
		t.Errorf("TLS 1.2: %04x", v.Suites)
	}
}

func TestNegotiateDown(t *testing.T) {
	t.Parallel()
	cfg := faketls.Legacy()
	res, srv := scanFake(t, cfg, testOptions(AllVersions...))
	for _, v := range []tls.Version{tls.VersionTLS11, tls.VersionTLS12} {
		if vr := res.Version(v); vr.Outcome != Rejected || vr.Reason != "server answered TLSv1.0 to a "+tls.Version(v).String()+" hello" {
			t.Errorf("%s: %s %q", vr.Name(), vr.Outcome, vr.Reason)
		}
	}
	// Legacy's RejectVersion is negotiate-down; a TLS 1.3 hello offers
	// only TLS 1.3 suites, so the TLS 1.0 answer has no suite to name.
	if vr := res.Version(tls.VersionTLS13); vr.Outcome != Rejected {
		t.Errorf("TLS 1.3: %s %q", vr.Outcome, vr.Reason)
	}
	for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10} {
		vr := res.Version(v)
		if !slices.Equal(sorted(vr.Suites), sorted(cfg.Suites[tls.Version(v)])) {
			t.Errorf("%s: %04x", vr.Name(), vr.Suites)
		}
	}
	if res.SSLv2.Outcome != Accepted || len(res.SSLv2.Kinds) != len(faketls.AllSSLv2Kinds()) {
		t.Errorf("SSLv2: %+v", res.SSLv2)
	}
	if res.Handshakes.Total != srv.Connections() {
		t.Errorf("handshakes %+v, server %d", res.Handshakes, srv.Connections())
	}
}

func TestMisbehavingServers(t *testing.T) {
	tests := []struct {
		name    string
		cfg     faketls.Config
		outcome Outcome
		reason  string
	}{
		{"silent", faketls.Config{Silent: true, HangFor: 5 * time.Second}, Inconclusive, "timeout after 300ms"},
		{"garbage", faketls.Config{Garbage: true}, Inconclusive, "not TLS: first bytes "},
		{"http", faketls.Config{HTTP: true}, Inconclusive, `not TLS: first bytes "HTTP/1.1 400"`},
		// A close or reset is a refusal only where the endpoint answers
		// other hellos in TLS (docs/scan-algorithm.md, "Consistent
		// refusals"): after every hello it decides nothing.
		{"close", faketls.Config{CloseAfterHello: true}, Inconclusive, "no TLS answer to any hello: closed early on "},
		{"reset", faketls.Config{RejectVersion: faketls.RefuseReset}, Inconclusive, "no TLS answer to any hello: connection reset on "},
		{"hang", faketls.Config{RejectVersion: faketls.RefuseHang, HangFor: 5 * time.Second}, Inconclusive, "timeout after 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(tls.VersionTLS12, tls.VersionTLS13)
			opts.Timeout = 300 * time.Millisecond
			start := time.Now()
			res, srv := scanFake(t, tt.cfg, opts)
			for _, vr := range res.Versions {
				if vr.Outcome != tt.outcome || !strings.HasPrefix(vr.Reason, tt.reason) {
					t.Errorf("%s: %s %q, want %s %q", vr.Name(), vr.Outcome, vr.Reason, tt.outcome, tt.reason)
				}
			}
			// A server that only ever closes or resets gave no TLS answer:
			// the endpoint is inconclusive, and so is each version.
			if res.Status != StatusInconclusive {
				t.Errorf("status %s (%s)", res.Status, res.Error)
			}
			// Two tries (one retry) of at most one timeout each, per
			// phase: well under the server's hang.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
			if res.Handshakes.Total != srv.Connections() {
				t.Errorf("handshakes %+v, server %d", res.Handshakes, srv.Connections())
			}
		})
	}
}

func TestVersionsOnly(t *testing.T) {
	t.Parallel()
	cfg := faketls.Old()
	opts := testOptions(AllVersions...)
	opts.VersionsOnly = true
	res, srv := scanFake(t, cfg, opts)
	for _, vr := range res.Versions {
		_, has := cfg.Suites[vr.Version]
		if has != (vr.Outcome == Accepted) || (has && len(vr.Suites) != 1) {
			t.Errorf("%s: %s %04x", vr.Name(), vr.Outcome, vr.Suites)
		}
	}
	if srv.Connections() != len(AllVersions) {
		t.Errorf("%d connections, want one per version", srv.Connections())
	}
}

func TestSplit(t *testing.T) {
	l := make([]uint16, 10)
	for i := range l {
		l[i] = uint16(i)
	}
	parts := split(l, 4)
	if len(parts) != 3 || len(parts[0]) != 3 || len(parts[2]) != 4 {
		t.Errorf("split: %v", parts)
	}
	if h := halves(l[:5]); len(h) != 2 || len(h[0])+len(h[1]) != 5 {
		t.Errorf("halves: %v", h)
	}
	// Appending to a part must not overwrite the next.
	parts[0] = append(parts[0], 99)
	if parts[1][0] != 3 {
		t.Errorf("parts alias: %v", parts)
	}
}

// TestShortListOrder: a server in its own order that answers decode_error
// to a hello of more than 150 suites (wolfSSL) accepts suites from the
// first and the last of the candidates, so the elimination finds them in
// separate lists (runs of similar lengths). The order must be the
// server's exactly, merged by the runs' heads: at most one order hello
// per accepted suite (binary insertion asked up to 70 for 35 here).
func TestShortListOrder(t *testing.T) {
	t.Parallel()
	v := tls.VersionTLS12
	cands := candidates(v)
	var suites []uint16
	suites = append(suites, cands[:20]...)
	suites = append(suites, cands[len(cands)-12:]...)
	for seed := uint64(1); seed <= 3; seed++ {
		order := slices.Clone(suites)
		r := rand.New(seeded(seed))
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		order = noChaChaFirst(order) // no ChaCha20 priority question
		cfg := faketls.FullRegistry(v)
		cfg.Suites[v] = order
		cfg.ServerPreference = true
		cfg.MaxSuites, cfg.Intolerance, cfg.IntoleranceAlert = 150, faketls.RefuseAlert, 50
		res, srv := scanFake(t, cfg, testOptions(v))
		vr := res.Version(v)
		if vr == nil || !slices.Equal(vr.Suites, order) || vr.OrderIncomplete {
			t.Fatalf("seed %d: order\n got  %04x\n want %04x", seed, vr.Suites, order)
		}
		if h := res.Handshakes; h.Order > len(order) || h.Total != srv.Connections() {
			t.Errorf("seed %d: %+v for %d suites, server saw %d", seed, h, len(order), srv.Connections())
		}
		t.Logf("seed %d: %+v", seed, res.Handshakes)
	}
}

// TestSSLv3LongLists: at SSLv3, once a suite is chosen, every remaining
// candidate is offered together (a hello past 511 bytes), so a server in
// its own order with suites spread over the candidates is ranked by the
// elimination itself.
func TestSSLv3LongLists(t *testing.T) {
	t.Parallel()
	v := tls.VersionSSL30
	order := pick(v, 60, 7)
	order = noChaChaFirst(order)
	cfg := faketls.FullRegistry(v)
	cfg.Suites[v] = order
	cfg.ServerPreference = true
	res, srv := scanFake(t, cfg, testOptions(v))
	vr := res.Version(v)
	if vr == nil || !slices.Equal(vr.Suites, order) {
		t.Fatalf("order\n got  %04x\n want %04x", vr.Suites, order)
	}
	h := res.Handshakes
	if h.Order > 2 || h.Versions+h.Suites > len(order)+3 || h.Total != srv.Connections() {
		t.Errorf("%+v for %d suites, server saw %d", h, len(order), srv.Connections())
	}
	t.Logf("%+v", h)
}

// TestSSLv3LongAfterProof: an SSLv3 refusal costs two hellos (its short
// first list, then every other candidate in one long list) once another
// version has had a list that long answered; a server that never answers
// a long list (wolfSSL's 150-suite limit) keeps SSLv3 to short lists. No
// SSLv3 hello is ever in the 256–511-byte band, and the verdict is right
// either way.
func TestSSLv3LongAfterProof(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		maxSuites int
		hellos    int // SSLv3 hellos
	}{
		{"long lists answered", 0, 2},
		{"150-suite limit", 150, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := faketls.Config{
				Suites: map[tls.Version][]uint16{
					// SSLv3 spoken, no suite of it taken: handshake_failure.
					tls.VersionSSL30: {},
					tls.VersionTLS12: pick(tls.VersionTLS12, 12, 5),
				},
				MaxSuites:        tc.maxSuites,
				Intolerance:      faketls.RefuseAlert,
				IntoleranceAlert: 50, // decode_error
			}
			res, srv := scanFake(t, cfg, testOptions(tls.VersionSSL30, tls.VersionTLS12))
			if v := res.Version(tls.VersionSSL30); v == nil || v.Outcome != Rejected {
				t.Fatalf("SSLv3: %+v", v)
			}
			if v := res.Version(tls.VersionTLS12); v == nil || len(v.Suites) != 12 {
				t.Fatalf("TLS 1.2: %+v", v)
			}
			var lens []int
			offered := map[uint16]bool{}
			for _, ch := range srv.Hellos() {
				if ch.Version != tls.VersionSSL30 {
					continue
				}
				lens = append(lens, len(ch.CipherSuites))
				for _, id := range ch.CipherSuites {
					offered[id] = true
				}
			}
			if len(lens) != tc.hellos {
				t.Errorf("SSLv3 hellos of %v suites, want %d hellos", lens, tc.hellos)
			}
			for _, n := range lens {
				if !sslv3Offerable(n) {
					t.Errorf("an SSLv3 hello of %d suites", n)
				}
			}
			for _, id := range candidates(tls.VersionSSL30) {
				if !offered[id] {
					t.Errorf("SSLv3 candidate %04x never offered", id)
				}
			}
			t.Logf("SSLv3 hellos %v; %+v", lens, res.Handshakes)
		})
	}
}
