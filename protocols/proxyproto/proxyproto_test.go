package proxyproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseV1 reads the lines of §2.1, the example and the limits.
func TestParseV1(t *testing.T) {
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		in   string
		want *Header
	}{
		{"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n",
			&Header{Version: V1, Command: CommandProxy, Transport: TCP4, Source: ap("192.168.0.1:56324"), Destination: ap("192.168.0.11:443")}},
		{"PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n",
			&Header{Version: V1, Command: CommandProxy, Transport: TCP4, Source: ap("255.255.255.255:65535"), Destination: ap("255.255.255.255:65535")}},
		{"PROXY TCP6 2001:db8::1 2001:db8::ff 0 25\r\n",
			&Header{Version: V1, Command: CommandProxy, Transport: TCP6, Source: ap("[2001:db8::1]:0"), Destination: ap("[2001:db8::ff]:25")}},
		{"PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n",
			&Header{Version: V1, Command: CommandProxy, Transport: TCP6,
				Source: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), Destination: ap("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")}},
		{"PROXY UNKNOWN\r\n", &Header{Version: V1, Command: CommandLocal, Transport: Unspec}},
		// §2.1: after UNKNOWN the receiver ignores the rest of the line.
		{"PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
			&Header{Version: V1, Command: CommandLocal, Transport: Unspec}},
	} {
		h, n, err := Parse([]byte(tc.in))
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if want := strings.Index(tc.in, "\r\n") + 2; n != want {
			t.Errorf("Parse(%q): length %d, want %d", tc.in, n, want)
		}
		if !reflect.DeepEqual(h, tc.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, h, tc.want)
		}
	}
}

// TestParseV1Malformed: what §2.1 says a receiver must refuse.
func TestParseV1Malformed(t *testing.T) {
	for _, in := range []string{
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n",     // LF alone
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\rX",    // CR alone
		"PROXY TCP4 192.168.0.01 192.168.0.11 56324 443\r\n",  // leading zero
		"PROXY TCP4 192.168.0.1 192.168.0.11 056324 443\r\n",  // leading zero in a port
		"PROXY TCP4 192.168.0.1 192.168.0.11 65536 443\r\n",   // port out of range
		"PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n",  // two spaces
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n",       // a field missing
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443 1\r\n", // a field too many
		"PROXY TCP4 2001:db8::1 192.168.0.11 56324 443\r\n",   // IPv6 under TCP4
		"PROXY TCP6 192.168.0.1 2001:db8::1 56324 443\r\n",    // IPv4 under TCP6
		"PROXY TCP6 fe80::1%eth0 2001:db8::1 56324 443\r\n",   // a zone
		"PROXY UDP4 192.168.0.1 192.168.0.11 56324 443\r\n",   // not a v1 protocol
		"PROXY tcp4 192.168.0.1 192.168.0.11 56324 443\r\n",   // case matters
		"PROXY TCP4 192.168.0.1 192.168.0.11 +1 443\r\n",
		"PROXY UNKNOWN " + strings.Repeat("f", 100) + "\r\n", // longer than 107 bytes
		"PROXY " + strings.Repeat("x", 101),                  // 107 bytes, no CRLF
	} {
		_, _, err := Parse([]byte(in))
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q): %v, want ErrMalformed", in, err)
		}
	}
}

func TestParseNotProxy(t *testing.T) {
	for _, in := range []string{"", "GET / HTTP/1.1\r\n", "\x16\x03\x01\x00\x05", "PROXX", "proxy TCP4", "\r\n\r\nX"} {
		if _, _, err := Parse([]byte(in)); !errors.Is(err, ErrNotProxy) {
			t.Errorf("Parse(%q): %v, want ErrNotProxy", in, err)
		}
		if in != "" && Maybe([]byte(in)) {
			t.Errorf("Maybe(%q) = true", in)
		}
	}
}

