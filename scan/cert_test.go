package scan

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	stdx509 "crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// testNow is the injected clock of every certificate test; the test
// certificates' validity periods are placed around it.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

const day = 24 * time.Hour

// testPKI is a root CA, an intermediate, and server certificates generated
// in memory with crypto/x509.
type testPKI struct {
	rootDER, interDER []byte
	roots             *CertPool // holding the root

	rsaLeaf    tls.Certificate // RSA 2048, example.test + 127.0.0.1 + ::1, via the intermediate, 90 days left
	ecdsaLeaf  tls.Certificate // ECDSA P-256, example.test, via the intermediate, 45 days left
	selfSigned tls.Certificate // ECDSA P-256, self.test, self-signed
	expired    tls.Certificate // ECDSA P-256, example.test, expired 10 days and 1 hour before testNow
}

var (
	pkiOnce sync.Once
	pki     *testPKI
	pkiErr  error
)

func loadPKI(t *testing.T) *testPKI {
	t.Helper()
	pkiOnce.Do(func() { pki, pkiErr = newTestPKI() })
	if pkiErr != nil {
		t.Fatalf("generating test certificates: %v", pkiErr)
	}
	return pki
}

func newTestPKI() (*testPKI, error) {
	p := &testPKI{}
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ca := func(serial int64, cn string) *stdx509.Certificate {
		return &stdx509.Certificate{
			SerialNumber:          big.NewInt(serial),
			Subject:               pkix.Name{CommonName: cn, Organization: []string{"tlsmap tests"}},
			NotBefore:             testNow.Add(-365 * day),
			NotAfter:              testNow.Add(3650 * day),
			KeyUsage:              stdx509.KeyUsageCertSign | stdx509.KeyUsageCRLSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
	}
	rootTmpl := ca(1, "tlsmap test root")
	p.rootDER, err = stdx509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	root, err := stdx509.ParseCertificate(p.rootDER)
	if err != nil {
		return nil, err
	}
	p.interDER, err = stdx509.CreateCertificate(rand.Reader, ca(2, "tlsmap test intermediate"), root, interKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	inter, err := stdx509.ParseCertificate(p.interDER)
	if err != nil {
		return nil, err
	}

	leaf := func(serial int64, cn string, notBefore, notAfter time.Time) *stdx509.Certificate {
		return &stdx509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			DNSNames:     []string{cn},
			NotBefore:    notBefore,
			NotAfter:     notAfter,
			KeyUsage:     stdx509.KeyUsageDigitalSignature | stdx509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []stdx509.ExtKeyUsage{stdx509.ExtKeyUsageServerAuth},
		}
	}
	issue := func(tmpl *stdx509.Certificate, key crypto.Signer, parent *stdx509.Certificate, parentKey crypto.Signer, chain ...[]byte) (tls.Certificate, error) {
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := stdx509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: append([][]byte{der}, chain...), PrivateKey: key}, nil
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	rsaTmpl := leaf(0x1001, "example.test", testNow.Add(-30*day), testNow.Add(90*day))
	rsaTmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if p.rsaLeaf, err = issue(rsaTmpl, rsaKey, inter, interKey, p.interDER); err != nil {
		return nil, err
	}

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if p.ecdsaLeaf, err = issue(leaf(0x1002, "example.test", testNow.Add(-day), testNow.Add(45*day+6*time.Hour)), ecKey, inter, interKey, p.interDER); err != nil {
		return nil, err
	}
	if p.selfSigned, err = issue(leaf(0x1003, "self.test", testNow.Add(-day), testNow.Add(30*day)), ecKey, nil, nil); err != nil {
		return nil, err
	}
	if p.expired, err = issue(leaf(0x1004, "example.test", testNow.Add(-400*day), testNow.Add(-10*day-time.Hour)), ecKey, inter, interKey, p.interDER); err != nil {
		return nil, err
	}

	p.roots = NewCertPool()
	p.roots.AddCert(p.rootDER)
	return p, nil
}

// server is a loopback listener whose connections handle runs on.
type server struct {
	addr    string
	accepts atomic.Int32
}

// startServer listens on 127.0.0.1 and runs handle on each connection until
// the test ends.
func startServer(t *testing.T, handle func(net.Conn)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			wg.Go(func() {
				defer c.Close()
				stop := context.AfterFunc(t.Context(), func() { c.Close() })
				defer stop()
				select {
				case <-done:
				default:
					handle(c)
				}
			})
		}
	})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	return s
}

