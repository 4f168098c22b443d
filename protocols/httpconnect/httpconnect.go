// Package httpconnect recognises TLS carried through an HTTP proxy's
// CONNECT tunnel (RFC 9110 §9.3.6): the client asks the proxy to open a
// tunnel to host:port, the proxy answers 2xx, and from then on the
// connection carries the client's TLS with that destination. It is
// sniff's only: a tunnel is not a scan target, so the Protocol has
// Recognize alone (no scheme, no Upgrade).
package httpconnect

import (
	"bytes"
	"strconv"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Name is the protocol's name in recognitions and flows.
const Name = "http-connect"

// Protocol describes HTTP CONNECT tunnels for the registry.
var Protocol = &protocols.Protocol{
	Name:        Name,
	ClientFirst: true,
	Recognize:   Recognize,
}

// Limits of what Recognize reads: a header line (RFC 9112 §2.3 leaves it
// to the implementation; proxies allow 8 to 64 KiB for a whole header
// block) and the fields of one message.
const (
	maxLine   = 8 << 10
	maxFields = 128
)

// lineState is what the bytes at a position hold: a line, not yet a
// whole line, or something that is not an HTTP line.
type lineState uint8

const (
	lineOK lineState = iota
	lineMore
	lineBad
)

// readLine returns the line at pos without its CRLF (a bare LF is
// accepted, RFC 9112 §2.2), and the offset after it.
func readLine(b []byte, pos int) ([]byte, int, lineState) {
	rest := b[pos:]
	i := bytes.IndexByte(rest[:min(len(rest), maxLine)], '\n')
	line := rest
	if i >= 0 {
		line = rest[:i]
	}
	for _, c := range line {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return nil, pos, lineBad
		}
	}
	if i < 0 {
		if len(rest) >= maxLine {
			return nil, pos, lineBad
		}
		return nil, pos, lineMore
	}
	return bytes.TrimSuffix(line, []byte("\r")), pos + i + 1, lineOK
}

// header is what Recognize needs of a message's header section.
type header struct {
	end           int // offset after the empty line that ends it
	contentLength int // -1 when absent
	chunked       bool
}

// readFields reads header fields (RFC 9112 §5) from pos up to and
// including the empty line.
func readFields(b []byte, pos int) (header, lineState) {
	h := header{contentLength: -1}
	for n := 0; ; n++ {
		line, next, st := readLine(b, pos)
		if st != lineOK {
			return h, st
		}
		pos = next
		if len(line) == 0 {
			h.end = pos
			return h, lineOK
		}
		if n >= maxFields {
			return h, lineBad
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			return h, lineBad
		}
		value = bytes.TrimSpace(value)
		switch string(bytes.ToLower(name)) {
		case "content-length":
			v, err := strconv.Atoi(string(value))
			if err != nil || v < 0 {
				return h, lineBad
			}
			h.contentLength = v
		case "transfer-encoding":
			// RFC 9112 §6.1: chunked is the final coding when present.
			codings := bytes.Split(bytes.ToLower(value), []byte(","))
			h.chunked = string(bytes.TrimSpace(codings[len(codings)-1])) == "chunked"
		}
	}
}

// request is one CONNECT request of the client.
type request struct {
	target []byte
	end    int
}

// readRequest reads a CONNECT request at pos: request-line (RFC 9112
// §3: method SP request-target SP HTTP-version) with the method CONNECT
// and an authority-form target (§3.2.3), then its header section. A
// CONNECT request has no content (RFC 9110 §9.3.6).
func readRequest(b []byte, pos int) (request, lineState) {
	const method = "CONNECT "
	if rest := b[pos:]; !bytes.HasPrefix(rest, []byte(method)[:min(len(rest), len(method))]) {
		return request{}, lineBad
	}
	line, next, st := readLine(b, pos)
	if st != lineOK {
		return request{}, st
	}
	parts := bytes.Split(line, []byte(" "))
	if len(parts) != 3 || !isVersion(parts[2]) || len(parts[1]) == 0 || bytes.IndexByte(parts[1], ':') < 0 {
		return request{}, lineBad
	}
	h, st := readFields(b, next)
	if st != lineOK {
		return request{}, st
	}
	return request{target: parts[1], end: h.end}, lineOK
}

// isVersion reports whether v is HTTP/1.0 or HTTP/1.1 (RFC 9112 §2.3;
// HTTP/2 and HTTP/3 have CONNECT too, but not in this framing).
func isVersion(v []byte) bool {
	return string(v) == "HTTP/1.1" || string(v) == "HTTP/1.0"
}

