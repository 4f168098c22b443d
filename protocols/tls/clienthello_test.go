package tls

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// chUpdateCorpus rewrites the committed fuzz seed corpora of the ClientHello
// parsers: go test ./protocols/tls -run TestClientHelloWriteFuzzCorpus -update-clienthello-corpus
var chUpdateCorpus = flag.Bool("update-clienthello-corpus", false, "rewrite testdata/fuzz seeds of FuzzParseClientHello and FuzzDecodeExtensions")

// chTestReader returns a deterministic random source.
func chTestReader(seed byte) io.Reader {
	return rand.NewChaCha8([32]byte{seed, 't', 'l', 's', 'm', 'a', 'p'})
}

func chBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// chTestShares returns one real key share per group GenerateKeyShare
// supports (ffdhe up to 3072 bits), generated once from a fixed reader.
var chTestShares = sync.OnceValues(func() ([]KeyShare, error) {
	r := chTestReader(1)
	var out []KeyShare
	for _, g := range []uint16{GroupX25519, GroupP256, GroupP384, GroupP521, GroupFFDHE2048, GroupFFDHE3072,
		GroupX25519MLKEM768, GroupSecP256r1MLKEM768, GroupSecP384r1MLKEM1024} {
		ks, err := GenerateKeyShare(g, r)
		if err != nil {
			return nil, err
		}
		out = append(out, ks)
	}
	return out, nil
})

// chPick returns n values drawn from pool or, one time in four, any uint16.
func chPick(r *rand.Rand, pool []uint16, n int) []uint16 {
	out := make([]uint16, n)
	for i := range out {
		if r.IntN(4) == 0 {
			out[i] = uint16(r.Uint32())
		} else {
			out[i] = pool[r.IntN(len(pool))]
		}
	}
	return out
}

var (
	chSuitePool = []uint16{0x0a0a, 0xfafa, 0x00ff, 0x5600, 0x0004, 0x0005, 0x000a, 0x002f, 0x0035, 0x003c,
		0x009c, 0x009d, 0x1301, 0x1302, 0x1303, 0xc009, 0xc013, 0xc02b, 0xc02f, 0xc030, 0xcca8, 0xcca9, 0x0000}
	chVersionPool = []uint16{0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f17, 0x7f1c, 0x2a2a, 0xdada}
	chGroupPool   = []uint16{0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x11ec, 0x11eb, 0x11ed, 0x4a4a, 0x001e}
	chSchemePool  = []uint16{0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0201, 0x0203, 0x0807}
)

