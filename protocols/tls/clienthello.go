package tls

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

const chWhat = "ClientHello"

// Limits of the ClientHello syntax (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).
const (
	chRandomLen       = 32
	chMaxSessionID    = 32
	chMaxCipherSuites = (1<<16 - 2) / 2 // cipher_suites<2..2^16-2>
	chMaxCompression  = 1<<8 - 1
	chMaxExtensions   = 1<<16 - 1 // the extensions block's uint16 length

	// chMaxBody is the longest body the syntax allows: version, random,
	// the four length-prefixed fields at their maximum.
	chMaxBody = 2 + chRandomLen + 1 + chMaxSessionID + 2 + 2*chMaxCipherSuites +
		1 + chMaxCompression + 2 + chMaxExtensions
)

// F5 workaround bounds (RFC 7685 §4): some F5 BIG-IP terminators hang on a
// ClientHello whose handshake message is 256 to 511 bytes long.
const (
	chF5Min    = 256
	chF5Target = 512
)

// Marshal returns the ClientHello as a handshake message: the 4-byte header
// (msg_type client_hello, uint24 length) and the body (RFC 8446 §4.1.2,
// RFC 5246 §7.4.1.2). It writes the raw fields exactly as they are, without
// validating or reordering code points, with two conventions:
//
//   - a nil CompressionMethods is written as [0] (null); a non-nil empty
//     slice is written as an empty list;
//   - the extensions block is written when HasExtensions is true or
//     Extensions is non-empty; otherwise the hello ends after the
//     compression methods, as an SSLv3 hello does.
//
// An empty CipherSuites is written as an empty list. Random must be 32 bytes
// (an error wrapping ErrMalformed otherwise); a field longer than its length
// prefix allows, such as a SessionID over 32 bytes, more than 32767 cipher
// suites or an extension over 65535 bytes, is an error wrapping ErrTooLarge.
// RecordVersion, the decoded fields and the SSLv2 fields are ignored: the
// result is always a TLS-format hello.
func (m *ClientHello) Marshal() ([]byte, error) {
	if err := m.chCheck(); err != nil {
		return nil, err
	}
	comp := m.CompressionMethods
	if comp == nil {
		comp = []uint8{0}
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, m.chSizeHint()))
	chAddHandshake(b, TypeClientHello, func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(m.Version))
		b.AddBytes(m.Random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(m.SessionID)
		})
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			extAddUint16List(b, m.CipherSuites)
		})
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(comp)
		})
		if !m.HasExtensions && len(m.Extensions) == 0 {
			return
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range m.Extensions {
				b.AddUint16(e.Type)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddBytes(e.Data)
				})
			}
		})
	})
	msg, err := b.Bytes()
	if err != nil {
		// chCheck covers every length; this is defence in depth.
		return nil, fmt.Errorf("tls: ClientHello: %v: %w", err, ErrTooLarge)
	}
	return msg, nil
}

// chCheck reports the first raw field that cannot be encoded, with a
// message naming it.
func (m *ClientHello) chCheck() error {
	if len(m.Random) != chRandomLen {
		return fmt.Errorf("tls: ClientHello: random is %d bytes, must be %d: %w", len(m.Random), chRandomLen, ErrMalformed)
	}
	if len(m.SessionID) > chMaxSessionID {
		return fmt.Errorf("tls: ClientHello: legacy_session_id is %d bytes, at most %d: %w", len(m.SessionID), chMaxSessionID, ErrTooLarge)
	}
	if len(m.CipherSuites) > chMaxCipherSuites {
		return fmt.Errorf("tls: ClientHello: %d cipher suites, at most %d: %w", len(m.CipherSuites), chMaxCipherSuites, ErrTooLarge)
	}
	if len(m.CompressionMethods) > chMaxCompression {
		return fmt.Errorf("tls: ClientHello: %d compression methods, at most %d: %w", len(m.CompressionMethods), chMaxCompression, ErrTooLarge)
	}
	total := 0
	for _, e := range m.Extensions {
		if len(e.Data) > extMaxData {
			return fmt.Errorf("tls: ClientHello: %s data is %d bytes, at most %d (or a builder got arguments it cannot encode): %w",
				extFieldName(e.Type), len(e.Data), extMaxData, ErrTooLarge)
		}
		total += 4 + len(e.Data)
	}
	if total > chMaxExtensions {
		return fmt.Errorf("tls: ClientHello: extensions block is %d bytes, at most %d: %w", total, chMaxExtensions, ErrTooLarge)
	}
	return nil
}

