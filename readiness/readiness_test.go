package readiness

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/store"
)

func outcomes(s string) []store.VersionOutcome {
	vs, err := store.ParseVersions(s)
	if err != nil {
		panic(err)
	}
	return vs
}

const allRejected = "SSLv2=rejected;SSLv3=rejected;TLSv1.0=rejected;TLSv1.1=rejected;TLSv1.2=accepted;TLSv1.3=accepted"

func TestScanStance(t *testing.T) {
	for _, tc := range []struct {
		status, versions string
		want             Stance
		accepted         string
		undecided        string
	}{
		{"ok", allRejected, Refuses, "", ""},
		{"ok", "SSLv2=rejected;SSLv3=rejected;TLSv1.0=accepted;TLSv1.1=rejected;TLSv1.2=accepted", Accepts, "TLSv1.0", ""},
		// SSLv3 timed out: TLS 1.0 accepted decides anyway.
		{"ok", "SSLv2=rejected;SSLv3=inconclusive;TLSv1.0=accepted;TLSv1.1=accepted", Accepts, "TLSv1.0, TLSv1.1", "SSLv3"},
		// Not every legacy version decided: never "refuses".
		{"ok", "SSLv2=rejected;SSLv3=inconclusive;TLSv1.0=rejected;TLSv1.1=rejected;TLSv1.2=accepted", Unknown, "", "SSLv3"},
		{"ok", "TLSv1.0=rejected;TLSv1.1=rejected;TLSv1.2=accepted", Unknown, "", "SSLv2, SSLv3"},
		{"unreachable", "", Unknown, "", "SSLv2, SSLv3, TLSv1.0, TLSv1.1"},
		{"inconclusive", allRejected, Unknown, "", ""},
	} {
		st, acc, und := ScanStance(tc.status, outcomes(tc.versions))
		if st != tc.want || versionNames(acc) != tc.accepted || versionNames(und) != tc.undecided {
			t.Errorf("%s %s: %s accepted [%s] undecided [%s]; want %s [%s] [%s]", tc.status, tc.versions, st,
				versionNames(acc), versionNames(und), tc.want, tc.accepted, tc.undecided)
		}
	}
}

