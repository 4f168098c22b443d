package ldap

import (
	"errors"
	"io"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsmap/tlsmap/protocols"
)

// LDAP is BER (RFC 4511 §5.1) restricted to definite lengths, with
// messages that need not be DER: Active Directory writes every length in
// the four-byte long form (30 84 00 00 00 0c …), which cryptobyte's
// ReadASN1 refuses as not minimal. readElement reads one BER element
// with any definite length, on cryptobyte.String's primitives.

// BER identifier octets of LDAP's protocol operations (RFC 4511 §4.2 to
// §4.14, Appendix B): [APPLICATION n], constructed unless noted.
const (
	tagBindRequest      = 0x60
	tagBindResponse     = 0x61
	tagUnbindRequest    = 0x42 // [APPLICATION 2] NULL, primitive
	tagSearchRequest    = 0x63
	tagSearchResEntry   = 0x64
	tagSearchResDone    = 0x65
	tagModifyRequest    = 0x66
	tagModifyResponse   = 0x67
	tagAddRequest       = 0x68
	tagAddResponse      = 0x69
	tagDelRequest       = 0x4a // [APPLICATION 10] LDAPDN, primitive
	tagDelResponse      = 0x6b
	tagModDNRequest     = 0x6c
	tagModDNResponse    = 0x6d
	tagCompareRequest   = 0x6e
	tagCompareResponse  = 0x6f
	tagAbandonRequest   = 0x50 // [APPLICATION 16] MessageID, primitive
	tagSearchResRef     = 0x73
	tagExtendedRequest  = 0x77
	tagExtendedResponse = 0x78
	tagIntermediate     = 0x79

	tagControls      = 0xa0 // [0] Controls, in LDAPMessage
	tagReferral      = 0xa3 // [3] Referral, in LDAPResult
	tagSaslCreds     = 0x87 // [7] serverSaslCreds, in BindResponse
	tagRequestName   = 0x80 // [0] LDAPOID, in ExtendedRequest
	tagRequestValue  = 0x81 // [1] OCTET STRING, in ExtendedRequest
	tagResponseName  = 0x8a // [10] LDAPOID, in ExtendedResponse
	tagResponseValue = 0x8b // [11] OCTET STRING, in ExtendedResponse
	tagSimpleAuth    = 0x80 // [0] simple, in AuthenticationChoice
	tagPresentFilter = 0x87 // [7] present, in Filter
)

// isRequest reports whether tag is the protocolOp of a client's message.
func isRequest(tag uint8) bool {
	switch tag {
	case tagBindRequest, tagUnbindRequest, tagSearchRequest, tagModifyRequest, tagAddRequest, tagDelRequest,
		tagModDNRequest, tagCompareRequest, tagAbandonRequest, tagExtendedRequest:
		return true
	}
	return false
}

// isResponse reports whether tag is the protocolOp of a server's message.
func isResponse(tag uint8) bool {
	switch tag {
	case tagBindResponse, tagSearchResEntry, tagSearchResDone, tagSearchResRef, tagModifyResponse, tagAddResponse,
		tagDelResponse, tagModDNResponse, tagCompareResponse, tagExtendedResponse, tagIntermediate:
		return true
	}
	return false
}

// readElement reads one BER element (X.690 §8.1): a one-byte identifier
// (the high-tag-number form, §8.1.2.4, never occurs in LDAP and is
// refused), a definite length in the short or long form of at most four
// bytes (§8.1.3; the indefinite form is forbidden by RFC 4511 §5.1), and
// the contents.
func readElement(s *cryptobyte.String, tag *uint8, body *cryptobyte.String) bool {
	var lenByte uint8
	if !s.ReadUint8(tag) || *tag&0x1f == 0x1f || !s.ReadUint8(&lenByte) {
		return false
	}
	n := uint32(lenByte)
	if lenByte&0x80 != 0 {
		// §8.1.3.5: the long form, lenByte&0x7f length octets follow;
		// 0x80 is the indefinite form.
		octets := lenByte & 0x7f
		if octets == 0 || octets > 4 {
			return false
		}
		n = 0
		for range octets {
			var b uint8
			if !s.ReadUint8(&b) {
				return false
			}
			n = n<<8 | uint32(b)
		}
	}
	return s.ReadBytes((*[]byte)(body), int(n))
}

// readTagged reads one element that must carry tag.
func readTagged(s *cryptobyte.String, tag uint8, body *cryptobyte.String) bool {
	var got uint8
	return readElement(s, &got, body) && got == tag
}

// peekTag reports the identifier of the next element without reading it.
func peekTag(s cryptobyte.String, tag uint8) bool { return len(s) > 0 && s[0] == tag }

