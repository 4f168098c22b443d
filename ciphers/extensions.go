package ciphers

import (
	"slices"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// extensionTypes is the TLS ExtensionType registry, kept by hand: IANA's
// assignments (https://www.iana.org/assignments/tls-extensiontype-values)
// that clients and servers send, plus the unregistered code points common
// on the wire, each with its source. Sorted by ID, GREASE included.
var extensionTypes = withGREASE([]ExtensionType{
	{0, "server_name", "RFC6066"},
	{1, "max_fragment_length", "RFC6066"},
	{2, "client_certificate_url", "RFC6066"},
	{3, "trusted_ca_keys", "RFC6066"},
	{4, "truncated_hmac", "RFC6066"},
	{5, "status_request", "RFC6066"},
	{6, "user_mapping", "RFC4681"},
	{7, "client_authz", "RFC5878"},
	{8, "server_authz", "RFC5878"},
	{9, "cert_type", "RFC6091"},
	{10, "supported_groups", "RFC8422, RFC7919"}, // "elliptic_curves" before RFC 7919
	{11, "ec_point_formats", "RFC8422"},
	{12, "srp", "RFC5054"},
	{13, "signature_algorithms", "RFC8446"},
	{14, "use_srtp", "RFC5764"},
	{15, "heartbeat", "RFC6520"},
	{16, "application_layer_protocol_negotiation", "RFC7301"},
	{17, "status_request_v2", "RFC6961"},
	{18, "signed_certificate_timestamp", "RFC6962"},
	{19, "client_certificate_type", "RFC7250"},
	{20, "server_certificate_type", "RFC7250"},
	{21, "padding", "RFC7685"},
	{22, "encrypt_then_mac", "RFC7366"},
	{23, "extended_master_secret", "RFC7627"},
	{24, "token_binding", "RFC8472"},
	{25, "cached_info", "RFC7924"},
	{26, "tls_lts", "draft-gutmann-tls-lts"},
	{27, "compress_certificate", "RFC8879"},
	{28, "record_size_limit", "RFC8449"},
	{29, "pwd_protect", "RFC8492"},
	{30, "pwd_clear", "RFC8492"},
	{31, "password_salt", "RFC8492"},
	{32, "ticket_pinning", "RFC8672"},
	{33, "tls_cert_with_extern_psk", "RFC8773"},
	{34, "delegated_credential", "RFC9345"},
	{35, "session_ticket", "RFC5077, RFC8447"}, // "SessionTicket TLS"
	{36, "TLMSP", "ETSI TS 103 523-2"},
	{37, "TLMSP_proxying", "ETSI TS 103 523-2"},
	{38, "TLMSP_delegate", "ETSI TS 103 523-2"},
	{39, "supported_ekt_ciphers", "RFC8870"},
	// IANA lists 40 as reserved: TLS 1.3 drafts -01 to -22 used it for
	// key_share, which moved to 51 in draft -23.
	{40, "key_share_draft", "draft-ietf-tls-tls13-22"},
	{41, "pre_shared_key", "RFC8446"},
	{42, "early_data", "RFC8446"},
	{43, "supported_versions", "RFC8446"},
	{44, "cookie", "RFC8446"},
	{45, "psk_key_exchange_modes", "RFC8446"},
	{47, "certificate_authorities", "RFC8446"},
	{48, "oid_filters", "RFC8446"},
	{49, "post_handshake_auth", "RFC8446"},
	{50, "signature_algorithms_cert", "RFC8446"},
	{51, "key_share", "RFC8446"},
	{52, "transparency_info", "RFC9162"},
	{53, "connection_id_deprecated", "RFC9146"},
	{54, "connection_id", "RFC9146"},
	{55, "external_id_hash", "RFC8844"},
	{56, "external_session_id", "RFC8844"},
	{57, "quic_transport_parameters", "RFC9001"},
	{58, "ticket_request", "RFC9149"},
	{59, "dnssec_chain", "RFC9102"},
	// Not registered with IANA, common in captures:
	{13172, "next_protocol_negotiation", "draft-agl-tls-nextprotoneg"}, // 0x3374, NPN (SPDY-era Chrome, OpenSSL 1.0.1+)
	{17513, "application_settings", "draft-vvv-tls-alps"},              // 0x4469, ALPS (Chrome, BoringSSL)
	{17613, "application_settings_new", "draft-vvv-tls-alps"},          // 0x44CD, the code point Chrome moved ALPS to in 2024
	{30031, "channel_id_old", "draft-balfanz-tls-channelid"},           // 0x754F, Google Channel ID, first code point
	{30032, "channel_id", "draft-balfanz-tls-channelid"},               // 0x7550, Google Channel ID
	{64768, "ech_outer_extensions", "draft-ietf-tls-esni"},             // 0xFD00
	{65037, "encrypted_client_hello", "draft-ietf-tls-esni"},           // 0xFE0D, ECH
	{65281, "renegotiation_info", "RFC5746"},                           // 0xFF01
	{65486, "encrypted_server_name", "draft-ietf-tls-esni-01"},         // 0xFFCE, ESNI (before ECH)
})

// withGREASE adds RFC 8701's GREASE values and sorts by ID.
func withGREASE(xs []ExtensionType) []ExtensionType {
	for _, g := range tls.GREASEValues() {
		xs = append(xs, ExtensionType{g, "GREASE", "RFC8701"})
	}
	slices.SortFunc(xs, func(a, b ExtensionType) int { return int(a.ID) - int(b.ID) })
	return xs
}
