package faketls

import (
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Server is a running fake TLS server on a loopback port. Its methods are
// safe for concurrent use; it serves any number of connections in
// parallel.
type Server struct {
	cfg   Config // read-only after Start
	chain [][]byte
	rand  io.Reader

	ln    net.Listener
	done  chan struct{} // closed by Close
	wg    sync.WaitGroup
	conns atomic.Int64

	mu     sync.Mutex
	live   map[net.Conn]struct{}
	hellos []*tls.ClientHello
	closed bool
}

// Start starts a server for cfg on 127.0.0.1 at a free port and stops it
// when the test ends. It fails the test when it cannot listen or make its
// certificate.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := newServer(cfg)
	if err != nil {
		tb.Fatalf("faketls: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faketls: listen: %v", err)
	}
	s.ln = ln
	tb.Cleanup(s.Close)
	s.wg.Add(1)
	go s.serve()
	return s
}

// newServer prepares everything a connection needs, so that no handler
// pays for key generation under a client's deadline.
func newServer(cfg Config) (*Server, error) {
	s := &Server{
		cfg:  cfg,
		done: make(chan struct{}),
		live: make(map[net.Conn]struct{}),
		rand: rand.Reader,
	}
	if cfg.Rand != nil {
		s.rand = &lockedReader{r: cfg.Rand}
	}
	s.chain = cfg.Certificate
	if s.chain == nil {
		chain, err := defaultChain()
		if err != nil {
			return nil, err
		}
		s.chain = chain
	}
	if s.needsDHPrime() {
		dhPrime(cfg.dhPrimeBits())
	}
	return s, nil
}

// needsDHPrime reports whether some accepted suite uses a DHE
// ServerKeyExchange.
func (s *Server) needsDHPrime() bool {
	for _, suites := range s.cfg.Suites {
		for _, id := range suites {
			if needsDH(id) {
				return true
			}
		}
	}
	return false
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Connections returns the number of TCP connections accepted so far.
func (s *Server) Connections() int { return int(s.conns.Load()) }

// Hellos returns the ClientHellos received so far (TLS and SSLv2), in the
// order they were parsed. The caller must not modify them.
func (s *Server) Hellos() []*tls.ClientHello {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*tls.ClientHello(nil), s.hellos...)
}

// Close stops the server: it stops accepting, ends every connection
// (hangs included) and waits for the handlers. It is idempotent; Start
// registers it with the test's Cleanup.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
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
			// Temporary failures (EMFILE under a parallel scan): keep
			// serving unless the server is stopping.
			select {
			case <-s.done:
				return
			default:
				continue
			}
		}
		s.conns.Add(1)
		if !s.track(c) {
			_ = c.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.handle(c)
		}()
	}
}

// track registers a live connection so that Close can end it; it reports
// false when the server is already closed.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.live[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.live, c)
	s.mu.Unlock()
	_ = c.Close()
}

func (s *Server) record(ch *tls.ClientHello) {
	s.mu.Lock()
	s.hellos = append(s.hellos, ch)
	s.mu.Unlock()
}

// lockedReader serialises reads from a reader that is not safe for
// concurrent use (a seeded test source).
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
