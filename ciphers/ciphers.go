// Package ciphers is tlsmap's registry of TLS parameters: cipher suites,
// protocol versions, named groups, signature schemes, extension types and
// SSLv2 cipher kinds, with names (IANA and OpenSSL) and, for cipher suites,
// their algorithms, the versions that can negotiate them and a grade.
//
// The suite, group and signature scheme tables are generated from the IANA
// registries (internal/gen/iana) plus hand-kept tables of code points IANA
// does not list; docs/registry.md says what is in them and docs/grades.md
// how suites are graded. Everything here is read-only and safe for
// concurrent use.
package ciphers

//go:generate go run ./internal/gen -o zz_generated.go

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// ErrUnknown is wrapped by every error of a lookup or parse that finds
// nothing: test with errors.Is(err, ErrUnknown).
var ErrUnknown = errors.New("ciphers: unknown")

// Kind tells cipher suites from the code points that share their number
// space but are never negotiated.
type Kind uint8

const (
	KindSuite  Kind = iota // a cipher suite
	KindSCSV               // a signalling cipher suite value (RFC 5746, RFC 7507)
	KindGREASE             // a GREASE value (RFC 8701)
)

// String returns "suite", "scsv" or "grease".
func (k Kind) String() string {
	switch k {
	case KindSuite:
		return "suite"
	case KindSCSV:
		return "scsv"
	case KindGREASE:
		return "grease"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Grade is tlsmap's verdict on a cipher suite; the rules are in
// docs/grades.md. Grades are ordered: a higher grade is better.
type Grade uint8

const (
	GradeNone        Grade = iota // not graded: SCSV and GREASE entries
	GradeInsecure                 // broken: must not be negotiated
	GradeWeak                     // works but has a known weakness (no forward secrecy, 64-bit blocks …)
	GradeSecure                   // forward secret, no known weakness
	GradeRecommended              // forward secret AEAD that IANA marks Recommended
)

var gradeNames = [...]string{"none", "insecure", "weak", "secure", "recommended"}

// String returns "none", "insecure", "weak", "secure" or "recommended".
func (g Grade) String() string {
	if int(g) < len(gradeNames) {
		return gradeNames[g]
	}
	return fmt.Sprintf("Grade(%d)", uint8(g))
}

// ParseGrade parses the names String returns, in any case.
func ParseGrade(s string) (Grade, error) {
	for i, name := range gradeNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Grade(i), nil
		}
	}
	return GradeNone, fmt.Errorf("%w grade %q (want insecure, weak, secure or recommended)", ErrUnknown, s)
}

