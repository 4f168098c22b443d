package tls

import (
	"bytes"
	"crypto/ecdh"
	"crypto/mlkem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
)

func TestKeyShareSizes(t *testing.T) {
	want := map[uint16]int{
		GroupX25519: 32, GroupP256: 65, GroupP384: 97, GroupP521: 133,
		GroupX25519MLKEM768: 1216, GroupSecP256r1MLKEM768: 1249, GroupSecP384r1MLKEM1024: 1665,
		GroupFFDHE2048: 256, GroupFFDHE3072: 384, GroupFFDHE4096: 512, GroupFFDHE6144: 768, GroupFFDHE8192: 1024,
	}
	for g, n := range want {
		if testing.Short() && (g == GroupFFDHE6144 || g == GroupFFDHE8192) {
			continue
		}
		ks, err := GenerateKeyShare(g, chTestReader(2))
		if err != nil {
			t.Fatalf("group %#04x: %v", g, err)
		}
		if ks.Group != g || len(ks.Data) != n {
			t.Errorf("group %#04x: share of %d bytes for group %#04x, want %d", g, len(ks.Data), ks.Group, n)
		}
	}
}

func TestKeyShareDeterministic(t *testing.T) {
	for _, g := range []uint16{GroupX25519, GroupP256, GroupP384, GroupP521, GroupFFDHE2048,
		GroupX25519MLKEM768, GroupSecP256r1MLKEM768, GroupSecP384r1MLKEM1024} {
		a, err1 := GenerateKeyShare(g, chTestReader(3))
		b, err2 := GenerateKeyShare(g, chTestReader(3))
		c, err3 := GenerateKeyShare(g, chTestReader(4))
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Data, b.Data) {
			t.Errorf("group %#04x: same reader, different shares", g)
		}
		if bytes.Equal(a.Data, c.Data) {
			t.Errorf("group %#04x: different readers, same share", g)
		}
	}
}

// TestKeyShareValid checks that every share is a valid public value and
// that the private key kept with it completes an exchange with a peer.
func TestKeyShareValid(t *testing.T) {
	r := chTestReader(5)
	peerECDH := func(t *testing.T, curve ecdh.Curve, priv *ecdh.PrivateKey, pub []byte) {
		t.Helper()
		pk, err := curve.NewPublicKey(pub)
		if err != nil {
			t.Fatalf("share is not a valid point: %v", err)
		}
		if !bytes.Equal(priv.PublicKey().Bytes(), pub) {
			t.Fatal("private key does not match the share")
		}
		peer, err := curve.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		s1, err1 := peer.ECDH(pk)
		s2, err2 := priv.ECDH(peer.PublicKey())
		if err1 != nil || err2 != nil || !bytes.Equal(s1, s2) {
			t.Fatalf("ECDH mismatch: %v %v", err1, err2)
		}
	}
	peerKEM768 := func(t *testing.T, dk *mlkem.DecapsulationKey768, ek []byte) {
		t.Helper()
		k, err := mlkem.NewEncapsulationKey768(ek)
		if err != nil {
			t.Fatalf("ML-KEM-768 part rejected: %v", err)
		}
		shared, ct := k.Encapsulate()
		got, err := dk.Decapsulate(ct)
		if err != nil || !bytes.Equal(got, shared) {
			t.Fatalf("ML-KEM-768 round trip failed: %v", err)
		}
	}
	for _, c := range []struct {
		group uint16
		curve ecdh.Curve
	}{{GroupX25519, ecdh.X25519()}, {GroupP256, ecdh.P256()}, {GroupP384, ecdh.P384()}, {GroupP521, ecdh.P521()}} {
		t.Run(fmt.Sprintf("%#04x", c.group), func(t *testing.T) {
			ks, err := GenerateKeyShare(c.group, r)
			if err != nil {
				t.Fatal(err)
			}
			peerECDH(t, c.curve, ks.ecdhKey, ks.Data)
		})
	}
	t.Run("X25519MLKEM768", func(t *testing.T) {
		ks, err := GenerateKeyShare(GroupX25519MLKEM768, r)
		if err != nil {
			t.Fatal(err)
		}
		peerKEM768(t, ks.mlkem768, ks.Data[:mlkem.EncapsulationKeySize768])
		peerECDH(t, ecdh.X25519(), ks.ecdhKey, ks.Data[mlkem.EncapsulationKeySize768:])
	})
	t.Run("SecP256r1MLKEM768", func(t *testing.T) {
		ks, err := GenerateKeyShare(GroupSecP256r1MLKEM768, r)
		if err != nil {
			t.Fatal(err)
		}
		peerECDH(t, ecdh.P256(), ks.ecdhKey, ks.Data[:65])
		peerKEM768(t, ks.mlkem768, ks.Data[65:])
	})
	t.Run("SecP384r1MLKEM1024", func(t *testing.T) {
		ks, err := GenerateKeyShare(GroupSecP384r1MLKEM1024, r)
		if err != nil {
			t.Fatal(err)
		}
		peerECDH(t, ecdh.P384(), ks.ecdhKey, ks.Data[:97])
		k, err := mlkem.NewEncapsulationKey1024(ks.Data[97:])
		if err != nil {
			t.Fatalf("ML-KEM-1024 part rejected: %v", err)
		}
		shared, ct := k.Encapsulate()
		if got, err := ks.mlkem1024.Decapsulate(ct); err != nil || !bytes.Equal(got, shared) {
			t.Fatalf("ML-KEM-1024 round trip failed: %v", err)
		}
	})
	t.Run("ffdhe2048", func(t *testing.T) {
		ks, err := GenerateKeyShare(GroupFFDHE2048, r)
		if err != nil {
			t.Fatal(err)
		}
		p := ksFFDHEPrimes()[GroupFFDHE2048]
		y := new(big.Int).SetBytes(ks.Data)
		if y.Cmp(big.NewInt(1)) <= 0 || y.Cmp(new(big.Int).Sub(p, big.NewInt(1))) >= 0 {
			t.Fatal("Y out of (1, p-1)")
		}
		if new(big.Int).Exp(big.NewInt(2), ks.dhKey, p).Cmp(y) != 0 {
			t.Fatal("Y != 2^x mod p")
		}
		if ks.dhKey.BitLen() != 8*ksFFDHEExponentBytes {
			t.Fatalf("exponent of %d bits", ks.dhKey.BitLen())
		}
	})
}

