package scan_test

import (
	"context"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/scan"
)

// TestDirChatRealServers scans the real directory, file-transfer and chat
// servers of internal/protoserver — OpenLDAP's slapd (ldap StartTLS,
// ldaps) — each configured for TLS 1.0–1.3 with a wide suite list, through
// the registered dialogues, and requires exactly what openssl s_client
// alone finds (realserver.OpenSSLTruth, with -starttls ldap … for the
// STARTTLS modes): the same (version, suite) pairs, the same verdict on
// server preference, the server's order where it enforces one. It also
// checks the dialogue kept in the Result.
func TestDirChatRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts slapd and runs hundreds of s_client processes")
	}
	slapd := protoserver.SlapdT(t, protoserver.SlapdOptions{})
	modes := []struct {
		name     string
		url      string
		starttls string // s_client -starttls
		software string // expected Dialogue.Software; "" for implicit TLS (no dialogue)
	}{
		{"ldap-starttls", "ldap://" + slapd.Addr("ldap"), "ldap", "OpenLDAP"},
		{"ldaps", "ldaps://" + slapd.Addr("ldaps"), "", ""},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			truth, err := realserver.OpenSSLTruth(ctx, m.url[len(m.url)-len("127.0.0.1:00000"):], realserver.TruthOptions{STARTTLS: m.starttls, Parallel: 4})
			if err != nil {
				t.Fatalf("truth: %v\n%s", err, slapd.Log())
			}
			target, err := scan.ParseTarget(m.url, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := scan.ScanTarget(ctx, target, scan.Options{
				Timeout: 10 * time.Second,
				Dialer:  &scan.NetDialer{Timeout: 10 * time.Second, Dialogue: protocols.Options{Probe: true}},
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
				t.Logf("dialogue: %q (%s), %d capabilities, plaintext auth %v, attributes %v", d.Banner, d.Software, len(d.Capabilities), d.PlaintextAuth, d.Attributes)
			}
		})
	}
}
