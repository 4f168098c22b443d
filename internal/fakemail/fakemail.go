// Package fakemail runs scripted fake SMTP, IMAP and POP3 servers on
// loopback, for the failure modes real servers cannot be made to show on
// demand: STARTTLS missing or refused, a slow or endless greeting, a tarpit,
// a 1 MB line, a connection dropped mid-dialogue, a throttling reply, a TLS
// alert right after the go-ahead.
//
// A Server runs one Handler per accepted connection. The canned handlers
// (SMTP, IMAP, POP3 with a Mode) cover the failure modes; Handler is open
// for one-off scripts. Every line a client sends is kept (Lines), so tests
// can check what the client said, QUIT included.
package fakemail

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Handler is the script of one connection.
type Handler func(c *Conn)

// Server is a fake server listening on 127.0.0.1.
type Server struct {
	Addr string // host:port

	ln      net.Listener
	handler Handler
	wg      sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int // connections accepted so far
	lines    []string
	closed   bool
}

// Start starts a server running h for each connection. It is stopped at
// the end of the test: the listener and every connection are closed and
// every handler has returned before the test's cleanup finishes.
func Start(t testing.TB, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakemail: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, handler: h, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// StartPipe is Start on an in-memory listener: no socket, s.Dial makes
// each connection as a net.Pipe. Unlike loopback sockets, such
// connections block durably, so the server and a client under test can
// run in a testing/synctest bubble, on its fake clock. A pipe has no
// buffer: a write waits for the other side's read. Addr is a placeholder
// to parse into a target; nothing is ever sent to it.
func StartPipe(t testing.TB, h Handler) *Server {
	t.Helper()
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	s := &Server{Addr: pipeAddr.String(), ln: ln, handler: h, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Dial connects to a server made by StartPipe.
func (s *Server) Dial(ctx context.Context) (net.Conn, error) {
	ln, ok := s.ln.(*pipeListener)
	if !ok {
		return nil, errors.New("fakemail: Dial needs a server from StartPipe")
	}
	client, server := net.Pipe()
	select {
	case ln.conns <- server:
		return client, nil
	case <-ln.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// pipeAddr is the address a StartPipe server claims.
var pipeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

// pipeListener hands out the server ends of Dial's pipes.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr }

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.accepted++
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
				nc.Close()
			}()
			s.handler(&Conn{Conn: nc, r: bufio.NewReader(nc), srv: s})
		}()
	}
}

// Accepted is how many connections the server has accepted.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Close stops the server and waits for its handlers.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.wg.Wait()
}

// Lines returns every line clients sent so far, in order, without line
// endings.
func (s *Server) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// Conn is the server's side of one connection.
type Conn struct {
	net.Conn
	r   *bufio.Reader
	srv *Server
}

// maxClientLine bounds what a fake server buffers of one client line.
const maxClientLine = 64 << 10

// Line reads one client line (without its line ending) and records it.
func (c *Conn) Line() (string, error) {
	var b []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		b = append(b, frag...)
		if err == bufio.ErrBufferFull && len(b) < maxClientLine {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	line := strings.TrimRight(string(b), "\r\n")
	c.Record(line)
	return line, nil
}

// Reader is the connection's buffered reader, for scripts of binary
// dialogues (LDAP's BER messages): read through it, never through the
// embedded net.Conn, so that ServeTLS finds what was buffered.
func (c *Conn) Reader() *bufio.Reader { return c.r }

// Record keeps a line in the server's Lines as if the client had sent it:
// how a script of a binary dialogue names what the client said
// ("unbind").
func (c *Conn) Record(line string) {
	c.srv.mu.Lock()
	c.srv.lines = append(c.srv.lines, line)
	c.srv.mu.Unlock()
}

// Send writes s as it is (line endings included by the caller).
func (c *Conn) Send(s string) error {
	_, err := io.WriteString(c.Conn, s)
	return err
}

// Trickle writes s one byte every interval: a tarpit.
func (c *Conn) Trickle(s string, every time.Duration) error {
	for i := 0; i < len(s); i++ {
		if _, err := c.Conn.Write([]byte{s[i]}); err != nil {
			return err
		}
		time.Sleep(every)
	}
	return nil
}

// Repeat writes line again and again until the client goes away.
func (c *Conn) Repeat(line string) {
	chunk := []byte(strings.Repeat(line, max(1, 4096/len(line))))
	for {
		if _, err := c.Conn.Write(chunk); err != nil {
			return
		}
	}
}

// LongLine writes a line of n bytes of 'x' (then CRLF) in 32 KiB writes,
// stopping when the client goes away.
func (c *Conn) LongLine(prefix string, n int) {
	if c.Send(prefix) != nil {
		return
	}
	chunk := []byte(strings.Repeat("x", 32<<10))
	for n > 0 {
		w := min(n, len(chunk))
		if _, err := c.Conn.Write(chunk[:w]); err != nil {
			return
		}
		n -= w
	}
	_ = c.Send("\r\n")
}

// ServeTLS runs a TLS server handshake on the connection with a
// self-signed certificate (any TLS version crypto/tls supports), then
// reads until the client goes away.
func (c *Conn) ServeTLS() error {
	cert, err := certificate()
	if err != nil {
		return err
	}
	// What the bufio.Reader holds beyond the last line is the start of the
	// client's TLS handshake.
	raw := &prefixConn{Conn: c.Conn, r: io.MultiReader(c.r, c.Conn)}
	tc := tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS10})
	if err := tc.Handshake(); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, tc)
	return nil
}

type prefixConn struct {
	net.Conn
	r io.Reader
}

func (p *prefixConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// Alert is a TLS record holding a fatal handshake_failure alert (RFC 8446
// §6), what a server sends when it cannot agree on anything.
var Alert = []byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28}

var (
	certOnce sync.Once
	certVal  tls.Certificate
	certErr  error
)

// certificate makes, once per process, a self-signed ECDSA P-256
// certificate for "localhost" and 127.0.0.1.
func certificate() (tls.Certificate, error) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "localhost"},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		certVal = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	})
	if certErr != nil {
		return tls.Certificate{}, errors.New("fakemail: making a certificate: " + certErr.Error())
	}
	return certVal, nil
}
