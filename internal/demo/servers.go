package demo

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	tlswire "github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// serverAddr is where every demo server listens, each on its own
// ephemeral port.
const serverAddr = "127.0.0.1"

// connLifetime bounds every connection a demo server accepts: no demo
// dialogue takes longer, and a stuck peer cannot hold the demo open.
const connLifetime = 20 * time.Second

// Endpoint is one of the demo's servers.
type Endpoint struct {
	Name string // short name used in the reports: "legacy-https"
	// Target is how tlsmap reaches it: Addr 127.0.0.1 and the ephemeral
	// port, Host the name its certificate is for (sent as SNI).
	Target scan.Target
	// Settings says, for a reader, what the server is configured to
	// accept.
	Settings string
	// Legacy is true when the server is configured to accept TLS 1.0 or
	// 1.1: the truth the demo's report is checked against.
	Legacy bool
}

// URL is the endpoint as a reader would write it:
// "https://legacy.demo.test:41234" (the name resolves nowhere: the demo
// dials 127.0.0.1 and sends the name as SNI).
func (e Endpoint) URL() string {
	return e.Target.Protocol.String() + "://" + net.JoinHostPort(e.Target.Host, strconv.Itoa(int(e.Target.Port)))
}

// The demo's endpoints by name.
const (
	EndpointModernHTTPS = "modern-https"
	EndpointLegacyHTTPS = "legacy-https"
	EndpointSMTP        = "smtp"
	EndpointIMAPS       = "imaps"
	EndpointPOP3        = "pop3"
)

// serverSpec describes one demo server.
type serverSpec struct {
	name     string
	host     string
	proto    scan.Protocol
	key      keyKind
	min, max uint16
	suites   []uint16 // nil: Go's defaults
	settings string
	legacy   bool
}

// specs are the five servers, in report order.
func specs() []serverSpec {
	return []serverSpec{
		{
			name: EndpointModernHTTPS, host: "www.demo.test", proto: scan.ProtoHTTPS, key: keyECDSA,
			min: tls.VersionTLS12, max: tls.VersionTLS13,
			suites: []uint16{
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
				tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
				tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			},
			settings: "TLS 1.2–1.3, ECDHE AEAD suites only",
		},
		{
			name: EndpointLegacyHTTPS, host: "legacy.demo.test", proto: scan.ProtoHTTPS, key: keyRSA,
			min: tls.VersionTLS10, max: tls.VersionTLS12,
			suites:   allTLS12Suites(),
			settings: "TLS 1.0–1.2, every suite Go still has: CBC, 3DES, RC4, static RSA",
			legacy:   true,
		},
		{
			name: EndpointSMTP, host: "mail.demo.test", proto: scan.ProtoSMTP, key: keyRSA,
			min: tls.VersionTLS10, max: tls.VersionTLS13,
			suites: append(secureSuites(),
				tls.TLS_RSA_WITH_AES_128_CBC_SHA,
				tls.TLS_RSA_WITH_AES_256_CBC_SHA,
				tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
			),
			settings: "SMTP STARTTLS, TLS 1.0–1.3, 3DES and static RSA too; AUTH PLAIN LOGIN before STARTTLS",
			legacy:   true,
		},
		{
			name: EndpointIMAPS, host: "imap.demo.test", proto: scan.ProtoIMAPS, key: keyECDSA,
			min: tls.VersionTLS12, max: tls.VersionTLS13,
			settings: "IMAP over implicit TLS (993-style), TLS 1.2–1.3, Go's default suites",
		},
		{
			name: EndpointPOP3, host: "pop.demo.test", proto: scan.ProtoPOP3, key: keyRSA,
			min: tls.VersionTLS10, max: tls.VersionTLS12,
			suites: []uint16{
				tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
				tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
				tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
				tls.TLS_RSA_WITH_AES_128_CBC_SHA,
			},
			settings: "POP3 STLS, TLS 1.0–1.2, AES suites",
			legacy:   true,
		},
	}
}