func chHost(r *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789-."
	b := make([]byte, 1+r.IntN(60))
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// chRandomHello generates a ClientHello of a random shape, with the decoded
// fields set to what the parser must find.
func chRandomHello(tb testing.TB, r *rand.Rand) *ClientHello {
	tb.Helper()
	pool, err := chTestShares()
	if err != nil {
		tb.Fatal(err)
	}
	m := &ClientHello{
		Version:      Version(chPick(r, []uint16{0x0300, 0x0301, 0x0302, 0x0303}, 1)[0]),
		Random:       chBytes(r, 32),
		SessionID:    chBytes(r, r.IntN(33)),
		CipherSuites: chPick(r, chSuitePool, r.IntN(70)),
	}
	switch r.IntN(5) {
	case 0: // nil: written as [0]
	case 1:
		m.CompressionMethods = []uint8{0}
	case 2:
		m.CompressionMethods = []uint8{1, 0}
	case 3:
		m.CompressionMethods = []uint8{}
	case 4:
		m.CompressionMethods = chBytes(r, r.IntN(256))
	}
	switch r.IntN(8) {
	case 0: // no extensions block at all
		return m
	case 1: // an empty block
		m.HasExtensions = true
		return m
	}

	type gen func() Extension
	gens := []gen{
		func() Extension { m.ServerName = chHost(r); return ServerNameExtension(m.ServerName) },
		func() Extension {
			m.SupportedVersions = chPick(r, chVersionPool, 1+r.IntN(8))
			return SupportedVersionsExtension(m.SupportedVersions...)
		},
		func() Extension {
			m.SupportedGroups = chPick(r, chGroupPool, r.IntN(12))
			return SupportedGroupsExtension(m.SupportedGroups...)
		},
		func() Extension {
			var shares []KeyShare
			for _, i := range r.Perm(len(pool))[:r.IntN(4)] {
				shares = append(shares, pool[i])
			}
			if r.IntN(3) == 0 {
				fake, err := FakeKeyShare(0x0a0a+0x1010*uint16(r.IntN(16)), 1, chTestReader(byte(r.Uint32())))
				if err != nil {
					tb.Fatal(err)
				}
				shares = append([]KeyShare{fake}, shares...)
			}
			m.KeyShareGroups = []uint16{}
			for _, ks := range shares {
				m.KeyShareGroups = append(m.KeyShareGroups, ks.Group)
			}
			return KeyShareExtension(shares...)
		},
		func() Extension {
			m.SignatureAlgorithms = chPick(r, chSchemePool, r.IntN(20))
			return SignatureAlgorithmsExtension(m.SignatureAlgorithms...)
		},
		func() Extension { return SignatureAlgorithmsCertExtension(chPick(r, chSchemePool, r.IntN(5))...) },
		func() Extension {
			m.ALPN = nil
			for range r.IntN(4) {
				h := chHost(r)
				m.ALPN = append(m.ALPN, h[:1+r.IntN(len(h))])
			}
			if r.IntN(2) == 0 {
				m.ALPN = append(m.ALPN, "h2", "http/1.1")
			}
			return ALPNExtension(m.ALPN...)
		},
		func() Extension {
			m.ECPointFormats = chBytes(r, r.IntN(4))
			return ECPointFormatsExtension(m.ECPointFormats...)
		},
		func() Extension { return RenegotiationInfoExtension(chBytes(r, []int{0, 12, 36}[r.IntN(3)])) },
		ExtendedMasterSecretExtension,
		EncryptThenMACExtension,
		StatusRequestExtension,
		func() Extension { return SessionTicketExtension(chBytes(r, r.IntN(200))) },
		func() Extension { return PSKKeyExchangeModesExtension(chBytes(r, 1+r.IntN(3))...) },
		func() Extension { return PaddingExtension(r.IntN(300)) },
	}
	// Unknown, GREASE and registered-but-undecoded types kept raw; none of
	// them is produced by gens.
	raw := []uint16{0x0a0a, 0x3a3a, 0xeaea, ExtSCT, ExtCompressCertificate, ExtRecordSizeLimit, ExtEarlyData,
		ExtCookie, ExtCertAuthorities, 0x44cd, 0xfe0d, 0x1234, 0xffff}
	for _, i := range r.Perm(len(gens))[:r.IntN(len(gens)+1)] {
		m.Extensions = append(m.Extensions, gens[i]())
	}
	for _, i := range r.Perm(len(raw))[:r.IntN(4)] {
		m.Extensions = append(m.Extensions, RawExtension(raw[i], chBytes(r, r.IntN(40))))
	}
	r.Shuffle(len(m.Extensions), func(i, j int) { m.Extensions[i], m.Extensions[j] = m.Extensions[j], m.Extensions[i] })
	if r.IntN(4) == 0 { // a trailing pre_shared_key, as TLS 1.3 resumption sends
		m.Extensions = append(m.Extensions, RawExtension(ExtPreSharedKey, chBytes(r, 60)))
	}
	m.HasExtensions = true
	return m
}

// chDiff lists the fields in which got differs from want, after Marshal's
// conventions (nil compression is [0]); nil and empty slices compare equal.
func chDiff(got, want *ClientHello) string {
	var d []string
	check := func(name string, eq bool, g, w any) {
		if !eq {
			d = append(d, fmt.Sprintf("%s: got %v, want %v", name, g, w))
		}
	}
	wantComp := want.CompressionMethods
	if wantComp == nil {
		wantComp = []uint8{0}
	}
	check("Version", got.Version == want.Version, got.Version, want.Version)
	check("RecordVersion", got.RecordVersion == want.RecordVersion, got.RecordVersion, want.RecordVersion)
	check("Random", bytes.Equal(got.Random, want.Random), got.Random, want.Random)
	check("SessionID", bytes.Equal(got.SessionID, want.SessionID), got.SessionID, want.SessionID)
	check("CipherSuites", slices.Equal(got.CipherSuites, want.CipherSuites), got.CipherSuites, want.CipherSuites)
	check("CompressionMethods", bytes.Equal(got.CompressionMethods, wantComp), got.CompressionMethods, wantComp)
	check("HasExtensions", got.HasExtensions == (want.HasExtensions || len(want.Extensions) > 0), got.HasExtensions, want.HasExtensions)
	check("Extensions", slices.EqualFunc(got.Extensions, want.Extensions, func(a, b Extension) bool {
		return a.Type == b.Type && bytes.Equal(a.Data, b.Data)
	}), len(got.Extensions), len(want.Extensions))
	check("ServerName", got.ServerName == want.ServerName, got.ServerName, want.ServerName)
	check("SupportedVersions", slices.Equal(got.SupportedVersions, want.SupportedVersions), got.SupportedVersions, want.SupportedVersions)
	check("SupportedGroups", slices.Equal(got.SupportedGroups, want.SupportedGroups), got.SupportedGroups, want.SupportedGroups)
	check("KeyShareGroups", slices.Equal(got.KeyShareGroups, want.KeyShareGroups), got.KeyShareGroups, want.KeyShareGroups)
	check("SignatureAlgorithms", slices.Equal(got.SignatureAlgorithms, want.SignatureAlgorithms), got.SignatureAlgorithms, want.SignatureAlgorithms)
	check("ALPN", slices.Equal(got.ALPN, want.ALPN), got.ALPN, want.ALPN)
	check("ECPointFormats", bytes.Equal(got.ECPointFormats, want.ECPointFormats), got.ECPointFormats, want.ECPointFormats)
	check("SSLv2", got.SSLv2 == want.SSLv2, got.SSLv2, want.SSLv2)
	return strings.Join(d, "\n")
}

func TestClientHelloRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	shapes := map[string]int{}
	for i := range 2000 {
		want := chRandomHello(t, r)
		msg, err := want.Marshal()
		if err != nil {
			t.Fatalf("hello %d: Marshal: %v", i, err)
		}
		got, err := ParseClientHello(msg)
		if err != nil {
			t.Fatalf("hello %d: ParseClientHello: %v\n%x", i, err, msg)
		}
		if d := chDiff(got, want); d != "" {
			t.Fatalf("hello %d: round trip differs:\n%s", i, d)
		}
		again, err := got.Marshal()
		if err != nil || !bytes.Equal(again, msg) {
			t.Fatalf("hello %d: Marshal(Parse(msg)) != msg (err %v)", i, err)
		}
		switch {
		case !got.HasExtensions:
			shapes["no block"]++
		case len(got.Extensions) == 0:
			shapes["empty block"]++
		case got.Extensions[len(got.Extensions)-1].Type == ExtPreSharedKey:
			shapes["psk last"]++
		default:
			shapes["extensions"]++
		}
		if len(got.KeyShareGroups) > 0 {
			shapes["key shares"]++
		}
	}
	for _, s := range []string{"no block", "empty block", "psk last", "extensions", "key shares"} {
		if shapes[s] < 50 {
			t.Errorf("generator produced %d hellos of shape %q", shapes[s], s)
		}
	}
}

