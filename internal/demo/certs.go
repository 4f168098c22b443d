package demo

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"
)

// Validity of the demo's certificates: long enough for any run, short
// enough that a leaked key is worthless by tomorrow.
const (
	certLifetime = 2 * time.Hour
	certBackdate = 5 * time.Minute // tolerate a client clock a little behind
)

// authority is the demo's throwaway certificate authority. It lives in
// memory only and signs the leaf of every demo server.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
	pool *x509.CertPool
	now  time.Time
}

func newAuthority(now time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("demo: CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "tlsmap demo CA (throwaway)", Organization: []string{"tlsmap demo"}},
		NotBefore:             now.Add(-certBackdate),
		NotAfter:              now.Add(certLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("demo: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("demo: CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{cert: cert, key: key, pool: pool, now: now}, nil
}

// keyKind is the leaf's key type: RSA for the legacy servers (static RSA
// key exchange needs an RSA certificate), ECDSA for the modern ones.
type keyKind int

const (
	keyECDSA keyKind = iota
	keyRSA
)

// leaf issues a server certificate for name, with the CA in its chain.
func (a *authority) leaf(name string, kind keyKind) (tls.Certificate, error) {
	var key crypto.Signer
	var err error
	switch kind {
	case keyRSA:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("demo: key for %s: %w", name, err)
	}
	usage := x509.KeyUsageDigitalSignature
	if kind == keyRSA {
		usage |= x509.KeyUsageKeyEncipherment // static RSA key exchange
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"tlsmap demo"}},
		DNSNames:     []string{name},
		NotBefore:    a.now.Add(-certBackdate),
		NotAfter:     a.now.Add(certLifetime),
		KeyUsage:     usage,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("demo: certificate for %s: %w", name, err)
	}
	return tls.Certificate{Certificate: [][]byte{der, a.cert.Raw}, PrivateKey: key}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail (Go 1.24+)
	}
	return n
}
