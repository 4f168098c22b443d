package tls

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// The seven SSL 2.0 cipher kinds (draft-hickman-netscape-ssl-00 Appendix
// A), as OpenSSL's sslv2 client offered them.
var v2Specs = []uint32{0x0700c0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080}

func v2MustBuild(t testing.TB, v Version, specs []uint32, sid, challenge []byte) []byte {
	t.Helper()
	rec, err := BuildSSLv2ClientHello(v, specs, sid, challenge)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func v2MustMarshalSH(t testing.TB, h *SSLv2ServerHello) []byte {
	t.Helper()
	rec, err := MarshalSSLv2ServerHello(h)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// v2Payload strips the record header.
func v2Payload(t testing.TB, rec []byte) []byte {
	t.Helper()
	payload, n, err := ParseSSLv2Record(rec)
	if err != nil || n != len(rec) {
		t.Fatalf("record: n=%d/%d, %v", n, len(rec), err)
	}
	return payload
}

func TestSSLv2ClientHelloKnownAnswer(t *testing.T) {
	// An SSLv2-compatible TLS 1.0 hello (RFC 5246 Appendix E.2) offering
	// SSL_CK_RC4_128_WITH_MD5 and TLS_RSA_WITH_AES_128_CBC_SHA.
	challenge := bytes.Repeat([]byte{0xcc}, 16)
	want := []byte{0x80, 31, 1, 3, 1, 0, 6, 0, 0, 0, 16, 0x01, 0x00, 0x80, 0x00, 0x00, 0x2f}
	want = append(want, challenge...)
	got := v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, challenge)
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	m, err := ParseSSLv2ClientHello(v2Payload(t, got))
	if err != nil {
		t.Fatal(err)
	}
	if !m.SSLv2 || m.RecordVersion != VersionSSL20 || m.Version != VersionTLS10 ||
		!slices.Equal(m.SSLv2CipherSpecs, []uint32{0x010080, 0x00002f}) || !slices.Equal(m.CipherSuites, []uint16{0x002f}) ||
		len(m.SessionID) != 0 || !bytes.Equal(m.Random, challenge) || m.HasExtensions || m.Extensions != nil ||
		m.CompressionMethods != nil || m.SupportedVersions != nil {
		t.Fatalf("got %+v", m)
	}
}

func TestSSLv2ClientHelloRoundTrip(t *testing.T) {
	r := recRand(21)
	for i := range 1000 {
		v := []Version{VersionSSL20, VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12}[r.IntN(5)]
		var specs []uint32
		for range 1 + r.IntN(60) {
			if r.IntN(2) == 0 {
				specs = append(specs, uint32(r.Uint32()&0xffff))
			} else {
				specs = append(specs, r.Uint32()&0xffffff)
			}
		}
		if i == 0 {
			v, specs = VersionSSL20, v2Specs
		}
		sid := recBytes(r, []int{0, 16, 32}[r.IntN(3)])
		ch := recBytes(r, 16+r.IntN(17))
		rec := v2MustBuild(t, v, specs, sid, ch)
		if !LooksLikeSSLv2(rec) {
			t.Fatalf("case %d: not recognised", i)
		}
		m, err := ParseSSLv2ClientHello(v2Payload(t, rec))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		var suites []uint16
		for _, s := range specs {
			if s>>16 == 0 {
				suites = append(suites, uint16(s))
			}
		}
		if m.Version != v || !slices.Equal(m.SSLv2CipherSpecs, specs) || !slices.Equal(m.CipherSuites, suites) ||
			!bytes.Equal(m.SessionID, sid) || !bytes.Equal(m.Random, ch) {
			t.Fatalf("case %d: got %+v", i, m)
		}
		again := v2MustBuild(t, m.Version, m.SSLv2CipherSpecs, m.SessionID, m.Random)
		if !bytes.Equal(again, rec) {
			t.Fatalf("case %d: rebuild differs", i)
		}
	}
}

func TestBuildSSLv2ClientHelloErrors(t *testing.T) {
	ch := make([]byte, 16)
	tests := map[string]struct {
		specs []uint32
		sid   []byte
		ch    []byte
		want  error
	}{
		"no specs":        {nil, nil, ch, ErrMalformed},
		"spec too big":    {[]uint32{1 << 24}, nil, ch, ErrMalformed},
		"session id 33":   {[]uint32{1}, make([]byte, 33), ch, ErrMalformed},
		"challenge 15":    {[]uint32{1}, nil, make([]byte, 15), ErrMalformed},
		"challenge 33":    {[]uint32{1}, nil, make([]byte, 33), ErrMalformed},
		"record too long": {make([]uint32, 11000), nil, ch, ErrTooLarge},
	}
	for name, tt := range tests {
		if _, err := BuildSSLv2ClientHello(VersionTLS10, tt.specs, tt.sid, tt.ch); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
	// The largest hello that fits.
	n := (MaxSSLv2RecordPayload - 9 - 32) / 3
	if _, err := BuildSSLv2ClientHello(VersionTLS10, make([]uint32, n), nil, make([]byte, 32)); err != nil {
		t.Errorf("largest hello: %v", err)
	}
}

func TestParseSSLv2ClientHelloErrors(t *testing.T) {
	good := v2Payload(t, v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, make([]byte, 16)))
	mod := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := map[string]struct {
		in   []byte
		want error
	}{
		"empty":          {nil, ErrTruncated},
		"server hello":   {mod(func(b []byte) []byte { b[0] = 4; return b }), ErrUnexpected},
		"cut":            {good[:len(good)-1], ErrTruncated},
		"header cut":     {good[:8], ErrTruncated},
		"trailing":       {append(slices.Clone(good), 0), ErrMalformed},
		"specs zero":     {mod(func(b []byte) []byte { b[4] = 0; return b }), ErrMalformed},
		"specs 5":        {mod(func(b []byte) []byte { b[4] = 5; return b }), ErrMalformed},
		"session id 33":  {mod(func(b []byte) []byte { b[6] = 33; return b }), ErrMalformed},
		"challenge 15":   {mod(func(b []byte) []byte { b[8] = 15; return b }), ErrMalformed},
		"challenge 33":   {mod(func(b []byte) []byte { b[8] = 33; return b }), ErrMalformed},
		"challenge long": {mod(func(b []byte) []byte { b[8] = 17; return b }), ErrTruncated},
	}
	for name, tt := range tests {
		_, err := ParseSSLv2ClientHello(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
			continue
		}
		recCheckErr(t, err)
	}
	recNoPrefixParses(t, "SSLv2 CLIENT-HELLO", good, func(b []byte) error {
		_, err := ParseSSLv2ClientHello(b)
		return err
	})
	// Nothing aliases the input.
	in := slices.Clone(good)
	m, err := ParseSSLv2ClientHello(in)
	if err != nil {
		t.Fatal(err)
	}
	clear(in)
	if !bytes.Equal(m.Random, make([]byte, 16)) || m.SSLv2CipherSpecs[0] != 0x010080 {
		t.Fatal("parsed hello aliases its input")
	}
}

// v2RandomServerHello returns a random valid SERVER-HELLO.
func v2RandomServerHello(i int) *SSLv2ServerHello {
	r := recRand(uint64(1000 + i))
	h := &SSLv2ServerHello{
		SessionIDHit:    r.IntN(4) == 0,
		CertificateType: SSLv2CertificateTypeX509,
		Version:         VersionSSL20,
		ConnectionID:    recBytes(r, 16+r.IntN(17)),
	}
	if !h.SessionIDHit {
		h.Certificate = recBytes(r, r.IntN(3000))
		for range r.IntN(8) {
			h.CipherSpecs = append(h.CipherSpecs, r.Uint32()&0xffffff)
		}
	} else {
		h.CertificateType = 0
	}
	return h
}

func TestSSLv2ServerHelloRoundTrip(t *testing.T) {
	for i := range 500 {
		want := v2RandomServerHello(i)
		rec := v2MustMarshalSH(t, want)
		if !LooksLikeSSLv2(rec) {
			t.Fatalf("case %d: not recognised", i)
		}
		got, err := ParseSSLv2ServerHello(v2Payload(t, rec))
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got.SessionIDHit != want.SessionIDHit || got.CertificateType != want.CertificateType || got.Version != want.Version ||
			!bytes.Equal(got.Certificate, want.Certificate) || !slices.Equal(got.CipherSpecs, want.CipherSpecs) ||
			!bytes.Equal(got.ConnectionID, want.ConnectionID) {
			t.Fatalf("case %d: got %+v", i, got)
		}
	}
}

func TestSSLv2ServerHelloKnownAnswer(t *testing.T) {
	h := &SSLv2ServerHello{CertificateType: 1, Version: VersionSSL20, Certificate: []byte{0x30, 0x00},
		CipherSpecs: []uint32{0x010080}, ConnectionID: bytes.Repeat([]byte{0xdd}, 16)}
	want := []byte{0x80, 32, 4, 0, 1, 0, 2, 0, 2, 0, 3, 0, 16, 0x30, 0x00, 0x01, 0x00, 0x80}
	want = append(want, h.ConnectionID...)
	if got := v2MustMarshalSH(t, h); !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestSSLv2ServerHelloErrors(t *testing.T) {
	good := v2Payload(t, v2MustMarshalSH(t, &SSLv2ServerHello{CertificateType: 1, Version: VersionSSL20,
		Certificate: []byte{0x30, 0x00}, CipherSpecs: []uint32{0x010080}, ConnectionID: make([]byte, 16)}))
	mod := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := map[string]struct {
		in   []byte
		want error
	}{
		"empty":          {nil, ErrTruncated},
		"client hello":   {mod(func(b []byte) []byte { b[0] = 1; return b }), ErrUnexpected},
		"error message":  {[]byte{0, 0, 1}, ErrUnexpected},
		"header cut":     {good[:10], ErrTruncated},
		"cut":            {good[:len(good)-1], ErrTruncated},
		"trailing":       {append(slices.Clone(good), 0), ErrMalformed},
		"specs not ×3":   {mod(func(b []byte) []byte { b[8]++; return b }), ErrMalformed},
		"conn id 15":     {mod(func(b []byte) []byte { b[9], b[10] = 0, 15; return b }), ErrMalformed},
		"conn id 33":     {mod(func(b []byte) []byte { b[9], b[10] = 0, 33; return b }), ErrMalformed},
		"cert overruns":  {mod(func(b []byte) []byte { b[5] = 0xff; return b }), ErrTruncated},
		"conn id longer": {mod(func(b []byte) []byte { b[10]++; return b }), ErrTruncated},
	}
	for name, tt := range tests {
		_, err := ParseSSLv2ServerHello(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
			continue
		}
		recCheckErr(t, err)
	}
	recNoPrefixParses(t, "SSLv2 SERVER-HELLO", good, func(b []byte) error {
		_, err := ParseSSLv2ServerHello(b)
		return err
	})
	for name, h := range map[string]*SSLv2ServerHello{
		"conn id 15":  {ConnectionID: make([]byte, 15)},
		"conn id 33":  {ConnectionID: make([]byte, 33)},
		"spec 2^24":   {ConnectionID: make([]byte, 16), CipherSpecs: []uint32{1 << 24}},
		"cert 32 KiB": {ConnectionID: make([]byte, 16), Certificate: make([]byte, 32760)},
	} {
		if _, err := MarshalSSLv2ServerHello(h); err == nil {
			t.Errorf("%s: marshaled", name)
		}
	}
}

func TestSSLv2Error(t *testing.T) {
	for _, c := range []SSLv2ErrorCode{SSLv2ErrNoCipher, SSLv2ErrNoCertificate, SSLv2ErrBadCertificate, SSLv2ErrUnsupportedCertificateType, 0x1234} {
		rec := MarshalSSLv2Error(c)
		got, err := ParseSSLv2Error(v2Payload(t, rec))
		if err != nil || got != c {
			t.Errorf("%v: got %v, %v", c, got, err)
		}
	}
	if !bytes.Equal(MarshalSSLv2Error(SSLv2ErrNoCipher), []byte{0x80, 3, 0, 0, 1}) {
		t.Errorf("MarshalSSLv2Error = %x", MarshalSSLv2Error(SSLv2ErrNoCipher))
	}
	recNoPrefixParses(t, "SSLv2 ERROR", []byte{0, 0, 1}, func(b []byte) error {
		_, err := ParseSSLv2Error(b)
		return err
	})
	names := map[SSLv2ErrorCode]string{1: "NO-CIPHER-ERROR", 2: "NO-CERTIFICATE-ERROR", 4: "BAD-CERTIFICATE-ERROR",
		6: "UNSUPPORTED-CERTIFICATE-TYPE-ERROR", 9: "0x0009"}
	for c, n := range names {
		if c.String() != n {
			t.Errorf("%d.String() = %q", c, c.String())
		}
	}
	for in, want := range map[string]error{"": ErrTruncated, "\x00\x00": ErrTruncated, "\x00\x00\x01\x00": ErrMalformed, "\x04\x00\x01": ErrUnexpected} {
		if _, err := ParseSSLv2Error([]byte(in)); !errors.Is(err, want) {
			t.Errorf("%x: err = %v, want %v", in, err, want)
		}
	}
}

func v2CHFuzzSeeds(t testing.TB) map[string][]byte {
	r := recRand(23)
	seeds := map[string][]byte{
		"sslv2":        v2Payload(t, v2MustBuild(t, VersionSSL20, v2Specs, nil, recBytes(r, 16))),
		"compat-tls10": v2Payload(t, v2MustBuild(t, VersionTLS10, append(slices.Clone(v2Specs), 0x00002f, 0x000035, 0x0000ff), nil, recBytes(r, 32))),
		"compat-ssl3":  v2Payload(t, v2MustBuild(t, VersionSSL30, []uint32{0x00000a, 0x000005}, recBytes(r, 16), recBytes(r, 16))),
		"compat-tls12": v2Payload(t, v2MustBuild(t, VersionTLS12, []uint32{0x00003c}, nil, recBytes(r, 32))),
		"session-id":   v2Payload(t, v2MustBuild(t, VersionSSL20, v2Specs[:2], recBytes(r, 32), recBytes(r, 20))),
	}
	return seeds
}

func FuzzParseSSLv2ClientHello(f *testing.F) {
	recRequireSeeds(f, "FuzzParseSSLv2ClientHello")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseSSLv2ClientHello(data)
		if err != nil {
			recCheckErr(t, err)
			return
		}
		rec, err := BuildSSLv2ClientHello(m.Version, m.SSLv2CipherSpecs, m.SessionID, m.Random)
		if err != nil {
			t.Fatalf("parsed hello does not build: %v", err)
		}
		if payload, _, err := ParseSSLv2Record(rec); err != nil || !bytes.Equal(payload, data) {
			t.Fatalf("Build(Parse(x)) != x: %v", err)
		}
		if !m.SSLv2 || m.RecordVersion != VersionSSL20 || len(m.CipherSuites) > len(m.SSLv2CipherSpecs) {
			t.Fatalf("got %+v", m)
		}
	})
}

