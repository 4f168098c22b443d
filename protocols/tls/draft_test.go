package tls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// Hellos of the TLS 1.3 drafts 14 to 28, written byte by byte from the
// layouts of the drafts (not with Marshal), with a made-up random and key.

// dh decodes hex with spaces; "R" stands for the 32-byte random
// 0x11…11 and "K" for a 32-byte key 0x22…22.
func dh(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer("R", strings.Repeat("11", 32), "K", strings.Repeat("22", 32), " ", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type draftHello struct {
	name    string
	msg     string // without the 4-byte header
	version Version
	cipher  uint16
	group   uint16
	hrr     bool
	layout  bool // DraftLayout
}

// draftServerHellos are ServerHellos (type 2) of each layout.
var draftServerHellos = []draftHello{
	// draft-14 §4.1.2 as implemented, version 0x7f0e: server_version,
	// random, cipher_suite, extensions; key_share (40) holds one
	// KeyShareEntry { group, key_exchange<1..2^16-1> }.
	{"draft-14", "7f0e R 1301 0028 0028 0024 001d 0020 K", 0x7f0e, 0x1301, 0x001d, false, true},
	// draft-14 and -15 as written: server_version { 3, 4 }.
	{"draft-15 {3,4}", "0304 R 1302 0028 0028 0024 0017 0020 K", 0x0304, 0x1302, 0x0017, false, true},
	// draft-18 §4.1.3: the same layout, version 0x7f12.
	{"draft-18", "7f12 R 1303 0028 0028 0024 001d 0020 K", 0x7f12, 0x1303, 0x001d, false, true},
	// draft-21 §4.1.3: extensions<6..2^16-1>, a pre_shared_key (41) too.
	{"draft-21", "7f15 R 1301 002e 0028 0024 001d 0020 K 0029 0002 0000", 0x7f15, 0x1301, 0x001d, false, true},
	// draft-22 §4.1.3: legacy_version 0x0303, random,
	// legacy_session_id_echo (32 bytes), cipher_suite,
	// legacy_compression_method, extensions; supported_versions (43)
	// selects 0x7f16, key_share still 40.
	{"draft-22", "0303 R 20 K 1301 00 002e 002b 0002 7f16 0028 0024 001d 0020 K", 0x7f16, 0x1301, 0x001d, false, false},
	// draft-23 renumbered key_share to 51 (0x33).
	{"draft-23", "0303 R 20 K 1301 00 002e 002b 0002 7f17 0033 0024 001d 0020 K", 0x7f17, 0x1301, 0x001d, false, false},
	// draft-28, without a session id echo.
	{"draft-28", "0303 R 00 1302 00 002e 0033 0024 0017 0020 K 002b 0002 7f1c", 0x7f1c, 0x1302, 0x0017, false, false},
	// draft-22 §4.1.3: a HelloRetryRequest is a ServerHello with the
	// SHA-256("HelloRetryRequest") random; key_share holds the group.
	{"draft-22 HRR", "0303 cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c 00 1301 00 000c 002b 0002 7f16 0028 0002 0017", 0x7f16, 0x1301, 0x0017, true, false},
}

// draftHRRs are HelloRetryRequests of handshake type 6.
var draftHRRs = []draftHello{
	// draft-14 §4.1.3: server_version, cipher_suite, selected_group,
	// extensions<0..2^16-1>.
	{"draft-14", "7f0e 1301 001d 0000", 0x7f0e, 0x1301, 0x001d, true, true},
	{"draft-14 {3,4}", "0304 1302 0017 0000", 0x0304, 0x1302, 0x0017, true, true},
	// draft-15 §4.1.4: server_version, selected_group, extensions.
	{"draft-15", "7f0f 0017 0000", 0x7f0f, 0, 0x0017, true, true},
	{"draft-15 {3,4}", "0304 0018 0000", 0x0304, 0, 0x0018, true, true},
	// draft-18 §4.1.4: server_version, extensions<2..2^16-1>; key_share
	// (40) holds the selected group, cookie (44) an opaque value.
	{"draft-18", "7f12 000e 0028 0002 001d 002c 0004 0002 abcd", 0x7f12, 0, 0x001d, true, true},
	// draft-19 and -21 §4.1.4: server_version, cipher_suite, extensions.
	{"draft-19", "7f13 1303 0006 0028 0002 0017", 0x7f13, 0x1303, 0x0017, true, true},
	{"draft-21", "7f15 1301 0006 0028 0002 001d", 0x7f15, 0x1301, 0x001d, true, true},
}

func withHeader(typ HandshakeType, body []byte) []byte {
	return append([]byte{byte(typ), byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
}

func checkDraft(t *testing.T, c draftHello, m *ServerHello) {
	t.Helper()
	if m.NegotiatedVersion() != c.version || m.CipherSuite != c.cipher || m.KeyShareGroup != c.group ||
		m.HelloRetryRequest != c.hrr || m.DraftLayout != c.layout {
		t.Errorf("%s: version %v cipher %#04x group %#04x HRR %v layout %v; want %v %#04x %#04x %v %v", c.name,
			m.NegotiatedVersion(), m.CipherSuite, m.KeyShareGroup, m.HelloRetryRequest, m.DraftLayout,
			c.version, c.cipher, c.group, c.hrr, c.layout)
	}
}

func TestDraftServerHellos(t *testing.T) {
	for _, c := range draftServerHellos {
		msg := withHeader(TypeServerHello, dh(t, c.msg))
		m, err := ParseServerHello(msg)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		checkDraft(t, c, m)
		if again := shMustMarshal(t, m); !bytes.Equal(again, msg) {
			t.Errorf("%s: Marshal(Parse(x)) differs:\n got %x\nwant %x", c.name, again, msg)
		}
		if !decHelloTLS13(msg) {
			t.Errorf("%s: the stream decoder does not see TLS 1.3", c.name)
		}
		recNoPrefixParses(t, c.name, msg, func(b []byte) error { _, err := ParseServerHello(b); return err })
	}
	// A 0x0304 ServerHello that does not fit the draft layout is read in
	// RFC 8446's.
	msg := withHeader(TypeServerHello, dh(t, "0304 R 00 1301 00 0006 002b 0002 0304"))
	m, err := ParseServerHello(msg)
	if err != nil || m.DraftLayout || m.CipherSuite != 0x1301 {
		t.Fatalf("0x0304 in the RFC layout: %+v, %v", m, err)
	}
	if again := shMustMarshal(t, m); !bytes.Equal(again, msg) {
		t.Errorf("Marshal(Parse(x)) differs: %x", again)
	}
}

func TestDraftHelloRetryRequests(t *testing.T) {
	for _, c := range draftHRRs {
		msg := withHeader(TypeHelloRetryRequestDraft, dh(t, c.msg))
		m, err := ParseDraftHelloRetryRequest(msg)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		checkDraft(t, c, m)
		again, err := MarshalDraftHelloRetryRequest(m)
		if err != nil || !bytes.Equal(again, msg) {
			t.Errorf("%s: Marshal(Parse(x)) = %x, %v; want %x", c.name, again, err, msg)
		}
		recNoPrefixParses(t, c.name, msg, func(b []byte) error { _, err := ParseDraftHelloRetryRequest(b); return err })
		// It is not a ServerHello.
		if _, err := ParseServerHello(msg); !errors.Is(err, ErrUnexpected) {
			t.Errorf("%s: ParseServerHello: %v", c.name, err)
		}
	}
	for name, body := range map[string]string{
		"draft-22 version":             "7f16 1301 0006 0028 0002 001d",
		"TLS 1.2 version":              "0303 1301 0006 0028 0002 001d",
		"draft-18 empty extensions":    "7f12 0000",
		"draft-19 trailing byte":       "7f13 1301 0006 0028 0002 001d 00",
		"draft-14 {3,4} NULL cipher":   "0304 0000 0017 0001",
		"draft-21 duplicate extension": "7f15 1301 000c 0028 0002 001d 0028 0002 001d",
	} {
		if _, err := ParseDraftHelloRetryRequest(withHeader(TypeHelloRetryRequestDraft, dh(t, body))); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParseDraftHelloRetryRequest(withHeader(TypeServerHello, dh(t, "7f12 0006 0028 0002 001d"))); !errors.Is(err, ErrUnexpected) {
		t.Errorf("type 2: %v", err)
	}
	if TypeHelloRetryRequestDraft.String() != "hello_retry_request" {
		t.Error(TypeHelloRetryRequestDraft.String())
	}
}

// drHRRFuzzSeeds are the seeds of FuzzParseDraftHelloRetryRequest.
func drHRRFuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for _, c := range draftHRRs {
		seeds[strings.NewReplacer(" ", "-", "{", "", "}", "", ",", "").Replace(c.name)] = withHeader(TypeHelloRetryRequestDraft, dh(t, c.msg))
	}
	return seeds
}

func FuzzParseDraftHelloRetryRequest(f *testing.F) {
	recRequireSeeds(f, "FuzzParseDraftHelloRetryRequest")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseDraftHelloRetryRequest(data)
		if err != nil {
			recCheckErr(t, err)
			return
		}
		again, err := MarshalDraftHelloRetryRequest(m)
		if err != nil {
			t.Fatalf("parsed request does not marshal: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("Marshal(Parse(x)) != x\n got %x\nwant %x", again, data)
		}
	})
}
