package faketls

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"net"
	"sync"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"time"
)

// The server's long-term material is made once per process: a test binary
// starts many servers and none of them needs its own key.

// defaultChain returns the self-signed RSA certificate that servers
// without Config.Certificate send. RSA, because SSLv2 and the RSA key
// exchange suites only work with an RSA key.
var defaultChain = sync.OnceValues(func() ([][]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("faketls: certificate key: %w", err)
	}
	der, err := selfSigned(key, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	return [][]byte{der}, nil
})

// ECDSAChain returns a self-signed ECDSA P-256 certificate for localhost,
// made once per process, for a Config.Certificate that should look like an
// ECDSA server's.
func ECDSAChain() ([][]byte, error) { return ecdsaChain() }

var ecdsaChain = sync.OnceValues(func() ([][]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("faketls: certificate key: %w", err)
	}
	der, err := selfSigned(key, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	return [][]byte{der}, nil
})

// selfSigned returns a DER certificate for localhost and 127.0.0.1, valid
// from 2020 to 2050 so that no test depends on the clock.
func selfSigned(priv, pub any) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "faketls.test", Organization: []string{"tlsmap faketls"}},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost", "faketls.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return nil, fmt.Errorf("faketls: self-signed certificate: %w", err)
	}
	return der, nil
}

// dhPrimes caches the fixed DHE primes by size.
var dhPrimes struct {
	sync.Mutex
	byBits map[int]*big.Int
}

// dhPrime returns the fixed prime of exactly bits bits that DHE
// ServerKeyExchanges carry when no RFC 7919 group was negotiated. It is the
// first prime at or above a value derived from SHA-256("faketls dh <bits>"),
// with the top bit set, so every run and every server of a process sends
// the same prime. A scanner reads only its size; being prime keeps the
// server honest for a client that checks.
func dhPrime(bits int) *big.Int {
	dhPrimes.Lock()
	defer dhPrimes.Unlock()
	if p, ok := dhPrimes.byBits[bits]; ok {
		return p
	}
	if dhPrimes.byBits == nil {
		dhPrimes.byBits = make(map[int]*big.Int)
	}
	p := searchPrime(bits)
	dhPrimes.byBits[bits] = p
	return p
}

// sievePrimes are the odd primes below sieveBound, for trial division of
// prime candidates.
const sieveBound = 1 << 15

var sievePrimes = sync.OnceValue(func() []uint64 {
	composite := make([]bool, sieveBound)
	var ps []uint64
	for i := 3; i < sieveBound; i += 2 {
		if composite[i] {
			continue
		}
		ps = append(ps, uint64(i))
		for j := i * i; j < sieveBound; j += 2 * i {
			composite[j] = true
		}
	}
	return ps
})

// searchPrime finds the deterministic prime of dhPrime. Candidates start at
// an odd seed whose top bits are 110 (so that the search cannot carry past
// bits bits) and step by 2; a candidate divisible by a small prime is
// skipped using running residues, and the few survivors are tested with
// Baillie-PSW (big.Int.ProbablyPrime(0)).
func searchPrime(bits int) *big.Int {
	if bits < 16 {
		bits = 16
	}
	nbytes := (bits + 7) / 8
	seed := make([]byte, 0, nbytes+sha256.Size)
	for ctr := uint32(0); len(seed) < nbytes; ctr++ {
		h := sha256.New()
		fmt.Fprintf(h, "faketls dh %d", bits)
		_ = binary.Write(h, binary.BigEndian, ctr)
		seed = h.Sum(seed)
	}
	p := new(big.Int).SetBytes(seed[:nbytes])
	p.Rsh(p, uint(nbytes*8-bits)) // exactly bits bits at most
	// Top bits 110: the search below adds at most a few thousand, which
	// cannot carry into bit bits.
	p.SetBit(p, bits-1, 1)
	p.SetBit(p, bits-2, 1)
	p.SetBit(p, bits-3, 0)
	p.SetBit(p, 0, 1)

	// p > 2^15 > every sieve prime, so divisibility means composite.
	primes := sievePrimes()
	residues := make([]uint64, len(primes))
	m := new(big.Int)
	for i, q := range primes {
		residues[i] = m.Mod(p, m.SetUint64(q)).Uint64()
	}
	c := new(big.Int)
	for delta := uint64(0); ; delta += 2 {
		divisible := false
		for i, q := range primes {
			if (residues[i]+delta)%q == 0 {
				divisible = true
				break
			}
		}
		if divisible {
			continue
		}
		c.Add(p, c.SetUint64(delta))
		if c.ProbablyPrime(0) {
			return c
		}
	}
}

// ffdhePrime returns the RFC 7919 prime of an ffdhe group, or nil for
// another group.
func ffdhePrime(group uint16) *big.Int { return tls.FFDHEPrime(group) }
