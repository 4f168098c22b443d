package sniff

// The prefix search: TLS after plaintext that no recogniser knows (an
// IRC or XMPP STARTTLS, a database's TLS request, a proxy dialogue of
// its own …). When a connection neither starts with TLS nor is claimed
// by a recogniser, each direction is scanned for the first TLS handshake
// record whose hello parses, within the first PrefixWindow bytes: the
// client's ClientHello (and the server's ServerHello after it) is the
// connection's TLS. Recognisers are asked first, so a named protocol
// always wins and labels precisely; a connection found by the search is
// labelled ProtocolTLSAfterPrefix and shows its first bytes.
//
// The search is a scan for the record type byte (0x16, IndexByte) with a
// strict check at each hit (tls.LooksLikeTLS, then a full parse of the
// hello): bytes are not kept unless a candidate is open, so a bulk flow
// that is not TLS costs one scan of its first PrefixWindow bytes per
// direction, then nothing.

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// DefaultPrefixWindow is the bytes of each direction searched for a
// hello after an unknown plaintext prefix.
const DefaultPrefixWindow = 64 << 10

// ProtocolTLSAfterPrefix is the Protocol of a flow whose TLS began after
// plaintext no recogniser knew.
const ProtocolTLSAfterPrefix = "tls-after-prefix"

// prefixShown is how many first bytes of the client stream a
// tls-after-prefix flow shows (Flow.Prefix).
const prefixShown = 32

// verdict is what the bytes at a candidate say: not a hello, not yet
// decided, or a hello that parses.
type verdict uint8

const (
	notHello verdict = iota
	moreBytes
	isHello
)

// helloAt judges b as the start of a TLS handshake record holding a
// ClientHello or ServerHello (RFC 8446 §5.1, §4.1.2, §4.1.3) of at most
// max bytes: the record header field by field, then tls.LooksLikeTLS, then
// the whole hello, reassembled across records and parsed.
func helloAt(b []byte, max int) (tls.HandshakeType, verdict) {
	// RFC 8446 §5.1: ContentType handshake (22), legacy_record_version
	// 3.x, a length of 1 to 2^14.
	switch {
	case len(b) >= 1 && b[0] != byte(tls.ContentHandshake),
		len(b) >= 2 && b[1] != 3,
		len(b) >= 3 && b[2] > 4:
		return 0, notHello
	case len(b) < 6:
		if len(b) == 5 {
			if n := int(b[3])<<8 | int(b[4]); n < 1 || n > tls.MaxPlaintext {
				return 0, notHello
			}
		}
		return 0, moreBytes
	}
	if !tls.LooksLikeTLS(b) {
		return 0, notHello
	}
	// The decoder reports the hello before any error in what follows it
	// (as it does on the connection's own stream).
	d := tls.NewDecoder(max)
	_, werr := d.Write(b)
	ev, err := d.Next()
	if errors.Is(err, tls.ErrNeedMore) {
		if werr != nil && !errors.Is(werr, tls.ErrNeedMore) || len(b) > max {
			return 0, notHello
		}
		return 0, moreBytes
	}
	if err != nil || ev.Kind != tls.EventHandshake {
		return 0, notHello
	}
	switch ev.HandshakeType {
	case tls.TypeClientHello:
		if _, err := tls.ParseClientHello(ev.Message); err == nil {
			return tls.TypeClientHello, isHello
		}
	case tls.TypeServerHello:
		if _, err := tls.ParseServerHello(ev.Message); err == nil {
			return tls.TypeServerHello, isHello
		}
	}
	return 0, notHello
}

// findHello returns the first candidate in b, at an index below limit,
// that is a hello or may still become one: its index and verdict, or -1.
func findHello(b []byte, limit, max int) (int, tls.HandshakeType, verdict) {
	for from := 0; from < len(b) && from < limit; {
		i := bytes.IndexByte(b[from:], byte(tls.ContentHandshake))
		if i < 0 || from+i >= limit {
			return -1, 0, notHello
		}
		i += from
		if t, v := helloAt(b[i:], max); v != notHello {
			return i, t, v
		}
		from = i + 1
	}
	return -1, 0, notHello
}

// helloScan searches one direction of a connection for its hello.
type helloScan struct {
	on    bool
	pos   int    // stream offset of buf[0] (or of the next byte, buf empty)
	buf   []byte // from the open (or found) candidate on
	found tls.HandshakeType
}

