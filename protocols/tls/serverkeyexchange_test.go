package tls

import (
	"bytes"
	"errors"
	"math/big"
	"slices"
	"testing"
)

// skeP returns a value of exactly bitsLen bits; the parser only measures
// dh_p, so it need not be prime.
func skeP(bitsLen int) []byte {
	p := new(big.Int).Lsh(big.NewInt(1), uint(bitsLen-1))
	p.Add(p, big.NewInt(0x17))
	return p.Bytes()
}

func TestServerKeyExchangeECDHERoundTrip(t *testing.T) {
	r := recRand(13)
	for range 500 {
		group := uint16(r.Uint32())
		pub := recBytes(r, 1+r.IntN(255))
		msg := MarshalServerKeyExchangeECDHE(group, pub)
		ske, err := ParseServerKeyExchangeECDHE(msg)
		if err != nil {
			t.Fatal(err)
		}
		if ske.Kind != KeyExchangeECDHE || ske.CurveType != CurveTypeNamedCurve || ske.Group != group ||
			!bytes.Equal(ske.PublicKey, pub) || ske.DHPrime != nil || ske.DHPrimeBits != 0 {
			t.Fatalf("got %+v", ske)
		}
	}
	if MarshalServerKeyExchangeECDHE(0x17, make([]byte, 256)) != nil {
		t.Error("256-byte point marshaled")
	}
}

func TestServerKeyExchangeDHERoundTrip(t *testing.T) {
	r := recRand(14)
	for _, n := range []int{512, 768, 1023, 1024, 1536, 2048, 3072, 4096, 8192} {
		p := skeP(n)
		if r.IntN(2) == 0 {
			p = append([]byte{0, 0}, p...) // leading zeros do not count
		}
		g := []byte{2}
		y := recBytes(r, len(p))
		msg := MarshalServerKeyExchangeDHE(p, g, y)
		ske, err := ParseServerKeyExchangeDHE(msg)
		if err != nil {
			t.Fatal(err)
		}
		if ske.Kind != KeyExchangeDHE || ske.DHPrimeBits != n || !bytes.Equal(ske.DHPrime, p) ||
			!bytes.Equal(ske.DHGenerator, g) || !bytes.Equal(ske.PublicKey, y) || ske.Group != 0 {
			t.Fatalf("%d bits: got %+v (bits %d)", n, ske.Kind, ske.DHPrimeBits)
		}
	}
	if MarshalServerKeyExchangeDHE(make([]byte, 1<<16), []byte{2}, []byte{1}) != nil {
		t.Error("oversized prime marshaled")
	}
	if got := skeBitLen([]byte{0, 0}); got != 0 {
		t.Errorf("skeBitLen(0) = %d", got)
	}
}

