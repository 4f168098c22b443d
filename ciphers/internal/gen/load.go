package main

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// readCSV reads one IANA CSV export and checks its header.
func readCSV(fsys fs.FS, name string, header ...string) ([][]string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(header)
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], header) {
		return nil, fmt.Errorf("%s: header is not %q", name, header)
	}
	return rows[1:], nil
}

var (
	refRE    = regexp.MustCompile(`\[([^\]]+)\]`)
	digitsRE = regexp.MustCompile(`\d+`)
)

// references turns IANA's "[RFC5246][RFC6347]" into "RFC5246, RFC6347".
func references(s string) string {
	var refs []string
	for _, m := range refRE.FindAllStringSubmatch(s, -1) {
		refs = append(refs, strings.TrimSpace(m[1]))
	}
	return strings.Join(refs, ", ")
}

// unnamed reports the IANA rows that assign no name: unassigned ranges,
// reserved ranges and private use.
func unnamed(desc string) bool {
	return desc == "Unassigned" || strings.HasPrefix(desc, "Reserved")
}

// loadSuites reads the cipher suite registry, adds the extras and GREASE,
// and derives every suite's attributes.
func loadSuites(fsys fs.FS) ([]attrs, error) {
	rows, err := readCSV(fsys, "iana/tls-parameters-4.csv", "Value", "Description", "DTLS-OK", "Recommended", "Reference")
	if err != nil {
		return nil, err
	}
	var out []attrs
	seen := map[uint16]string{}
	add := func(a attrs) error {
		if prev, ok := seen[a.ID]; ok {
			return fmt.Errorf("suite 0x%04X: both %s and %s", a.ID, prev, a.Name)
		}
		seen[a.ID] = a.Name
		out = append(out, a)
		return nil
	}
	for _, row := range rows {
		value, desc := row[0], row[1]
		id, single := suiteValue(value)
		if unnamed(desc) {
			// GREASE is added below from RFC 8701's pattern; check IANA agrees.
			if single && strings.Contains(row[4], "RFC8701") && !tls.IsGREASE(id) {
				return nil, fmt.Errorf("suite %s: RFC 8701 reservation is not a GREASE value", value)
			}
			continue
		}
		if !single {
			return nil, fmt.Errorf("suite %s %q: a name for a range", value, desc)
		}
		a := attrs{ID: id, Name: desc, Recommended: row[3] == "Y", Reference: references(row[4])}
		if strings.HasSuffix(desc, "_SCSV") {
			a.Kind = "KindSCSV" // RFC 5746, RFC 7507: signals, never negotiated
		} else {
			a.Kind = "KindSuite"
			if err := derive(&a, desc); err != nil {
				return nil, err
			}
		}
		if err := add(a); err != nil {
			return nil, err
		}
	}
	for _, x := range extraSuites {
		a := attrs{ID: x.ID, Kind: "KindSuite", Name: x.Name, Reference: x.Reference}
		like := x.Like
		if like == "" {
			like = x.Name
		}
		if err := derive(&a, like); err != nil {
			return nil, fmt.Errorf("extra 0x%04X: %w", x.ID, err)
		}
		if x.Versions != 0 {
			a.Versions = x.Versions
		}
		if err := add(a); err != nil {
			return nil, err
		}
	}
	for _, g := range tls.GREASEValues() {
		if err := add(attrs{ID: g, Kind: "KindGREASE", Name: "GREASE", Reference: "RFC8701"}); err != nil {
			return nil, err
		}
	}
	for i := range out {
		a := &out[i]
		a.OpenSSLName = opensslNames[a.ID]
		if a.Kind == "KindSuite" {
			a.Grade = grade(a)
		} else {
			a.Grade = "GradeNone"
		}
	}
	for id, name := range opensslNames {
		if _, ok := seen[id]; !ok {
			return nil, fmt.Errorf("OpenSSL name %s for 0x%04X, which the registry does not have", name, id)
		}
	}
	slices.SortFunc(out, func(a, b attrs) int { return int(a.ID) - int(b.ID) })
	return out, nil
}

// suiteValue parses a cipher suite Value column, "0xC0,0x2F". single is
// false for ranges such as "0xC0,0xB6-FF" or "0x01-09,*".
func suiteValue(v string) (id uint16, single bool) {
	hi, lo, ok := strings.Cut(v, ",")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
	l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return uint16(h)<<8 | uint16(l), true
}

// group is one entry of the supported groups registry.
type group struct {
	ID          uint16
	Name        string
	Kind        string // ecdhe, ffdhe, pq-hybrid, pq, other, grease
	Bits        int
	Recommended bool
	Reference   string
}

