package sniff

import (
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// detect looks at the buffered prefixes: TLS from the first byte, or a
// plaintext protocol that upgrades.
func (c *conn) detect(s *Sniffer) {
	if s.cfg.ProxyProtocol {
		switch c.detectProxy(s) {
		case proxyNeedMore:
			return
		case proxyFound:
			if len(c.dir[0].buf) == 0 && len(c.dir[1].buf) == 0 {
				return // the header came alone: wait for what follows it
			}
		}
	}
	a, b := c.dir[0].buf, c.dir[1].buf
	if tls.LooksLikeTLS(a) || tls.LooksLikeSSLv2(a) || tls.LooksLikeTLS(b) || tls.LooksLikeSSLv2(b) {
		c.startTLS(s, 0, 0, "")
		return
	}
	if (len(a) > 0 || len(b) > 0) && tls.MaybeTLS(a) && tls.MaybeTLS(b) {
		// Both could still turn into TLS: wait for more bytes.
		return
	}
	if s.cfg.HTTPForwarded {
		side := 0
		if c.client >= 0 {
			side = c.client
		}
		if h := &c.dir[side]; h.delivered == len(h.buf)+h.proxyLen {
			yes, need := looksLikeHTTP(h.buf)
			if yes {
				c.startHTTP(s, side)
				return
			}
			if need && len(c.dir[1-side].buf) == 0 {
				return // a request line may be coming
			}
		}
	}
	// Recognisers, in the known orientation, else both.
	orients := [2]int{0, 1}
	n := 2
	if c.client >= 0 && c.clientWhy > 0 {
		orients[0], n = c.client, 1
	} else if c.client == 1 {
		orients = [2]int{1, 0}
	}
	all := true // every recogniser said NotThis
	for _, r := range s.cfg.Recognizers {
		for i := 0; i < n; i++ {
			cl := orients[i]
			rec := r(c.dir[cl].buf, c.dir[1-cl].buf)
			switch rec.State {
			case protocols.Upgraded:
				c.setClient(cl, 1)
				// A proxy's tunnel names its destination; anything else
				// is a STARTTLS.
				c.protocol, c.starttls, c.target = rec.Protocol, rec.Target == "", rec.Target
				off := [2]int{}
				off[cl], off[1-cl] = rec.ClientOffset, rec.ServerOffset
				c.startTLS(s, off[0], off[1], rec.Protocol)
				return
			case protocols.Plaintext:
				c.protocol = rec.Protocol
				all = false
				if c.clientWhy == 0 {
					c.setClient(cl, 0)
				}
			case protocols.NeedMore:
				all = false
			}
		}
	}
	if all {
		if c.midStreamFirst() {
			// One segment of a connection joined mid-stream: the next may
			// be the bytes before it (reordered), which prepend puts in
			// front; decide then.
			return
		}
		c.startSearch(s)
	}
}

// startTLS switches to TLS decoding at the given offsets of the buffered
// prefixes.
func (c *conn) startTLS(s *Sniffer, off0, off1 int, proto string) {
	c.mode = modeTLS
	c.tlsSeen = true
	c.flowRec()
	offs := [2]int{off0, off1}
	for side := 0; side < 2; side++ {
		h := &c.dir[side]
		buf := h.buf
		s.buffered -= len(buf)
		h.buf = nil
		if h.done {
			continue
		}
		if offs[side] < 0 || offs[side] > len(buf) {
			offs[side] = len(buf)
		}
		if p := buf[offs[side]:]; len(p) > 0 {
			c.feed(s, side, p)
		}
		if c.mode != modeTLS {
			return
		}
	}
}

// midStreamFirst reports whether the connection was joined mid-stream (no
// SYN) and what it buffered came in a single segment of one direction.
func (c *conn) midStreamFirst() bool {
	if c.synSeen {
		return false
	}
	n := 0
	for side := range c.dir {
		h := &c.dir[side]
		if h.synSeen {
			return false
		}
		n += h.pieces
	}
	return n == 1
}
