package tls_test

// Codec-built ClientHellos on the wire: every hello is marshaled by the
// codec, sent over loopback to a real TLS server (Go's crypto/tls in-process,
// and openssl s_server started by the test), and the reply is read with the
// codec's Decoder and ParseServerHello. Each case asserts the negotiated
// version, cipher suite and, for TLS 1.3, the key-share group (or the group
// a HelloRetryRequest selects).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	gotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// wireTimeout bounds every connection and every wait on a server.
const wireTimeout = 5 * time.Second

// Code points used below (IANA TLS registries).
const (
	wireECDHERSAAES128CBCSHA    uint16 = 0xc013 // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
	wireECDHERSAAES128GCMSHA256 uint16 = 0xc02f // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	wireAES128GCMSHA256         uint16 = 0x1301 // TLS_AES_128_GCM_SHA256
	wireRSAPKCS1SHA256          uint16 = 0x0401
	wireRSAPKCS1SHA1            uint16 = 0x0201
	wireRSAPSSRSAESHA256        uint16 = 0x0804
	wireECDSAP256SHA256         uint16 = 0x0403
)

// wireCertificate is one RSA certificate for all servers of the test
// binary. crypto/rsa ignores custom random sources, so the key is not
// deterministic; nothing asserted depends on it.
var wireCertificate = sync.OnceValues(func() (wireCert, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return wireCert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tlsmap wire test"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return wireCert{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return wireCert{}, err
	}
	return wireCert{
		tls:     gotls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
})

type wireCert struct {
	tls             gotls.Certificate
	certPEM, keyPEM []byte
}

