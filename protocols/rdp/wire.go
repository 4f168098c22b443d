package rdp

import (
	"bytes"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Security protocols of the RDP Negotiation Request and Response
// ([MS-RDPBCGR] §2.2.1.1.1, requestedProtocols; §2.2.1.2.1,
// selectedProtocol).
const (
	protocolRDP      = 0x00 // standard RDP security (RC4, no server authentication)
	protocolSSL      = 0x01 // TLS
	protocolHybrid   = 0x02 // CredSSP (NLA) over TLS
	protocolRDSTLS   = 0x04 // RDSTLS, over TLS
	protocolHybridEx = 0x08 // CredSSP with the Early User Authorization Result PDU
	protocolRDSAAD   = 0x10 // Azure AD authentication, over TLS
)

// protocolName names a selected protocol.
func protocolName(p uint32) string {
	switch p {
	case protocolRDP:
		return "PROTOCOL_RDP"
	case protocolSSL:
		return "PROTOCOL_SSL"
	case protocolHybrid:
		return "PROTOCOL_HYBRID"
	case protocolRDSTLS:
		return "PROTOCOL_RDSTLS"
	case protocolHybridEx:
		return "PROTOCOL_HYBRID_EX"
	case protocolRDSAAD:
		return "PROTOCOL_RDSAAD"
	}
	return fmt.Sprintf("protocol 0x%08x", p)
}

// overTLS reports whether a selected protocol runs over TLS: all but
// standard RDP security.
func overTLS(p uint32) bool { return p != protocolRDP }

// Failure codes of the RDP Negotiation Failure ([MS-RDPBCGR] §2.2.1.2.2).
const (
	failSSLRequired         = 0x01 // SSL_REQUIRED_BY_SERVER
	failSSLNotAllowed       = 0x02 // SSL_NOT_ALLOWED_BY_SERVER
	failSSLCertNotOnServer  = 0x03 // SSL_CERT_NOT_ON_SERVER
	failInconsistentFlags   = 0x04 // INCONSISTENT_FLAGS
	failHybridRequired      = 0x05 // HYBRID_REQUIRED_BY_SERVER
	failSSLWithUserAuthReqd = 0x06 // SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER
)

// failureName names a failure code.
func failureName(code uint32) string {
	switch code {
	case failSSLRequired:
		return "SSL_REQUIRED_BY_SERVER"
	case failSSLNotAllowed:
		return "SSL_NOT_ALLOWED_BY_SERVER"
	case failSSLCertNotOnServer:
		return "SSL_CERT_NOT_ON_SERVER"
	case failInconsistentFlags:
		return "INCONSISTENT_FLAGS"
	case failHybridRequired:
		return "HYBRID_REQUIRED_BY_SERVER"
	case failSSLWithUserAuthReqd:
		return "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"
	}
	return fmt.Sprintf("failure 0x%08x", code)
}

// Types of the negotiation structures after the X.224 header
// ([MS-RDPBCGR] §2.2.1.1.1, §2.2.1.1.2, §2.2.1.2.1, §2.2.1.2.2).
const (
	typeNegReq          = 0x01
	typeNegRsp          = 0x02
	typeNegFailure      = 0x03
	typeCorrelationInfo = 0x06
)

// X.224 TPDU codes (ITU-T X.224 §13.1, class 0: the low nibble of CR and
// CC is CDT, zero).
const (
	tpduCR = 0xe0 // Connection Request
	tpduCC = 0xd0 // Connection Confirm
	tpduDR = 0x80 // Disconnect Request
	tpduER = 0x70 // TPDU Error
)

// TPKT framing (RFC 1006 §6): version 3, a reserved byte, a 16-bit
// length counting the 4-byte header.
const (
	tpktVersion = 3
	tpktHeader  = 4
)

// connectionRequest returns a Connection Request PDU ([MS-RDPBCGR]
// §2.2.1.1): a TPKT, the X.224 CR header (destination and source
// references zero, class 0) and an RDP Negotiation Request for
// requested, without a cookie or routing token.
func connectionRequest(requested uint32) []byte {
	var x cryptobyte.Builder
	x.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { // LI
		b.AddUint8(tpduCR)
		b.AddUint16(0) // DST-REF
		b.AddUint16(0) // SRC-REF
		b.AddUint8(0)  // class 0
		b.AddUint8(typeNegReq)
		b.AddUint8(0) // flags
		addUint16LE(b, 8)
		addUint32LE(b, requested)
	})
	return tpkt(x.BytesOrPanic())
}

// tpkt frames a TPDU: the TPKT length counts the header too.
func tpkt(tpdu []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint8(tpktVersion)
	b.AddUint8(0)
	b.AddUint16(uint16(tpktHeader + len(tpdu)))
	b.AddBytes(tpdu)
	return b.BytesOrPanic()
}

