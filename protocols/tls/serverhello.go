package tls

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// HelloRetryRequestRandom is the value of ServerHello.random that marks a
// HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). It is a
// string constant so that it cannot be modified; []byte(HelloRetryRequestRandom)
// gives the 32 bytes.
const HelloRetryRequestRandom = "\xcf\x21\xad\x74\xe5\x9a\x61\x11\xbe\x1d\x8c\x02\x1e\x65\xb8\x91" +
	"\xc2\xa2\x11\x16\x7a\xbb\x8c\x5e\x07\x9e\x09\xe2\xc8\xa8\x33\x9c"

// shBody checks the 4-byte handshake header of msg (RFC 8446 §4: msg_type,
// uint24 length) and returns the body. A different msg_type is
// ErrUnexpected; input shorter than the header or the declared length is
// ErrTruncated; bytes after the body are ErrMalformed.
func shBody(msg []byte, want HandshakeType, what string) (cryptobyte.String, error) {
	s := cryptobyte.String(msg)
	var typ uint8
	var length uint32
	if !s.ReadUint8(&typ) {
		return nil, perr(what, "msg_type", ErrTruncated)
	}
	if HandshakeType(typ) != want {
		return nil, perr(what, "msg_type", ErrUnexpected)
	}
	if !s.ReadUint24(&length) {
		return nil, perr(what, "length", ErrTruncated)
	}
	var body []byte
	if !s.ReadBytes(&body, int(length)) {
		return nil, perr(what, "body", ErrTruncated)
	}
	if !s.Empty() {
		return nil, perr(what, "trailing data", ErrMalformed)
	}
	return cryptobyte.String(body), nil
}

// shClip limits b's capacity to its length, so that appending to one field
// of a parsed message cannot overwrite the next one in the shared copy.
func shClip(b []byte) []byte { return b[:len(b):len(b)] }

// shReadExtensions reads an extension block's contents (RFC 8446 §4.2:
// Extension extensions<0..2^16-1>, each a uint16 type and opaque
// extension_data<0..2^16-1>) and rejects duplicates (RFC 8446 §4.2: "There
// MUST NOT be more than one extension of the same type in a given extension
// block"). Data slices alias s.
func shReadExtensions(s cryptobyte.String, what string) ([]Extension, error) {
	var exts []Extension
	for !s.Empty() {
		var typ uint16
		var data cryptobyte.String
		if !s.ReadUint16(&typ) || !s.ReadUint16LengthPrefixed(&data) {
			return nil, perr(what, "extensions", ErrMalformed)
		}
		exts = append(exts, Extension{Type: typ, Data: shClip(data)})
	}
	if shHasDuplicate(exts) {
		return nil, perr(what, "duplicate extension", ErrMalformed)
	}
	return exts, nil
}

// shHasDuplicate reports whether an extension type occurs twice. Small
// blocks are compared pairwise; large ones (possible only in hostile input)
// go through a map, so the cost stays linear.
func shHasDuplicate(exts []Extension) bool {
	if len(exts) <= 16 {
		for i := range exts {
			for j := i + 1; j < len(exts); j++ {
				if exts[i].Type == exts[j].Type {
					return true
				}
			}
		}
		return false
	}
	seen := make(map[uint16]struct{}, len(exts))
	for _, e := range exts {
		if _, ok := seen[e.Type]; ok {
			return true
		}
		seen[e.Type] = struct{}{}
	}
	return false
}

