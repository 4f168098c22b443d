package scan

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// TestPoisonServerOrder: a server that enforces its order and fails any
// hello whose best suite (in its order) is a PSK suite it has no key for
// hides every suite it ranks below that one. The poison check finds them,
// names the poison, and the order is right.
func TestPoisonServerOrder(t *testing.T) {
	t.Parallel()
	order := []uint16{0xC030, 0x00A8, 0xC02F, 0x0034, 0x009C}
	cfg := faketls.Config{
		Suites:           map[tls.Version][]uint16{tls.VersionTLS12: order},
		ServerPreference: true,
		Poisons:          []uint16{0x00A8},
	}
	res, srv := scanFake(t, cfg, testOptions(tls.VersionTLS12))
	vr := res.Version(tls.VersionTLS12)
	want := []uint16{0xC030, 0xC02F, 0x0034, 0x009C}
	if !slices.Equal(vr.Suites, want) || vr.ServerOrder == nil || !*vr.ServerOrder {
		t.Errorf("suites %04x (server order %v), want %04x in server order", vr.Suites, vr.ServerOrder, want)
	}
	if !slices.Equal(vr.Poisons, []uint16{0x00A8}) || !strings.Contains(vr.PoisonReason, "0x00A8") {
		t.Errorf("poisons %04x %q, want 0x00A8", vr.Poisons, vr.PoisonReason)
	}
	if len(vr.Inconclusive) > 0 {
		t.Errorf("inconclusive %04x (%s)", vr.Inconclusive, vr.InconclusiveReason)
	}
	if res.Handshakes.Total != srv.Connections() || res.Handshakes.Poison == 0 {
		t.Errorf("handshakes %+v, server saw %d", res.Handshakes, srv.Connections())
	}
	t.Logf("handshakes %+v", res.Handshakes)
}

// TestPoisonClientOrder: under the client's order, an anonymous suite the
// server fails on hides a PSK suite the scanner lists after it.
func TestPoisonClientOrder(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{
		Suites:  map[tls.Version][]uint16{tls.VersionTLS12: {0xC02F, 0x009C, 0x0034, 0x008C}},
		Poisons: []uint16{0x0034},
	}
	res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS12))
	vr := res.Version(tls.VersionTLS12)
	if got := sorted(vr.Suites); !slices.Equal(got, []uint16{0x008C, 0x009C, 0xC02F}) {
		t.Errorf("suites %04x, want 008c 009c c02f", got)
	}
	if vr.ServerOrder == nil || *vr.ServerOrder {
		t.Errorf("server order %v, want false", vr.ServerOrder)
	}
	if !slices.Equal(vr.Poisons, []uint16{0x0034}) {
		t.Errorf("poisons %04x, want 0034", vr.Poisons)
	}
	t.Logf("handshakes %+v", res.Handshakes)
}

// TestNoPoisonCost: a server without poisons pays one poison-check hello
// per version under client order, two under server order.
func TestNoPoisonCost(t *testing.T) {
	t.Parallel()
	for _, pref := range []bool{false, true} {
		cfg := faketls.Old()
		cfg.ServerPreference, cfg.PrioritizeChaCha = pref, false
		res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12))
		want := 3
		if pref {
			want = 6
		}
		for _, v := range res.Versions {
			if !slices.Equal(sorted(v.Suites), sorted(cfg.Suites[v.Version])) || len(v.Poisons) > 0 {
				t.Errorf("server order %v: %s: suites %04x poisons %04x", pref, v.Name(), v.Suites, v.Poisons)
			}
		}
		if res.Handshakes.Poison != want {
			t.Errorf("server order %v: %d poison-check hellos, want %d (%+v)", pref, res.Handshakes.Poison, want, res.Handshakes)
		}
	}
}

