package output

import (
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/ciphers"
)

// SuiteRecord is the JSON shape of one cipher suite (schema
// docs/schema/suite.md, version 2).
type SuiteRecord struct {
	ID          string   `json:"id"` // "0xC02F"
	Name        string   `json:"name"`
	OpenSSLName string   `json:"openssl_name"`
	Kind        string   `json:"kind"` // suite, scsv, grease
	Kex         string   `json:"kex"`
	Auth        string   `json:"auth"`
	Enc         string   `json:"enc"`
	Bits        int      `json:"bits"`
	Mode        string   `json:"mode"`
	MAC         string   `json:"mac"`
	AEAD        bool     `json:"aead"`
	PFS         bool     `json:"pfs"`
	Export      bool     `json:"export"`
	Null        bool     `json:"null"`
	Anon        bool     `json:"anon"`
	Versions    []string `json:"versions"`
	Grade       string   `json:"grade"`
	Reference   string   `json:"reference"`
}

// NewSuiteRecord converts a registry entry to its output record.
func NewSuiteRecord(s ciphers.Suite) SuiteRecord {
	v := s.Versions.Names()
	if v == nil {
		v = []string{}
	}
	grade := ""
	if s.Grade != ciphers.GradeNone {
		grade = s.Grade.String()
	}
	return SuiteRecord{
		ID: s.HexID(), Name: s.Name, OpenSSLName: s.OpenSSLName, Kind: s.Kind.String(),
		Kex: s.Kex, Auth: s.Auth, Enc: s.Enc, Bits: s.Bits, Mode: s.Mode, MAC: s.MAC,
		AEAD: s.AEAD, PFS: s.PFS, Export: s.Export, Null: s.Null, Anon: s.Anon,
		Versions: v, Grade: grade, Reference: s.Reference,
	}
}

var suiteColumns = []string{"id", "name", "openssl_name", "kind", "kex", "auth", "enc", "bits", "mode", "mac", "aead", "pfs", "export", "null", "anon", "versions", "grade", "reference"}

// Columns implements Tabular.
func (r SuiteRecord) Columns() []string { return suiteColumns }

// Cells implements Tabular.
func (r SuiteRecord) Cells() []string {
	b := strconv.FormatBool
	return []string{r.ID, r.Name, r.OpenSSLName, r.Kind, r.Kex, r.Auth, r.Enc, strconv.Itoa(r.Bits), r.Mode, r.MAC,
		b(r.AEAD), b(r.PFS), b(r.Export), b(r.Null), b(r.Anon), strings.Join(r.Versions, " "), r.Grade, r.Reference}
}

// SuiteTableRecord is the narrower view of a suite used by the terminal
// table, where eighteen columns would not fit a screen.
type SuiteTableRecord struct{ SuiteRecord }

var suiteTableColumns = []string{"id", "name", "openssl_name", "kex", "auth", "enc", "bits", "mac", "pfs", "versions", "grade"}

// Columns implements Tabular.
func (r SuiteTableRecord) Columns() []string { return suiteTableColumns }

// Cells implements Tabular.
func (r SuiteTableRecord) Cells() []string {
	pfs := ""
	if r.PFS {
		pfs = "yes"
	}
	return []string{r.ID, r.Name, r.OpenSSLName, r.Kex, r.Auth, r.Enc, strconv.Itoa(r.Bits), r.MAC, pfs,
		strings.Join(r.Versions, ","), r.Grade}
}

// ParamRecord is the JSON shape of one entry of the other registries:
// protocol versions, named groups, signature schemes, extension types and
// SSLv2 cipher kinds (schema docs/schema/suite.md).
type ParamRecord struct {
	Registry    string `json:"registry"` // version, group, sigscheme, extension, sslv2
	ID          string `json:"id"`       // "0x001D"; SSLv2 kinds "0x0700C0"
	Name        string `json:"name"`
	OpenSSLName string `json:"openssl_name,omitempty"`
	Kind        string `json:"kind,omitempty"`
	Bits        int    `json:"bits,omitempty"`
	Recommended bool   `json:"recommended,omitempty"`
	Grade       string `json:"grade,omitempty"`
}

var paramColumns = []string{"registry", "id", "name", "openssl_name", "kind", "bits", "recommended", "grade"}

// Columns implements Tabular.
func (r ParamRecord) Columns() []string { return paramColumns }

// Cells implements Tabular.
func (r ParamRecord) Cells() []string {
	bits, rec := "", ""
	if r.Bits != 0 {
		bits = strconv.Itoa(r.Bits)
	}
	if r.Recommended {
		rec = "yes"
	}
	return []string{r.Registry, r.ID, r.Name, r.OpenSSLName, r.Kind, bits, rec, r.Grade}
}
