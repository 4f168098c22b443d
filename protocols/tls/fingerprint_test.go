package tls_test

// Tests of JA3, JA3S and JA4.
//
// The unit tests build hellos by hand, one per rule of the specifications
// (salesforce/ja3 README; FoxIO technical_details/JA4.md). Their expected
// values were computed outside Go (Python hashlib over the strings the
// specifications define) or are quoted from JA4.md itself.
//
// TestFingerprintOracles (below the benchmarks) compares the fingerprints of every hello in the
// public captures with every upstream expectation in testdata/public.

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// fpRandom is a fixed 32-byte random for hand-built hellos.
var fpRandom = make([]byte, 32)

// fpParse marshals m and parses it back, so that the decoded fields are
// filled by the real parser.
func fpParse(t testing.TB, m *tls.ClientHello) *tls.ClientHello {
	t.Helper()
	if m.Random == nil {
		m.Random = fpRandom
	}
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tls.ParseClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// fpSpecHello is the example of JA4.md: its 15 cipher suites, its 16
// extensions in its order, its 8 signature algorithms; supported_versions
// offers TLS 1.3 and 1.2. grease adds GREASE values to every list.
func fpSpecHello(grease bool) *tls.ClientHello {
	suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	groups := []uint16{0x001d, 0x0017, 0x0018}
	versions := []uint16{0x0304, 0x0303}
	sigs := []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	if grease {
		suites = append([]uint16{0x0a0a}, suites...)
		groups = append([]uint16{0x2a2a}, groups...)
		versions = append([]uint16{0x3a3a}, versions...)
	}
	exts := []tls.Extension{
		tls.RawExtension(0x001b, []byte{2, 0, 2}), // compress_certificate: brotli
		tls.ServerNameExtension("example.com"),
		tls.KeyShareExtension(tls.KeyShare{Group: 0x001d, Data: make([]byte, 32)}),
		tls.ALPNExtension("h2", "http/1.1"),
		tls.RawExtension(0x4469, []byte{0, 3, 2, 'h', '2'}), // application_settings
		tls.ExtendedMasterSecretExtension(),
		tls.PSKKeyExchangeModesExtension(1),
		tls.SignatureAlgorithmsExtension(sigs...),
		tls.StatusRequestExtension(),
		tls.SessionTicketExtension(nil),
		tls.RawExtension(tls.ExtSCT, nil),
		tls.SupportedVersionsExtension(versions...),
		tls.RenegotiationInfoExtension(nil),
		tls.ECPointFormatsExtension(0),
		tls.SupportedGroupsExtension(groups...),
		tls.PaddingExtension(10),
	}
	if grease {
		exts = append([]tls.Extension{tls.RawExtension(0x1a1a, nil)}, exts...)
		exts = append(exts[:len(exts)-1], tls.RawExtension(0x4a4a, []byte{0}), exts[len(exts)-1])
	}
	return &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: suites, Extensions: exts}
}

// fpSpecJA4 and the raw forms are quoted from JA4.md.
const (
	fpSpecJA4   = "t13d1516h2_8daaf6152771_e5627efa2ab1"
	fpSpecJA4r  = "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
	fpSpecJA4ro = "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601"
	// The JA3 of the same hello; the MD5 computed with Python's hashlib.
	fpSpecJA3     = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
	fpSpecJA3Hash = "c000e2caf3a25423f9de6c8a4b12a975"
)

func TestJA4SpecExample(t *testing.T) {
	for _, grease := range []bool{false, true} {
		ch := fpParse(t, fpSpecHello(grease))
		if got := tls.JA4(ch, tls.JA4TCP); got != fpSpecJA4 {
			t.Errorf("grease=%v: JA4 = %s, want %s", grease, got, fpSpecJA4)
		}
		if got := tls.JA4Raw(ch, tls.JA4TCP, false); got != fpSpecJA4r {
			t.Errorf("grease=%v: JA4_r = %s, want %s", grease, got, fpSpecJA4r)
		}
		if got := tls.JA4Raw(ch, tls.JA4TCP, true); got != fpSpecJA4ro {
			t.Errorf("grease=%v: JA4_ro = %s, want %s", grease, got, fpSpecJA4ro)
		}
		full, hash := tls.JA3(ch)
		if full != fpSpecJA3 || hash != fpSpecJA3Hash {
			t.Errorf("grease=%v: JA3 = %s %s, want %s %s", grease, full, hash, fpSpecJA3, fpSpecJA3Hash)
		}
	}
}

// fpSuites returns n cipher suites 1..n.
func fpSuites(n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		out[i] = uint16(i + 1)
	}
	return out
}

// fpExtensions returns n empty extensions of types 0x1000, 0x1001 …
func fpExtensions(n int) []tls.Extension {
	out := make([]tls.Extension, n)
	for i := range out {
		out[i] = tls.RawExtension(0x1000+uint16(i), nil)
	}
	return out
}