func TestClientHelloChromeLikeRoundTrip(t *testing.T) {
	m := chChromeLike(t)
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) < 1600 || len(msg) > 1900 {
		t.Errorf("Chrome-like hello is %d bytes, want about 1.7 KB", len(msg))
	}
	got, err := ParseClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	m.ServerName = "www.example.com"
	m.SupportedVersions = []uint16{0x8a8a, 0x0304, 0x0303}
	m.SupportedGroups = []uint16{0x2a2a, GroupX25519MLKEM768, GroupX25519, GroupP256, GroupP384}
	m.KeyShareGroups = []uint16{0x2a2a, GroupX25519MLKEM768, GroupX25519}
	m.SignatureAlgorithms = []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601}
	m.ALPN = []string{"h2", "http/1.1"}
	m.ECPointFormats = []uint8{0}
	if d := chDiff(got, m); d != "" {
		t.Fatal(d)
	}
}

func TestClientHelloPrefixesDoNotParse(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		msg, err := chRandomHello(t, r).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(msg) {
			m, err := ParseClientHello(msg[:n])
			if err == nil {
				t.Fatalf("hello %d: prefix of %d/%d bytes parsed: %+v", i, n, len(msg), m)
			}
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("hello %d: prefix of %d bytes: %v, want ErrTruncated or ErrMalformed", i, n, err)
			}
		}
	}
}