// TestPoisonCheckCoversDrop: a server that refuses by closing the
// connection has each refusal probed again (settle); a version's last
// list, whose suites the poison check's two lists offer again under
// server order, is not: per version the two lists are re-probed, then one
// control, and nothing is left inconclusive.
func TestPoisonCheckCoversDrop(t *testing.T) {
	t.Parallel()
	cfg := faketls.Old()
	cfg.ServerPreference, cfg.PrioritizeChaCha = true, false
	cfg.RejectSuites = faketls.RefuseClose
	res, srv := scanFake(t, cfg, testOptions(tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12))
	for _, v := range res.Versions {
		if !slices.Equal(sorted(v.Suites), sorted(cfg.Suites[v.Version])) || len(v.Inconclusive) > 0 {
			t.Errorf("%s: suites %04x, inconclusive %04x (%s)", v.Name(), v.Suites, v.Inconclusive, v.InconclusiveReason)
		}
	}
	h := res.Handshakes
	if h.Poison != 6 || h.Verify != 2*3+1 || h.Total != srv.Connections() {
		t.Errorf("handshakes %+v, want 6 poison-check and 7 verify hellos; server saw %d", h, srv.Connections())
	}
}

// TestOutOfSpec: suites accepted at versions their RFCs do not allow
// (Java's ECDHE suites in SSLv3, mbedTLS's SHA-256 Camellia in TLS 1.0,
// an AEAD suite in TLS 1.1) are found.
func TestOutOfSpec(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{Suites: map[tls.Version][]uint16{
		tls.VersionSSL30: {0x002F, 0xC013, 0xC014, 0xC009},
		tls.VersionTLS10: {0x002F, 0xC076, 0xC077},
		tls.VersionTLS11: {0xC02F, 0xD001, 0x003C},
	}}
	res, _ := scanFake(t, cfg, testOptions(tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11))
	for _, v := range res.Versions {
		want := sorted(cfg.Suites[v.Version])
		if got := sorted(v.Suites); !slices.Equal(got, want) {
			t.Errorf("%s: suites %04x, want %04x", v.Name(), got, want)
		}
		if v.Candidates != len(allSuiteIDs()) {
			t.Errorf("%s: %d candidates, want every code point (%d)", v.Name(), v.Candidates, len(allSuiteIDs()))
		}
	}
	t.Logf("handshakes %+v", res.Handshakes)
}

// TestChosenNotCompleted: suites the server answers with a ServerHello and
// then fails on (internal_error before ServerHelloDone) are reported apart
// and not accepted; the elimination goes on past them. A version whose
// every chosen suite fails is rejected.
func TestChosenNotCompleted(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionTLS12: {0x0032, 0xC02F, 0x0038, 0x009C},
			tls.VersionTLS10: {0x0032},
		},
		Incomplete: []uint16{0x0032, 0x0038},
	}
	res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS10, tls.VersionTLS12))
	vr := res.Version(tls.VersionTLS12)
	if got := sorted(vr.Suites); !slices.Equal(got, []uint16{0x009C, 0xC02F}) || vr.Outcome != Accepted {
		t.Errorf("TLS 1.2: %s %04x, want accepted 009c c02f", vr.Outcome, got)
	}
	if got := sorted(vr.ChosenNotCompleted); !slices.Equal(got, []uint16{0x0032, 0x0038}) ||
		!strings.Contains(vr.ChosenNotCompletedReason, "internal_error") {
		t.Errorf("TLS 1.2 chosen-not-completed %04x %q", got, vr.ChosenNotCompletedReason)
	}
	v10 := res.Version(tls.VersionTLS10)
	if v10.Outcome != Rejected || !slices.Equal(v10.ChosenNotCompleted, []uint16{0x0032}) || len(v10.Suites) != 0 {
		t.Errorf("TLS 1.0: %s (%s) suites %04x chosen-not-completed %04x", v10.Outcome, v10.Reason, v10.Suites, v10.ChosenNotCompleted)
	}
}

