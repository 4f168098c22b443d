package tls

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// The HelloRetryRequest of the TLS 1.3 drafts before 22 was a handshake
// message of its own, type 6, whose layout changed three times. Its first
// field is the server's version (the draft number 0x7fNN from draft 16 on,
// { 3, 4 } in drafts 14 and 15), which says which layout follows:
//
//	drafts 14 and earlier: server_version, cipher_suite, selected_group,
//	                       extensions<0..2^16-1> (draft-14 §4.1.3)
//	draft 15:              server_version, selected_group,
//	                       extensions<0..2^16-1> (draft-15 §4.1.4)
//	drafts 16 to 18:       server_version, extensions<2..2^16-1>
//	                       (draft-18 §4.1.4; selected_group moved to the
//	                       key_share extension in draft 16)
//	drafts 19 to 21:       server_version, cipher_suite,
//	                       extensions<2..2^16-1> (draft-19, draft-21 §4.1.4)
//
// Draft 22 replaced it with a ServerHello carrying a special random
// (draft-22 §4.1.3), which ParseServerHello reads.

// hrrLayout is one of the draft HelloRetryRequest layouts.
type hrrLayout uint8

const (
	hrrDraft14 hrrLayout = iota + 1 // cipher_suite, selected_group
	hrrDraft15                      // selected_group
	hrrDraft16                      // extensions only
	hrrDraft19                      // cipher_suite
)

// hrrLayoutOf returns the layout of a draft HelloRetryRequest of version v;
// for 0x0304 (drafts 14 and 15) both layouts are candidates, the longer
// first.
func hrrLayoutOf(v Version) []hrrLayout {
	if v == VersionTLS13 {
		return []hrrLayout{hrrDraft14, hrrDraft15}
	}
	if v&0xff00 != 0x7f00 {
		return nil
	}
	switch n := uint8(v); {
	case n <= 14:
		return []hrrLayout{hrrDraft14}
	case n == 15:
		return []hrrLayout{hrrDraft15}
	case n <= 18:
		return []hrrLayout{hrrDraft16}
	case n <= 21:
		return []hrrLayout{hrrDraft19}
	}
	return nil
}

// ParseDraftHelloRetryRequest parses the HelloRetryRequest of a TLS 1.3
// draft up to 21 (handshake type 6, 4-byte header included; the layouts
// are described above). It returns a ServerHello with HelloRetryRequest
// set, no Random and no SessionID, the version and, where the layout has
// them, the cipher suite and KeyShareGroup (from selected_group in drafts
// 14 and 15, from the key_share extension, number 40, later). Another
// message type is ErrUnexpected; a version that had no such message (a
// draft from 22 on, or not TLS 1.3) or bytes that do not fit the layout
// are ErrMalformed. Everything returned is copied out of msg.
func ParseDraftHelloRetryRequest(msg []byte) (*ServerHello, error) {
	const what = "HelloRetryRequest (draft)"
	body, err := shBody(msg, TypeHelloRetryRequestDraft, what)
	if err != nil {
		return nil, err
	}
	body = cryptobyte.String(bytes.Clone(body))
	var version uint16
	s := body
	if !s.ReadUint16(&version) {
		return nil, perr(what, "server_version", ErrMalformed)
	}
	layouts := hrrLayoutOf(Version(version))
	if layouts == nil {
		return nil, perr(what, "server_version", ErrMalformed)
	}
	for i, l := range layouts {
		m, err := hrrParse(Version(version), l, s)
		if err == nil || i == len(layouts)-1 {
			return m, err
		}
	}
	return nil, perr(what, "server_version", ErrMalformed) // not reached
}

func hrrParse(v Version, l hrrLayout, s cryptobyte.String) (*ServerHello, error) {
	const what = "HelloRetryRequest (draft)"
	m := &ServerHello{Version: v, HelloRetryRequest: true, HasExtensions: true, DraftLayout: true}
	if (l == hrrDraft14 || l == hrrDraft19) && !s.ReadUint16(&m.CipherSuite) {
		return nil, perr(what, "cipher_suite", ErrMalformed)
	}
	// With version 0x0304 a draft-14 layout is told from a draft-15 one
	// by its cipher suite, which cannot be TLS_NULL_WITH_NULL_NULL
	// (RFC 5246 Appendix A.5: it "MUST NOT be negotiated").
	if l == hrrDraft14 && v == VersionTLS13 && m.CipherSuite == 0 {
		return nil, perr(what, "cipher_suite", ErrMalformed)
	}
	if (l == hrrDraft14 || l == hrrDraft15) && !s.ReadUint16(&m.KeyShareGroup) {
		return nil, perr(what, "selected_group", ErrMalformed)
	}
	var block cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&block) || !s.Empty() {
		return nil, perr(what, "extensions", ErrMalformed)
	}
	// From draft 16 on: extensions<2..2^16-1>, never empty.
	if (l == hrrDraft16 || l == hrrDraft19) && block.Empty() {
		return nil, perr(what, "extensions", ErrMalformed)
	}
	var err error
	if m.Extensions, err = shReadExtensions(block, what); err != nil {
		return nil, err
	}
	group := m.KeyShareGroup
	if err := shDecodeExtensions(m); err != nil {
		return nil, err
	}
	if l == hrrDraft14 || l == hrrDraft15 {
		// selected_group was a field: a key_share extension (not defined
		// in a HelloRetryRequest then) does not override it.
		m.KeyShareGroup = group
	}
	return m, nil
}

// MarshalDraftHelloRetryRequest writes h as the HelloRetryRequest of the
// draft its Version names (see ParseDraftHelloRetryRequest): Version, then CipherSuite and KeyShareGroup where
// the layout has them, then Extensions as given. Version 0x0304 selects
// the draft-14 layout when CipherSuite is set, the draft-15 one otherwise.
// A Version without such a message is ErrMalformed; extensions beyond
// 2^16-1 bytes ErrTooLarge.
func MarshalDraftHelloRetryRequest(h *ServerHello) ([]byte, error) {
	const what = "HelloRetryRequest (draft)"
	layouts := hrrLayoutOf(h.Version)
	if layouts == nil {
		return nil, perr(what, "server_version", ErrMalformed)
	}
	l := layouts[0]
	if h.Version == VersionTLS13 && h.CipherSuite == 0 {
		l = hrrDraft15
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(uint8(TypeHelloRetryRequestDraft))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(uint16(h.Version))
		if l == hrrDraft14 || l == hrrDraft19 {
			b.AddUint16(h.CipherSuite)
		}
		if l == hrrDraft14 || l == hrrDraft15 {
			b.AddUint16(h.KeyShareGroup)
		}
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, e := range h.Extensions {
				b.AddUint16(e.Type)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(e.Data) })
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, perr(what, "extensions", ErrTooLarge)
	}
	return out, nil
}