// TestParseV2 decodes a header written by hand from §2.2: TCP over IPv4
// with an SSL TLV (version and cipher sub-TLVs), an authority, a unique
// id, a NOOP and a custom TLV.
func TestParseV2(t *testing.T) {
	in := mustHex(t, `
		0d0a0d0a000d0a515549540a 21 11 0053
		c0000201 c6336401 dc14 01bb
		02 000c 6d61696c2e6578616d706c65
		05 0004 01020304
		20 0026 01 00000000 21 0007 544c5376312e30 23 0014 45434448452d5253412d4145533235362d534841
		04 0000
		ea 0002 abcd`)
	// Check the arithmetic of the hand-written lengths.
	if got := int(in[14])<<8 | int(in[15]); got != len(in)-16 {
		t.Fatalf("test header: length field %d, body %d", got, len(in)-16)
	}
	h, n, err := Parse(append(in, "\x16\x03\x01"...))
	if err != nil {
		t.Fatal(err)
	}
	if n != len(in) {
		t.Errorf("length %d, want %d", n, len(in))
	}
	want := &Header{Version: V2, Command: CommandProxy, Transport: TCP4,
		Source: netip.MustParseAddrPort("192.0.2.1:56340"), Destination: netip.MustParseAddrPort("198.51.100.1:443"),
		Authority: "mail.example", UniqueID: []byte{1, 2, 3, 4},
		SSL:   &SSL{Client: ClientSSL, Version: "TLSv1.0", Cipher: "ECDHE-RSA-AES256-SHA"},
		Other: []TLV{{Type: 0xea, Value: []byte{0xab, 0xcd}}}}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("got  %+v %+v\nwant %+v %+v", h, h.SSL, want, want.SSL)
	}
	// Every strict prefix needs more.
	for i := 0; i < len(in); i++ {
		if _, _, err := Parse(in[:i]); (i == 0 && !errors.Is(err, ErrNotProxy)) || (i > 0 && !errors.Is(err, ErrNeedMore)) {
			t.Fatalf("Parse(prefix of %d bytes): %v", i, err)
		}
	}
}

func TestParseV2Local(t *testing.T) {
	// A LOCAL health check: the family is ignored but its bytes skipped.
	in := mustHex(t, "0d0a0d0a000d0a515549540a 20 11 000c 7f000001 7f000002 0001 0002")
	h, n, err := Parse(in)
	if err != nil || n != len(in) {
		t.Fatalf("Parse: %v, %d", err, n)
	}
	if h.Command != CommandLocal || h.Source.IsValid() || h.Destination.IsValid() {
		t.Errorf("LOCAL header: %+v", h)
	}
}