// chSizeHint estimates the marshaled size, only to size the buffer.
func (m *ClientHello) chSizeHint() int {
	n := 4 + 2 + chRandomLen + 1 + len(m.SessionID) + 2 + 2*len(m.CipherSuites) + 1 + max(len(m.CompressionMethods), 1) + 2
	for _, e := range m.Extensions {
		n += 4 + len(e.Data)
	}
	return n
}

// MarshalRecords returns the handshake message of Marshal wrapped in TLS
// records (RFC 8446 §5.1): content type handshake (22), record version
// RecordVersion or, when it is zero, TLS 1.0 (0x0301) as most clients send,
// fragments of at most 2^14 bytes.
func (m *ClientHello) MarshalRecords() ([]byte, error) {
	msg, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	vers := m.RecordVersion
	if vers == 0 {
		vers = VersionTLS10
	}
	dst := make([]byte, 0, len(msg)+5*(len(msg)/chMaxFragment+1))
	return chAppendRecords(dst, ContentHandshake, vers, msg)
}

// PadForF5 adds the padding extension the way BoringSSL and OpenSSL do to
// work around F5 terminators (RFC 7685 §4): when the handshake message
// (header included) without padding would be 256 to 511 bytes long, a
// padding extension is added that brings it to exactly 512 bytes; when
// there is no room for the 4-byte extension header and at least one data
// byte (511 - 507 bytes), a 1-byte padding is added instead and the hello
// ends up slightly over 512 bytes. The padding is placed last, or just
// before a trailing pre_shared_key, which must stay last (RFC 8446
// §4.2.11). A hello without an extensions block gets one.
//
// Any padding extension already in m is removed first, so PadForF5 is
// idempotent and its result depends only on the other fields. It fails only
// if m cannot be marshaled.
func (m *ClientHello) PadForF5() error {
	exts := slices.DeleteFunc(slices.Clone(m.Extensions), func(e Extension) bool {
		return e.Type == ExtPadding
	})
	tmp := *m
	tmp.Extensions = exts
	msg, err := tmp.Marshal()
	if err != nil {
		return err
	}
	if len(msg) < chF5Min || len(msg) >= chF5Target {
		m.Extensions = exts
		return nil
	}
	at := len(exts)
	if at > 0 && exts[at-1].Type == ExtPreSharedKey {
		at--
	}
	// Measure the hello with an empty padding extension in place: it
	// includes the extension's header and, if it was absent, the block.
	tmp.Extensions = slices.Insert(exts, at, Extension{Type: ExtPadding, Data: []byte{}})
	if msg, err = tmp.Marshal(); err != nil {
		return err
	}
	// WebSphere 7 rejects an empty last extension, hence at least one byte.
	tmp.Extensions[at].Data = make([]byte, max(chF5Target-len(msg), 1))
	m.Extensions = tmp.Extensions
	return nil
}

