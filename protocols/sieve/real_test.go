package sieve

import (
	"context"
	"crypto/tls"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
)

var tlsVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// TestRealManageSieve runs Upgrade against Dovecot's managesieved at
// every TLS version, from the server's own address (which Dovecot counts
// as secure: it lists its SASL mechanisms before TLS) and from 127.0.0.2
// (which it does not: no mechanism before TLS), each followed by a TLS
// handshake of crypto/tls on the upgraded connection.
func TestRealManageSieve(t *testing.T) {
	srv := protoserver.ManageSieveT(t, protoserver.ManageSieveOptions{})
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		from  string
		mechs []string // PlaintextAuth, the SASL list before TLS
	}{
		{"from-own-address", "", []string{"PLAIN", "LOGIN"}},
		{"from-127.0.0.2", "127.0.0.2", nil},
	} {
		for _, v := range tlsVersions {
			conn := fakemail.DialFrom(t, tc.from, srv.Addr("sieve"))
			info, err := Upgrade(ctx, conn, protocols.Options{})
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.name, err, srv.Log())
			}
			if info.Software != "Dovecot" || !strings.Contains(info.Banner, "Pigeonhole") || !info.STARTTLSAdvertised ||
				!slices.Equal(info.PlaintextAuth, tc.mechs) || !slices.Contains(info.Capabilities, "VERSION 1.0") ||
				!slices.ContainsFunc(info.Capabilities, func(c string) bool { return strings.HasPrefix(c, "SIEVE fileinto") }) {
				t.Errorf("%s: info %+v", tc.name, info)
			}
			tc2 := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc2.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.name, v, err, srv.Log())
			}
			if got := tc2.ConnectionState().Version; got != v {
				t.Errorf("%s: TLS version %x, want %x", tc.name, got, v)
			}
			tc2.Close()
			if v == tls.VersionTLS13 {
				t.Logf("REAL-MATRIX sieve | managesieved %-16s | software %q (%q) | STARTTLS advertised %v | %d capabilities | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
					tc.name, info.Software, info.Banner, info.STARTTLSAdvertised, len(info.Capabilities), info.PlaintextAuth)
			}
		}
	}
}
