package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/internal/hostile"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// hostileRuns is how many times each hostile scenario is scanned: the
// misbehaviours are timing- or chance-dependent, and each run must be
// honest.
const hostileRuns = 20

// hostileBackend is the server behind the dropping fronts: a few suites
// at TLS 1.0, 1.2 and 1.3, alerts for the rest.
func hostileBackend() faketls.Config {
	return faketls.Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionTLS10: {0xC013, 0x002F},
			tls.VersionTLS12: {0xC02F, 0xC013, 0x002F},
			tls.VersionTLS13: {0x1301, 0x1302},
		},
		ServerPreference: true,
		Timeout:          5 * time.Second,
	}
}

// truthOf is what a faketls configuration accepts, by version.
func truthOf(cfg faketls.Config) map[tls.Version][]uint16 {
	out := map[tls.Version][]uint16{}
	for v, s := range cfg.Suites {
		out[v] = s
	}
	return out
}

// tlsRefusal reports whether a version's rejection reason is a refusal
// the server gave in TLS (an alert, a lower version, an SSLv2 ERROR) or a
// drop seen again on two fresh connections: the only refusals a result may
// hold.
func tlsRefusal(reason string) bool {
	return strings.HasPrefix(reason, "alert ") || strings.HasPrefix(reason, "server answered ") ||
		strings.HasPrefix(reason, "SSLv2 ERROR") || strings.HasSuffix(reason, "again on two fresh connections") || strings.HasSuffix(reason, "(every drop of the endpoint repeated, a control answered)") ||
		strings.HasPrefix(reason, "every suite the server chose failed")
}

// checkHonest checks a result against the truth: nothing accepted that
// the server does not accept, nothing the server accepts left rejected (it
// is accepted or inconclusive), every rejected version refused in TLS or
// twice, every inconclusive part with its reason, and a status that is not
// ok while a version is inconclusive. exact: every version final and
// exactly the truth.
func checkHonest(t *testing.T, run int, res *Result, truth map[tls.Version][]uint16, exact bool) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("run %d: "+format, append([]any{run}, args...)...)
	}
	anyInconclusive := false
	if res.SSLv2 != nil {
		switch res.SSLv2.Outcome {
		case Accepted:
			fail("SSLv2 accepted")
		case Rejected:
			if !tlsRefusal(res.SSLv2.Reason) {
				fail("SSLv2 rejected on %q", res.SSLv2.Reason)
			}
		case Inconclusive:
			anyInconclusive = true
			if res.SSLv2.Reason == "" {
				fail("SSLv2 inconclusive without a reason")
			}
			if exact {
				fail("SSLv2 inconclusive (%s), want exact", res.SSLv2.Reason)
			}
		}
	}
	for _, vr := range res.Versions {
		acc := truth[vr.Version]
		for _, s := range vr.Suites {
			if !slices.Contains(acc, s) {
				fail("%s: 0x%04X accepted, the server does not accept it", vr.Name(), s)
			}
		}
		if len(vr.Inconclusive) > 0 && vr.InconclusiveReason == "" {
			fail("%s: inconclusive suites without a reason", vr.Name())
		}
		switch vr.Outcome {
		case Rejected:
			if len(acc) > 0 {
				fail("%s rejected (%s), the server accepts %04x", vr.Name(), vr.Reason, acc)
			}
			if !tlsRefusal(vr.Reason) {
				fail("%s rejected on %q: not a refusal given in TLS or twice", vr.Name(), vr.Reason)
			}
		case Inconclusive:
			anyInconclusive = true
			if vr.Reason == "" {
				fail("%s inconclusive without a reason", vr.Name())
			}
		case Accepted:
			for _, s := range acc {
				if !slices.Contains(vr.Suites, s) && !slices.Contains(vr.Inconclusive, s) {
					fail("%s: 0x%04X left rejected, the server accepts it (inconclusive: %s)", vr.Name(), s, vr.InconclusiveReason)
				}
			}
			if len(vr.Inconclusive) > 0 {
				anyInconclusive = true
			}
		}
		if exact {
			want := Rejected
			if len(acc) > 0 {
				want = Accepted
			}
			if vr.Outcome != want || len(vr.Inconclusive) > 0 || !slices.Equal(sorted(vr.Suites), sorted(acc)) {
				fail("%s: %s %q %04x (inconclusive %04x: %s), want %s %04x", vr.Name(), vr.Outcome, vr.Reason, vr.Suites,
					vr.Inconclusive, vr.InconclusiveReason, want, acc)
			}
		}
	}
	versionInconclusive := slices.ContainsFunc(res.Versions, func(v VersionResult) bool { return v.Outcome == Inconclusive }) ||
		res.SSLv2 != nil && res.SSLv2.Outcome == Inconclusive
	if versionInconclusive && res.Status == StatusOK {
		fail("status ok with an inconclusive version")
	}
	if exact && (res.Status != StatusOK || anyInconclusive) {
		fail("status %s (%s), want ok", res.Status, res.Error)
	}
}

