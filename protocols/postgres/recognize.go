package postgres

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Recognize finds PostgreSQL's switch to TLS in the first bytes of both
// directions of a TCP connection (client to server, server to client),
// as far as they have been seen. It implements protocols.Recognizer.
//
// The client's first messages are read as PostgreSQL sends them before
// its StartupMessage ("Message Flow", "Message Formats"): a GSSENCRequest
// the server refuses with 'N' may come first (libpq tries GSSAPI
// encryption first when it has Kerberos credentials), then an SSLRequest
// answered 'S' — Upgraded, TLS starting right after the request and
// right after the 'S' — or 'N' or an ErrorResponse (Plaintext, with the
// reason). A StartupMessage or CancelRequest before any 'S' is a
// plaintext connection; a GSSENCRequest answered 'G' an encrypted one
// that is not TLS (Plaintext, said so). Anything else, and a server that
// speaks before the client's first request is complete, is NotThis.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	r := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	co, so := 0, 0
	for {
		var length, code uint32
		head := cryptobyte.String(c2s[co:])
		if !head.ReadUint32(&length) || !head.ReadUint32(&code) {
			if !mayStart(c2s[co:]) {
				return plaintext.NotThis(Name, "no SSLRequest")
			}
			if len(s2c) > so {
				return plaintext.NotThis(Name, "the server spoke before the client's request")
			}
			return r
		}
		switch {
		case length == 8 && (code == codeSSLRequest || code == codeGSSENCRequest):
		case length == 16 && code == codeCancelRequest:
			return plain("a CancelRequest, in clear")
		case code&protocolMajorMask == protocol30 && length > 8 && length <= maxStartup:
			if co == 0 {
				return plain("no SSLRequest: a StartupMessage in clear")
			}
			return plain("a StartupMessage in clear after the refused GSSENCRequest")
		default:
			return plaintext.NotThis(Name, "no SSLRequest")
		}
		co += 8
		if len(s2c) == so {
			return r
		}
		answer := s2c[so]
		so++
		switch {
		case code == codeSSLRequest && answer == answerSSL:
			return plaintext.Upgraded(Name, "SSLRequest", c2s, s2c, co, so)
		case answer == answerNo && code == codeGSSENCRequest:
			// Refused: an SSLRequest or a StartupMessage follows.
			continue
		case answer == answerNo:
			return plain("SSLRequest refused: N")
		case answer == answerGSS && code == codeGSSENCRequest:
			return plain("GSSAPI encryption, not TLS")
		case answer == answerError:
			return plain("SSLRequest answered with an ErrorResponse")
		}
		return plaintext.NotThis(Name, fmt.Sprintf("answer 0x%02x to an SSLRequest", answer))
	}
}

// plain is the recognition of a PostgreSQL connection in clear.
func plain(reason string) protocols.Recognition {
	return protocols.Recognition{Protocol: Name, State: protocols.Plaintext, Reason: reason}
}

// requestHeads are the first eight bytes of the fixed-size requests a
// client may send first.
var requestHeads = [][]byte{sslRequest, head(8, codeGSSENCRequest), head(16, codeCancelRequest)}

// head is a request's length word and code.
func head(length, code uint32) []byte {
	var b cryptobyte.Builder
	b.AddUint32(length)
	b.AddUint32(code)
	return b.BytesOrPanic()
}

// mayStart reports whether b, shorter than a length word and a code, can
// start an SSLRequest, a GSSENCRequest, a CancelRequest or a protocol-3
// StartupMessage.
func mayStart(b []byte) bool {
	for _, h := range requestHeads {
		if len(b) <= len(h) && string(h[:len(b)]) == string(b) {
			return true
		}
	}
	// A StartupMessage: a length word of at most maxStartup (0x2710: two
	// zero bytes, then one of at most 0x27), then major version 3.
	startup := head(0, protocol30)
	for i, c := range b {
		switch {
		case i < 2 && c != 0, i == 2 && c > maxStartup>>8, i >= 4 && i < 6 && c != startup[i]:
			return false
		}
	}
	return true
}
