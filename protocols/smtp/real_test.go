package smtp

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/protocols"
)

var tlsVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// TestRealPostfix runs Upgrade against Postfix (authenticating through
// Dovecot) on its STARTTLS ports, at every TLS version, and Capabilities
// on its SMTPS port.
func TestRealPostfix(t *testing.T) {
	d := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: true})
	p := mailserver.StartPostfix(t, mailserver.PostfixOptions{SASL: d})
	ctx := context.Background()

	for _, tc := range []struct {
		name, addr    string
		plaintextAuth []string
	}{
		{"starttls", p.SMTP, []string{"PLAIN", "LOGIN"}},
		{"starttls-auth-only", p.SMTPAuthOnly, nil},
	} {
		for _, v := range tlsVersions {
			conn := fakemail.Dial(t, tc.addr)
			info, err := Upgrade(ctx, conn, protocols.Options{})
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.name, err, p.Log())
			}
			if info.Software != "Postfix" || info.Banner != mailserver.Banner || !info.STARTTLSAdvertised || info.Attributes[AttrESMTP] != "true" ||
				!slices.Equal(info.PlaintextAuth, tc.plaintextAuth) {
				t.Errorf("%s: info %+v", tc.name, info)
			}
			tc2 := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc2.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.name, v, err, p.Log())
			}
			if v == tls.VersionTLS13 {
				t.Logf("REAL-MATRIX smtp | postfix %-18s | software %q | STARTTLS advertised %v | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
					tc.name, info.Software, info.STARTTLSAdvertised, info.PlaintextAuth)
			}
		}
	}

	for _, v := range tlsVersions {
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", p.SMTPS,
			&tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("SMTPS TLS %x: %v", v, err)
		}
		info, err := Capabilities(ctx, tc, protocols.Options{})
		tc.Close()
		if err != nil {
			t.Fatalf("SMTPS Capabilities: %v\n%s", err, p.Log())
		}
		if info.Software != "Postfix" || len(info.PlaintextAuth) != 0 || !slices.Equal(info.AuthMechanisms, []string{"PLAIN", "LOGIN"}) {
			t.Errorf("SMTPS info %+v", info)
		}
		if v == tls.VersionTLS13 {
			t.Logf("REAL-MATRIX smtp | postfix smtps              | software %q | STARTTLS advertised %v | auth in TLS %q | capabilities %q",
				info.Software, info.STARTTLSAdvertised, info.AuthMechanisms, info.Capabilities)
		}
	}
}
