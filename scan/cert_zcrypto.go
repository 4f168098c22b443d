//go:build linux

package scan

// The certificate handshake on Linux: zcrypto first, crypto/tls as the
// fallback, both chains parsed and verified by zcrypto/x509. (zcrypto's
// root loading does not build for Windows and macOS on arm64:
// cert_other.go.)

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	stdx509 "crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	zdsa "github.com/zmap/zcrypto/dsa"
	zrsa "github.com/zmap/zcrypto/rsa"
	ztls "github.com/zmap/zcrypto/tls"
	"github.com/zmap/zcrypto/x509"

	wire "github.com/tlsmap/tlsmap/protocols/tls"
)

var platformBackend = certBackend{
	primary:         handshakeZcrypto,
	fallback:        handshakeStd,
	fallbackLibrary: LibraryCryptoTLS,
	build:           buildCertInfoZcrypto,
}

// parsedPools are a CertPool parsed by crypto/x509 and by zcrypto/x509.
type parsedPools struct {
	stdOnce sync.Once
	std     *stdx509.CertPool
	zOnce   sync.Once
	z       *x509.CertPool
}

// zcryptoPool is p for zcrypto/x509; nil for a nil p.
func (p *CertPool) zcryptoPool() *x509.CertPool {
	if p == nil {
		return nil
	}
	p.parsed.zOnce.Do(func() {
		p.parsed.z = x509.NewCertPool()
		for _, der := range p.der {
			if c, err := x509.ParseCertificate(der); err == nil {
				p.parsed.z.AddCert(c)
			}
		}
	})
	return p.parsed.z
}

// zcryptoSuites is every cipher suite zcrypto implements, TLS 1.3 first,
// then by key exchange and cipher strength. zcrypto offers only a subset by
// default (no DHE, no DSS); ForceSuites sends this list as is.
var zcryptoSuites = []uint16{
	// TLS 1.3 (RFC 8446, appendix B.4)
	ztls.TLS_AES_128_GCM_SHA256, ztls.TLS_AES_256_GCM_SHA384, ztls.TLS_CHACHA20_POLY1305_SHA256,
	// ECDHE, AEAD
	ztls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ztls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	ztls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, ztls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	ztls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ztls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	// DHE, AEAD
	ztls.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, ztls.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
	ztls.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	ztls.TLS_DHE_DSS_WITH_AES_128_GCM_SHA256, ztls.TLS_DHE_DSS_WITH_AES_256_GCM_SHA384,
	// ECDHE, CBC
	ztls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, ztls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	ztls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, ztls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	ztls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, ztls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	// DHE, CBC
	ztls.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256, ztls.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
	ztls.TLS_DHE_RSA_WITH_AES_128_CBC_SHA, ztls.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
	ztls.TLS_DHE_DSS_WITH_AES_128_CBC_SHA256, ztls.TLS_DHE_DSS_WITH_AES_256_CBC_SHA256,
	ztls.TLS_DHE_DSS_WITH_AES_128_CBC_SHA, ztls.TLS_DHE_DSS_WITH_AES_256_CBC_SHA,
	// static RSA
	ztls.TLS_RSA_WITH_AES_128_GCM_SHA256, ztls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	ztls.TLS_RSA_WITH_AES_128_CBC_SHA256, ztls.TLS_RSA_WITH_AES_256_CBC_SHA256,
	ztls.TLS_RSA_WITH_AES_128_CBC_SHA, ztls.TLS_RSA_WITH_AES_256_CBC_SHA,
	// 3DES
	ztls.TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA, ztls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	ztls.TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA, ztls.TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA,
	ztls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
	// RC4
	ztls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA, ztls.TLS_ECDHE_RSA_WITH_RC4_128_SHA,
	ztls.TLS_DHE_DSS_WITH_RC4_128_SHA, ztls.TLS_RSA_WITH_RC4_128_SHA,
}

// zcryptoGroups is every group zcrypto implements; the first (a hybrid)
// and X25519 get key shares in a TLS 1.3 ClientHello.
var zcryptoGroups = []ztls.CurveID{
	ztls.X25519MLKEM768, ztls.SecP256r1MLKEM768, ztls.SecP384r1MLKEM1024, ztls.MLKEM1024,
	ztls.X25519, ztls.CurveP256, ztls.CurveP384, ztls.CurveP521,
}