func TestJA4Rules(t *testing.T) {
	tls13 := tls.SupportedVersionsExtension(0x0304, 0x0303)
	tests := []struct {
		name      string
		hello     *tls.ClientHello
		transport byte
		ja4       string
		ja4r      string // "" to skip
	}{
		{
			// JA3's example of an old client; JA4_c's "no extensions" rule.
			name:  "no extensions",
			hello: &tls.ClientHello{Version: tls.VersionTLS10, CipherSuites: []uint16{47, 53, 5, 10}},
			ja4:   "t10i040000_cd059950e4e9_000000000000",
			ja4r:  "t10i040000_0005,000a,002f,0035_",
		},
		{
			name:  "empty extensions block",
			hello: &tls.ClientHello{Version: tls.VersionTLS10, CipherSuites: []uint16{47, 53, 5, 10}, HasExtensions: true},
			ja4:   "t10i040000_cd059950e4e9_000000000000",
		},
		{
			name:  "SSL 3.0",
			hello: &tls.ClientHello{Version: tls.VersionSSL30, CipherSuites: []uint16{47, 53, 5, 10}},
			ja4:   "ts3i040000_cd059950e4e9_000000000000",
		},
		{
			// JA4.md: "If there are no signature algorithms in the hello
			// packet, then the string ends without an underscore", its
			// example "0005,…,ff01 = 6d807ffa2a79": the spec hello with an
			// empty signature_algorithms list.
			name: "no signature algorithms",
			hello: func() *tls.ClientHello {
				m := fpSpecHello(false)
				for i, e := range m.Extensions {
					if e.Type == tls.ExtSignatureAlgorithms {
						m.Extensions[i] = tls.SignatureAlgorithmsExtension()
					}
				}
				return m
			}(),
			ja4:  "t13d1516h2_8daaf6152771_6d807ffa2a79",
			ja4r: "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01",
		},
		{
			// Only server_name and ALPN: the sorted list JA4_c hashes is
			// empty.
			name: "only SNI and ALPN",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301},
				Extensions: []tls.Extension{tls.ServerNameExtension("a.example"), tls.ALPNExtension("h2")}},
			ja4:  "t12d0102h2_0f2cb44170f4_000000000000",
			ja4r: "t12d0102h2_1301_",
		},
		{
			name:  "no cipher suites",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{}, Extensions: []tls.Extension{tls.ExtendedMasterSecretExtension()}},
			ja4r:  "t12i000100__0017",
		},
		{
			// GREASE does not count: a list of only GREASE is empty.
			name:  "only GREASE cipher suites",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x0a0a, 0x1a1a}},
			ja4:   "t12i000000_000000000000_000000000000",
			ja4r:  "t12i000000__",
		},
		{
			name:  "more than 99 cipher suites",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: fpSuites(150)},
			ja4:   "t12i990000_2ddb91151f68_000000000000",
		},
		{
			name:  "more than 99 extensions",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}, Extensions: fpExtensions(120)},
			ja4:   "t12i019900_0f2cb44170f4_3ec5f12e055a",
		},
		{
			name:      "TLS 1.3 via supported_versions, GREASE first",
			hello:     &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}, Extensions: []tls.Extension{tls.SupportedVersionsExtension(0xdada, 0x0304, 0x0303)}},
			transport: tls.JA4TCP,
			ja4r:      "t13i010100_1301_002b",
		},
		{
			name:  "supported_versions below legacy_version",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}, Extensions: []tls.Extension{tls.SupportedVersionsExtension(0x0302, 0x0301)}},
			ja4r:  "t11i010100_1301_002b",
		},
		{
			name:  "supported_versions holding only GREASE",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}, Extensions: []tls.Extension{tls.SupportedVersionsExtension(0x0a0a)}},
			ja4r:  "t12i010100_1301_002b",
		},
		{
			// SOURCES.md: JA4 prints "00" for draft code points.
			name:  "TLS 1.3 draft 23",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}, Extensions: []tls.Extension{tls.SupportedVersionsExtension(0x7f17, 0x0303)}},
			ja4r:  "t00i010100_1301_002b",
		},
		{
			name:  "unknown legacy_version",
			hello: &tls.ClientHello{Version: 0x0305, CipherSuites: []uint16{0x1301}},
			ja4r:  "t00i010000_1301_",
		},
		{
			name:      "QUIC",
			hello:     &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}, Extensions: []tls.Extension{tls13}},
			transport: tls.JA4QUIC,
			ja4r:      "q13i010100_1301_002b",
		},
		{
			name:      "DTLS 1.2",
			hello:     &tls.ClientHello{Version: 0xfefd, CipherSuites: []uint16{0xc02b}},
			transport: tls.JA4DTLS,
			ja4r:      "dd2i010000_c02b_",
		},
		{
			name:      "DTLS 1.0",
			hello:     &tls.ClientHello{Version: 0xfeff, CipherSuites: []uint16{0xc02b}},
			transport: tls.JA4DTLS,
			ja4r:      "dd1i010000_c02b_",
		},
		{
			// DTLS codes count down: 0xfefc (1.3) is newer than 0xfefd.
			name:      "DTLS 1.3 via supported_versions",
			hello:     &tls.ClientHello{Version: 0xfefd, CipherSuites: []uint16{0x1301}, Extensions: []tls.Extension{tls.SupportedVersionsExtension(0x2a2a, 0xfefd, 0xfefc)}},
			transport: tls.JA4DTLS,
			ja4r:      "dd3i010100_1301_002b",
		},
		{
			name: "GREASE in signature_algorithms",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301},
				Extensions: []tls.Extension{tls.SignatureAlgorithmsExtension(0x0a0a, 0x0403, 0x1a1a, 0x0804)}},
			ja4r: "t12i010100_1301_000d_0403,0804",
		},
		{
			name: "only GREASE in signature_algorithms",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301},
				Extensions: []tls.Extension{tls.SignatureAlgorithmsExtension(0x0a0a)}},
			ja4r: "t12i010100_1301_000d",
		},
		{
			// The SNI letter depends on the extension, not on its content:
			// here one entry of an unknown name_type (RFC 6066 §3).
			name: "server_name without a host_name",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301},
				Extensions: []tls.Extension{tls.RawExtension(tls.ExtServerName, []byte{0, 3, 1, 0, 0})}},
			ja4r: "t12d010100_1301_",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.transport
			if tr == 0 {
				tr = tls.JA4TCP
			}
			ch := fpParse(t, tt.hello)
			if tt.ja4 != "" {
				if got := tls.JA4(ch, tr); got != tt.ja4 {
					t.Errorf("JA4 = %s, want %s", got, tt.ja4)
				}
			}
			if tt.ja4r != "" {
				if got := tls.JA4Raw(ch, tr, false); got != tt.ja4r {
					t.Errorf("JA4_r = %s, want %s", got, tt.ja4r)
				}
			}
			fpCheckShape(t, ch)
		})
	}
}

func TestJA4ALPN(t *testing.T) {
	// The first five are JA4.md's examples of the non-alphanumeric rule.
	tests := []struct {
		alpn []string
		want string
	}{
		{[]string{"\xab"}, "ab"},
		{[]string{"\xab\xcd"}, "ad"},
		{[]string{"0\xab"}, "3b"},
		{[]string{"01\xab\xcd"}, "3d"},
		{[]string{"0\xab\xcd1"}, "01"},
		{[]string{"h2", "http/1.1"}, "h2"},
		{[]string{"http/1.1", "h2"}, "h1"},
		{[]string{"spdy/3.1"}, "s1"},
		{[]string{"h3"}, "h3"},
		{[]string{"x"}, "xx"},
		{[]string{"/"}, "2f"},
		{[]string{"", "h2"}, "00"},
		{[]string{}, "00"},
		{nil, "00"},
	}
	for _, tt := range tests {
		m := &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x1301}}
		if tt.alpn != nil {
			m.Extensions = []tls.Extension{tls.ALPNExtension(tt.alpn...)}
		}
		ch := fpParse(t, m)
		got := tls.JA4(ch, tls.JA4TCP)
		if got[8:10] != tt.want {
			t.Errorf("ALPN %q: JA4 %s, ALPN characters %q, want %q", tt.alpn, got, got[8:10], tt.want)
		}
	}
}

func TestJA3Rules(t *testing.T) {
	tests := []struct {
		name       string
		hello      *tls.ClientHello
		full, hash string
	}{
		{
			// The README's example of a hello without extensions keeps the
			// empty fields.
			name:  "no extensions",
			hello: &tls.ClientHello{Version: tls.VersionTLS10, CipherSuites: []uint16{47, 53, 5, 10}},
			full:  "769,47-53-5-10,,,",
			hash:  "58abb09de211a90df7ddf6b8468325aa",
		},
		{
			name: "GREASE removed from ciphers, extensions and groups",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{0x0a0a, 4865, 0xfafa, 4866},
				Extensions: []tls.Extension{tls.RawExtension(0x2a2a, nil), tls.SupportedGroupsExtension(0x3a3a, 29, 23),
					tls.ECPointFormatsExtension(0, 1), tls.RawExtension(0xeaea, []byte{0})}},
			full: "771,4865-4866,10-11,29-23,0-1",
		},
		{
			// The empty fields of lists that are present but empty.
			name: "empty lists",
			hello: &tls.ClientHello{Version: tls.VersionTLS12, CipherSuites: []uint16{4865},
				Extensions: []tls.Extension{tls.SupportedGroupsExtension(), tls.ECPointFormatsExtension()}},
			full: "771,4865,10-11,,",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, hash := tls.JA3(fpParse(t, tt.hello))
			if full != tt.full {
				t.Errorf("JA3 = %s, want %s", full, tt.full)
			}
			if tt.hash != "" && hash != tt.hash {
				t.Errorf("JA3 hash = %s, want %s", hash, tt.hash)
			}
			if sum := md5.Sum([]byte(full)); hash != hex.EncodeToString(sum[:]) {
				t.Errorf("JA3 hash %s is not the MD5 of %q", hash, full)
			}
		})
	}
}

func TestJA3S(t *testing.T) {
	tests := []struct {
		sh         *tls.ServerHello
		full, hash string
	}{
		// ssl.v3.pcap: a TLS 1.0 server without extensions; the hash is
		// tshark's.
		{&tls.ServerHello{Version: tls.VersionTLS10, CipherSuite: 4}, "769,4,", "53611273a714cb4789c8222932efd5a7"},
		{&tls.ServerHello{Version: tls.VersionTLS12, CipherSuite: 0x1301, Extensions: []tls.Extension{
			{Type: 0x0a0a}, {Type: tls.ExtKeyShare}, {Type: tls.ExtSupportedVersions},
		}}, "771,4865,51-43", ""},
	}
	for _, tt := range tests {
		full, hash := tls.JA3S(tt.sh)
		if full != tt.full || tt.hash != "" && hash != tt.hash {
			t.Errorf("JA3S = %s %s, want %s %s", full, hash, tt.full, tt.hash)
		}
	}
	if full, hash := tls.JA3S(nil); full != "" || hash != "" {
		t.Errorf("JA3S(nil) = %q, %q", full, hash)
	}
}

