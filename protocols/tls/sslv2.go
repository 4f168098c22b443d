package tls

import (
	"bytes"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// SSLv2 message types (draft-hickman-netscape-ssl-00, "Protocol Message
// Codes"). The first byte of an SSLv2 record body.
const (
	SSLv2MsgError              uint8 = 0
	SSLv2MsgClientHello        uint8 = 1
	SSLv2MsgClientMasterKey    uint8 = 2
	SSLv2MsgClientFinished     uint8 = 3
	SSLv2MsgServerHello        uint8 = 4
	SSLv2MsgServerVerify       uint8 = 5
	SSLv2MsgServerFinished     uint8 = 6
	SSLv2MsgRequestCertificate uint8 = 7
	SSLv2MsgClientCertificate  uint8 = 8
)

// SSLv2CertificateTypeX509 is SSL_CT_X509_CERTIFICATE, the only
// CERTIFICATE-TYPE of SSL 2.0 (draft-hickman-netscape-ssl-00).
const SSLv2CertificateTypeX509 uint8 = 1

// SSLv2ErrorCode is the error code of an SSLv2 ERROR message
// (draft-hickman-netscape-ssl-00, "Error Messages").
type SSLv2ErrorCode uint16

// SSLv2 error codes.
const (
	SSLv2ErrNoCipher                   SSLv2ErrorCode = 0x0001
	SSLv2ErrNoCertificate              SSLv2ErrorCode = 0x0002
	SSLv2ErrBadCertificate             SSLv2ErrorCode = 0x0004
	SSLv2ErrUnsupportedCertificateType SSLv2ErrorCode = 0x0006
)

// String returns the name the SSL 2.0 draft uses ("NO-CIPHER-ERROR"), or
// "0xNNNN" for another code.
func (c SSLv2ErrorCode) String() string {
	switch c {
	case SSLv2ErrNoCipher:
		return "NO-CIPHER-ERROR"
	case SSLv2ErrNoCertificate:
		return "NO-CERTIFICATE-ERROR"
	case SSLv2ErrBadCertificate:
		return "BAD-CERTIFICATE-ERROR"
	case SSLv2ErrUnsupportedCertificateType:
		return "UNSUPPORTED-CERTIFICATE-TYPE-ERROR"
	}
	return fmt.Sprintf("0x%04X", uint16(c))
}

// Limits of the SSLv2 hello fields.
const (
	v2MinChallenge    = 16 // CHALLENGE-LENGTH, draft-hickman; RFC 5246 E.2
	v2MaxChallenge    = 32
	v2MaxSessionID    = 32 // RFC 6101 E.1 and the SSL 2.0 draft say 0 or 16
	v2MinConnectionID = 16 // CONNECTION-ID-LENGTH, draft-hickman
	v2MaxConnectionID = 32
	v2MaxCipherSpec   = 1<<24 - 1
)

// BuildSSLv2ClientHello returns a complete SSLv2 record (2-byte header)
// carrying a CLIENT-HELLO (draft-hickman-netscape-ssl-00 "Client Only
// Protocol Messages"; RFC 6101 Appendix E.1; RFC 5246 Appendix E.2):
// msg type 1, version, the three lengths, the 3-byte cipher specs in the
// order given, the session id and the challenge.
//
// version is 0x0002 for an SSL 2.0 hello, or the highest SSLv3/TLS version
// for an SSLv2-compatible hello, whose TLS suites are written as specs
// 0x00XXYY. At least one spec is needed, each below 2^24; the session id
// may be at most 32 bytes (the specifications say 0 or 16, and 0 for a
// TLS client); the challenge must be 16 to 32 bytes (RFC 5246 E.2 suggests
// 32). Violations are ErrMalformed, a record over 32767 bytes ErrTooLarge.
func BuildSSLv2ClientHello(version Version, cipherSpecs []uint32, sessionID, challenge []byte) ([]byte, error) {
	const what = "SSLv2 CLIENT-HELLO"
	if len(cipherSpecs) == 0 {
		return nil, perr(what, "cipher-specs", ErrMalformed)
	}
	for _, cs := range cipherSpecs {
		if cs > v2MaxCipherSpec {
			return nil, perr(what, "cipher-specs", ErrMalformed)
		}
	}
	if len(sessionID) > v2MaxSessionID {
		return nil, perr(what, "session-id", ErrMalformed)
	}
	if len(challenge) < v2MinChallenge || len(challenge) > v2MaxChallenge {
		return nil, perr(what, "challenge", ErrMalformed)
	}
	if 9+3*len(cipherSpecs)+len(sessionID)+len(challenge) > MaxSSLv2RecordPayload {
		return nil, perr(what, "cipher-specs", ErrTooLarge)
	}
	// SSLv2 puts the lengths of all variable fields ahead of the data, so
	// they cannot be written as cryptobyte length prefixes.
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(SSLv2MsgClientHello)
	b.AddUint16(uint16(version))
	b.AddUint16(uint16(3 * len(cipherSpecs)))
	b.AddUint16(uint16(len(sessionID)))
	b.AddUint16(uint16(len(challenge)))
	for _, cs := range cipherSpecs {
		b.AddUint24(cs)
	}
	b.AddBytes(sessionID)
	b.AddBytes(challenge)
	payload, err := b.Bytes()
	if err != nil {
		return nil, perr(what, "", ErrTooLarge)
	}
	return AppendSSLv2Record(nil, payload)
}

// v2ReadSpecs reads n bytes of 3-byte cipher specs.
func v2ReadSpecs(s *cryptobyte.String, n int) ([]uint32, bool) {
	var data cryptobyte.String
	if !s.ReadBytes((*[]byte)(&data), n) {
		return nil, false
	}
	specs := make([]uint32, 0, n/3)
	for !data.Empty() {
		var cs uint32
		if !data.ReadUint24(&cs) {
			return nil, false
		}
		specs = append(specs, cs)
	}
	return specs, true
}

// ParseSSLv2ClientHello parses the body of an SSLv2 record (after the 2- or
// 3-byte header) holding a CLIENT-HELLO (draft-hickman-netscape-ssl-00;
// RFC 6101 Appendix E.1; RFC 5246 Appendix E.2).
//
// The result has SSLv2 true, RecordVersion VersionSSL20, Version as sent,
// SSLv2CipherSpecs holding every spec and CipherSuites the specs whose first
// byte is zero (the TLS suites, as uint16), SessionID, no compression
// methods and no extensions (HasExtensions false).
//
// Random is the challenge as sent, 16 to 32 bytes, not the 32-byte TLS
// random that RFC 5246 E.2 derives from it (the challenge right-aligned and
// zero-padded on the left): fingerprints and displays (tshark) use the
// challenge, and the derivation is a one-liner for whoever needs keys.
//
// Errors: another message type is ErrUnexpected; a payload shorter than its
// lengths ErrTruncated; an empty or non-multiple-of-3 cipher-specs length,
// a session id over 32 bytes, a challenge outside 16–32 bytes or trailing
// bytes ErrMalformed. Everything is copied out of payload.
func ParseSSLv2ClientHello(payload []byte) (*ClientHello, error) {
	const what = "SSLv2 CLIENT-HELLO"
	s := cryptobyte.String(bytes.Clone(payload))
	var msgType uint8
	var version, specsLen, sidLen, chLen uint16
	if !s.ReadUint8(&msgType) {
		return nil, perr(what, "msg-type", ErrTruncated)
	}
	if msgType != SSLv2MsgClientHello {
		return nil, perr(what, "msg-type", ErrUnexpected)
	}
	if !s.ReadUint16(&version) {
		return nil, perr(what, "version", ErrTruncated)
	}
	// RFC 5246 E.2: cipher_spec_length is a non-zero multiple of 3.
	if !s.ReadUint16(&specsLen) {
		return nil, perr(what, "cipher-specs-length", ErrTruncated)
	}
	if specsLen == 0 || specsLen%3 != 0 {
		return nil, perr(what, "cipher-specs-length", ErrMalformed)
	}
	// RFC 6101 E.1: session-id-length is 0 or 16; RFC 5246 E.2: zero for
	// a TLS client. Up to 32 is accepted, the TLS SessionID bound.
	if !s.ReadUint16(&sidLen) {
		return nil, perr(what, "session-id-length", ErrTruncated)
	}
	if sidLen > v2MaxSessionID {
		return nil, perr(what, "session-id-length", ErrMalformed)
	}
	// RFC 5246 E.2: challenge_length between 16 and 32.
	if !s.ReadUint16(&chLen) {
		return nil, perr(what, "challenge-length", ErrTruncated)
	}
	if chLen < v2MinChallenge || chLen > v2MaxChallenge {
		return nil, perr(what, "challenge-length", ErrMalformed)
	}
	m := &ClientHello{RecordVersion: VersionSSL20, Version: Version(version), SSLv2: true}
	specs, ok := v2ReadSpecs(&s, int(specsLen))
	if !ok {
		return nil, perr(what, "cipher-specs", ErrTruncated)
	}
	m.SSLv2CipherSpecs = specs
	for _, cs := range specs {
		// RFC 5246 E.2: V2CipherSpec with a first byte of zero is a TLS
		// CipherSuite {0x00, XX, YY}.
		if cs>>16 == 0 {
			m.CipherSuites = append(m.CipherSuites, uint16(cs))
		}
	}
	var sid, challenge []byte
	if !s.ReadBytes(&sid, int(sidLen)) {
		return nil, perr(what, "session-id", ErrTruncated)
	}
	if !s.ReadBytes(&challenge, int(chLen)) {
		return nil, perr(what, "challenge", ErrTruncated)
	}
	if !s.Empty() {
		return nil, perr(what, "trailing data", ErrMalformed)
	}
	m.SessionID, m.Random = shClip(sid), shClip(challenge)
	// No extensions: kept for symmetry with ParseClientHello.
	if err := DecodeExtensions(m); err != nil {
		return nil, err
	}
	return m, nil
}

// SSLv2ServerHello is an SSLv2 SERVER-HELLO message
// (draft-hickman-netscape-ssl-00, "Server Only Protocol Messages").
type SSLv2ServerHello struct {
	// SessionIDHit is true when the server found the client's session;
	// the certificate and cipher specs are then empty.
	SessionIDHit bool
	// CertificateType is SSLv2CertificateTypeX509 in practice.
	CertificateType uint8
	// Version is the server's SSL version, 0x0002.
	Version Version
	// Certificate is the server's DER certificate.
	Certificate []byte
	// CipherSpecs are the 3-byte cipher kinds the server supports among
	// the client's.
	CipherSpecs []uint32
	// ConnectionID is 16 to 32 random bytes.
	ConnectionID []byte
}

// ParseSSLv2ServerHello parses the body of an SSLv2 record holding a
// SERVER-HELLO (draft-hickman-netscape-ssl-00): msg type 4,
// SESSION-ID-HIT (any non-zero value is a hit), CERTIFICATE-TYPE,
// SERVER-VERSION, the three lengths, then the certificate, the cipher specs
// and the connection id.
//
// Errors: another message type is ErrUnexpected; a payload shorter than its
// lengths ErrTruncated; a cipher-specs length not a multiple of 3, a
// connection id outside 16–32 bytes or trailing bytes ErrMalformed.
// Everything is copied out of payload.
func ParseSSLv2ServerHello(payload []byte) (*SSLv2ServerHello, error) {
	const what = "SSLv2 SERVER-HELLO"
	s := cryptobyte.String(bytes.Clone(payload))
	var msgType, hit uint8
	var version, certLen, specsLen, connLen uint16
	if !s.ReadUint8(&msgType) {
		return nil, perr(what, "msg-type", ErrTruncated)
	}
	if msgType != SSLv2MsgServerHello {
		return nil, perr(what, "msg-type", ErrUnexpected)
	}
	h := new(SSLv2ServerHello)
	if !s.ReadUint8(&hit) || !s.ReadUint8(&h.CertificateType) || !s.ReadUint16(&version) ||
		!s.ReadUint16(&certLen) || !s.ReadUint16(&specsLen) || !s.ReadUint16(&connLen) {
		return nil, perr(what, "header", ErrTruncated)
	}
	h.SessionIDHit, h.Version = hit != 0, Version(version)
	if specsLen%3 != 0 {
		return nil, perr(what, "cipher-specs-length", ErrMalformed)
	}
	if connLen < v2MinConnectionID || connLen > v2MaxConnectionID {
		return nil, perr(what, "connection-id-length", ErrMalformed)
	}
	var cert, conn []byte
	if !s.ReadBytes(&cert, int(certLen)) {
		return nil, perr(what, "certificate", ErrTruncated)
	}
	specs, ok := v2ReadSpecs(&s, int(specsLen))
	if !ok {
		return nil, perr(what, "cipher-specs", ErrTruncated)
	}
	if !s.ReadBytes(&conn, int(connLen)) {
		return nil, perr(what, "connection-id", ErrTruncated)
	}
	if !s.Empty() {
		return nil, perr(what, "trailing data", ErrMalformed)
	}
	h.Certificate, h.CipherSpecs, h.ConnectionID = shClip(cert), specs, shClip(conn)
	return h, nil
}

// MarshalSSLv2ServerHello returns a complete SSLv2 record (2-byte header)
// carrying h as a SERVER-HELLO. SessionIDHit is written as 1 or 0. The
// connection id must be 16 to 32 bytes and each spec below 2^24
// (ErrMalformed); the certificate is limited to 65535 bytes and the record
// to 32767 (ErrTooLarge).
func MarshalSSLv2ServerHello(h *SSLv2ServerHello) ([]byte, error) {
	const what = "SSLv2 SERVER-HELLO"
	if len(h.ConnectionID) < v2MinConnectionID || len(h.ConnectionID) > v2MaxConnectionID {
		return nil, perr(what, "connection-id", ErrMalformed)
	}
	for _, cs := range h.CipherSpecs {
		if cs > v2MaxCipherSpec {
			return nil, perr(what, "cipher-specs", ErrMalformed)
		}
	}
	if 11+len(h.Certificate)+3*len(h.CipherSpecs)+len(h.ConnectionID) > MaxSSLv2RecordPayload {
		return nil, perr(what, "", ErrTooLarge)
	}
	var hit uint8
	if h.SessionIDHit {
		hit = 1
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(SSLv2MsgServerHello)
	b.AddUint8(hit)
	b.AddUint8(h.CertificateType)
	b.AddUint16(uint16(h.Version))
	b.AddUint16(uint16(len(h.Certificate)))
	b.AddUint16(uint16(3 * len(h.CipherSpecs)))
	b.AddUint16(uint16(len(h.ConnectionID)))
	b.AddBytes(h.Certificate)
	for _, cs := range h.CipherSpecs {
		b.AddUint24(cs)
	}
	b.AddBytes(h.ConnectionID)
	payload, err := b.Bytes()
	if err != nil {
		return nil, perr(what, "", ErrTooLarge)
	}
	return AppendSSLv2Record(nil, payload)
}

// ParseSSLv2Error parses the body of an SSLv2 record holding an ERROR
// message (draft-hickman-netscape-ssl-00, "Error Messages"): msg type 0 and
// a 2-byte error code. Another message type is ErrUnexpected, a short
// payload ErrTruncated, trailing bytes ErrMalformed. Unknown codes are
// returned as they are.
func ParseSSLv2Error(payload []byte) (SSLv2ErrorCode, error) {
	const what = "SSLv2 ERROR"
	s := cryptobyte.String(payload)
	var msgType uint8
	var code uint16
	if !s.ReadUint8(&msgType) {
		return 0, perr(what, "msg-type", ErrTruncated)
	}
	if msgType != SSLv2MsgError {
		return 0, perr(what, "msg-type", ErrUnexpected)
	}
	if !s.ReadUint16(&code) {
		return 0, perr(what, "error-code", ErrTruncated)
	}
	if !s.Empty() {
		return 0, perr(what, "trailing data", ErrMalformed)
	}
	return SSLv2ErrorCode(code), nil
}

// MarshalSSLv2Error returns a complete SSLv2 record (2-byte header)
// carrying an ERROR message with code.
func MarshalSSLv2Error(code SSLv2ErrorCode) []byte {
	b := cryptobyte.NewBuilder(make([]byte, 0, 3))
	b.AddUint8(SSLv2MsgError)
	b.AddUint16(uint16(code))
	payload, _ := b.Bytes()                   // cannot fail: fixed fields only
	out, _ := AppendSSLv2Record(nil, payload) // cannot fail: 3 bytes
	return out
}
