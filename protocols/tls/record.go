package tls

import "golang.org/x/crypto/cryptobyte"

// Record-layer limits (RFC 8446 §5.1, §5.2; RFC 5246 §6.2).
const (
	// RecordHeaderLen is the size of a TLS record header: type, version,
	// length.
	RecordHeaderLen = 5
	// MaxPlaintext is the largest plaintext fragment, 2^14 bytes
	// (RFC 5246 §6.2.1, RFC 8446 §5.1). AppendRecord splits payloads at
	// this size.
	MaxPlaintext = 1 << 14
	// MaxRecordPayload is the largest record payload the codec accepts:
	// 2^14+2048, the TLSCiphertext limit of RFC 5246 §6.2.3 (TLS 1.3 lowers
	// it to 2^14+256, RFC 8446 §5.2; the codec accepts the older, larger
	// bound).
	MaxRecordPayload = 1<<14 + 2048
	// MaxSSLv2RecordPayload is the largest body an SSLv2 record with a
	// 2-byte header can carry (15-bit length, draft-hickman SSL 2.0 §1.2).
	MaxSSLv2RecordPayload = 1<<15 - 1
)

// Record is one TLS record: its content type, the record-layer version and
// the (possibly encrypted) fragment.
type Record struct {
	Type    ContentType
	Version Version
	Payload []byte
}

// recKnownType reports whether t is a content type the codec accepts in a
// record header: change_cipher_spec, alert, handshake, application_data
// (RFC 8446 §5.1) and heartbeat (RFC 6520 §3).
func recKnownType(t ContentType) bool {
	return t >= ContentChangeCipherSpec && t <= ContentHeartbeat
}

// Record header errors, allocated once: the stream decoder checks partial
// headers on its hot path.
var (
	recErrTypeTruncated    = perr("record", "type", ErrTruncated)
	recErrTypeMalformed    = perr("record", "type", ErrMalformed)
	recErrVersionTruncated = perr("record", "version", ErrTruncated)
	recErrVersionMalformed = perr("record", "version", ErrMalformed)
	recErrLengthTruncated  = perr("record", "length", ErrTruncated)
	recErrLengthTooLarge   = perr("record", "length", ErrTooLarge)
)

// recParseHeader validates a 5-byte TLS record header. It checks what is
// present byte by byte, so that a bad content type or version fails at once,
// before the rest arrives; with a valid but incomplete header it returns an
// error wrapping ErrTruncated.
func recParseHeader(b []byte) (typ ContentType, v Version, length int, err error) {
	s := cryptobyte.String(b)
	var t, major, minor uint8
	var n uint16
	// RFC 8446 §5.1: ContentType type.
	if !s.ReadUint8(&t) {
		return 0, 0, 0, recErrTypeTruncated
	}
	if !recKnownType(ContentType(t)) {
		return 0, 0, 0, recErrTypeMalformed
	}
	// RFC 8446 §5.1 legacy_record_version; RFC 5246 §6.2.1 and RFC 6101
	// §5.2.1 ProtocolVersion. SSLv3 (0x0300) through TLS 1.3 (0x0304) use
	// major version 3; the minor byte is not checked (RFC 5246 Appendix E.1:
	// a record-layer version is not to be trusted, and TLS 1.3 freezes it).
	if !s.ReadUint8(&major) {
		return 0, 0, 0, recErrVersionTruncated
	}
	if major != 3 {
		return 0, 0, 0, recErrVersionMalformed
	}
	if !s.ReadUint8(&minor) {
		return 0, 0, 0, recErrVersionTruncated
	}
	// RFC 5246 §6.2.3: length of TLSCiphertext.fragment ≤ 2^14+2048.
	if !s.ReadUint16(&n) {
		return 0, 0, 0, recErrLengthTruncated
	}
	if int(n) > MaxRecordPayload {
		return 0, 0, 0, recErrLengthTooLarge
	}
	return ContentType(t), Version(uint16(major)<<8 | uint16(minor)), int(n), nil
}

// ParseRecord parses the TLS record at the start of b (RFC 8446 §5.1,
// RFC 5246 §6.2). n is the number of bytes the record occupies. The payload
// aliases b.
//
// Errors: ErrTruncated when b holds less than a whole record (read more and
// retry); ErrMalformed for an unknown content type or a major version other
// than 3 (every version from SSLv3 to TLS 1.3, and any 0x03xx, is accepted);
// ErrTooLarge for a length above MaxRecordPayload. Header errors are
// reported as soon as the offending byte is present.
func ParseRecord(b []byte) (rec Record, n int, err error) {
	typ, v, length, err := recParseHeader(b)
	if err != nil {
		return Record{}, 0, err
	}
	s := cryptobyte.String(b[RecordHeaderLen:])
	var payload []byte
	if !s.ReadBytes(&payload, length) {
		return Record{}, 0, perr("record", "fragment", ErrTruncated)
	}
	return Record{Type: typ, Version: v, Payload: payload[:length:length]}, RecordHeaderLen + length, nil
}

