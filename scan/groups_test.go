package scan

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

func groupOptions(versions ...tls.Version) Options {
	o := testOptions(versions...)
	o.SkipGroups = false
	return o
}

func TestGroups(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionTLS12: faketls.SuiteIDs("ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-GCM-SHA256", "AES128-SHA"),
			tls.VersionTLS13: faketls.SuiteIDs("TLS_AES_128_GCM_SHA256"),
		},
		ServerPreference: true,
		// Orders unlike the scanner's candidate order, so that the
		// server's order shows.
		Groups13:    []uint16{tls.GroupP384, tls.GroupX25519MLKEM768, 0x0100, tls.GroupX25519},
		Curves:      []uint16{tls.GroupP521, tls.GroupX25519, 0x001C},
		FFDHE:       []uint16{tls.GroupFFDHE3072, tls.GroupFFDHE2048},
		DHPrimeBits: 1024,
	}
	res, srv := scanFake(t, cfg, groupOptions(tls.VersionTLS12, tls.VersionTLS13))
	check := func(k GroupKind, want []uint16) {
		t.Helper()
		g := res.Group(k)
		if g == nil {
			t.Fatalf("%s: missing", k)
		}
		if g.Outcome != Accepted || !slices.Equal(g.Groups, want) || g.ServerOrder == nil || !*g.ServerOrder {
			t.Errorf("%s: %s %q groups %04x (want %04x) server order %v", k, g.Outcome, g.Reason, g.Groups, want, g.ServerOrder)
		}
	}
	check(GroupTLS13, cfg.Groups13)
	check(GroupECDHE, cfg.Curves)
	check(GroupFFDHE, cfg.FFDHE)
	if res.DHPrimeBits != 1024 {
		t.Errorf("DH prime bits %d, want 1024", res.DHPrimeBits)
	}
	h := res.Handshakes
	if h.Total != srv.Connections() {
		t.Errorf("handshakes %+v, server %d", h, srv.Connections())
	}
	// Each scan: accepted + 1 refusal (+1 order probe when the order was
	// not already shown); DH prime: 1.
	t.Logf("group connections %d: %+v", h.Groups, h)
}

func TestGroupsClientOrderAndOwnPrime(t *testing.T) {
	t.Parallel()
	cfg := faketls.Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionTLS12: faketls.SuiteIDs("ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384"),
		},
		Curves:      []uint16{tls.GroupP256, tls.GroupX25519},
		DHPrimeBits: 2048,
	}
	res, _ := scanFake(t, cfg, groupOptions(tls.VersionTLS12))
	g := res.Group(GroupECDHE)
	// faketls always prefers its own curve order.
	if !slices.Equal(g.Groups, cfg.Curves) || g.ServerOrder == nil || !*g.ServerOrder {
		t.Errorf("curves %04x order %v", g.Groups, g.ServerOrder)
	}
	f := res.Group(GroupFFDHE)
	if f.Outcome != Rejected || !strings.Contains(f.Reason, "own 2048-bit prime") {
		t.Errorf("ffdhe: %s %q", f.Outcome, f.Reason)
	}
	if res.DHPrimeBits != 2048 {
		t.Errorf("DH prime bits %d", res.DHPrimeBits)
	}
	if res.Group(GroupTLS13) != nil {
		t.Errorf("TLS 1.3 groups without TLS 1.3")
	}
}

func TestFFDHEPrimes(t *testing.T) {
	// RFC 7919 Appendix A.1, ffdhe2048: the first and last 16 bytes.
	p := tls.FFDHEPrime(tls.GroupFFDHE2048).Bytes()
	if len(p) != 256 || hex.EncodeToString(p[:16]) != "ffffffffffffffffadf85458a2bb4a9a" ||
		hex.EncodeToString(p[240:]) != "886b423861285c97ffffffffffffffff" {
		t.Errorf("ffdhe2048 = %x…%x", p[:16], p[240:])
	}
	for _, id := range registryGroups("ffdhe") {
		if g, _ := ciphers.GroupByID(id); tls.FFDHEPrime(id).BitLen() != g.Bits {
			t.Errorf("%s: %d bytes", g.Name, tls.FFDHEPrime(id).BitLen()/8)
		}
	}
}
