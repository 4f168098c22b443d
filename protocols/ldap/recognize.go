package ldap

import (
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireMessage is the longest LDAPMessage Recognize waits for; a longer
// one is not a dialogue before StartTLS (the sniffer keeps 16 KiB of each
// direction anyway).
const maxWireMessage = 64 << 10

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are LDAP, and where they switch
// to TLS. Both directions are sequences of BER LDAPMessages (RFC 4511
// §5.1): requests from the client, responses from the server, each
// carrying a messageID. When the client sends the StartTLS ExtendedRequest
// (§4.14.1) and the server's ExtendedResponse with the same messageID has
// resultCode success, the result is Upgraded with the offsets right after
// the request and after the response (§4.14.2: TLS starts there). A
// refused StartTLS gives Plaintext with the result as Reason, and a later
// StartTLS in the same flow is still found; a Notice of Disconnection
// (§4.4.1) ends the flow in plaintext. Upgraded is withdrawn (Plaintext)
// when a side's first byte after its offset cannot start a TLS or SSLv2
// record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	if !shape(c2s, isRequest) {
		return plaintext.NotThis(Name, "client does not send LDAP requests")
	}
	if !shape(s2c, isResponse) {
		return plaintext.NotThis(Name, "server does not send LDAP responses")
	}
	requests, spos := 0, 0
	for pos := 0; ; {
		n, complete := frame(c2s[pos:])
		if !complete {
			break
		}
		m, ok := parseMessage(c2s[pos : pos+n])
		if !ok || !isRequest(m.op) {
			if pos == 0 {
				return plaintext.NotThis(Name, "client does not send LDAP requests")
			}
			break
		}
		pos += n
		requests++
		if m.op != tagExtendedRequest {
			continue
		}
		if name, ok := parseExtendedRequestName(m.body); !ok || name != OIDStartTLS {
			continue
		}
		r, end, found := findResponse(s2c, spos, m.id)
		switch {
		case !found:
			return rec
		case r.responseName == OIDNoticeOfDisconnection:
			rec.State, rec.Reason = protocols.Plaintext, "notice of disconnection: "+protocols.QuoteReply(r.String())
			return rec
		case r.code == codeSuccess:
			return plaintext.Upgraded(Name, "StartTLS", c2s, s2c, pos, end)
		}
		rec.State, rec.Reason = protocols.Plaintext, "StartTLS refused: "+protocols.QuoteReply(r.String())
		spos = end
	}
	if rec.State == protocols.NeedMore && requests > 0 {
		if n, complete := frame(s2c); complete {
			if m, ok := parseMessage(s2c[:n]); ok && isResponse(m.op) {
				rec.State, rec.Reason = protocols.Plaintext, "no StartTLS yet"
			}
		}
	}
	return rec
}

// findResponse looks in s2c, from pos, for the ExtendedResponse that
// answers message id, or a Notice of Disconnection (messageID 0), and
// returns its result and the offset after it. found is false when the
// stream ends (or stops being LDAP) first.
func findResponse(s2c []byte, pos int, id int64) (r result, end int, found bool) {
	for {
		n, complete := frame(s2c[pos:])
		if !complete {
			return r, pos, false
		}
		m, ok := parseMessage(s2c[pos : pos+n])
		if !ok {
			return r, pos, false
		}
		pos += n
		if m.op != tagExtendedResponse || m.id != id && m.id != 0 {
			continue
		}
		if r, ok = parseResult(m); !ok {
			return r, pos, false
		}
		if m.id == 0 {
			if r.responseName != OIDNoticeOfDisconnection {
				continue
			}
			return r, pos, true
		}
		return r, pos, true
	}
}

// frame returns the length of the LDAPMessage at the start of b, and
// whether it is all in b: a SEQUENCE with a definite length of at most
// maxWireMessage.
func frame(b []byte) (n int, complete bool) {
	if len(b) < 2 || b[0] != 0x30 {
		return 0, false
	}
	hdr, length := 2, int(b[1])
	if b[1]&0x80 != 0 {
		octets := int(b[1] & 0x7f)
		if octets == 0 || octets > 4 || len(b) < 2+octets {
			return 0, false
		}
		length = 0
		for _, c := range b[2 : 2+octets] {
			length = length<<8 | int(c)
		}
		hdr += octets
	}
	if length > maxWireMessage || len(b) < hdr+length {
		return 0, false
	}
	return hdr + length, true
}

// shape reports whether b (possibly empty or cut anywhere) can start with
// an LDAPMessage whose protocolOp op accepts: a SEQUENCE of definite
// length at most maxWireMessage, a messageID INTEGER of one to four
// bytes, then the operation's identifier — as far as b goes.
func shape(b []byte, op func(uint8) bool) bool {
	if len(b) == 0 {
		return true
	}
	if b[0] != 0x30 {
		return false
	}
	if len(b) < 2 {
		return true
	}
	i, length := 2, int(b[1])
	if b[1]&0x80 != 0 {
		octets := int(b[1] & 0x7f)
		if octets == 0 || octets > 4 {
			return false
		}
		if len(b) < 2+octets {
			return true
		}
		length = 0
		for _, c := range b[2 : 2+octets] {
			length = length<<8 | int(c)
		}
		i += octets
	}
	// The smallest message: a one-byte ID and a NULL operation (5 bytes).
	if length > maxWireMessage || length < 5 {
		return false
	}
	// messageID ::= INTEGER, one to four bytes (RFC 4511 §4.1.1).
	switch {
	case len(b) <= i:
		return true
	case b[i] != 0x02:
		return false
	case len(b) <= i+1:
		return true
	case b[i+1] < 1 || b[i+1] > 4:
		return false
	}
	i += 2 + int(b[i+1])
	return len(b) <= i || op(b[i])
}