// AppendRecord appends payload to dst framed as records of type typ and
// version v, split into fragments of at most MaxPlaintext bytes
// (RFC 5246 §6.2.1). An empty payload yields one empty record (legal only
// for application_data; the caller decides).
func AppendRecord(dst []byte, typ ContentType, v Version, payload []byte) []byte {
	for first := true; first || len(payload) > 0; first = false {
		frag := payload
		if len(frag) > MaxPlaintext {
			frag = frag[:MaxPlaintext]
		}
		payload = payload[len(frag):]
		b := cryptobyte.NewBuilder(dst)
		b.AddUint8(uint8(typ))
		b.AddUint16(uint16(v))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(frag) })
		// Cannot fail: a fragment is at most 2^14 bytes.
		dst, _ = b.Bytes()
	}
	return dst
}

// ParseSSLv2Record parses the SSLv2 record at the start of b
// (draft-hickman SSL 2.0 "Record Header"; RFC 6101 Appendix E; RFC 5246
// Appendix E.2). With the high bit of the first byte set, the header is 2
// bytes and the length 15 bits; otherwise it is 3 bytes, the length 14 bits
// and the third byte the padding count (used only for block-encrypted
// records). payload is the whole record body (for a padded record: MAC,
// data and padding, all encrypted) and aliases b; n is the number of bytes
// the record occupies.
//
// Errors: ErrTruncated when b holds less than a whole record; ErrMalformed
// for an empty record or a padding count larger than the record.
func ParseSSLv2Record(b []byte) (payload []byte, n int, err error) {
	hdrLen, length, err := v2ParseHeader(b)
	if err != nil {
		return nil, 0, err
	}
	s := cryptobyte.String(b[hdrLen:])
	if !s.ReadBytes(&payload, length) {
		return nil, 0, perr("SSLv2 record", "body", ErrTruncated)
	}
	return payload[:length:length], hdrLen + length, nil
}

// v2ParseHeader parses an SSLv2 record header at the start of b and returns
// its size (2 or 3) and the body length.
func v2ParseHeader(b []byte) (hdrLen, length int, err error) {
	s := cryptobyte.String(b)
	var hdr uint16
	if !s.ReadUint16(&hdr) {
		return 0, 0, perr("SSLv2 record", "header", ErrTruncated)
	}
	hdrLen, length = 2, int(hdr&0x7fff)
	if hdr&0x8000 == 0 {
		// Three-byte header: bit 6 is IS-ESCAPE, the low 14 bits the
		// length, then PADDING, which counts bytes inside the body.
		var padding uint8
		if !s.ReadUint8(&padding) {
			return 0, 0, perr("SSLv2 record", "padding", ErrTruncated)
		}
		hdrLen, length = 3, int(hdr&0x3fff)
		if int(padding) > length {
			return 0, 0, perr("SSLv2 record", "padding", ErrMalformed)
		}
	}
	if length == 0 {
		return 0, 0, perr("SSLv2 record", "length", ErrMalformed)
	}
	return hdrLen, length, nil
}

// AppendSSLv2Record appends payload framed as one SSLv2 record with a
// 2-byte header (draft-hickman SSL 2.0 "Record Header"). It fails with
// ErrTooLarge when payload exceeds MaxSSLv2RecordPayload and ErrMalformed
// when it is empty.
func AppendSSLv2Record(dst, payload []byte) ([]byte, error) {
	if len(payload) == 0 {
		return nil, perr("SSLv2 record", "length", ErrMalformed)
	}
	if len(payload) > MaxSSLv2RecordPayload {
		return nil, perr("SSLv2 record", "length", ErrTooLarge)
	}
	b := cryptobyte.NewBuilder(dst)
	b.AddUint16(0x8000 | uint16(len(payload)))
	b.AddBytes(payload)
	return b.Bytes()
}