// response is one response of the proxy.
type response struct {
	status int
	line   []byte
	end    int // after the header section
	next   int // after the body, where the next response starts; -1: the body runs to the end of the connection
}

// readResponse reads a response at pos: status-line (RFC 9112 §4), the
// header section, and the body as its framing says (§6.3).
func readResponse(b []byte, pos int) (response, lineState) {
	const prefix = "HTTP/1."
	if rest := b[pos:]; !bytes.HasPrefix(rest, []byte(prefix)[:min(len(rest), len(prefix))]) {
		return response{}, lineBad
	}
	line, next, st := readLine(b, pos)
	if st != lineOK {
		return response{}, st
	}
	version, rest, _ := bytes.Cut(line, []byte(" "))
	code, _, _ := bytes.Cut(rest, []byte(" "))
	status, err := strconv.Atoi(string(code))
	if !isVersion(version) || len(code) != 3 || err != nil || status < 100 {
		return response{}, lineBad
	}
	h, st := readFields(b, next)
	if st != lineOK {
		return response{}, st
	}
	r := response{status: status, line: line, end: h.end, next: h.end}
	switch {
	case status/100 == 1 || status/100 == 2 || status == 204 || status == 304:
		// No body: an interim response, the tunnel (RFC 9110 §9.3.6: a
		// 2xx to CONNECT has none), or a bodiless status.
	case h.chunked:
		end, st := skipChunks(b, h.end)
		if st != lineOK {
			return r, st
		}
		r.next = end
	case h.contentLength >= 0:
		if len(b)-h.end < h.contentLength {
			return r, lineMore
		}
		r.next = h.end + h.contentLength
	default:
		r.next = -1 // RFC 9112 §6.3 item 8: until the connection closes
	}
	return r, lineOK
}

// skipChunks skips a chunked body (RFC 9112 §7.1: chunk-size in hex,
// extensions, CRLF, data, CRLF; a last chunk of size 0, trailer fields,
// CRLF) and returns the offset after it.
func skipChunks(b []byte, pos int) (int, lineState) {
	for {
		line, next, st := readLine(b, pos)
		if st != lineOK {
			return pos, st
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 31)
		if err != nil {
			return pos, lineBad
		}
		if n == 0 {
			h, st := readFields(b, next)
			return h.end, st
		}
		end := next + int(n)
		if end+2 > len(b) {
			return pos, lineMore
		}
		if b[end] != '\r' || b[end+1] != '\n' {
			return pos, lineBad
		}
		pos = end + 2
	}
}

// Recognize decides whether two captured byte streams (client to proxy,
// proxy to client) are an HTTP CONNECT exchange, and where the tunnel
// starts. Requests and responses are paired in order; a refused CONNECT
// (407 Proxy Authentication Required, 403 …) may be followed by another
// on the same connection (RFC 9110 §11.7.1), and the first one answered
// 2xx opens the tunnel: Upgraded, with the offsets after that request and
// after that response, and the destination as Target. The tunnel may
// carry something other than TLS: then Plaintext, Target kept.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	more := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	plain := func(reason string) protocols.Recognition {
		return protocols.Recognition{Protocol: Name, State: protocols.Plaintext, Reason: reason}
	}
	cp, sp := 0, 0
	refused := "" // the last refusal
	for {
		req, st := readRequest(c2s, cp)
		switch {
		case st == lineBad && cp == 0:
			return plaintext.NotThis(Name, "client does not send CONNECT")
		case st == lineBad:
			return plain(refused + "; the client went on without CONNECT")
		case st == lineMore && cp == 0:
			return more
		case st == lineMore:
			return plain(refused)
		}
		// The response to it, after any interim (1xx) ones.
		var resp response
		for {
			resp, st = readResponse(s2c, sp)
			if st != lineOK || resp.status/100 != 1 {
				break
			}
			sp = resp.next
		}
		switch {
		case st == lineBad && sp == 0:
			return plaintext.NotThis(Name, "proxy does not answer HTTP/1.x")
		case st == lineBad:
			return plain(refused + "; then the proxy did not answer HTTP/1.x")
		case st == lineMore && cp == 0:
			return more
		case st == lineMore:
			return plain(refused)
		}
		if resp.status/100 == 2 {
			r := plaintext.Upgraded(Name, "CONNECT", c2s, s2c, req.end, resp.end)
			r.Target = plaintext.Sanitize(req.target)
			return r
		}
		refused = "CONNECT refused: " + plaintext.Sanitize(resp.line)
		if resp.next < 0 {
			return plain(refused)
		}
		cp, sp = req.end, resp.next
	}
}
