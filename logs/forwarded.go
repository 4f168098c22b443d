package logs

import (
	"bytes"
	"net/netip"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// forwarded emits o, a request the server received from peer, and
// attributes it to the client a forwarded-for header names (the
// right-most address that is not one of Config.Balancers: the one the
// nearest balancer saw; entries to its left are the client's own claims).
//
// When a balancer forwarded the request, the server's own TLS facts are
// those of the balancer's connection to it, not the client's: they are
// emitted as the balancer's (a legacy balancer-to-server leg is a legacy
// client of this server), and the client behind it is emitted with the
// TLS version the balancer reported in the TLS header (tlsVersion, when
// logged), else as unknown — its connection to the balancer is not in
// this log.
func forwarded(o *evidence.Observation, peer netip.Addr, xff, fwd []byte, e *env) {
	client, _ := forwardedFor(xff, fwd, peer, e)
	attribute(o, peer, client, 0, false, e)
}

// attribute emits o as received from peer on behalf of client (invalid,
// or peer itself, when no one else is named); hdrTLS says the balancer
// reported the client's TLS version hdrVersion in a header.
func attribute(o *evidence.Observation, peer, client netip.Addr, hdrVersion tls.Version, hdrTLS bool, e *env) {
	if !client.IsValid() || client == peer {
		o.Client = peer
		if hdrTLS && o.Transport != evidence.TransportTLS {
			o.Transport, o.Version = evidence.TransportTLS, hdrVersion
		}
		e.emit(o)
		return
	}
	if o.Transport == evidence.TransportTLS {
		leg := *o
		leg.Client = peer
		e.emit(&leg)
	}
	o.Client, o.Via = client, peer
	o.Cipher = evidence.Cipher{}
	if hdrTLS {
		o.Transport, o.Version = evidence.TransportTLS, hdrVersion
	} else {
		o.Transport, o.Version = evidence.TransportUnknown, 0
	}
	e.emit(o)
}

// forwardedFor returns the client an X-Forwarded-For list ("client,
// proxy1, proxy2") or a Forwarded header (RFC 7239 §4: for= parameters,
// IPv6 in quotes and brackets, perhaps with a port) names: read from the
// right, the first address that is neither a known balancer nor peer
// itself. ok is false when neither header names an address.
func forwardedFor(xff, fwd []byte, peer netip.Addr, e *env) (netip.Addr, bool) {
	var last netip.Addr
	found := false
	visit := func(a netip.Addr) bool {
		if a == peer {
			return false
		}
		last, found = a, true
		return !e.isBalancer(a)
	}
	if len(fwd) > 0 {
		for len(fwd) > 0 {
			var elem []byte
			if i := bytes.LastIndexByte(fwd, ','); i >= 0 {
				elem, fwd = fwd[i+1:], fwd[:i]
			} else {
				elem, fwd = fwd, nil
			}
			a, ok := forwardedElement(elem)
			if !ok {
				break
			}
			if visit(a) {
				return a, true
			}
		}
		if found {
			return last, true
		}
	}
	for len(xff) > 0 {
		var item []byte
		if i := bytes.LastIndexByte(xff, ','); i >= 0 {
			item, xff = xff[i+1:], xff[:i]
		} else {
			item, xff = xff, nil
		}
		item = bytes.Trim(item, " +\t")
		ap, ok := parseAddrPort(item)
		if !ok {
			break // "unknown", an obfuscated name: nothing further left is trusted
		}
		if visit(ap.Addr()) {
			return ap.Addr(), true
		}
	}
	return last, found
}

// forwardedElement reads the for= parameter of one Forwarded element
// ("for=192.0.2.60;proto=https;by=203.0.113.43", `for="[2001:db8::1]:4711"`).
func forwardedElement(elem []byte) (netip.Addr, bool) {
	for len(elem) > 0 {
		var pair []byte
		pair, elem, _ = nextField(elem, ';')
		pair = bytes.Trim(pair, " +\t")
		if len(pair) < 4 || !hasPrefixFold(pair, "FOR=") {
			continue
		}
		v := bytes.Trim(pair[4:], `"`)
		ap, ok := parseAddrPort(v)
		if !ok {
			return netip.Addr{}, false
		}
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}
