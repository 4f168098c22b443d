package tls

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestHelloRetryRequestRandom(t *testing.T) {
	sum := sha256.Sum256([]byte("HelloRetryRequest"))
	if HelloRetryRequestRandom != string(sum[:]) {
		t.Fatalf("HelloRetryRequestRandom = %x, want %x", HelloRetryRequestRandom, sum)
	}
}

func shMustMarshal(t testing.TB, s *ServerHello) []byte {
	t.Helper()
	msg, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// shTLS12 is a TLS 1.2 ServerHello with the usual extensions.
func shTLS12() *ServerHello {
	return &ServerHello{
		Version:     VersionTLS12,
		Random:      bytes.Repeat([]byte{0x11}, 32),
		SessionID:   bytes.Repeat([]byte{0x22}, 32),
		CipherSuite: 0xc02f,
		Extensions: []Extension{
			RenegotiationInfoExtension(nil),
			ExtendedMasterSecretExtension(),
			ECPointFormatsExtension(0),
			ServerHelloALPN("http/1.1"),
		},
		HasExtensions:        true,
		ALPN:                 "http/1.1",
		SecureRenegotiation:  true,
		ExtendedMasterSecret: true,
	}
}

// shTLS13 is a TLS 1.3 ServerHello.
func shTLS13() *ServerHello {
	return &ServerHello{
		Version:     VersionTLS12,
		Random:      bytes.Repeat([]byte{0x33}, 32),
		SessionID:   bytes.Repeat([]byte{0x44}, 32),
		CipherSuite: 0x1301,
		Extensions: []Extension{
			ServerHelloSupportedVersion(VersionTLS13),
			ServerHelloKeyShare(0x001d, bytes.Repeat([]byte{0x55}, 32)),
		},
		HasExtensions:    true,
		SupportedVersion: VersionTLS13,
		KeyShareGroup:    0x001d,
	}
}

// shHRR is a HelloRetryRequest asking for secp256r1.
func shHRR() *ServerHello {
	return &ServerHello{
		Version:     VersionTLS12,
		Random:      []byte(HelloRetryRequestRandom),
		SessionID:   bytes.Repeat([]byte{0x44}, 32),
		CipherSuite: 0x1302,
		Extensions: []Extension{
			ServerHelloSupportedVersion(VersionTLS13),
			HRRKeyShare(0x0017),
			RawExtension(ExtCookie, []byte{0, 4, 1, 2, 3, 4}),
		},
		HasExtensions:     true,
		HelloRetryRequest: true,
		SupportedVersion:  VersionTLS13,
		KeyShareGroup:     0x0017,
	}
}

// shSSL3 is an SSLv3 ServerHello without an extensions block.
func shSSL3() *ServerHello {
	return &ServerHello{
		Version:     VersionSSL30,
		Random:      bytes.Repeat([]byte{0x66}, 32),
		SessionID:   []byte{},
		CipherSuite: 0x000a,
	}
}

// shRandom returns a ServerHello of a random shape with its decoded fields
// set to what ParseServerHello must find.
func shRandom(r *rand.Rand) *ServerHello {
	s := &ServerHello{
		Version:           []Version{VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12, 0x0399}[r.IntN(5)],
		Random:            recBytes(r, 32),
		SessionID:         recBytes(r, []int{0, 8, 32}[r.IntN(3)]),
		CipherSuite:       uint16(r.Uint32()),
		CompressionMethod: []uint8{0, 0, 0, 1}[r.IntN(4)],
	}
	var exts []Extension
	switch shape := r.IntN(7); shape {
	case 0: // SSLv3-style: no block
	case 1: // empty block
		s.HasExtensions = true
	case 2, 3: // TLS 1.2 style
		s.HasExtensions = true
		if r.IntN(2) == 0 {
			exts = append(exts, RenegotiationInfoExtension(recBytes(r, r.IntN(3)*12)))
			s.SecureRenegotiation = true
		}
		if r.IntN(2) == 0 {
			exts = append(exts, ExtendedMasterSecretExtension())
			s.ExtendedMasterSecret = true
		}
		if r.IntN(2) == 0 {
			s.ALPN = []string{"h2", "http/1.1", "x", string(recBytes(r, 255))}[r.IntN(4)]
			exts = append(exts, ServerHelloALPN(s.ALPN))
		}
		if r.IntN(2) == 0 {
			exts = append(exts, ECPointFormatsExtension(0, 1, 2))
		}
		if r.IntN(2) == 0 {
			exts = append(exts, RawExtension(ExtSessionTicket, nil))
		}
		if r.IntN(2) == 0 {
			exts = append(exts, RawExtension(0x1a1a, recBytes(r, r.IntN(5))))
		}
	case 4: // TLS 1.3
		s.Version, s.HasExtensions = VersionTLS12, true
		s.SupportedVersion = []Version{VersionTLS13, 0x7f1c, 0x0303}[r.IntN(3)]
		s.KeyShareGroup = []uint16{0x001d, 0x0017, 0x11ec, 0x0100}[r.IntN(4)]
		exts = append(exts, ServerHelloSupportedVersion(s.SupportedVersion),
			ServerHelloKeyShare(s.KeyShareGroup, recBytes(r, 1+r.IntN(1200))))
		if r.IntN(2) == 0 {
			exts = append(exts, RawExtension(ExtPreSharedKey, []byte{0, 0}))
		}
	case 6: // TLS 1.3 draft 18 layout: no session id, no compression
		s.Version, s.HasExtensions = 0x7f00|Version(r.IntN(22)), true
		s.SessionID, s.CompressionMethod = []byte{}, 0
		s.KeyShareGroup = 0x001d
		exts = append(exts, ServerHelloKeyShare(0x001d, recBytes(r, 32)))
		exts[0].Type = shExtKeyShareDraft
		if r.IntN(2) == 0 {
			exts = append(exts, RawExtension(ExtPreSharedKey, []byte{0, 0}))
		}
	case 5: // HelloRetryRequest
		s.Version, s.HasExtensions, s.HelloRetryRequest = VersionTLS12, true, true
		s.Random = []byte(HelloRetryRequestRandom)
		s.SupportedVersion = VersionTLS13
		exts = append(exts, ServerHelloSupportedVersion(VersionTLS13))
		if r.IntN(3) > 0 {
			s.KeyShareGroup = uint16(r.Uint32())
			exts = append(exts, HRRKeyShare(s.KeyShareGroup))
		}
		if r.IntN(2) == 0 {
			exts = append(exts, RawExtension(ExtCookie, recBytes(r, 2+r.IntN(100))))
		}
	}
	r.Shuffle(len(exts), func(i, j int) { exts[i], exts[j] = exts[j], exts[i] })
	s.Extensions = exts
	return s
}

// shDiff describes how got differs from want (extension data compared as
// bytes, nil equal to empty).
func shDiff(got, want *ServerHello) string {
	var d []string
	if got.Version != want.Version {
		d = append(d, fmt.Sprintf("Version %v != %v", got.Version, want.Version))
	}
	if !bytes.Equal(got.Random, want.Random) || !bytes.Equal(got.SessionID, want.SessionID) {
		d = append(d, "Random or SessionID")
	}
	if got.CipherSuite != want.CipherSuite || got.CompressionMethod != want.CompressionMethod {
		d = append(d, "CipherSuite or CompressionMethod")
	}
	if got.HasExtensions != want.HasExtensions || len(got.Extensions) != len(want.Extensions) {
		d = append(d, fmt.Sprintf("extensions: has %v/%v, %d/%d", got.HasExtensions, want.HasExtensions, len(got.Extensions), len(want.Extensions)))
	} else {
		for i := range got.Extensions {
			if got.Extensions[i].Type != want.Extensions[i].Type || !bytes.Equal(got.Extensions[i].Data, want.Extensions[i].Data) {
				d = append(d, fmt.Sprintf("extension %d", i))
			}
		}
	}
	if got.HelloRetryRequest != want.HelloRetryRequest || got.SupportedVersion != want.SupportedVersion ||
		got.KeyShareGroup != want.KeyShareGroup || got.ALPN != want.ALPN ||
		got.SecureRenegotiation != want.SecureRenegotiation || got.ExtendedMasterSecret != want.ExtendedMasterSecret {
		d = append(d, fmt.Sprintf("decoded: got HRR=%v sv=%v ks=%#x alpn=%q reneg=%v ems=%v, want HRR=%v sv=%v ks=%#x alpn=%q reneg=%v ems=%v",
			got.HelloRetryRequest, got.SupportedVersion, got.KeyShareGroup, got.ALPN, got.SecureRenegotiation, got.ExtendedMasterSecret,
			want.HelloRetryRequest, want.SupportedVersion, want.KeyShareGroup, want.ALPN, want.SecureRenegotiation, want.ExtendedMasterSecret))
	}
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

func TestServerHelloRoundTrip(t *testing.T) {
	r := recRand(42)
	fixed := []*ServerHello{shTLS12(), shTLS13(), shHRR(), shSSL3()}
	for i := range 2000 {
		want := shRandom(r)
		if i < len(fixed) {
			want = fixed[i]
		}
		msg := shMustMarshal(t, want)
		got, err := ParseServerHello(msg)
		if err != nil {
			t.Fatalf("case %d: %v\n%x", i, err, msg)
		}
		if d := shDiff(got, want); d != "" {
			t.Fatalf("case %d: %s", i, d)
		}
		if want.SupportedVersion != 0 && got.NegotiatedVersion() != want.SupportedVersion {
			t.Fatalf("case %d: NegotiatedVersion %v", i, got.NegotiatedVersion())
		}
		again := shMustMarshal(t, got)
		if !bytes.Equal(again, msg) {
			t.Fatalf("case %d: Marshal(Parse(x)) != x", i)
		}
	}
}

func TestServerHelloKnownAnswer(t *testing.T) {
	// A TLS 1.3 ServerHello as written by hand from RFC 8446 §4.1.3.
	want := []byte{
		2, 0, 0, 118, // server_hello, length
		3, 3, // legacy_version
	}
	want = append(want, bytes.Repeat([]byte{0x33}, 32)...)
	want = append(want, 32)
	want = append(want, bytes.Repeat([]byte{0x44}, 32)...)
	want = append(want,
		0x13, 0x01, // TLS_AES_128_GCM_SHA256
		0,     // compression
		0, 46, // extensions length
		0, 43, 0, 2, 3, 4, // supported_versions: TLS 1.3
		0, 51, 0, 36, 0, 0x1d, 0, 32, // key_share: x25519, 32 bytes
	)
	want = append(want, bytes.Repeat([]byte{0x55}, 32)...)
	if got := shMustMarshal(t, shTLS13()); !bytes.Equal(got, want) {
		t.Fatalf("Marshal:\n got %x\nwant %x", got, want)
	}
	m, err := ParseServerHello(want)
	if err != nil {
		t.Fatal(err)
	}
	if m.NegotiatedVersion() != VersionTLS13 || m.KeyShareGroup != 0x1d || m.HelloRetryRequest {
		t.Fatalf("got %+v", m)
	}
}

func TestServerHelloBuilders(t *testing.T) {
	tests := []struct {
		got  Extension
		want Extension
	}{
		{ServerHelloSupportedVersion(VersionTLS13), Extension{43, []byte{3, 4}}},
		{ServerHelloKeyShare(0x17, []byte{4, 1, 2}), Extension{51, []byte{0, 0x17, 0, 3, 4, 1, 2}}},
		{HRRKeyShare(0x11ec), Extension{51, []byte{0x11, 0xec}}},
		{ServerHelloALPN("h2"), Extension{16, []byte{0, 3, 2, 'h', '2'}}},
	}
	for _, tt := range tests {
		if tt.got.Type != tt.want.Type || !bytes.Equal(tt.got.Data, tt.want.Data) {
			t.Errorf("got %v %x, want %v %x", tt.got.Type, tt.got.Data, tt.want.Type, tt.want.Data)
		}
	}
}

func TestServerHelloMarshalErrors(t *testing.T) {
	tests := map[string]struct {
		mod  func(*ServerHello)
		want error
	}{
		"short random":    {func(s *ServerHello) { s.Random = s.Random[:31] }, ErrMalformed},
		"nil random":      {func(s *ServerHello) { s.Random = nil }, ErrMalformed},
		"long session id": {func(s *ServerHello) { s.SessionID = make([]byte, 33) }, ErrMalformed},
		"huge key share":  {func(s *ServerHello) { s.Extensions = []Extension{ServerHelloKeyShare(0x1d, make([]byte, 70000))} }, ErrTooLarge},
		"key share 65532": {func(s *ServerHello) { s.Extensions = []Extension{ServerHelloKeyShare(0x1d, make([]byte, 65532))} }, ErrTooLarge},
		"long alpn":       {func(s *ServerHello) { s.Extensions = []Extension{ServerHelloALPN(string(make([]byte, 256)))} }, ErrTooLarge},
		"extensions > 64 K": {func(s *ServerHello) {
			s.Extensions = slices.Repeat([]Extension{RawExtension(1, make([]byte, 30000))}, 3)
		}, ErrTooLarge},
	}
	for name, tt := range tests {
		s := shTLS12()
		tt.mod(s)
		if _, err := s.Marshal(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
}

// shWithExts marshals a TLS 1.2 ServerHello (or a HelloRetryRequest) with
// the given raw extensions.
func shWithExts(t *testing.T, hrr bool, exts ...Extension) []byte {
	s := shTLS12()
	if hrr {
		s.Random = []byte(HelloRetryRequestRandom)
	}
	s.Extensions = exts
	return shMustMarshal(t, s)
}

func TestParseServerHelloErrors(t *testing.T) {
	good := shMustMarshal(t, shTLS12())
	ssl3 := shMustMarshal(t, shSSL3())
	tests := map[string]struct {
		msg  []byte
		want error
	}{
		"empty":                 {nil, ErrTruncated},
		"client hello":          {append([]byte{1}, good[1:]...), ErrUnexpected},
		"certificate":           {MarshalCertificate([][]byte{{1}}), ErrUnexpected},
		"header only":           {good[:4], ErrTruncated},
		"cut":                   {good[:len(good)-1], ErrTruncated},
		"trailing":              {append(slices.Clone(good), 0), ErrMalformed},
		"body too short":        {[]byte{2, 0, 0, 2, 3, 3}, ErrMalformed},
		"session id 33":         {append([]byte{2, 0, 0, 38 + 33, 3, 3}, append(make([]byte, 32), append([]byte{33}, make([]byte, 33+3)...)...)...), ErrMalformed},
		"one byte after comp":   {shBumpLen(append(slices.Clone(ssl3), 0)), ErrMalformed},
		"ext block overruns":    {shBumpLen(append(slices.Clone(ssl3), 0, 5, 0, 23, 0)), ErrMalformed},
		"bytes after ext block": {shBumpLen(append(slices.Clone(ssl3), 0, 4, 0, 23, 0, 0, 9)), ErrMalformed},
		"ext data overruns":     {shBumpLen(append(slices.Clone(ssl3), 0, 4, 0, 23, 0, 1)), ErrMalformed},
		"duplicate":             {shWithExts(t, false, ExtendedMasterSecretExtension(), ECPointFormatsExtension(0), ExtendedMasterSecretExtension()), ErrMalformed},
		"duplicate unknown":     {shWithExts(t, false, RawExtension(0x4444, nil), RawExtension(0x4444, []byte{1})), ErrMalformed},
		"sv 3 bytes":            {shWithExts(t, false, RawExtension(ExtSupportedVersions, []byte{3, 4, 0})), ErrMalformed},
		"sv client form":        {shWithExts(t, false, SupportedVersionsExtension(0x0304)), ErrMalformed},
		"sh key share no key":   {shWithExts(t, false, HRRKeyShare(0x1d)), ErrMalformed},
		"sh key share empty":    {shWithExts(t, false, ServerHelloKeyShare(0x1d, nil)), ErrMalformed},
		"sh key share trailing": {shWithExts(t, false, RawExtension(ExtKeyShare, []byte{0, 0x1d, 0, 1, 9, 9})), ErrMalformed},
		"hrr key share entry":   {shWithExts(t, true, ServerHelloKeyShare(0x1d, []byte{1})), ErrMalformed},
		"hrr key share short":   {shWithExts(t, true, RawExtension(ExtKeyShare, []byte{0})), ErrMalformed},
		"alpn two":              {shWithExts(t, false, ALPNExtension("h2", "http/1.1")), ErrMalformed},
		"alpn empty name":       {shWithExts(t, false, ServerHelloALPN("")), ErrMalformed},
		"alpn empty list":       {shWithExts(t, false, ALPNExtension()), ErrMalformed},
		"reneg trailing":        {shWithExts(t, false, RawExtension(ExtRenegotiationInfo, []byte{0, 0})), ErrMalformed},
		"reneg empty":           {shWithExts(t, false, RawExtension(ExtRenegotiationInfo, nil)), ErrMalformed},
		"ems non-empty":         {shWithExts(t, false, RawExtension(ExtExtendedMasterSecret, []byte{0})), ErrMalformed},
	}
	for name, tt := range tests {
		_, err := ParseServerHello(tt.msg)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
			continue
		}
		recCheckErr(t, err)
	}
}

// shBumpLen rewrites the uint24 handshake length of msg to fit its length.
func shBumpLen(msg []byte) []byte {
	n := len(msg) - 4
	msg[1], msg[2], msg[3] = byte(n>>16), byte(n>>8), byte(n)
	return msg
}

func TestServerHelloDraft(t *testing.T) {
	// A draft-18 ServerHello as captured from a 2017 Cloudflare server
	// (arkime tests/pcap/tls13.pcap frame 6): version 0x7f12, random,
	// TLS_AES_128_GCM_SHA256, key_share as extension 40.
	msg := []byte{2, 0, 0, 0x4e, 0x7f, 0x12}
	msg = append(msg, bytes.Repeat([]byte{0x3e}, 32)...)
	msg = append(msg, 0x13, 0x01, 0, 0x28, 0, 0x28, 0, 0x24, 0, 0x1d, 0, 0x20)
	msg = append(msg, bytes.Repeat([]byte{0xae}, 32)...)
	m, err := ParseServerHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.NegotiatedVersion() != 0x7f12 || m.CipherSuite != 0x1301 || m.KeyShareGroup != 0x1d || len(m.SessionID) != 0 ||
		!m.HasExtensions || len(m.Extensions) != 1 {
		t.Fatalf("got %+v", m)
	}
	if again := shMustMarshal(t, m); !bytes.Equal(again, msg) {
		t.Fatalf("Marshal(Parse(x)) = %x", again)
	}
	if !decHelloTLS13(msg) {
		t.Error("decoder does not see TLS 1.3 in a draft ServerHello")
	}
	recNoPrefixParses(t, "draft", msg, func(b []byte) error { _, err := ParseServerHello(b); return err })
	// Extension 40 is not key_share in RFC 8446 ServerHellos.
	s := shTLS12()
	s.Extensions = []Extension{{Type: shExtKeyShareDraft, Data: []byte{1}}}
	if m, err := ParseServerHello(shMustMarshal(t, s)); err != nil || m.KeyShareGroup != 0 {
		t.Fatalf("extension 40 in TLS 1.2: %+v, %v", m, err)
	}
	// Draft 22: new layout, key_share still 40.
	s = shTLS13()
	s.Extensions = []Extension{ServerHelloSupportedVersion(0x7f16), ServerHelloKeyShare(0x17, []byte{4})}
	s.Extensions[1].Type = shExtKeyShareDraft
	if m, err := ParseServerHello(shMustMarshal(t, s)); err != nil || m.KeyShareGroup != 0x17 {
		t.Fatalf("draft 22: %+v, %v", m, err)
	}
	// The draft layout has no room for a session id or compression.
	s = &ServerHello{Version: 0x7f12, Random: make([]byte, 32), SessionID: []byte{1}}
	if _, err := s.Marshal(); !errors.Is(err, ErrMalformed) {
		t.Errorf("draft with session id: %v", err)
	}
	s = &ServerHello{Version: 0x7f12, Random: make([]byte, 32), CompressionMethod: 1}
	if _, err := s.Marshal(); !errors.Is(err, ErrMalformed) {
		t.Errorf("draft with compression: %v", err)
	}
}

func TestServerHelloSSLv3NoExtensions(t *testing.T) {
	msg := shMustMarshal(t, shSSL3())
	if len(msg) != 4+38 {
		t.Fatalf("SSLv3 ServerHello is %d bytes", len(msg))
	}
	m, err := ParseServerHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	if m.HasExtensions || m.Extensions != nil || m.Version != VersionSSL30 || m.NegotiatedVersion() != VersionSSL30 {
		t.Fatalf("got %+v", m)
	}
}

func TestServerHelloPrefixes(t *testing.T) {
	for name, s := range map[string]*ServerHello{"tls12": shTLS12(), "tls13": shTLS13(), "hrr": shHRR(), "ssl3": shSSL3()} {
		recNoPrefixParses(t, name, shMustMarshal(t, s), func(b []byte) error {
			_, err := ParseServerHello(b)
			return err
		})
	}
	recNoPrefixParses(t, "ServerHelloDone", MarshalServerHelloDone(), ParseServerHelloDone)
}

func TestParseServerHelloDoesNotAlias(t *testing.T) {
	msg := shMustMarshal(t, shTLS13())
	m, err := ParseServerHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	want := shTLS13()
	for i := range msg {
		msg[i] = 0xee
	}
	if d := shDiff(m, want); d != "" {
		t.Fatal(d)
	}
	// Appending to one field must not overwrite the next in the shared
	// copy: the session id follows the random.
	_ = append(m.Random, 1, 2, 3)
	_ = append(m.Extensions[0].Data, 1, 2, 3)
	if d := shDiff(m, want); d != "" {
		t.Fatal(d)
	}
}

func TestServerHelloDone(t *testing.T) {
	msg := MarshalServerHelloDone()
	if !bytes.Equal(msg, []byte{14, 0, 0, 0}) {
		t.Fatalf("MarshalServerHelloDone = %x", msg)
	}
	if err := ParseServerHelloDone(msg); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]error{
		"\x0e\x00\x00\x01\x00": ErrMalformed,
		"\x0e\x00\x00\x00\x00": ErrMalformed,
		"\x0e\x00\x00\x01":     ErrTruncated,
		"\x0d\x00\x00\x00":     ErrUnexpected,
		"":                     ErrTruncated,
	} {
		if err := ParseServerHelloDone([]byte(in)); !errors.Is(err, want) {
			t.Errorf("%x: err = %v, want %v", in, err, want)
		}
	}
}

func shFuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{
		"tls12": shMustMarshal(t, shTLS12()),
		"tls13": shMustMarshal(t, shTLS13()),
		"hrr":   shMustMarshal(t, shHRR()),
		"ssl3":  shMustMarshal(t, shSSL3()),
	}
	r := recRand(11)
	for i := range 8 {
		seeds[fmt.Sprintf("random-%d", i)] = shMustMarshal(t, shRandom(r))
	}
	dup := shTLS12()
	dup.Extensions = append(dup.Extensions, ExtendedMasterSecretExtension())
	seeds["duplicate-ems"] = shMustMarshal(t, dup)
	return seeds
}

func FuzzParseServerHello(f *testing.F) {
	recRequireSeeds(f, "FuzzParseServerHello")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseServerHello(data)
		if err != nil {
			recCheckErr(t, err)
			return
		}
		again, err := m.Marshal()
		if err != nil {
			t.Fatalf("parsed hello does not marshal: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("Marshal(Parse(x)) != x\n got %x\nwant %x", again, data)
		}
		m2, err := ParseServerHello(again)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if d := shDiff(m2, m); d != "" {
			t.Fatalf("re-parse differs: %s", d)
		}
		_ = decHelloTLS13(data)
	})
}