// ParseServerHello parses a ServerHello or HelloRetryRequest handshake
// message, 4-byte header included (RFC 8446 §4.1.3, §4.1.4; RFC 5246
// §7.4.1.3; RFC 6101 §5.6.1.3). A message of another type is ErrUnexpected
// (the HelloRetryRequest of drafts up to 21 has a type of its own: see
// ParseDraftHelloRetryRequest). A ServerHello without an extensions block
// (SSLv3, or TLS without extensions) parses with HasExtensions false. A
// ServerHello of TLS 1.3 drafts 0x7f00–0x7f15, and one of version 0x0304
// that fits it (drafts 14 and 15 wrote { 3, 4 }), has the older draft
// layout (no session id, no compression method; see Marshal) and parses
// with an empty SessionID and DraftLayout set; in drafts up to 22,
// key_share is extension 40.
//
// The decoded fields are filled from the extensions: supported_versions,
// key_share (the server_share group, or a HelloRetryRequest's
// selected_group), application_layer_protocol_negotiation,
// renegotiation_info and extended_master_secret; each must match its
// syntax, and an extension type may occur only once, else ErrMalformed.
// Other extensions are kept raw in Extensions. Everything returned is copied
// out of msg.
func ParseServerHello(msg []byte) (*ServerHello, error) {
	const what = "ServerHello"
	body, err := shBody(msg, TypeServerHello, what)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(bytes.Clone(body))
	m := new(ServerHello)

	var version uint16
	var random []byte
	var sid cryptobyte.String
	// RFC 8446 §4.1.3: ProtocolVersion legacy_version = 0x0303; RFC 5246
	// §7.4.1.3: server_version.
	if !s.ReadUint16(&version) {
		return nil, perr(what, "legacy_version", ErrMalformed)
	}
	m.Version = Version(version)
	// RFC 8446 §4.1.3: Random random (32 bytes).
	if !s.ReadBytes(&random, 32) {
		return nil, perr(what, "random", ErrMalformed)
	}
	m.Random = shClip(random)
	m.HelloRetryRequest = string(random) == HelloRetryRequestRandom
	if shDraftForm(m.Version) {
		return shParseDraft(m, s)
	}
	if m.Version == VersionTLS13 {
		// draft-ietf-tls-tls13-14 and -15 §4.1.2/§4.1.3 wrote { 3, 4 } in
		// the draft layout before the 0x7fNN draft numbers (draft-16
		// §4.2.1.1); RFC 8446 never puts 0x0304 in legacy_version. Try
		// that layout first.
		if d, err := shParseDraft(&ServerHello{Version: m.Version, Random: m.Random}, s); err == nil {
			return d, nil
		}
	}
	// RFC 8446 §4.1.3: opaque legacy_session_id_echo<0..32>.
	if !s.ReadUint8LengthPrefixed(&sid) || len(sid) > 32 {
		return nil, perr(what, "legacy_session_id_echo", ErrMalformed)
	}
	m.SessionID = shClip(sid)
	// RFC 8446 §4.1.3: CipherSuite cipher_suite; uint8
	// legacy_compression_method.
	if !s.ReadUint16(&m.CipherSuite) {
		return nil, perr(what, "cipher_suite", ErrMalformed)
	}
	if !s.ReadUint8(&m.CompressionMethod) {
		return nil, perr(what, "compression_method", ErrMalformed)
	}
	// RFC 5246 §7.4.1.3: the extensions block is present only when the
	// message continues after compression_method.
	if s.Empty() {
		return m, nil
	}
	var block cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&block) || !s.Empty() {
		return nil, perr(what, "extensions", ErrMalformed)
	}
	m.HasExtensions = true
	m.Extensions, err = shReadExtensions(block, what)
	if err != nil {
		return nil, err
	}
	if err := shDecodeExtensions(m); err != nil {
		return nil, err
	}
	return m, nil
}

// shDraftForm reports whether a ServerHello with legacy_version v has the
// layout of draft-ietf-tls-tls13-21 and earlier (§4.1.3 of those drafts):
// the draft version itself in the version field, then random, cipher_suite
// and extensions — no session id echo and no compression method, which
// draft 22 brought back for middlebox compatibility.
func shDraftForm(v Version) bool {
	return v&0xff00 == 0x7f00 && v&0xff < 22
}

// shParseDraft parses the rest of a draft-21-or-earlier ServerHello: s
// holds what follows the random.
func shParseDraft(m *ServerHello, s cryptobyte.String) (*ServerHello, error) {
	const what = "ServerHello"
	m.SessionID = []byte{}
	m.DraftLayout = true
	// draft-ietf-tls-tls13-21 §4.1.3: CipherSuite cipher_suite; Extension
	// extensions<6..2^16-1> (always present).
	if !s.ReadUint16(&m.CipherSuite) {
		return nil, perr(what, "cipher_suite", ErrMalformed)
	}
	var block cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&block) || !s.Empty() {
		return nil, perr(what, "extensions", ErrMalformed)
	}
	m.HasExtensions = true
	var err error
	if m.Extensions, err = shReadExtensions(block, what); err != nil {
		return nil, err
	}
	if err := shDecodeExtensions(m); err != nil {
		return nil, err
	}
	return m, nil
}