func TestServerKeyExchangeKnownAnswer(t *testing.T) {
	// RFC 8422 §5.4 named_curve x25519 with a 1-byte point, then the dummy
	// signature (rsa_pkcs1_sha256, 16 × 0xAA).
	want := []byte{12, 0, 0, 25, 3, 0, 0x1d, 1, 0x42, 4, 1, 0, 16}
	want = append(want, bytes.Repeat([]byte{0xaa}, 16)...)
	if got := MarshalServerKeyExchangeECDHE(0x1d, []byte{0x42}); !bytes.Equal(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	// TLS 1.0 form: no SignatureAndHashAlgorithm, and trailing noise after
	// the params is not checked.
	msg := shBumpLen([]byte{12, 0, 0, 0, 3, 0, 0x17, 2, 4, 9, 0, 3, 1, 2, 3})
	ske, err := ParseServerKeyExchangeECDHE(msg)
	if err != nil || ske.Group != 0x17 || !bytes.Equal(ske.PublicKey, []byte{4, 9}) {
		t.Fatalf("got %+v, %v", ske, err)
	}
	// explicit_prime (RFC 4492 §5.4): prime_p, a, b, base, order,
	// cofactor, then the point.
	explicit := shBumpLen([]byte{12, 0, 0, 0, 1, 1, 0x17, 1, 1, 1, 2, 2, 4, 5, 1, 9, 1, 1, 3, 4, 7, 7, 7})
	ske, err = ParseServerKeyExchangeECDHE(explicit)
	if err != nil || ske.CurveType != CurveTypeExplicitPrime || ske.Group != 0 || !bytes.Equal(ske.PublicKey, []byte{4, 7, 7}) {
		t.Fatalf("explicit_prime: got %+v, %v", ske, err)
	}
	// explicit_char2: reported, not delimited.
	ske, err = ParseServerKeyExchangeECDHE(shBumpLen([]byte{12, 0, 0, 0, 2, 0, 163, 0, 1, 3}))
	if err != nil || ske.CurveType != CurveTypeExplicitChar2 || ske.Group != 0 || ske.PublicKey != nil {
		t.Fatalf("explicit_char2: got %+v, %v", ske, err)
	}
	if KeyExchangeECDHE.String() != "ECDHE" || KeyExchangeDHE.String() != "DHE" || KeyExchangeKind(9).String() != "kex(9)" {
		t.Error("KeyExchangeKind.String")
	}
}

func TestParseServerKeyExchangeErrors(t *testing.T) {
	ec := MarshalServerKeyExchangeECDHE(0x17, []byte{4, 1, 2})
	dh := MarshalServerKeyExchangeDHE(skeP(1024), []byte{2}, []byte{5})
	type parser func([]byte) (*ServerKeyExchange, error)
	tests := map[string]struct {
		parse parser
		msg   []byte
		want  error
	}{
		"ec empty":            {ParseServerKeyExchangeECDHE, nil, ErrTruncated},
		"ec other type":       {ParseServerKeyExchangeECDHE, MarshalServerHelloDone(), ErrUnexpected},
		"ec cut":              {ParseServerKeyExchangeECDHE, ec[:len(ec)-1], ErrTruncated},
		"ec trailing":         {ParseServerKeyExchangeECDHE, append(slices.Clone(ec), 0), ErrMalformed},
		"ec curve type 0":     {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 0, 0, 0x17, 1, 4}), ErrMalformed},
		"ec curve type 4":     {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 4, 0, 0x17, 1, 4}), ErrMalformed},
		"ec empty body":       {ParseServerKeyExchangeECDHE, []byte{12, 0, 0, 0}, ErrMalformed},
		"ec no group":         {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 3, 0}), ErrMalformed},
		"ec empty point":      {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 3, 0, 0x17, 0}), ErrMalformed},
		"ec point overruns":   {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 3, 0, 0x17, 5, 4}), ErrMalformed},
		"ec explicit cut":     {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 1, 1, 0x17, 1, 1}), ErrMalformed},
		"ec explicit empty a": {ParseServerKeyExchangeECDHE, shBumpLen([]byte{12, 0, 0, 0, 1, 1, 0x17, 0, 1, 2}), ErrMalformed},
		"dh empty":            {ParseServerKeyExchangeDHE, nil, ErrTruncated},
		"dh other type":       {ParseServerKeyExchangeDHE, MarshalCertificate(nil), ErrUnexpected},
		"dh cut":              {ParseServerKeyExchangeDHE, dh[:len(dh)-1], ErrTruncated},
		"dh empty p":          {ParseServerKeyExchangeDHE, shBumpLen([]byte{12, 0, 0, 0, 0, 0, 0, 1, 2, 0, 1, 5}), ErrMalformed},
		"dh empty g":          {ParseServerKeyExchangeDHE, shBumpLen([]byte{12, 0, 0, 0, 0, 1, 7, 0, 0, 0, 1, 5}), ErrMalformed},
		"dh empty y":          {ParseServerKeyExchangeDHE, shBumpLen([]byte{12, 0, 0, 0, 0, 1, 7, 0, 1, 2, 0, 0}), ErrMalformed},
		"dh no y":             {ParseServerKeyExchangeDHE, shBumpLen([]byte{12, 0, 0, 0, 0, 1, 7, 0, 1, 2}), ErrMalformed},
		"dh p overruns":       {ParseServerKeyExchangeDHE, shBumpLen([]byte{12, 0, 0, 0, 0, 9, 7}), ErrMalformed},
	}
	for name, tt := range tests {
		_, err := tt.parse(tt.msg)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
			continue
		}
		recCheckErr(t, err)
	}
}

