package tls

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a protocol version as it appears on the wire. It is tlsmap's
// one version type: its String is the one spelling every command, record
// and schema uses, ParseVersion reads that spelling back (and the ways
// people write versions), and Rank orders versions by age.
type Version uint16

// Protocol versions. SSL 2.0 has no 16-bit code point in TLS; 0x0002 is the
// value an SSLv2 CLIENT-HELLO carries in its version field.
const (
	VersionSSL20 Version = 0x0002 // draft-hickman-netscape-ssl-00
	VersionSSL30 Version = 0x0300 // RFC 6101
	VersionTLS10 Version = 0x0301 // RFC 2246
	VersionTLS11 Version = 0x0302 // RFC 4346
	VersionTLS12 Version = 0x0303 // RFC 5246
	VersionTLS13 Version = 0x0304 // RFC 8446

	VersionDTLS10 Version = 0xFEFF // RFC 4347
	VersionDTLS12 Version = 0xFEFD // RFC 6347
	VersionDTLS13 Version = 0xFEFC // RFC 9147
)

// TLS 1.3's drafts put 0x7F00 | draft number in supported_versions and in
// the draft ServerHello's version (draft-ietf-tls-tls13-NN §4.2.1). The
// ones browsers and servers shipped, in 2017–2018, are 14 to 28.
const (
	FirstShippedDraft = 14
	LastShippedDraft  = 28
)

// Draft returns the TLS 1.3 draft code point 0x7F00 | n.
func Draft(n uint8) Version { return 0x7F00 | Version(n) }

// Draft reports whether v is a TLS 1.3 draft code point (0x7FNN) and, if
// so, its draft number NN.
func (v Version) Draft() (n int, ok bool) {
	if v&0xFF00 != 0x7F00 {
		return 0, false
	}
	return int(v & 0xFF), true
}

// String returns the name of v: "SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1",
// "TLSv1.2", "TLSv1.3", "DTLSv1.0", "DTLSv1.2", "DTLSv1.3",
// "TLSv1.3-draft-NN" for the draft code points 0x7FNN (NN in decimal, no
// leading zero: "TLSv1.3-draft-23"), "GREASE" for the RFC 8701 values and
// "0xXXXX" (four upper-case hex digits) for anything else.
func (v Version) String() string {
	switch v {
	case VersionSSL20:
		return "SSLv2"
	case VersionSSL30:
		return "SSLv3"
	case VersionTLS10:
		return "TLSv1.0"
	case VersionTLS11:
		return "TLSv1.1"
	case VersionTLS12:
		return "TLSv1.2"
	case VersionTLS13:
		return "TLSv1.3"
	case VersionDTLS10:
		return "DTLSv1.0"
	case VersionDTLS12:
		return "DTLSv1.2"
	case VersionDTLS13:
		return "DTLSv1.3"
	}
	if n, ok := v.Draft(); ok {
		return "TLSv1.3-draft-" + strconv.Itoa(n)
	}
	if IsGREASE(uint16(v)) {
		return "GREASE"
	}
	return fmt.Sprintf("0x%04X", uint16(v))
}

// Known reports whether String names v (rather than printing its hex
// value).
func (v Version) Known() bool {
	_, draft := v.Draft()
	return draft || IsGREASE(uint16(v)) || v.rankBase() != 0
}

// rankBase is the age of the TLS generation of v, 0 when unknown.
func (v Version) rankBase() int {
	switch v {
	case VersionSSL20:
		return 1
	case VersionSSL30:
		return 2
	case VersionTLS10:
		return 3
	case VersionTLS11, VersionDTLS10:
		return 4
	case VersionTLS12, VersionDTLS12:
		return 5
	case VersionTLS13, VersionDTLS13:
		return 7
	}
	if _, ok := v.Draft(); ok {
		return 6
	}
	return 0
}

