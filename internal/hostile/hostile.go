// Package hostile is a misbehaving server for tests: a front on a
// loopback port that drops connections the way connection limiters,
// firewalls and flaky networks do (after N connections, every second one,
// past two at once, at random, after every hello), in front of a backend
// (typically a faketls server), or that answers every hello with scripted
// nonsense (SSLv2-framed junk, one fixed ServerHello, always a lower
// version, HelloRetryRequests only).
//
// It complements faketls, which scripts what a TLS server says; hostile
// scripts what happens to the connection around it. Every wire structure
// it writes is built by protocols/tls.
//
//	back := faketls.Start(t, faketls.Config{…})
//	h := hostile.Start(t, hostile.Config{Backend: back.Addr(), Every: 2, EveryDrop: hostile.RST})
//	… scan h.Addr() …
package hostile

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Drop is what happens to a connection that is not served.
type Drop uint8

const (
	// Serve: the connection reaches the backend (or Respond).
	Serve Drop = iota
	// FIN: the hello is read, then the connection is closed.
	FIN
	// RST: the hello is read, then the connection is reset.
	RST
	// Refuse: the listener is closed, so this and every later connection
	// attempt is refused at TCP level (Limit only; elsewhere RST).
	Refuse
)

// String names the drop: "serve", "fin", "rst", "refuse".
func (d Drop) String() string {
	switch d {
	case Serve:
		return "serve"
	case FIN:
		return "fin"
	case RST:
		return "rst"
	case Refuse:
		return "refuse"
	}
	return "drop?"
}

// Config scripts the front. The checks apply in the order of the fields:
// the first that drops a connection decides.
type Config struct {
	// Backend is the address served connections are forwarded to.
	Backend string
	// Respond, when set instead of Backend, answers the bytes of each
	// served connection's first read (the client's hello) with its
	// return value, then waits for the client to close. Nil bytes: close.
	Respond func(hello []byte) []byte

	// AfterHello, when not Serve, drops every connection after its hello.
	AfterHello Drop
	// Limit > 0 serves the first Limit connections; every later one gets
	// LimitDrop (Refuse: the listener is closed at connection Limit+1).
	Limit     int
	LimitDrop Drop
	// Every > 0 drops the Every-th, 2·Every-th … connection with
	// EveryDrop.
	Every     int
	EveryDrop Drop
	// MaxConcurrent > 0 resets a connection that arrives while
	// MaxConcurrent are being served.
	MaxConcurrent int
	// RandomP drops each connection with this probability, by RST or FIN
	// at random, from a source seeded with Seed.
	RandomP float64
	Seed    uint64
}

// Server is a running front.
type Server struct {
	cfg   Config
	ln    net.Listener
	addr  string
	conns atomic.Int64 // accepted
	drops atomic.Int64 // dropped (Refuse counts the connection that closed the listener)

	mu     sync.Mutex
	rng    *rand.Rand
	active int
	live   map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start starts a front for cfg on 127.0.0.1 and stops it when the test
// ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if (cfg.Backend == "") == (cfg.Respond == nil) {
		tb.Fatal("hostile: set one of Backend and Respond")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("hostile: listen: %v", err)
	}
	s := &Server{cfg: cfg, ln: ln, addr: ln.Addr().String(), live: map[net.Conn]struct{}{},
		rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	tb.Cleanup(s.Close)
	s.wg.Add(1)
	go s.serve()
	return s
}

// Addr is the front's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Connections is the number of connections accepted.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Dropped is the number of connections dropped.
func (s *Server) Dropped() int { return int(s.drops.Load()) }

// Close stops the front and ends every connection.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	_ = s.ln.Close()
	for c := range s.live {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		n := int(s.conns.Add(1))
		d := s.decide(n)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.live[c] = struct{}{}
		if d == Serve {
			s.active++
		}
		s.mu.Unlock()
		if d == Refuse {
			_ = s.ln.Close() // this and every later attempt: refused
			reset(c)
			s.drops.Add(1)
			s.untrack(c, false)
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c, d == Serve)
			if d != Serve {
				s.drops.Add(1)
				drop(c, d)
				return
			}
			s.handle(c)
		}()
	}
}

// decide is what happens to the n-th connection (from 1).
func (s *Server) decide(n int) Drop {
	c := &s.cfg
	if c.AfterHello != Serve {
		return orRST(c.AfterHello)
	}
	if c.Limit > 0 && n > c.Limit {
		return c.LimitDrop
	}
	if c.Every > 0 && n%c.Every == 0 {
		return orRST(c.EveryDrop)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.MaxConcurrent > 0 && s.active >= c.MaxConcurrent {
		return RST
	}
	if c.RandomP > 0 && s.rng.Float64() < c.RandomP {
		if s.rng.IntN(2) == 0 {
			return RST
		}
		return FIN
	}
	return Serve
}

func orRST(d Drop) Drop {
	if d == Refuse {
		return RST
	}
	return d
}

func (s *Server) untrack(c net.Conn, served bool) {
	s.mu.Lock()
	delete(s.live, c)
	if served {
		s.active--
	}
	s.mu.Unlock()
	_ = c.Close()
}

// drop reads the hello, then closes or resets.
func drop(c net.Conn, d Drop) {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	_, _ = c.Read(buf)
	if d == FIN {
		_ = c.Close()
		return
	}
	reset(c)
}

func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

func (s *Server) handle(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if s.cfg.Respond != nil {
		buf := make([]byte, 16<<10)
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		out := s.cfg.Respond(buf[:n])
		if out == nil {
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, c) // until the client closes
		return
	}
	b, err := net.DialTimeout("tcp", s.cfg.Backend, 5*time.Second)
	if err != nil {
		reset(c)
		return
	}
	s.mu.Lock()
	s.live[b] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.live, b)
		s.mu.Unlock()
		_ = b.Close()
	}()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); closeWrite(b); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); closeWrite(c); done <- struct{}{} }()
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}

// parseHello reads a TLS ClientHello from the first bytes of a
// connection; nil when they are not one (an SSLv2 hello, junk).
func parseHello(b []byte) *tls.ClientHello {
	d := tls.NewDecoder(0)
	if _, err := d.Write(b); err != nil {
		return nil
	}
	ev, err := d.Next()
	if err != nil || ev.Kind != tls.EventHandshake || ev.HandshakeType != tls.TypeClientHello {
		return nil
	}
	ch, err := tls.ParseClientHello(ev.Message)
	if err != nil {
		return nil
	}
	return ch
}
