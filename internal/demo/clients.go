package demo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/scan"
)

// Source addresses on the loopback network (Linux routes all of
// 127.0.0.0/8 to lo): each demo client, and the scanner, connects from its
// own address, so that the sniff report can tell them apart. The shipped
// capture was recorded with the same addresses.
var (
	scannerAddr = netip.MustParseAddr("127.0.0.2")
)

// Client is one of the demo's own TLS clients: an address and the
// connections it makes.
type Client struct {
	Addr  netip.Addr
	Who   string // "legacy app (TLS 1.0 only)"
	Conns []ClientConn
}

// ClientConn is one connection a demo client makes, and what came of it.
type ClientConn struct {
	Endpoint string // the endpoint's name
	Min, Max uint16 // the versions the client offers
	// Suites the client offers for TLS 1.0–1.2 (nil: Go's defaults).
	Suites []uint16

	// After the run: the negotiated version and suite, or the error.
	Version, Suite uint16
	Err            error
}

// plannedClients are the demo's clients. Their connections run after the
// scan, one at a time, in this order.
func plannedClients() []Client {
	oldSuites := []uint16{
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_RSA_WITH_RC4_128_SHA,
	}
	return []Client{
		{
			Addr: netip.MustParseAddr("127.0.0.21"), Who: "legacy app (TLS 1.0 only)",
			Conns: []ClientConn{
				{Endpoint: EndpointLegacyHTTPS, Min: tls.VersionTLS10, Max: tls.VersionTLS10, Suites: oldSuites},
				// Refused: this is the connection that already fails
				// where TLS 1.0 was switched off.
				{Endpoint: EndpointModernHTTPS, Min: tls.VersionTLS10, Max: tls.VersionTLS10, Suites: oldSuites},
			},
		},
		{
			Addr: netip.MustParseAddr("127.0.0.22"), Who: "old mail client (TLS 1.0/1.1)",
			Conns: []ClientConn{
				{Endpoint: EndpointPOP3, Min: tls.VersionTLS10, Max: tls.VersionTLS10},
				{Endpoint: EndpointSMTP, Min: tls.VersionTLS10, Max: tls.VersionTLS11},
			},
		},
		{
			Addr: netip.MustParseAddr("127.0.0.31"), Who: "modern client (TLS 1.2/1.3)",
			Conns: []ClientConn{
				{Endpoint: EndpointModernHTTPS, Min: tls.VersionTLS12, Max: tls.VersionTLS13},
				{Endpoint: EndpointLegacyHTTPS, Min: tls.VersionTLS12, Max: tls.VersionTLS13},
				{Endpoint: EndpointIMAPS, Min: tls.VersionTLS12, Max: tls.VersionTLS13},
				{Endpoint: EndpointSMTP, Min: tls.VersionTLS12, Max: tls.VersionTLS13},
				{Endpoint: EndpointPOP3, Min: tls.VersionTLS12, Max: tls.VersionTLS13},
			},
		},
	}
}

// countConns is the number of connections of clients.
func countConns(clients []Client) int {
	n := 0
	for _, c := range clients {
		n += len(c.Conns)
	}
	return n
}

// clientTimeout bounds each demo client connection.
const clientTimeout = 5 * time.Second

// runClients makes every planned connection, one after the other, and
// records the outcome in clients. A refused handshake is an outcome, not an
// error.
func runClients(ctx context.Context, s *Servers, clients []Client, bind bool) {
	for i := range clients {
		cl := &clients[i]
		for j := range cl.Conns {
			cc := &cl.Conns[j]
			ep, ok := s.Endpoint(cc.Endpoint)
			if !ok {
				cc.Err = fmt.Errorf("demo: no endpoint %q", cc.Endpoint)
				continue
			}
			from := netip.Addr{}
			if bind {
				from = cl.Addr
			}
			cc.Version, cc.Suite, cc.Err = clientConn(ctx, from, ep, s, cc)
		}
	}
}

// dialer returns a dialer that binds from when it is valid.
func dialer(from netip.Addr, timeout time.Duration) *net.Dialer {
	d := &net.Dialer{Timeout: timeout}
	if from.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: from.AsSlice()}
	}
	return d
}

// canBind reports whether this system lets a socket bind a loopback
// address other than 127.0.0.1 (Linux does; macOS and others need an
// alias configured first).
func canBind() bool {
	ln, err := net.Listen("tcp", net.JoinHostPort(scannerAddr.String(), "0"))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// clientConn runs one client connection: connect, any STARTTLS dialogue
// (with tlsmap's own upgraders playing the client), the handshake, and a
// polite exchange afterwards.
func clientConn(ctx context.Context, from netip.Addr, ep Endpoint, s *Servers, cc *ClientConn) (uint16, uint16, error) {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	conn, err := dialer(from, clientTimeout).DialContext(ctx, "tcp", ep.Target.DialAddress())
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	if p, sc, ok := protocols.ForScheme(string(ep.Target.Protocol)); ok && sc.Form == protocols.STARTTLS {
		if _, err := p.Upgrade(ctx, conn, protocols.Options{ClientName: "client.demo.test", Timeout: clientTimeout}); err != nil {
			return 0, 0, err
		}
	}
	_ = conn.SetDeadline(deadline) // the upgraders clear it on return
	tc := tls.Client(conn, &tls.Config{
		ServerName:   ep.Target.Host,
		RootCAs:      s.Roots,
		MinVersion:   cc.Min,
		MaxVersion:   cc.Max,
		CipherSuites: cc.Suites,
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		return 0, 0, err
	}
	st := tc.ConnectionState()
	if err := afterHandshake(tc, ep); err != nil {
		return st.Version, st.CipherSuite, fmt.Errorf("after the handshake: %w", err)
	}
	return st.Version, st.CipherSuite, nil
}

// afterHandshake speaks the application protocol briefly and ends the
// session cleanly.
func afterHandshake(tc *tls.Conn, ep Endpoint) error {
	var send, want string
	switch ep.Target.Protocol {
	case scan.ProtoHTTPS:
		send = "GET / HTTP/1.1\r\nHost: " + ep.Target.Host + "\r\nUser-Agent: tlsmap-demo\r\nConnection: close\r\n\r\n"
		want = "HTTP/1.1 200 "
	case scan.ProtoSMTP:
		send, want = "QUIT\r\n", "221 "
	case scan.ProtoPOP3:
		send, want = "QUIT\r\n", "+OK"
	case scan.ProtoIMAPS:
		send, want = "a1 LOGOUT\r\n", "* OK"
	}
	if _, err := io.WriteString(tc, send); err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(tc, 64<<10))
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	if !strings.HasPrefix(string(b), want) {
		return fmt.Errorf("unexpected answer %q", firstLine(b))
	}
	_ = tc.Close()
	return nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(s)
}
