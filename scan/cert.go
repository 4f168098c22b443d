package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	stdx509 "crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	zdsa "github.com/zmap/zcrypto/dsa"
	zrsa "github.com/zmap/zcrypto/rsa"
	ztls "github.com/zmap/zcrypto/tls"
	"github.com/zmap/zcrypto/x509"
)

// The handshake libraries CertInfo.Library names.
const (
	LibraryZcrypto   = "zcrypto"
	LibraryCryptoTLS = "crypto/tls"
)

// DefaultCertTimeout bounds FetchCertificate when CertOptions.Timeout is 0.
const DefaultCertTimeout = 10 * time.Second

// CertInfo is what one full handshake tells about an endpoint's certificate.
type CertInfo struct {
	// Chain is the server's Certificate message, leaf first, as sent.
	Chain []CertSummary `json:"chain"`

	// Verified reports whether the leaf chains to a root (CertOptions.Roots,
	// or the system roots), using the other certificates sent as
	// intermediates, at CertOptions.Now, for server authentication.
	// VerifyError says why not.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`

	// HostnameMatch reports whether the leaf is valid for
	// CertOptions.ServerName (its IP SANs for an IP literal); it is false,
	// with no HostnameError, when ServerName is empty.
	HostnameMatch bool   `json:"hostname_match"`
	HostnameError string `json:"hostname_error,omitempty"`

	// Version and CipherSuite are what the handshake negotiated (the
	// ServerHello's choice, when the handshake failed after it).
	Version     uint16 `json:"version"`
	CipherSuite uint16 `json:"cipher_suite"`

	// Library is the handshake that produced this: LibraryZcrypto or,
	// when zcrypto could not finish, LibraryCryptoTLS.
	Library string `json:"library"`
	// FallbackReason is zcrypto's error when Library is LibraryCryptoTLS.
	FallbackReason string `json:"fallback_reason,omitempty"`
}

// CertSummary describes one certificate of a chain.
type CertSummary struct {
	Subject string   `json:"subject"`
	Issuer  string   `json:"issuer"`
	SANs    []string `json:"sans,omitempty"` // DNS names, then IP addresses, then email addresses
	Serial  string   `json:"serial"`         // lower-case hex

	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	DaysToExpiry int       `json:"days_to_expiry"` // whole days from CertOptions.Now to NotAfter, rounded down; negative once expired

	KeyType string `json:"key_type"`        // RSA, ECDSA, Ed25519, DSA (or zcrypto's name for others)
	KeyBits int    `json:"key_bits"`        // RSA modulus, ECDSA curve, DSA prime bits; 256 for Ed25519
	Curve   string `json:"curve,omitempty"` // ECDSA curve name, e.g. P-256

	SignatureAlgorithm string `json:"signature_algorithm"` // e.g. SHA256-RSA, ECDSA-SHA256
	SelfSigned         bool   `json:"self_signed"`         // issuer is subject and the signature checks with its own key
	IsCA               bool   `json:"is_ca"`               // basic constraints cA

	SHA256 string `json:"sha256"` // lower-case hex fingerprint of the DER

	// ParseError is set, and only SHA256 is, when zcrypto/x509 cannot
	// parse the certificate.
	ParseError string `json:"parse_error,omitempty"`
}

// CertOptions configures FetchCertificate.
type CertOptions struct {
	// ServerName is sent as SNI (unless it is an IP literal) and checked
	// against the leaf. Empty sends no SNI and skips the name check.
	ServerName string
	// Roots verifies the chain; nil means the system roots.
	Roots *x509.CertPool
	// Now is the clock for verification and DaysToExpiry; nil is time.Now.
	Now func() time.Time
	// Timeout bounds the whole fetch, fallback included; 0 is
	// DefaultCertTimeout. An earlier deadline on ctx wins.
	Timeout time.Duration
}