// startTLSServer serves crypto/tls handshakes with cfg, then reads until
// the client goes.
func startTLSServer(t *testing.T, cfg *tls.Config) *server {
	t.Helper()
	return startServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			io.Copy(io.Discard, tc)
		}
	})
}

func dialer(addr string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// fetch dials addr and runs FetchCertificate with a redial to addr.
func fetch(t *testing.T, ctx context.Context, addr string, opts CertOptions) (*CertInfo, error) {
	t.Helper()
	dial := dialer(addr)
	conn, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return FetchCertificate(ctx, conn, dial, opts)
}

func defaultOpts(p *testPKI, serverName string) CertOptions {
	return CertOptions{ServerName: serverName, Roots: p.roots, Now: fixedNow, Timeout: 5 * time.Second}
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// (a) a valid chain, leaf and intermediate, for example.test
func TestFetchCertificateValidChain(t *testing.T) {
	p := loadPKI(t)
	srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{p.rsaLeaf}})

	info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	if !info.Verified || info.VerifyError != "" {
		t.Errorf("Verified = %v, VerifyError = %q; want a verified chain", info.Verified, info.VerifyError)
	}
	if !info.HostnameMatch || info.HostnameError != "" {
		t.Errorf("HostnameMatch = %v, HostnameError = %q; want a match for example.test", info.HostnameMatch, info.HostnameError)
	}
	if info.Library != LibraryZcrypto || info.FallbackReason != "" {
		t.Errorf("Library = %q (fallback reason %q), want %q", info.Library, info.FallbackReason, LibraryZcrypto)
	}
	if info.Version != tls.VersionTLS13 || !slices.Contains([]uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}, info.CipherSuite) {
		t.Errorf("Version %#04x, CipherSuite %#04x; want TLS 1.3 and a TLS 1.3 suite", uint16(info.Version), info.CipherSuite)
	}
	if len(info.Chain) != 2 {
		t.Fatalf("Chain has %d certificates, want leaf and intermediate: %+v", len(info.Chain), info.Chain)
	}
	leaf, inter := info.Chain[0], info.Chain[1]
	want := CertSummary{
		Subject:            "CN=example.test",
		Issuer:             "CN=tlsmap test intermediate, O=tlsmap tests",
		SANs:               []string{"example.test", "127.0.0.1", "::1"},
		Serial:             "1001",
		NotBefore:          testNow.Add(-30 * day),
		NotAfter:           testNow.Add(90 * day),
		DaysToExpiry:       90,
		KeyType:            "RSA",
		KeyBits:            2048,
		SignatureAlgorithm: "ECDSA-SHA256",
		SHA256:             fingerprint(p.rsaLeaf.Certificate[0]),
	}
	if !leaf.NotBefore.Equal(want.NotBefore) || !leaf.NotAfter.Equal(want.NotAfter) {
		t.Errorf("leaf validity %v – %v, want %v – %v", leaf.NotBefore, leaf.NotAfter, want.NotBefore, want.NotAfter)
	}
	leaf.NotBefore, leaf.NotAfter = want.NotBefore, want.NotAfter
	if !reflect.DeepEqual(leaf, want) {
		t.Errorf("leaf summary\n got %+v\nwant %+v", leaf, want)
	}
	if !inter.IsCA || inter.SelfSigned || inter.KeyType != "ECDSA" || inter.Curve != "P-256" ||
		inter.Subject != "CN=tlsmap test intermediate, O=tlsmap tests" || inter.Issuer != "CN=tlsmap test root, O=tlsmap tests" ||
		inter.SHA256 != fingerprint(p.interDER) || inter.DaysToExpiry != 3650 {
		t.Errorf("intermediate summary %+v", inter)
	}

	// The same chain checked against other names.
	for _, tt := range []struct {
		name    string
		match   bool
		inError string
	}{
		{"other.test", false, "other.test"},
		{"EXAMPLE.test", true, ""},
		{"127.0.0.1", true, ""},
		{"::1", true, ""},
		{"[::1]", true, ""},
		{"127.0.0.2", false, "127.0.0.2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, tt.name))
			if err != nil {
				t.Fatalf("FetchCertificate: %v", err)
			}
			if info.HostnameMatch != tt.match || !strings.Contains(info.HostnameError, tt.inError) || (tt.match != (info.HostnameError == "")) {
				t.Errorf("ServerName %q: HostnameMatch = %v, HostnameError = %q; want %v (error mentioning %q)", tt.name, info.HostnameMatch, info.HostnameError, tt.match, tt.inError)
			}
			if !info.Verified {
				t.Errorf("ServerName %q: chain not verified: %s", tt.name, info.VerifyError)
			}
		})
	}

	t.Run("no name", func(t *testing.T) {
		info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, ""))
		if err != nil {
			t.Fatalf("FetchCertificate: %v", err)
		}
		if info.HostnameMatch || info.HostnameError != "" || !info.Verified {
			t.Errorf("without ServerName: HostnameMatch %v, HostnameError %q, Verified %v", info.HostnameMatch, info.HostnameError, info.Verified)
		}
	})

	t.Run("other roots", func(t *testing.T) {
		opts := defaultOpts(p, "example.test")
		opts.Roots = NewCertPool()
		info, err := fetch(t, t.Context(), srv.addr, opts)
		if err != nil {
			t.Fatalf("FetchCertificate: %v", err)
		}
		if info.Verified || !strings.Contains(info.VerifyError, "unknown authority") {
			t.Errorf("with an empty root pool: Verified %v, VerifyError %q", info.Verified, info.VerifyError)
		}
	})
}

