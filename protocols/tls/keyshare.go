package tls

import (
	"crypto/ecdh"
	"crypto/mlkem"
	"fmt"
	"io"
	"math/big"
	"sync"
)

// Named groups (RFC 8446 §4.2.7, RFC 7919 §2, draft-ietf-tls-ecdhe-mlkem)
// for which GenerateKeyShare makes real key shares. The full registry, with
// names for display, lives in package ciphers.
const (
	GroupP256               uint16 = 0x0017 // secp256r1
	GroupP384               uint16 = 0x0018 // secp384r1
	GroupP521               uint16 = 0x0019 // secp521r1
	GroupX25519             uint16 = 0x001D // x25519
	GroupFFDHE2048          uint16 = 0x0100 // ffdhe2048
	GroupFFDHE3072          uint16 = 0x0101 // ffdhe3072
	GroupFFDHE4096          uint16 = 0x0102 // ffdhe4096
	GroupFFDHE6144          uint16 = 0x0103 // ffdhe6144
	GroupFFDHE8192          uint16 = 0x0104 // ffdhe8192
	GroupSecP256r1MLKEM768  uint16 = 0x11EB // SecP256r1MLKEM768
	GroupX25519MLKEM768     uint16 = 0x11EC // X25519MLKEM768
	GroupSecP384r1MLKEM1024 uint16 = 0x11ED // SecP384r1MLKEM1024
)

// KeyShare is one KeyShareEntry of a ClientHello's key_share extension
// (RFC 8446 §4.2.8): a group and its key_exchange bytes. Shares made by
// GenerateKeyShare also hold the private key (unexported), so that a later
// stage can complete the key exchange.
type KeyShare struct {
	Group uint16
	Data  []byte // key_exchange, as sent

	ecdhKey   *ecdh.PrivateKey            // X25519, NIST curves, classical half of hybrids
	mlkem768  *mlkem.DecapsulationKey768  // X25519MLKEM768, SecP256r1MLKEM768
	mlkem1024 *mlkem.DecapsulationKey1024 // SecP384r1MLKEM1024
	dhKey     *big.Int                    // ffdhe private exponent
}

// ksMaxTries bounds the rejection sampling of NIST scalars: with a working
// random source a retry happens with probability below 2^-32.
const ksMaxTries = 64

// GenerateKeyShare returns a real key share for group, drawing every random
// byte from rand, so that a deterministic reader gives a deterministic
// share (crypto/ecdh's and crypto/mlkem's own key generation ignore custom
// readers since Go 1.26, so private keys are derived here from rand's bytes).
// Pass crypto/rand.Reader in production.
//
// key_exchange encodings:
//   - x25519: the 32-byte u-coordinate (RFC 8446 §4.2.8.2, RFC 7748);
//   - secp256r1/384r1/521r1: the uncompressed point, 65/97/133 bytes
//     (RFC 8446 §4.2.8.2);
//   - ffdhe2048…8192: g^x mod p left-padded to the size of p (RFC 8446
//     §4.2.8.1) with the RFC 7919 primes and a 512-bit exponent;
//   - X25519MLKEM768: ML-KEM-768 encapsulation key (1184) || x25519 (32);
//   - SecP256r1MLKEM768: P-256 point (65) || ML-KEM-768 key (1184);
//   - SecP384r1MLKEM1024: P-384 point (97) || ML-KEM-1024 key (1568)
//     (draft-ietf-tls-ecdhe-mlkem §3).
//
// Any other group is an error; use FakeKeyShare for those.
func GenerateKeyShare(group uint16, rand io.Reader) (KeyShare, error) {
	ks := KeyShare{Group: group}
	var err error
	switch group {
	case GroupX25519:
		ks.ecdhKey, err = ksECDHKey(ecdh.X25519(), rand)
		if err == nil {
			ks.Data = ks.ecdhKey.PublicKey().Bytes()
		}
	case GroupP256, GroupP384, GroupP521:
		ks.ecdhKey, err = ksECDHKey(ksCurve(group), rand)
		if err == nil {
			ks.Data = ks.ecdhKey.PublicKey().Bytes()
		}
	case GroupFFDHE2048, GroupFFDHE3072, GroupFFDHE4096, GroupFFDHE6144, GroupFFDHE8192:
		ks.dhKey, ks.Data, err = ksFFDHE(ksFFDHEPrimes()[group], rand)
	case GroupX25519MLKEM768:
		if ks.mlkem768, err = ksMLKEM768(rand); err != nil {
			break
		}
		if ks.ecdhKey, err = ksECDHKey(ecdh.X25519(), rand); err != nil {
			break
		}
		ks.Data = append(ks.mlkem768.EncapsulationKey().Bytes(), ks.ecdhKey.PublicKey().Bytes()...)
	case GroupSecP256r1MLKEM768:
		if ks.ecdhKey, err = ksECDHKey(ecdh.P256(), rand); err != nil {
			break
		}
		if ks.mlkem768, err = ksMLKEM768(rand); err != nil {
			break
		}
		ks.Data = append(ks.ecdhKey.PublicKey().Bytes(), ks.mlkem768.EncapsulationKey().Bytes()...)
	case GroupSecP384r1MLKEM1024:
		if ks.ecdhKey, err = ksECDHKey(ecdh.P384(), rand); err != nil {
			break
		}
		seed := make([]byte, mlkem.SeedSize)
		if _, err = io.ReadFull(rand, seed); err != nil {
			break
		}
		if ks.mlkem1024, err = mlkem.NewDecapsulationKey1024(seed); err != nil {
			break
		}
		ks.Data = append(ks.ecdhKey.PublicKey().Bytes(), ks.mlkem1024.EncapsulationKey().Bytes()...)
	default:
		return KeyShare{}, fmt.Errorf("tls: key share: group 0x%04X is not supported, use FakeKeyShare", group)
	}
	if err != nil {
		return KeyShare{}, fmt.Errorf("tls: key share for group 0x%04X: %w", group, err)
	}
	return ks, nil
}

