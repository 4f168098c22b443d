package scan

import (
	"testing"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// TestVersionsOnlyHellos sweeps fakes with --versions-only over every
// version and requires each version's outcome exact, with the fewest
// connections where the server parses long lists: one per version (a
// TLS 1.2 server that refuses SSLv3 with handshake_failure, as nginx
// does, costs 6, not 9: the lead's first hello offers every TLS 1.2
// candidate, which proves the long SSLv3 list), and exactness where it
// does not (a 150-suite limit) or where the one suite spoken is the last
// candidate.
func TestVersionsOnlyHellos(t *testing.T) {
	t.Parallel()
	all := []tls.Version{tls.VersionSSL20, tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}
	last := func(v tls.Version) []uint16 { c := candidates(v); return c[len(c)-1:] }
	for _, tc := range []struct {
		name     string
		cfg      faketls.Config
		accepted []tls.Version
		conns    int // at most
	}{
		{"nginx-like", faketls.Config{Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: {}, tls.VersionTLS12: pick(tls.VersionTLS12, 8, 3), tls.VersionTLS13: pick(tls.VersionTLS13, 3, 3)}},
			[]tls.Version{tls.VersionTLS12, tls.VersionTLS13}, 6}, // 9 before
		{"150-suite limit", faketls.Config{Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: {}, tls.VersionTLS12: pick(tls.VersionTLS12, 8, 3), tls.VersionTLS13: pick(tls.VersionTLS13, 3, 3)},
			MaxSuites: 150, Intolerance: faketls.RefuseAlert, IntoleranceAlert: 50},
			[]tls.Version{tls.VersionTLS12, tls.VersionTLS13}, 10}, // 9 before the lead's long first list
		{"the last candidate only", faketls.Config{Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: last(tls.VersionSSL30), tls.VersionTLS10: last(tls.VersionTLS10), tls.VersionTLS12: last(tls.VersionTLS12)}},
			[]tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS12}, 6}, // 11 before
		{"the last candidate only, 150-suite limit", faketls.Config{Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: last(tls.VersionSSL30), tls.VersionTLS10: last(tls.VersionTLS10), tls.VersionTLS12: last(tls.VersionTLS12)},
			MaxSuites: 150, Intolerance: faketls.RefuseClose},
			// Refusals by close at unproven lengths need canaries: 35
			// before, one more for the long first list.
			[]tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS12}, 36},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := testOptions(all...)
			opts.VersionsOnly = true
			res, srv := scanFake(t, tc.cfg, opts)
			for _, v := range all {
				want := Rejected
				for _, a := range tc.accepted {
					if a == v {
						want = Accepted
					}
				}
				got := Outcome("")
				if v == tls.VersionSSL20 {
					if res.SSLv2 != nil {
						got = res.SSLv2.Outcome
					}
				} else if vr := res.Version(v); vr != nil {
					got = vr.Outcome
				}
				if got != want {
					t.Errorf("%s: %s, want %s", v, got, want)
				}
			}
			var lens []int
			for _, ch := range srv.Hellos() {
				lens = append(lens, len(ch.CipherSuites))
				if ch.Version == tls.VersionSSL30 && !sslv3Offerable(len(ch.CipherSuites)) {
					t.Errorf("an SSLv3 hello of %d suites", len(ch.CipherSuites))
				}
			}
			if res.Handshakes.Total > tc.conns {
				t.Errorf("%d connections, want at most %d", res.Handshakes.Total, tc.conns)
			}
			t.Logf("%d connections %+v; suite lists %v", res.Handshakes.Total, res.Handshakes, lens)
		})
	}
}