// (b) a self-signed leaf
func TestFetchCertificateSelfSigned(t *testing.T) {
	p := loadPKI(t)
	srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{p.selfSigned}})
	info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "self.test"))
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	if info.Verified || info.VerifyError != "x509: certificate is self-signed and not a trusted root" {
		t.Errorf("Verified = %v, VerifyError = %q; want a self-signed error", info.Verified, info.VerifyError)
	}
	if len(info.Chain) != 1 || !info.Chain[0].SelfSigned || info.Chain[0].Subject != info.Chain[0].Issuer {
		t.Fatalf("Chain = %+v, want one self-signed certificate", info.Chain)
	}
	if !info.HostnameMatch {
		t.Errorf("HostnameMatch = false (%s), want true: the name matches though the chain does not verify", info.HostnameError)
	}
}

// (c) an expired leaf
func TestFetchCertificateExpired(t *testing.T) {
	p := loadPKI(t)
	srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{p.expired}})
	info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	want := `x509: certificate has expired or is not yet valid: leaf "example.test" expired at 2026-02-19T11:00:00Z (now 2026-03-01T12:00:00Z)`
	if info.Verified || info.VerifyError != want {
		t.Errorf("Verified = %v, VerifyError\n got %q\nwant %q", info.Verified, info.VerifyError, want)
	}
	if got := info.Chain[0].DaysToExpiry; got != -11 {
		t.Errorf("DaysToExpiry = %d, want -11 (10 days and an hour ago, rounded down)", got)
	}
	if !info.HostnameMatch {
		t.Errorf("HostnameMatch = false: %s", info.HostnameError)
	}

	// The same certificate, a clock set within its validity: it verifies.
	opts := defaultOpts(p, "example.test")
	opts.Now = func() time.Time { return testNow.Add(-20 * day) }
	info, err = fetch(t, t.Context(), srv.addr, opts)
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	if !info.Verified || info.Chain[0].DaysToExpiry != 9 {
		t.Errorf("20 days earlier: Verified %v (%s), DaysToExpiry %d; want verified, 9", info.Verified, info.VerifyError, info.Chain[0].DaysToExpiry)
	}
}

