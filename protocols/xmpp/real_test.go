package xmpp

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
)

var tlsVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// TestRealProsody runs both Upgrades against Prosody at every TLS
// version, Capabilities on its direct-TLS ports, and the dialogue against
// a Prosody that offers PLAIN before TLS.
func TestRealProsody(t *testing.T) {
	srv := protoserver.ProsodyT(t, protoserver.ProsodyOptions{})
	plain := protoserver.ProsodyT(t, protoserver.ProsodyOptions{PlainAuthInClear: true})
	ctx := context.Background()
	opts := protocols.Options{Domain: protoserver.ProsodyDomain}
	for _, tc := range []struct {
		p      *protocols.Protocol
		scheme string
		direct string
	}{
		{Client, "xmpp", "xmpps"},
		{Server, "xmpp-server", "xmpps-server"},
	} {
		for _, v := range tlsVersions {
			conn := fakemail.Dial(t, srv.Addr(tc.scheme))
			info, err := tc.p.Upgrade(ctx, conn, opts)
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.scheme, err, srv.Log())
			}
			if !info.STARTTLSAdvertised || info.Attributes[AttrStartTLS] != "required" || info.Banner != protoserver.ProsodyDomain || len(info.PlaintextAuth) != 0 {
				t.Errorf("%s: info %+v", tc.scheme, info)
			}
			tc2 := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc2.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.scheme, v, err, srv.Log())
			}
			tc2.Close()
			if v == tls.VersionTLS13 {
				t.Logf("REAL-MATRIX %s | prosody %-12s | from %q | STARTTLS %s | capabilities %q | TLS 1.0–1.3 handshakes after Upgrade ok",
					tc.p.Name, tc.scheme, info.Banner, info.Attributes[AttrStartTLS], info.Capabilities)
			}
		}
		tc2, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", srv.Addr(tc.direct),
			&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.direct, err, srv.Log())
		}
		info, err := tc.p.Capabilities(ctx, tc2, opts)
		tc2.Close()
		if err != nil {
			t.Fatalf("%s: Capabilities: %v\n%s", tc.direct, err, srv.Log())
		}
		if info.STARTTLSAdvertised || len(info.PlaintextAuth) != 0 || tc.p == Client && !slices.Contains(info.AuthMechanisms, "PLAIN") {
			t.Errorf("%s: info %+v", tc.direct, info)
		}
		t.Logf("REAL-MATRIX %s | prosody %-12s | capabilities in TLS %q", tc.p.Name, tc.direct, info.Capabilities)
	}
	// PLAIN before TLS is a finding.
	info, err := Client.Upgrade(ctx, fakemail.Dial(t, plain.Addr("xmpp")), opts)
	if err != nil {
		t.Fatalf("Upgrade: %v\n%s", err, plain.Log())
	}
	if !slices.Contains(info.PlaintextAuth, "PLAIN") || info.Attributes[AttrStartTLS] != "optional" {
		t.Errorf("plain-in-clear: info %+v", info)
	}
	t.Logf("REAL-MATRIX xmpp | prosody plain-in-clear | STARTTLS %s | plaintext auth %q", info.Attributes[AttrStartTLS], info.PlaintextAuth)
	// A domain the server does not serve.
	_, err = Client.Upgrade(ctx, fakemail.Dial(t, srv.Addr("xmpp")), protocols.Options{Domain: "nothere.example"})
	if e, ok := err.(*protocols.Error); !ok || e.Reply != "stream error host-unknown: This server does not serve nothere.example" {
		t.Errorf("unknown domain: %v", err)
	}
}
