package sniff

import (
	"bytes"
	"errors"
	"net/netip"

	"github.com/tlsmap/tlsmap/protocols/proxyproto"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// ProxyHeader is what a PROXY protocol header at the start of a client's
// stream said (HAProxy's send-proxy and send-proxy-v2, AWS NLB, nginx's
// proxy_protocol …): the connection was relayed by a balancer for the
// client it names.
type ProxyHeader struct {
	// Version is 1 (text) or 2 (binary).
	Version uint8
	// Destination is the address the client connected to: the
	// balancer's frontend.
	Destination netip.AddrPort
	// Authority is the host name the client asked the balancer for (its
	// SNI; PP2_TYPE_AUTHORITY); UniqueID the balancer's connection id
	// (PP2_TYPE_UNIQUE_ID).
	Authority string
	UniqueID  []byte
	// SSL is true when the header carried a PP2_TYPE_SSL TLV: the
	// balancer terminated the client's connection and reports on it.
	// ClientTLS says the client used TLS to the balancer; TLSVersion and
	// TLSCipher are what the balancer reported, in its words (OpenSSL's
	// "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"), and Version the version
	// read from them (0 when the name is not one tlsmap knows).
	SSL                   bool
	ClientTLS             bool
	TLSVersion, TLSCipher string
	NegotiatedVersion     tls.Version
}

// proxyState is what detectProxy concluded.
type proxyState uint8

const (
	proxyNone     proxyState = iota // no header: detect the stream as it is
	proxyNeedMore                   // a header may be coming: wait
	proxyFound                      // a header was parsed and stripped
)

// detectProxy looks for a PROXY protocol header at the start of a
// direction's stream (the client's: the first bytes it ever sent). Found,
// the header is stripped from the buffered prefix, the direction becomes
// the client and the rest of the stream is detected as usual.
func (c *conn) detectProxy(s *Sniffer) proxyState {
	if c.proxyChecked {
		return proxyNone
	}
	sides := []int{0, 1}
	if c.client >= 0 && c.clientWhy > 0 {
		sides = []int{c.client}
	}
	waiting := false
	for _, side := range sides {
		h := &c.dir[side]
		if len(h.buf) == 0 || !h.synSeen || h.delivered != len(h.buf) {
			// Nothing yet, or not from the stream's start (a capture that
			// began mid-connection, or bytes already consumed).
			continue
		}
		hdr, n, err := proxyproto.Parse(h.buf)
		switch {
		case errors.Is(err, proxyproto.ErrNeedMore):
			waiting = true
			continue
		case err != nil:
			if errors.Is(err, proxyproto.ErrMalformed) {
				c.note("malformed PROXY protocol header: " + err.Error())
			}
			continue
		}
		c.proxyChecked = true
		h.proxyLen = n
		if hdr.Command != proxyproto.CommandProxy || !hdr.Source.IsValid() {
			// LOCAL (a health check) or UNKNOWN: the connection's own
			// endpoints stand.
			h.buf = bytes.Clone(h.buf[n:])
			s.buffered -= n
			return proxyFound
		}
		c.proxy = proxyInfo(hdr)
		c.proxySource = hdr.Source
		c.setClient(side, 2)
		h.buf = bytes.Clone(h.buf[n:])
		s.buffered -= n
		return proxyFound
	}
	if waiting {
		return proxyNeedMore
	}
	if len(c.dir[0].buf) > 0 || len(c.dir[1].buf) > 0 {
		c.proxyChecked = true
	}
	return proxyNone
}

// proxyInfo keeps what the flow record reports of a header.
func proxyInfo(h *proxyproto.Header) *ProxyHeader {
	p := &ProxyHeader{Version: uint8(h.Version), Destination: h.Destination, Authority: h.Authority, UniqueID: h.UniqueID}
	if ssl := h.SSL; ssl != nil {
		p.SSL = true
		p.ClientTLS = ssl.Client&proxyproto.ClientSSL != 0
		p.TLSVersion, p.TLSCipher = ssl.Version, ssl.Cipher
		if p.ClientTLS {
			p.NegotiatedVersion = opensslVersion(ssl.Version)
		}
	}
	return p
}

// opensslVersion reads the version names OpenSSL's SSL_get_version gives
// (which HAProxy puts in PP2_SUBTYPE_SSL_VERSION): "TLSv1" is TLS 1.0.
func opensslVersion(s string) tls.Version {
	if s == "TLSv1" {
		return tls.VersionTLS10
	}
	v, err := tls.ParseVersion(s)
	if err != nil {
		return 0
	}
	return v
}
