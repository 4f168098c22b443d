package tls

import (
	"fmt"
	"slices"

	"golang.org/x/crypto/cryptobyte"
)

// extMaxData is the largest extension_data a uint16 length can describe
// (RFC 8446 §4.2).
const extMaxData = 1<<16 - 1

// extBuild runs f on a fresh builder and returns its output as the data of
// an extension of type typ.
//
// The builders below never fail, so that a hello can be written as one
// composite literal. When the arguments cannot be encoded (an element or a
// list longer than its length prefix allows), the returned Data is one byte
// longer than any extension can carry, so that ClientHello.Marshal fails
// with an error wrapping ErrTooLarge instead of sending different bytes.
func extBuild(typ uint16, f cryptobyte.BuilderContinuation) Extension {
	b := cryptobyte.NewBuilder(nil)
	f(b)
	data, err := b.Bytes()
	if err != nil {
		return Extension{Type: typ, Data: make([]byte, extMaxData+1)}
	}
	return Extension{Type: typ, Data: data}
}

// extAddUint16List writes a list of uint16 values. The caller adds the
// length prefix.
func extAddUint16List(b *cryptobyte.Builder, vs []uint16) {
	for _, v := range vs {
		b.AddUint16(v)
	}
}

// ServerNameExtension returns a server_name extension (RFC 6066 §3) with a
// single host_name entry. The name is sent as given: no IDNA conversion, no
// check for a trailing dot or an IP literal.
func ServerNameExtension(host string) Extension {
	return extBuild(ExtServerName, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { // server_name_list
			b.AddUint8(0) // name_type host_name
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddBytes([]byte(host))
			})
		})
	})
}

// SupportedVersionsExtension returns the ClientHello form of
// supported_versions (RFC 8446 §4.2.1): a uint8-length list of versions, in
// the order given. At most 127 versions fit.
func SupportedVersionsExtension(versions ...uint16) Extension {
	return extBuild(ExtSupportedVersions, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			extAddUint16List(b, versions)
		})
	})
}

// SupportedGroupsExtension returns supported_groups (RFC 8446 §4.2.7; named
// "elliptic_curves" in RFC 8422 §5.1.1) listing groups in the order given.
func SupportedGroupsExtension(groups ...uint16) Extension {
	return extBuild(ExtSupportedGroups, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			extAddUint16List(b, groups)
		})
	})
}

// KeyShareExtension returns the ClientHello form of key_share (RFC 8446
// §4.2.8): one KeyShareEntry per share, in the order given. No shares gives
// an empty client_shares list, which is valid and asks the server for a
// HelloRetryRequest.
func KeyShareExtension(shares ...KeyShare) Extension {
	return extBuild(ExtKeyShare, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { // client_shares
			for _, ks := range shares {
				b.AddUint16(ks.Group)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddBytes(ks.Data)
				})
			}
		})
	})
}

// SignatureAlgorithmsExtension returns signature_algorithms (RFC 8446
// §4.2.3; RFC 5246 §7.4.1.4.1 for the TLS 1.2 hash/signature pairs, which
// share the encoding) listing schemes in the order given.
func SignatureAlgorithmsExtension(schemes ...uint16) Extension {
	return extBuild(ExtSignatureAlgorithms, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			extAddUint16List(b, schemes)
		})
	})
}

// SignatureAlgorithmsCertExtension returns signature_algorithms_cert
// (RFC 8446 §4.2.3), encoded like signature_algorithms.
func SignatureAlgorithmsCertExtension(schemes ...uint16) Extension {
	return extBuild(ExtSignatureAlgsCert, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			extAddUint16List(b, schemes)
		})
	})
}

// ALPNExtension returns application_layer_protocol_negotiation (RFC 7301
// §3.1) offering protos in the order given. Each name must be at most 255
// bytes; empty names are written as given (a conforming server rejects them).
func ALPNExtension(protos ...string) Extension {
	return extBuild(ExtALPN, func(b *cryptobyte.Builder) {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { // protocol_name_list
			for _, p := range protos {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
					b.AddBytes([]byte(p))
				})
			}
		})
	})
}