// parseTPKT reads a TPKT header: the length of the whole packet.
func parseTPKT(b []byte) (length int, ok bool) {
	s := cryptobyte.String(b)
	var version, reserved uint8
	var n uint16
	if !s.ReadUint8(&version) || !s.ReadUint8(&reserved) || !s.ReadUint16(&n) {
		return 0, false
	}
	if version != tpktVersion || n < tpktHeader+2 {
		return 0, false
	}
	return int(n), true
}

// confirm is what a server's first TPDU says.
type confirm struct {
	code uint8 // tpduCC, tpduDR or tpduER
	// negotiated is true when a negotiation response or failure followed
	// the CC header; then exactly one of selected and failure is set.
	negotiated bool
	rsp        bool   // an RDP_NEG_RSP (selected is meaningful), else an RDP_NEG_FAILURE
	selected   uint32 // selectedProtocol
	failure    uint32 // failureCode
	flags      uint8
}

// parseConfirm parses the TPDU of a server's first TPKT (after the TPKT
// header): an X.224 Connection Confirm with, optionally, an RDP
// Negotiation Response or Failure ([MS-RDPBCGR] §2.2.1.2), or a Disconnect
// Request or TPDU Error (a server refusing the request). ok is false for
// anything else.
func parseConfirm(tpdu []byte) (c confirm, ok bool) {
	s := cryptobyte.String(tpdu)
	var header cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&header) || !s.Empty() || !header.ReadUint8(&c.code) {
		return c, false
	}
	switch c.code & 0xf0 {
	case tpduDR, tpduER:
		c.code &= 0xf0
		return c, true
	case tpduCC:
		c.code = tpduCC
	default:
		return c, false
	}
	var class uint8
	if !header.Skip(4) || !header.ReadUint8(&class) {
		return c, false
	}
	if header.Empty() {
		return c, true
	}
	var typ uint8
	var length uint16
	var value uint32
	if !header.ReadUint8(&typ) || !header.ReadUint8(&c.flags) || !readUint16LE(&header, &length) || length != 8 || !readUint32LE(&header, &value) || !header.Empty() {
		return c, false
	}
	c.negotiated = true
	switch typ {
	case typeNegRsp:
		c.rsp, c.selected = true, value
	case typeNegFailure:
		c.failure = value
	default:
		return c, false
	}
	return c, true
}

// request is what a client's Connection Request says.
type request struct {
	cookie     string // the routing token or "Cookie: mstshash=…" line, without its CRLF
	negotiated bool   // an RDP_NEG_REQ followed
	requested  uint32
}

// parseRequest parses the TPDU of a client's first TPKT: an X.224
// Connection Request, its optional cookie or routing token (a line ending
// in CRLF), its optional RDP Negotiation Request and RDP Correlation Info
// ([MS-RDPBCGR] §2.2.1.1).
func parseRequest(tpdu []byte) (r request, ok bool) {
	s := cryptobyte.String(tpdu)
	var header cryptobyte.String
	var code, class uint8
	if !s.ReadUint8LengthPrefixed(&header) || !s.Empty() || !header.ReadUint8(&code) || code&0xf0 != tpduCR ||
		!header.Skip(4) || !header.ReadUint8(&class) {
		return r, false
	}
	if len(header) > 0 && header[0] != typeNegReq {
		// routingToken or cookie: text up to CRLF.
		i := bytes.Index(header, []byte("\r\n"))
		var line []byte
		if i < 0 || !header.ReadBytes(&line, i) || !header.Skip(2) {
			return r, false
		}
		r.cookie = string(line)
	}
	if header.Empty() {
		return r, true
	}
	var typ, flags uint8
	var length uint16
	if !header.ReadUint8(&typ) || typ != typeNegReq || !header.ReadUint8(&flags) || !readUint16LE(&header, &length) || length != 8 || !readUint32LE(&header, &r.requested) {
		return r, false
	}
	r.negotiated = true
	if header.Empty() {
		return r, true
	}
	// RDP_NEG_CORRELATION_INFO: type, flags, length 36, 16-byte id, 16
	// reserved bytes.
	if !header.ReadUint8(&typ) || typ != typeCorrelationInfo || !header.ReadUint8(&flags) || !readUint16LE(&header, &length) || length != 36 ||
		!header.Skip(32) || !header.Empty() {
		return r, false
	}
	return r, true
}

func readUint16LE(s *cryptobyte.String, v *uint16) bool {
	var b []byte
	if !s.ReadBytes(&b, 2) {
		return false
	}
	*v = uint16(b[0]) | uint16(b[1])<<8
	return true
}

func readUint32LE(s *cryptobyte.String, v *uint32) bool {
	var b []byte
	if !s.ReadBytes(&b, 4) {
		return false
	}
	*v = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	return true
}

func addUint16LE(b *cryptobyte.Builder, v uint16) {
	b.AddUint8(uint8(v))
	b.AddUint8(uint8(v >> 8))
}

func addUint32LE(b *cryptobyte.Builder, v uint32) {
	b.AddUint8(uint8(v))
	b.AddUint8(uint8(v >> 8))
	b.AddUint8(uint8(v >> 16))
	b.AddUint8(uint8(v >> 24))
}
