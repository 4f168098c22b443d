package tls

// ClientHello is a ClientHello as built or parsed (RFC 8446 §4.1.2,
// RFC 5246 §7.4.1.2). The builder (Marshal) writes exactly the raw fields:
// Version, Random, SessionID, CipherSuites, CompressionMethods and
// Extensions, in that order, with nothing added or reordered. The decoded
// fields below Extensions are filled by the parsers only; Marshal ignores
// them.
type ClientHello struct {
	// RecordVersion is the version in the record header that carried the
	// hello (parsers; 0 when parsed from a bare handshake message). The
	// record builder uses it as the record-layer version.
	RecordVersion Version
	// Version is legacy_version (client_version before TLS 1.3).
	Version            Version
	Random             []byte // 32 bytes; for SSLv2-compatible hellos the challenge, as sent
	SessionID          []byte
	CipherSuites       []uint16 // any 16-bit code points, GREASE and SCSVs included, in order
	CompressionMethods []uint8
	// Extensions in wire order. HasExtensions distinguishes "no extensions
	// block" (SSLv3-style) from an empty block; Marshal writes the block
	// when HasExtensions is true or Extensions is non-empty.
	Extensions    []Extension
	HasExtensions bool

	// Decoded by the parsers from Extensions (nil/empty when absent).
	ServerName          string   // host_name of server_name (RFC 6066 §3)
	SupportedVersions   []uint16 // supported_versions (RFC 8446 §4.2.1), GREASE kept
	SupportedGroups     []uint16 // supported_groups, GREASE kept
	KeyShareGroups      []uint16 // the groups of the key_share entries, in order
	SignatureAlgorithms []uint16 // signature_algorithms
	ALPN                []string // application_layer_protocol_negotiation
	ECPointFormats      []uint8  // ec_point_formats

	// SSLv2 is true when the hello arrived in the SSLv2-compatible record
	// format (RFC 5246 Appendix E.2). SSLv2CipherSpecs then holds every
	// 3-byte cipher spec as sent, and CipherSuites only those whose first
	// byte is zero (the TLS suites).
	SSLv2            bool
	SSLv2CipherSpecs []uint32
}

// ServerHello is a parsed ServerHello or HelloRetryRequest (RFC 8446 §4.1.3,
// §4.1.4; RFC 5246 §7.4.1.3).
type ServerHello struct {
	Version           Version // legacy_version
	Random            []byte  // 32 bytes
	SessionID         []byte
	CipherSuite       uint16
	CompressionMethod uint8
	Extensions        []Extension
	HasExtensions     bool
	// DraftLayout is true for a ServerHello in the layout of TLS 1.3
	// drafts up to 21 (version, random, cipher_suite, extensions; no
	// session id, no compression method). The parsers set it; Marshal
	// writes that layout when it is set or when Version is a draft
	// 0x7f00–0x7f15.
	DraftLayout bool

	// HelloRetryRequest is true when Random equals the special
	// SHA-256("HelloRetryRequest") value of RFC 8446 §4.1.3, and for a
	// draft HelloRetryRequest (ParseDraftHelloRetryRequest), which has no
	// random.
	HelloRetryRequest bool
	// SupportedVersion is the selected_version of supported_versions, or 0.
	SupportedVersion Version
	// KeyShareGroup is the group of the server's key_share entry, or for a
	// HelloRetryRequest its selected_group; 0 when absent.
	KeyShareGroup uint16
	// ALPN is the protocol selected by the server, or "".
	ALPN string
	// SecureRenegotiation is true when renegotiation_info is present.
	SecureRenegotiation  bool
	ExtendedMasterSecret bool
}

// NegotiatedVersion is supported_versions' selected_version when present,
// else legacy_version (RFC 8446 §4.2.1).
func (s *ServerHello) NegotiatedVersion() Version {
	if s.SupportedVersion != 0 {
		return s.SupportedVersion
	}
	return s.Version
}

// Alert levels (RFC 8446 §6).
const (
	AlertLevelWarning uint8 = 1
	AlertLevelFatal   uint8 = 2
)

// Alert is a parsed alert record payload.
type Alert struct {
	Level       uint8
	Description uint8
}
