package tls

import "golang.org/x/crypto/cryptobyte"

// What the first bytes of a stream say about it being TLS: not TLS, too
// short to tell, or TLS.
type startVerdict uint8

const (
	startNo startVerdict = iota
	startMore
	startYes
)

// MaybeTLS reports whether b, the first bytes one side of a connection
// sent, is or could still become the start of a TLS or SSLv2 stream: it is
// false only when no continuation of b can start one. The bytes are judged
// as LooksLikeTLS and LooksLikeSSLv2 judge them, each field once all of its
// bytes are there, plus one more start LooksLikeSSLv2 leaves out: the SSLv2
// ERROR a server sends instead of a SERVER-HELLO (message type 0, record
// length 3, error code 1, 2, 4 or 6). So:
//
//   - 0 bytes: true.
//   - 1 byte: 0x16 (handshake), 0x15 (alert), or any byte with the high
//     bit set (an SSLv2 2-byte record header).
//   - 2 bytes: TLS needs major version 3 in the second byte; SSLv2 accepts
//     any second byte (the low byte of the record length).
//   - 3 bytes: TLS needs a minor version ≤ 4; SSLv2 needs message type 1
//     (CLIENT-HELLO), 4 (SERVER-HELLO) or 0 (ERROR).
//   - 4 bytes: an SSLv2 SERVER-HELLO's session-id-hit must be 0 or 1;
//     nothing more for TLS (its record length is two bytes).
//   - 5 bytes: the TLS record length: 2 for an alert, 1 to 2^14 for a
//     handshake; an SSLv2 CLIENT-HELLO's version (0x0002, or 0x0300 to
//     0x0303 for an SSLv2-compatible hello); an SSLv2 ERROR is decided.
//   - 6 bytes: a TLS record is decided (alert level 1 or 2, handshake type
//     1 or 2); SSLv2 goes on field by field up to 11 bytes (CLIENT-HELLO)
//     or 13 (SERVER-HELLO).
//
// From 13 bytes on, MaybeTLS(b) is LooksLikeTLS(b) || LooksLikeSSLv2(b) or
// a complete SSLv2 ERROR. A TLS stream that starts with another record
// type (change_cipher_spec, application data: a capture begun
// mid-connection) is not a start.
func MaybeTLS(b []byte) bool {
	return tlsStart(b) != startNo || sslv2Start(b, true) != startNo
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
// It needs at least 6 bytes and returns false with fewer: call it again
// when more have arrived (MaybeTLS tells whether that can help). Every byte
// it checks rules out text protocols: 0x15 and 0x16 are control characters
// no banner or request line starts with.
func LooksLikeTLS(b []byte) bool { return tlsStart(b) == startYes }

func tlsStart(b []byte) startVerdict {
	s := cryptobyte.String(b)
	var typ, major, minor, level uint8
	var length uint16
	if !s.ReadUint8(&typ) {
		return startMore
	}
	if ContentType(typ) != ContentHandshake && ContentType(typ) != ContentAlert {
		return startNo
	}
	if !s.ReadUint8(&major) {
		return startMore
	}
	if major != 3 {
		return startNo
	}
	if !s.ReadUint8(&minor) {
		return startMore
	}
	if minor > 4 {
		return startNo
	}
	if !s.ReadUint16(&length) {
		return startMore
	}
	if ContentType(typ) == ContentAlert {
		// RFC 8446 §6: struct { AlertLevel level; AlertDescription
		// description; }, two bytes in a plaintext record.
		if length != 2 {
			return startNo
		}
		if !s.ReadUint8(&level) {
			return startMore
		}
		return verdict(level == AlertLevelWarning || level == AlertLevelFatal)
	}
	// RFC 8446 §5.1: plaintext fragments are 1 to 2^14 bytes.
	if length < 1 || length > MaxPlaintext {
		return startNo
	}
	var ht uint8
	if !s.ReadUint8(&ht) {
		return startMore
	}
	if HandshakeType(ht) != TypeClientHello && HandshakeType(ht) != TypeServerHello {
		return startNo
	}
	// A hello may be split into records of a few bytes (RFC 8446
	// §5.1 allows it; DPI-evasion tools do it): what follows the
	// first fragment is the next record's header.
	if length < 4 {
		return startYes
	}
	// RFC 8446 §4.1.2, §4.1.3: a hello holds at least a version, a
	// 32-byte random, a session id length, a suite and a compression
	// method (38 bytes for a ServerHello).
	var hlen uint32
	if !s.ReadUint24(&hlen) {
		return startYes
	}
	if hlen < 38 || hlen > 1<<17 {
		return startNo
	}
	var vmajor uint8
	if length < 5 || !s.ReadUint8(&vmajor) {
		return startYes
	}
	// A ServerHello of draft-ietf-tls-tls13-21 and earlier carries the
	// draft version (0x7fNN) in its version field.
	return verdict(vmajor == 3 || vmajor == 0x7f && HandshakeType(ht) == TypeServerHello)
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
func LooksLikeSSLv2(b []byte) bool { return sslv2Start(b, false) == startYes }

// sslv2Start judges an SSLv2 start; withError admits a server's ERROR
// message in place of a SERVER-HELLO.
func sslv2Start(b []byte, withError bool) startVerdict {
	s := cryptobyte.String(b)
	if len(b) > 0 && b[0]&0x80 == 0 {
		return startNo
	}
	var hdr uint16
	var msgType uint8
	if !s.ReadUint16(&hdr) || !s.ReadUint8(&msgType) {
		return startMore
	}
	length := int(hdr & 0x7fff)
	switch msgType {
	case SSLv2MsgClientHello:
		var version, specsLen, sidLen, chLen uint16
		if !s.ReadUint16(&version) {
			return startMore
		}
		if version != uint16(VersionSSL20) && (version < uint16(VersionSSL30) || version > uint16(VersionTLS12)) {
			return startNo
		}
		if !s.ReadUint16(&specsLen) {
			return startMore
		}
		if specsLen == 0 || specsLen%3 != 0 {
			return startNo
		}
		if !s.ReadUint16(&sidLen) {
			return startMore
		}
		if sidLen > 32 {
			return startNo
		}
		if !s.ReadUint16(&chLen) {
			return startMore
		}
		return verdict(chLen >= 16 && chLen <= 32 && length == 9+int(specsLen)+int(sidLen)+int(chLen))
	case SSLv2MsgServerHello:
		var hit, certType uint8
		var version, certLen, specsLen, connLen uint16
		if !s.ReadUint8(&hit) {
			return startMore
		}
		if hit > 1 {
			return startNo
		}
		if !s.ReadUint8(&certType) || !s.ReadUint16(&version) {
			return startMore
		}
		if version != uint16(VersionSSL20) {
			return startNo
		}
		if !s.ReadUint16(&certLen) || !s.ReadUint16(&specsLen) {
			return startMore
		}
		if specsLen%3 != 0 {
			return startNo
		}
		if !s.ReadUint16(&connLen) {
			return startMore
		}
		return verdict(connLen >= 16 && connLen <= 32 && length == 11+int(certLen)+int(specsLen)+int(connLen))
	case SSLv2MsgError:
		if !withError || length != 3 {
			return startNo
		}
		var code uint16
		if !s.ReadUint16(&code) {
			return startMore
		}
		switch SSLv2ErrorCode(code) {
		case SSLv2ErrNoCipher, SSLv2ErrNoCertificate, SSLv2ErrBadCertificate, SSLv2ErrUnsupportedCertificateType:
			return startYes
		}
	}
	return startNo
}

func verdict(ok bool) startVerdict {
	if ok {
		return startYes
	}
	return startNo
}