// TestHostileServers scans servers that misbehave the way connection
// limiters, firewalls and broken stacks do, hostileRuns times each: every
// result is exactly right, or leaves what it could not decide
// inconclusive with the reason — never a refusal the server did not give
// in TLS or twice.
func TestHostileServers(t *testing.T) {
	back := hostileBackend()
	truth := truthOf(back)
	none := map[tls.Version][]uint16{}
	tests := []struct {
		name  string
		cfg   func(run int, backend string) hostile.Config
		truth map[tls.Version][]uint16
		exact bool
		check func(t *testing.T, run int, res *Result)
	}{
		{name: "limit-fin", truth: truth, cfg: func(_ int, b string) hostile.Config {
			return hostile.Config{Backend: b, Limit: 10, LimitDrop: hostile.FIN}
		}, check: wantPartial},
		{name: "limit-rst", truth: truth, cfg: func(_ int, b string) hostile.Config {
			return hostile.Config{Backend: b, Limit: 10, LimitDrop: hostile.RST}
		}, check: wantPartial},
		{name: "limit-refuse", truth: truth, cfg: func(_ int, b string) hostile.Config {
			return hostile.Config{Backend: b, Limit: 10, LimitDrop: hostile.Refuse}
		}, check: wantPartial},
		{name: "rst-every-2nd", truth: truth, exact: true, cfg: func(_ int, b string) hostile.Config {
			return hostile.Config{Backend: b, Every: 2, EveryDrop: hostile.RST}
		}},
		{name: "max-2-concurrent", truth: truth, exact: true, cfg: func(_ int, b string) hostile.Config {
			return hostile.Config{Backend: b, MaxConcurrent: 2}
		}},
		{name: "random", truth: truth, cfg: func(run int, b string) hostile.Config {
			return hostile.Config{Backend: b, RandomP: 0.3, Seed: uint64(run)}
		}},
		{name: "sslv2-junk", truth: none, cfg: func(int, string) hostile.Config {
			return hostile.Config{Respond: hostile.SSLv2Junk}
		}, check: func(t *testing.T, run int, res *Result) {
			for _, vr := range res.Versions {
				if vr.Outcome != Inconclusive || !strings.HasPrefix(vr.Reason, "not TLS: SSLv2-framed bytes") {
					t.Errorf("run %d: %s %s %q, want inconclusive, not TLS", run, vr.Name(), vr.Outcome, vr.Reason)
				}
			}
			if res.Status != StatusInconclusive {
				t.Errorf("run %d: status %s", run, res.Status)
			}
		}},
		{name: "fixed-serverhello", truth: map[tls.Version][]uint16{tls.VersionTLS10: {0xC02F}}, cfg: func(int, string) hostile.Config {
			return hostile.Config{Respond: hostile.FixedServerHello(0xC02F)}
		}, check: func(t *testing.T, run int, res *Result) {
			// The TLS 1.0 ServerHello names a suite no TLS 1.3 hello
			// offers: nonsense, not a refusal of TLS 1.3.
			if vr := res.Version(tls.VersionTLS13); vr.Outcome != Inconclusive || !strings.Contains(vr.Reason, "not offered") {
				t.Errorf("run %d: TLS 1.3 %s %q, want inconclusive (not offered)", run, vr.Outcome, vr.Reason)
			}
		}},
		{name: "always-lower", truth: none, cfg: func(int, string) hostile.Config {
			return hostile.Config{Respond: hostile.AlwaysLower}
		}, check: func(t *testing.T, run int, res *Result) {
			for _, vr := range res.Versions {
				if vr.Outcome != Inconclusive {
					t.Errorf("run %d: %s %s %q, want inconclusive", run, vr.Name(), vr.Outcome, vr.Reason)
				}
			}
			if len(res.Contradictions) == 0 {
				t.Errorf("run %d: no contradiction", run)
			}
		}},
		{name: "hrr-only", truth: none, cfg: func(int, string) hostile.Config {
			return hostile.Config{Respond: hostile.HRROnly}
		}, check: func(t *testing.T, run int, res *Result) {
			vr := res.Version(tls.VersionTLS13)
			if vr.Outcome != Inconclusive || !strings.Contains(vr.Reason, "HelloRetryRequest") {
				t.Errorf("run %d: TLS 1.3 %s %q, want inconclusive (HelloRetryRequests only)", run, vr.Outcome, vr.Reason)
			}
			if res.Status != StatusPartial {
				t.Errorf("run %d: status %s, want partial", run, res.Status)
			}
		}},
		{name: "rst-after-hello", truth: none, cfg: func(int, string) hostile.Config {
			return hostile.Config{Respond: hostile.SSLv2Junk, AfterHello: hostile.RST}
		}, check: allInconclusiveStatus},
		{name: "fin-after-hello", truth: none, cfg: func(int, string) hostile.Config {
			return hostile.Config{Respond: hostile.SSLv2Junk, AfterHello: hostile.FIN}
		}, check: allInconclusiveStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			backend := faketls.Start(t, back)
			for run := 1; run <= hostileRuns; run++ {
				h := hostile.Start(t, tt.cfg(run, backend.Addr()))
				opts := testOptions(AllVersions...)
				opts.Timeout = 300 * time.Millisecond
				opts.Rand = seeded(uint64(run))
				res := ScanTarget(context.Background(), targetOf(t, h.Addr()), opts)
				checkHonest(t, run, res, tt.truth, tt.exact)
				if tt.check != nil {
					tt.check(t, run, res)
				}
				if t.Failed() {
					t.Logf("run %d: %d connections, %d dropped; %s", run, h.Connections(), h.Dropped(), describe(res))
					return
				}
				h.Close()
			}
		})
	}
}