func TestParseV2Malformed(t *testing.T) {
	for name, in := range map[string]string{
		"version 1 nibble":   "0d0a0d0a000d0a515549540a 11 11 000c 7f000001 7f000002 0001 0002",
		"command 2":          "0d0a0d0a000d0a515549540a 22 11 000c 7f000001 7f000002 0001 0002",
		"family 4":           "0d0a0d0a000d0a515549540a 21 41 0000",
		"INET without proto": "0d0a0d0a000d0a515549540a 21 10 0000",
		"short addresses":    "0d0a0d0a000d0a515549540a 21 11 0008 7f000001 7f000002",
		"truncated TLV":      "0d0a0d0a000d0a515549540a 21 11 000e 7f000001 7f000002 0001 0002 02 00",
		"TLV overrun":        "0d0a0d0a000d0a515549540a 21 11 000f 7f000001 7f000002 0001 0002 02 0005 61",
		"duplicate TLV":      "0d0a0d0a000d0a515549540a 21 11 0014 7f000001 7f000002 0001 0002 02 0001 61 02 0001 62",
		"short SSL":          "0d0a0d0a000d0a515549540a 21 11 0013 7f000001 7f000002 0001 0002 20 0004 01000000",
		"bad CRC":            "0d0a0d0a000d0a515549540a 21 11 0013 7f000001 7f000002 0001 0002 03 0004 00000000",
		"CRC of 3 bytes":     "0d0a0d0a000d0a515549540a 21 11 0012 7f000001 7f000002 0001 0002 03 0003 000000",
		"long unique id":     "0d0a0d0a000d0a515549540a 21 00 0084 05 0081 " + strings.Repeat("00", 129),
	} {
		if _, _, err := Parse(mustHex(t, in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// TestCRC32C: Marshal's checksum verifies, and changing any byte of the
// header after the signature breaks it.
func TestCRC32C(t *testing.T) {
	h := New(V2, netip.MustParseAddrPort("192.0.2.7:40000"), netip.MustParseAddrPort("198.51.100.1:993"))
	h.CRC32C = true
	h.Authority = "imap.example"
	b, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CRC32C || got.Authority != "imap.example" {
		t.Errorf("got %+v", got)
	}
	for i := 16; i < len(b); i++ {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		if _, _, err := Parse(c); err == nil {
			t.Errorf("a flipped bit at byte %d went unnoticed", i)
		}
	}
}

func TestMarshalV1(t *testing.T) {
	for _, tc := range []struct {
		h    *Header
		want string
	}{
		{New(V1, netip.MustParseAddrPort("192.0.2.1:56324"), netip.MustParseAddrPort("198.51.100.1:443")),
			"PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"},
		{New(V1, netip.MustParseAddrPort("[::ffff:192.0.2.1]:1"), netip.MustParseAddrPort("[::ffff:198.51.100.1]:2")),
			"PROXY TCP4 192.0.2.1 198.51.100.1 1 2\r\n"},
		{New(V1, netip.MustParseAddrPort("[2001:db8::1]:1"), netip.MustParseAddrPort("[2001:db8::2]:2")),
			"PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"},
		{&Header{Version: V1, Command: CommandLocal}, "PROXY UNKNOWN\r\n"},
	} {
		b, err := tc.h.Marshal()
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%+v) = %q, %v; want %q", tc.h, b, err, tc.want)
		}
	}
	bad := []*Header{
		{Version: V1, Command: CommandProxy, Transport: TCP4, Source: netip.MustParseAddrPort("[2001:db8::1]:1"), Destination: netip.MustParseAddrPort("192.0.2.1:2")},
		{Version: V1, Command: CommandProxy, Transport: UDP4, Source: netip.MustParseAddrPort("192.0.2.1:1"), Destination: netip.MustParseAddrPort("192.0.2.1:2")},
		{Version: V1, Command: CommandProxy, Transport: TCP4, Authority: "x"},
		{Version: 3},
		{Version: V2, Command: CommandProxy, Transport: TCP4, Other: []TLV{{Type: TypeSSL}}},
		{Version: V2, Command: CommandProxy, Transport: Unspec, UniqueID: make([]byte, 129)},
	}
	for _, h := range bad {
		if _, err := h.Marshal(); !errors.Is(err, ErrMarshal) {
			t.Errorf("Marshal(%+v): %v, want ErrMarshal", h, err)
		}
	}
}

// randomHeader makes a header Marshal accepts, from r.
func randomHeader(r *rand.Rand) *Header {
	addr := func(v6 bool) netip.Addr {
		if v6 {
			var b [16]byte
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			a := netip.AddrFrom16(b)
			if a.Is4In6() {
				b[0] = 0x20
				a = netip.AddrFrom16(b)
			}
			return a
		}
		return netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
	}
	str := func(n int) string {
		b := make([]byte, r.IntN(n+1))
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return string(b)
	}
	v := Version(1 + r.IntN(2))
	h := &Header{Version: v, Command: CommandProxy}
	switch r.IntN(4) {
	case 0:
		h.Transport = TCP6
	case 1:
		if v == V1 {
			return &Header{Version: V1, Command: CommandLocal, Transport: Unspec}
		}
		h.Command, h.Transport = CommandLocal, Unspec
	default:
		h.Transport = TCP4
	}
	if h.Transport != Unspec {
		h.Source = netip.AddrPortFrom(addr(h.Transport == TCP6), uint16(r.IntN(65536)))
		h.Destination = netip.AddrPortFrom(addr(h.Transport == TCP6), uint16(r.IntN(65536)))
	}
	if v == V2 {
		if r.IntN(2) == 0 {
			h.Authority = "a" + str(20)
		}
		if r.IntN(2) == 0 {
			h.UniqueID = []byte(str(MaxUniqueID))
		}
		if r.IntN(2) == 0 {
			h.ALPN = []byte("h2")
		}
		if r.IntN(2) == 0 {
			h.SSL = &SSL{Client: uint8(r.IntN(8)), Verify: r.Uint32(), Version: str(8), Cipher: str(30), CN: str(10)}
		}
		if r.IntN(3) == 0 {
			h.Other = []TLV{{Type: TypeMinCustom + uint8(r.IntN(16)), Value: []byte(str(5))}}
		}
		h.CRC32C = r.IntN(2) == 0
	}
	return h
}

// TestRoundTrip: Parse(Marshal(h)) is h for generated headers, and no
// strict prefix of the wire form parses.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for i := 0; i < 2000; i++ {
		h := randomHeader(r)
		b, err := h.Marshal()
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", h, err)
		}
		got, n, err := Parse(append(b, "payload"...))
		if err != nil || n != len(b) {
			t.Fatalf("Parse(Marshal(%+v)) = %v, %d (len %d)", h, err, n, len(b))
		}
		norm := func(h *Header) *Header {
			c := *h
			if len(c.UniqueID) == 0 {
				c.UniqueID = nil
			}
			if len(c.ALPN) == 0 {
				c.ALPN = nil
			}
			return &c
		}
		if !reflect.DeepEqual(norm(got), norm(h)) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, h)
		}
		for j := 1; j < len(b); j++ {
			if _, _, err := Parse(b[:j]); !errors.Is(err, ErrNeedMore) {
				t.Fatalf("Parse(prefix %d of %q): %v, want ErrNeedMore", j, b, err)
			}
		}
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{"v1": V1, "1": V1, "v2": V2, "2": V2} {
		if v, err := ParseVersion(in); err != nil || v != want {
			t.Errorf("ParseVersion(%q) = %v, %v", in, v, err)
		}
	}
	if _, err := ParseVersion("v3"); err == nil {
		t.Error("ParseVersion(v3) succeeded")
	}
}
