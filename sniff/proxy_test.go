package sniff

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/proxyproto"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

var (
	balancer   = netip.MustParseAddrPort("10.0.0.9:41000")
	backend    = netip.MustParseAddrPort("10.0.0.2:8443")
	realClient = netip.MustParseAddrPort("198.51.100.7:55555")
	frontend   = netip.MustParseAddrPort("203.0.113.1:443")
)

// proxied builds a connection from the balancer to the backend whose
// client stream starts with hdr, then carries the client's bytes in
// segments of mss.
func proxied(t *testing.T, hdr *proxyproto.Header, client []byte, server []byte, mss int) [][]byte {
	t.Helper()
	b, err := hdr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c := newConv(t, "eth", balancer, backend)
	c.handshake()
	c.send(true, append(b, client...), mss)
	if server != nil {
		c.send(false, server, 1400)
		c.send(true, ccsRecord, 1400)
	}
	return c.pkts
}

// TestProxyV1ThenTLS: a balancer passing TLS through (send-proxy): the
// ClientHello after the header is the client's own.
func TestProxyV1ThenTLS(t *testing.T) {
	ch, sh := testHellos(t, 0)
	for _, mss := range []int{1400, 7} { // the header alone, and cut across segments
		pkts := proxied(t, proxyproto.New(proxyproto.V1, realClient, frontend), ch, sh, mss)
		flows, _ := run(t, Config{ProxyProtocol: true}, 1, pkts)
		if len(flows) != 1 {
			t.Fatalf("mss %d: %d flows", mss, len(flows))
		}
		f := flows[0]
		if f.Client != realClient || f.Via != balancer || f.Server != backend {
			t.Errorf("mss %d: client %v via %v server %v", mss, f.Client, f.Via, f.Server)
		}
		if f.Proxy == nil || f.Proxy.Version != 1 || f.Proxy.Destination != frontend {
			t.Errorf("mss %d: proxy %+v", mss, f.Proxy)
		}
		if f.Version != tls.VersionTLS11 || f.SNI != "example.test" || !IsLegacy(f) {
			t.Errorf("mss %d: version %s sni %q", mss, f.Version, f.SNI)
		}
	}
	// Without PROXY support the flow is the balancer's: the prefix
	// search still finds the hello after the header, and shows it.
	flows, _ := run(t, Config{}, 1, proxied(t, proxyproto.New(proxyproto.V1, realClient, frontend), ch, sh, 1400))
	if len(flows) != 1 {
		t.Fatalf("without PROXY support: %d flows", len(flows))
	}
	if f := flows[0]; f.Client == realClient || f.Protocol != ProtocolTLSAfterPrefix || !strings.HasPrefix(f.Prefix, "PROXY TCP4 ") || f.SNI != "example.test" {
		t.Errorf("without PROXY support: client %v protocol %s prefix %q sni %q", f.Client, f.Protocol, f.Prefix, f.SNI)
	}
}

// TestProxyV2SSL: a balancer that terminates TLS and forwards plaintext
// (send-proxy-v2-ssl): the client's TLS is the SSL TLV's report.
func TestProxyV2SSL(t *testing.T) {
	h := proxyproto.New(proxyproto.V2, realClient, frontend)
	h.Authority = "www.example.test"
	h.UniqueID = []byte{1, 2, 3}
	h.SSL = &proxyproto.SSL{Client: proxyproto.ClientSSL, Version: "TLSv1", Cipher: "ECDHE-RSA-AES256-SHA"}
	pkts := proxied(t, h, []byte("GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"), 1400)
	flows, _ := run(t, Config{ProxyProtocol: true}, 1, pkts)
	if len(flows) != 1 {
		t.Fatalf("%d flows", len(flows))
	}
	f := flows[0]
	p := f.Proxy
	if f.Client != realClient || f.Via != balancer || p == nil || !p.SSL || !p.ClientTLS ||
		p.TLSVersion != "TLSv1" || p.TLSCipher != "ECDHE-RSA-AES256-SHA" || p.Authority != "www.example.test" {
		t.Fatalf("flow %+v proxy %+v", f, p)
	}
	if f.NegotiatedVersion() != tls.VersionTLS10 || !f.HasTLS() || !IsLegacy(f) || f.Protocol != "https" {
		t.Errorf("negotiated %s, legacy %v, protocol %q", f.NegotiatedVersion(), IsLegacy(f), f.Protocol)
	}
	r := NewReport(ReportConfig{})
	r.Add(f)
	if cs := r.Clients(); len(cs) != 1 || cs[0].Client != realClient.Addr() {
		t.Errorf("report: %+v", cs)
	}
	// A plaintext client behind the same balancer: the TLV says so.
	h.SSL = &proxyproto.SSL{}
	flows, _ = run(t, Config{ProxyProtocol: true}, 1, proxied(t, h, []byte("GET / HTTP/1.1\r\n\r\n"), nil, 1400))
	if len(flows) != 1 || flows[0].HasTLS() || flows[0].Client != realClient {
		t.Errorf("plaintext client: %+v", flows[0])
	}
}

// TestProxyLocal: a LOCAL header (a health check) keeps the connection's
// own endpoints.
func TestProxyLocal(t *testing.T) {
	ch, sh := testHellos(t, 0)
	pkts := proxied(t, &proxyproto.Header{Version: proxyproto.V2, Command: proxyproto.CommandLocal}, ch, sh, 1400)
	flows, _ := run(t, Config{ProxyProtocol: true}, 1, pkts)
	if len(flows) != 1 || flows[0].Client != balancer || flows[0].Via.IsValid() || flows[0].Version != tls.VersionTLS11 {
		t.Errorf("%+v", flows)
	}
}

// TestProxyNotAtStart: "PROXY " anywhere but the first bytes of the
// stream is data, and a malformed header is noted and left alone.
func TestProxyNotAtStart(t *testing.T) {
	c := newConv(t, "eth", balancer, backend)
	c.handshake()
	c.send(true, []byte("PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"), 1400)
	flows, _ := run(t, Config{ProxyProtocol: true, AllFlows: true}, 1, c.pkts)
	if len(flows) != 1 || flows[0].Client != balancer || flows[0].Proxy != nil {
		t.Errorf("%+v", flows)
	}
}
