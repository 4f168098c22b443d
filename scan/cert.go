package scan

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	stdx509 "crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	wire "github.com/tlsmap/tlsmap/protocols/tls"
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
	Version     wire.Version `json:"version"` // a number in JSON
	CipherSuite uint16       `json:"cipher_suite"`

	// Library is the handshake that produced this: LibraryZcrypto or,
	// when zcrypto could not finish, LibraryCryptoTLS. (Off Linux, where
	// zcrypto does not build, always LibraryCryptoTLS.)
	Library string `json:"library"`
	// FallbackReason is zcrypto's error when Library is LibraryCryptoTLS.
	FallbackReason string `json:"fallback_reason,omitempty"`
}

// CertSummary describes one certificate of a chain.
//
// Subject and Issuer are spelt by the x509 package that parsed the chain:
// zcrypto's "CN=a, O=b" on Linux, crypto/x509's "CN=a,O=b" (RFC 4514)
// elsewhere.
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

	// ParseError is set, and only SHA256 is, when zcrypto/x509 (off
	// Linux: crypto/x509) cannot parse the certificate.
	ParseError string `json:"parse_error,omitempty"`
}

// CertOptions configures FetchCertificate.
type CertOptions struct {
	// ServerName is sent as SNI (unless it is an IP literal) and checked
	// against the leaf. Empty sends no SNI and skips the name check.
	ServerName string
	// Roots verifies the chain; nil means the system roots.
	Roots *CertPool
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
// On Linux the handshake is zcrypto's, offering all it can: TLS 1.0 to 1.3
// and its 43 cipher suites (ECDHE, DHE, static RSA, 3DES, RC4), with
// ML-KEM hybrid groups. When it fails for any reason but the deadline or
// ctx, and redial is not nil, FetchCertificate dials a new connection with
// redial (which must redo any STARTTLS dialogue) and retries with Go's
// crypto/tls. zcrypto does not build for Windows or macOS on arm64, so
// off Linux the one handshake is crypto/tls's (TLS 1.0 to 1.3, every
// suite it implements; no DHE, no DSA), its chain read by crypto/x509, and
// redial is not used.
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
	return platformBackend.fetch(ctx, conn, redial, opts)
}

// handshake runs one library's client handshake on conn and closes it.
type handshake func(ctx context.Context, conn net.Conn, opts CertOptions, now func() time.Time) attempt

// certBackend is how FetchCertificate works on a platform: a handshake, a
// fallback handshake tried on a redialed connection when the first fails
// (nil: none), and the parser and verifier of the chain either received.
type certBackend struct {
	primary, fallback handshake
	fallbackLibrary   string
	build             func(a attempt, opts CertOptions, now func() time.Time) (*CertInfo, error)
}

func (b certBackend) fetch(ctx context.Context, conn net.Conn, redial func(ctx context.Context) (net.Conn, error), opts CertOptions) (*CertInfo, error) {
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

	za := b.primary(ctx, conn, opts, now)
	if za.err == nil {
		return b.build(za, opts, now)
	}
	if ctx.Err() != nil || redial == nil || b.fallback == nil {
		return b.failed(ctx, StageHandshake, za, opts, now, fmt.Errorf("%s: %w", za.library, za.err))
	}

	conn2, err := redial(ctx)
	if err != nil {
		if conn2 != nil {
			conn2.Close()
		}
		return b.failed(ctx, StageDial, za, opts, now, fmt.Errorf("%s fallback after %s failed (%v): %w", b.fallbackLibrary, za.library, za.err, err))
	}
	sa := b.fallback(ctx, conn2, opts, now)
	sa.fallbackReason = za.err.Error()
	if sa.err == nil {
		return b.build(sa, opts, now)
	}
	best := za
	if len(best.raw) == 0 {
		best = sa
	}
	return b.failed(ctx, StageHandshake, best, opts, now, fmt.Errorf("%s: %w; %s: %w", za.library, za.err, sa.library, sa.err))
}

