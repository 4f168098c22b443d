package sniff

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/proxyproto"
)

// forwardedRequests are four requests a TLS-terminating balancer
// forwarded on one kept-alive connection: bodies framed by
// Content-Length and chunked, the headers in any case.
const forwardedRequests = "GET / HTTP/1.1\r\nHost: www.example.test\r\nX-Forwarded-For: 198.51.100.7\r\nX-SSL-Protocol: TLSv1\r\nUser-Agent: old/1.0\r\n\r\n" +
	"POST /form HTTP/1.1\r\nhost: www.example.test\r\nx-forwarded-for: 203.0.113.5, 198.51.100.8\r\nx-ssl-protocol: TLSv1.3\r\nContent-Length: 11\r\n\r\nhello=world" +
	"POST /up HTTP/1.1\r\nHost: www.example.test\r\nForwarded: for=\"[2001:db8::7]:4711\";proto=https\r\nX-SSL-Protocol: TLSv1.2\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nGET /\r\n3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n" +
	"GET /again HTTP/1.1\r\nHost: www.example.test\r\nX-Forwarded-For: 198.51.100.7\r\nX-SSL-Protocol: TLSv1\r\nUser-Agent: old/1.0\r\n\r\n"

func TestHTTPForwarded(t *testing.T) {
	for _, mss := range []int{1400, 9, 1} {
		c := newConv(t, "eth", balancer, backend)
		c.handshake()
		c.send(true, []byte(forwardedRequests), mss)
		c.send(false, []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 1400)
		flows, _ := run(t, Config{HTTPForwarded: true, TLSHeader: "X-SSL-Protocol"}, 1, c.pkts)
		if len(flows) != 1 {
			t.Fatalf("mss %d: %d flows", mss, len(flows))
		}
		f := flows[0]
		var got []string
		for _, r := range f.Requests {
			got = append(got, fmt.Sprintf("%s %s %q %s/%x ×%d", r.Client, r.Host, r.UserAgent, r.TLSVersion, uint16(r.Version), r.Count))
		}
		want := []string{
			`198.51.100.7 www.example.test "old/1.0" TLSv1/301 ×2`,
			`198.51.100.8 www.example.test "" TLSv1.3/304 ×1`,
			`2001:db8::7 www.example.test "" TLSv1.2/303 ×1`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("mss %d: requests\n%s\nwant\n%s", mss, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if f.Protocol != "http" || f.Client != balancer {
			t.Errorf("mss %d: protocol %q client %v", mss, f.Protocol, f.Client)
		}
	}
}

// TestHTTPForwardedOff: without the option a plaintext HTTP connection is
// not followed.
func TestHTTPForwardedOff(t *testing.T) {
	c := newConv(t, "eth", balancer, backend)
	c.handshake()
	c.send(true, []byte(forwardedRequests), 1400)
	flows, _ := run(t, Config{}, 1, c.pkts)
	if len(flows) != 0 {
		t.Errorf("%d flows: %+v", len(flows), flows[0])
	}
}

// TestHTTPAfterProxy: PROXY v1 then HTTP (a balancer in TCP mode with
// send-proxy in front of a plain web server): the header's client is the
// peer the forwarded-for lists are read against, and a list that ends in
// the peer's own address (a proxy that appends itself) names the one
// before it.
func TestHTTPAfterProxy(t *testing.T) {
	hdr, _ := proxyproto.New(proxyproto.V1, realClient, frontend).Marshal()
	c := newConv(t, "eth", balancer, backend)
	c.handshake()
	c.send(true, append(hdr, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.99, 198.51.100.7\r\n\r\n"...), 1400)
	flows, _ := run(t, Config{HTTPForwarded: true, ProxyProtocol: true}, 1, c.pkts)
	if len(flows) != 1 || flows[0].Client != realClient || len(flows[0].Requests) != 1 ||
		flows[0].Requests[0].Client != netip.MustParseAddr("192.0.2.99") {
		for _, f := range flows {
			t.Errorf("%+v %+v", f, f.Requests)
		}
	}
}

// TestHTTPBadStream: a body longer than announced puts the scan out of
// step; it stops instead of misreading the rest.
func TestHTTPBadStream(t *testing.T) {
	c := newConv(t, "eth", balancer, backend)
	c.handshake()
	c.send(true, []byte("POST / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.1\r\nContent-Length: 2\r\n\r\nabcdef\r\n\r\nGET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.2\r\n\r\n"), 1400)
	flows, _ := run(t, Config{HTTPForwarded: true}, 1, c.pkts)
	if len(flows) != 1 || len(flows[0].Requests) != 1 || flows[0].Requests[0].Client != netip.MustParseAddr("198.51.100.1") {
		t.Errorf("%+v", flows[0].Requests)
	}
}