// (d) an ECDSA leaf
func TestFetchCertificateECDSA(t *testing.T) {
	p := loadPKI(t)
	srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{p.ecdsaLeaf}})
	info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	leaf := info.Chain[0]
	if leaf.KeyType != "ECDSA" || leaf.KeyBits != 256 || leaf.Curve != "P-256" {
		t.Errorf("KeyType %q, KeyBits %d, Curve %q; want ECDSA, 256, P-256", leaf.KeyType, leaf.KeyBits, leaf.Curve)
	}
	if leaf.DaysToExpiry != 45 || !info.Verified || !info.HostnameMatch {
		t.Errorf("DaysToExpiry %d, Verified %v (%s), HostnameMatch %v", leaf.DaysToExpiry, info.Verified, info.VerifyError, info.HostnameMatch)
	}
}

func TestDaysBetween(t *testing.T) {
	tests := []struct {
		end  time.Time
		want int
	}{
		{testNow, 0},
		{testNow.Add(time.Hour), 0},
		{testNow.Add(day - time.Second), 0},
		{testNow.Add(day), 1},
		{testNow.Add(-time.Second), -1},
		{testNow.Add(-day), -1},
		{testNow.Add(-day - time.Second), -2},
		{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 2912383},
		{time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), -27819},
	}
	for _, tt := range tests {
		if got := daysBetween(testNow, tt.end); got != tt.want {
			t.Errorf("daysBetween(%v, %v) = %d, want %d", testNow, tt.end, got, tt.want)
		}
	}
}

// A real OpenSSL server, with a certificate made by openssl req.
func TestFetchCertificateOpenSSL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts openssl s_server; skipped in -short mode")
	}
	openssl := testenv.NeedProgram(t, "openssl")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	out, err := exec.CommandContext(t.Context(), openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=openssl.test",
		"-addext", "subjectAltName=DNS:openssl.test").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	pemBytes, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		t.Fatalf("no PEM in %s", cert)
	}
	zcert, err := stdx509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := NewCertPool()
	roots.AddCert(block.Bytes)
	// The certificate is valid from now on: use the real clock, a day on.
	now := func() time.Time { return zcert.NotBefore.Add(day) }

	tests := []struct {
		name    string
		args    []string
		version uint16
		suite   uint16
	}{
		{"default", nil, tls.VersionTLS13, 0},
		{"TLS 1.2 ECDHE", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"}, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
		{"TLS 1.2 DHE", []string{"-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"}, tls.VersionTLS12, 0x009e},
		{"TLS 1.0", []string{"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"}, tls.VersionTLS10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startOpenSSL(t, openssl, append([]string{"-cert", cert, "-key", key}, tt.args...))
			info, err := fetch(t, t.Context(), addr, CertOptions{ServerName: "openssl.test", Roots: roots, Now: now, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatalf("FetchCertificate: %v", err)
			}
			if info.Library != LibraryZcrypto || uint16(info.Version) != tt.version || (tt.suite != 0 && info.CipherSuite != tt.suite) {
				t.Errorf("Library %q (%s), Version %#04x, CipherSuite %#04x; want zcrypto, %#04x, %#04x", info.Library, info.FallbackReason, uint16(info.Version), info.CipherSuite, tt.version, tt.suite)
			}
			if len(info.Chain) != 1 || !info.Verified || !info.HostnameMatch {
				t.Fatalf("%d certificates, Verified %v (%s), HostnameMatch %v (%s)", len(info.Chain), info.Verified, info.VerifyError, info.HostnameMatch, info.HostnameError)
			}
			leaf := info.Chain[0]
			if leaf.KeyType != "RSA" || leaf.KeyBits != 2048 || !leaf.SelfSigned || leaf.Subject != "CN=openssl.test" || leaf.DaysToExpiry != 29 || leaf.SHA256 != fingerprint(block.Bytes) {
				t.Errorf("leaf %+v", leaf)
			}
		})
	}
}