// chMinimalTLS10 is the hello of the known-answer test.
func chMinimalTLS10() *ClientHello {
	random := make([]byte, 32)
	for i := range random {
		random[i] = byte(i)
	}
	return &ClientHello{
		Version:      VersionTLS10,
		Random:       random,
		CipherSuites: []uint16{0x002f, 0x0035},
		Extensions:   []Extension{ServerNameExtension("a.example")},
	}
}

func TestClientHelloKnownAnswer(t *testing.T) {
	// Hand-assembled, field by field.
	const wantHex = "" +
		"01" + "00003f" + // client_hello, body 63 bytes
		"0301" + // legacy_version TLS 1.0
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" + // random
		"00" + // legacy_session_id: empty
		"0004" + "002f" + "0035" + // cipher_suites: 2 suites
		"01" + "00" + // compression: null (nil is written as [0])
		"0012" + // extensions block, 18 bytes
		"0000" + "000e" + // server_name, 14 bytes
		"000c" + // server_name_list, 12 bytes
		"00" + "0009" + "612e6578616d706c65" // host_name "a.example"
	const wantRecordHex = "16" + "0301" + "0043" + wantHex

	m := chMinimalTLS10()
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(msg); got != wantHex {
		t.Errorf("Marshal:\n got %s\nwant %s", got, wantHex)
	}
	rec, err := m.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(rec); got != wantRecordHex {
		t.Errorf("MarshalRecords:\n got %s\nwant %s", got, wantRecordHex)
	}
	p, err := ParseClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	if p.ServerName != "a.example" || !slices.Equal(p.CipherSuites, []uint16{0x2f, 0x35}) || p.Version != VersionTLS10 {
		t.Errorf("parsed %+v", p)
	}
}

func TestClientHelloMarshalRecords(t *testing.T) {
	m := chMinimalTLS10()
	m.RecordVersion = VersionSSL30
	rec, err := m.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(rec, []byte{22, 3, 0}) {
		t.Errorf("record header % x, want 16 03 00", rec[:5])
	}

	// A hello of 40,000+ bytes is split into fragments of at most 2^14.
	m.Extensions = append(m.Extensions, PaddingExtension(30000), RawExtension(0x1234, make([]byte, 10000)))
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	rec, err = m.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	var payload []byte
	for rest := rec; len(rest) > 0; {
		if len(rest) < 5 || rest[0] != 22 || rest[1] != 3 || rest[2] != 0 {
			t.Fatalf("bad record header % x", rest[:min(5, len(rest))])
		}
		n := int(rest[3])<<8 | int(rest[4])
		if n > 1<<14 || n == 0 || len(rest) < 5+n {
			t.Fatalf("record length %d", n)
		}
		sizes = append(sizes, n)
		payload = append(payload, rest[5:5+n]...)
		rest = rest[5+n:]
	}
	if !bytes.Equal(payload, msg) {
		t.Error("records do not reassemble to the message")
	}
	if want := []int{16384, 16384, len(msg) - 32768}; !slices.Equal(sizes, want) {
		t.Errorf("fragment sizes %v, want %v", sizes, want)
	}
}

func TestClientHelloMarshalErrors(t *testing.T) {
	base := chMinimalTLS10
	cases := []struct {
		name   string
		modify func(*ClientHello)
		want   error
	}{
		{"short random", func(m *ClientHello) { m.Random = m.Random[:31] }, ErrMalformed},
		{"nil random", func(m *ClientHello) { m.Random = nil }, ErrMalformed},
		{"session id 33", func(m *ClientHello) { m.SessionID = make([]byte, 33) }, ErrTooLarge},
		{"32768 suites", func(m *ClientHello) { m.CipherSuites = make([]uint16, 32768) }, ErrTooLarge},
		{"256 compression methods", func(m *ClientHello) { m.CompressionMethods = make([]uint8, 256) }, ErrTooLarge},
		{"extension data 65536", func(m *ClientHello) { m.Extensions = []Extension{{Type: 1, Data: make([]byte, 65536)}} }, ErrTooLarge},
		{"block over 65535", func(m *ClientHello) {
			m.Extensions = []Extension{PaddingExtension(40000), RawExtension(99, make([]byte, 30000))}
		}, ErrTooLarge},
		{"unencodable ALPN", func(m *ClientHello) { m.Extensions = []Extension{ALPNExtension(strings.Repeat("x", 256))} }, ErrTooLarge},
		{"128 versions", func(m *ClientHello) { m.Extensions = []Extension{SupportedVersionsExtension(make([]uint16, 128)...)} }, ErrTooLarge},
	}
	for _, c := range cases {
		m := base()
		c.modify(m)
		if _, err := m.Marshal(); !errors.Is(err, c.want) {
			t.Errorf("%s: Marshal error %v, want %v", c.name, err, c.want)
		}
		if _, err := m.MarshalRecords(); !errors.Is(err, c.want) {
			t.Errorf("%s: MarshalRecords error %v, want %v", c.name, err, c.want)
		}
	}
	// The limits themselves are fine.
	m := base()
	m.SessionID = make([]byte, 32)
	m.CipherSuites = make([]uint16, 32767)
	m.CompressionMethods = make([]uint8, 255)
	m.Extensions = []Extension{SupportedVersionsExtension(make([]uint16, 127)...), ALPNExtension(strings.Repeat("x", 255))}
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseClientHello(msg); err != nil {
		t.Fatal(err)
	}
}