// TestJA3SSLv2 covers the SSLv2-compatible hello: no JA3 (tshark, the
// reference ja3.py), and a JA4 of its TLS suites.
func TestJA3SSLv2(t *testing.T) {
	specs := []uint32{0x010080, 0x000004, 0x07_00c0, 0x00000a}
	tests := []struct {
		version tls.Version
		ja4     string
	}{
		// SSLv2-compatible, offering TLS 1.0 (RFC 5246 Appendix E.2).
		{tls.VersionTLS10, "t10i020000_36c25159f44f_000000000000"},
		// SSL 2.0 itself.
		{tls.VersionSSL20, "ts2i020000_36c25159f44f_000000000000"},
	}
	for _, tt := range tests {
		rec, err := tls.BuildSSLv2ClientHello(tt.version, specs, nil, make([]byte, 16))
		if err != nil {
			t.Fatal(err)
		}
		payload, _, err := tls.ParseSSLv2Record(rec)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := tls.ParseSSLv2ClientHello(payload)
		if err != nil {
			t.Fatal(err)
		}
		if full, hash := tls.JA3(ch); full != "" || hash != "" {
			t.Errorf("%v: JA3 = %q %q, want none", tt.version, full, hash)
		}
		if got := tls.JA4(ch, tls.JA4TCP); got != tt.ja4 {
			t.Errorf("%v: JA4 = %s, want %s", tt.version, got, tt.ja4)
		}
	}
}

func TestJA4Nil(t *testing.T) {
	if got := tls.JA4(nil, tls.JA4TCP); got != "" {
		t.Errorf("JA4(nil) = %q", got)
	}
	if got := tls.JA4Raw(nil, tls.JA4TCP, true); got != "" {
		t.Errorf("JA4Raw(nil) = %q", got)
	}
	if full, hash := tls.JA3(nil); full != "" || hash != "" {
		t.Errorf("JA3(nil) = %q %q", full, hash)
	}
}

// fpShape is the shape of every JA4 of a parsed hello.
var fpShape = regexp.MustCompile(`^[tqd](13|12|11|10|s3|s2|00|d1|d2|d3)[di]\d\d\d\d.._[0-9a-f]{12}_[0-9a-f]{12}$`)

// fpCheckShape checks the invariants of the fingerprints of a parsed hello,
// for every transport.
func fpCheckShape(t *testing.T, ch *tls.ClientHello) {
	t.Helper()
	for _, tr := range []byte{tls.JA4TCP, tls.JA4QUIC, tls.JA4DTLS} {
		ja4 := tls.JA4(ch, tr)
		if !fpShape.MatchString(ja4) {
			t.Fatalf("JA4 %q has the wrong shape", ja4)
		}
		for _, original := range []bool{false, true} {
			if raw := tls.JA4Raw(ch, tr, original); !strings.HasPrefix(raw, ja4[:11]) {
				t.Fatalf("JA4Raw(original=%v) %q does not start with ja4_a %q", original, raw, ja4[:11])
			}
		}
	}
	full, hash := tls.JA3(ch)
	if ch.SSLv2 {
		if full != "" || hash != "" {
			t.Fatalf("JA3 of an SSLv2 hello: %q %q", full, hash)
		}
		return
	}
	if strings.Count(full, ",") != 4 {
		t.Fatalf("JA3 %q does not have five fields", full)
	}
	if sum := md5.Sum([]byte(full)); hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("JA3 hash %s is not the MD5 of %q", hash, full)
	}
}

// fpFuzzDir is the committed seed corpus of FuzzJA4.
const fpFuzzDir = "testdata/fuzz/FuzzJA4"

