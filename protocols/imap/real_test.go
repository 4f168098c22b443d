package imap

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

// TestRealDovecot runs Upgrade against Dovecot's STARTTLS port, with
// plaintext authentication allowed and not, at every TLS version, and
// Capabilities on its IMAPS port.
func TestRealDovecot(t *testing.T) {
	open := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: true})
	strict := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: false})
	ctx := context.Background()

	for _, tc := range []struct {
		name, from, addr string
		loginDisabled    bool
		plaintextAuth    []string
	}{
		{"starttls", "", open.IMAP, false, []string{"LOGIN", "PLAIN"}},
		// From 127.0.0.2: Dovecot treats 127.0.0.1 to 127.0.0.1 as secured.
		{"starttls-plaintext-disabled", "127.0.0.2", strict.IMAP, true, nil},
	} {
		for _, v := range tlsVersions {
			conn := fakemail.DialFrom(t, tc.from, tc.addr)
			info, err := Upgrade(ctx, conn, protocols.Options{})
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.name, err, open.Log())
			}
			if info.Software != "Dovecot" || info.Banner != mailserver.DovecotBanner || !info.STARTTLSAdvertised ||
				(info.Attributes[AttrLoginDisabled] == "true") != tc.loginDisabled || !slices.Equal(info.PlaintextAuth, tc.plaintextAuth) {
				t.Errorf("%s: info %+v", tc.name, info)
			}
			c := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := c.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.name, v, err, open.Log())
			}
			if v == tls.VersionTLS13 {
				t.Logf("REAL-MATRIX imap | dovecot %-27s | software %q | STARTTLS advertised %v | LOGINDISABLED %v | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
					tc.name, info.Software, info.STARTTLSAdvertised, info.Attributes[AttrLoginDisabled], info.PlaintextAuth)
			}
		}
	}

	for _, v := range tlsVersions {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", strict.IMAPS,
			&tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("IMAPS TLS %x: %v", v, err)
		}
		info, err := Capabilities(ctx, c, protocols.Options{})
		c.Close()
		if err != nil {
			t.Fatalf("IMAPS Capabilities: %v\n%s", err, strict.Log())
		}
		if info.Software != "Dovecot" || len(info.PlaintextAuth) != 0 || info.Attributes[AttrLoginDisabled] == "true" || !slices.Contains(info.AuthMechanisms, "PLAIN") {
			t.Errorf("IMAPS info %+v", info)
		}
		if v == tls.VersionTLS13 {
			t.Logf("REAL-MATRIX imap | dovecot imaps                       | software %q | STARTTLS advertised %v | auth in TLS %q",
				info.Software, info.STARTTLSAdvertised, info.AuthMechanisms)
		}
	}
}
