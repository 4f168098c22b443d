//go:build linux

package scan

// Tests of the Linux certificate handshake: zcrypto, its crypto/tls
// fallback, and zcrypto/x509's reading of what the server sent.

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// (e), (f) one server per protocol version, and TLS 1.3 with post-quantum
// groups only: zcrypto speaks them all.
func TestFetchCertificateVersions(t *testing.T) {
	p := loadPKI(t)
	tests := []struct {
		name    string
		cfg     *tls.Config
		version uint16
	}{
		{"TLS 1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, tls.VersionTLS10},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}, tls.VersionTLS11},
		{"TLS 1.2", &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}, tls.VersionTLS12},
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, tls.VersionTLS13},
		{"TLS 1.3 X25519MLKEM768 only", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.X25519MLKEM768}}, tls.VersionTLS13},
		{"TLS 1.3 SecP256r1MLKEM768 only", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.SecP256r1MLKEM768}}, tls.VersionTLS13},
		{"TLS 1.3 SecP384r1MLKEM1024 only", &tls.Config{MinVersion: tls.VersionTLS13, CurvePreferences: []tls.CurveID{tls.SecP384r1MLKEM1024}}, tls.VersionTLS13},
		{"TLS 1.2 P-521 only", &tls.Config{MaxVersion: tls.VersionTLS12, CurvePreferences: []tls.CurveID{tls.CurveP521}}, tls.VersionTLS12},
		{"TLS 1.2 static RSA", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, tls.VersionTLS12},
		{"TLS 1.2 3DES", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA}}, tls.VersionTLS12},
		{"TLS 1.2 RC4", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_RC4_128_SHA}}, tls.VersionTLS12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg.Clone()
			cfg.Certificates = []tls.Certificate{p.rsaLeaf}
			srv := startTLSServer(t, cfg)
			info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
			if err != nil {
				t.Fatalf("FetchCertificate: %v", err)
			}
			if uint16(info.Version) != tt.version {
				t.Errorf("Version = %#04x, want %#04x", uint16(info.Version), tt.version)
			}
			if len(cfg.CipherSuites) == 1 && info.CipherSuite != cfg.CipherSuites[0] {
				t.Errorf("CipherSuite = %#04x, want %#04x", info.CipherSuite, cfg.CipherSuites[0])
			}
			if info.Library != LibraryZcrypto {
				t.Errorf("Library = %q (fallback reason %q), want zcrypto", info.Library, info.FallbackReason)
			}
			if len(info.Chain) != 2 || !info.Verified || !info.HostnameMatch {
				t.Errorf("%d certificates, Verified %v (%s), HostnameMatch %v", len(info.Chain), info.Verified, info.VerifyError, info.HostnameMatch)
			}
		})
	}
}

// A server that refuses zcrypto's ClientHello (here: any that offers DHE,
// which crypto/tls does not) is retried with crypto/tls on a new
// connection.
func TestFetchCertificateFallback(t *testing.T) {
	p := loadPKI(t)
	var hellos atomic.Int32
	srv := startTLSServer(t, &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			hellos.Add(1)
			if slices.Contains(hello.CipherSuites, 0x009e) { // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
				return nil, errors.New("intolerant of DHE")
			}
			return nil, nil
		},
		Certificates: []tls.Certificate{p.rsaLeaf},
		MinVersion:   tls.VersionTLS13,
	})
	info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
	if err != nil {
		t.Fatalf("FetchCertificate: %v", err)
	}
	if info.Library != LibraryCryptoTLS || !strings.Contains(info.FallbackReason, "internal error") {
		t.Errorf("Library = %q, FallbackReason = %q; want crypto/tls after zcrypto's internal error alert", info.Library, info.FallbackReason)
	}
	if info.Version != tls.VersionTLS13 || len(info.Chain) != 2 || !info.Verified || !info.HostnameMatch {
		t.Errorf("Version %#04x, %d certificates, Verified %v (%s), HostnameMatch %v", uint16(info.Version), len(info.Chain), info.Verified, info.VerifyError, info.HostnameMatch)
	}
	if n := hellos.Load(); n != 2 {
		t.Errorf("server saw %d ClientHellos, want 2", n)
	}
}