func wireGetCert(t *testing.T) wireCert {
	t.Helper()
	c, err := wireCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wireRand is a deterministic random source per test case.
func wireRand(name string) io.Reader {
	var seed [32]byte
	copy(seed[:], name)
	return mrand.NewChaCha8(seed)
}

// wireHello describes a ClientHello to build.
type wireHello struct {
	version   tls.Version // legacy_version
	suites    []uint16
	groups    []uint16 // supported_groups; nil leaves the extension out
	keyShares []uint16 // groups of real key shares; with tls13
	tls13     bool     // add supported_versions [TLS 1.3]
}

// build marshals the hello as records, drawing every random byte from r.
func (h wireHello) build(t *testing.T, r io.Reader) []byte {
	t.Helper()
	m := &tls.ClientHello{
		Version:      h.version,
		Random:       make([]byte, 32),
		SessionID:    make([]byte, 32),
		CipherSuites: h.suites,
	}
	if _, err := io.ReadFull(r, m.Random); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(r, m.SessionID); err != nil {
		t.Fatal(err)
	}
	m.Extensions = append(m.Extensions,
		tls.ServerNameExtension("localhost"),
		tls.RenegotiationInfoExtension(nil),
		tls.ECPointFormatsExtension(0),
	)
	if h.groups != nil {
		m.Extensions = append(m.Extensions, tls.SupportedGroupsExtension(h.groups...))
	}
	if h.version >= tls.VersionTLS12 {
		m.Extensions = append(m.Extensions, tls.SignatureAlgorithmsExtension(
			wireRSAPSSRSAESHA256, wireECDSAP256SHA256, wireRSAPKCS1SHA256, wireRSAPKCS1SHA1))
	}
	if h.tls13 {
		var shares []tls.KeyShare
		for _, g := range h.keyShares {
			ks, err := tls.GenerateKeyShare(g, r)
			if err != nil {
				t.Fatal(err)
			}
			shares = append(shares, ks)
		}
		m.Extensions = append(m.Extensions,
			tls.SupportedVersionsExtension(uint16(tls.VersionTLS13)),
			tls.PSKKeyExchangeModesExtension(1), // psk_dhe_ke
			tls.KeyShareExtension(shares...))
	}
	out, err := m.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// wireWant is the expected ServerHello.
type wireWant struct {
	version tls.Version // negotiated
	suite   uint16
	group   uint16 // key_share group (or HRR selected_group); 0: none
	hrr     bool
	legacyV tls.Version // legacy_version; 0: not checked
}

func (w wireWant) check(t *testing.T, sh *tls.ServerHello) {
	t.Helper()
	if got := sh.NegotiatedVersion(); got != w.version {
		t.Errorf("negotiated %v, want %v", got, w.version)
	}
	if w.legacyV != 0 && sh.Version != w.legacyV {
		t.Errorf("legacy_version %v, want %v", sh.Version, w.legacyV)
	}
	if sh.CipherSuite != w.suite {
		t.Errorf("cipher suite %#04x, want %#04x", sh.CipherSuite, w.suite)
	}
	if sh.KeyShareGroup != w.group {
		t.Errorf("key share group %#04x, want %#04x", sh.KeyShareGroup, w.group)
	}
	if sh.HelloRetryRequest != w.hrr {
		t.Errorf("HelloRetryRequest %v, want %v", sh.HelloRetryRequest, w.hrr)
	}
}

// wireExchange dials addr, sends hello and returns the first ServerHello
// (or HelloRetryRequest) the server answers with, read by the codec.
func wireExchange(t *testing.T, addr string, hello []byte) *tls.ServerHello {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wireTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(wireTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(hello); err != nil {
		t.Fatal(err)
	}
	sh, err := wireReadServerHello(conn)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// --- crypto/tls ---------------------------------------------------------

// wireGoServer serves TLS with cfg on 127.0.0.1 until the test ends and
// returns its address. Handshakes fail once the client hangs up after the
// ServerHello; those errors are expected and ignored.
func wireGoServer(t *testing.T, cfg *gotls.Config) string {
	t.Helper()
	cfg.Certificates = []gotls.Certificate{wireGetCert(t).tls}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(wireTimeout))
				_ = gotls.Server(c, cfg).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

func TestWireGoServer(t *testing.T) {
	x25519, p256, mlkem := tls.GroupX25519, tls.GroupP256, tls.GroupX25519MLKEM768
	tests := []struct {
		name  string
		cfg   *gotls.Config
		hello wireHello
		want  wireWant
	}{
		{
			name: "TLS1.0/ECDHE-RSA-AES128-SHA",
			cfg: &gotls.Config{MinVersion: gotls.VersionTLS10, MaxVersion: gotls.VersionTLS10,
				CipherSuites: []uint16{gotls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}},
			hello: wireHello{version: tls.VersionTLS10, suites: []uint16{wireECDHERSAAES128CBCSHA},
				groups: []uint16{x25519, p256}},
			want: wireWant{version: tls.VersionTLS10, legacyV: tls.VersionTLS10, suite: wireECDHERSAAES128CBCSHA},
		},
		{
			name: "TLS1.2/ECDHE-RSA-AES128-GCM-SHA256",
			cfg: &gotls.Config{MinVersion: gotls.VersionTLS12, MaxVersion: gotls.VersionTLS12,
				CipherSuites: []uint16{gotls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
			hello: wireHello{version: tls.VersionTLS12,
				suites: []uint16{wireECDHERSAAES128GCMSHA256, wireECDHERSAAES128CBCSHA},
				groups: []uint16{x25519, p256}},
			want: wireWant{version: tls.VersionTLS12, legacyV: tls.VersionTLS12, suite: wireECDHERSAAES128GCMSHA256},
		},
		{
			name:  "TLS1.3/x25519",
			cfg:   &gotls.Config{MinVersion: gotls.VersionTLS13},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{x25519}, keyShares: []uint16{x25519}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: x25519},
		},
		{
			name:  "TLS1.3/P-256",
			cfg:   &gotls.Config{MinVersion: gotls.VersionTLS13},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{p256}, keyShares: []uint16{p256}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: p256},
		},
		{
			name: "TLS1.3/X25519MLKEM768",
			cfg: &gotls.Config{MinVersion: gotls.VersionTLS13,
				CurvePreferences: []gotls.CurveID{gotls.X25519MLKEM768, gotls.X25519, gotls.CurveP256}},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{mlkem, x25519}, keyShares: []uint16{mlkem}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: mlkem},
		},
		{
			// The server accepts only P-256; the client offers X25519
			// and P-256 but shares a key for X25519 only.
			name: "TLS1.3/HRR-to-P-256",
			cfg: &gotls.Config{MinVersion: gotls.VersionTLS13,
				CurvePreferences: []gotls.CurveID{gotls.CurveP256}},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{x25519, p256}, keyShares: []uint16{x25519}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: p256, hrr: true},
		},
		{
			// Likewise for the hybrid: the only acceptable group is
			// X25519MLKEM768, the client's only share is X25519.
			name: "TLS1.3/HRR-to-X25519MLKEM768",
			cfg: &gotls.Config{MinVersion: gotls.VersionTLS13,
				CurvePreferences: []gotls.CurveID{gotls.X25519MLKEM768}},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{x25519, mlkem}, keyShares: []uint16{x25519}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: mlkem, hrr: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := wireGoServer(t, tt.cfg)
			sh := wireExchange(t, addr, tt.hello.build(t, wireRand(t.Name())))
			tt.want.check(t, sh)
			t.Logf("%s: ServerHello %v suite %#04x group %#04x hrr %v", tt.name, sh.NegotiatedVersion(), sh.CipherSuite, sh.KeyShareGroup, sh.HelloRetryRequest)
		})
	}
}

// --- openssl s_server ---------------------------------------------------

// wireNeedOpenSSL returns the openssl binary, or skips the test loudly: the
// TLSMAP-SKIP line is what .ci/run greps for, and testenv fails the test
// outright in CI.
func wireNeedOpenSSL(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts openssl s_server; skipped in -short mode")
	}
	bin, err := exec.LookPath("openssl")
	if err != nil {
		fmt.Println("TLSMAP-SKIP: openssl not installed — CI must install it")
		testenv.Missing(t, "openssl not installed — CI must install it")
	}
	return bin
}