// shExtKeyShareDraft is the key_share code point of
// draft-ietf-tls-tls13-22 and earlier; draft 23 moved it to 51 (RFC 8446
// §4.2) because early middleboxes choked on 40.
const shExtKeyShareDraft uint16 = 40

// shDecodeExtensions fills the decoded fields of m from m.Extensions.
func shDecodeExtensions(m *ServerHello) error {
	const what = "ServerHello"
	for _, e := range m.Extensions {
		d := cryptobyte.String(e.Data)
		switch e.Type {
		// RFC 8446 §4.2.1: in a ServerHello or HelloRetryRequest,
		// ProtocolVersion selected_version.
		case ExtSupportedVersions:
			var v uint16
			if !d.ReadUint16(&v) || !d.Empty() {
				return perr(what, "supported_versions", ErrMalformed)
			}
			m.SupportedVersion = Version(v)

		// RFC 8446 §4.2.8: a HelloRetryRequest carries NamedGroup
		// selected_group; a ServerHello carries KeyShareEntry
		// server_share { NamedGroup group; opaque
		// key_exchange<1..2^16-1>; }.
		case ExtKeyShare, shExtKeyShareDraft:
			if e.Type == shExtKeyShareDraft && !shKeyShare40(m.NegotiatedVersion()) && !m.DraftLayout {
				continue
			}
			var group uint16
			ok := d.ReadUint16(&group)
			if !m.HelloRetryRequest {
				var ke cryptobyte.String
				ok = ok && d.ReadUint16LengthPrefixed(&ke) && !ke.Empty()
			}
			if !ok || !d.Empty() {
				return perr(what, "key_share", ErrMalformed)
			}
			m.KeyShareGroup = group

		// RFC 7301 §3.1: the server's ProtocolNameList contains exactly
		// one ProtocolName, opaque<1..2^8-1>.
		case ExtALPN:
			var list, name cryptobyte.String
			if !d.ReadUint16LengthPrefixed(&list) || !d.Empty() ||
				!list.ReadUint8LengthPrefixed(&name) || name.Empty() || !list.Empty() {
				return perr(what, "application_layer_protocol_negotiation", ErrMalformed)
			}
			m.ALPN = string(name)

		// RFC 5746 §3.2: opaque renegotiated_connection<0..255>.
		case ExtRenegotiationInfo:
			var rc cryptobyte.String
			if !d.ReadUint8LengthPrefixed(&rc) || !d.Empty() {
				return perr(what, "renegotiation_info", ErrMalformed)
			}
			m.SecureRenegotiation = true

		// RFC 7627 §5.1: the extension_data field is empty.
		case ExtExtendedMasterSecret:
			if !d.Empty() {
				return perr(what, "extended_master_secret", ErrMalformed)
			}
			m.ExtendedMasterSecret = true
		}
	}
	return nil
}

// shKeyShare40 reports whether v, a negotiated version, is a TLS 1.3
// draft that numbered key_share 40 (drafts up to 22).
func shKeyShare40(v Version) bool {
	return v&0xff00 == 0x7f00 && v&0xff <= 22
}

