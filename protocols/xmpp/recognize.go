package xmpp

import (
	"bytes"
	"encoding/xml"
	"errors"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireTokens bounds the XML tokens Recognize reads of one direction.
const maxWireTokens = 4096

// recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are an XMPP stream of kind k,
// and where they switch to TLS. Each direction is an XML stream (RFC 6120
// §4): an optional declaration, <stream:stream> of the kind's namespace
// (jabber:client, jabber:server), then top-level elements. When the
// client sends <starttls/> (§5.4.2.1) and the server answers <proceed/>
// (§5.4.2.3), the result is Upgraded, with the offsets right after each
// element; a <failure/> or a stream error gives Plaintext with the reason.
// Upgraded is withdrawn (Plaintext) when a side's first byte after its
// offset cannot start a TLS or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func (k kind) recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: k.name, State: protocols.NeedMore}
	cl := walk(c2s, k, func(se xml.StartElement) bool { return is(se, nsTLS, "starttls") })
	if cl.state == notStream {
		return plaintext.NotThis(k.name, "client does not open an XMPP "+k.ns+" stream")
	}
	sv := walk(s2c, k, func(se xml.StartElement) bool {
		return is(se, nsTLS, "proceed") || is(se, nsTLS, "failure") || is(se, nsStreams, "error")
	})
	if sv.state == notStream {
		return plaintext.NotThis(k.name, "server does not open an XMPP "+k.ns+" stream")
	}
	if cl.state == open && sv.state != needMore && sv.state != notStream {
		rec.State, rec.Reason = protocols.Plaintext, "no STARTTLS yet"
	}
	if cl.state != found {
		return rec
	}
	switch {
	case sv.state != found:
		return rec
	case is(sv.element, nsTLS, "proceed"):
		return plaintext.Upgraded(k.name, "STARTTLS", c2s, s2c, cl.end, sv.end)
	case is(sv.element, nsTLS, "failure"):
		rec.State, rec.Reason = protocols.Plaintext, "STARTTLS refused: <failure/>"
	default:
		rec.State, rec.Reason = protocols.Plaintext, "stream error"
	}
	return rec
}

// walkState is how far walk got in one direction.
type walkState uint8

const (
	needMore  walkState = iota // no stream header yet: the bytes may still be one
	notStream                  // not an XMPP stream of the kind
	open                       // the stream is open; no wanted element (yet)
	found                      // a wanted top-level element, complete
)

// walked is what walk found.
type walked struct {
	state   walkState
	element xml.StartElement // the wanted element, when found
	end     int              // the offset after it
}

// walk reads an XML stream as far as b goes: the declaration, the stream
// header (which must be of k's namespace), then top-level elements until
// one that want takes, which it reads to its end.
func walk(b []byte, k kind, want func(xml.StartElement) bool) walked {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) > 0 && t[0] != '<' {
		return walked{state: notStream}
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	w := walked{state: needMore}
	depth := 0 // 1 inside the stream
	var wanted *xml.StartElement
	for range maxWireTokens {
		tok, err := dec.Token()
		if err != nil {
			// The end of what was captured, in a token or between two;
			// or not XML: before the header, not a stream.
			if w.state == needMore && !incomplete(err, dec, len(b)) {
				w.state = notStream
			}
			return w
		}
		switch t := tok.(type) {
		case xml.Directive:
			return walked{state: notStream}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return walked{state: notStream}
			}
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if !is(t, nsStreams, "stream") {
					return walked{state: notStream}
				}
				if ns := attr(t, "xmlns"); ns != k.ns {
					return walked{state: notStream}
				}
				w.state = open
			case depth == 2 && wanted == nil && want(t):
				e := t.Copy()
				wanted = &e
			}
		case xml.EndElement:
			depth--
			if depth == 1 && wanted != nil {
				w.state, w.element, w.end = found, *wanted, int(dec.InputOffset())
				return w
			}
			if depth == 0 {
				return w // </stream:stream>
			}
		}
	}
	return w
}

// incomplete reports whether a decoding error is only the end of the
// captured bytes: the decoder stopped at their end.
func incomplete(err error, dec *xml.Decoder, n int) bool {
	var se *xml.SyntaxError
	if !errors.As(err, &se) {
		return true // io.EOF between tokens
	}
	return se.Msg == "unexpected EOF" || int(dec.InputOffset()) >= n
}