// attempt is the outcome of one handshake.
type attempt struct {
	library        string
	raw            [][]byte // the Certificate message's chain; nil if it never came
	version        wire.Version
	suite          uint16
	fallbackReason string
	err            error // nil when the handshake completed
}

// failed returns the error of a fetch whose handshakes failed, and the
// CertInfo of the chain one of them received, if any. A cancelled or
// expired ctx is reported as such rather than as the I/O error it caused.
func (b certBackend) failed(ctx context.Context, stage Stage, a attempt, opts CertOptions, now func() time.Time, err error) (*CertInfo, error) {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	serr := &StageError{Stage: stage, Err: err}
	if len(a.raw) == 0 {
		return nil, serr
	}
	info, _ := b.build(a, opts, now) // its own error, if any, is secondary
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
			a.version, a.suite = wire.Version(st.Version), st.CipherSuite
			return nil
		},
	}
	tc := tls.Client(conn, cfg)
	a.err = tc.HandshakeContext(ctx)
	settle(ctx, a.err)
	if a.err == nil {
		st := tc.ConnectionState()
		a.version, a.suite = wire.Version(st.Version), st.CipherSuite
	}
	tc.Close()
	return a
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

// expiryDetail makes a verifier's "has expired or is not yet valid" say
// which certificate of the chain, and when. validity lists the chain's
// certificates that parsed (ok false for the others).
func expiryDetail(err error, chain []validity, t time.Time) string {
	for i, c := range chain {
		if !c.ok {
			continue
		}
		what := "leaf"
		if i > 0 {
			what = fmt.Sprintf("chain[%d]", i)
		}
		if c.cn != "" {
			what += fmt.Sprintf(" %q", c.cn)
		}
		switch {
		case t.After(c.notAfter):
			return fmt.Sprintf("%v: %s expired at %s (now %s)", err, what, c.notAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		case t.Before(c.notBefore):
			return fmt.Sprintf("%v: %s is not valid before %s (now %s)", err, what, c.notBefore.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		}
	}
	return err.Error() + ": a root outside the chain sent is out of its validity period"
}

// validity is what expiryDetail needs of a certificate.
type validity struct {
	ok                  bool
	cn                  string
	notBefore, notAfter time.Time
}

// CertPool is a set of trust anchors for CertOptions.Roots. It keeps the
// certificates as DER; the platform's x509 package (zcrypto's on Linux,
// crypto/x509's elsewhere) parses them once, the first time a handshake
// verifies against the pool, and skips those it cannot parse. Add
// certificates before the pool is first used; it may then be shared by
// concurrent fetches.
type CertPool struct {
	der    [][]byte
	parsed parsedPools
}

// NewCertPool returns an empty pool.
func NewCertPool() *CertPool { return &CertPool{} }

// AddCert adds a DER-encoded certificate.
func (p *CertPool) AddCert(der []byte) { p.der = append(p.der, bytes.Clone(der)) }

// AppendCertsFromPEM adds the CERTIFICATE blocks of pemCerts and reports
// whether there was any.
func (p *CertPool) AppendCertsFromPEM(pemCerts []byte) bool {
	ok := false
	for len(pemCerts) > 0 {
		var block *pem.Block
		block, pemCerts = pem.Decode(pemCerts)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" && len(block.Headers) == 0 {
			p.AddCert(block.Bytes)
			ok = true
		}
	}
	return ok
}

// stdPool is p for crypto/x509; nil for a nil p.
func (p *CertPool) stdPool() *stdx509.CertPool {
	if p == nil {
		return nil
	}
	p.parsed.stdOnce.Do(func() {
		p.parsed.std = stdx509.NewCertPool()
		for _, der := range p.der {
			if c, err := stdx509.ParseCertificate(der); err == nil {
				p.parsed.std.AddCert(c)
			}
		}
	})
	return p.parsed.std
}