// TestChosenThenClosed: a server that chooses a suite and then closes the
// connection with no alert (dovecot without DH parameters and a DHE
// suite). When nothing else of the endpoint is dropped, the close is the
// server's answer: chosen-not-completed at once, no re-probe. When the
// server also refuses lists by closing, the endpoint is unstable and the
// closes are settled on fresh connections, with the same result.
func TestChosenThenClosed(t *testing.T) {
	t.Parallel()
	for _, refuse := range []faketls.Refusal{faketls.RefuseAlert, faketls.RefuseClose} {
		t.Run(refuse.String(), func(t *testing.T) {
			t.Parallel()
			cfg := faketls.Config{
				Suites:          map[tls.Version][]uint16{tls.VersionTLS12: {0x009E, 0xC02F, 0x009F, 0x009C}},
				Incomplete:      []uint16{0x009E, 0x009F},
				IncompleteClose: true,
				RejectSuites:    refuse,
			}
			res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS12))
			vr := res.Version(tls.VersionTLS12)
			if got := sorted(vr.Suites); !slices.Equal(got, []uint16{0x009C, 0xC02F}) || vr.Outcome != Accepted || len(vr.Inconclusive) > 0 {
				t.Errorf("%s %04x inconclusive %04x (%s), want accepted 009c c02f", vr.Outcome, got, vr.Inconclusive, vr.InconclusiveReason)
			}
			if got := sorted(vr.ChosenNotCompleted); !slices.Equal(got, []uint16{0x009E, 0x009F}) {
				t.Errorf("chosen-not-completed %04x (%s), want 009e 009f", got, vr.ChosenNotCompletedReason)
			}
			verify := res.Handshakes.Verify
			if refuse == faketls.RefuseAlert && verify != 0 {
				t.Errorf("%d re-probes on an endpoint whose only drops follow a ServerHello (%+v)", verify, res.Handshakes)
			}
			if refuse == faketls.RefuseClose && verify == 0 {
				t.Errorf("no re-probe on an endpoint that also closes before answering (%+v)", res.Handshakes)
			}
			t.Logf("handshakes %+v", res.Handshakes)
		})
	}
}

// TestDecodeErrorPastLength: wolfSSL's decode_error to a hello of more
// than 150 suites is a length limit, found without canaries; every suite
// is still found.
func TestDecodeErrorPastLength(t *testing.T) {
	t.Parallel()
	cfg := faketls.FullRegistry(tls.VersionTLS12)
	cfg.MaxSuites, cfg.Intolerance, cfg.IntoleranceAlert = 150, faketls.RefuseAlert, tls.AlertDecodeError
	res, srv := scanFake(t, cfg, testOptions(tls.VersionTLS12))
	vr := res.Version(tls.VersionTLS12)
	if got := sorted(vr.Suites); !slices.Equal(got, registryIDs(tls.VersionTLS12)) || len(vr.Inconclusive) > 0 {
		t.Errorf("suites %d of %d, inconclusive %d (%s)", len(got), len(registryIDs(tls.VersionTLS12)), len(vr.Inconclusive), vr.InconclusiveReason)
	}
	for _, h := range srv.Hellos() {
		if len(h.CipherSuites) > 150 && len(h.CipherSuites) < 300 {
			t.Errorf("a hello of %d suites after the limit was met", len(h.CipherSuites))
			break
		}
	}
	// One refused long hello, then lists of at most 150.
	if enum := res.Handshakes.Versions + res.Handshakes.Suites; enum > len(vr.Suites)+4 {
		t.Errorf("enumeration %d hellos for %d suites (%+v)", enum, len(vr.Suites), res.Handshakes)
	}
	t.Logf("handshakes %+v", res.Handshakes)
}