// LooksLikeTLS reports whether b, the first bytes of a stream, plausibly
// starts a TLS (or SSLv3) connection. It recognises either a handshake
// record carrying a ClientHello or ServerHello, or a plaintext alert record
// (what a server sends when it refuses a hello):
//
//   - handshake: type 22, major version 3 with minor ≤ 4, a record length
//     between 1 and 2^14, handshake type 1 or 2, and — when the record and
//     b hold them — a hello length of at least 38 and a hello version with
//     major byte 3;
//   - alert: type 21, major 3, minor ≤ 4, length 2, level 1 or 2.
//
// It needs at least 6 bytes (7 for an alert) and returns false with fewer:
// call it again when more have arrived. Every byte it checks rules out text
// protocols: 0x15 and 0x16 are control characters no banner or request line
// starts with.
func LooksLikeTLS(b []byte) bool {
	s := cryptobyte.String(b)
	var typ, major, minor, level uint8
	var length uint16
	if !s.ReadUint8(&typ) || !s.ReadUint8(&major) || !s.ReadUint8(&minor) || !s.ReadUint16(&length) {
		return false
	}
	if major != 3 || minor > 4 {
		return false
	}
	switch ContentType(typ) {
	case ContentAlert:
		// RFC 8446 §6: struct { AlertLevel level; AlertDescription
		// description; }, two bytes in a plaintext record.
		return length == 2 && s.ReadUint8(&level) && (level == AlertLevelWarning || level == AlertLevelFatal)
	case ContentHandshake:
		// RFC 8446 §5.1: plaintext fragments are 1 to 2^14 bytes.
		if length < 1 || length > MaxPlaintext {
			return false
		}
		var ht uint8
		if !s.ReadUint8(&ht) {
			return false
		}
		if HandshakeType(ht) != TypeClientHello && HandshakeType(ht) != TypeServerHello {
			return false
		}
		// A hello may be split into records of a few bytes (RFC 8446
		// §5.1 allows it; DPI-evasion tools do it): what follows the
		// first fragment is the next record's header.
		if length < 4 {
			return true
		}
		// RFC 8446 §4.1.2, §4.1.3: a hello holds at least a version, a
		// 32-byte random, a session id length, a suite and a compression
		// method (38 bytes for a ServerHello).
		var hlen uint32
		if !s.ReadUint24(&hlen) {
			return true
		}
		if hlen < 38 || hlen > 1<<17 {
			return false
		}
		var vmajor uint8
		if length < 5 || !s.ReadUint8(&vmajor) {
			return true
		}
		// A ServerHello of draft-ietf-tls-tls13-21 and earlier carries the
		// draft version (0x7fNN) in its version field.
		return vmajor == 3 || vmajor == 0x7f && HandshakeType(ht) == TypeServerHello
	}
	return false
}

// LooksLikeSSLv2 reports whether b, the first bytes of a stream, plausibly
// starts with an SSLv2 record (draft-hickman SSL 2.0; RFC 5246 Appendix
// E.2) carrying a CLIENT-HELLO or a SERVER-HELLO. Only the 2-byte header
// form is recognised (a hello is never padded).
//
//   - CLIENT-HELLO (message type 1) needs 11 bytes: version 0x0002 (SSL
//     2.0) or 0x0300–0x0303 (an SSLv2-compatible SSLv3/TLS hello), a
//     non-zero cipher-specs length that is a multiple of 3, a session-id
//     length ≤ 32, a challenge length of 16–32, and a record length equal
//     to 9 plus those three lengths.
//   - SERVER-HELLO (message type 4) needs 13 bytes: session-id-hit 0 or 1,
//     version 0x0002, a cipher-specs length that is a multiple of 3, a
//     connection-id length of 16–32 and a record length that covers the
//     three variable fields.
//
// With fewer bytes it returns false.
func LooksLikeSSLv2(b []byte) bool {
	s := cryptobyte.String(b)
	var hdr uint16
	var msgType uint8
	if !s.ReadUint16(&hdr) || hdr&0x8000 == 0 || !s.ReadUint8(&msgType) {
		return false
	}
	length := int(hdr & 0x7fff)
	switch msgType {
	case SSLv2MsgClientHello:
		var version, specsLen, sidLen, chLen uint16
		if !s.ReadUint16(&version) || !s.ReadUint16(&specsLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chLen) {
			return false
		}
		if version != uint16(VersionSSL20) && (version < uint16(VersionSSL30) || version > uint16(VersionTLS12)) {
			return false
		}
		return specsLen > 0 && specsLen%3 == 0 && sidLen <= 32 && chLen >= 16 && chLen <= 32 &&
			length == 9+int(specsLen)+int(sidLen)+int(chLen)
	case SSLv2MsgServerHello:
		var hit, certType uint8
		var version, certLen, specsLen, connLen uint16
		if !s.ReadUint8(&hit) || !s.ReadUint8(&certType) || !s.ReadUint16(&version) ||
			!s.ReadUint16(&certLen) || !s.ReadUint16(&specsLen) || !s.ReadUint16(&connLen) {
			return false
		}
		return hit <= 1 && version == uint16(VersionSSL20) && specsLen%3 == 0 &&
			connLen >= 16 && connLen <= 32 && length == 11+int(certLen)+int(specsLen)+int(connLen)
	}
	return false
}