// chParseMutated marshals m, lets f edit the bytes, and parses them.
func chParseMutated(t *testing.T, m *ClientHello, f func([]byte) []byte) error {
	t.Helper()
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseClientHello(f(msg))
	return err
}

func TestParseClientHelloErrors(t *testing.T) {
	withExt := func(exts ...Extension) *ClientHello {
		m := chMinimalTLS10()
		m.Extensions = exts
		return m
	}
	same := func(b []byte) []byte { return b }
	cases := []struct {
		name  string
		m     *ClientHello
		edit  func([]byte) []byte
		want  error
		field string
	}{
		{"empty", chMinimalTLS10(), func([]byte) []byte { return nil }, ErrTruncated, "msg_type"},
		{"server hello type", chMinimalTLS10(), func(b []byte) []byte { b[0] = 2; return b }, ErrUnexpected, "msg_type"},
		{"wrong type, short", chMinimalTLS10(), func(b []byte) []byte { return []byte{11} }, ErrUnexpected, "msg_type"},
		{"trailing byte", chMinimalTLS10(), func(b []byte) []byte { return append(b, 0) }, ErrMalformed, "length"},
		{"short body", chMinimalTLS10(), func(b []byte) []byte { return b[:len(b)-1] }, ErrTruncated, "length"},
		{"huge length", chMinimalTLS10(), func(b []byte) []byte { return []byte{1, 0xff, 0xff, 0xff} }, ErrTooLarge, "length"},
		{"session id 33", chMinimalTLS10(), func(b []byte) []byte {
			// Replace the empty session id by 33 bytes and fix the length.
			out := append(slices.Clone(b[:38]), 33)
			out = append(out, make([]byte, 33)...)
			out = append(out, b[39:]...)
			out[3] += 33
			return out
		}, ErrMalformed, "legacy_session_id"},
		{"odd cipher suites", chMinimalTLS10(), func(b []byte) []byte { b[40] = 3; return b }, ErrMalformed, "cipher_suites"},
		{"extensions length too long", chMinimalTLS10(), func(b []byte) []byte { b[48]++; return b }, ErrMalformed, "extensions"},
		{"extensions length too short", chMinimalTLS10(), func(b []byte) []byte { b[48]--; return b }, ErrMalformed, "extensions"},
		{"duplicate extension", withExt(ServerNameExtension("a"), EncryptThenMACExtension(), ServerNameExtension("b")), same, ErrMalformed, "duplicate server_name"},
		{"duplicate unknown extension", withExt(RawExtension(0x0a0a, nil), RawExtension(0x0a0a, []byte{1})), same, ErrMalformed, "duplicate extension_0x0a0a"},
		{"bad server_name inner length", withExt(ServerNameExtension("a.example")), func(b []byte) []byte { b[54]++; return b }, ErrMalformed, "server_name"},
		{"bad key_share inner length", withExt(KeyShareExtension(KeyShare{Group: 29, Data: []byte{1, 2}})), func(b []byte) []byte {
			b[len(b)-3]++
			return b
		}, ErrMalformed, "key_share"},
	}
	for _, c := range cases {
		err := chParseMutated(t, c.m, c.edit)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.What != "ClientHello" || pe.Field != c.field || pe.Err != c.want {
			t.Errorf("%s: error %#v, want ParseError{ClientHello, %q, %v}", c.name, err, c.field, c.want)
		}
	}

	// Many extensions: the sorted duplicate check.
	var exts []Extension
	for i := range 200 {
		exts = append(exts, RawExtension(uint16(1000+i), nil))
	}
	if err := chParseMutated(t, withExt(exts...), same); err != nil {
		t.Errorf("200 distinct extensions: %v", err)
	}
	exts = append(exts, RawExtension(1100, nil))
	err := chParseMutated(t, withExt(exts...), same)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Field != "duplicate extension_0x044c" {
		t.Errorf("201 extensions with a duplicate: %v", err)
	}
}