// readInt reads the contents of a BER INTEGER or ENUMERATED (X.690 §8.3,
// §8.4) that must be in 0..2^31-1, as LDAP's MessageID (RFC 4511 §4.1.1)
// and resultCode are. Redundant leading zero octets are tolerated.
func readInt(body cryptobyte.String, v *int64) bool {
	if len(body) == 0 || len(body) > 8 || body[0]&0x80 != 0 {
		return false
	}
	*v = 0
	for _, b := range body {
		*v = *v<<8 | int64(b)
	}
	return *v <= 1<<31-1
}

// message is one LDAPMessage (RFC 4511 §4.2):
//
//	LDAPMessage ::= SEQUENCE { messageID MessageID, protocolOp CHOICE {…}, controls [0] Controls OPTIONAL }
type message struct {
	id   int64
	op   uint8             // the protocolOp's identifier: tagBindResponse …
	body cryptobyte.String // the protocolOp's contents
}

// parseMessage parses one whole LDAPMessage; nothing may follow it.
func parseMessage(b []byte) (message, bool) {
	var m message
	s := cryptobyte.String(b)
	var seq, id cryptobyte.String
	if !readTagged(&s, 0x30, &seq) || !s.Empty() {
		return m, false
	}
	if !readTagged(&seq, 0x02, &id) || !readInt(id, &m.id) || !readElement(&seq, &m.op, &m.body) {
		return m, false
	}
	if peekTag(seq, tagControls) {
		var controls cryptobyte.String
		if !readElement(&seq, new(uint8), &controls) {
			return m, false
		}
	}
	return m, seq.Empty()
}

// result is an LDAPResult (RFC 4511 §4.1.9) with the fields that some
// responses add to it.
//
//	LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN LDAPDN, diagnosticMessage LDAPString, referral [3] Referral OPTIONAL }
type result struct {
	code       int64
	matchedDN  string
	diagnostic string
	// responseName is an ExtendedResponse's [10] responseName (RFC 4511
	// §4.12), "" when absent (older servers leave it out of their
	// StartTLS answer).
	responseName string
}

// parseResult parses the contents of a response whose protocolOp is an
// LDAPResult, possibly extended: a BindResponse (§4.2.2, [7]
// serverSaslCreds), an ExtendedResponse (§4.12, [10] responseName and [11]
// responseValue) or any other (§4.1.9).
func parseResult(m message) (result, bool) {
	var r result
	s := m.body
	var code, dn, diag cryptobyte.String
	if !readTagged(&s, 0x0a, &code) || !readInt(code, &r.code) ||
		!readTagged(&s, 0x04, &dn) || !readTagged(&s, 0x04, &diag) {
		return r, false
	}
	r.matchedDN, r.diagnostic = string(dn), string(diag)
	var skip cryptobyte.String
	if peekTag(s, tagReferral) && !readElement(&s, new(uint8), &skip) {
		return r, false
	}
	switch m.op {
	case tagBindResponse:
		if peekTag(s, tagSaslCreds) && !readElement(&s, new(uint8), &skip) {
			return r, false
		}
	case tagExtendedResponse:
		var name cryptobyte.String
		if peekTag(s, tagResponseName) {
			if !readElement(&s, new(uint8), &name) {
				return r, false
			}
			r.responseName = string(name)
		}
		if peekTag(s, tagResponseValue) && !readElement(&s, new(uint8), &skip) {
			return r, false
		}
	}
	return r, s.Empty()
}

// attribute is one PartialAttribute of a SearchResultEntry (RFC 4511
// §4.5.2): a type and its values.
type attribute struct {
	name   string
	values []string
}

// parseEntry parses the contents of a SearchResultEntry:
//
//	SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName LDAPDN, attributes PartialAttributeList }
//	PartialAttributeList ::= SEQUENCE OF partialAttribute SEQUENCE { type AttributeDescription, vals SET OF value AttributeValue }
func parseEntry(body cryptobyte.String) (dn string, attrs []attribute, ok bool) {
	var name, list cryptobyte.String
	if !readTagged(&body, 0x04, &name) || !readTagged(&body, 0x30, &list) || !body.Empty() {
		return "", nil, false
	}
	for !list.Empty() {
		var pa, typ, vals cryptobyte.String
		if !readTagged(&list, 0x30, &pa) || !readTagged(&pa, 0x04, &typ) || !readTagged(&pa, 0x31, &vals) || !pa.Empty() {
			return "", nil, false
		}
		a := attribute{name: string(typ)}
		for !vals.Empty() {
			var v cryptobyte.String
			if !readTagged(&vals, 0x04, &v) {
				return "", nil, false
			}
			a.values = append(a.values, string(v))
		}
		attrs = append(attrs, a)
	}
	return string(name), attrs, true
}

