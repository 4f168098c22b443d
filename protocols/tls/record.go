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