// groupKindBits classifies a named group by its IANA name. Bits is the size
// OpenSSL reports for a key share of the group (the curve or field size, the
// FFDHE modulus); for ML-KEM and the hybrids it is the security strength of
// the ML-KEM parameter set (FIPS 203 categories 1, 3, 5: 128, 192, 256).
func groupKindBits(name string) (kind string, bits int, err error) {
	digits := func(s string) int {
		n, _ := strconv.Atoi(digitsRE.FindString(s))
		return n
	}
	switch {
	case name == "x25519":
		return "ecdhe", 253, nil // as OpenSSL reports it: the order of the base point
	case name == "x448":
		return "ecdhe", 448, nil
	case name == "curveSM2": // RFC 8998
		return "ecdhe", 256, nil
	case strings.HasPrefix(name, "sect"), strings.HasPrefix(name, "secp"),
		strings.HasPrefix(name, "brainpoolP"), strings.HasPrefix(name, "GC"):
		return "ecdhe", digits(name), nil
	case strings.HasPrefix(name, "ffdhe"): // RFC 7919
		return "ffdhe", digits(name), nil
	case strings.HasPrefix(name, "arbitrary_explicit_"):
		return "other", 0, nil // RFC 8422 §5.1.1: deprecated explicit curves
	}
	switch {
	case strings.HasPrefix(name, "MLKEM"):
		kind = "pq"
	case strings.Contains(name, "MLKEM"), strings.Contains(name, "Kyber"):
		kind = "pq-hybrid"
	default:
		return "", 0, fmt.Errorf("group %q: unknown kind; teach groupKindBits", name)
	}
	switch {
	case strings.Contains(name, "512"):
		bits = 128
	case strings.Contains(name, "768"):
		bits = 192
	case strings.Contains(name, "1024"):
		bits = 256
	default:
		return "", 0, fmt.Errorf("group %q: unknown ML-KEM size", name)
	}
	return kind, bits, nil
}

// loadGroups reads the supported groups registry and adds the extras and
// GREASE.
func loadGroups(fsys fs.FS) ([]group, error) {
	rows, err := readCSV(fsys, "iana/tls-parameters-8.csv", "Value", "Description", "DTLS-OK", "Recommended", "Reference", "Comment")
	if err != nil {
		return nil, err
	}
	var out []group
	for _, row := range rows {
		if unnamed(row[1]) {
			continue
		}
		id, err := strconv.ParseUint(row[0], 10, 16)
		if err != nil {
			return nil, fmt.Errorf("group %s %q: a name for a range", row[0], row[1])
		}
		name := strings.TrimSuffix(row[1], " (OBSOLETE)")
		kind, bits, err := groupKindBits(name)
		if err != nil {
			return nil, err
		}
		out = append(out, group{ID: uint16(id), Name: name, Kind: kind, Bits: bits,
			Recommended: row[3] == "Y", Reference: references(row[4])})
	}
	out = append(out, extraGroups...)
	for _, g := range tls.GREASEValues() {
		out = append(out, group{ID: g, Name: "GREASE", Kind: "grease", Reference: "RFC8701"})
	}
	return sortUnique(out, func(g group) uint16 { return g.ID })
}

// scheme is one entry of the signature scheme registry.
type scheme struct {
	ID          uint16
	Name        string
	Recommended bool
	Reference   string
}

// loadSchemes reads the signature scheme registry and adds the extras and
// GREASE (RFC 8701 §2 reserves its values in signature_algorithms too).
func loadSchemes(fsys fs.FS) ([]scheme, error) {
	rows, err := readCSV(fsys, "iana/tls-signaturescheme.csv", "Value", "Description", "Recommended", "Reference", "Comment")
	if err != nil {
		return nil, err
	}
	var out []scheme
	for _, row := range rows {
		if unnamed(row[1]) {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimPrefix(row[0], "0x"), 16, 16)
		if err != nil {
			return nil, fmt.Errorf("signature scheme %s %q: a name for a range", row[0], row[1])
		}
		out = append(out, scheme{ID: uint16(id), Name: row[1], Recommended: row[2] == "Y", Reference: references(row[3])})
	}
	out = append(out, extraSchemes...)
	for _, g := range tls.GREASEValues() {
		out = append(out, scheme{ID: g, Name: "GREASE", Reference: "RFC8701"})
	}
	return sortUnique(out, func(s scheme) uint16 { return s.ID })
}

// sortUnique sorts entries by id and fails on a repeated id.
func sortUnique[T any](s []T, id func(T) uint16) ([]T, error) {
	slices.SortFunc(s, func(a, b T) int { return int(id(a)) - int(id(b)) })
	for i := 1; i < len(s); i++ {
		if id(s[i]) == id(s[i-1]) {
			return nil, fmt.Errorf("0x%04X listed twice", id(s[i]))
		}
	}
	return s, nil
}