// startOpenSSL runs openssl s_server on a loopback port until the test
// ends and returns its address.
func startOpenSSL(t *testing.T, openssl string, args []string) string {
	t.Helper()
	cmd := exec.Command(openssl, append([]string{"s_server", "-accept", "127.0.0.1:0", "-www"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			cmd.Wait()
			t.Fatalf("openssl s_server %q exited: %s", args, stderr.String())
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("openssl s_server %q did not start: %s", args, stderr.String())
	}
	return ""
}

// The crypto/tls backend (the only one off Linux) reads the same servers
// as the platform's: the same chain summaries, the same verdicts.
func TestFetchCertificateStdBackend(t *testing.T) {
	p := loadPKI(t)
	tests := []struct {
		name       string
		cert       tls.Certificate
		serverName string
		roots      *CertPool
		verified   bool
		hostname   bool
	}{
		{"valid chain", p.rsaLeaf, "example.test", p.roots, true, true},
		{"IP SAN", p.rsaLeaf, "127.0.0.1", p.roots, true, true},
		{"wrong name", p.rsaLeaf, "other.test", p.roots, true, false},
		{"other roots", p.rsaLeaf, "example.test", NewCertPool(), false, true},
		{"ECDSA", p.ecdsaLeaf, "example.test", p.roots, true, true},
		{"self-signed", p.selfSigned, "self.test", p.roots, false, true},
		{"expired", p.expired, "example.test", p.roots, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{tt.cert}})
			opts := CertOptions{ServerName: tt.serverName, Roots: tt.roots, Now: fixedNow, Timeout: 5 * time.Second}
			conn, err := dialer(srv.addr)(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			std, err := stdBackend.fetch(t.Context(), conn, nil, opts)
			if err != nil {
				t.Fatalf("crypto/tls backend: %v", err)
			}
			if std.Library != LibraryCryptoTLS || std.FallbackReason != "" {
				t.Errorf("Library %q, FallbackReason %q; want crypto/tls, none", std.Library, std.FallbackReason)
			}
			if std.Verified != tt.verified || std.HostnameMatch != tt.hostname {
				t.Errorf("Verified %v (%s), HostnameMatch %v (%s); want %v, %v",
					std.Verified, std.VerifyError, std.HostnameMatch, std.HostnameError, tt.verified, tt.hostname)
			}
			if std.Verified == (std.VerifyError != "") {
				t.Errorf("Verified %v with VerifyError %q", std.Verified, std.VerifyError)
			}
			if tt.name == "expired" && !strings.Contains(std.VerifyError, `leaf "example.test" expired at 2026-02-19T11:00:00Z (now 2026-03-01T12:00:00Z)`) {
				t.Errorf("VerifyError %q does not say which certificate expired when", std.VerifyError)
			}
			plat, err := fetch(t, t.Context(), srv.addr, opts)
			if err != nil {
				t.Fatalf("FetchCertificate: %v", err)
			}
			// The DN spellings differ: crypto/x509 joins the RDNs with
			// "," (RFC 4514), zcrypto with ", ".
			platChain := slices.Clone(plat.Chain)
			for i := range platChain {
				platChain[i].Subject = strings.ReplaceAll(platChain[i].Subject, ", ", ",")
				platChain[i].Issuer = strings.ReplaceAll(platChain[i].Issuer, ", ", ",")
			}
			if !reflect.DeepEqual(std.Chain, platChain) {
				t.Errorf("chain\ncrypto/x509: %+v\n   platform: %+v", std.Chain, plat.Chain)
			}
			if std.Verified != plat.Verified || std.HostnameMatch != plat.HostnameMatch ||
				std.Version != plat.Version || std.CipherSuite != plat.CipherSuite {
				t.Errorf("crypto/tls backend %+v, platform %+v", std, plat)
			}
		})
	}
}
