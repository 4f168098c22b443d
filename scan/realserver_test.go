package scan_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// TestRealServer scans real servers — openssl s_server and nginx in the
// setups of realserver.Configs — and requires exactly what openssl
// s_client alone finds (realserver.OpenSSLTruth): the same (version,
// suite) pairs, the same verdict on server preference, and the server's
// order where it enforces one.
func TestRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts openssl s_server and nginx and runs hundreds of s_client processes")
	}
	for _, cfg := range realserver.Configs() {
		t.Run(cfg.Name, func(t *testing.T) {
			t.Parallel()
			srv := realserver.StartT(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()

			truth, err := realserver.OpenSSLTruth(ctx, srv.Addr, realserver.TruthOptions{ServerName: realserver.CertHost})
			if err != nil {
				t.Fatalf("truth: %v\nserver log:\n%s", err, srv.Log())
			}

			target, err := scan.ParseTarget(srv.Addr, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			target.Host = realserver.CertHost // SNI, as the truth sent it
			start := time.Now()
			res := scan.ScanTarget(ctx, target, scan.Options{Timeout: 10 * time.Second})
			scanTime := time.Since(start)

			t.Logf("truth: %d s_client runs in %v; tlsmap: %d handshakes (%+v) in %v",
				truth.Runs, truth.Elapsed.Round(time.Millisecond), res.Handshakes.Total, res.Handshakes, scanTime.Round(time.Millisecond))
			t.Logf("truth: %s", summary(truth))
			for _, m := range compareTruth(truth, res) {
				t.Errorf("%s: %s", cfg.Name, m)
			}
			if t.Failed() {
				t.Logf("truth: %s", describeTruth(truth))
				t.Logf("tlsmap: %s", describeResult(res))
			}
		})
	}
}

// compareTruth lists every difference between the truth and a scan.
func compareTruth(truth *realserver.Truth, res *scan.Result) []string {
	var diffs []string
	if res.Status != scan.StatusOK {
		diffs = append(diffs, fmt.Sprintf("status %s (%s), want ok", res.Status, res.Error))
	}
	name := func(id uint16) string {
		if s, ok := ciphers.ByID(id); ok && s.OpenSSLName != "" {
			return fmt.Sprintf("0x%04X %s", id, s.OpenSSLName)
		}
		return fmt.Sprintf("0x%04X %s", id, truth.Names[id])
	}
	// OpenSSL 3 has neither SSLv2 nor SSLv3: both must be refused.
	if res.SSLv2 != nil && res.SSLv2.Outcome != scan.Rejected {
		diffs = append(diffs, fmt.Sprintf("SSLv2 %s (%s), want rejected", res.SSLv2.Outcome, res.SSLv2.Reason))
	}
	if v := res.Version(tls.VersionSSL30); v != nil && v.Outcome != scan.Rejected {
		diffs = append(diffs, fmt.Sprintf("SSLv3 %s (%s), want rejected", v.Outcome, v.Reason))
	}
	for _, ver := range []uint16{realserver.TLS10, realserver.TLS11, realserver.TLS12, realserver.TLS13} {
		vname := tls.Version(ver).String()
		want := truth.Suites[ver]
		v := res.Version(tls.Version(ver))
		if v == nil {
			diffs = append(diffs, vname+": not in the result")
			continue
		}
		wantOutcome := scan.Rejected
		if len(want) > 0 {
			wantOutcome = scan.Accepted
		}
		if v.Outcome != wantOutcome {
			diffs = append(diffs, fmt.Sprintf("%s: outcome %s (%s), want %s", vname, v.Outcome, v.Reason, wantOutcome))
		}
		if len(v.Inconclusive) > 0 {
			var ids []string
			for _, id := range v.Inconclusive {
				ids = append(ids, name(id))
			}
			diffs = append(diffs, fmt.Sprintf("%s: inconclusive (%s): %s", vname, v.InconclusiveReason, strings.Join(ids, ", ")))
		}
		for _, id := range want {
			if !slices.Contains(v.Suites, id) {
				diffs = append(diffs, fmt.Sprintf("%s: %s: expected accepted, got not accepted", vname, name(id)))
			}
		}
		for _, id := range v.Suites {
			if !slices.Contains(want, id) {
				diffs = append(diffs, fmt.Sprintf("%s: %s: expected not accepted, got accepted", vname, name(id)))
			}
		}
		if len(want) < 2 {
			continue
		}
		serverOrder := truth.ServerOrder[ver]
		switch {
		case v.ServerOrder == nil:
			diffs = append(diffs, fmt.Sprintf("%s: server order unknown, want %v", vname, serverOrder))
		case *v.ServerOrder != serverOrder:
			diffs = append(diffs, fmt.Sprintf("%s: server order %v, want %v", vname, *v.ServerOrder, serverOrder))
		case serverOrder && !slices.Equal(v.Suites, want):
			var got, exp []string
			for _, id := range v.Suites {
				got = append(got, name(id))
			}
			for _, id := range want {
				exp = append(exp, name(id))
			}
			diffs = append(diffs, fmt.Sprintf("%s: order\n  got  %s\n  want %s", vname, strings.Join(got, ", "), strings.Join(exp, ", ")))
		}
		if serverOrder && v.OrderIncomplete {
			diffs = append(diffs, vname+": order incomplete")
		}
		if cp, ok := truth.ChaChaPriority[ver]; ok {
			switch {
			case v.ChaChaPriority == nil:
				diffs = append(diffs, fmt.Sprintf("%s: ChaCha20 priority not probed, want %v", vname, cp))
			case *v.ChaChaPriority != cp:
				diffs = append(diffs, fmt.Sprintf("%s: ChaCha20 priority %v, want %v", vname, *v.ChaChaPriority, cp))
			}
		}
	}
	return diffs
}

func describeTruth(tr *realserver.Truth) string {
	var b strings.Builder
	for _, v := range slices.Sorted(func(yield func(uint16) bool) {
		for v := range tr.Versions {
			if !yield(v) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s:", tls.Version(v).String())
		for _, id := range tr.Suites[v] {
			fmt.Fprintf(&b, " %04X", id)
		}
		fmt.Fprintf(&b, " (server order %v); ", tr.ServerOrder[v])
	}
	return b.String()
}

func describeResult(res *scan.Result) string {
	var b strings.Builder
	for _, v := range res.Versions {
		fmt.Fprintf(&b, "%s %s (%s):", v.Name(), v.Outcome, v.Reason)
		for _, id := range v.Suites {
			fmt.Fprintf(&b, " %04X", id)
		}
		if v.ServerOrder != nil {
			fmt.Fprintf(&b, " (server order %v)", *v.ServerOrder)
		}
		b.WriteString("; ")
	}
	return b.String()
}

// summary counts the truth's accepted suites per version.
func summary(tr *realserver.Truth) string {
	var parts []string
	for _, v := range []uint16{realserver.TLS10, realserver.TLS11, realserver.TLS12, realserver.TLS13} {
		if n := len(tr.Suites[v]); n > 0 {
			p := fmt.Sprintf("%s %d", tls.Version(v).String(), n)
			if tr.ServerOrder[v] {
				p += " in server order"
			}
			if cp, ok := tr.ChaChaPriority[v]; ok {
				p += fmt.Sprintf(" (ChaCha20 priority %v)", cp)
			}
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}