// FetchCertificate runs one full TLS handshake over conn — already
// connected, any STARTTLS dialogue done — and reports the certificate
// chain the server sent, verified afterwards (a bad chain is data, not an
// error).
//
// The handshake is zcrypto's, offering all it can: TLS 1.0 to 1.3 and its
// 43 cipher suites (ECDHE, DHE, static RSA, 3DES, RC4), with ML-KEM hybrid
// groups. When it fails for any reason but the deadline or ctx, and redial
// is not nil, FetchCertificate dials a new connection with redial (which
// must redo any STARTTLS dialogue) and retries with Go's crypto/tls.
//
// FetchCertificate owns conn and any redialed connection and closes them
// before it returns. ctx and opts.Timeout bound everything; a cancelled ctx
// closes the connections at once.
//
// Errors are *StageError. When a handshake failed after the server's
// Certificate message (a client certificate required, an unsupported key
// type …), FetchCertificate returns both the CertInfo describing that chain
// and the error.
func FetchCertificate(ctx context.Context, conn net.Conn, redial func(ctx context.Context) (net.Conn, error), opts CertOptions) (*CertInfo, error) {
	if conn == nil {
		return nil, &StageError{Stage: StageDial, Err: errors.New("no connection")}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultCertTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout,
		fmt.Errorf("timed out after %v: %w", timeout, context.DeadlineExceeded))
	defer cancel()

	za := handshakeZcrypto(ctx, conn, opts, now)
	if za.err == nil {
		return buildCertInfo(za, opts, now)
	}
	if ctx.Err() != nil || redial == nil {
		return failed(ctx, StageHandshake, za, opts, now, fmt.Errorf("%s: %w", LibraryZcrypto, za.err))
	}

	conn2, err := redial(ctx)
	if err != nil {
		if conn2 != nil {
			conn2.Close()
		}
		return failed(ctx, StageDial, za, opts, now, fmt.Errorf("%s fallback after %s failed (%v): %w", LibraryCryptoTLS, LibraryZcrypto, za.err, err))
	}
	sa := handshakeStd(ctx, conn2, opts, now)
	sa.fallbackReason = za.err.Error()
	if sa.err == nil {
		return buildCertInfo(sa, opts, now)
	}
	best := za
	if len(best.raw) == 0 {
		best = sa
	}
	return failed(ctx, StageHandshake, best, opts, now, fmt.Errorf("%s: %w; %s: %w", LibraryZcrypto, za.err, LibraryCryptoTLS, sa.err))
}

// attempt is the outcome of one handshake.
type attempt struct {
	library        string
	raw            [][]byte // the Certificate message's chain; nil if it never came
	version, suite uint16
	fallbackReason string
	err            error // nil when the handshake completed
}

// failed returns the error of a fetch whose handshakes failed, and the
// CertInfo of the chain one of them received, if any. A cancelled or
// expired ctx is reported as such rather than as the I/O error it caused.
func failed(ctx context.Context, stage Stage, a attempt, opts CertOptions, now func() time.Time, err error) (*CertInfo, error) {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	serr := &StageError{Stage: stage, Err: err}
	if len(a.raw) == 0 {
		return nil, serr
	}
	info, _ := buildCertInfo(a, opts, now) // its own error, if any, is secondary
	return info, serr
}

// bindConn puts ctx's deadline on conn and closes conn when ctx is done.
// The returned function stops the latter.
func bindConn(ctx context.Context, conn net.Conn) func() bool {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	return context.AfterFunc(ctx, func() { conn.Close() })
}

