package fakemail

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// CountingConn is a client connection that counts the bytes read from it,
// so that tests can check a dialogue's reads stay bounded.
type CountingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *CountingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// BytesRead returns how many bytes were read so far.
func (c *CountingConn) BytesRead() int64 { return c.n.Load() }

// Dial connects to addr, closing the connection at the end of the test.
func Dial(t testing.TB, addr string) *CountingConn {
	t.Helper()
	return DialFrom(t, "", addr)
}

// DialFrom connects to addr from the local address laddr ("127.0.0.2":
// another loopback address, which servers such as Dovecot do not treat as
// "secured" the way they treat a connection from their own address).
func DialFrom(t testing.TB, laddr, addr string) *CountingConn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if laddr != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(laddr)}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("fakemail: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	return &CountingConn{Conn: nc}
}

// TLSHandshake runs a crypto/tls client handshake (any certificate, TLS
// 1.0 and up) on conn within 5 seconds, as the scanner's TLS layer would
// after an Upgrade, and returns the TLS connection.
func TLSHandshake(conn net.Conn) (*tls.Conn, error) {
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	defer conn.SetDeadline(time.Time{})
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10})
	return tc, tc.Handshake()
}

// CheckAlert fails the test unless the next bytes on conn are exactly
// Alert: the connection was left positioned at the server's first TLS
// byte.
func CheckAlert(t testing.TB, conn net.Conn) {
	t.Helper()
	got := make([]byte, len(Alert))
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("reading after the upgrade: %v", err)
	}
	if !bytes.Equal(got, Alert) {
		t.Fatalf("after the upgrade the conn reads % x, want the alert % x", got, Alert)
	}
}