// Rank orders versions from oldest to newest: a newer version has a
// higher rank. The order is SSLv2 < SSLv3 < TLS 1.0 < TLS 1.1 < TLS 1.2 <
// the TLS 1.3 drafts, by draft number < TLS 1.3. A DTLS version ranks just
// above the TLS version it is based on (DTLS 1.0 on TLS 1.1, DTLS 1.2 on
// TLS 1.2, DTLS 1.3 on TLS 1.3). GREASE and unknown values rank 0, below
// every known version. Code point order is not age order: the drafts'
// 0x7FNN and DTLS's 0xFEXX are larger than TLS 1.3's 0x0304.
func (v Version) Rank() int {
	r := v.rankBase() << 9
	switch {
	case r == 0:
		return 0
	case v>>8 == 0xFE: // DTLS
		r |= 1 << 8
	default:
		if n, ok := v.Draft(); ok {
			r |= n
		}
	}
	return r
}

// Compare returns -1, 0 or +1 as v is older than, the same age as, or
// newer than w (by Rank; values of the same rank by code point), for
// slices.SortFunc.
func (v Version) Compare(w Version) int {
	if c := v.Rank() - w.Rank(); c != 0 {
		if c < 0 {
			return -1
		}
		return 1
	}
	switch {
	case v < w:
		return -1
	case v > w:
		return 1
	}
	return 0
}

// IsTLS13 reports whether v is TLS 1.3 or one of its drafts.
func (v Version) IsTLS13() bool {
	_, draft := v.Draft()
	return v == VersionTLS13 || draft
}

// ErrUnknownVersion is wrapped by every error of ParseVersion.
var ErrUnknownVersion = errors.New("tls: unknown protocol version")

// ParseVersion reads a protocol version as String writes it, or as people
// write it, in any case: "TLSv1.2", "tls1.2", "TLS 1.2", "tls1_2", "tls12",
// "1.2", "tls1" (TLS 1.0), "ssl3", "SSLv3", "3.0", "sslv2", "dtls1.2",
// "TLSv1.3-draft-23", "tls1.3-draft23", or a wire value String names, in
// hex: "0x0303", "0x7F17", "0x0A0A". "GREASE" is not accepted: it names
// sixteen values. For every v that String names, ParseVersion(v.String())
// returns v. The error wraps ErrUnknownVersion.
func ParseVersion(s string) (Version, error) {
	if v, ok := parseVersion(s); ok {
		return v, nil
	}
	return 0, fmt.Errorf("%w %q (want ssl3, tls1.0, tls1.1, tls1.2 or tls1.3)", ErrUnknownVersion, s)
}

func parseVersion(s string) (Version, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 16)
		if err != nil || !Version(n).Known() {
			return 0, false
		}
		return Version(n), true
	}
	s = strings.NewReplacer(" ", "", "_", ".").Replace(s)
	var family string
	for _, f := range []string{"dtls", "tls", "ssl"} {
		if rest, ok := strings.CutPrefix(s, f); ok {
			family, s = f, strings.TrimPrefix(rest, "v")
			break
		}
	}
	// "1.3-draft-23", "1.3-draft23", "1.3draft23", "13draft23".
	num, draft, hasDraft := strings.Cut(s, "draft")
	if hasDraft {
		num = strings.TrimSuffix(num, "-")
		draft = strings.TrimPrefix(draft, "-")
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
	var v Version
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
		// Digits only: strconv.Atoi would take a sign.
		if v != VersionTLS13 || draft == "" || strings.TrimLeft(draft, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseUint(draft, 10, 8)
		if err != nil {
			return 0, false
		}
		v = Draft(uint8(n))
	}
	return v, true
}

// IsGREASE reports whether v is one of the sixteen GREASE values of RFC 8701
// §2 (0x0A0A, 0x1A1A, … 0xFAFA), used for cipher suites, extensions, groups,
// signature algorithms and versions. It is tlsmap's one GREASE predicate.
func IsGREASE(v uint16) bool {
	return v&0x0F0F == 0x0A0A && v>>8 == v&0xFF
}

// GREASEValues returns the sixteen RFC 8701 GREASE values, in order.
func GREASEValues() []uint16 {
	out := make([]uint16, 0, 16)
	for hi := uint16(0x0A); hi <= 0xFA; hi += 0x10 {
		out = append(out, hi<<8|hi)
	}
	return out
}