// A handshake that fails after the Certificate message still reports the
// chain, with the error.
func TestFetchCertificateFailsAfterCertificate(t *testing.T) {
	p := loadPKI(t)
	srv := startTLSServer(t, &tls.Config{
		Certificates: []tls.Certificate{p.rsaLeaf},
		MaxVersion:   tls.VersionTLS12,
		ClientAuth:   tls.RequireAnyClientCert,
	})
	info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
	var se *StageError
	if !errors.As(err, &se) || se.Stage != StageHandshake {
		t.Fatalf("error %v, want a StageError at the handshake", err)
	}
	if !strings.Contains(err.Error(), "zcrypto: ") || !strings.Contains(err.Error(), "; crypto/tls: ") {
		t.Errorf("error %q should give both libraries' reasons", err)
	}
	if info == nil {
		t.Fatal("no CertInfo with the chain the server sent")
	}
	if info.Library != LibraryZcrypto || info.Version != tls.VersionTLS12 || len(info.Chain) != 2 || !info.Verified || !info.HostnameMatch {
		t.Errorf("partial CertInfo: Library %q, Version %#04x, %d certificates, Verified %v (%s), HostnameMatch %v",
			info.Library, uint16(info.Version), len(info.Chain), info.Verified, info.VerifyError, info.HostnameMatch)
	}
}

