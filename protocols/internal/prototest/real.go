package prototest

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// RealVersions are the TLS versions a real server's test handshakes at.
var RealVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// Real describes one port of a real server for RealUpgrade and
// RealImplicit.
type Real struct {
	Protocol *protocols.Protocol
	Name     string // the case's name in failures
	// Dial opens a plain connection to a STARTTLS port (RealUpgrade);
	// Addr is an implicit-TLS port (RealImplicit).
	Dial func(t *testing.T) net.Conn
	Addr string
	// Log returns the server's log, printed with a failure.
	Log func() string
	// Check reports whether the dialogue is the one expected.
	Check func(d *protocols.Dialogue) bool
}

// RealUpgrade runs, at each of RealVersions, the protocol's Upgrade on a
// fresh connection from r.Dial, checks its dialogue and then completes a
// crypto/tls handshake at that version over the same connection: the
// dialogue left the stream where TLS starts. It returns the last
// dialogue, for the caller's REAL-MATRIX line.
func RealUpgrade(t *testing.T, r Real) *protocols.Dialogue {
	t.Helper()
	var last *protocols.Dialogue
	for _, v := range RealVersions {
		conn := r.Dial(t)
		d, err := r.Protocol.Upgrade(context.Background(), conn, protocols.Options{})
		if err != nil {
			t.Fatalf("%s: Upgrade: %v\n%s", r.Name, err, r.Log())
		}
		if !r.Check(d) {
			t.Errorf("%s: dialogue %+v", r.Name, d)
		}
		c := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.Handshake(); err != nil {
			t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", r.Name, v, err, r.Log())
		}
		last = d
	}
	return last
}

// RealImplicit runs, at each of RealVersions, the protocol's Capabilities
// over a crypto/tls connection to r.Addr and checks its dialogue. It
// returns the last dialogue.
func RealImplicit(t *testing.T, r Real) *protocols.Dialogue {
	t.Helper()
	var last *protocols.Dialogue
	for _, v := range RealVersions {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", r.Addr,
			&tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("%s: TLS %x: %v", r.Name, v, err)
		}
		d, err := r.Protocol.Capabilities(context.Background(), c, protocols.Options{})
		c.Close()
		if err != nil {
			t.Fatalf("%s: Capabilities: %v\n%s", r.Name, err, r.Log())
		}
		if !r.Check(d) {
			t.Errorf("%s: dialogue %+v", r.Name, d)
		}
		last = d
	}
	return last
}
