package ciphers

import (
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// algo is the part of a Suite that derivation from the name decides.
type algo struct {
	Kex, Auth, Enc, Mode, MAC string
	Bits                      int
	AEAD, PFS, Export, Null   bool
	Anon                      bool
	Versions                  VersionSet
	Grade                     Grade
}

func algoOf(s Suite) algo {
	return algo{s.Kex, s.Auth, s.Enc, s.Mode, s.MAC, s.Bits, s.AEAD, s.PFS, s.Export, s.Null, s.Anon, s.Versions, s.Grade}
}

const (
	ssl3to12 = VSSL30 | VTLS10 | VTLS11 | VTLS12
	tls10to2 = VTLS10 | VTLS11 | VTLS12
	export   = VSSL30 | VTLS10
)

// TestDerive checks what the generator derived from the names, for the
// names whose grammar is unusual.
func TestDerive(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   uint16
		want algo
	}{
		{"TLS_NULL_WITH_NULL_NULL", 0x0000,
			algo{"NULL", "NULL", "NULL", "NULL", "NULL", 0, false, false, false, true, true, ssl3to12, GradeInsecure}},
		{"TLS_RSA_EXPORT_WITH_RC4_40_MD5", 0x0003,
			algo{"RSA", "RSA", "RC4", "STREAM", "MD5", 40, false, false, true, false, false, export, GradeInsecure}},
		{"TLS_RSA_EXPORT1024_WITH_RC4_56_MD5", 0x0060,
			algo{"RSA", "RSA", "RC4", "STREAM", "MD5", 56, false, false, true, false, false, export, GradeInsecure}},
		{"TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5", 0x0061,
			algo{"RSA", "RSA", "RC2", "CBC", "MD5", 56, false, false, true, false, false, export, GradeInsecure}},
		{"TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA", 0x0063,
			algo{"DHE", "DSS", "DES", "CBC", "SHA1", 56, false, true, true, false, false, export, GradeInsecure}},
		{"TLS_DHE_DSS_WITH_RC4_128_SHA", 0x0066,
			algo{"DHE", "DSS", "RC4", "STREAM", "SHA1", 128, false, true, false, false, false, ssl3to12, GradeInsecure}},
		{"TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA", 0x0019,
			algo{"DH", "anon", "DES40", "CBC", "SHA1", 40, false, true, true, false, true, export, GradeInsecure}},
		{"TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA", 0x0027,
			algo{"KRB5", "KRB5", "RC2", "CBC", "SHA1", 40, false, false, true, false, false, export, GradeInsecure}},
		{"TLS_KRB5_EXPORT_WITH_DES_CBC_40_MD5", 0x0029,
			algo{"KRB5", "KRB5", "DES40", "CBC", "MD5", 40, false, false, true, false, false, export, GradeInsecure}},
		{"TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000A,
			algo{"RSA", "RSA", "3DES_EDE", "CBC", "SHA1", 112, false, false, false, false, false, ssl3to12, GradeWeak}},
		{"TLS_PSK_WITH_NULL_SHA", 0x002C,
			algo{"PSK", "PSK", "NULL", "NULL", "SHA1", 0, false, false, false, true, false, ssl3to12, GradeInsecure}},
		{"TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", 0x00AA,
			algo{"DHE_PSK", "PSK", "AES", "GCM", "SHA256", 128, true, true, false, false, false, VTLS12, GradeRecommended}},
		{"TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", 0x00B3, // RFC 5487 allows it before TLS 1.2
			algo{"DHE_PSK", "PSK", "AES", "CBC", "SHA384", 256, false, true, false, false, false, tls10to2, GradeSecure}},
		{"TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", 0xCCAE,
			algo{"RSA_PSK", "RSA", "CHACHA20_POLY1305", "POLY1305", "SHA256", 256, true, false, false, false, false, VTLS12, GradeWeak}},
		{"TLS_PSK_DHE_WITH_AES_128_CCM_8", 0xC0AA,
			algo{"DHE_PSK", "PSK", "AES", "CCM_8", "SHA256", 128, true, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8", 0xC0AE,
			algo{"ECDHE", "ECDSA", "AES", "CCM_8", "SHA256", 128, true, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256", 0xD003,
			algo{"ECDHE_PSK", "PSK", "AES", "CCM_8", "SHA256", 128, true, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", 0xC035,
			algo{"ECDHE_PSK", "PSK", "AES", "CBC", "SHA1", 128, false, true, false, false, false, tls10to2, GradeSecure}},
		{"TLS_ECDH_anon_WITH_AES_256_CBC_SHA", 0xC019,
			algo{"ECDH", "anon", "AES", "CBC", "SHA1", 256, false, true, false, false, true, tls10to2, GradeInsecure}},
		{"TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", 0xC031,
			algo{"ECDH", "RSA", "AES", "GCM", "SHA256", 128, true, false, false, false, false, VTLS12, GradeWeak}},
		{"TLS_SRP_SHA_WITH_AES_128_CBC_SHA", 0xC01D,
			algo{"SRP", "SHA", "AES", "CBC", "SHA1", 128, false, true, false, false, false, ssl3to12, GradeSecure}},
		{"TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA", 0xC01C,
			algo{"SRP", "DSS", "3DES_EDE", "CBC", "SHA1", 112, false, true, false, false, false, ssl3to12, GradeWeak}},
		{"TLS_ECCPWD_WITH_AES_128_GCM_SHA256", 0xC0B0,
			algo{"ECCPWD", "ECCPWD", "AES", "GCM", "SHA256", 128, true, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_ECCPWD_WITH_AES_256_CCM_SHA384", 0xC0B3,
			algo{"ECCPWD", "ECCPWD", "AES", "CCM", "SHA384", 256, true, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_RSA_WITH_SEED_CBC_SHA", 0x0096,
			algo{"RSA", "RSA", "SEED", "CBC", "SHA1", 128, false, false, false, false, false, ssl3to12, GradeWeak}},
		{"TLS_DHE_RSA_WITH_ARIA_128_CBC_SHA256", 0xC044,
			algo{"DHE", "RSA", "ARIA", "CBC", "SHA256", 128, false, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384", 0xC08B,
			algo{"ECDHE", "RSA", "CAMELLIA", "GCM", "SHA384", 256, true, true, false, false, false, VTLS12, GradeSecure}},
		{"TLS_SHA256_SHA256", 0xC0B4, // RFC 9150: integrity only
			algo{"any", "any", "NULL", "NULL", "SHA256", 0, false, true, false, true, false, VTLS13, GradeInsecure}},
		{"TLS_SM4_GCM_SM3", 0x00C6,
			algo{"any", "any", "SM4", "GCM", "SM3", 128, true, true, false, false, false, VTLS13, GradeSecure}},
		{"TLS_AES_128_GCM_SHA256", 0x1301,
			algo{"any", "any", "AES", "GCM", "SHA256", 128, true, true, false, false, false, VTLS13, GradeRecommended}},
		{"TLS_AES_128_CCM_8_SHA256", 0x1305,
			algo{"any", "any", "AES", "CCM_8", "SHA256", 128, true, true, false, false, false, VTLS13, GradeSecure}},
		{"TLS_AEGIS_128L_SHA256", 0x1307,
			algo{"any", "any", "AEGIS", "AEGIS", "SHA256", 128, true, true, false, false, false, VTLS13, GradeSecure}},
		{"TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC", 0xC100,
			algo{"GOST", "GOST", "KUZNYECHIK", "CTR", "OMAC", 256, false, false, false, false, false, VTLS12, GradeWeak}},
		{"TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", 0xC102,
			algo{"GOST", "GOST", "GOST28147", "CTR", "GOST28147", 256, false, false, false, false, false, VTLS12, GradeWeak}},
		{"TLS_GOSTR341112_256_WITH_MAGMA_MGM_S", 0xC106, // RFC 9367: a TLS 1.3 suite
			algo{"any", "any", "MAGMA", "MGM", "GOSTR3411", 256, true, true, false, false, false, VTLS13, GradeSecure}},
		{"TLS_GOSTR341001_WITH_NULL_GOSTR3411", 0x0083,
			algo{"GOST", "GOST", "NULL", "NULL", "GOSTR3411", 0, false, false, false, true, false, tls10to2, GradeInsecure}},
		{"GOST2012-GOST8912-GOST8912", 0xFF85,
			algo{"GOST", "GOST", "GOST28147", "CTR", "GOST28147", 256, false, false, false, false, false, tls10to2, GradeWeak}},
		{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_OLD", 0xCC13,
			algo{"ECDHE", "RSA", "CHACHA20_POLY1305", "POLY1305", "SHA256", 256, true, true, false, false, false, VTLS12, GradeSecure}},
		{"SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA", 0xFEFF,
			algo{"RSA", "RSA", "3DES_EDE", "CBC", "SHA1", 112, false, false, false, false, false, ssl3to12, GradeWeak}},
	} {
		s, err := Lookup(tc.name)
		if err != nil {
			t.Errorf("Lookup(%q): %v", tc.name, err)
			continue
		}
		if s.ID != tc.id {
			t.Errorf("%s: ID %s, want 0x%04X", tc.name, s.HexID(), tc.id)
		}
		if got := algoOf(s); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

// TestGrades checks the grade rules (docs/grades.md) on one suite for each.
func TestGrades(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Grade
		why  string
	}{
		{"TLS_RSA_WITH_NULL_SHA256", GradeInsecure, "no encryption"},
		{"TLS_DH_anon_WITH_AES_256_GCM_SHA384", GradeInsecure, "anonymous"},
		{"TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", GradeInsecure, "export"},
		{"TLS_DHE_RSA_WITH_DES_CBC_SHA", GradeInsecure, "56-bit key"},
		{"TLS_ECDHE_RSA_WITH_RC4_128_SHA", GradeInsecure, "RC4"},
		{"TLS_KRB5_WITH_3DES_EDE_CBC_MD5", GradeInsecure, "MD5 MAC"},
		{"TLS_RSA_WITH_IDEA_CBC_SHA", GradeWeak, "IDEA, no FS"},
		{"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", GradeWeak, "3DES (Sweet32) despite FS"},
		{"TLS_DHE_RSA_WITH_SEED_CBC_SHA", GradeWeak, "SEED despite FS"},
		{"TLS_RSA_WITH_AES_128_CBC_SHA", GradeWeak, "no FS"},
		{"TLS_RSA_WITH_AES_256_GCM_SHA384", GradeWeak, "AEAD but no FS"},
		{"TLS_PSK_WITH_AES_128_GCM_SHA256", GradeWeak, "PSK alone: no FS"},
		{"TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", GradeWeak, "static ECDH"},
		{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", GradeSecure, "FS + CBC"},
		{"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", GradeSecure, "FS + CBC"},
		{"TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", GradeSecure, "FS + AEAD that IANA does not recommend"},
		{"TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256", GradeSecure, "FS + AEAD that IANA does not recommend"},
		{"TLS_AES_128_CCM_8_SHA256", GradeSecure, "TLS 1.3, short tag, not recommended"},
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", GradeRecommended, "FS + AEAD, IANA Y"},
		{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", GradeRecommended, "FS + AEAD, IANA Y"},
		{"TLS_DHE_RSA_WITH_AES_256_CCM", GradeRecommended, "FS + AEAD, IANA Y"},
		{"TLS_AES_256_GCM_SHA384", GradeRecommended, "TLS 1.3, IANA Y"},
		{"TLS_FALLBACK_SCSV", GradeNone, "not a suite"},
		{"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", GradeNone, "not a suite"},
		{"0x0A0A", GradeNone, "GREASE"},
	} {
		s, err := Lookup(tc.name)
		if err != nil {
			t.Errorf("Lookup(%q): %v", tc.name, err)
			continue
		}
		if s.Grade != tc.want {
			t.Errorf("%s: grade %v, want %v (%s)", tc.name, s.Grade, tc.want, tc.why)
		}
	}
	for _, s := range All() {
		if (s.Kind == KindSuite) != (s.Grade != GradeNone) {
			t.Errorf("%s %s (%v): grade %v", s.HexID(), s.Name, s.Kind, s.Grade)
		}
	}
}

// TestRegistryInvariants checks properties of the whole table.
func TestRegistryInvariants(t *testing.T) {
	all := All()
	nsuites, nscsv, ngrease := 0, 0, 0
	names := map[string]uint16{}
	for i, s := range all {
		if i > 0 && all[i-1].ID >= s.ID {
			t.Errorf("not sorted or duplicate: 0x%04X then %s", all[i-1].ID, s.HexID())
		}
		switch s.Kind {
		case KindSuite:
			nsuites++
			if s.Kex == "" || s.Auth == "" || s.Enc == "" || s.Mode == "" || s.MAC == "" || s.Versions == 0 || s.Reference == "" {
				t.Errorf("%s %s: incomplete: %+v", s.HexID(), s.Name, s)
			}
			if s.Null != (s.Enc == "NULL") || s.Null != (s.Bits == 0) {
				t.Errorf("%s %s: Null %v, Enc %s, Bits %d", s.HexID(), s.Name, s.Null, s.Enc, s.Bits)
			}
		case KindSCSV:
			nscsv++
		case KindGREASE:
			ngrease++
			if !tls.IsGREASE(s.ID) || s.Name != "GREASE" {
				t.Errorf("%s: GREASE entry %q is not a GREASE value", s.HexID(), s.Name)
			}
			continue // the sixteen share the name "GREASE"
		}
		if tls.IsGREASE(s.ID) {
			t.Errorf("%s %s is a GREASE value but Kind %v", s.HexID(), s.Name, s.Kind)
		}
		for _, n := range []string{s.Name, s.OpenSSLName} {
			if n == "" {
				continue
			}
			if prev, ok := names[strings.ToUpper(n)]; ok && prev != s.ID {
				t.Errorf("name %s is both 0x%04X and %s", n, prev, s.HexID())
			}
			names[strings.ToUpper(n)] = s.ID
		}
	}
	t.Logf("%d cipher suites, %d SCSVs, %d GREASE values", nsuites, nscsv, ngrease)
	if nsuites < 340 {
		t.Errorf("%d cipher suites, want at least 340", nsuites)
	}
	if nscsv != 2 || ngrease != 16 {
		t.Errorf("%d SCSVs and %d GREASE values, want 2 and 16", nscsv, ngrease)
	}
	for _, id := range []uint16{0x00FF, 0x5600} {
		if s, _ := ByID(id); s.Kind != KindSCSV {
			t.Errorf("0x%04X: kind %v, want scsv", id, s.Kind)
		}
	}
}

// extraIDs are the code points the registry has although IANA does not
// assign them (internal/gen/extras.go), besides GREASE.
var extraIDs = []uint16{
	0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, // export1024
	0x0080, 0x0081, 0x0082, 0x0083, // CryptoPro GOST
	0xCC13, 0xCC14, 0xCC15, // pre-RFC ChaCha20
	0xFEFE, 0xFEFF, 0xFFE0, 0xFFE1, // SSL_RSA_FIPS
	0xFF85, 0xFF87, // OpenSSL GOST 2012
}

// TestIANACoverage checks the registry against the IANA CSV: every assigned
// suite is present under its IANA name, and nothing else is, apart from
// the documented extras and GREASE. Unassigned and reserved ranges must
// produce no entries.
func TestIANACoverage(t *testing.T) {
	f, err := os.Open("internal/gen/iana/tls-parameters-4.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	assigned := map[uint16]bool{}
	for _, row := range rows[1:] {
		if !strings.HasPrefix(row[1], "TLS_") {
			continue
		}
		hi, lo, _ := strings.Cut(row[0], ",")
		h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
		l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
		if err1 != nil || err2 != nil {
			t.Fatalf("assigned row with a range value: %q", row)
		}
		id := uint16(h<<8 | l)
		assigned[id] = true
		s, ok := ByID(id)
		if !ok {
			t.Errorf("IANA suite %s (%s) missing", row[0], row[1])
			continue
		}
		if s.Name != row[1] {
			t.Errorf("%s: name %q, IANA %q", s.HexID(), s.Name, row[1])
		}
		if s.Recommended != (row[3] == "Y") {
			t.Errorf("%s: Recommended %v, IANA %q", s.HexID(), s.Recommended, row[3])
		}
	}
	if len(assigned) < 340 {
		t.Errorf("read only %d IANA suites", len(assigned))
	}
	for _, s := range All() {
		if !assigned[s.ID] && s.Kind != KindGREASE && !slices.Contains(extraIDs, s.ID) {
			t.Errorf("%s %s: neither IANA-assigned nor a documented extra", s.HexID(), s.Name)
		}
	}
	for _, id := range extraIDs {
		if _, ok := ByID(id); !ok {
			t.Errorf("extra 0x%04X missing", id)
		}
	}
}

func TestLookupForms(t *testing.T) {
	want, ok := ByID(0xC02F)
	if !ok {
		t.Fatal("0xC02F missing")
	}
	for _, q := range []string{
		"0xC02F", "0xc02f", "0XC02F", "C02F", "c02f", "0xC0,0x2F", "0xc0, 0x2f", "C0,2F", "{0xC0,0x2F}", "0xC0 0x2F",
		"49199", " 49199 ",
		"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "tls_ecdhe_rsa_with_aes_128_gcm_sha256",
		"ECDHE-RSA-AES128-GCM-SHA256", "ecdhe-rsa-aes128-gcm-sha256",
	} {
		got, err := Lookup(q)
		if err != nil || got != want {
			t.Errorf("Lookup(%q) = %s %s, %v; want %s", q, got.HexID(), got.Name, err, want.Name)
		}
	}
	for q, id := range map[string]uint16{
		"1301":                            0x1301, // four hex digits
		"4865":                            0x1301, // JA3 decimal: 0x4865 is not a suite
		"0x2F":                            0x002F,
		"47":                              0x002F,
		"002F":                            0x002F,
		"0x00,0x0A":                       0x000A,
		"DES-CBC3-SHA":                    0x000A,
		"TLS_AES_128_GCM_SHA256":          0x1301,
		"SSL_RSA_WITH_RC4_128_MD5":        0x0004, // Java/NSS spelling
		"SSL_RSA_FIPS_WITH_DES_CBC_SHA":   0xFEFE,
		"EDH-RSA-DES-CBC3-SHA":            0x0016, // OpenSSL 1.0.2 name
		"DHE-RSA-DES-CBC-SHA":             0x0015, // 1.1.0-style spelling of a 1.0.2-only suite
		"EXP-DHE-RSA-DES-CBC-SHA":         0x0014,
		"TLS_FALLBACK_SCSV":               0x5600,
		"0x0A0A":                          0x0A0A,
		"2570":                            0x0A0A, // GREASE in a JA3 string
		"GOST2001-GOST89-GOST89":          0x0081,
		"ECDHE-RSA-CHACHA20-POLY1305-OLD": 0xCC13,
	} {
		got, err := Lookup(q)
		if err != nil || got.ID != id {
			t.Errorf("Lookup(%q) = %s, %v; want 0x%04X", q, got.HexID(), err, id)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, q := range []string{
		"", " ", "NOT-A-SUITE", "0x0047", "0xC0B6", "65536", "99999999999999999999", "0x", "0x12345",
		"0xC0,", ",0x2F", "0xC0,0x2F,0x00", "0x1C0,0x2F", "GREASE", "TLS_", "-1", "+47", "C02", "1e3",
		strings.Repeat("A", 200), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\x00",
	} {
		s, err := Lookup(q)
		if err == nil {
			t.Errorf("Lookup(%q) = %s %s, want an error", q, s.HexID(), s.Name)
			continue
		}
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Lookup(%q) error %v does not wrap ErrUnknown", q, err)
		}
	}
}

func TestVersionSet(t *testing.T) {
	v := VTLS10 | VTLS11
	if got := v.Names(); !slices.Equal(got, []string{"TLSv1.0", "TLSv1.1"}) {
		t.Errorf("Names() = %q", got)
	}
	if got := v.String(); got != "TLSv1.0,TLSv1.1" {
		t.Errorf("String() = %q", got)
	}
	if VersionSet(0).Names() != nil || VersionSet(0).String() != "none" {
		t.Error("empty set")
	}
	for wire, want := range map[tls.Version]bool{0x0301: true, 0x0302: true, 0x0300: false, 0x0303: false, 0x0002: false, 0x7F17: false} {
		if v.Has(wire) != want {
			t.Errorf("Has(0x%04X) = %v", wire, !want)
		}
	}
	if !VTLS13.Has(0x7F17) || !VTLS13.Has(tls.VersionTLS13) || VTLS13.Has(0x7F0D) {
		t.Error("TLS 1.3 drafts 14–28 count as TLS 1.3, and only they")
	}
}

func TestForVersion(t *testing.T) {
	counts := map[tls.Version]int{}
	for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		list := ForVersion(v)
		counts[v] = len(list)
		if len(list) == 0 {
			t.Errorf("ForVersion(%s) is empty", v)
		}
		for _, s := range list {
			if s.Kind != KindSuite || !s.Versions.Has(v) {
				t.Errorf("ForVersion(%s) has %s %s (%v, %v)", v, s.HexID(), s.Name, s.Kind, s.Versions)
			}
		}
		n := 0
		for _, s := range All() {
			if s.Kind == KindSuite && s.Versions.Has(v) {
				n++
			}
		}
		if n != len(list) {
			t.Errorf("ForVersion(%s): %d suites, want %d", v, len(list), n)
		}
	}
	t.Logf("suites per version: %v", counts)
	if ForVersion(tls.VersionSSL20) != nil || ForVersion(0x1234) != nil {
		t.Error("ForVersion of SSLv2 or an unknown version is not empty")
	}
	if !slices.ContainsFunc(ForVersion(tls.VersionSSL30), func(s Suite) bool { return s.ID == 0x0003 }) ||
		slices.ContainsFunc(ForVersion(tls.VersionTLS11), func(s Suite) bool { return s.Export }) {
		t.Error("export suites are SSLv3 and TLS 1.0 only")
	}
	a := ForVersion(tls.VersionTLS13)
	a[0].Name = "changed"
	if ForVersion(tls.VersionTLS13)[0].Name == "changed" {
		t.Error("ForVersion returns shared memory")
	}
}

func TestAllIsACopy(t *testing.T) {
	a := All()
	a[0].Name = "changed"
	if All()[0].Name == "changed" {
		t.Error("All returns shared memory")
	}
}

// TestVersionRegistry: the registry's versions are named by tls.Version
// and every name parses back to its code point.
func TestVersionRegistry(t *testing.T) {
	vs := ProtocolVersions()
	if len(vs) != 40 || !slices.IsSorted(vs) {
		t.Fatalf("ProtocolVersions: %d entries (want 40), sorted %v", len(vs), slices.IsSorted(vs))
	}
	names := map[string]bool{}
	for _, v := range vs {
		name := v.String()
		if !v.Known() {
			t.Errorf("0x%04X: registered but unnamed (%s)", uint16(v), name)
		}
		if name == "GREASE" {
			if !tls.IsGREASE(uint16(v)) {
				t.Errorf("0x%04X named GREASE", uint16(v))
			}
			continue
		}
		if names[name] {
			t.Errorf("%s: two code points", name)
		}
		names[name] = true
		if got, err := tls.ParseVersion(name); err != nil || got != v {
			t.Errorf("tls.ParseVersion(%q) = 0x%04X, %v; want 0x%04X", name, uint16(got), err, uint16(v))
		}
	}
	for _, want := range []string{"SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3", "DTLSv1.0", "DTLSv1.2",
		"DTLSv1.3", "TLSv1.3-draft-14", "TLSv1.3-draft-23", "TLSv1.3-draft-28"} {
		if !names[want] {
			t.Errorf("%s is not registered", want)
		}
	}
	vs[0] = 0xFFFF
	if ProtocolVersions()[0] == 0xFFFF {
		t.Error("ProtocolVersions returns shared memory")
	}
}

func TestGradeText(t *testing.T) {
	for _, g := range []Grade{GradeNone, GradeInsecure, GradeWeak, GradeSecure, GradeRecommended} {
		got, err := ParseGrade(strings.ToUpper(g.String()))
		if err != nil || got != g {
			t.Errorf("ParseGrade(%q) = %v, %v", g, got, err)
		}
		b, _ := g.MarshalText()
		var back Grade
		if err := back.UnmarshalText(b); err != nil || back != g {
			t.Errorf("text round trip of %v: %v, %v", g, back, err)
		}
	}
	if _, err := ParseGrade("excellent"); !errors.Is(err, ErrUnknown) {
		t.Errorf("ParseGrade(excellent): %v", err)
	}
	if !(GradeInsecure < GradeWeak && GradeWeak < GradeSecure && GradeSecure < GradeRecommended) {
		t.Error("grades are not ordered")
	}
	if KindSuite.String() != "suite" || KindSCSV.String() != "scsv" || KindGREASE.String() != "grease" {
		t.Error("Kind.String")
	}
}

func TestGroups(t *testing.T) {
	for id, want := range map[uint16]Group{
		0x001D: {ID: 0x001D, Name: "x25519", Kind: "ecdhe", Bits: 253, Recommended: true},
		0x0017: {ID: 0x0017, Name: "secp256r1", Kind: "ecdhe", Bits: 256, Recommended: true},
		0x0100: {ID: 0x0100, Name: "ffdhe2048", Kind: "ffdhe", Bits: 2048},
		0x0201: {ID: 0x0201, Name: "MLKEM768", Kind: "pq", Bits: 192},
		0x11EB: {ID: 0x11EB, Name: "SecP256r1MLKEM768", Kind: "pq-hybrid", Bits: 192},
		0x11EC: {ID: 0x11EC, Name: "X25519MLKEM768", Kind: "pq-hybrid", Bits: 192},
		0x11ED: {ID: 0x11ED, Name: "SecP384r1MLKEM1024", Kind: "pq-hybrid", Bits: 256},
		0x6399: {ID: 0x6399, Name: "X25519Kyber768Draft00", Kind: "pq-hybrid", Bits: 192},
		0x639A: {ID: 0x639A, Name: "SecP256r1Kyber768Draft00", Kind: "pq-hybrid", Bits: 192},
		0xFF01: {ID: 0xFF01, Name: "arbitrary_explicit_prime_curves", Kind: "other"},
		0x2A2A: {ID: 0x2A2A, Name: "GREASE", Kind: "grease"},
	} {
		g, ok := GroupByID(id)
		g.Reference = ""
		if !ok || g != want {
			t.Errorf("GroupByID(0x%04X) = %+v, %v; want %+v", id, g, ok, want)
		}
	}
	for _, id := range []uint16{0, 42, 255, 508, 0x0A0B, 0xFE00} {
		if g, ok := GroupByID(id); ok {
			t.Errorf("unassigned group 0x%04X has an entry: %+v", id, g)
		}
	}
	if GroupName(0x001D) != "x25519" || GroupName(0x1234) != "0x1234" {
		t.Errorf("GroupName: %q, %q", GroupName(0x001D), GroupName(0x1234))
	}
	gs := Groups()
	if !slices.IsSortedFunc(gs, func(a, b Group) int { return int(a.ID) - int(b.ID) }) || len(gs) < 60 {
		t.Errorf("Groups: %d entries, sorted: %v", len(gs), slices.IsSortedFunc(gs, func(a, b Group) int { return int(a.ID) - int(b.ID) }))
	}
	for _, g := range gs {
		if g.Kind == "" || (g.Kind != "grease" && g.Kind != "other" && g.Bits == 0) {
			t.Errorf("group %+v: no kind or bits", g)
		}
	}
}

func TestSignatureSchemes(t *testing.T) {
	for id, want := range map[uint16]string{
		0x0804: "rsa_pss_rsae_sha256", 0x0403: "ecdsa_secp256r1_sha256", 0x0807: "ed25519", 0x0201: "rsa_pkcs1_sha1",
		0x0203: "ecdsa_sha1", 0x0303: "ecdsa_sha224", 0x0202: "dsa_sha1", 0x0905: "mldsa65", 0x0840: "gostr34102012_256",
		0x1A1A: "GREASE",
	} {
		s, ok := SignatureSchemeByID(id)
		if !ok || s.Name != want {
			t.Errorf("SignatureSchemeByID(0x%04X) = %+v, %v; want %s", id, s, ok, want)
		}
	}
	if s, _ := SignatureSchemeByID(0x0804); !s.Recommended {
		t.Error("rsa_pss_rsae_sha256 is Recommended")
	}
	for _, id := range []uint16{0x0000, 0x0200, 0x0710, 0xFE00} {
		if s, ok := SignatureSchemeByID(id); ok {
			t.Errorf("reserved scheme 0x%04X has an entry: %+v", id, s)
		}
	}
	if SignatureSchemeName(0x0807) != "ed25519" || SignatureSchemeName(0xABCD) != "0xABCD" {
		t.Error("SignatureSchemeName")
	}
	if ss := SignatureSchemes(); len(ss) < 50 {
		t.Errorf("%d signature schemes", len(ss))
	}
}

func TestExtensions(t *testing.T) {
	for id, want := range map[uint16]string{
		0: "server_name", 10: "supported_groups", 13: "signature_algorithms", 16: "application_layer_protocol_negotiation",
		21: "padding", 43: "supported_versions", 51: "key_share", 13172: "next_protocol_negotiation",
		17513: "application_settings", 65037: "encrypted_client_hello", 0xFF01: "renegotiation_info", 0xBABA: "GREASE",
		9999: "0x270F",
	} {
		if got := ExtensionName(id); got != want {
			t.Errorf("ExtensionName(%d) = %q, want %q", id, got, want)
		}
	}
	xs := ExtensionTypes()
	if !slices.IsSortedFunc(xs, func(a, b ExtensionType) int { return int(a.ID) - int(b.ID) }) {
		t.Error("ExtensionTypes not sorted")
	}
	for i, x := range xs {
		if x.Name == "" || x.Reference == "" || i > 0 && xs[i-1].ID == x.ID {
			t.Errorf("extension %+v: empty field or duplicate", x)
		}
	}
}

func TestSSLv2Kinds(t *testing.T) {
	ks := SSLv2Kinds()
	if len(ks) != 8 {
		t.Fatalf("%d SSLv2 kinds, want 8", len(ks))
	}
	for i, k := range ks {
		if k.Grade != GradeInsecure || k.Name == "" || k.OpenSSLName == "" || k.Bits == 0 || i > 0 && ks[i-1].ID >= k.ID {
			t.Errorf("SSLv2 kind %+v", k)
		}
		if got, ok := SSLv2KindByID(k.ID); !ok || got != k {
			t.Errorf("SSLv2KindByID(0x%06X) = %+v, %v", k.ID, got, ok)
		}
	}
	if k, _ := SSLv2KindByID(0x0700C0); k.OpenSSLName != "DES-CBC3-MD5" || k.Bits != 112 {
		t.Errorf("0x0700C0: %+v", k)
	}
	if k, _ := SSLv2KindByID(0x020080); !k.Export || k.Bits != 40 {
		t.Errorf("0x020080: %+v", k)
	}
	if _, ok := SSLv2KindByID(0x0300C0); ok {
		t.Error("0x0300C0 is no SSLv2 kind")
	}
}

// TestGREASEEntries: the sixteen GREASE values are registered as such.
func TestGREASEEntries(t *testing.T) {
	for _, v := range tls.GREASEValues() {
		if s, ok := ByID(v); !ok || s.Kind != KindGREASE {
			t.Errorf("GREASE 0x%04X: %+v", v, s)
		}
	}
}

func BenchmarkByID(b *testing.B) {
	ByID(0)
	for i := 0; b.Loop(); i++ {
		ByID(uint16(i))
	}
}

func BenchmarkLookupName(b *testing.B) {
	for b.Loop() {
		if _, err := Lookup("ECDHE-RSA-AES128-GCM-SHA256"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupHex(b *testing.B) {
	for b.Loop() {
		if _, err := Lookup("0xC02F"); err != nil {
			b.Fatal(err)
		}
	}
}
