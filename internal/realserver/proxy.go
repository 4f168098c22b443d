package realserver

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// Proxy is a TCP proxy on a loopback port that counts the connections it
// accepts: put it in front of a server to count what a scanner costs the
// server, whatever the scanner reports about itself.
type Proxy struct {
	Addr    string // where clients connect
	Backend string // where connections are forwarded

	ln    net.Listener
	conns atomic.Int64
	wg    sync.WaitGroup
	mu    sync.Mutex
	live  map[net.Conn]struct{}
}

// StartProxy starts a proxy to backend on a free 127.0.0.1 port.
func StartProxy(backend string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), Backend: backend, ln: ln, live: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Connections returns the number of connections accepted since the start
// or the last Reset.
func (p *Proxy) Connections() int { return int(p.conns.Load()) }

// Reset sets the count to zero and returns what it was.
func (p *Proxy) Reset() int { return int(p.conns.Swap(0)) }

// Close stops accepting, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.live {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.live[c] = struct{}{}
	}
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.live, c)
		c.Close()
	}
}

// forward copies both ways, passing on half-closes, and a reset from the
// server as a reset to the client.
func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.Backend)
	if err != nil {
		abort(client)
		client.Close()
		return
	}
	p.track(client, server)
	defer p.untrack(client, server)
	var wg sync.WaitGroup
	wg.Go(func() { pipe(server, client) })
	pipe(client, server)
	wg.Wait()
}

// pipe copies src to dst until src ends, then half-closes dst; when src
// was reset, it resets dst.
func pipe(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if errors.Is(err, syscall.ECONNRESET) {
		abort(dst)
		dst.Close()
		return
	}
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// abort makes the next Close send a reset.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
}