func TestServerKeyExchangePrefixes(t *testing.T) {
	// Without the signature, every strict prefix cuts into the params.
	params := shBumpLen([]byte{12, 0, 0, 0, 3, 0, 0x17, 3, 4, 1, 2})
	recNoPrefixParses(t, "ecdhe", params, func(b []byte) error {
		_, err := ParseServerKeyExchangeECDHE(b)
		return err
	})
	dh := shBumpLen([]byte{12, 0, 0, 0, 0, 2, 0x80, 1, 0, 1, 2, 0, 1, 5})
	recNoPrefixParses(t, "dhe", dh, func(b []byte) error {
		_, err := ParseServerKeyExchangeDHE(b)
		return err
	})
	// With a signature, prefixes still fail: the outer length is checked.
	for _, msg := range [][]byte{MarshalServerKeyExchangeECDHE(0x1d, make([]byte, 32)), MarshalServerKeyExchangeDHE(skeP(2048), []byte{2}, make([]byte, 256))} {
		for i := range len(msg) {
			if _, err := ParseServerKeyExchangeECDHE(msg[:i]); err == nil {
				t.Fatalf("ECDHE prefix %d parses", i)
			}
			if _, err := ParseServerKeyExchangeDHE(msg[:i]); err == nil {
				t.Fatalf("DHE prefix %d parses", i)
			}
		}
	}
}

func TestServerKeyExchangeDoesNotAlias(t *testing.T) {
	p := skeP(1024)
	msg := MarshalServerKeyExchangeDHE(p, []byte{2}, []byte{9, 9})
	ske, err := ParseServerKeyExchangeDHE(msg)
	if err != nil {
		t.Fatal(err)
	}
	clear(msg)
	_ = append(ske.DHPrime, 1, 1, 1, 1)
	if !bytes.Equal(ske.DHPrime, p) || !bytes.Equal(ske.DHGenerator, []byte{2}) || !bytes.Equal(ske.PublicKey, []byte{9, 9}) {
		t.Fatal("parsed values alias the input or each other")
	}
}

func skeFuzzSeeds(t testing.TB) map[string][]byte {
	r := recRand(15)
	return map[string][]byte{
		"ecdhe-x25519":    MarshalServerKeyExchangeECDHE(0x1d, recBytes(r, 32)),
		"ecdhe-p256":      MarshalServerKeyExchangeECDHE(0x17, append([]byte{4}, recBytes(r, 64)...)),
		"dhe-1024":        MarshalServerKeyExchangeDHE(skeP(1024), []byte{2}, recBytes(r, 128)),
		"dhe-512":         MarshalServerKeyExchangeDHE(skeP(512), []byte{5}, recBytes(r, 64)),
		"explicit-prime":  shBumpLen([]byte{12, 0, 0, 0, 1, 1, 0x17, 1, 1, 1, 2, 2, 4, 5, 1, 9, 1, 1, 3, 4, 7, 7, 7}),
		"explicit-char2":  shBumpLen([]byte{12, 0, 0, 0, 2, 0, 163, 0, 1, 3}),
		"tls10-signature": shBumpLen([]byte{12, 0, 0, 0, 3, 0, 0x17, 2, 4, 9, 0, 3, 1, 2, 3}),
	}
}

func FuzzParseServerKeyExchange(f *testing.F) {
	recRequireSeeds(f, "FuzzParseServerKeyExchange")
	f.Fuzz(func(t *testing.T, data []byte) {
		if ske, err := ParseServerKeyExchangeECDHE(data); err != nil {
			recCheckErr(t, err)
		} else if ske.CurveType == CurveTypeNamedCurve {
			again, err := ParseServerKeyExchangeECDHE(MarshalServerKeyExchangeECDHE(ske.Group, ske.PublicKey))
			if err != nil || again.Group != ske.Group || !bytes.Equal(again.PublicKey, ske.PublicKey) {
				t.Fatalf("ECDHE round trip: %+v, %v", again, err)
			}
		}
		if ske, err := ParseServerKeyExchangeDHE(data); err != nil {
			recCheckErr(t, err)
		} else {
			if ske.DHPrimeBits > 8*len(ske.DHPrime) || ske.DHPrimeBits < 0 {
				t.Fatalf("DHPrimeBits %d for %d bytes", ske.DHPrimeBits, len(ske.DHPrime))
			}
			again, err := ParseServerKeyExchangeDHE(MarshalServerKeyExchangeDHE(ske.DHPrime, ske.DHGenerator, ske.PublicKey))
			if err != nil || again.DHPrimeBits != ske.DHPrimeBits || !bytes.Equal(again.PublicKey, ske.PublicKey) {
				t.Fatalf("DHE round trip: %+v, %v", again, err)
			}
		}
	})
}
