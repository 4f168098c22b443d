package scan

// The certificate handshake with Go's libraries alone: crypto/tls, its
// chain parsed and verified by crypto/x509. FetchCertificate uses it off
// Linux (cert_other.go); on Linux the tests run it too.

import (
	"bytes"
	//lint:ignore SA1019 crypto/x509 still parses DSA keys into it, and a DSA certificate is worth naming
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	stdx509 "crypto/x509"
	"encoding/hex"
	"errors"
	"time"
)

// stdBackend: one crypto/tls handshake, nothing to fall back to.
var stdBackend = certBackend{primary: handshakeStd, build: buildCertInfoStd}

// buildCertInfoStd parses and verifies the chain of a with crypto/x509.
func buildCertInfoStd(a attempt, opts CertOptions, now func() time.Time) (*CertInfo, error) {
	t := now()
	info := &CertInfo{
		Version:        a.version,
		CipherSuite:    a.suite,
		Library:        a.library,
		FallbackReason: a.fallbackReason,
	}
	if len(a.raw) == 0 {
		return info, &StageError{Stage: StageVerify, Err: errors.New("server sent no certificate")}
	}
	certs := make([]*stdx509.Certificate, len(a.raw))
	for i, der := range a.raw {
		c, err := stdx509.ParseCertificate(der)
		if err != nil {
			sum := sha256.Sum256(der)
			info.Chain = append(info.Chain, CertSummary{SHA256: hex.EncodeToString(sum[:]), ParseError: err.Error()})
			continue
		}
		certs[i] = c
		info.Chain = append(info.Chain, summarizeStd(c, t))
	}
	leaf := certs[0]
	if leaf == nil {
		info.VerifyError = "leaf certificate does not parse: " + info.Chain[0].ParseError
		if opts.ServerName != "" {
			info.HostnameError = info.VerifyError
		}
		return info, nil
	}

	if opts.ServerName != "" {
		if err := leaf.VerifyHostname(hostnameForCheck(opts.ServerName)); err != nil {
			info.HostnameError = err.Error()
		} else {
			info.HostnameMatch = true
		}
	}

	vopts := stdx509.VerifyOptions{
		Roots:         opts.Roots.stdPool(), // nil: the system's roots, or its verifier (macOS, Windows)
		Intermediates: stdx509.NewCertPool(),
		CurrentTime:   t,
	}
	for _, c := range certs[1:] {
		if c != nil {
			vopts.Intermediates.AddCert(c)
		}
	}
	if _, err := leaf.Verify(vopts); err != nil {
		info.VerifyError = describeVerifyErrorStd(err, certs, t)
		var rootsErr stdx509.SystemRootsError
		if errors.As(err, &rootsErr) {
			return info, &StageError{Stage: StageVerify, Err: err}
		}
	} else {
		info.Verified = true
	}
	return info, nil
}

// describeVerifyErrorStd makes crypto/x509's expiry error say which
// certificate, and when.
func describeVerifyErrorStd(err error, certs []*stdx509.Certificate, t time.Time) string {
	var inv stdx509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != stdx509.Expired {
		return err.Error()
	}
	chain := make([]validity, len(certs))
	for i, c := range certs {
		if c != nil {
			chain[i] = validity{ok: true, cn: c.Subject.CommonName, notBefore: c.NotBefore, notAfter: c.NotAfter}
		}
	}
	return expiryDetail(err, chain, t)
}

// summarizeStd describes a certificate crypto/x509 parsed, as of t.
func summarizeStd(c *stdx509.Certificate, t time.Time) CertSummary {
	sum := sha256.Sum256(c.Raw)
	s := CertSummary{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		NotBefore:          c.NotBefore,
		NotAfter:           c.NotAfter,
		DaysToExpiry:       daysBetween(t, c.NotAfter),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		// As zcrypto decides: issuer is subject, and its own key checks
		// the signature.
		SelfSigned: bytes.Equal(c.RawIssuer, c.RawSubject) &&
			c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil,
		IsCA:   c.BasicConstraintsValid && c.IsCA,
		SHA256: hex.EncodeToString(sum[:]),
	}
	if c.SerialNumber != nil {
		s.Serial = c.SerialNumber.Text(16)
	}
	s.SANs = append(s.SANs, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		s.SANs = append(s.SANs, ip.String())
	}
	s.SANs = append(s.SANs, c.EmailAddresses...)

	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		s.KeyType, s.KeyBits = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		s.KeyType = "ECDSA"
		s.KeyBits, s.Curve = curveSize(k)
	case ed25519.PublicKey:
		s.KeyType, s.KeyBits = "Ed25519", 256
	case *dsa.PublicKey:
		s.KeyType, s.KeyBits = "DSA", k.P.BitLen()
	default:
		s.KeyType = c.PublicKeyAlgorithm.String()
	}
	return s
}