// wantPartial: a server behind a connection limiter cannot be mapped
// whole: the record says so.
func wantPartial(t *testing.T, run int, res *Result) {
	t.Helper()
	if res.Status != StatusPartial {
		t.Errorf("run %d: status %s (%s), want partial", run, res.Status, res.Error)
	}
}

func allInconclusiveStatus(t *testing.T, run int, res *Result) {
	t.Helper()
	for _, vr := range res.Versions {
		if vr.Outcome != Inconclusive {
			t.Errorf("run %d: %s %s %q, want inconclusive", run, vr.Name(), vr.Outcome, vr.Reason)
		}
	}
	if res.SSLv2 != nil && res.SSLv2.Outcome != Inconclusive {
		t.Errorf("run %d: SSLv2 %s %q, want inconclusive", run, res.SSLv2.Outcome, res.SSLv2.Reason)
	}
	if res.Status != StatusInconclusive {
		t.Errorf("run %d: status %s, want inconclusive", run, res.Status)
	}
}

// describe is a result in one line per version, for failure logs.
func describe(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %s (%s), handshakes %+v", res.Status, res.Error, res.Handshakes)
	if res.SSLv2 != nil {
		fmt.Fprintf(&b, "\n  SSLv2 %s %q", res.SSLv2.Outcome, res.SSLv2.Reason)
	}
	for _, vr := range res.Versions {
		fmt.Fprintf(&b, "\n  %s %s %q suites %04x inconclusive %04x %q cnc %04x", vr.Name(), vr.Outcome, vr.Reason, vr.Suites, vr.Inconclusive, vr.InconclusiveReason, vr.ChosenNotCompleted)
	}
	for _, c := range res.Contradictions {
		fmt.Fprintf(&b, "\n  contradiction: %s", c)
	}
	return b.String()
}