// ECPointFormatsExtension returns ec_point_formats (RFC 8422 §5.1.2), for
// example ECPointFormatsExtension(0) for "uncompressed" only.
func ECPointFormatsExtension(formats ...uint8) Extension {
	return extBuild(ExtECPointFormats, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(formats)
		})
	})
}

// RenegotiationInfoExtension returns renegotiation_info (RFC 5746 §3.2)
// carrying verifyData as renegotiated_connection. On an initial handshake
// verifyData is empty (nil), which gives the one-byte data 0x00.
func RenegotiationInfoExtension(verifyData []byte) Extension {
	return extBuild(ExtRenegotiationInfo, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(verifyData)
		})
	})
}

// ExtendedMasterSecretExtension returns the empty extended_master_secret
// extension (RFC 7627 §5.1).
func ExtendedMasterSecretExtension() Extension {
	return Extension{Type: ExtExtendedMasterSecret, Data: []byte{}}
}

// EncryptThenMACExtension returns the empty encrypt_then_mac extension
// (RFC 7366 §2).
func EncryptThenMACExtension() Extension {
	return Extension{Type: ExtEncryptThenMAC, Data: []byte{}}
}

// SessionTicketExtension returns session_ticket (RFC 5077 §3.2) carrying
// ticket as its whole data; nil or empty asks for a new ticket.
func SessionTicketExtension(ticket []byte) Extension {
	return RawExtension(ExtSessionTicket, ticket)
}

// StatusRequestExtension returns status_request (RFC 6066 §8) asking for an
// OCSP response: status_type ocsp(1), an empty responder_id_list and empty
// request_extensions.
func StatusRequestExtension() Extension {
	return extBuild(ExtStatusRequest, func(b *cryptobyte.Builder) {
		b.AddUint8(1)                                             // status_type ocsp
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {}) // responder_id_list
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {}) // request_extensions
	})
}

// PSKKeyExchangeModesExtension returns psk_key_exchange_modes (RFC 8446
// §4.2.9), for example PSKKeyExchangeModesExtension(1) for psk_dhe_ke.
func PSKKeyExchangeModesExtension(modes ...uint8) Extension {
	return extBuild(ExtPSKKeyExchangeModes, func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddBytes(modes)
		})
	})
}

// PaddingExtension returns a padding extension (RFC 7685 §3) of n zero
// bytes; n < 0 is taken as 0. See ClientHello.PadForF5 for the padding that
// real clients add.
func PaddingExtension(n int) Extension {
	return Extension{Type: ExtPadding, Data: make([]byte, max(n, 0))}
}

// RawExtension returns an extension of any type with data as its
// extension_data, copied. Use it for GREASE (RFC 8701 §3), unregistered code
// points and deliberately malformed contents.
func RawExtension(typ uint16, data []byte) Extension {
	if data == nil {
		data = []byte{}
	}
	return Extension{Type: typ, Data: slices.Clone(data)}
}

// extFieldName is the IANA name of an extension type, used as
// ParseError.Field.
func extFieldName(typ uint16) string {
	switch typ {
	case ExtServerName:
		return "server_name"
	case ExtStatusRequest:
		return "status_request"
	case ExtSupportedGroups:
		return "supported_groups"
	case ExtECPointFormats:
		return "ec_point_formats"
	case ExtSignatureAlgorithms:
		return "signature_algorithms"
	case ExtALPN:
		return "application_layer_protocol_negotiation"
	case ExtSCT:
		return "signed_certificate_timestamp"
	case ExtPadding:
		return "padding"
	case ExtEncryptThenMAC:
		return "encrypt_then_mac"
	case ExtExtendedMasterSecret:
		return "extended_master_secret"
	case ExtCompressCertificate:
		return "compress_certificate"
	case ExtRecordSizeLimit:
		return "record_size_limit"
	case ExtSessionTicket:
		return "session_ticket"
	case ExtPreSharedKey:
		return "pre_shared_key"
	case ExtEarlyData:
		return "early_data"
	case ExtSupportedVersions:
		return "supported_versions"
	case ExtCookie:
		return "cookie"
	case ExtPSKKeyExchangeModes:
		return "psk_key_exchange_modes"
	case ExtCertAuthorities:
		return "certificate_authorities"
	case ExtSignatureAlgsCert:
		return "signature_algorithms_cert"
	case ExtKeyShare:
		return "key_share"
	case ExtRenegotiationInfo:
		return "renegotiation_info"
	}
	return fmt.Sprintf("extension_0x%04x", typ)
}