func v2SHFuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	for i := range 5 {
		seeds[fmt.Sprintf("random-%d", i)] = v2Payload(t, v2MustMarshalSH(t, v2RandomServerHello(i)))
	}
	seeds["error"] = v2Payload(t, MarshalSSLv2Error(SSLv2ErrNoCipher))
	return seeds
}

func FuzzParseSSLv2ServerHello(f *testing.F) {
	recRequireSeeds(f, "FuzzParseSSLv2ServerHello")
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseSSLv2Error(data); err != nil {
			recCheckErr(t, err)
		}
		h, err := ParseSSLv2ServerHello(data)
		if err != nil {
			recCheckErr(t, err)
			return
		}
		rec, err := MarshalSSLv2ServerHello(h)
		if err != nil {
			if len(data) > MaxSSLv2RecordPayload {
				return
			}
			t.Fatalf("parsed hello does not marshal: %v", err)
		}
		payload, _, err := ParseSSLv2Record(rec)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSSLv2ServerHello(payload)
		if err != nil || again.SessionIDHit != h.SessionIDHit || !bytes.Equal(again.Certificate, h.Certificate) ||
			!slices.Equal(again.CipherSpecs, h.CipherSpecs) || !bytes.Equal(again.ConnectionID, h.ConnectionID) {
			t.Fatalf("re-parse differs: %v", err)
		}
	})
}