// FakeKeyShare returns a key share for group whose key_exchange is n random
// bytes from rand, with no private key. It is for groups GenerateKeyShare
// cannot make (unregistered code points, GREASE per RFC 8701 §2, legacy
// curves): a server that supports such a group would fail the handshake
// later, but one that does not will answer with a HelloRetryRequest or
// ignore the share, which is what a scan probes for.
func FakeKeyShare(group uint16, n int, rand io.Reader) (KeyShare, error) {
	if n < 0 || n > extMaxData {
		return KeyShare{}, fmt.Errorf("tls: fake key share: length %d out of range 0..%d", n, extMaxData)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(rand, data); err != nil {
		return KeyShare{}, fmt.Errorf("tls: fake key share: %w", err)
	}
	return KeyShare{Group: group, Data: data}, nil
}

func ksCurve(group uint16) ecdh.Curve {
	switch group {
	case GroupP384:
		return ecdh.P384()
	case GroupP521:
		return ecdh.P521()
	}
	return ecdh.P256()
}

// ksECDHKey derives a private key from rand's bytes. An X25519 scalar is any
// 32 bytes (RFC 7748 §5 clamps it when used). A NIST scalar is the big-endian
// integer of the curve's scalar size, rejected and redrawn when it is 0 or
// not below the order (SEC 1 v2 §3.2.1 by rejection sampling); P-521's 66
// bytes are first masked to 521 bits so that rejection stays rare.
func ksECDHKey(curve ecdh.Curve, rand io.Reader) (*ecdh.PrivateKey, error) {
	size, mask := 32, byte(0xff)
	switch curve {
	case ecdh.P384():
		size = 48
	case ecdh.P521():
		size, mask = 66, 0x01
	}
	scalar := make([]byte, size)
	for range ksMaxTries {
		if _, err := io.ReadFull(rand, scalar); err != nil {
			return nil, err
		}
		scalar[0] &= mask
		if k, err := curve.NewPrivateKey(scalar); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no valid scalar in %d draws from the random source", ksMaxTries)
}

// ksMLKEM768 derives an ML-KEM-768 decapsulation key from a 64-byte seed
// (d || z, FIPS 203 §7.1) read from rand.
func ksMLKEM768(rand io.Reader) (*mlkem.DecapsulationKey768, error) {
	seed := make([]byte, mlkem.SeedSize)
	if _, err := io.ReadFull(rand, seed); err != nil {
		return nil, err
	}
	return mlkem.NewDecapsulationKey768(seed)
}

// ksFFDHEExponentBytes is the size of the private exponent for every ffdhe
// group: 512 bits exceeds the 225…400 bits RFC 7919 §5.2 asks for.
const ksFFDHEExponentBytes = 64

// ksFFDHE draws a 512-bit exponent x with its top bit set and returns x and
// 2^x mod p as len(p) big-endian bytes (RFC 8446 §4.2.8.1).
func ksFFDHE(p *big.Int, rand io.Reader) (*big.Int, []byte, error) {
	buf := make([]byte, ksFFDHEExponentBytes)
	one := big.NewInt(1)
	pMinus1 := new(big.Int).Sub(p, one)
	for range ksMaxTries {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return nil, nil, err
		}
		buf[0] |= 0x80
		x := new(big.Int).SetBytes(buf)
		y := new(big.Int).Exp(big.NewInt(2), x, p)
		// RFC 7919 §5.1: the peer checks 1 < Y < p-1.
		if y.Cmp(one) <= 0 || y.Cmp(pMinus1) >= 0 {
			continue
		}
		return x, y.FillBytes(make([]byte, (p.BitLen()+7)/8)), nil
	}
	return nil, nil, fmt.Errorf("no valid exponent in %d draws from the random source", ksMaxTries)
}

// ksFFDHEPrimes computes, once, the five RFC 7919 primes from their
// definition (RFC 7919 Appendix A):
//
//	p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1
//
// with e the base of the natural logarithm and X the published offset that
// makes p a safe prime. The tests check the result against the RFC's hex
// and for primality.
var ksFFDHEPrimes = sync.OnceValue(func() map[uint16]*big.Int {
	params := []struct {
		group uint16
		bits  uint
		x     int64
	}{
		{GroupFFDHE2048, 2048, 560316},
		{GroupFFDHE3072, 3072, 2625351},
		{GroupFFDHE4096, 4096, 5736041},
		{GroupFFDHE6144, 6144, 15705020},
		{GroupFFDHE8192, 8192, 10965728},
	}
	primes := make(map[uint16]*big.Int, len(params))
	for _, q := range params {
		p := new(big.Int).Lsh(big.NewInt(1), q.bits)
		p.Sub(p, new(big.Int).Lsh(big.NewInt(1), q.bits-64))
		mid := ksFloorE(q.bits - 130)
		mid.Add(mid, big.NewInt(q.x))
		p.Add(p, mid.Lsh(mid, 64))
		p.Sub(p, big.NewInt(1))
		primes[q.group] = p
	}
	return primes
})

// ksFloorE returns floor(2^shift * e), summing 1/k! in fixed point with 64
// guard bits; the truncation error of the ~1100 terms stays below 2^11.
func ksFloorE(shift uint) *big.Int {
	const guard = 64
	term := new(big.Int).Lsh(big.NewInt(1), shift+guard) // 2^(shift+guard) / 0!
	sum := new(big.Int)
	k := new(big.Int)
	for i := int64(1); term.Sign() > 0; i++ {
		sum.Add(sum, term)
		term.Quo(term, k.SetInt64(i))
	}
	return sum.Rsh(sum, guard)
}

// FFDHEPrime returns the RFC 7919 prime p of an ffdhe group (0x0100–0x0104),
// or nil for any other group. The result is a copy the caller may modify.
// Scanners use it to name the group behind a DHE ServerKeyExchange.
func FFDHEPrime(group uint16) *big.Int {
	p, ok := ksFFDHEPrimes()[group]
	if !ok {
		return nil
	}
	return new(big.Int).Set(p)
}

// FFDHEGroupOfPrime returns the ffdhe group whose RFC 7919 prime is p (the
// big-endian bytes of dh_p), or 0 when p is none of them.
func FFDHEGroupOfPrime(p []byte) uint16 {
	x := new(big.Int).SetBytes(p)
	for g, q := range ksFFDHEPrimes() {
		if q.Cmp(x) == 0 {
			return g
		}
	}
	return 0
}