// Marshal returns the ServerHello (or HelloRetryRequest) handshake message,
// 4-byte header included. It writes exactly the raw fields — Version,
// Random, SessionID, CipherSuite, CompressionMethod, and the extension block
// when HasExtensions is true or Extensions is non-empty — and ignores the
// decoded fields: to make a HelloRetryRequest, set Random to
// []byte(HelloRetryRequestRandom). Duplicate or malformed extensions are
// written as given, for fake servers that misbehave on purpose.
//
// A Version of 0x7f00–0x7f15 (TLS 1.3 drafts up to 21), or DraftLayout,
// selects the draft layout, which has no session id and no compression
// method and always an extension block.
//
// Errors: a Random other than 32 bytes or a SessionID over 32 bytes (or any,
// in the draft layout, or a compression method there) is ErrMalformed;
// extension data or a message beyond its length prefix is ErrTooLarge.
func (s *ServerHello) Marshal() ([]byte, error) {
	const what = "ServerHello"
	draft := shDraftForm(s.Version) || s.DraftLayout
	if len(s.Random) != 32 {
		return nil, perr(what, "random", ErrMalformed)
	}
	if len(s.SessionID) > 32 || (draft && len(s.SessionID) > 0) {
		return nil, perr(what, "legacy_session_id_echo", ErrMalformed)
	}
	if draft && s.CompressionMethod != 0 {
		return nil, perr(what, "compression_method", ErrMalformed)
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(uint8(TypeServerHello))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(s.Version))
		b.AddBytes(s.Random)
		if !draft {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(s.SessionID) })
		}
		b.AddUint16(s.CipherSuite)
		if !draft {
			b.AddUint8(s.CompressionMethod)
		}
		if draft || s.HasExtensions || len(s.Extensions) > 0 {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, e := range s.Extensions {
					b.AddUint16(e.Type)
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
				}
			})
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, perr(what, "extensions", ErrTooLarge)
	}
	return out, nil
}

// shBuild runs f on a fresh builder and returns its output as the data of
// an extension of type typ. When the arguments do not fit their length
// prefixes, the data is made one byte longer than any extension can carry,
// so that ServerHello.Marshal fails with ErrTooLarge instead of writing
// other bytes than asked for.
func shBuild(typ uint16, f cryptobyte.BuilderContinuation) Extension {
	b := cryptobyte.NewBuilder(nil)
	f(b)
	data, err := b.Bytes()
	if err != nil {
		return Extension{Type: typ, Data: make([]byte, 1<<16)}
	}
	return Extension{Type: typ, Data: data}
}

// ServerHelloSupportedVersion returns the ServerHello/HelloRetryRequest form
// of supported_versions (RFC 8446 §4.2.1): selected_version v.
func ServerHelloSupportedVersion(v Version) Extension {
	return shBuild(ExtSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(uint16(v)) })
}

// ServerHelloKeyShare returns the ServerHello form of key_share (RFC 8446
// §4.2.8): one KeyShareEntry, group and key_exchange data. Data longer than
// an extension can hold makes ServerHello.Marshal fail.
func ServerHelloKeyShare(group uint16, data []byte) Extension {
	return shBuild(ExtKeyShare, func(b *cryptobyte.Builder) {
		b.AddUint16(group)
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(data) })
	})
}

// HRRKeyShare returns the HelloRetryRequest form of key_share (RFC 8446
// §4.2.8): the selected_group alone.
func HRRKeyShare(group uint16) Extension {
	return shBuild(ExtKeyShare, func(b *cryptobyte.Builder) { b.AddUint16(group) })
}

// ServerHelloALPN returns the ServerHello form of
// application_layer_protocol_negotiation (RFC 7301 §3.1): a
// ProtocolNameList holding exactly proto. An empty proto is written as
// given (ParseServerHello rejects it); one over 255 bytes makes
// ServerHello.Marshal fail.
func ServerHelloALPN(proto string) Extension {
	return shBuild(ExtALPN, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte(proto)) })
		})
	})
}

// ParseServerHelloDone parses a ServerHelloDone handshake message (RFC 5246
// §7.4.5): msg_type 14 and an empty body. Another type is ErrUnexpected, a
// non-empty body ErrMalformed.
func ParseServerHelloDone(msg []byte) error {
	body, err := shBody(msg, TypeServerHelloDone, "ServerHelloDone")
	if err != nil {
		return err
	}
	// RFC 5246 §7.4.5: struct { } ServerHelloDone;
	if !body.Empty() {
		return perr("ServerHelloDone", "body", ErrMalformed)
	}
	return nil
}

// MarshalServerHelloDone returns a ServerHelloDone handshake message
// (RFC 5246 §7.4.5).
func MarshalServerHelloDone() []byte {
	b := cryptobyte.NewBuilder(make([]byte, 0, 4))
	b.AddUint8(uint8(TypeServerHelloDone))
	b.AddUint24LengthPrefixed(func(*cryptobyte.Builder) {})
	out, _ := b.Bytes() // cannot fail: empty body
	return out
}
