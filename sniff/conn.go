package sniff

import (
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// fillClientHello copies the client's offer into f; transport is JA4's
// (tls.JA4TCP, tls.JA4QUIC).
func fillClientHello(f *Flow, ch *tls.ClientHello, raw []byte, transport byte) {
	f.ClientHello = raw
	f.SNI = ch.ServerName
	f.ALPN = ch.ALPN
	f.SSLv2 = ch.SSLv2
	f.CipherSuites = ch.CipherSuites
	f.Groups = ch.SupportedGroups
	f.SignatureAlgorithms = ch.SignatureAlgorithms
	f.KeyShareGroups = ch.KeyShareGroups
	f.OfferedVersions = offeredVersions(ch)
	f.JA3Full, f.JA3 = ja3(ch)
	f.JA4 = ja4(ch, transport)
}

// offeredVersions is legacy_version plus supported_versions, GREASE
// removed, deduplicated, newest first.
func offeredVersions(ch *tls.ClientHello) []tls.Version {
	vs := make([]tls.Version, 0, 1+len(ch.SupportedVersions))
	add := func(v tls.Version) {
		if tls.IsGREASE(uint16(v)) {
			return
		}
		for _, w := range vs {
			if w == v {
				return
			}
		}
		vs = append(vs, v)
	}
	add(ch.Version)
	for _, v := range ch.SupportedVersions {
		add(tls.Version(v))
	}
	// Newest first: TLS 1.3, its drafts, TLS 1.2 … (tls.Version.Rank).
	slices.SortStableFunc(vs, func(a, b tls.Version) int { return b.Compare(a) })
	return vs
}

// buildFlow completes the Flow record of a connection.
func (c *conn) buildFlow(s *Sniffer) *Flow {
	f := c.flowRec()
	cl := c.client
	if cl < 0 {
		cl = 0
		// Guess: the side on the well-known (lower, < 1024) port is the
		// server.
		if c.addr[0].Port() < 1024 && c.addr[1].Port() >= 1024 {
			cl = 1
		}
	}
	f.Client, f.Server = c.addr[cl], c.addr[1-cl]
	if c.proxy != nil {
		f.Client, f.Via, f.Proxy = c.proxySource, c.addr[cl], c.proxy
	}
	if f.Alert != nil {
		if c.alertSide == cl {
			f.AlertFrom = "client"
		} else {
			f.AlertFrom = "server"
		}
	}
	f.StartTLS = c.starttls
	f.Protocol = c.protocol
	switch {
	case c.afterPrefix:
		f.Protocol = ProtocolTLSAfterPrefix
		f.Prefix = prefixString(c.pfx[cl])
	case c.tlsSeen && !c.starttls && c.target == "":
		f.Protocol = portProtocol(f.Server.Port())
	}
	if c.http != nil {
		f.Requests, f.RequestsMore = c.http.groups, c.http.more
	}
	if f.Protocol == "" && c.proxy != nil && c.proxy.ClientTLS {
		// The balancer terminated the client's TLS: the protocol is the
		// one of the port the client reached.
		f.Protocol = portProtocol(c.proxy.Destination.Port())
	}
	f.ProxyTarget = c.target
	f.FirstSeen, f.LastSeen = unixTime(c.first), unixTime(c.last)
	f.Packets, f.Bytes = c.packets, c.bytes
	notes := c.notes
	if !c.synSeen && !c.dir[0].synSeen && !c.dir[1].synSeen && f.ClientHello == nil {
		notes = append([]string{"capture started mid-connection"}, notes...)
	}
	for side := 0; side < 2; side++ {
		if len(c.dir[side].pending) > 0 {
			notes = append(notes, s.sideName(c, side, "gap in ", " stream"))
		}
	}
	f.Truncated = strings.Join(notes, "; ")
	return f
}
