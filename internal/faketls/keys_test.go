package faketls

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// TestFFDHEPrimes checks the derived RFC 7919 primes against the first and
// last 64 bits of the values printed in RFC 7919 Appendix A, and that they
// are safe primes (up to 4096 bits).
func TestFFDHEPrimes(t *testing.T) {
	tests := []struct {
		group      uint16
		bits       int
		head, tail string // hex words of RFC 7919 Appendix A
	}{
		{tls.GroupFFDHE2048, 2048, "FFFFFFFFFFFFFFFFADF85458A2BB4A9A", "886B423861285C97FFFFFFFFFFFFFFFF"},
		{tls.GroupFFDHE3072, 3072, "FFFFFFFFFFFFFFFFADF85458A2BB4A9A", "25E41D2B66C62E37FFFFFFFFFFFFFFFF"},
		{tls.GroupFFDHE4096, 4096, "FFFFFFFFFFFFFFFFADF85458A2BB4A9A", "C68A007E5E655F6AFFFFFFFFFFFFFFFF"},
		{tls.GroupFFDHE6144, 6144, "FFFFFFFFFFFFFFFFADF85458A2BB4A9A", "A40E329CD0E40E65FFFFFFFFFFFFFFFF"},
		{tls.GroupFFDHE8192, 8192, "FFFFFFFFFFFFFFFFADF85458A2BB4A9A", "D68C8BB7C5C6424CFFFFFFFFFFFFFFFF"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("0x%04X", tt.group), func(t *testing.T) {
			p := ffdhePrime(tt.group)
			if p == nil || p.BitLen() != tt.bits {
				t.Fatalf("prime %v", p)
			}
			h := strings.ToUpper(p.Text(16))
			if !strings.HasPrefix(h, tt.head) || !strings.HasSuffix(h, tt.tail) {
				t.Errorf("prime %s…%s, want %s…%s", h[:32], h[len(h)-32:], tt.head, tt.tail)
			}
			// The two largest take seconds; their last words already
			// pin X, and the middle comes from the same e.
			if tt.bits > 4096 || testing.Short() && tt.bits > 2048 {
				return
			}
			q := new(big.Int).Rsh(p, 1)
			if !p.ProbablyPrime(0) || !q.ProbablyPrime(0) {
				t.Errorf("not a safe prime")
			}
		})
	}
	if ffdhePrime(tls.GroupX25519) != nil {
		t.Error("a prime for x25519")
	}
}

// TestDHPrime checks the fixed primes: the requested size, prime, and the
// same value on every call.
func TestDHPrime(t *testing.T) {
	for _, bits := range []int{512, 768, 1024} {
		p := dhPrime(bits)
		if p.BitLen() != bits || !p.ProbablyPrime(0) {
			t.Errorf("%d bits: %d-bit value, prime %v", bits, p.BitLen(), p.ProbablyPrime(0))
		}
		if searchPrime(bits).Cmp(p) != 0 {
			t.Errorf("%d bits: not deterministic", bits)
		}
	}
}

func TestChains(t *testing.T) {
	for name, f := range map[string]func() ([][]byte, error){"RSA": defaultChain, "ECDSA": ECDSAChain} {
		chain, err := f()
		if err != nil || len(chain) != 1 {
			t.Fatalf("%s: %d certificates, %v", name, len(chain), err)
		}
		cert, err := x509.ParseCertificate(chain[0])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := cert.VerifyHostname("localhost"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
