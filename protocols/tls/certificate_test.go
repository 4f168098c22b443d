package tls

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"
)

// certReader is a deterministic io.Reader for certificate generation.
type certReader struct{ n byte }

func (r *certReader) Read(p []byte) (int, error) {
	for i := range p {
		r.n++
		p[i] = r.n
	}
	return len(p), nil
}

// certDER returns a deterministic self-signed Ed25519 certificate for cn.
func certDER(t testing.TB, cn string) []byte {
	t.Helper()
	seed := bytes.Repeat([]byte{byte(len(cn))}, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(int64(len(cn)) + 1),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(&certReader{}, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// certChain returns a chain of n distinct certificates.
func certChain(t testing.TB, n int) [][]byte {
	var chain [][]byte
	for i := range n {
		chain = append(chain, certDER(t, fmt.Sprintf("host%d.example", i)))
	}
	return chain
}

func TestCertificateRoundTrip(t *testing.T) {
	r := recRand(5)
	for i := range 300 {
		var certs [][]byte
		if i > 0 {
			for range 1 + r.IntN(5) {
				certs = append(certs, recBytes(r, 1+r.IntN(2000)))
			}
		}
		if i == 1 {
			certs = certChain(t, 3)
		}
		for _, tls13 := range []bool{false, true} {
			var msg []byte
			if tls13 {
				msg = MarshalCertificateTLS13(recBytes(r, r.IntN(3)), certs)
			} else {
				msg = MarshalCertificate(certs)
			}
			got, err := ParseCertificate(msg, tls13)
			if err != nil {
				t.Fatalf("case %d tls13=%v: %v", i, tls13, err)
			}
			if len(got) != len(certs) || got == nil {
				t.Fatalf("case %d tls13=%v: %d certs, want %d", i, tls13, len(got), len(certs))
			}
			for j := range got {
				if !bytes.Equal(got[j], certs[j]) {
					t.Fatalf("case %d tls13=%v: cert %d differs", i, tls13, j)
				}
			}
			if i == 1 {
				if _, err := x509.ParseCertificate(got[0]); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func TestCertificateKnownAnswer(t *testing.T) {
	got := MarshalCertificate([][]byte{{0xaa, 0xbb}, {0xcc}})
	want := []byte{11, 0, 0, 12, 0, 0, 9, 0, 0, 2, 0xaa, 0xbb, 0, 0, 1, 0xcc}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalCertificate = %x, want %x", got, want)
	}
	got = MarshalCertificateTLS13([]byte{7}, [][]byte{{0xaa}})
	want = []byte{11, 0, 0, 11, 1, 7, 0, 0, 6, 0, 0, 1, 0xaa, 0, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("MarshalCertificateTLS13 = %x, want %x", got, want)
	}
	// A TLS 1.3 entry with an OCSP status_request extension.
	msg := shBumpLen([]byte{11, 0, 0, 0, 0, 0, 0, 11, 0, 0, 1, 0xaa, 0, 5, 0, 5, 0, 1, 9})
	certs, err := ParseCertificate(msg, true)
	if err != nil || len(certs) != 1 || !bytes.Equal(certs[0], []byte{0xaa}) {
		t.Fatalf("got %x, %v", certs, err)
	}
}

func TestParseCertificateErrors(t *testing.T) {
	good := MarshalCertificate([][]byte{{1, 2, 3}})
	good13 := MarshalCertificateTLS13(nil, [][]byte{{1, 2, 3}})
	tests := map[string]struct {
		msg   []byte
		tls13 bool
		want  error
	}{
		"empty":               {nil, false, ErrTruncated},
		"server hello":        {shMustMarshal(t, shSSL3()), false, ErrUnexpected},
		"cut":                 {good[:len(good)-1], false, ErrTruncated},
		"trailing":            {append(slices.Clone(good), 0), false, ErrMalformed},
		"empty cert":          {MarshalCertificate([][]byte{{}}), false, ErrMalformed},
		"1.3 form as 1.2":     {good13, false, ErrMalformed},
		"1.2 form as 1.3":     {good, true, ErrMalformed},
		"list overruns":       {shBumpLen([]byte{11, 0, 0, 0, 0, 0, 9, 0, 0, 1, 1}), false, ErrMalformed},
		"bytes after list":    {shBumpLen([]byte{11, 0, 0, 0, 0, 0, 4, 0, 0, 1, 1, 0}), false, ErrMalformed},
		"1.3 missing exts":    {shBumpLen([]byte{11, 0, 0, 0, 0, 0, 0, 4, 0, 0, 1, 1}), true, ErrMalformed},
		"1.3 duplicate ext":   {shBumpLen([]byte{11, 0, 0, 0, 0, 0, 0, 14, 0, 0, 1, 1, 0, 8, 0, 5, 0, 0, 0, 5, 0, 0}), true, ErrMalformed},
		"1.3 context overrun": {shBumpLen([]byte{11, 0, 0, 0, 5, 1}), true, ErrMalformed},
	}
	for name, tt := range tests {
		_, err := ParseCertificate(tt.msg, tt.tls13)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
			continue
		}
		recCheckErr(t, err)
	}
	if certs, err := ParseCertificate(MarshalCertificate(nil), false); err != nil || certs == nil || len(certs) != 0 {
		t.Errorf("empty list: %v, %v", certs, err)
	}
}

func TestCertificatePrefixesAndAliasing(t *testing.T) {
	chain := certChain(t, 2)
	for _, tls13 := range []bool{false, true} {
		msg := MarshalCertificate(chain)
		if tls13 {
			msg = MarshalCertificateTLS13(nil, chain)
		}
		recNoPrefixParses(t, fmt.Sprint("tls13=", tls13), msg, func(b []byte) error {
			_, err := ParseCertificate(b, tls13)
			return err
		})
		certs, err := ParseCertificate(msg, tls13)
		if err != nil {
			t.Fatal(err)
		}
		clear(msg)
		_ = append(certs[0], 1, 2, 3)
		for i := range chain {
			if !bytes.Equal(certs[i], chain[i]) {
				t.Fatalf("tls13=%v: certificate %d aliases the input or its neighbour", tls13, i)
			}
		}
	}
}

func TestMarshalCertificateTooLarge(t *testing.T) {
	if MarshalCertificate([][]byte{make([]byte, 1<<24)}) != nil {
		t.Error("oversized certificate marshaled")
	}
	if MarshalCertificateTLS13(make([]byte, 256), nil) != nil {
		t.Error("oversized context marshaled")
	}
}

func certFuzzSeeds(t testing.TB) map[string][]byte {
	chain := certChain(t, 2)
	r := recRand(9)
	return map[string][]byte{
		"tls12-chain":   MarshalCertificate(chain),
		"tls13-chain":   MarshalCertificateTLS13(nil, chain),
		"tls12-empty":   MarshalCertificate(nil),
		"tls13-context": MarshalCertificateTLS13([]byte{1, 2, 3}, [][]byte{recBytes(r, 40)}),
		"tls12-small":   MarshalCertificate([][]byte{recBytes(r, 30), recBytes(r, 20), recBytes(r, 10)}),
		"tls13-ocsp":    shBumpLen([]byte{11, 0, 0, 0, 0, 0, 0, 11, 0, 0, 1, 0xaa, 0, 5, 0, 5, 0, 1, 9}),
	}
}

func FuzzParseCertificate(f *testing.F) {
	recRequireSeeds(f, "FuzzParseCertificate")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tls13 := range []bool{false, true} {
			certs, err := ParseCertificate(data, tls13)
			if err != nil {
				recCheckErr(t, err)
				continue
			}
			if tls13 {
				// The context and extensions are dropped: re-marshal
				// without them and compare the certificates.
				again, err := ParseCertificate(MarshalCertificateTLS13(nil, certs), true)
				if err != nil || len(again) != len(certs) {
					t.Fatalf("TLS 1.3 re-parse: %d certs, %v", len(again), err)
				}
				for i := range certs {
					if !bytes.Equal(again[i], certs[i]) {
						t.Fatalf("TLS 1.3 re-parse: certificate %d differs", i)
					}
				}
				continue
			}
			if again := MarshalCertificate(certs); !bytes.Equal(again, data) {
				t.Fatalf("MarshalCertificate(ParseCertificate(x)) != x")
			}
		}
	})
}
