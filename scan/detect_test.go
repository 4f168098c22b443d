package scan_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// TestScanAuto: an auto target (--starttls auto) is scanned with the
// protocol found from what its port answers — a greeting, or a silent
// server tried with every client-first dialogue and then taken for TLS —
// and the result says how it was found; what cannot be found is an
// unreachable endpoint with the evidence, never a guess.
func TestScanAuto(t *testing.T) {
	smtp := fakemail.Start(t, fakemail.SMTP(fakemail.Normal))
	silentTLS := faketls.Start(t, faketls.Intermediate())
	ssh := fakemail.Start(t, func(c *fakemail.Conn) {
		_ = c.Send("SSH-2.0-OpenSSH_9.2p1\r\n")
		_, _ = c.Reader().ReadByte()
	})
	opts := scan.Options{Timeout: 5 * time.Second, VersionsOnly: true, SkipGroups: true, SkipCert: true, GreetingWait: time.Second,
		Versions: []tls.Version{tls.VersionTLS12}}
	for _, tc := range []struct {
		name, addr, scheme, evidence string
		status                       scan.Status
	}{
		{"smtp", smtp.Addr, "smtp", `greeting "220-fake.test ESMTP FakeMail"`, scan.StatusOK},
		{"silent-tls", silentTLS.Addr(), "tls", "the server is silent and port", scan.StatusOK},
		{"ssh", ssh.Addr, "", `greeting "SSH-2.0-OpenSSH_9.2p1": no protocol fits`, scan.StatusUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target, err := scan.ParseTarget(tc.addr, scan.TargetOptions{STARTTLS: scan.ProtoAuto})
			if err != nil || target.Protocol != scan.ProtoAuto {
				t.Fatalf("%+v %v", target, err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := scan.ScanTarget(ctx, target, opts)
			d := res.Detected
			if d == nil || string(d.Protocol) != tc.scheme || !strings.HasPrefix(d.Evidence, tc.evidence) || res.Status != tc.status {
				t.Fatalf("status %s (%s), detected %+v", res.Status, res.Error, d)
			}
			t.Logf("AUTO %-10s | %-5s | %s | %d connections | %s", tc.name, d.Protocol, res.Status, d.Connections, d.Evidence)
			switch tc.status {
			case scan.StatusOK:
				if string(res.Target.Protocol) != tc.scheme || res.Version(tls.VersionTLS12).Outcome != scan.Accepted {
					t.Errorf("target %s, TLS 1.2 %+v", res.Target, res.Version(tls.VersionTLS12))
				}
			default:
				if res.Error.Stage != scan.StagePreamble || !strings.HasPrefix(res.Error.Reason, "no protocol detected: ") {
					t.Errorf("error %+v", res.Error)
				}
			}
		})
	}
	// The dialogue that found SMTP is the endpoint's.
	target, _ := scan.ParseTarget(smtp.Addr, scan.TargetOptions{STARTTLS: scan.ProtoAuto})
	if res := scan.ScanTarget(context.Background(), target, opts); res.Dialogue == nil || res.Dialogue.Protocol != "smtp" {
		t.Errorf("dialogue %+v", res.Dialogue)
	}
	// auto needs a port; auto:// reads back.
	if _, err := scan.ParseTarget("mx.example", scan.TargetOptions{STARTTLS: scan.ProtoAuto}); !errors.Is(err, scan.ErrBadTarget) || !strings.Contains(err.Error(), "needs a port") {
		t.Errorf("auto without a port: %v", err)
	}
	if tg, err := scan.ParseTarget("auto://mx.example:2525", scan.TargetOptions{}); err != nil || tg.Protocol != scan.ProtoAuto || tg.String() != "auto://mx.example:2525" {
		t.Errorf("auto://: %+v %v", tg, err)
	}
}