// extQuadraticMax is the number of extensions up to which duplicates are
// looked for pairwise; above it a sorted copy of the types is used.
const extQuadraticMax = 32

// extDuplicate reports the first extension type that occurs more than once.
func extDuplicate(exts []Extension) (uint16, bool) {
	if len(exts) <= extQuadraticMax {
		for i := range exts {
			for j := i + 1; j < len(exts); j++ {
				if exts[i].Type == exts[j].Type {
					return exts[i].Type, true
				}
			}
		}
		return 0, false
	}
	types := make([]uint16, len(exts))
	for i, e := range exts {
		types[i] = e.Type
	}
	slices.Sort(types)
	for i := 1; i < len(types); i++ {
		if types[i] == types[i-1] {
			return types[i], true
		}
	}
	return 0, false
}

// DecodeExtensions fills the decoded fields of m (ServerName,
// SupportedVersions, SupportedGroups, KeyShareGroups, SignatureAlgorithms,
// ALPN, ECPointFormats) from m.Extensions, after resetting them. It is the
// part of ParseClientHello shared with the SSLv2-compatible hello parser.
//
// It rejects an extension type that occurs twice (RFC 8446 §4.2) and a known
// extension whose content does not match its syntax; both return a
// *ParseError wrapping ErrMalformed, whose Field names the extension
// ("duplicate key_share", "key_share"). It checks structure only: empty
// lists that the RFCs forbid by a minimum length are accepted, as real
// clients are not always conforming. Unknown extensions, and known ones
// that are not decoded, are left as they are. The decoded values are copies
// and do not alias m.Extensions.
func DecodeExtensions(m *ClientHello) error {
	m.ServerName = ""
	m.SupportedVersions = nil
	m.SupportedGroups = nil
	m.KeyShareGroups = nil
	m.SignatureAlgorithms = nil
	m.ALPN = nil
	m.ECPointFormats = nil

	// RFC 8446 §4.2: "There MUST NOT be more than one extension of the
	// same type in a given extension block."
	if typ, dup := extDuplicate(m.Extensions); dup {
		return perr("ClientHello", "duplicate "+extFieldName(typ), ErrMalformed)
	}

	for _, e := range m.Extensions {
		s := cryptobyte.String(e.Data)
		var ok bool
		switch e.Type {
		// RFC 6066 §3: ServerNameList server_name_list<1..2^16-1>.
		case ExtServerName:
			ok = extDecodeServerName(s, &m.ServerName)

		// RFC 8446 §4.2.1: ProtocolVersion versions<2..254> (uint8 length).
		case ExtSupportedVersions:
			var list cryptobyte.String
			ok = s.ReadUint8LengthPrefixed(&list) && s.Empty() &&
				extReadUint16s(list, &m.SupportedVersions)

		// RFC 8446 §4.2.7, RFC 8422 §5.1.1: NamedGroup
		// named_group_list<2..2^16-1>.
		case ExtSupportedGroups:
			var list cryptobyte.String
			ok = s.ReadUint16LengthPrefixed(&list) && s.Empty() &&
				extReadUint16s(list, &m.SupportedGroups)

		// RFC 8446 §4.2.8: KeyShareEntry client_shares<0..2^16-1>, each
		// entry a NamedGroup and opaque key_exchange<1..2^16-1>.
		case ExtKeyShare:
			ok = extDecodeKeyShareGroups(s, &m.KeyShareGroups)

		// RFC 8446 §4.2.3, RFC 5246 §7.4.1.4.1: SignatureScheme
		// supported_signature_algorithms<2..2^16-2>.
		case ExtSignatureAlgorithms:
			var list cryptobyte.String
			ok = s.ReadUint16LengthPrefixed(&list) && s.Empty() &&
				extReadUint16s(list, &m.SignatureAlgorithms)

		// RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>,
		// each ProtocolName opaque<1..2^8-1>.
		case ExtALPN:
			ok = extDecodeALPN(s, &m.ALPN)

		// RFC 8422 §5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>.
		case ExtECPointFormats:
			var list []byte
			ok = s.ReadUint8LengthPrefixed((*cryptobyte.String)(&list)) && s.Empty()
			if ok {
				m.ECPointFormats = slices.Clone(list)
			}

		default:
			continue
		}
		if !ok {
			return perr("ClientHello", extFieldName(e.Type), ErrMalformed)
		}
	}
	// draft-ietf-tls-tls13-22 and earlier numbered key_share 40 (draft 23
	// moved it to 51). Decode 40 as key_share only for a client that offers
	// such a draft and sent no extension 51.
	if m.KeyShareGroups == nil && extOffersEarlyDraft(m.SupportedVersions) {
		for _, e := range m.Extensions {
			if e.Type == shExtKeyShareDraft {
				if !extDecodeKeyShareGroups(cryptobyte.String(e.Data), &m.KeyShareGroups) {
					return perr("ClientHello", "key_share (draft)", ErrMalformed)
				}
			}
		}
	}
	return nil
}