// wireOpenSSL starts bin s_server with args on 127.0.0.1, a free port and
// the test certificate, and returns the address once it accepts. The
// process is killed when the test ends. Losing the race for the port to
// another process is retried.
func wireOpenSSL(t *testing.T, bin string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	cert := wireGetCert(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, cert.certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, cert.keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	for range 3 {
		var addr string
		addr, err = wireStartOpenSSL(t, bin, append([]string{"-cert", certFile, "-key", keyFile}, args...))
		if err == nil {
			return addr
		}
	}
	t.Fatal(err)
	return ""
}

// wireStartOpenSSL makes one attempt of wireOpenSSL.
func wireStartOpenSSL(t *testing.T, bin string, args []string) (string, error) {
	t.Helper()
	port, err := wireFreePort()
	if err != nil {
		return "", err
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	full := append([]string{"s_server", "-accept", addr, "-naccept", "1000", "-quiet"}, args...)
	cmd := exec.Command(bin, full...)
	var out bytes.Buffer // written by one goroutine of cmd; read after Wait
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-done
	}
	// Wait for the port to accept, or for s_server to exit (a bad flag,
	// or the port taken meanwhile).
	deadline := time.Now().Add(wireTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			t.Cleanup(stop)
			return addr, nil
		}
		select {
		case <-done:
			return "", fmt.Errorf("openssl %s exited: %s", strings.Join(full, " "), out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("openssl s_server did not accept on %s within %v: %s", addr, wireTimeout, out.String())
		}
	}
}

// wireFreePort returns a port that was free a moment ago on 127.0.0.1.
func wireFreePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

func TestWireOpenSSL(t *testing.T) {
	bin := wireNeedOpenSSL(t)
	x25519, p256 := tls.GroupX25519, tls.GroupP256
	tests := []struct {
		name  string
		args  []string
		hello wireHello
		want  wireWant
	}{
		{
			name: "TLS1.0/ECDHE-RSA-AES128-SHA",
			// OpenSSL 3 refuses TLS 1.0 (SHA-1 signatures) above
			// security level 0.
			args: []string{"-tls1", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"},
			hello: wireHello{version: tls.VersionTLS10, suites: []uint16{wireECDHERSAAES128CBCSHA},
				groups: []uint16{x25519, p256}},
			want: wireWant{version: tls.VersionTLS10, legacyV: tls.VersionTLS10, suite: wireECDHERSAAES128CBCSHA},
		},
		{
			name: "TLS1.2/ECDHE-RSA-AES128-GCM-SHA256",
			args: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"},
			hello: wireHello{version: tls.VersionTLS12,
				suites: []uint16{wireECDHERSAAES128CBCSHA, wireECDHERSAAES128GCMSHA256},
				groups: []uint16{x25519, p256}},
			want: wireWant{version: tls.VersionTLS12, legacyV: tls.VersionTLS12, suite: wireECDHERSAAES128GCMSHA256},
		},
		{
			name:  "TLS1.3/x25519",
			args:  []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519:P-256"},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{x25519}, keyShares: []uint16{x25519}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: x25519},
		},
		{
			name:  "TLS1.3/P-256",
			args:  []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "X25519:P-256"},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{p256}, keyShares: []uint16{p256}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: p256},
		},
		{
			name:  "TLS1.3/HRR-to-P-256",
			args:  []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-groups", "P-256"},
			hello: wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256}, groups: []uint16{x25519, p256}, keyShares: []uint16{x25519}, tls13: true},
			want:  wireWant{version: tls.VersionTLS13, legacyV: tls.VersionTLS12, suite: wireAES128GCMSHA256, group: p256, hrr: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := wireOpenSSL(t, bin, tt.args...)
			sh := wireExchange(t, addr, tt.hello.build(t, wireRand(t.Name())))
			tt.want.check(t, sh)
			t.Logf("%s: ServerHello %v suite %#04x group %#04x hrr %v", tt.name, sh.NegotiatedVersion(), sh.CipherSuite, sh.KeyShareGroup, sh.HelloRetryRequest)
		})
	}
}