// ParseClientHello parses a complete ClientHello handshake message, header
// included (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2; SSLv3 hellos without an
// extensions block too), and decodes its known extensions with
// DecodeExtensions.
//
// Errors are *ParseError values wrapping: ErrUnexpected when msg_type is not
// client_hello; ErrTruncated when msg is shorter than its header says;
// ErrTooLarge when the length exceeds the largest possible ClientHello
// (131,396 bytes); ErrMalformed for trailing bytes and for fields that do
// not fit the body. The result never aliases msg: every slice is a copy,
// sharing one private buffer.
func ParseClientHello(msg []byte) (*ClientHello, error) {
	s := cryptobyte.String(msg)
	var typ uint8
	var n uint32
	if !s.ReadUint8(&typ) {
		return nil, perr(chWhat, "msg_type", ErrTruncated)
	}
	if HandshakeType(typ) != TypeClientHello {
		return nil, perr(chWhat, "msg_type", ErrUnexpected)
	}
	if !s.ReadUint24(&n) {
		return nil, perr(chWhat, "length", ErrTruncated)
	}
	if n > chMaxBody {
		return nil, perr(chWhat, "length", ErrTooLarge)
	}
	var body []byte
	if !s.ReadBytes(&body, int(n)) {
		return nil, perr(chWhat, "length", ErrTruncated)
	}
	if !s.Empty() {
		return nil, perr(chWhat, "length", ErrMalformed)
	}
	// One copy of the body; every byte slice of the result points into it,
	// clipped so that appending to one field cannot overwrite the next.
	m, err := chParseBody(bytes.Clone(body))
	if err != nil {
		return nil, err
	}
	if err := DecodeExtensions(m); err != nil {
		return nil, err
	}
	return m, nil
}

// chParseBody parses the body of a ClientHello. It keeps sub-slices of body.
func chParseBody(body []byte) (*ClientHello, error) {
	s := cryptobyte.String(body)
	m := &ClientHello{}
	var vers uint16
	if !s.ReadUint16(&vers) {
		return nil, perr(chWhat, "legacy_version", ErrMalformed)
	}
	m.Version = Version(vers)
	if !s.ReadBytes(&m.Random, chRandomLen) {
		return nil, perr(chWhat, "random", ErrMalformed)
	}
	m.Random = slices.Clip(m.Random)

	// legacy_session_id<0..32>.
	var sid cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&sid) || len(sid) > chMaxSessionID {
		return nil, perr(chWhat, "legacy_session_id", ErrMalformed)
	}
	m.SessionID = slices.Clip([]byte(sid))

	// cipher_suites<2..2^16-2>; an empty list is accepted.
	var suites cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&suites) || !extReadUint16s(suites, &m.CipherSuites) {
		return nil, perr(chWhat, "cipher_suites", ErrMalformed)
	}

	// legacy_compression_methods<1..2^8-1>; an empty list is accepted and
	// kept non-nil, so that Marshal writes it back empty.
	var comp cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&comp) {
		return nil, perr(chWhat, "legacy_compression_methods", ErrMalformed)
	}
	m.CompressionMethods = slices.Clip([]byte(comp))

	// RFC 5246 §7.4.1.2: the extensions block may be absent (SSLv3, early
	// TLS clients); RFC 8446 §4.1.2 makes it mandatory for TLS 1.3.
	if s.Empty() {
		return m, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, perr(chWhat, "extensions", ErrMalformed)
	}
	m.HasExtensions = true

	// RFC 8446 §4.2: Extension { ExtensionType extension_type;
	// opaque extension_data<0..2^16-1>; }. A first pass validates the
	// framing and counts, so that the slice is allocated once.
	count := 0
	for scan := exts; !scan.Empty(); count++ {
		var typ uint16
		var data cryptobyte.String
		if !scan.ReadUint16(&typ) || !scan.ReadUint16LengthPrefixed(&data) {
			return nil, perr(chWhat, "extensions", ErrMalformed)
		}
	}
	m.Extensions = make([]Extension, 0, count)
	for !exts.Empty() {
		var e Extension
		if !exts.ReadUint16(&e.Type) || !exts.ReadUint16LengthPrefixed((*cryptobyte.String)(&e.Data)) {
			return nil, perr(chWhat, "extensions", ErrMalformed) // unreachable after the first pass
		}
		e.Data = slices.Clip(e.Data)
		m.Extensions = append(m.Extensions, e)
	}
	return m, nil
}