func TestDecide(t *testing.T) {
	scan := func(status, versions string) *Scan {
		s := &Scan{Status: status, Versions: outcomes(versions)}
		s.Stance, s.Accepted, s.Undecided = ScanStance(status, s.Versions)
		return s
	}
	legacy := "SSLv2=rejected;SSLv3=rejected;TLSv1.0=accepted;TLSv1.1=accepted;TLSv1.2=accepted"
	client := []*Usage{{Client: "192.0.2.1", Connections: 3}}
	for _, tc := range []struct {
		name string
		e    Endpoint
		want Verdict
		why  string
	}{
		{"blocked", Endpoint{Scan: scan("ok", legacy), Clients: client, Coverage: Coverage{TLS: 9}}, Blocked, "blocked by 1 client"},
		{"ready", Endpoint{Scan: scan("ok", legacy), Coverage: Coverage{TLS: 9, Unread: 2}}, Ready, "no legacy client among 9 TLS connections seen (2 more not readable)"},
		// Only unreadable connections: that is no evidence of anything.
		{"gaps only", Endpoint{Scan: scan("ok", legacy), Coverage: Coverage{Unread: 4}}, NoEvidence, "only 4 unreadable connections"},
		{"no evidence", Endpoint{Scan: scan("ok", legacy)}, NoEvidence, "no capture or log saw it"},
		{"done", Endpoint{Scan: scan("ok", allRejected), Clients: client}, Done, "1 client tried legacy TLS in the window (now refused)"},
		{"unreachable", Endpoint{Scan: scan("unreachable", ""), Clients: client}, Inconclusive, "latest scan unreachable; 1 legacy client"},
		{"undecided", Endpoint{Scan: scan("ok", "TLSv1.0=rejected;TLSv1.1=rejected")}, Inconclusive, "could not decide SSLv2, SSLv3"},
		{"unscanned", Endpoint{Clients: client}, Unscanned, "never scanned"},
	} {
		Decide(&tc.e)
		if tc.e.Verdict != tc.want || !strings.Contains(tc.e.Why, tc.why) {
			t.Errorf("%s: %s (%s), want %s (…%s…)", tc.name, tc.e.Verdict, tc.e.Why, tc.want, tc.why)
		}
		if blocked := tc.e.BlockedBy(); (blocked > 0) != (tc.want == Blocked) {
			t.Errorf("%s: blocked by %d", tc.name, blocked)
		}
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseSince(in); err != nil || got != want {
			t.Errorf("ParseSince(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "0d", "-3d", "3x", "1.5d", "+3d", "03d", "-1h"} {
		if _, err := ParseSince(bad); err == nil {
			t.Errorf("ParseSince(%q): no error", bad)
		}
	}
	if until, run, _ := ParsePoint("2026-03-05"); run != "" || !until.Equal(time.Date(2026, 3, 5, 23, 59, 59, 999999999, time.UTC)) {
		t.Errorf("ParsePoint(date) = %v %q", until, run)
	}
	if until, run, _ := ParsePoint("2026-03-05T10:00:00Z"); run != "" || until.Hour() != 10 {
		t.Errorf("ParsePoint(time) = %v %q", until, run)
	}
	if until, run, err := ParsePoint("weekly-12"); run != "weekly-12" || !until.IsZero() || err != nil {
		t.Errorf("ParsePoint(run) = %v %q %v", until, run, err)
	}
	if _, _, err := ParsePoint(" "); err == nil {
		t.Error("ParsePoint of nothing: no error")
	}
}

// TestBuildWindow builds a report over a small store: the window, the
// latest scan as of an instant, a run's own results, coverage, trend,
// unlisted endpoints, and a diff between two runs.
func TestBuildWindow(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	legacy := "SSLv2=rejected;SSLv3=rejected;TLSv1.0=accepted;TLSv1.1=accepted;TLSv1.2=accepted"
	scanRun := func(name string, at time.Time, rows map[string]string) {
		w, err := st.BeginScan(ctx, store.RunSpec{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		for ep, vs := range rows {
			status := "ok"
			if vs == "" {
				status = "unreachable"
			}
			if err := w.Add(ctx, store.ScanResult{Endpoint: ep, Target: "tls://" + ep, Address: ep, Status: status,
				Versions: outcomes(vs), Scanned: at, Record: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Finish(ctx, store.RunComplete); err != nil {
			t.Fatal(err)
		}
	}
	scanRun("w1", day0, map[string]string{"192.0.2.1:443": legacy, "192.0.2.2:443": legacy, "192.0.2.3:443": allRejected, "192.0.2.9:443": ""})
	scanRun("w2", day0.Add(72*time.Hour), map[string]string{"192.0.2.1:443": allRejected, "192.0.2.2:443": legacy, "192.0.2.3:443": legacy})

	in, err := st.Begin(ctx, store.SourceSpec{Kind: store.KindCapture, Name: "c.pcap", Content: "x"}, store.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(client, server string, v tls.Version, at time.Time) {
		f := store.Fact{Client: netip.MustParseAddr(client), Server: server, Protocol: "tls", Version: uint16(v),
			Offered: []uint16{uint16(v)}, First: at, Last: at}
		if v <= tls.VersionTLS11 {
			f.Legacy = store.LegacyNegotiated | store.LegacyOffered
		}
		if err := in.Add(ctx, &f); err != nil {
			t.Fatal(err)
		}
	}
	add("10.0.0.1", "192.0.2.1:443", tls.VersionTLS10, day0)
	add("10.0.0.1", "192.0.2.1:443", tls.VersionTLS10, day0.Add(24*time.Hour))
	add("10.0.0.2", "192.0.2.1:443", tls.VersionTLS11, day0.Add(24*time.Hour))
	add("10.0.0.3", "192.0.2.2:443", tls.VersionTLS13, day0)
	add("10.0.0.4", "198.51.100.7:443", tls.VersionTLS13, day0) // seen, never scanned, modern: not listed
	if err := in.Finish(ctx, store.StateComplete, ""); err != nil {
		t.Fatal(err)
	}

	verdicts := func(r *Report) string {
		var parts []string
		for _, e := range r.Endpoints {
			parts = append(parts, fmt.Sprintf("%s=%s/%d", e.Endpoint, e.Verdict, e.BlockedBy()))
		}
		return strings.Join(parts, " ")
	}
	// As of day 2: the first run's scans.
	r, err := Build(ctx, st, Options{Until: day0.Add(24 * time.Hour), Since: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := verdicts(r), "192.0.2.1:443=blocked/2 192.0.2.2:443=ready/0 192.0.2.3:443=done/0"; got != want {
		t.Errorf("as of day 2: %s\nwant %s", got, want)
	}
	if r.Summary.Unlisted != 1 || r.Summary.UnreachableUnlisted != 1 || r.Summary.LegacyClients != 2 || r.Summary.Sources != 1 {
		t.Errorf("summary %+v", r.Summary)
	}
	if e := r.Endpoint("192.0.2.1:443"); e.LegacyConnections != 3 || len(e.Trend) != 8 || e.Trend[6].Count != 1 || e.Trend[7].Count != 2 {
		t.Errorf("trend of 192.0.2.1: %+v", e.Trend)
	}
	// A window that ends before the evidence: no evidence, not ready.
	r, err = Build(ctx, st, Options{Until: day0.Add(-48 * time.Hour), Since: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := verdicts(r); got != "" {
		t.Errorf("before the first scan: %s", got)
	}
	r, err = Build(ctx, st, Options{Until: day0.Add(-48 * time.Hour), Since: 24 * time.Hour, Run: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := verdicts(r), "192.0.2.1:443=no-evidence/0 192.0.2.2:443=no-evidence/0 192.0.2.3:443=done/0"; got != want {
		t.Errorf("run w1, no evidence in the window: %s\nwant %s", got, want)
	}

	// The diff of the two runs: .1 stopped, .3 started (a regression).
	a, err := ResolvePoint(ctx, st, "w1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ResolvePoint(ctx, st, "w2")
	if err != nil {
		t.Fatal(err)
	}
	d, err := BuildDiff(ctx, st, a, b, Options{Since: 7 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Regressed() || len(d.Started) != 1 || d.Started[0].Endpoint != "192.0.2.3:443" || len(d.Stopped) != 1 ||
		d.Stopped[0].Endpoint != "192.0.2.1:443" {
		t.Errorf("diff: started %+v stopped %+v", d.Started, d.Stopped)
	}
	if _, err := ResolvePoint(ctx, st, "w3"); err == nil {
		t.Error("an unknown run resolved")
	}
}