// settle makes a deadline error of conn visible as ctx's: conn's deadline
// is ctx's, but the two timers may fire a moment apart.
func settle(ctx context.Context, err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if _, ok := ctx.Deadline(); ok {
			<-ctx.Done()
		}
	}
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
		RootCAs:            opts.Roots,
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
		a.version, a.suite = st.Version, st.CipherSuite
		for _, c := range st.PeerCertificates {
			a.raw = append(a.raw, c.Raw)
		}
	} else if log := zc.GetHandshakeLog(); log != nil {
		// The handshake log keeps what the server sent before the failure.
		if sh := log.ServerHello; sh != nil {
			a.version, a.suite = uint16(sh.Version), uint16(sh.CipherSuite)
			if sv := sh.SupportedVersions; sv != nil {
				a.version = uint16(sv.SelectedVersion)
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

// stdSuites is every TLS 1.0–1.2 suite crypto/tls implements, insecure
// ones included (listing them enables those off by default).
var stdSuites = func() []uint16 {
	var ids []uint16
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			for _, v := range s.SupportedVersions {
				if v <= tls.VersionTLS12 {
					ids = append(ids, s.ID)
					break
				}
			}
		}
	}
	return ids
}()

var stdGroups = []tls.CurveID{
	tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024,
	tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521,
}

// handshakeStd runs crypto/tls's client handshake on conn and closes it.
func handshakeStd(ctx context.Context, conn net.Conn, opts CertOptions, now func() time.Time) attempt {
	stop := bindConn(ctx, conn)
	defer stop()
	a := attempt{library: LibraryCryptoTLS}
	cfg := &tls.Config{
		ServerName:         opts.ServerName,
		InsecureSkipVerify: true, // verified afterwards: a bad chain is data
		Time:               now,
		MinVersion:         tls.VersionTLS10,
		MaxVersion:         tls.VersionTLS13,
		CipherSuites:       slices.Clone(stdSuites),
		CurvePreferences:   slices.Clone(stdGroups),
		// Called with the chain even when the handshake fails later.
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*stdx509.Certificate) error {
			a.raw = make([][]byte, len(raw))
			for i, der := range raw {
				a.raw[i] = append([]byte(nil), der...)
			}
			return nil
		},
		VerifyConnection: func(st tls.ConnectionState) error {
			a.version, a.suite = st.Version, st.CipherSuite
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	a.err = tc.HandshakeContext(ctx)
	settle(ctx, a.err)
	if a.err == nil {
		st := tc.ConnectionState()
		a.version, a.suite = st.Version, st.CipherSuite
	}
	tc.Close()
	return a
}

// buildCertInfo parses and verifies the chain of a, a handshake that either
// completed or got as far as the Certificate message.
func buildCertInfo(a attempt, opts CertOptions, now func() time.Time) (*CertInfo, error) {
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
		Roots:         opts.Roots,
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

// hostnameForCheck drops the brackets and zone of an IPv6 literal, which
// would otherwise be compared with DNS names rather than IP SANs.
func hostnameForCheck(name string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if addr, err := netip.ParseAddr(s); err == nil {
		return addr.WithZone("").String()
	}
	return name
}

// describeVerifyError makes zcrypto's "has expired or is not yet valid"
// say which certificate, and when.
func describeVerifyError(err error, certs []*x509.Certificate, t time.Time) string {
	var inv x509.CertificateInvalidError
	if !errors.As(err, &inv) || inv.Reason != x509.Expired {
		return err.Error()
	}
	for i, c := range certs {
		if c == nil {
			continue
		}
		what := "leaf"
		if i > 0 {
			what = fmt.Sprintf("chain[%d]", i)
		}
		if cn := c.Subject.CommonName; cn != "" {
			what += fmt.Sprintf(" %q", cn)
		}
		switch {
		case t.After(c.NotAfter):
			return fmt.Sprintf("%v: %s expired at %s (now %s)", err, what, c.NotAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		case t.Before(c.NotBefore):
			return fmt.Sprintf("%v: %s is not valid before %s (now %s)", err, what, c.NotBefore.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		}
	}
	return err.Error() + ": a root outside the chain sent is out of its validity period"
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

func curveSize(k *ecdsa.PublicKey) (int, string) {
	if k == nil || k.Curve == nil {
		return 0, ""
	}
	p := k.Curve.Params()
	return p.BitSize, p.Name
}

// daysBetween counts the whole days from t to end, rounding down, so a
// certificate that expired an hour ago has -1 days left. It works in
// seconds, as durations overflow for NotAfter years like 9999.
func daysBetween(t, end time.Time) int {
	secs := end.Unix() - t.Unix()
	days := secs / 86400
	if secs%86400 < 0 {
		days--
	}
	return int(days)
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
var systemRoots = sync.OnceValue(func() *x509.CertPool {
	files := systemRootFiles
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = append([]string{f}, files...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		p := x509.NewCertPool()
		if p.AppendCertsFromPEM(b) {
			return p
		}
	}
	return nil
})

// preloadRoots starts parsing the system roots in the background, once per
// process however many endpoints a sweep scans.
var preloadRoots = sync.OnceFunc(func() { go systemRoots() })