// handshakeZcrypto runs zcrypto's client handshake on conn and closes it.
func handshakeZcrypto(ctx context.Context, conn net.Conn, opts CertOptions, now func() time.Time) attempt {
	stop := bindConn(ctx, conn)
	defer stop()
	cfg := &ztls.Config{
		ServerName:         opts.ServerName,
		InsecureSkipVerify: true, // verified afterwards: a bad chain is data
		RootCAs:            opts.Roots.zcryptoPool(),
		Time:               now,
		// SSLv3 is out of reach: zcrypto's client no longer speaks it,
		// whatever MinVersion says.
		MinVersion:                    ztls.VersionTLS10,
		MaxVersion:                    ztls.VersionTLS13,
		CipherSuites:                  slices.Clone(zcryptoSuites),
		ForceSuites:                   true,
		CurvePreferences:              slices.Clone(zcryptoGroups),
		ClientDSAEnabled:              true,
		ExtendedMasterSecret:          true,
		SignedCertificateTimestampExt: true,
		SessionTicketsDisabled:        true,
	}
	zc := ztls.Client(conn, cfg)
	err := zc.HandshakeContext(ctx)
	settle(ctx, err)
	a := attempt{library: LibraryZcrypto, err: err}
	if err == nil {
		st := zc.ConnectionState()
		a.version, a.suite = wire.Version(st.Version), st.CipherSuite
		for _, c := range st.PeerCertificates {
			a.raw = append(a.raw, c.Raw)
		}
	} else if log := zc.GetHandshakeLog(); log != nil {
		// The handshake log keeps what the server sent before the failure.
		if sh := log.ServerHello; sh != nil {
			a.version, a.suite = wire.Version(sh.Version), uint16(sh.CipherSuite)
			if sv := sh.SupportedVersions; sv != nil {
				a.version = wire.Version(sv.SelectedVersion)
			}
		}
		if sc := log.ServerCertificates; sc != nil && len(sc.Certificate.Raw) > 0 {
			a.raw = append(a.raw, sc.Certificate.Raw)
			for _, c := range sc.Chain {
				a.raw = append(a.raw, c.Raw)
			}
		}
	}
	zc.Close()
	return a
}

// buildCertInfoZcrypto parses and verifies the chain of a, a handshake that either
// completed or got as far as the Certificate message.
func buildCertInfoZcrypto(a attempt, opts CertOptions, now func() time.Time) (*CertInfo, error) {
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
	certs := make([]*x509.Certificate, len(a.raw))
	for i, der := range a.raw {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			sum := sha256.Sum256(der)
			info.Chain = append(info.Chain, CertSummary{SHA256: hex.EncodeToString(sum[:]), ParseError: err.Error()})
			continue
		}
		certs[i] = c
		info.Chain = append(info.Chain, summarize(c, t))
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

	vopts := x509.VerifyOptions{
		Roots:         opts.Roots.zcryptoPool(),
		Intermediates: x509.NewCertPool(),
		CurrentTime:   t,
	}
	for _, c := range certs[1:] {
		if c != nil {
			vopts.Intermediates.AddCert(c)
		}
	}
	if _, _, _, err := leaf.Verify(vopts); err != nil {
		info.VerifyError = describeVerifyError(err, certs, t)
		var rootsErr x509.SystemRootsError
		if errors.As(err, &rootsErr) {
			return info, &StageError{Stage: StageVerify, Err: err}
		}
	} else {
		info.Verified = true
	}
	return info, nil
}

// describeVerifyError makes zcrypto's "has expired or is not yet valid"
// say which certificate, and when.
func describeVerifyError(err error, certs []*x509.Certificate, t time.Time) string {
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
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

// summarize describes a parsed certificate as of t.
func summarize(c *x509.Certificate, t time.Time) CertSummary {
	sum := sha256.Sum256(c.Raw)
	s := CertSummary{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		NotBefore:          c.NotBefore,
		NotAfter:           c.NotAfter,
		DaysToExpiry:       daysBetween(t, c.NotAfter),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SelfSigned:         c.SelfSigned,
		IsCA:               c.BasicConstraintsValid && c.IsCA,
		SHA256:             hex.EncodeToString(sum[:]),
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
	case *zrsa.PublicKey:
		s.KeyType, s.KeyBits = "RSA", k.N.BitLen()
	case *x509.AugmentedECDSA:
		s.KeyType = "ECDSA"
		s.KeyBits, s.Curve = curveSize(k.Pub)
	case *ecdsa.PublicKey:
		s.KeyType = "ECDSA"
		s.KeyBits, s.Curve = curveSize(k)
	case ed25519.PublicKey:
		s.KeyType, s.KeyBits = "Ed25519", 256
	case *zdsa.PublicKey:
		s.KeyType, s.KeyBits = "DSA", k.P.BitLen()
	default:
		s.KeyType = c.PublicKeyAlgorithm.String()
	}
	return s
}

// systemRootFiles are where Linux distributions keep the system's trust
// anchors as one PEM bundle (the list crypto/x509 reads on Linux); the
// SSL_CERT_FILE environment variable comes first.
var systemRootFiles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine
}

// systemRoots parses the system's trust anchors with zcrypto/x509 once per
// process (some 40 ms for Debian's 140 roots). ScanTarget starts it in the
// background as a scan begins, so that the certificate handshake does not
// wait for it. Nil when no bundle is found: zcrypto then loads the system
// roots itself.
var systemRoots = sync.OnceValue(func() *CertPool {
	files := systemRootFiles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = append([]string{f}, files...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		p := NewCertPool()
		if p.AppendCertsFromPEM(b) && p.zcryptoPool().Size() > 0 {
			return p
		}
	}
	return nil
})

// preloadRoots starts parsing the system roots in the background, once per
// process however many endpoints a sweep scans.
var preloadRoots = sync.OnceFunc(func() { go systemRoots() })
