package tls

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Framing helpers for the builders. They are unexported and prefixed with
// "ch" because the record and stream code of the package has its own.

// chMaxFragment is the largest TLSPlaintext.fragment a record may carry
// (RFC 8446 §5.1, RFC 5246 §6.2.1: 2^14 bytes).
const chMaxFragment = 1 << 14

// chAddHandshake writes a handshake message header of type typ
// (RFC 8446 §4: msg_type uint8, length uint24) followed by the body that
// body writes.
func chAddHandshake(b *cryptobyte.Builder, typ HandshakeType, body cryptobyte.BuilderContinuation) {
	b.AddUint8(uint8(typ))
	b.AddUint24LengthPrefixed(body)
}

// chAppendRecords appends payload to dst as a sequence of TLSPlaintext
// records (RFC 8446 §5.1, RFC 5246 §6.2.1) of content type ct and record
// version vers, each fragment at most 2^14 bytes. An empty payload yields
// no record: zero-length handshake fragments are not allowed.
func chAppendRecords(dst []byte, ct ContentType, vers Version, payload []byte) ([]byte, error) {
	b := cryptobyte.NewBuilder(dst)
	s := cryptobyte.String(payload)
	for !s.Empty() {
		var frag []byte
		if !s.ReadBytes(&frag, min(len(s), chMaxFragment)) {
			return nil, fmt.Errorf("tls: record: cannot split payload")
		}
		b.AddUint8(uint8(ct))
		b.AddUint16(uint16(vers))
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(frag)
		})
	}
	return b.Bytes()
}