// write scans the next bytes p of the stream. It reports a hello found
// (scan.buf then holds the stream from its first byte) or the search over
// (no candidate before window).
func (sc *helloScan) write(p []byte, window, max int) (found, over bool) {
	if sc.found != 0 {
		// Found, the other direction not yet: keep what follows.
		if len(sc.buf)+len(p) > max {
			return true, true
		}
		sc.buf = append(sc.buf, p...)
		return true, false
	}
	b := p
	if len(sc.buf) > 0 {
		sc.buf = append(sc.buf, p...)
		b = sc.buf
	}
	i, t, v := findHello(b, window-sc.pos, max)
	if i < 0 {
		sc.pos += len(b)
		sc.buf = sc.buf[:0]
		return false, sc.pos >= window
	}
	// Keep b[i:]: the candidate and what follows it.
	if len(sc.buf) > 0 {
		sc.buf = sc.buf[:copy(sc.buf, sc.buf[i:])]
	} else {
		sc.buf = append(sc.buf[:0], b[i:]...)
	}
	sc.pos += i
	if v == isHello {
		sc.found = t
		return true, false
	}
	return false, false
}

// startSearch switches a connection no recogniser claimed to the prefix
// search, handing each direction's buffered prefix to its scan.
func (c *conn) startSearch(s *Sniffer) {
	if s.window <= 0 {
		c.finish(s)
		return
	}
	c.mode = modeSearch
	c.pfx = new([2][]byte)
	for side := 0; side < 2; side++ {
		h := &c.dir[side]
		buf := h.buf
		s.buffered -= len(buf)
		h.buf = nil
		if h.done {
			continue
		}
		// buf is the stream after any PROXY protocol header.
		h.scan = helloScan{on: true, pos: h.delivered - len(buf)}
		c.search(s, side, buf)
		if c.mode == modeDone {
			return
		}
	}
}

// search scans the next bytes of a direction still looking for its
// hello. A ClientHello found on either side starts TLS decoding (the
// connection is then TLS after a prefix); the other side goes on
// searching for its hello, unless it found it already.
func (c *conn) search(s *Sniffer, side int, p []byte) {
	h := &c.dir[side]
	if pf := &c.pfx[side]; len(*pf) < prefixShown {
		// The first bytes, for Flow.Prefix (cut at the hello in synced).
		*pf = append(*pf, p[:min(len(p), prefixShown-len(*pf))]...)
	}
	before := len(h.scan.buf)
	found, over := h.scan.write(p, s.window, s.cfg.MaxBuffer)
	s.buffered += len(h.scan.buf) - before
	if over {
		// Nothing in the window: this direction is not TLS after a
		// prefix (not a loss: the window is the search's bound).
		c.stopSide(s, side)
		c.checkDone(s)
		return
	}
	if !found {
		return
	}
	if c.mode == modeSearch {
		if h.scan.found != tls.TypeClientHello {
			return // a ServerHello: wait for the other side's ClientHello
		}
		c.mode = modeTLS
		c.tlsSeen, c.afterPrefix = true, true
		c.flowRec()
		c.setClient(side, 1)
		// The ClientHello's side first, then the other if it has its
		// hello already.
		c.synced(s, side)
		if o := &c.dir[1-side]; c.mode == modeTLS && o.scan.found != 0 && !o.done {
			c.synced(s, 1-side)
		}
		return
	}
	c.synced(s, side)
}

// synced ends the search of a direction whose hello was found: its
// decoder is fed from the hello's first byte on.
func (c *conn) synced(s *Sniffer, side int) {
	h := &c.dir[side]
	buf := h.scan.buf
	s.buffered -= len(buf)
	h.tlsStart = h.scan.pos
	if pf := &c.pfx[side]; len(*pf) > h.tlsStart-h.proxyLen {
		*pf = (*pf)[:max(0, h.tlsStart-h.proxyLen)]
	}
	h.scan = helloScan{}
	c.feed(s, side, buf)
}

// prefixString shows the first bytes of a stream: printable ASCII as it
// is, \r \n \t \\ escaped, anything else as \xNN.
func prefixString(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\\':
			sb.WriteString(`\\`)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	return sb.String()
}