// MarshalText implements encoding.TextMarshaler.
func (g Grade) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (g *Grade) UnmarshalText(b []byte) error {
	v, err := ParseGrade(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// VersionSet is a set of the protocol versions that use cipher suites of
// this registry. SSLv2 has its own cipher kinds (SSLv2Kinds) and no bit.
type VersionSet uint8

const (
	VSSL30 VersionSet = 1 << iota // SSL 3.0
	VTLS10                        // TLS 1.0
	VTLS11                        // TLS 1.1
	VTLS12                        // TLS 1.2
	VTLS13                        // TLS 1.3
)

// versionSetBits are the versions of the bits, lowest bit first.
var versionSetBits = [...]tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// versionBit returns the bit of a wire version; TLS 1.3's drafts count as
// TLS 1.3. It returns 0 for SSLv2 and anything unknown.
func versionBit(v tls.Version) VersionSet {
	for i, b := range versionSetBits {
		if v == b {
			return 1 << i
		}
	}
	if n, ok := v.Draft(); ok && n >= tls.FirstShippedDraft && n <= tls.LastShippedDraft {
		return VTLS13
	}
	return 0
}

// Has reports whether the set holds the protocol version v. TLS 1.3 draft
// versions (0x7F0E–0x7F1C) count as TLS 1.3.
func (v VersionSet) Has(version tls.Version) bool {
	b := versionBit(version)
	return b != 0 && v&b != 0
}

// Names returns the versions in the set, oldest first, as
// ["TLSv1.0", "TLSv1.1"]; nil for the empty set.
func (v VersionSet) Names() []string {
	var names []string
	for i, tv := range versionSetBits {
		if v&(1<<i) != 0 {
			names = append(names, tv.String())
		}
	}
	return names
}

// String returns the names joined by commas, or "none".
func (v VersionSet) String() string {
	if v == 0 {
		return "none"
	}
	return strings.Join(v.Names(), ",")
}

// Suite is one entry of the cipher suite registry.
type Suite struct {
	ID   uint16
	Kind Kind
	// Name is the IANA name, or for code points IANA does not list the name
	// their draft or vendor uses. All 16 GREASE entries are named "GREASE".
	Name string
	// OpenSSLName is the name OpenSSL prints, "" where OpenSSL never named
	// the suite.
	OpenSSLName string

	Kex  string // key exchange: RSA, DH, DHE, ECDH, ECDHE, PSK, DHE_PSK, RSA_PSK, ECDHE_PSK, SRP, KRB5, ECCPWD, GOST, NULL, any
	Auth string // authentication: RSA, DSS, ECDSA, anon, PSK, KRB5, SHA (SRP's verifier), ECCPWD, GOST, NULL, any
	Enc  string // bulk cipher: AES, CAMELLIA, ARIA, CHACHA20_POLY1305, 3DES_EDE, DES, DES40, RC4, RC2, IDEA, SEED, SM4, GOST28147, KUZNYECHIK, MAGMA, AEGIS, NULL
	Mode string // CBC, GCM, CCM, CCM_8, POLY1305, STREAM, CTR, MGM, AEGIS, NULL
	// MAC is the record MAC's hash (MD5, SHA1, SHA256, SHA384, GOSTR3411)
	// or MAC (GOST28147, OMAC); for AEAD suites, the PRF or HKDF hash
	// (SHA256, SHA384, SM3, GOSTR3411).
	MAC string
	// Bits is the effective key strength: 40 for export RC4, 56 for DES,
	// 112 for 3DES (whose key is 168 bits), 0 for NULL.
	Bits int

	AEAD   bool // authenticated encryption
	PFS    bool // forward secrecy: an ephemeral key exchange (all of TLS 1.3)
	Export bool // an export-grade suite
	Null   bool // no encryption
	Anon   bool // no authentication of the server

	Versions VersionSet // the versions that can negotiate it (rule: docs/grades.md)
	Grade    Grade      // GradeNone for SCSV and GREASE

	// Recommended is IANA's Recommended column ("Y").
	Recommended bool
	// Reference names the defining RFCs or drafts, "RFC5246, RFC6347".
	Reference string
}

// HexID returns the code point as four upper-case hex digits, "0xC02F".
func (s Suite) HexID() string { return fmt.Sprintf("0x%04X", s.ID) }

// index holds the lookup maps, built on first use.
type index struct {
	byID       map[uint16]int
	byName     map[string]int // upper-cased IANA and OpenSSL names
	forVersion map[VersionSet][]Suite
}

var theIndex = sync.OnceValue(func() *index {
	ix := &index{
		byID:       make(map[uint16]int, len(suites)),
		byName:     make(map[string]int, 2*len(suites)),
		forVersion: map[VersionSet][]Suite{},
	}
	for i, s := range suites {
		ix.byID[s.ID] = i
		if s.Kind != KindGREASE {
			ix.byName[strings.ToUpper(s.Name)] = i
		}
		if s.OpenSSLName != "" {
			ix.byName[strings.ToUpper(s.OpenSSLName)] = i
		}
		if s.Kind == KindSuite {
			for b := VSSL30; b <= VTLS13; b <<= 1 {
				if s.Versions&b != 0 {
					ix.forVersion[b] = append(ix.forVersion[b], s)
				}
			}
		}
	}
	return ix
})

// All returns every entry, SCSVs and GREASE values included, sorted by ID.
// The slice is a copy: the caller may keep and change it.
func All() []Suite { return slices.Clone(suites[:]) }

// ByID returns the entry with this code point.
func ByID(id uint16) (Suite, bool) {
	i, ok := theIndex().byID[id]
	if !ok {
		return Suite{}, false
	}
	return suites[i], true
}

// ForVersion returns the cipher suites (KindSuite only) that the protocol
// version v can negotiate, sorted by ID; nil for SSLv2 and unknown
// versions. The slice is a copy.
func ForVersion(v tls.Version) []Suite {
	return slices.Clone(theIndex().forVersion[versionBit(v)])
}