// secureSuites are the TLS 1.0–1.2 suites crypto/tls calls secure.
func secureSuites() []uint16 {
	var ids []uint16
	for _, s := range tls.CipherSuites() {
		if s.SupportedVersions[0] != tls.VersionTLS13 {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// allTLS12Suites are secureSuites and every suite crypto/tls still
// implements but calls insecure (RC4, 3DES, static RSA with SHA-256 CBC).
func allTLS12Suites() []uint16 {
	ids := secureSuites()
	for _, s := range tls.InsecureCipherSuites() {
		if s.SupportedVersions[0] != tls.VersionTLS13 {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Servers are the demo's servers, each listening on 127.0.0.1.
type Servers struct {
	// Endpoints are the servers in report order.
	Endpoints []Endpoint
	// CA is the demo's certificate authority, which signed every server
	// certificate; Roots holds it.
	CA    *x509.Certificate
	Roots *x509.CertPool

	lns   []net.Listener
	https []*http.Server
	wg    sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// StartServers generates a CA and one certificate per server and starts
// the five servers. Close stops them.
func StartServers() (*Servers, error) {
	ca, err := newAuthority(time.Now())
	if err != nil {
		return nil, err
	}
	s := &Servers{CA: ca.cert, Roots: ca.pool, conns: map[net.Conn]struct{}{}}
	for _, sp := range specs() {
		if err := s.start(ca, sp); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *Servers) start(ca *authority, sp serverSpec) error {
	cert, err := ca.leaf(sp.host, sp.key)
	if err != nil {
		return err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   sp.min,
		MaxVersion:   sp.max,
		CipherSuites: sp.suites,
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(serverAddr, "0"))
	if err != nil {
		return fmt.Errorf("demo: %s: %w", sp.name, err)
	}
	s.lns = append(s.lns, ln)
	port := ln.Addr().(*net.TCPAddr).Port
	t, err := scan.ParseTarget(sp.proto.String()+"://"+net.JoinHostPort(sp.host, strconv.Itoa(port)), scan.TargetOptions{})
	if err != nil {
		return fmt.Errorf("demo: %s: %w", sp.name, err)
	}
	t.Addr = serverAddr // no DNS: the host name is for SNI and the certificate
	s.Endpoints = append(s.Endpoints, Endpoint{Name: sp.name, Target: t, Settings: sp.settings, Legacy: sp.legacy})

	switch sp.proto {
	case scan.ProtoHTTPS:
		hs := &http.Server{
			Handler:           httpsHandler(sp.host),
			TLSConfig:         cfg,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       5 * time.Second,
			// The scan's probes end most handshakes on purpose; do not
			// log each one.
			ErrorLog: log.New(io.Discard, "", 0),
		}
		s.https = append(s.https, hs)
		s.wg.Go(func() { _ = hs.Serve(tls.NewListener(ln, cfg)) })
	case scan.ProtoSMTP:
		s.wg.Go(func() { s.accept(ln, func(c net.Conn) { serveSMTP(c, sp.host, cfg) }) })
	case scan.ProtoIMAPS:
		s.wg.Go(func() { s.accept(ln, func(c net.Conn) { serveIMAPS(c, sp.host, cfg) }) })
	case scan.ProtoPOP3:
		s.wg.Go(func() { s.accept(ln, func(c net.Conn) { servePOP3(c, sp.host, cfg) }) })
	default:
		return fmt.Errorf("demo: %s: no server for protocol %s", sp.name, sp.proto)
	}
	return nil
}

// accept serves each connection of ln in its own goroutine, bounded by
// connLifetime, until ln is closed.
func (s *Servers) accept(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		s.wg.Go(func() {
			defer s.untrack(c)
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(connLifetime))
			serve(c)
		})
	}
}

func (s *Servers) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Servers) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

// Endpoint returns the endpoint called name.
func (s *Servers) Endpoint(name string) (Endpoint, bool) {
	for _, e := range s.Endpoints {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Close stops every server and closes their connections, and returns once
// every server goroutine has ended.
func (s *Servers) Close() error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	for _, hs := range s.https {
		hs.Close()
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	s.wg.Wait()
	return nil
}

// httpsHandler answers every request with what was negotiated.
func httpsHandler(host string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Connection", "close")
		v, suite := "none", "none"
		if r.TLS != nil {
			v, suite = tlswire.Version(r.TLS.Version).String(), tls.CipherSuiteName(r.TLS.CipherSuite)
		}
		fmt.Fprintf(w, "tlsmap demo: %s; you negotiated %s with %s\n", host, v, suite)
	})
}