// (g) servers that close at once or never answer, and cancellation.
func TestFetchCertificateFailures(t *testing.T) {

	// These four run in a synctest bubble on in-memory connections: the
	// timeouts are the fake clock's, so the durations are exact.
	t.Run("closes immediately", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			info, dials, err := pipeFetch(t, t.Context(), func(c net.Conn) {}, CertOptions{Timeout: 2 * time.Second})
			var se *StageError
			if !errors.As(err, &se) || se.Stage != StageHandshake || info != nil {
				t.Fatalf("got %+v, %v; want a StageError at the handshake", info, err)
			}
			if !strings.HasPrefix(err.Error(), "scan: handshake: zcrypto: ") || !strings.Contains(err.Error(), "; crypto/tls: ") {
				t.Errorf("error %q", err)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("took %v, want at once", d)
			}
			if dials != 2 {
				t.Errorf("%d connections, want 2 (zcrypto, then the crypto/tls fallback)", dials)
			}
		})
	})

	t.Run("never answers", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			info, dials, err := pipeFetch(t, t.Context(), discard, CertOptions{Timeout: time.Second})
			elapsed := time.Since(start)
			var se *StageError
			if !errors.As(err, &se) || se.Stage != StageHandshake || info != nil {
				t.Fatalf("got %+v, %v; want a StageError at the handshake", info, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "scan: handshake: timed out after 1s: context deadline exceeded" {
				t.Errorf("error %q, want the timeout", err)
			}
			if elapsed != time.Second {
				t.Errorf("took %v, want the 1s timeout", elapsed)
			}
			if dials != 1 {
				t.Errorf("%d connections, want 1: no fallback once the time is up", dials)
			}
		})
	})

	t.Run("ctx deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, _, err := pipeFetch(t, ctx, discard, CertOptions{Timeout: 30 * time.Second})
			if d := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || d != 300*time.Millisecond {
				t.Errorf("after %v: %v; want ctx's deadline after 300ms", d, err)
			}
		})
	})

	t.Run("ctx cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			info, _, err := pipeFetch(t, ctx, discard, CertOptions{Timeout: 30 * time.Second})
			var se *StageError
			if !errors.Is(err, context.Canceled) || !errors.As(err, &se) || se.Stage != StageHandshake || info != nil {
				t.Errorf("got %+v, %v; want a cancelled handshake", info, err)
			}
			if d := time.Since(start); d != 100*time.Millisecond {
				t.Errorf("took %v, want the cancel's 100ms", d)
			}
		})
	})

	t.Run("redial fails", func(t *testing.T) {
		srv := startServer(t, func(c net.Conn) {})
		conn, err := dialer(srv.addr)(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		errNoRoute := errors.New("no route to test host")
		_, err = FetchCertificate(t.Context(), conn, func(context.Context) (net.Conn, error) { return nil, errNoRoute }, CertOptions{Timeout: 2 * time.Second})
		var se *StageError
		if !errors.As(err, &se) || se.Stage != StageDial || !errors.Is(err, errNoRoute) || !strings.Contains(err.Error(), "after zcrypto failed") {
			t.Errorf("error %v, want a StageError at the dial wrapping the dial error", err)
		}
	})

	t.Run("no redial", func(t *testing.T) {
		srv := startServer(t, func(c net.Conn) {})
		conn, err := dialer(srv.addr)(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_, err = FetchCertificate(t.Context(), conn, nil, CertOptions{Timeout: 2 * time.Second})
		var se *StageError
		if !errors.As(err, &se) || se.Stage != StageHandshake || strings.Contains(err.Error(), "crypto/tls") {
			t.Errorf("error %v, want zcrypto's handshake error alone", err)
		}
		if n := srv.accepts.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})

	t.Run("nil conn", func(t *testing.T) {
		_, err := FetchCertificate(t.Context(), nil, nil, CertOptions{})
		var se *StageError
		if !errors.As(err, &se) || se.Stage != StageDial {
			t.Errorf("error %v, want a StageError at the dial", err)
		}
	})
}

// The suites offered are distinct, and as many as FetchCertificate's
// documentation says.
func TestZcryptoSuites(t *testing.T) {
	seen := map[uint16]bool{}
	for _, id := range zcryptoSuites {
		if seen[id] {
			t.Errorf("suite %#04x offered twice", id)
		}
		seen[id] = true
	}
	if len(zcryptoSuites) != 43 {
		t.Errorf("%d suites; update FetchCertificate's documentation", len(zcryptoSuites))
	}
	for _, id := range stdSuites {
		if id>>8 == 0x13 {
			t.Errorf("TLS 1.3 suite %#04x in the crypto/tls list", id)
		}
	}
}

// A certificate zcrypto/x509 cannot parse fails both handshakes, but the
// chain zcrypto received is still reported, the bad certificate by its
// fingerprint.
func TestFetchCertificateUnparsable(t *testing.T) {
	p := loadPKI(t)
	garbage := []byte("\x30\x03\x02\x01\x00 not a certificate")
	tests := []struct {
		name  string
		chain [][]byte
		bad   int
	}{
		{"leaf", [][]byte{garbage}, 0},
		{"intermediate", [][]byte{p.rsaLeaf.Certificate[0], garbage}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startTLSServer(t, &tls.Config{Certificates: []tls.Certificate{{Certificate: tt.chain, PrivateKey: p.rsaLeaf.PrivateKey}}})
			info, err := fetch(t, t.Context(), srv.addr, defaultOpts(p, "example.test"))
			var se *StageError
			if !errors.As(err, &se) || se.Stage != StageHandshake {
				t.Fatalf("error %v, want a StageError at the handshake", err)
			}
			if info == nil || len(info.Chain) != len(tt.chain) {
				t.Fatalf("CertInfo %+v, want the %d certificates sent", info, len(tt.chain))
			}
			bad := info.Chain[tt.bad]
			if bad.ParseError == "" || bad.SHA256 != fingerprint(garbage) || bad.Subject != "" {
				t.Errorf("unparsable certificate summarised as %+v", bad)
			}
			if info.Verified || info.VerifyError == "" {
				t.Errorf("Verified %v, VerifyError %q", info.Verified, info.VerifyError)
			}
			if tt.bad == 0 && !strings.HasPrefix(info.VerifyError, "leaf certificate does not parse: ") {
				t.Errorf("VerifyError %q", info.VerifyError)
			}
			if tt.bad == 1 && (info.Chain[0].Subject != "CN=example.test" || !info.HostnameMatch) {
				t.Errorf("leaf %+v, HostnameMatch %v", info.Chain[0], info.HostnameMatch)
			}
		})
	}
}

// discard is a server that reads everything and never answers.
func discard(c net.Conn) { io.Copy(io.Discard, c) }

// pipeFetch runs FetchCertificate on in-memory connections whose server
// side handle serves (and then closes), redialing the same way; dials
// counts the connections made. Unlike loopback sockets, pipes block
// durably, so this runs in a synctest bubble.
func pipeFetch(t *testing.T, ctx context.Context, handle func(net.Conn), opts CertOptions) (_ *CertInfo, dials int, _ error) {
	t.Helper()
	var wg sync.WaitGroup
	dial := func(context.Context) (net.Conn, error) {
		dials++
		client, server := net.Pipe()
		wg.Go(func() {
			defer server.Close()
			handle(server)
		})
		return client, nil
	}
	conn, _ := dial(ctx)
	info, err := FetchCertificate(ctx, conn, dial, opts)
	wg.Wait()
	return info, dials, err
}