func TestClientHelloSSLv3WithoutExtensions(t *testing.T) {
	// An SSLv3 hello as old clients send it: no extensions block.
	msg, _ := hex.DecodeString("0100002d0300" + strings.Repeat("ab", 32) + "00" + "0006000a00050004" + "0100")
	m, err := ParseClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != VersionSSL30 || m.HasExtensions || m.Extensions != nil ||
		!slices.Equal(m.CipherSuites, []uint16{0x0a, 0x05, 0x04}) || !bytes.Equal(m.CompressionMethods, []byte{0}) {
		t.Errorf("parsed %+v", m)
	}
	if m.ServerName != "" || m.SupportedVersions != nil || m.ALPN != nil || m.ECPointFormats != nil {
		t.Errorf("decoded fields set without extensions: %+v", m)
	}
	again, err := m.Marshal()
	if err != nil || !bytes.Equal(again, msg) {
		t.Errorf("re-marshal %x, %v", again, err)
	}

	// An empty block is kept apart from no block.
	m.HasExtensions = true
	msg, _ = m.Marshal()
	p, err := ParseClientHello(msg)
	if err != nil || !p.HasExtensions || len(p.Extensions) != 0 {
		t.Errorf("empty block: %+v, %v", p, err)
	}
}

func TestParseClientHelloDoesNotAlias(t *testing.T) {
	m := chChromeLike(t)
	m.CompressionMethods = []uint8{1, 0}
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ParseClientHello(slices.Clone(msg))
	for i := range msg { // the caller reuses its buffer
		msg[i] = 0xee
	}
	if d := chDiff(p, want); d != "" {
		t.Fatalf("parsed hello changed with its input:\n%s", d)
	}
	// Appending to one field does not overwrite the next.
	_ = append(p.SessionID, 0xdd, 0xdd, 0xdd)
	_ = append(p.Random, 0xdd)
	_ = append(p.CompressionMethods, 0xdd)
	_ = append(p.Extensions[0].Data, 0xdd, 0xdd)
	if d := chDiff(p, want); d != "" {
		t.Fatalf("appending to a field changed another:\n%s", d)
	}
}