// extOffersEarlyDraft reports whether versions holds a TLS 1.3 draft
// version 0x7f00–0x7f16 (drafts up to 22).
func extOffersEarlyDraft(versions []uint16) bool {
	for _, v := range versions {
		if v >= 0x7f00 && v <= 0x7f16 {
			return true
		}
	}
	return false
}

// extReadUint16s reads all of list as big-endian uint16 values into a new
// slice (non-nil, possibly empty).
func extReadUint16s(list cryptobyte.String, out *[]uint16) bool {
	if len(list)%2 != 0 {
		return false
	}
	vs := make([]uint16, 0, len(list)/2)
	for !list.Empty() {
		var v uint16
		if !list.ReadUint16(&v) {
			return false
		}
		vs = append(vs, v)
	}
	*out = vs
	return true
}

// extDecodeServerName keeps the host_name entry of a server_name list.
// Entries of other name types are skipped: RFC 6066 §3 requires every future
// NameType to start with a uint16 length. Two host_name entries are
// malformed ("MUST NOT contain more than one name of the same name_type").
func extDecodeServerName(s cryptobyte.String, host *string) bool {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return false
	}
	seen := false
	for !list.Empty() {
		var nameType uint8
		var name cryptobyte.String
		if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
			return false
		}
		if nameType != 0 {
			continue
		}
		if seen {
			return false
		}
		seen = true
		*host = string(name)
	}
	return true
}

// extDecodeKeyShareGroups reads the groups of the client_shares list.
func extDecodeKeyShareGroups(s cryptobyte.String, groups *[]uint16) bool {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return false
	}
	gs := make([]uint16, 0, 4)
	for !list.Empty() {
		var g uint16
		var keyExchange cryptobyte.String
		if !list.ReadUint16(&g) || !list.ReadUint16LengthPrefixed(&keyExchange) {
			return false
		}
		gs = append(gs, g)
	}
	*groups = gs
	return true
}

// extDecodeALPN reads the protocol names of an ALPN list.
func extDecodeALPN(s cryptobyte.String, protos *[]string) bool {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || !s.Empty() {
		return false
	}
	ps := make([]string, 0, 4)
	for !list.Empty() {
		var p cryptobyte.String
		if !list.ReadUint8LengthPrefixed(&p) {
			return false
		}
		ps = append(ps, string(p))
	}
	*protos = ps
	return true
}