// TestRequireExtensions: a server that refuses any hello without
// extensions (haproxy, stunnel, lighttpd-gnutls, mbedTLS) has SSLv3
// refused and every TLS version exact.
func TestRequireExtensions(t *testing.T) {
	t.Parallel()
	cfg := faketls.Old()
	cfg.Suites[tls.VersionSSL30] = []uint16{0x002F}
	cfg.RequireExtensions = true
	res, _ := scanFake(t, cfg, testOptions(tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS12))
	if v := res.Version(tls.VersionSSL30); v.Outcome != Rejected {
		t.Errorf("SSLv3: %s (%s)", v.Outcome, v.Reason)
	}
	for _, v := range res.Versions[1:] {
		if got := sorted(v.Suites); !slices.Equal(got, sorted(cfg.Suites[v.Version])) {
			t.Errorf("%s: %04x", v.Name(), got)
		}
	}
}

// TestCertByOffer: a server that picks its RSA or ECDSA certificate from
// the whole hello (haproxy with both on one bind) refuses every list that
// still holds an ECDSA suite once it has no ECDSA suite left to choose
// there; the scanner offers the rejected RSA suites again without ECDSA
// suites and finds them, under either order, and says why. Under server
// order the ranking is what a client offering every suite not ranked yet
// gets: 0xC018 is chosen over 0xC02F while an ECDSA suite is listed
// (0xC02F is not selectable then), and ranked below it without one.
func TestCertByOffer(t *testing.T) {
	t.Parallel()
	for _, pref := range []bool{false, true} {
		cfg := faketls.Config{
			Suites:           map[tls.Version][]uint16{tls.VersionTLS12: {0xC02B, 0xC009, 0xC02F, 0x009C, 0x002F, 0xC018}},
			ServerPreference: pref, CertByOffer: true,
		}
		res, srv := scanFake(t, cfg, testOptions(tls.VersionTLS12))
		vr := res.Version(tls.VersionTLS12)
		if want := []uint16{0x002F, 0x009C, 0xC009, 0xC018, 0xC02B, 0xC02F}; !slices.Equal(sorted(vr.Suites), want) {
			t.Errorf("server order %v: suites %04x, want %04x", pref, sorted(vr.Suites), want)
		}
		if want := []uint16{0xC02B, 0xC009, 0xC02F, 0x009C, 0x002F, 0xC018}; pref && !slices.Equal(vr.Suites, want) {
			t.Errorf("server order: suites %04x, want %04x", vr.Suites, want)
		}
		if vr.ServerOrder == nil || *vr.ServerOrder != pref {
			t.Errorf("server order %v, want %v", vr.ServerOrder, pref)
		}
		if !strings.Contains(vr.CertByOffer, "certificate") {
			t.Errorf("server order %v: CertByOffer %q", pref, vr.CertByOffer)
		}
		if len(vr.Inconclusive) > 0 {
			t.Errorf("inconclusive %04x (%s)", vr.Inconclusive, vr.InconclusiveReason)
		}
		if res.Handshakes.Total != srv.Connections() {
			t.Errorf("handshakes %+v, server saw %d", res.Handshakes, srv.Connections())
		}
		t.Logf("server order %v: handshakes %+v", pref, res.Handshakes)
	}
}

// TestCertByOfferCost: a server with only an ECDSA certificate pays the
// certificate check (its RSA suites are offered without ECDSA ones once);
// one with RSA suites accepted pays nothing for it.
func TestCertByOfferCost(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		suites []uint16
		extra  bool
	}{
		{[]uint16{0xC02B, 0xC009}, true},
		{[]uint16{0xC02B, 0xC02F}, false},
	} {
		cfg := faketls.Config{Suites: map[tls.Version][]uint16{tls.VersionTLS12: c.suites}}
		res, _ := scanFake(t, cfg, testOptions(tls.VersionTLS12))
		vr := res.Version(tls.VersionTLS12)
		if !slices.Equal(sorted(vr.Suites), sorted(c.suites)) || vr.CertByOffer != "" {
			t.Errorf("suites %04x (CertByOffer %q), want %04x", vr.Suites, vr.CertByOffer, c.suites)
		}
		t.Logf("%04x: handshakes %+v", c.suites, res.Handshakes)
	}
}
