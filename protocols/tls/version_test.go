package tls

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	want := map[Version]string{
		VersionSSL20: "SSLv2", VersionSSL30: "SSLv3", VersionTLS10: "TLSv1.0", VersionTLS11: "TLSv1.1",
		VersionTLS12: "TLSv1.2", VersionTLS13: "TLSv1.3", VersionDTLS10: "DTLSv1.0", VersionDTLS12: "DTLSv1.2",
		VersionDTLS13: "DTLSv1.3", 0x7F0E: "TLSv1.3-draft-14", 0x7F17: "TLSv1.3-draft-23", 0x7F1C: "TLSv1.3-draft-28",
		0x7F00: "TLSv1.3-draft-0", 0x0A0A: "GREASE", 0xFAFA: "GREASE", 0x1234: "0x1234", 0x0305: "0x0305", 0: "0x0000",
	}
	for v, s := range want {
		if got := v.String(); got != s {
			t.Errorf("Version(0x%04X).String() = %q, want %q", uint16(v), got, s)
		}
		if got := v.Known(); got != !strings.HasPrefix(s, "0x") {
			t.Errorf("Version(0x%04X).Known() = %v", uint16(v), got)
		}
	}
}

// TestVersionRoundTrip: every named code point parses back from its name
// and from its hex value, and nothing else is named.
func TestVersionRoundTrip(t *testing.T) {
	named := 0
	for i := range 1 << 16 {
		v := Version(i)
		s := v.String()
		if !v.Known() {
			if !strings.HasPrefix(s, "0x") {
				t.Fatalf("0x%04X: unknown but named %q", i, s)
			}
			if _, err := ParseVersion(s); err == nil {
				t.Fatalf("unknown %s parses", s)
			}
			continue
		}
		named++
		if s != "GREASE" {
			if got, err := ParseVersion(s); err != nil || got != v {
				t.Errorf("ParseVersion(%q) = 0x%04X, %v; want 0x%04X", s, uint16(got), err, i)
			}
			if got, err := ParseVersion(strings.ToLower(s)); err != nil || got != v {
				t.Errorf("ParseVersion(%q) = 0x%04X, %v", strings.ToLower(s), uint16(got), err)
			}
		}
		hex := fmt.Sprintf("0x%04x", i)
		if got, err := ParseVersion(hex); err != nil || got != v {
			t.Errorf("ParseVersion(%q) = 0x%04X, %v", hex, uint16(got), err)
		}
	}
	// 9 versions, 256 draft code points, 16 GREASE values.
	if named != 9+256+16 {
		t.Errorf("%d named code points, want %d", named, 9+256+16)
	}
}

func TestParseVersion(t *testing.T) {
	good := map[string]Version{
		"tls1.2": VersionTLS12, "TLSv1.2": VersionTLS12, "TLS 1.2": VersionTLS12, "tls1_2": VersionTLS12,
		"tls12": VersionTLS12, "1.2": VersionTLS12, "tls1": VersionTLS10, "TLSv1": VersionTLS10, "tls1.0": VersionTLS10,
		"ssl3": VersionSSL30, "SSLv3": VersionSSL30, "3.0": VersionSSL30, "sslv2": VersionSSL20, "ssl2": VersionSSL20,
		"dtls1.2": VersionDTLS12, "DTLSv1.0": VersionDTLS10, " tls1.3 ": VersionTLS13,
		"TLSv1.3-draft-23": 0x7F17, "tls1.3-draft23": 0x7F17, "TLSv1.3-draft28": 0x7F1C, "tls13draft18": 0x7F12,
		"tls1.3draft-14": 0x7F0E, "0x0303": VersionTLS12, "0X7f17": 0x7F17, "0x0a0a": 0x0A0A, "0xfefd": VersionDTLS12,
	}
	for in, want := range good {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = 0x%04X, %v; want 0x%04X", in, uint16(got), err, uint16(want))
		}
	}
	for _, in := range []string{"", "tls", "tls9", "tls1.4", "ssl1", "4.0", "0x9999", "0x", "GREASE", "tls1.2-draft23",
		"tls1.3-draft256", "tls1.3-draft", "tls1.3-draft-", "tls1.3-draft--1", "tls1.3-draft+1", "tls1.3-draftx", "v1.2", "sslv3.1"} {
		if v, err := ParseVersion(in); err == nil || !errors.Is(err, ErrUnknownVersion) {
			t.Errorf("ParseVersion(%q) = 0x%04X, %v; want an ErrUnknownVersion error", in, uint16(v), err)
		}
	}
}

// TestVersionRank: oldest to newest, drafts between TLS 1.2 and TLS 1.3 in
// draft order, DTLS beside its TLS base, GREASE and unknowns at the
// bottom.
func TestVersionRank(t *testing.T) {
	order := []Version{0x0A0A, 0x1234, VersionSSL20, VersionSSL30, VersionTLS10, VersionTLS11, VersionDTLS10,
		VersionTLS12, VersionDTLS12}
	for n := 0; n < 256; n++ {
		order = append(order, Draft(uint8(n)))
	}
	order = append(order, VersionTLS13, VersionDTLS13)
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.Compare(b) >= 0 || b.Compare(a) <= 0 {
			t.Errorf("%v (rank %d) is not older than %v (rank %d)", a, a.Rank(), b, b.Rank())
		}
		if a.Rank() > 0 && a.Rank() >= b.Rank() {
			t.Errorf("rank %v = %d ≥ rank %v = %d", a, a.Rank(), b, b.Rank())
		}
	}
	if Version(0x0A0A).Rank() != 0 || Version(0x1234).Rank() != 0 || VersionSSL20.Rank() <= 0 {
		t.Error("GREASE and unknown values must rank 0, known versions above")
	}
	shuffled := slices.Clone(order)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, Version.Compare)
	if !slices.Equal(shuffled, order) {
		t.Errorf("sorted: %v\nwant    %v", shuffled, order)
	}
	for _, v := range []Version{VersionTLS13, 0x7F17, 0x7F00} {
		if !v.IsTLS13() {
			t.Errorf("%v: not TLS 1.3", v)
		}
	}
	for _, v := range []Version{VersionTLS12, VersionDTLS13, 0x0305} {
		if v.IsTLS13() {
			t.Errorf("%v: TLS 1.3", v)
		}
	}
	if n, ok := Version(0x7F17).Draft(); !ok || n != 23 {
		t.Errorf("Draft(0x7F17) = %d, %v", n, ok)
	}
	if _, ok := VersionTLS13.Draft(); ok {
		t.Error("TLS 1.3 is not a draft")
	}
}

func TestIsGREASE(t *testing.T) {
	vs := GREASEValues()
	if len(vs) != 16 || vs[0] != 0x0A0A || vs[15] != 0xFAFA {
		t.Fatalf("GREASEValues() = %04X", vs)
	}
	n := 0
	for i := range 1 << 16 {
		if IsGREASE(uint16(i)) {
			n++
			if !slices.Contains(vs, uint16(i)) {
				t.Errorf("0x%04X taken for GREASE", i)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}
