package rdp

import (
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWirePDU bounds the Connection Request and Confirm the recogniser
// waits for (a request's cookie or routing token included).
const maxWirePDU = 1024

// Recognize finds RDP's switch to TLS in the first bytes of both
// directions of a TCP connection (client to server, server to client),
// as far as they have been seen. It implements protocols.Recognizer.
//
// The client's first TPKT must hold an X.224 Connection Request, the
// server's its Connection Confirm ([MS-RDPBCGR] §2.2.1.1, §2.2.1.2). A
// confirm whose RDP Negotiation Response selects a protocol over TLS is
// the switch: Upgraded, TLS starting right after the request and right
// after the confirm. A request that asks for no TLS, a confirm without
// negotiation or selecting standard RDP security, a negotiation failure
// and a disconnect are Plaintext, with the reason. Anything else, and a
// server that speaks before the request is complete, is NotThis.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	r := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	co, ok := parseTPKT(c2s)
	switch {
	case !ok && len(c2s) >= tpktHeader, ok && co > maxWirePDU:
		return plaintext.NotThis(Name, "no X.224 Connection Request")
	case !ok && !mayStartTPKT(c2s):
		return plaintext.NotThis(Name, "no X.224 Connection Request")
	case !ok || len(c2s) < co:
		if len(s2c) > 0 {
			return plaintext.NotThis(Name, "the server spoke before the request was complete")
		}
		return r
	}
	req, ok := parseRequest(c2s[tpktHeader:co])
	if !ok {
		return plaintext.NotThis(Name, "no X.224 Connection Request")
	}
	if !req.negotiated || req.requested == protocolRDP {
		return plain("standard RDP security: the client asked for no TLS")
	}
	so, ok := parseTPKT(s2c)
	switch {
	case !ok && len(s2c) >= tpktHeader, ok && so > maxWirePDU:
		return plaintext.NotThis(Name, "no X.224 Connection Confirm")
	case !ok && !mayStartTPKT(s2c):
		return plaintext.NotThis(Name, "no X.224 Connection Confirm")
	case !ok || len(s2c) < so:
		return r
	}
	c, ok := parseConfirm(s2c[tpktHeader:so])
	switch {
	case !ok:
		return plaintext.NotThis(Name, "no X.224 Connection Confirm")
	case c.code != tpduCC:
		return plain("the server disconnected instead of confirming")
	case !c.negotiated:
		return plain("standard RDP security: no negotiation response")
	case !c.rsp:
		return plain("negotiation failure " + failureName(c.failure))
	case !overTLS(c.selected):
		return plain("standard RDP security selected")
	}
	return plaintext.Upgraded(Name, "the negotiation", c2s, s2c, co, so)
}

// plain is the recognition of an RDP connection without TLS.
func plain(reason string) protocols.Recognition {
	return protocols.Recognition{Protocol: Name, State: protocols.Plaintext, Reason: reason}
}

// mayStartTPKT reports whether b, shorter than a TPKT header, can start
// one: version 3, a zero reserved byte, a length of at most maxWirePDU.
func mayStartTPKT(b []byte) bool {
	for i, c := range b {
		switch {
		case i == 0 && c != tpktVersion, i == 1 && c != 0, i == 2 && c > maxWirePDU>>8:
			return false
		}
	}
	return true
}
