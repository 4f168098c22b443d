package ciphers

import (
	"bufio"
	"bytes"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// opensslSuite is one line of `openssl ciphers -V -stdname`.
type opensslSuite struct {
	id                     uint16
	stdName, name, minVers string
	bits                   int // from Enc=…(bits)
	aead                   bool
}

// opensslCiphers runs the installed openssl and returns every suite it
// knows, with IANA names when it can print them (1.1.1+).
func opensslCiphers(t *testing.T, bin string) (suites []opensslSuite, stdnames bool) {
	t.Helper()
	for _, args := range [][]string{
		{"ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"},
		{"ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"},
		{"ciphers", "-V", "ALL:COMPLEMENTOFALL"}, // OpenSSL 1.0.2 has no security levels
	} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			continue
		}
		stdnames = slices.Contains(args, "-stdname")
		return parseOpenSSLCiphers(t, out, stdnames), stdnames
	}
	t.Fatalf("%s ciphers -V failed with every argument list", bin)
	return nil, false
}

var encBitsRE = regexp.MustCompile(`\((\d+)\)`)

// parseOpenSSLCiphers reads lines like
//
//	0xC0,0x2F - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD
//	0xC0,0x2F - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD
func parseOpenSSLCiphers(t *testing.T, out []byte, stdnames bool) []opensslSuite {
	var suites []opensslSuite
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		var s opensslSuite
		hi, lo, ok := strings.Cut(f[0], ",")
		h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
		l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
		if !ok || err1 != nil || err2 != nil {
			if strings.HasPrefix(f[0], "0x") && strings.Count(f[0], ",") == 2 {
				continue // an SSLv2 kind in old OpenSSL: 0x07,0x00,0xC0
			}
			t.Fatalf("cannot read openssl line %q", sc.Text())
		}
		s.id = uint16(h<<8 | l)
		rest := f[2:] // skip "-"
		if stdnames {
			if len(rest) < 3 || rest[1] != "-" {
				t.Fatalf("cannot read openssl line %q", sc.Text())
			}
			s.stdName, rest = rest[0], rest[2:]
		}
		if len(rest) < 2 {
			t.Fatalf("cannot read openssl line %q", sc.Text())
		}
		s.name, s.minVers = rest[0], rest[1]
		for _, kv := range rest[2:] {
			switch {
			case strings.HasPrefix(kv, "Enc="):
				if m := encBitsRE.FindStringSubmatch(kv); m != nil {
					s.bits, _ = strconv.Atoi(m[1])
				}
			case kv == "Mac=AEAD":
				s.aead = true
			}
		}
		suites = append(suites, s)
	}
	return suites
}

// TestOpenSSLNames checks the registry against the openssl installed here:
// every suite it lists must be in the registry under the same OpenSSL name
// and IANA name, with the same lowest protocol version, key size and AEAD
// flag. It checks only what this build of OpenSSL knows (Debian's 3.x
// leaves out export, DES, RC4, 3DES and more); the rest of the OpenSSL
// name table is by hand.
func TestOpenSSLNames(t *testing.T) {
	bin := testenv.NeedProgram(t, "openssl")
	version, _ := exec.Command(bin, "version").Output()
	suites, stdnames := opensslCiphers(t, bin)
	t.Logf("%s: %d suites, IANA names: %v", strings.TrimSpace(string(version)), len(suites), stdnames)
	if len(suites) < 20 {
		t.Fatalf("openssl listed only %d suites", len(suites))
	}
	lowest := map[string]VersionSet{"SSLv3": VSSL30, "TLSv1": VTLS10, "TLSv1.0": VTLS10, "TLSv1.2": VTLS12, "TLSv1.3": VTLS13}
	for _, o := range suites {
		s, ok := ByID(o.id)
		if !ok {
			t.Errorf("openssl knows 0x%04X %s; the registry does not", o.id, o.name)
			continue
		}
		if s.OpenSSLName != o.name {
			t.Errorf("%s: OpenSSLName %q, openssl says %q", s.HexID(), s.OpenSSLName, o.name)
		}
		if got, err := Lookup(o.name); err != nil || got.ID != o.id {
			t.Errorf("Lookup(%q) = %s, %v; want 0x%04X", o.name, got.HexID(), err, o.id)
		}
		// OpenSSL's GOST engine gives its 0xFF85 the IANA name of 0xC102.
		if stdnames && o.stdName != s.Name && o.id != 0xFF85 {
			t.Errorf("%s: Name %q, openssl says %q", s.HexID(), s.Name, o.stdName)
		}
		want, known := lowest[o.minVers]
		if !known {
			t.Errorf("%s: unknown openssl version %q", s.HexID(), o.minVers)
		} else if low := s.Versions & -s.Versions; low != want {
			t.Errorf("%s %s: lowest version %v, openssl says %s", s.HexID(), s.Name, low, o.minVers)
		}
		// OpenSSL counts 3DES as 168 bits; the registry as its 112-bit strength.
		if s.Enc != "3DES_EDE" && o.bits != 0 && o.bits != s.Bits {
			t.Errorf("%s %s: %d bits, openssl says %d", s.HexID(), s.Name, s.Bits, o.bits)
		}
		if o.aead != s.AEAD {
			t.Errorf("%s %s: AEAD %v, openssl says %v", s.HexID(), s.Name, s.AEAD, o.aead)
		}
	}
}

func TestParseOpenSSLCiphers(t *testing.T) {
	out := []byte(`          0x13,0x02 - TLS_AES_256_GCM_SHA384 - TLS_AES_256_GCM_SHA384 TLSv1.3 Kx=any      Au=any   Enc=AESGCM(256)            Mac=AEAD
          0x00,0x0A - TLS_RSA_WITH_3DES_EDE_CBC_SHA - DES-CBC3-SHA   SSLv3 Kx=RSA      Au=RSA   Enc=3DES(168)              Mac=SHA1
`)
	got := parseOpenSSLCiphers(t, out, true)
	want := []opensslSuite{
		{0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "TLSv1.3", 256, true},
		{0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", "SSLv3", 168, false},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}