// wireReadServerHello reads records from r with the codec's Decoder until
// it yields the ServerHello, and parses it with ParseServerHello. An alert
// first is an error naming the alert.
func wireReadServerHello(r io.Reader) (*tls.ServerHello, error) {
	d := tls.NewDecoder(0)
	buf := make([]byte, 4096)
	for {
		ev, err := tls.ReadEvent(r, d, buf)
		if err != nil {
			return nil, fmt.Errorf("no ServerHello: %w", err)
		}
		switch {
		case ev.Kind == tls.EventAlert:
			return nil, fmt.Errorf("server sent alert %v before its ServerHello", ev.Alert)
		case ev.Kind == tls.EventHandshake && ev.HandshakeType == tls.TypeServerHello:
			return tls.ParseServerHello(ev.Message)
		case ev.Kind == tls.EventHandshake:
			return nil, fmt.Errorf("server sent %v before its ServerHello", ev.HandshakeType)
		}
	}
}

// TestWireHelloDeterministic checks that a hello, key shares included, is a
// function of the seed alone, so that failures above replay byte for byte.
func TestWireHelloDeterministic(t *testing.T) {
	h := wireHello{version: tls.VersionTLS12, suites: []uint16{wireAES128GCMSHA256},
		groups:    []uint16{tls.GroupX25519MLKEM768, tls.GroupX25519, tls.GroupP256},
		keyShares: []uint16{tls.GroupX25519MLKEM768, tls.GroupX25519, tls.GroupP256}, tls13: true}
	a, b := h.build(t, wireRand("seed")), h.build(t, wireRand("seed"))
	if !bytes.Equal(a, b) {
		t.Error("the same seed built two different hellos")
	}
	if c := h.build(t, wireRand("other seed")); bytes.Equal(a, c) {
		t.Error("two seeds built the same hello")
	}
}