// parseExtendedRequestName returns the requestName of an ExtendedRequest
// (RFC 4511 §4.12):
//
//	ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID, requestValue [1] OCTET STRING OPTIONAL }
func parseExtendedRequestName(body cryptobyte.String) (string, bool) {
	var name, skip cryptobyte.String
	if !readTagged(&body, tagRequestName, &name) {
		return "", false
	}
	if peekTag(body, tagRequestValue) && !readElement(&body, new(uint8), &skip) {
		return "", false
	}
	return string(name), body.Empty()
}

// readMessage reads one LDAPMessage from r, exactly: its identifier and
// length octets, then its contents, and not a byte more (the StartTLS
// response is followed by the server's first TLS byte). A message of more
// than max bytes fails with protocols.ErrLineTooLong before its contents
// are read; one that is not a definite-length SEQUENCE with
// protocols.ErrMalformed. End of stream before the first byte is io.EOF,
// within the message io.ErrUnexpectedEOF.
func readMessage(r io.Reader, max int) ([]byte, error) {
	head := make([]byte, 2, 6)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	if head[0] != 0x30 || head[1] == 0x80 || head[1] > 0x84 {
		return head, protocols.ErrMalformed
	}
	n := int(head[1])
	if head[1]&0x80 != 0 {
		octets := int(head[1] & 0x7f)
		head = head[:2+octets]
		if _, err := io.ReadFull(r, head[2:]); err != nil {
			return nil, unexpected(err)
		}
		n = 0
		for _, b := range head[2:] {
			n = n<<8 | int(b)
		}
	}
	if len(head)+n > max {
		return nil, protocols.ErrLineTooLong
	}
	msg := make([]byte, len(head)+n)
	copy(msg, head)
	if _, err := io.ReadFull(r, msg[len(head):]); err != nil {
		return nil, unexpected(err)
	}
	return msg, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Requests, built with cryptobyte (DER, which is valid BER).

// envelope builds an LDAPMessage around a protocolOp written by op.
func envelope(id int64, op func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(id)
		op(b)
	})
	return b.BytesOrPanic()
}

// rootDSEAttributes are the attributes asked of the root DSE (RFC 4512
// §5.1; RFC 3045 for vendorName; objectClass names slapd's
// OpenLDAProotDSE; supportedCapabilities and
// isGlobalCatalogReady are Active Directory's, [MS-ADTS] §3.1.1.3.2).
var rootDSEAttributes = []string{
	"objectClass", "namingContexts", "defaultNamingContext", "supportedLDAPVersion", "supportedExtension", "supportedControl", "supportedFeatures",
	"supportedSASLMechanisms", "vendorName", "vendorVersion", "supportedCapabilities", "isGlobalCatalogReady",
}

// searchRootDSE is the SearchRequest for the root DSE (RFC 4512 §5.1):
// base "", scope baseObject, filter (objectClass=*).
//
//	SearchRequest ::= [APPLICATION 3] SEQUENCE { baseObject LDAPDN, scope ENUMERATED, derefAliases ENUMERATED,
//	    sizeLimit INTEGER, timeLimit INTEGER, typesOnly BOOLEAN, filter Filter, attributes AttributeSelection }
func searchRootDSE(id int64) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(tagSearchRequest), func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(nil) // baseObject ""
			b.AddASN1Enum(0)          // scope baseObject
			b.AddASN1Enum(0)          // derefAliases neverDerefAliases
			b.AddASN1Int64(0)         // sizeLimit
			b.AddASN1Int64(0)         // timeLimit
			b.AddASN1Boolean(false)   // typesOnly
			b.AddASN1(asn1.Tag(tagPresentFilter), func(b *cryptobyte.Builder) { b.AddBytes([]byte("objectClass")) })
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, a := range rootDSEAttributes {
					b.AddASN1OctetString([]byte(a))
				}
			})
		})
	})
}

// simpleBind is a BindRequest (RFC 4511 §4.2) of LDAP version 3 with
// simple authentication.
func simpleBind(id int64, name, password string) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(tagBindRequest), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(3)
			b.AddASN1OctetString([]byte(name))
			b.AddASN1(asn1.Tag(tagSimpleAuth), func(b *cryptobyte.Builder) { b.AddBytes([]byte(password)) })
		})
	})
}

// startTLS is the StartTLS ExtendedRequest (RFC 4511 §4.14.1): the
// requestName alone.
func startTLS(id int64) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(tagExtendedRequest), func(b *cryptobyte.Builder) {
			b.AddASN1(asn1.Tag(tagRequestName), func(b *cryptobyte.Builder) { b.AddBytes([]byte(OIDStartTLS)) })
		})
	})
}

// unbind is the UnbindRequest (RFC 4511 §4.3).
func unbind(id int64) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(tagUnbindRequest), func(*cryptobyte.Builder) {})
	})
}
