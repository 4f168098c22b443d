package mysql

import (
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireGreeting bounds the greeting the recogniser waits for: beyond
// it the stream is not MySQL.
const maxWireGreeting = 1024

// Recognize finds MySQL's switch to TLS in the first bytes of both
// directions of a TCP connection (client to server, server to client),
// as far as they have been seen. It implements protocols.Recognizer.
//
// The server's first packet must be a greeting (HandshakeV10 or V9) or an
// ERR packet, numbered 0; the client's first packet, numbered 1, its
// answer. An answer with CLIENT_SSL whose payload is an SSLRequest (32
// bytes; 5 for the 4.0 protocol) is the switch: Upgraded, TLS starting
// right after it and right after the greeting. An answer without
// CLIENT_SSL is a login in clear (Plaintext, with the reason: the server
// offered no TLS, or the client did not ask). A client that speaks before
// the greeting, or packets that are not these, are NotThis.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	r := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	n, seq, ok := parseHeader(s2c)
	if !ok {
		switch {
		case len(c2s) > 0:
			return plaintext.NotThis(Name, "the client spoke first")
		case !mayStartGreeting(s2c):
			return plaintext.NotThis(Name, "no greeting")
		}
		return r
	}
	if seq != 0 || n < 1 || n > maxWireGreeting {
		return plaintext.NotThis(Name, "no greeting")
	}
	if len(s2c) > headerLen && s2c[headerLen] != protocolV10 && s2c[headerLen] != protocolV9 && s2c[headerLen] != errPacket {
		return plaintext.NotThis(Name, "no greeting")
	}
	so := headerLen + int(n)
	if len(s2c) < so {
		if len(c2s) > 0 {
			return plaintext.NotThis(Name, "the client spoke before the greeting ended")
		}
		return r
	}
	payload := s2c[headerLen:so]
	if payload[0] == errPacket {
		e, ok := parseErr(payload)
		if !ok {
			return plaintext.NotThis(Name, "a malformed ERR packet")
		}
		return protocols.Recognition{Protocol: Name, State: protocols.Plaintext, Reason: "greeting " + protocols.QuoteReply(e.String())}
	}
	g, ok := parseGreeting(payload)
	if !ok {
		return plaintext.NotThis(Name, "a malformed greeting")
	}
	cn, cseq, ok := parseHeader(c2s)
	if !ok {
		return r
	}
	if cseq != 1 || cn == 0 {
		return plaintext.NotThis(Name, "no answer to the greeting")
	}
	co := headerLen + int(cn)
	protocol41 := g.caps&capProtocol41 != 0
	caps, ok := clientCaps(c2s[headerLen:min(len(c2s), co)], protocol41)
	if !ok {
		return r
	}
	switch {
	case caps&capSSL == 0 && g.caps&capSSL == 0:
		return protocols.Recognition{Protocol: Name, State: protocols.Plaintext, Reason: "the server offers no TLS (no CLIENT_SSL): a login in clear"}
	case caps&capSSL == 0:
		return protocols.Recognition{Protocol: Name, State: protocols.Plaintext, Reason: "the client did not ask for TLS: a login in clear"}
	case protocol41 && cn != 32, !protocol41 && cn != 5:
		return plaintext.NotThis(Name, "CLIENT_SSL in a packet that is not an SSL request")
	case len(c2s) < co:
		return r
	}
	return plaintext.Upgraded(Name, "SSL request", c2s, s2c, co, so)
}

// mayStartGreeting reports whether b, shorter than a packet header, can
// start a greeting packet: a length of at most maxWireGreeting, sequence
// number 0.
func mayStartGreeting(b []byte) bool {
	for i, c := range b {
		switch {
		case i == 1 && c > maxWireGreeting>>8, i == 2 && c != 0, i == 3 && c != 0:
			return false
		}
	}
	return true
}
