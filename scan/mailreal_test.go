package scan_test

import (
	"context"
	"github.com/tlsmap/tlsmap/protocols"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/scan"
)

// TestMailRealServers scans real Postfix (STARTTLS and wrapper-mode ports)
// and Dovecot (IMAP STARTTLS, IMAPS, POP3 STLS, POP3S), both configured by
// internal/mailserver for TLS 1.0–1.3 with OpenSSL's whole cipher list at
// security level 0, through the registered dialogues, and requires exactly what
// openssl s_client alone finds (realserver.OpenSSLTruth, with -starttls
// smtp|imap|pop3 for the STARTTLS modes): the same (version, suite) pairs,
// the same verdict on server preference, the server's order where it
// enforces one. It also checks the dialogue kept in the Result.
func TestMailRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts postfix and dovecot and runs hundreds of s_client processes")
	}
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{})
	pf := mailserver.StartPostfix(t, mailserver.PostfixOptions{})
	modes := []struct {
		name     string
		addr     string
		proto    scan.Protocol
		starttls string // s_client -starttls
		software string // expected Dialogue.Software; "" for implicit TLS (no dialogue)
	}{
		{"smtp-starttls", pf.SMTP, scan.ProtoSMTP, "smtp", "Postfix"},
		{"smtps", pf.SMTPS, scan.ProtoSMTPS, "", ""},
		{"imap-starttls", dc.IMAP, scan.ProtoIMAP, "imap", "Dovecot"},
		{"imaps", dc.IMAPS, scan.ProtoIMAPS, "", ""},
		{"pop3-starttls", dc.POP3, scan.ProtoPOP3, "pop3", "Dovecot"},
		{"pop3s", dc.POP3S, scan.ProtoPOP3S, "", ""},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			truth, err := realserver.OpenSSLTruth(ctx, m.addr, realserver.TruthOptions{STARTTLS: m.starttls, Parallel: 4})
			if err != nil {
				t.Fatalf("truth: %v\npostfix log:\n%s\ndovecot log:\n%s", err, pf.Log(), dc.Log())
			}
			target, err := scan.ParseTarget(string(m.proto)+"://"+m.addr, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := scan.ScanTarget(ctx, target, scan.Options{
				Timeout: 10 * time.Second,
				Dialer:  &scan.NetDialer{Timeout: 10 * time.Second},
			})
			scanTime := time.Since(start)
			t.Logf("truth: %d s_client runs in %v; tlsmap: %d handshakes in %v",
				truth.Runs, truth.Elapsed.Round(time.Millisecond), res.Handshakes.Total, scanTime.Round(time.Millisecond))
			t.Logf("truth: %s", summary(truth))
			for _, d := range compareTruth(truth, res) {
				t.Errorf("%s: %s", m.name, d)
			}
			if t.Failed() {
				t.Logf("truth: %s", describeTruth(truth))
				t.Logf("tlsmap: %s", describeResult(res))
			}
			switch d := res.Dialogue; {
			case m.software == "" && d != nil:
				t.Errorf("implicit TLS with a dialogue: %+v", d)
			case m.software == "":
			case d == nil:
				t.Errorf("no dialogue")
			case d.Software != m.software || !d.STARTTLSAdvertised || len(d.Capabilities) == 0:
				t.Errorf("dialogue %+v, want software %s, STARTTLS advertised, capabilities", *d, m.software)
			default:
				t.Logf("dialogue: %q (%s), %d capabilities, plaintext auth %v", d.Banner, d.Software, len(d.Capabilities), d.PlaintextAuth)
			}
			// --starttls auto: the STARTTLS port's protocol is found from its
			// greeting; an implicit-TLS port that no protocol has (a
			// test's free port) is TLS of an unknown application.
			if m.starttls != "" {
				checkAuto(t, m.addr, m.proto, protocols.Options{})
			} else {
				checkAuto(t, m.addr, scan.ProtoTLS, protocols.Options{})
			}
		})
	}
}