// TestKeyShareFFDHEPrimes checks the primes computed from RFC 7919's formula
// against the RFC's published hex (ffdhe2048 in full; the others' ends) and
// that each is a safe prime.
func TestKeyShareFFDHEPrimes(t *testing.T) {
	const ffdhe2048 = "" +
		"FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1" +
		"D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9" +
		"7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD6561" +
		"2433F51F5F066ED0856365553DED1AF3B557135E7F57C935" +
		"984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE735" +
		"30ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB" +
		"B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB19" +
		"0B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61" +
		"9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD73" +
		"3BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA" +
		"886B423861285C97FFFFFFFFFFFFFFFF"
	primes := ksFFDHEPrimes()
	if got := strings.ToUpper(primes[GroupFFDHE2048].Text(16)); got != ffdhe2048 {
		t.Errorf("ffdhe2048:\n got %s\nwant %s", got, ffdhe2048)
	}
	for g, bits := range map[uint16]int{GroupFFDHE2048: 2048, GroupFFDHE3072: 3072, GroupFFDHE4096: 4096, GroupFFDHE6144: 6144, GroupFFDHE8192: 8192} {
		p := primes[g]
		hexp := strings.ToUpper(p.Text(16))
		if p.BitLen() != bits || !strings.HasPrefix(hexp, "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1") ||
			!strings.HasSuffix(hexp, "FFFFFFFFFFFFFFFF") {
			t.Errorf("group %#04x: %d-bit prime %s…%s", g, p.BitLen(), hexp[:48], hexp[len(hexp)-16:])
		}
		if testing.Short() && bits > 3072 {
			continue
		}
		q := new(big.Int).Rsh(p, 1)
		if !p.ProbablyPrime(0) || !q.ProbablyPrime(0) {
			t.Errorf("group %#04x: p is not a safe prime; the offset X is wrong", g)
		}
	}
}

type ksConstReader byte

func (r ksConstReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestKeyShareErrors(t *testing.T) {
	for _, g := range []uint16{0x001e /* x448 */, 0x0a0a, 0x0015, 0x0000} {
		if _, err := GenerateKeyShare(g, chTestReader(6)); err == nil {
			t.Errorf("group %#04x: no error", g)
		}
	}
	for _, g := range []uint16{GroupX25519, GroupP256, GroupFFDHE2048, GroupX25519MLKEM768, GroupSecP384r1MLKEM1024} {
		if _, err := GenerateKeyShare(g, strings.NewReader("short")); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("group %#04x with a short reader: %v", g, err)
		}
	}
	// A source that only yields scalars out of range fails after the retries
	// instead of looping.
	for _, g := range []uint16{GroupP256, GroupP384} {
		if _, err := GenerateKeyShare(g, ksConstReader(0xff)); err == nil {
			t.Errorf("group %#04x: scalar 0xff…ff accepted", g)
		}
		if _, err := GenerateKeyShare(g, ksConstReader(0)); err == nil {
			t.Errorf("group %#04x: scalar 0 accepted", g)
		}
	}
	// P-521's scalar is masked to 521 bits, so 0xff…ff becomes 2^521-1,
	// still above the order.
	if _, err := GenerateKeyShare(GroupP521, ksConstReader(0xff)); err == nil {
		t.Error("P-521: scalar 2^521-1 accepted")
	}
}

func TestFakeKeyShare(t *testing.T) {
	a, err := FakeKeyShare(0x0a0a, 1, chTestReader(8))
	if err != nil || a.Group != 0x0a0a || len(a.Data) != 1 || a.ecdhKey != nil {
		t.Fatalf("%+v, %v", a, err)
	}
	b, _ := FakeKeyShare(0x001e, 56, chTestReader(8))
	c, _ := FakeKeyShare(0x001e, 56, chTestReader(8))
	if len(b.Data) != 56 || !bytes.Equal(b.Data, c.Data) {
		t.Error("FakeKeyShare not deterministic")
	}
	if z, err := FakeKeyShare(0x001e, 0, chTestReader(8)); err != nil || len(z.Data) != 0 {
		t.Errorf("empty fake share: %+v, %v", z, err)
	}
	for _, n := range []int{-1, 1 << 16} {
		if _, err := FakeKeyShare(1, n, chTestReader(8)); err == nil {
			t.Errorf("length %d accepted", n)
		}
	}
	if _, err := FakeKeyShare(1, 10, strings.NewReader("short")); err == nil {
		t.Error("short reader accepted")
	}
}