func TestPaddingF5Boundaries(t *testing.T) {
	// helloOfLen returns a hello whose unpadded message is n bytes, using a
	// raw extension of the right size.
	helloOfLen := func(t *testing.T, n int, psk bool) *ClientHello {
		m := chMinimalTLS10() // 67 bytes with its server_name
		if psk {
			m.Extensions = append(m.Extensions, RawExtension(ExtPreSharedKey, make([]byte, 40)))
		}
		base, _ := m.Marshal()
		fill := n - len(base) - 4
		if fill < 0 {
			t.Fatalf("cannot make a %d-byte hello", n)
		}
		m.Extensions = slices.Insert(m.Extensions, 1, RawExtension(0x1234, make([]byte, fill)))
		if msg, _ := m.Marshal(); len(msg) != n {
			t.Fatalf("hello is %d bytes, want %d", len(msg), n)
		}
		return m
	}
	cases := []struct {
		unpadded int
		padding  int // -1: no padding extension
		total    int
	}{
		{200, -1, 200},
		{255, -1, 255},
		{256, 252, 512},
		{300, 208, 512},
		{506, 2, 512},
		{507, 1, 512},
		{508, 1, 513}, // no room for header + 1 byte: 1 byte anyway
		{510, 1, 515},
		{511, 1, 516},
		{512, -1, 512},
		{600, -1, 600},
	}
	for _, psk := range []bool{false, true} {
		for _, c := range cases {
			name := fmt.Sprintf("%d psk=%v", c.unpadded, psk)
			m := helloOfLen(t, c.unpadded, psk)
			before := len(m.Extensions)
			if err := m.PadForF5(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			msg, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if len(msg) != c.total {
				t.Errorf("%s: padded hello is %d bytes, want %d", name, len(msg), c.total)
			}
			i := slices.IndexFunc(m.Extensions, func(e Extension) bool { return e.Type == ExtPadding })
			switch {
			case c.padding < 0 && (i >= 0 || len(m.Extensions) != before):
				t.Errorf("%s: padding added", name)
			case c.padding >= 0 && i < 0:
				t.Errorf("%s: no padding", name)
			case c.padding >= 0:
				if len(m.Extensions[i].Data) != c.padding || !bytes.Equal(m.Extensions[i].Data, make([]byte, c.padding)) {
					t.Errorf("%s: padding of %d bytes, want %d zeros", name, len(m.Extensions[i].Data), c.padding)
				}
				wantAt := len(m.Extensions) - 1
				if psk {
					wantAt--
				}
				if i != wantAt {
					t.Errorf("%s: padding at %d of %d extensions", name, i, len(m.Extensions))
				}
			}
			// Idempotent.
			if err := m.PadForF5(); err != nil {
				t.Fatal(err)
			}
			if again, _ := m.Marshal(); !bytes.Equal(again, msg) {
				t.Errorf("%s: second PadForF5 changed the hello", name)
			}
			if _, err := ParseClientHello(msg); err != nil {
				t.Errorf("%s: padded hello does not parse: %v", name, err)
			}
		}
	}

	// Without an extensions block: the block is added and counted.
	m := chMinimalTLS10()
	m.Extensions = nil
	m.CipherSuites = make([]uint16, 110) // 47 + 216 = 263 bytes
	if msg, _ := m.Marshal(); len(msg) != 263 {
		t.Fatalf("no-block hello is %d bytes", len(msg))
	}
	if err := m.PadForF5(); err != nil {
		t.Fatal(err)
	}
	if msg, _ := m.Marshal(); len(msg) != 512 || len(m.Extensions) != 1 {
		t.Errorf("no-block hello padded to %d bytes with %d extensions", len(msg), len(m.Extensions))
	}

	// An earlier padding extension is replaced, wherever it was.
	m = helloOfLen(t, 300, false)
	m.Extensions = slices.Insert(m.Extensions, 0, PaddingExtension(1000))
	if err := m.PadForF5(); err != nil {
		t.Fatal(err)
	}
	if msg, _ := m.Marshal(); len(msg) != 512 || m.Extensions[0].Type == ExtPadding {
		t.Errorf("replacing padding: %d bytes, first extension %d", len(msg), m.Extensions[0].Type)
	}

	// An unmarshalable hello is an error.
	m.Random = nil
	if err := m.PadForF5(); err == nil {
		t.Error("PadForF5 with a bad random succeeded")
	}
}

// chChromeLike is a hello shaped like Chrome 131's: GREASE everywhere, a
// post-quantum key share, ECH GREASE; about 1.7 KB.
func chChromeLike(tb testing.TB) *ClientHello {
	tb.Helper()
	r := chTestReader(7)
	pq, err := GenerateKeyShare(GroupX25519MLKEM768, r)
	if err != nil {
		tb.Fatal(err)
	}
	x, err := GenerateKeyShare(GroupX25519, r)
	if err != nil {
		tb.Fatal(err)
	}
	grease, err := FakeKeyShare(0x2a2a, 1, r)
	if err != nil {
		tb.Fatal(err)
	}
	pr := rand.New(rand.NewPCG(7, 7))
	return &ClientHello{
		Version:            VersionTLS12,
		Random:             chBytes(pr, 32),
		SessionID:          chBytes(pr, 32),
		CipherSuites:       []uint16{0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		CompressionMethods: []uint8{0},
		Extensions: []Extension{
			RawExtension(0x0a0a, nil),
			ServerNameExtension("www.example.com"),
			ExtendedMasterSecretExtension(),
			RenegotiationInfoExtension(nil),
			SupportedGroupsExtension(0x2a2a, GroupX25519MLKEM768, GroupX25519, GroupP256, GroupP384),
			ECPointFormatsExtension(0),
			SessionTicketExtension(nil),
			ALPNExtension("h2", "http/1.1"),
			StatusRequestExtension(),
			SignatureAlgorithmsExtension(0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601),
			RawExtension(ExtSCT, nil),
			KeyShareExtension(grease, pq, x),
			PSKKeyExchangeModesExtension(1),
			SupportedVersionsExtension(0x8a8a, 0x0304, 0x0303),
			RawExtension(ExtCompressCertificate, []byte{0x02, 0x00, 0x02}),
			RawExtension(0x44cd, []byte{0x00, 0x03, 0x02, 'h', '2'}), // application_settings
			RawExtension(0xfe0d, chBytes(pr, 250)),                   // encrypted_client_hello GREASE
			RawExtension(0x1a1a, []byte{0}),
		},
		HasExtensions: true,
	}
}

func BenchmarkParseClientHello(b *testing.B) {
	msg, err := chChromeLike(b).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientHello(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalClientHello(b *testing.B) {
	m := chChromeLike(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

// chFuzzSeeds are the committed seeds of FuzzParseClientHello: hellos of
// different shapes and a few near-misses.
func chFuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	add := func(name string, m *ClientHello) {
		msg, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		seeds[name] = msg
	}
	add("tls10-sni", chMinimalTLS10())
	add("chrome-like", chChromeLike(t))
	ssl3 := chMinimalTLS10()
	ssl3.Version, ssl3.Extensions = VersionSSL30, nil
	add("ssl3-no-extensions", ssl3)
	empty := chMinimalTLS10()
	empty.Extensions, empty.HasExtensions, empty.CompressionMethods = nil, true, []uint8{}
	add("empty-block-no-compression", empty)
	padded := chMinimalTLS10()
	padded.CipherSuites = chPick(rand.New(rand.NewPCG(9, 9)), chSuitePool, 100)
	padded.Extensions = append(padded.Extensions, RawExtension(ExtPreSharedKey, make([]byte, 50)))
	if err := padded.PadForF5(); err != nil {
		t.Fatal(err)
	}
	add("f5-padded-psk", padded)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 6 {
		add(fmt.Sprintf("random-%d", i), chRandomHello(t, r))
	}
	dup := chMinimalTLS10()
	dup.Extensions = append(dup.Extensions, EncryptThenMACExtension(), ServerNameExtension("b"))
	add("duplicate-server-name", dup)
	odd := chMinimalTLS10()
	odd.Extensions = []Extension{
		RawExtension(ExtServerName, []byte{0, 8, 1, 0, 1, 'x', 0, 0, 1, 'y'}), // non-host entry, then host "y"
		RawExtension(ExtSupportedVersions, []byte{3, 3, 4, 3}),                // odd list length
	}
	add("odd-supported-versions", odd)
	return seeds
}

func TestClientHelloWriteFuzzCorpus(t *testing.T) {
	if !*chUpdateCorpus {
		t.Skip("run with -update-clienthello-corpus to rewrite the seeds")
	}
	write := func(dir string, seeds map[string][]byte) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(filepath.Join("testdata", "fuzz", "FuzzParseClientHello"), chFuzzSeeds(t))
	write(filepath.Join("testdata", "fuzz", "FuzzDecodeExtensions"), extFuzzSeeds(t))
}

// chRequireSeeds fails when the committed seed directory of a fuzz target is
// missing or empty, so that a moved folder cannot silently fuzz nothing.
func chRequireSeeds(f *testing.F, target string) {
	f.Helper()
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(seeds) < 5 {
		f.Fatalf("testdata/fuzz/%s has %d seed files (err %v); regenerate with -update-clienthello-corpus", target, len(seeds), err)
	}
}

func FuzzParseClientHello(f *testing.F) {
	chRequireSeeds(f, "FuzzParseClientHello")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseClientHello(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || (pe.Err != ErrTruncated && pe.Err != ErrMalformed && pe.Err != ErrUnexpected && pe.Err != ErrTooLarge) {
				t.Fatalf("error %v is not a ParseError with a sentinel", err)
			}
			return
		}
		// The parser is exact: the raw fields write back the same bytes.
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("parsed hello does not marshal: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("Marshal(Parse(x)) != x\n got %x\nwant %x", again, data)
		}
		m2, err := ParseClientHello(again)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if d := chDiff(m2, m); d != "" {
			t.Fatalf("re-parse differs:\n%s", d)
		}
	})
}
