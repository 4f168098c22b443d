package sniff

import (
	"bytes"
	"net/netip"
	"strconv"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// A balancer that terminates TLS and forwards plain HTTP to a backend
// names the client in X-Forwarded-For or Forwarded (RFC 7239), and may
// report the client's TLS version in a header of its own (HAProxy's and
// nginx's usual "X-SSL-Protocol: TLSv1.2"). On such a connection the
// sniffer reads every request head (RFC 9112 §2–§7: a request line,
// header lines, an empty line, then a body framed by Content-Length or
// chunked), skips the bodies without buffering them, and groups the
// requests by what they say of their client.

// ForwardedRequest is a group of requests of one plaintext HTTP connection
// that name the same client, host, user agent and TLS report.
type ForwardedRequest struct {
	// Client is the address X-Forwarded-For or Forwarded named (read from
	// the right: the one the nearest balancer saw); invalid when the
	// requests named none.
	Client netip.Addr
	// Host and UserAgent are the requests' Host and User-Agent.
	Host, UserAgent string
	// TLSVersion is the Config.TLSHeader value, as sent ("TLSv1.2"); ""
	// when absent. Version is the version it names (0 when unknown).
	TLSVersion string
	Version    tls.Version
	Count      int
}

// Bounds of the HTTP scan of one connection.
const (
	maxHTTPHead     = 16 << 10 // a request head longer than this stops the scan
	maxHTTPRequests = 1 << 16  // requests read per connection
	maxHTTPGroups   = 32       // distinct ForwardedRequests kept; more are counted in Flow.RequestsMore
)

// httpScan reads the client's byte stream of a plaintext HTTP connection.
type httpScan struct {
	tlsHeader []byte // Config.TLSHeader
	carry     []byte // a request head not yet complete
	skip      int64  // body bytes still to skip (Content-Length)
	chunked   bool   // in a chunked body
	chunkLeft int64  // bytes left of the current chunk (+2 for its CRLF)
	trailers  bool   // after the last chunk: trailer lines until an empty one
	requests  int
	groups    []ForwardedRequest
	more      int
	stopped   bool
	peer      netip.Addr // the connection's own client
}

// looksLikeHTTP reports whether b starts with an HTTP/1 request line: a
// method token, a space, a target and " HTTP/1." before the first CRLF.
// need is true when b is too short to tell.
func looksLikeHTTP(b []byte) (yes, need bool) {
	i := 0
	for i < len(b) && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i == len(b) {
		return false, i < 16
	}
	if i == 0 || b[i] != ' ' {
		return false, false
	}
	eol := bytes.Index(b, []byte("\r\n"))
	if eol < 0 {
		return false, len(b) < 8192
	}
	return isRequestLine(b[:eol]), false
}

// isRequestLine reports whether line is "METHOD target HTTP/1.x" (RFC
// 9112 §3), CONNECT excluded: a tunnel's TLS is the recognisers' to
// find.
func isRequestLine(line []byte) bool {
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(method) == 0 || string(method) == "CONNECT" {
		return false
	}
	for _, c := range method {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	i := bytes.LastIndexByte(rest, ' ')
	return i > 0 && bytes.HasPrefix(rest[i+1:], []byte("HTTP/1."))
}

// feed reads the next bytes of the client's stream.
func (h *httpScan) feed(p []byte) {
	for len(p) > 0 && !h.stopped {
		switch {
		case h.skip > 0:
			n := min(int64(len(p)), h.skip)
			h.skip -= n
			p = p[n:]
		case h.chunked:
			p = h.chunk(p)
		default:
			p = h.head(p)
		}
	}
}

// head gathers a request head and reads it; it returns the bytes after.
func (h *httpScan) head(p []byte) []byte {
	buf := p
	if len(h.carry) > 0 {
		h.carry = append(h.carry, p...)
		buf = h.carry
	}
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > maxHTTPHead {
			h.stopped = true
			return nil
		}
		if len(h.carry) == 0 {
			h.carry = append(h.carry, p...)
		}
		return nil
	}
	consumed := end + 4
	rest := buf[consumed:]
	h.request(buf[:end+2])
	if len(h.carry) > 0 {
		// rest aliases carry: keep it apart from the next append.
		rest = append([]byte(nil), rest...)
		h.carry = h.carry[:0]
	}
	return rest
}

// request reads one head (request line and header lines, each ending in
// CRLF).
func (h *httpScan) request(head []byte) {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !isRequestLine(line) {
		h.stopped = true // not a request: out of step with the stream
		return
	}
	h.requests++
	if h.requests > maxHTTPRequests {
		h.stopped = true
		return
	}
	var host, ua, xff, fwd, tlsv []byte
	var length int64
	chunked := false
	for len(rest) > 0 {
		var hl []byte
		hl, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(hl, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch n := bytes.TrimSpace(name); {
		case bytes.EqualFold(n, []byte("host")):
			host = value
		case bytes.EqualFold(n, []byte("user-agent")):
			ua = value
		case bytes.EqualFold(n, []byte("x-forwarded-for")):
			if len(xff) > 0 {
				xff = append(append(append([]byte(nil), xff...), ','), value...)
			} else {
				xff = value
			}
		case bytes.EqualFold(n, []byte("forwarded")):
			fwd = value
		case bytes.EqualFold(n, []byte("content-length")):
			if v, err := strconv.ParseInt(string(value), 10, 64); err == nil && v >= 0 {
				length = v
			}
		case bytes.EqualFold(n, []byte("transfer-encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case len(h.tlsHeader) > 0 && bytes.EqualFold(n, h.tlsHeader):
			tlsv = value
		}
	}
	// RFC 9112 §6.3: chunked framing wins over Content-Length.
	if chunked {
		h.chunked, h.chunkLeft = true, -1
	} else {
		h.skip = length
	}
	h.group(forwardedClient(xff, fwd, h.peer), host, ua, tlsv)
}

// group counts a request in its group.
func (h *httpScan) group(client netip.Addr, host, ua, tlsv []byte) {
	for i := range h.groups {
		g := &h.groups[i]
		if g.Client == client && g.Host == string(host) && g.UserAgent == string(ua) && g.TLSVersion == string(tlsv) {
			g.Count++
			return
		}
	}
	if len(h.groups) >= maxHTTPGroups {
		h.more++
		return
	}
	g := ForwardedRequest{Client: client, Host: string(host), UserAgent: string(ua), TLSVersion: string(tlsv), Count: 1}
	if len(tlsv) > 0 {
		g.Version = opensslVersion(g.TLSVersion)
	}
	h.groups = append(h.groups, g)
}

// chunk skips chunked body bytes (RFC 9112 §7.1): size lines in hex,
// chunk data and its CRLF, then a last chunk of size 0 and trailer lines
// up to an empty line.
func (h *httpScan) chunk(p []byte) []byte {
	for len(p) > 0 {
		if h.chunkLeft > 0 {
			n := min(int64(len(p)), h.chunkLeft)
			h.chunkLeft -= n
			p = p[n:]
			if h.chunkLeft == 0 {
				h.chunkLeft = -1
			}
			continue
		}
		// A line: a chunk size, or a trailer.
		buf := p
		if len(h.carry) > 0 {
			h.carry = append(h.carry, p...)
			buf = h.carry
		}
		eol := bytes.Index(buf, []byte("\r\n"))
		if eol < 0 {
			if len(buf) > 1024 {
				h.stopped = true
				return nil
			}
			if len(h.carry) == 0 {
				h.carry = append(h.carry, p...)
			}
			return nil
		}
		line := buf[:eol]
		rest := buf[eol+2:]
		if len(h.carry) > 0 {
			rest = append([]byte(nil), rest...)
			h.carry = h.carry[:0]
		}
		p = rest
		switch {
		case h.trailers:
			if len(line) == 0 {
				h.chunked, h.trailers = false, false
				return p
			}
		case len(line) == 0 && h.chunkLeft == -1:
			// The CRLF after a chunk's data.
		default:
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i] // chunk extensions
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil || size < 0 {
				h.stopped = true
				return nil
			}
			if size == 0 {
				h.trailers = true
				continue
			}
			h.chunkLeft = size
		}
	}
	return p
}

// forwardedClient reads the client an X-Forwarded-For list or a Forwarded
// header names, from the right, skipping peer itself (a balancer that
// lists its own address); invalid when none parses.
func forwardedClient(xff, fwd []byte, peer netip.Addr) netip.Addr {
	for len(fwd) > 0 {
		var elem []byte
		if i := bytes.LastIndexByte(fwd, ','); i >= 0 {
			elem, fwd = fwd[i+1:], fwd[:i]
		} else {
			elem, fwd = fwd, nil
		}
		for _, pair := range bytes.Split(elem, []byte(";")) {
			pair = bytes.TrimSpace(pair)
			if len(pair) > 4 && bytes.EqualFold(pair[:4], []byte("for=")) {
				if a, ok := hostAddr(bytes.Trim(pair[4:], `"`)); ok && a != peer {
					return a
				}
			}
		}
	}
	for len(xff) > 0 {
		var item []byte
		if i := bytes.LastIndexByte(xff, ','); i >= 0 {
			item, xff = xff[i+1:], xff[:i]
		} else {
			item, xff = xff, nil
		}
		a, ok := hostAddr(bytes.TrimSpace(item))
		if !ok {
			return netip.Addr{}
		}
		if a != peer {
			return a
		}
	}
	return netip.Addr{}
}

// hostAddr reads "192.0.2.1", "192.0.2.1:4711", "[2001:db8::1]:4711" or
// "2001:db8::1".
func hostAddr(b []byte) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(string(b)); err == nil {
		return ap.Addr().Unmap(), true
	}
	s := string(bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("[")), []byte("]")))
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// startHTTP switches the connection to reading the requests of side's
// stream (the client's); the other direction is not needed.
func (c *conn) startHTTP(s *Sniffer, side int) {
	c.mode = modeHTTP
	c.protocol = "http"
	c.setClient(side, 1)
	c.http = &httpScan{tlsHeader: []byte(s.cfg.TLSHeader), peer: c.addr[side].Addr()}
	if c.proxy != nil {
		c.http.peer = c.proxySource.Addr()
	}
	h := &c.dir[side]
	buf := h.buf
	s.buffered -= len(buf)
	h.buf = nil
	c.stopSide(s, 1-side)
	c.http.feed(buf)
	s.buffered += len(c.http.carry) // a head still incomplete, held as deliver holds it
}
