package ciphers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Wire values of the protocol versions (ClientHello.legacy_version,
// supported_versions).
const (
	VersionSSL20 uint16 = 0x0002 // SSL 2.0 (the version field of an SSLv2 CLIENT-HELLO)
	VersionSSL30 uint16 = 0x0300 // RFC 6101
	VersionTLS10 uint16 = 0x0301 // RFC 2246
	VersionTLS11 uint16 = 0x0302 // RFC 4346
	VersionTLS12 uint16 = 0x0303 // RFC 5246
	VersionTLS13 uint16 = 0x0304 // RFC 8446

	VersionDTLS10 uint16 = 0xFEFF // RFC 4347
	VersionDTLS12 uint16 = 0xFEFD // RFC 6347
	VersionDTLS13 uint16 = 0xFEFC // RFC 9147

	// TLS 1.3's drafts put 0x7F00 | draft number in supported_versions
	// (draft-ietf-tls-tls13-14 to -28), which browsers shipped in 2017–2018.
	versionTLS13Draft14 uint16 = 0x7F0E
	versionTLS13Draft28 uint16 = 0x7F1C
)

// ProtocolVersion is one entry of the protocol version registry.
type ProtocolVersion struct {
	ID   uint16
	Name string // "SSLv3", "TLSv1.2", "TLSv1.3-draft23", "DTLSv1.2", "GREASE"
}

// protocolVersions is built once, sorted by ID.
var protocolVersions = sync.OnceValue(func() []ProtocolVersion {
	vs := []ProtocolVersion{
		{VersionSSL20, "SSLv2"},
		{VersionSSL30, "SSLv3"},
		{VersionTLS10, "TLSv1.0"},
		{VersionTLS11, "TLSv1.1"},
		{VersionTLS12, "TLSv1.2"},
		{VersionTLS13, "TLSv1.3"},
		{VersionDTLS10, "DTLSv1.0"},
		{VersionDTLS12, "DTLSv1.2"},
		{VersionDTLS13, "DTLSv1.3"},
	}
	for v := versionTLS13Draft14; v <= versionTLS13Draft28; v++ {
		vs = append(vs, ProtocolVersion{v, fmt.Sprintf("TLSv1.3-draft%d", v&0xFF)})
	}
	vs = append(vs, greaseEntries(func(id uint16) ProtocolVersion { return ProtocolVersion{id, "GREASE"} })...)
	slices.SortFunc(vs, func(a, b ProtocolVersion) int { return int(a.ID) - int(b.ID) })
	return vs
})

var versionNames = sync.OnceValue(func() map[uint16]string {
	m := map[uint16]string{}
	for _, v := range protocolVersions() {
		m[v.ID] = v.Name
	}
	return m
})

// ProtocolVersions returns the known protocol versions, TLS 1.3's drafts,
// DTLS and the GREASE values, sorted by ID. The slice is a copy.
func ProtocolVersions() []ProtocolVersion { return slices.Clone(protocolVersions()) }

// VersionName returns the name of a wire version, "TLSv1.2", or "0x1234"
// when it is unknown.
func VersionName(id uint16) string {
	if n, ok := versionNames()[id]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", id)
}

// ParseVersion reads a protocol version as people write it: "tls1.2",
// "TLSv1.2", "TLS 1.2", "tls1_2", "tls12", "1.2", "tls1" (TLS 1.0), "ssl3",
// "SSLv3", "3.0", "sslv2", "dtls1.2", "tls1.3-draft23", or a known wire
// value in hex, "0x0303". The error wraps ErrUnknown.
func ParseVersion(s string) (uint16, error) {
	if v, ok := parseVersion(s); ok {
		return v, nil
	}
	return 0, fmt.Errorf("%w protocol version %q (want ssl3, tls1.0, tls1.1, tls1.2 or tls1.3)", ErrUnknown, s)
}

func parseVersion(s string) (uint16, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if h, ok := cutHexPrefix(s); ok {
		v, err := strconv.ParseUint(h, 16, 16)
		if err != nil {
			return 0, false
		}
		_, known := versionNames()[uint16(v)]
		return uint16(v), known
	}
	s = strings.NewReplacer(" ", "", "_", ".").Replace(s)
	var family string
	for _, f := range []string{"dtls", "tls", "ssl"} {
		if rest, ok := strings.CutPrefix(s, f); ok {
			family, s = f, strings.TrimPrefix(rest, "v")
			break
		}
	}
	num, draft, hasDraft := strings.Cut(s, "-draft")
	if !hasDraft {
		num, draft, hasDraft = strings.Cut(s, "draft")
		num = strings.TrimSuffix(num, "-")
	}
	// Normalise "1", "1.0", "10" to "1.0"; "12" to "1.2".
	switch {
	case len(num) == 1:
		num += ".0"
	case len(num) == 2 && num[0] != '.' && num[1] != '.':
		num = num[:1] + "." + num[1:]
	}
	if family == "" {
		switch num {
		case "2.0", "3.0":
			family = "ssl"
		default:
			family = "tls"
		}
	}
	var v uint16
	switch family + num {
	case "ssl2.0":
		v = VersionSSL20
	case "ssl3.0":
		v = VersionSSL30
	case "tls1.0":
		v = VersionTLS10
	case "tls1.1":
		v = VersionTLS11
	case "tls1.2":
		v = VersionTLS12
	case "tls1.3":
		v = VersionTLS13
	case "dtls1.0":
		v = VersionDTLS10
	case "dtls1.2":
		v = VersionDTLS12
	case "dtls1.3":
		v = VersionDTLS13
	default:
		return 0, false
	}
	if hasDraft {
		n, err := strconv.Atoi(draft)
		if v != VersionTLS13 || err != nil || n < int(versionTLS13Draft14&0xFF) || n > int(versionTLS13Draft28&0xFF) {
			return 0, false
		}
		v = 0x7F00 | uint16(n)
	}
	return v, true
}

// greaseEntries makes one entry per RFC 8701 GREASE value.
func greaseEntries[T any](mk func(id uint16) T) []T {
	var out []T
	for hi := uint16(0x0A); hi <= 0xFA; hi += 0x10 {
		out = append(out, mk(hi<<8|hi))
	}
	return out
}