// FuzzJA4 parses arbitrary bytes as a ClientHello handshake message and as
// an SSLv2 CLIENT-HELLO record body; whatever parses must fingerprint
// without panicking and with the right shape.
func FuzzJA4(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(fpFuzzDir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	if len(seeds) == 0 {
		f.Fatalf("no seeds in %s: the committed corpus is gone, so the fuzz test would test nothing", fpFuzzDir)
	}
	spec := fpSpecHello(true)
	spec.Random = fpRandom
	msg, err := spec.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Fuzz(func(t *testing.T, data []byte) {
		if ch, err := tls.ParseClientHello(data); err == nil {
			fpCheckShape(t, ch)
		}
		if ch, err := tls.ParseSSLv2ClientHello(data); err == nil {
			fpCheckShape(t, ch)
		}
	})
}

// TestFuzzJA4Corpus checks that the seed corpus exists and holds hellos
// that parse, so that FuzzJA4 starts from real inputs.
func TestFuzzJA4Corpus(t *testing.T) {
	seeds, err := filepath.Glob(filepath.Join(fpFuzzDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(seeds) == 0 {
		t.Fatalf("no seeds in %s", fpFuzzDir)
	}
	parsed := 0
	for _, s := range seeds {
		data, err := fpReadSeed(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if _, err := tls.ParseClientHello(data); err == nil {
			parsed++
		} else if _, err := tls.ParseSSLv2ClientHello(data); err == nil {
			parsed++
		}
	}
	if parsed == 0 {
		t.Errorf("none of the %d seeds parses as a hello", len(seeds))
	}
	t.Logf("%d seeds, %d parse as a hello", len(seeds), parsed)
}

// fpReadSeed reads a corpus file of the form the go command writes: the
// line "go test fuzz v1", then one []byte("…") line with a Go string
// literal.
func fpReadSeed(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	header, body, ok := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if !ok || header != "go test fuzz v1" {
		return nil, errors.New("not a go test fuzz v1 file")
	}
	lit, ok := strings.CutPrefix(body, "[]byte(")
	if !ok || !strings.HasSuffix(lit, ")") {
		return nil, errors.New("not a []byte(…) line")
	}
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func BenchmarkJA4(b *testing.B) {
	ch := fpParse(b, fpSpecHello(true))
	b.ReportAllocs()
	for b.Loop() {
		if len(tls.JA4(ch, tls.JA4TCP)) != 36 {
			b.Fatal("bad JA4")
		}
	}
}

func BenchmarkJA4Raw(b *testing.B) {
	ch := fpParse(b, fpSpecHello(true))
	b.ReportAllocs()
	for b.Loop() {
		tls.JA4Raw(ch, tls.JA4TCP, false)
	}
}

func BenchmarkJA3(b *testing.B) {
	ch := fpParse(b, fpSpecHello(true))
	b.ReportAllocs()
	for b.Loop() {
		full, _ := tls.JA3(ch)
		if full == "" {
			b.Fatal("no JA3")
		}
	}
}

func BenchmarkJA3S(b *testing.B) {
	sh := &tls.ServerHello{Version: tls.VersionTLS12, CipherSuite: 0x1301, Extensions: []tls.Extension{
		{Type: tls.ExtKeyShare}, {Type: tls.ExtSupportedVersions},
	}}
	b.ReportAllocs()
	for b.Loop() {
		tls.JA3S(sh)
	}
}

// Oracles.
//
// TestFingerprintOracles extracts every ClientHello and ServerHello of every
// TCP connection in the public captures (internal/pcaptest reassembles the
// connections; TLS starts at offset 0 or, after a STARTTLS-style preamble,
// at the first segment start where LooksLikeTLS or LooksLikeSSLv2 holds,
// as in crosscheck_test.go) and compares their fingerprints with every
// upstream expectation in testdata/public:
//
//   - tshark: the ja3_full/ja3 and ja3s_full/ja3s columns of every
//     .tshark.tsv row, matched by frame (a row with a ClientHello and no
//     JA3 is an expectation of "no JA3": SSLv2-format hellos);
//   - Arkime tests/pcap/*.test: tls.ja3, ja3string, ja3s, ja3sstring,
//     ja4, ja4_r per session, matched by 4-tuple;
//   - suricata-verify tests/*/test.yaml: the tls.ja3.*, tls.ja3s.* and
//     tls.ja4 checks, with their count (connections matching all the
//     check's fingerprint fields, and tls.sni when given);
//   - FoxIO: python/test/testdata/*.json (JA4.N, JA4_r.N, JA4_o.N,
//     JA4_ro.N against the N-th ClientHello of the stream), the rust insta
//     snapshots (ja4 of the first ClientHello), the Zeek ssl.log ja4
//     column, and the FoxIO values SOURCES.md quotes;
//   - Zeek's own baselines have no JA3 or JA4 column, so nothing.
//
// Every expectation is matched, or listed in fpExceptions with the value
// the specification gives and the reason upstream differs (an entry that
// stops occurring fails the test), or is about QUIC, which this codec does
// not decrypt: those are counted and pinned in fpWantSkipped. The number of
// expectation files of each source is pinned in fpWantFiles, so that a
// file that goes missing (or appears) fails the test rather than silently
// changing what is checked.

// fpException is an upstream value that contradicts the specification.
type fpException struct {
	spec   string // what tlsmap gives, per the specification
	reason string
}

// fpExceptions is keyed by "source|capture|where|field".
var fpExceptions = map[string]fpException{
	"suricata|suricata-verify/tests/bug-5713-01/TLSv1-Extracted-MaliciousC2.pcap|tests/bug-5713-02-ja4/test.yaml check 2|JA4": {
		spec: "t10i070600_c50f5591e341_c39ab67fec8e",
		reason: "the hello has no signature_algorithms; Suricata hashes \"0005,000a,000b,0017,0023,ff01_\" with a trailing " +
			"'_' (ce66f3b797c1), the JA4 spec says the string then ends without an underscore (FoxIO issue #146, PR #149; " +
			"Arkime and FoxIO Rust agree)",
	},

	// tls-non-ascii-alpn.pcapng: the first ALPN protocol is the two bytes
	// 0xBA 0xAD. JA4.md: when its first or last byte is not an ASCII
	// letter or digit, write the first and last hex digits of the name,
	// "bd". FoxIO's python and rust print "99": they replace each
	// non-ASCII character with '9', the rule before FoxIO PR #156 (FoxIO
	// issue #326, open, asks python to follow the spec; Wireshark,
	// CyberChef, s2n-tls, Envoy and the nginx module follow it).
	"foxio-python|foxio-ja4/pcap/tls-non-ascii-alpn.pcapng|stream 0 ClientHello 1|JA4":    fpALPNQuirk("t13d1516bd_8daaf6152771_e5627efa2ab1"),
	"foxio-python|foxio-ja4/pcap/tls-non-ascii-alpn.pcapng|stream 0 ClientHello 1|JA4_o":  fpALPNQuirk("t13d1516bd_acb858a92679_8fc3c02244b2"),
	"foxio-python|foxio-ja4/pcap/tls-non-ascii-alpn.pcapng|stream 0 ClientHello 1|JA4_r":  fpALPNQuirk("t13d1516bd" + fpNonASCIIALPNr),
	"foxio-python|foxio-ja4/pcap/tls-non-ascii-alpn.pcapng|stream 0 ClientHello 1|JA4_ro": fpALPNQuirk("t13d1516bd" + fpNonASCIIALPNro),
	"foxio-rust|foxio-ja4/pcap/tls-non-ascii-alpn.pcapng|stream 0|JA4":                    fpALPNQuirk("t13d1516bd_8daaf6152771_e5627efa2ab1"),
	"SOURCES.md|foxio-ja4/pcap/tls-non-ascii-alpn.pcapng|the TLS connection, ClientHello 1|JA4": fpALPNQuirk(
		"t13d1516bd_8daaf6152771_e5627efa2ab1"),
}

// The lists of the raw fingerprints of tls-non-ascii-alpn.pcapng.
const (
	fpNonASCIIALPNr = "_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9" +
		"_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01" +
		"_0403,0804,0401,0503,0805,0501,0806,0601"
	fpNonASCIIALPNro = "_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035" +
		"_ff01,0033,002d,0005,4469,000d,0010,0023,001b,002b,0000,0012,000a,0017,000b,0015" +
		"_0403,0804,0401,0503,0805,0501,0806,0601"
)

func fpALPNQuirk(spec string) fpException {
	return fpException{spec: spec, reason: "first ALPN 0xBA 0xAD: the spec's hex rule gives \"bd\", FoxIO python/rust " +
		"still substitute '9' for non-ASCII (pre-PR #156 rule, FoxIO issue #326); SOURCES.md quotes their value"}
}

// fpWantFiles is the number of expectation files each source must have
// (for FoxIO python and rust, those of captures that were copied).
var fpWantFiles = map[string]int{
	"tshark":       56,
	"arkime":       12,
	"suricata":     6, // test.yaml files with a fingerprint check
	"foxio-python": 13,
	"foxio-rust":   13,
	"foxio-zeek":   1,
	"SOURCES.md":   1,
}

// fpWantSkipped is the number of QUIC expectations of each source: tshark's
// JA3/JA3S of QUIC Initials, Arkime's quicietf.pcap session, Suricata's
// quic.ja4, FoxIO rust's q… records and the FoxIO Zeek log (all QUIC).
var fpWantSkipped = map[string]int{
	"tshark":     120,
	"arkime":     4,
	"suricata":   1,
	"foxio-rust": 28,
	"foxio-zeek": 20,
}

// fpHello is one hello found in a capture.
type fpHello struct {
	frame int
	ch    *tls.ClientHello
	sh    *tls.ServerHello
}

// fpConn is one TCP connection and its hellos, in stream order.
type fpConn struct {
	index          int // tshark's tcp.stream
	client, server netip.AddrPort
	chs, shs       []fpHello
}

// fpCapture is a capture's TCP connections.
type fpCapture struct {
	name  string
	conns []*fpConn
}

// fpCache holds the captures already walked: several sources refer to the
// same capture.
var fpCache = struct {
	sync.Mutex
	m map[string]*fpCapture
}{m: map[string]*fpCapture{}}

// fpLoad walks the capture name (relative to testdata/public).
func fpLoad(t *testing.T, name string) *fpCapture {
	t.Helper()
	fpCache.Lock()
	defer fpCache.Unlock()
	if c, ok := fpCache.m[name]; ok {
		return c
	}
	pub, err := pcaptest.PublicDir()
	if err != nil {
		t.Fatal(err)
	}
	capt, err := pcaptest.ReadTCP(filepath.Join(pub, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	c := &fpCapture{name: name}
	for _, conn := range capt.Conns {
		fc := &fpConn{index: conn.Index, client: conn.Client, server: conn.Server}
		for _, d := range []pcaptest.Dir{pcaptest.ClientToServer, pcaptest.ServerToClient} {
			for _, h := range fpWalk(t, name, conn, d) {
				if h.ch != nil {
					fc.chs = append(fc.chs, h)
				} else {
					fc.shs = append(fc.shs, h)
				}
			}
		}
		c.conns = append(c.conns, fc)
	}
	fpCache.m[name] = c
	return c
}

// fpFindTLS returns the offset where TLS or SSLv2 starts in s: 0, or the
// first segment start at which the codec recognises a record.
func fpFindTLS(s *pcaptest.Stream) (int, bool) {
	for i := range s.Data {
		if i > 0 && s.Frames[i] == s.Frames[i-1] {
			continue
		}
		if tls.LooksLikeTLS(s.Data[i:]) || tls.LooksLikeSSLv2(s.Data[i:]) {
			return i, true
		}
	}
	return 0, false
}

// fpWalk returns the hellos of one direction of conn. The decoder is fed
// one whole record at a time, and a hello is attributed to the frame that
// completed its record: tshark's unit of dissection.
func fpWalk(t *testing.T, name string, conn *pcaptest.Conn, d pcaptest.Dir) []fpHello {
	t.Helper()
	st := conn.Streams[d]
	start, ok := fpFindTLS(st)
	if !ok {
		return nil
	}
	fail := func(off int, err error) {
		t.Errorf("%s: stream %d %v offset %d: %v", name, conn.Index, d, off, err)
	}
	var hellos []fpHello
	data := st.Data
	dec := tls.NewDecoder(1<<24 - 1)
	sslv2 := data[start]&0x80 != 0
	for off := start; off < len(data); {
		var n int
		var err error
		if sslv2 {
			var payload []byte
			payload, n, err = tls.ParseSSLv2Record(data[off:])
			// RFC 5246 Appendix E.2: after an SSLv2-compatible
			// CLIENT-HELLO the client continues in TLS records.
			if err == nil && off == start && len(payload) >= 2 && payload[0] == tls.SSLv2MsgClientHello && payload[1] == 3 {
				sslv2 = false
			}
		} else {
			_, n, err = tls.ParseRecord(data[off:])
		}
		if errors.Is(err, tls.ErrTruncated) {
			break // the capture ends inside a record
		}
		if err != nil {
			fail(off, err)
			break
		}
		end := off + n
		frame := st.Ready[end-1]
		_, _ = dec.Write(data[off:end]) // an error comes out of Next
		for {
			ev, err := dec.Next()
			if errors.Is(err, tls.ErrNeedMore) {
				break
			}
			if err != nil {
				fail(off, err)
				return hellos
			}
			switch {
			case ev.Kind == tls.EventHandshake && ev.HandshakeType == tls.TypeClientHello:
				ch, err := tls.ParseClientHello(ev.Message)
				if err != nil {
					fail(off, err)
					continue
				}
				hellos = append(hellos, fpHello{frame: frame, ch: ch})
			case ev.Kind == tls.EventHandshake && ev.HandshakeType == tls.TypeServerHello:
				sh, err := tls.ParseServerHello(ev.Message)
				if err != nil {
					fail(off, err)
					continue
				}
				hellos = append(hellos, fpHello{frame: frame, sh: sh})
			case ev.Kind == tls.EventSSLv2 && off == start && len(ev.Message) > 0 && ev.Message[0] == tls.SSLv2MsgClientHello:
				ch, err := tls.ParseSSLv2ClientHello(ev.Message)
				if err != nil {
					fail(off, err)
					continue
				}
				hellos = append(hellos, fpHello{frame: frame, ch: ch})
			}
		}
		off = end
	}
	return hellos
}

// byIndex returns the connection tshark numbers i, or nil.
func (c *fpCapture) byIndex(i int) *fpConn {
	for _, fc := range c.conns {
		if fc.index == i {
			return fc
		}
	}
	return nil
}

// byTuple returns the connections between a and b, in either direction.
func (c *fpCapture) byTuple(a, b netip.AddrPort) []*fpConn {
	var out []*fpConn
	for _, fc := range c.conns {
		if fc.client == a && fc.server == b || fc.client == b && fc.server == a {
			out = append(out, fc)
		}
	}
	return out
}

// withHello returns the connections that have a ClientHello.
func (c *fpCapture) withHello() []*fpConn {
	var out []*fpConn
	for _, fc := range c.conns {
		if len(fc.chs) > 0 {
			out = append(out, fc)
		}
	}
	return out
}

// Fingerprint field names, as reported.
const (
	fpJA3      = "JA3"
	fpJA3Full  = "JA3 string"
	fpJA3S     = "JA3S"
	fpJA3SFull = "JA3S string"
	fpJA4      = "JA4"
	fpJA4r     = "JA4_r"
	fpJA4o     = "JA4_o"
	fpJA4ro    = "JA4_ro"
)

// fpFields is the order in which totals are printed.
var fpFields = []string{fpJA3, fpJA3Full, fpJA3S, fpJA3SFull, fpJA4, fpJA4r, fpJA4o, fpJA4ro}

// fpClientField computes a client fingerprint field of ch.
func fpClientField(ch *tls.ClientHello, field string) string {
	switch field {
	case fpJA3:
		_, h := tls.JA3(ch)
		return h
	case fpJA3Full:
		f, _ := tls.JA3(ch)
		return f
	case fpJA4:
		return tls.JA4(ch, tls.JA4TCP)
	case fpJA4r:
		return tls.JA4Raw(ch, tls.JA4TCP, false)
	case fpJA4ro:
		return tls.JA4Raw(ch, tls.JA4TCP, true)
	case fpJA4o:
		return fpHashOriginal(ch)
	}
	panic("unknown client field " + field)
}

// fpServerField computes a server fingerprint field of sh.
func fpServerField(sh *tls.ServerHello, field string) string {
	f, h := tls.JA3S(sh)
	switch field {
	case fpJA3S:
		return h
	case fpJA3SFull:
		return f
	}
	panic("unknown server field " + field)
}

// fpHashOriginal computes JA4_o, the hashed form of JA4_ro, which FoxIO's python
// outputs (tlsmap does not export it): ja4_a, the hash of the ciphers in
// wire order and the hash of the extensions in wire order (SNI and ALPN
// included) and signature algorithms. The empty rules are JA4's: twelve
// zeros without ciphers, and when JA4's own extension list (without SNI
// and ALPN) is empty.
func fpHashOriginal(ch *tls.ClientHello) string {
	h := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:6])
	}
	a, rest, _ := strings.Cut(tls.JA4Raw(ch, tls.JA4TCP, true), "_")
	suites, exts, _ := strings.Cut(rest, "_")
	b, c := "000000000000", "000000000000"
	if suites != "" {
		b = h(suites)
	}
	if !strings.HasSuffix(tls.JA4(ch, tls.JA4TCP), "_000000000000") {
		c = h(exts)
	}
	return a + "_" + b + "_" + c
}

// fpTally counts the expectations of one field of one source.
type fpTally struct {
	matched, excepted, total int
	absent                   int // matched expectations of no value (tshark: no JA3 for an SSLv2-format hello)
	captures                 map[string]bool
}

func (tl *fpTally) add(o *fpTally) {
	tl.matched += o.matched
	tl.excepted += o.excepted
	tl.total += o.total
	tl.absent += o.absent
	for k := range o.captures {
		tl.captures[k] = true
	}
}

// fpChecker compares and counts.
type fpChecker struct {
	t        *testing.T
	tally    map[string]map[string]*fpTally // source → field
	captures map[string]map[string]bool     // source → captures
	files    map[string]int                 // source → expectation files
	skipped  map[string]int                 // source → QUIC expectations
	seen     map[string]bool                // fpExceptions keys that occurred
}

func (c *fpChecker) file(source string) { c.files[source]++ }

func (c *fpChecker) skip(source string) { c.skipped[source]++ }

// check compares one expectation.
func (c *fpChecker) check(source, capture, where, field, got, want string) {
	c.t.Helper()
	if c.tally[source] == nil {
		c.tally[source] = map[string]*fpTally{}
		c.captures[source] = map[string]bool{}
	}
	tl := c.tally[source][field]
	if tl == nil {
		tl = &fpTally{captures: map[string]bool{}}
		c.tally[source][field] = tl
	}
	tl.total++
	tl.captures[capture] = true
	c.captures[source][capture] = true
	key := strings.Join([]string{source, capture, where, field}, "|")
	exc, excepted := fpExceptions[key]
	switch {
	case got == want:
		tl.matched++ // an exception for it is stale, reported at the end
		if want == "" {
			tl.absent++
		}
	case excepted:
		c.seen[key] = true
		tl.excepted++
		if got != exc.spec {
			c.t.Errorf("%s: upstream %q differs as documented, but tlsmap gives %q, not the specification's %q", key, want, got, exc.spec)
		}
		c.t.Logf("EXCEPTION %s: upstream %q, tlsmap %q: %s", key, want, got, exc.reason)
	default:
		c.t.Errorf("%s: tlsmap %q, upstream %q", key, got, want)
	}
}

func TestFingerprintOracles(t *testing.T) {
	c := &fpChecker{
		t:        t,
		tally:    map[string]map[string]*fpTally{},
		captures: map[string]map[string]bool{},
		files:    map[string]int{},
		skipped:  map[string]int{},
		seen:     map[string]bool{},
	}
	pub, err := pcaptest.PublicDir()
	if err != nil {
		t.Fatal(err)
	}
	fpCheckTshark(t, c)
	fpCheckArkime(t, c, pub)
	fpCheckSuricata(t, c, pub)
	fpCheckFoxIOPython(t, c, pub)
	fpCheckFoxIORust(t, c, pub)
	fpCheckFoxIOZeek(t, c, pub)
	fpCheckQuoted(t, c)
	fpCheckZeekHasNone(t, pub)

	// Totals per source, then per field over all sources.
	sources := slices.Sorted(maps.Keys(c.tally))
	all := map[string]*fpTally{}
	for _, src := range sources {
		var parts []string
		for _, f := range fpFields {
			tl := c.tally[src][f]
			if tl == nil {
				continue
			}
			parts = append(parts, fpTallyString(f, tl))
			if all[f] == nil {
				all[f] = &fpTally{captures: map[string]bool{}}
			}
			all[f].add(tl)
		}
		t.Logf("%s (%d files, %d captures, %d QUIC expectations skipped): %s",
			src, c.files[src], len(c.captures[src]), c.skipped[src], strings.Join(parts, "; "))
	}
	var parts []string
	for _, f := range fpFields {
		if all[f] != nil {
			parts = append(parts, fpTallyString(f, all[f]))
		}
	}
	t.Logf("TOTAL: %s", strings.Join(parts, "; "))

	for _, src := range slices.Sorted(maps.Keys(fpWantFiles)) {
		if c.files[src] != fpWantFiles[src] {
			t.Errorf("%s: %d expectation files, want %d (fpWantFiles)", src, c.files[src], fpWantFiles[src])
		}
	}
	for _, src := range slices.Sorted(maps.Keys(c.files)) {
		if _, ok := fpWantFiles[src]; !ok {
			t.Errorf("%s: %d expectation files, not in fpWantFiles", src, c.files[src])
		}
	}
	for _, src := range slices.Sorted(maps.Keys(c.skipped)) {
		if c.skipped[src] != fpWantSkipped[src] {
			t.Errorf("%s: %d QUIC expectations skipped, want %d (fpWantSkipped)", src, c.skipped[src], fpWantSkipped[src])
		}
	}
	for _, src := range slices.Sorted(maps.Keys(fpWantSkipped)) {
		if c.skipped[src] == 0 && fpWantSkipped[src] != 0 {
			t.Errorf("%s: no QUIC expectation skipped, want %d (fpWantSkipped)", src, fpWantSkipped[src])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(fpExceptions)) {
		if !c.seen[k] {
			t.Errorf("exception %s did not occur (fixed upstream, or the expectation is gone): remove it from fpExceptions", k)
		}
	}
	if all[fpJA3] == nil || all[fpJA3].matched == 0 || all[fpJA4] == nil || all[fpJA4].matched == 0 {
		t.Error("no JA3 or JA4 matched: the harness is broken")
	}
}

func fpTallyString(field string, tl *fpTally) string {
	s := fmt.Sprintf("%s: %d/%d matched", field, tl.matched, tl.total)
	if tl.excepted > 0 {
		s += fmt.Sprintf(" + %d documented exceptions", tl.excepted)
	}
	if tl.absent > 0 {
		s += fmt.Sprintf(" (%d of them \"none\" on both sides)", tl.absent)
	}
	return s + fmt.Sprintf(", %d captures", len(tl.captures))
}

// fpCheckTshark compares tshark's JA3 and JA3S columns, row by row.
func fpCheckTshark(t *testing.T, c *fpChecker) {
	ccs, err := pcaptest.Crosschecks()
	if err != nil {
		t.Fatal(err)
	}
	for _, cc := range ccs {
		c.file("tshark")
		rows, err := pcaptest.LoadTshark(cc.TSV)
		if err != nil {
			t.Fatal(err)
		}
		capture := fpLoad(t, cc.Name)
		for _, r := range rows {
			hasCH, hasSH := slices.Contains(r.HandshakeTypes, 1), slices.Contains(r.HandshakeTypes, 2)
			if r.Transport == "udp" {
				for _, v := range []string{r.JA3Full, r.JA3, r.JA3SFull, r.JA3S} {
					if v != "" {
						c.skip("tshark")
					}
				}
				continue
			}
			var chs, shs []string
			var chHashes, shHashes []string
			sslv2 := 0
			if fc := capture.byIndex(r.Stream); fc != nil {
				for _, h := range fc.chs {
					if h.frame != r.Frame {
						continue
					}
					if h.ch.SSLv2 {
						sslv2++
					}
					if f, hash := tls.JA3(h.ch); f != "" {
						chs, chHashes = append(chs, f), append(chHashes, hash)
					}
				}
				for _, h := range fc.shs {
					if h.frame == r.Frame {
						f, hash := tls.JA3S(h.sh)
						shs, shHashes = append(shs, f), append(shHashes, hash)
					}
				}
			}
			where := fmt.Sprintf("frame %d", r.Frame)
			if hasCH && r.JA3Full == "" && sslv2 == 0 {
				// "No JA3" is an expectation only for an SSLv2-format
				// hello; otherwise the codec missed the hello tshark saw.
				t.Errorf("%s %s: tshark has a ClientHello without JA3, the codec no SSLv2-format hello there", cc.Name, where)
			}
			if hasCH {
				c.check("tshark", cc.Name, where, fpJA3Full, strings.Join(chs, ","), r.JA3Full)
				c.check("tshark", cc.Name, where, fpJA3, strings.Join(chHashes, ","), r.JA3)
			}
			if hasSH && (r.JA3SFull != "" || len(shs) > 0) {
				c.check("tshark", cc.Name, where, fpJA3SFull, strings.Join(shs, ","), r.JA3SFull)
				c.check("tshark", cc.Name, where, fpJA3S, strings.Join(shHashes, ","), r.JA3S)
			}
		}
	}
}

// fpArkime is the part of an Arkime .test file used here.
type fpArkime struct {
	Sessions []struct {
		Body struct {
			IPProtocol  int        `json:"ipProtocol"`
			Source      fpEndpoint `json:"source"`
			Destination fpEndpoint `json:"destination"`
			TLS         *struct {
				JA3        []string `json:"ja3"`
				JA3String  []string `json:"ja3string"`
				JA3S       []string `json:"ja3s"`
				JA3SString []string `json:"ja3sstring"`
				JA4        []string `json:"ja4"`
				JA4r       []string `json:"ja4_r"`
			} `json:"tls"`
		} `json:"body"`
	} `json:"sessions3"`
}

type fpEndpoint struct {
	IP   string `json:"ip"`
	Port uint16 `json:"port"`
}

func (e fpEndpoint) addrPort(t *testing.T) netip.AddrPort {
	a, err := netip.ParseAddr(e.IP)
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(a, e.Port)
}

// fpCheckArkime compares the tls fields of every Arkime session.
func fpCheckArkime(t *testing.T, c *fpChecker, pub string) {
	files, err := filepath.Glob(filepath.Join(pub, "arkime", "tests", "pcap", "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		c.file("arkime")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var f fpArkime
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		name := "arkime/tests/pcap/" + strings.TrimSuffix(filepath.Base(path), ".test") + ".pcap"
		for _, s := range f.Sessions {
			x := s.Body.TLS
			if x == nil {
				continue
			}
			src, dst := s.Body.Source.addrPort(t), s.Body.Destination.addrPort(t)
			where := fmt.Sprintf("%v→%v", src, dst)
			client := map[string][]string{fpJA3: x.JA3, fpJA3Full: x.JA3String, fpJA4: x.JA4, fpJA4r: x.JA4r}
			server := map[string][]string{fpJA3S: x.JA3S, fpJA3SFull: x.JA3SString}
			if s.Body.IPProtocol == 17 {
				for _, vs := range []map[string][]string{client, server} {
					for _, v := range vs {
						if len(v) > 0 {
							c.skip("arkime")
						}
					}
				}
				continue
			}
			conns := fpLoad(t, name).byTuple(src, dst)
			if len(conns) != 1 {
				t.Errorf("%s %s: %d TCP connections with this 4-tuple, want 1", name, where, len(conns))
				continue
			}
			fc := conns[0]
			for _, field := range slices.Sorted(maps.Keys(client)) {
				for _, want := range client[field] {
					got := ""
					if len(fc.chs) > 0 {
						got = fpClientField(fc.chs[0].ch, field)
					}
					c.check("arkime", name, where, field, got, want)
				}
			}
			for _, field := range slices.Sorted(maps.Keys(server)) {
				for _, want := range server[field] {
					got := ""
					if len(fc.shs) > 0 {
						got = fpServerField(fc.shs[0].sh, field)
					}
					c.check("arkime", name, where, field, got, want)
				}
			}
		}
	}
}

// fpSuricataFields maps the fingerprint fields of suricata-verify checks to
// ours; "" marks a QUIC field.
var fpSuricataFields = map[string]string{
	"tls.ja3.hash":    fpJA3,
	"tls.ja3.string":  fpJA3Full,
	"tls.ja3s.hash":   fpJA3S,
	"tls.ja3s.string": fpJA3SFull,
	"tls.ja4":         fpJA4,
	"quic.ja4":        "",
	"quic.ja3.hash":   "",
	"quic.ja3.string": "",
}

// fpSvCheck is one "- filter:" of a suricata-verify test.yaml.
type fpSvCheck struct {
	count int
	match map[string]string
}

// fpParseSuricata reads the parts of a suricata-verify test.yaml used
// here: the top-level pcap key, and each check's count and match fields
// (scalars, unquoted; lists kept as written). It is not a YAML parser: it
// knows the layout of these files.
func fpParseSuricata(text string) (pcap string, checks []fpSvCheck) {
	var cur *fpSvCheck
	levelIndent, block, lastKey := -1, "", ""
	unquote := func(v string) string {
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			return v[1 : len(v)-1]
		}
		return v
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent == 0 {
			cur = nil
			if v, ok := strings.CutPrefix(trimmed, "pcap:"); ok {
				pcap = unquote(v)
			}
			continue
		}
		if strings.HasPrefix(trimmed, "- filter:") {
			checks = append(checks, fpSvCheck{count: -1, match: map[string]string{}})
			cur = &checks[len(checks)-1]
			levelIndent, block, lastKey = -1, "", ""
			continue
		}
		if cur == nil {
			continue
		}
		if levelIndent < 0 {
			levelIndent = indent
		}
		key, val, kv := strings.Cut(trimmed, ": ")
		if !kv && strings.HasSuffix(trimmed, ":") {
			key, val, kv = strings.TrimSuffix(trimmed, ":"), "", true
		}
		switch {
		case indent <= levelIndent:
			block = ""
			if !kv {
				continue
			}
			if key == "count" {
				n, err := strconv.Atoi(strings.TrimSpace(val))
				if err == nil {
					cur.count = n
				}
			}
			if strings.TrimSpace(val) == "" {
				block = key
			}
		case block == "match" && kv:
			cur.match[key] = unquote(val)
			lastKey = key
		case block == "match" && lastKey != "":
			cur.match[lastKey] += " " + trimmed // a folded scalar
		}
	}
	return pcap, checks
}

// fpCheckSuricata evaluates the fingerprint checks of every test.yaml.
func fpCheckSuricata(t *testing.T, c *fpChecker, pub string) {
	root := filepath.Join(pub, "suricata-verify")
	err := filepath.WalkDir(filepath.Join(root, "tests"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "test.yaml" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		pcapRef, checks := fpParseSuricata(string(b))
		var fpChecks []int
		for i, ch := range checks {
			for k := range ch.match {
				if _, ok := fpSuricataFields[k]; ok {
					fpChecks = append(fpChecks, i)
					break
				}
			}
		}
		if len(fpChecks) == 0 {
			return nil
		}
		c.file("suricata")
		name, err := fpSuricataPcap(filepath.Dir(path), pcapRef, pub)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		capture := fpLoad(t, name)
		for _, i := range fpChecks {
			fpSuricataCheck(t, c, capture, fmt.Sprintf("%s check %d", rel, i+1), checks[i])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// fpSuricataPcap resolves a test's capture: its pcap key, relative to the
// test's directory, or the one capture in that directory.
func fpSuricataPcap(dir, ref, pub string) (string, error) {
	path := ""
	if ref != "" {
		path = filepath.Join(dir, filepath.FromSlash(ref))
	} else {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".pcap") || strings.HasSuffix(e.Name(), ".pcapng") {
				if path != "" {
					return "", fmt.Errorf("several captures in %s", dir)
				}
				path = filepath.Join(dir, e.Name())
			}
		}
		if path == "" {
			return "", fmt.Errorf("no capture in %s", dir)
		}
	}
	rel, err := filepath.Rel(pub, path)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

// fpSuricataCheck evaluates one check: exactly count connections must
// match every fingerprint field of the check (and tls.sni when given).
// Other fields (tls.version, certificates …) are not fingerprints and are
// not evaluated.
func fpSuricataCheck(t *testing.T, c *fpChecker, capture *fpCapture, where string, chk fpSvCheck) {
	want := map[string]string{} // our field → value
	for k, v := range chk.match {
		field, ok := fpSuricataFields[k]
		switch {
		case !ok:
		case field == "" || chk.match["event_type"] == "quic":
			c.skip("suricata")
		default:
			want[field] = v
		}
	}
	if len(want) == 0 {
		return
	}
	count := func(want map[string]string) int {
		n := 0
		for _, fc := range capture.withHello() {
			ch := fc.chs[0].ch
			if sni, ok := chk.match["tls.sni"]; ok && ch.ServerName != sni {
				continue
			}
			all := true
			for field, v := range want {
				got := ""
				switch field {
				case fpJA3S, fpJA3SFull:
					if len(fc.shs) > 0 {
						got = fpServerField(fc.shs[0].sh, field)
					}
				default:
					got = fpClientField(ch, field)
				}
				all = all && got == v
			}
			if all {
				n++
			}
		}
		return n
	}
	fields := slices.Sorted(maps.Keys(want))
	if count(want) == chk.count {
		for _, f := range fields {
			c.check("suricata", capture.name, where, f, want[f], want[f])
		}
		return
	}
	// Try the specification's values for the documented exceptions.
	spec := maps.Clone(want)
	excepted := false
	for _, f := range fields {
		if exc, ok := fpExceptions[strings.Join([]string{"suricata", capture.name, where, f}, "|")]; ok {
			spec[f], excepted = exc.spec, true
		}
	}
	if excepted && count(spec) == chk.count {
		for _, f := range fields {
			c.check("suricata", capture.name, where, f, spec[f], want[f])
		}
		return
	}
	for _, f := range fields {
		var gots []string
		for _, fc := range capture.withHello() {
			switch f {
			case fpJA3S, fpJA3SFull:
				if len(fc.shs) > 0 {
					gots = append(gots, fpServerField(fc.shs[0].sh, f))
				}
			default:
				gots = append(gots, fpClientField(fc.chs[0].ch, f))
			}
		}
		c.check("suricata", capture.name, where, f, strings.Join(gots, " | "), want[f])
	}
	t.Errorf("%s: %d connections match %v, want %d", where, count(want), want, chk.count)
}

// fpFoxIOKey matches the JA4 keys of a FoxIO python output: JA4.1,
// JA4_r.2 …
var fpFoxIOKey = regexp.MustCompile(`^(JA4|JA4_r|JA4_o|JA4_ro)\.([1-9][0-9]*)$`)

// fpCheckFoxIOPython compares the JA4 fields of FoxIO's python outputs:
// JA4.N is the N-th ClientHello of the stream.
func fpCheckFoxIOPython(t *testing.T, c *fpChecker, pub string) {
	files, err := filepath.Glob(filepath.Join(pub, "foxio-ja4", "python", "test", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		name := "foxio-ja4/pcap/" + strings.TrimSuffix(filepath.Base(path), ".json")
		if _, err := os.Stat(filepath.Join(pub, filepath.FromSlash(name))); err != nil {
			continue // a capture that was not copied
		}
		c.file("foxio-python")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var entries []map[string]any
		if err := json.Unmarshal(b, &entries); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		capture := fpLoad(t, name)
		for _, e := range entries {
			stream, _ := e["stream"].(float64)
			for _, k := range slices.Sorted(maps.Keys(e)) {
				m := fpFoxIOKey.FindStringSubmatch(k)
				if m == nil {
					continue
				}
				want, _ := e[k].(string)
				if strings.HasPrefix(want, "q") {
					c.skip("foxio-python")
					continue
				}
				n, _ := strconv.Atoi(m[2])
				field := map[string]string{"JA4": fpJA4, "JA4_r": fpJA4r, "JA4_o": fpJA4o, "JA4_ro": fpJA4ro}[m[1]]
				where := fmt.Sprintf("stream %d ClientHello %d", int(stream), n)
				got := ""
				if fc := capture.byIndex(int(stream)); fc != nil && len(fc.chs) >= n {
					if !fpSameTuple(fc, e) {
						t.Errorf("%s %s: the connection is %v→%v, the file says %v:%v→%v:%v", name, where, fc.client, fc.server, e["src"], e["srcport"], e["dst"], e["dstport"])
					}
					got = fpClientField(fc.chs[n-1].ch, field)
				}
				c.check("foxio-python", name, where, field, got, want)
			}
		}
	}
}

// fpSameTuple reports whether a FoxIO python entry names fc's endpoints.
func fpSameTuple(fc *fpConn, e map[string]any) bool {
	ap := func(ip, port any) netip.AddrPort {
		a, _ := netip.ParseAddr(fmt.Sprint(ip))
		p, _ := strconv.Atoi(fmt.Sprint(port))
		return netip.AddrPortFrom(a, uint16(p))
	}
	src, dst := ap(e["src"], e["srcport"]), ap(e["dst"], e["dstport"])
	return fc.client == src && fc.server == dst || fc.client == dst && fc.server == src
}

// fpCheckFoxIORust compares the ja4 of FoxIO's rust insta snapshots: the
// first ClientHello of each stream.
func fpCheckFoxIORust(t *testing.T, c *fpChecker, pub string) {
	files, err := filepath.Glob(filepath.Join(pub, "foxio-ja4", "rust", "ja4", "src", "snapshots", "ja4__insta@*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "ja4__insta@"), ".snap")
		name := "foxio-ja4/pcap/" + base
		if _, err := os.Stat(filepath.Join(pub, filepath.FromSlash(name))); err != nil {
			continue // a capture that was not copied
		}
		c.file("foxio-rust")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		capture := fpLoad(t, name)
		// The YAML after the insta header: a list of records, "- stream: N"
		// then "  key: value" lines; deeper lines are ignored.
		_, body, _ := strings.Cut(strings.TrimPrefix(string(b), "---\n"), "\n---\n")
		var recs []map[string]string
		for _, line := range strings.Split(body, "\n") {
			switch {
			case strings.HasPrefix(line, "- "):
				recs = append(recs, map[string]string{})
				line = "  " + line[2:]
				fallthrough
			case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && len(recs) > 0:
				if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
					recs[len(recs)-1][k] = v
				}
			}
		}
		for _, r := range recs {
			want, ok := r["ja4"]
			if !ok {
				continue
			}
			if r["transport"] != "tcp" || strings.HasPrefix(want, "q") {
				c.skip("foxio-rust")
				continue
			}
			stream, _ := strconv.Atoi(r["stream"])
			where := fmt.Sprintf("stream %d", stream)
			got := ""
			if fc := capture.byIndex(stream); fc != nil && len(fc.chs) > 0 {
				got = fpClientField(fc.chs[0].ch, fpJA4)
			}
			c.check("foxio-rust", name, where, fpJA4, got, want)
		}
	}
}

// fpFoxIOZeekLogs maps the FoxIO Zeek package's ssl.log baselines to their
// captures.
var fpFoxIOZeekLogs = map[string]string{
	"foxio-ja4/zeek/tests/Traces/Scripts.ja4-tls-handshake/ssl.log": "foxio-ja4/pcap/tls-handshake.pcapng",
}

// fpCheckFoxIOZeek compares the ja4 column of the FoxIO Zeek baselines.
func fpCheckFoxIOZeek(t *testing.T, c *fpChecker, pub string) {
	files, err := filepath.Glob(filepath.Join(pub, "foxio-ja4", "zeek", "tests", "Traces", "*", "ssl.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range files {
		rel, _ := filepath.Rel(pub, path)
		rel = filepath.ToSlash(rel)
		name, ok := fpFoxIOZeekLogs[rel]
		if !ok {
			t.Errorf("%s: no capture in fpFoxIOZeekLogs", rel)
			continue
		}
		c.file("foxio-zeek")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, line := range strings.Split(string(b), "\n") {
			if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
				cols = strings.Split(f, "\t")
				continue
			}
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			row := map[string]string{}
			for i, v := range strings.Split(line, "\t") {
				if i < len(cols) {
					row[cols[i]] = v
				}
			}
			want := row["ja4"]
			if want == "" || want == "-" {
				continue
			}
			if strings.HasPrefix(want, "q") {
				c.skip("foxio-zeek")
				continue
			}
			src, err1 := netip.ParseAddrPort(net.JoinHostPort(row["id.orig_h"], row["id.orig_p"]))
			dst, err2 := netip.ParseAddrPort(net.JoinHostPort(row["id.resp_h"], row["id.resp_p"]))
			if err := errors.Join(err1, err2); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			where := fmt.Sprintf("%v→%v", src, dst)
			got := ""
			if conns := fpLoad(t, name).byTuple(src, dst); len(conns) == 1 && len(conns[0].chs) > 0 {
				got = fpClientField(conns[0].chs[0].ch, fpJA4)
			}
			c.check("foxio-zeek", name, where, fpJA4, got, want)
		}
	}
}

// fpQuoted are the FoxIO JA4 values that testdata/public/SOURCES.md quotes
// from the FoxIO python and rust outputs (and, for hrr.pcap, from
// Wireshark and FoxIO python). stream -1 means the capture's only TCP
// connection with a ClientHello; nth counts ClientHellos from 1.
var fpQuoted = []struct {
	capture     string
	stream, nth int
	ja4         string
}{
	{"foxio-ja4/pcap/tls12.pcap", -1, 1, "t13d1715h2_5b57614c22b0_3d5424432f57"},
	{"foxio-ja4/pcap/tls-non-ascii-alpn.pcapng", -1, 1, "t13d151699_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/badcurveball.pcap", -1, 1, "t13d1615h2_46e7e9700bed_45f260be83e2"},
	{"foxio-ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng", -1, 1, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/https3-301-get.pcap", -1, 1, "t10d230100_6a57a6f57151_000000000000"},
	{"foxio-ja4/pcap/ipv6.pcapng", -1, 1, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9"},
	{"zeek/testing/btest/Traces/tls/hrr.pcap", -1, 1, "t13i040900_16476d049b0b_78f1d400d464"},
	// tls-handshake.pcapng streams 38/41/42/44/45: the first ClientHello
	// and, after the HelloRetryRequest, the second.
	{"foxio-ja4/pcap/tls-handshake.pcapng", 38, 1, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 41, 1, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 42, 1, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 44, 1, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 45, 1, "t13d1516h2_8daaf6152771_e5627efa2ab1"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 38, 2, "t13d1515h2_8daaf6152771_f37e75b10bcc"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 41, 2, "t13d1515h2_8daaf6152771_f37e75b10bcc"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 42, 2, "t13d1515h2_8daaf6152771_f37e75b10bcc"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 44, 2, "t13d1515h2_8daaf6152771_f37e75b10bcc"},
	{"foxio-ja4/pcap/tls-handshake.pcapng", 45, 2, "t13d1515h2_8daaf6152771_f37e75b10bcc"},
}

// fpCheckQuoted compares the values SOURCES.md quotes.
func fpCheckQuoted(t *testing.T, c *fpChecker) {
	c.file("SOURCES.md")
	for _, q := range fpQuoted {
		capture := fpLoad(t, q.capture)
		var fc *fpConn
		where := fmt.Sprintf("stream %d ClientHello %d", q.stream, q.nth)
		if q.stream < 0 {
			conns := capture.withHello()
			if len(conns) != 1 {
				t.Errorf("%s: %d TCP connections with a ClientHello, want 1", q.capture, len(conns))
				continue
			}
			fc = conns[0]
			where = fmt.Sprintf("the TLS connection, ClientHello %d", q.nth)
		} else {
			fc = capture.byIndex(q.stream)
		}
		got := ""
		if fc != nil && len(fc.chs) >= q.nth {
			got = tls.JA4(fc.chs[q.nth-1].ch, tls.JA4TCP)
		}
		c.check("SOURCES.md", q.capture, where, fpJA4, got, q.ja4)
	}
}

// fpCheckZeekHasNone makes sure that Zeek's own baselines still have no
// fingerprint column (they log neither JA3 nor JA4): one that appears must
// be compared here.
func fpCheckZeekHasNone(t *testing.T, pub string) {
	root := filepath.Join(pub, "zeek", "testing", "btest", "Baseline")
	logs := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		logs++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
				for _, col := range strings.Split(f, "\t") {
					if strings.Contains(col, "ja3") || strings.Contains(col, "ja4") {
						t.Errorf("%s has a %s column: compare it in TestFingerprintOracles", path, col)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if logs == 0 {
		t.Errorf("no Zeek baseline logs under %s", root)
	}
}
