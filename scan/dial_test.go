package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	wire "github.com/tlsmap/tlsmap/protocols/tls"
)

// startStdTLS serves crypto/tls with cfg on loopback; every connection
// runs one handshake and closes.
func startStdTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_ = tls.Server(c, cfg).Handshake()
			})
		}
	})
	return ln.Addr().String()
}

func TestCryptoTLS12(t *testing.T) {
	t.Parallel()
	suites := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	addr := startStdTLS(t, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suites})
	opts := groupOptions(AllVersions...)
	opts.SkipCert = false
	res := ScanTarget(context.Background(), targetOf(t, addr), opts)
	for _, vr := range res.Versions {
		if vr.Version != wire.VersionTLS12 {
			if vr.Outcome != Rejected {
				t.Errorf("%s: %s %q", vr.Name(), vr.Outcome, vr.Reason)
			}
			continue
		}
		if !slices.Equal(sorted(vr.Suites), sorted(suites)) || len(vr.Inconclusive) > 0 {
			t.Errorf("TLS 1.2: %04x, inconclusive %v", vr.Suites, vr.Inconclusive)
		}
	}
	if res.SSLv2.Outcome != Rejected {
		t.Errorf("SSLv2: %+v", res.SSLv2)
	}
	if res.Cert == nil || len(res.Cert.Chain) != 1 || res.Handshakes.Certificate == 0 {
		t.Errorf("cert %+v (%s), handshakes %+v", res.Cert, res.CertError, res.Handshakes)
	}
	if g := res.Group(GroupECDHE); g == nil || g.Outcome != Accepted || !slices.Contains(g.Groups, 0x001D) {
		t.Errorf("curves: %+v", g)
	}
}

func TestCryptoTLS13(t *testing.T) {
	t.Parallel()
	addr := startStdTLS(t, &tls.Config{MinVersion: tls.VersionTLS13})
	opts := groupOptions(wire.VersionTLS12, wire.VersionTLS13)
	res := ScanTarget(context.Background(), targetOf(t, addr), opts)
	v13 := res.Version(wire.VersionTLS13)
	if want := []uint16{0x1301, 0x1302, 0x1303}; !slices.Equal(sorted(v13.Suites), want) {
		t.Errorf("TLS 1.3: %04x", v13.Suites)
	}
	if v12 := res.Version(wire.VersionTLS12); v12.Outcome != Rejected || v12.Reason != "alert protocol_version" {
		t.Errorf("TLS 1.2: %s %q", v12.Outcome, v12.Reason)
	}
	g := res.Group(GroupTLS13)
	if g == nil || g.Outcome != Accepted || !slices.Contains(g.Groups, 0x001D) || !slices.Contains(g.Groups, 0x0017) {
		t.Errorf("groups: %+v", g)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	srv := faketls.Start(t, faketls.Config{Silent: true, HangFor: time.Minute})
	opts := testOptions(AllVersions...)
	opts.Timeout = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := ScanTarget(ctx, targetOf(t, srv.Addr()), opts)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v after cancel", d)
	}
	if res.Status != StatusInconclusive || res.Error != (Failure{Reason: ReasonCancelled}) {
		t.Errorf("status %s %q", res.Status, res.Error)
	}
	for _, vr := range res.Versions {
		if vr.Outcome != Inconclusive || vr.Reason != ReasonCancelled {
			t.Errorf("%s: %s %q", vr.Name(), vr.Outcome, vr.Reason)
		}
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	res := ScanTarget(context.Background(), targetOf(t, addr), testOptions(AllVersions...))
	if res.Status != StatusUnreachable || res.Error != (Failure{Stage: StageDial, Reason: "connection refused"}) || res.Versions != nil {
		t.Errorf("status %s %q versions %v", res.Status, res.Error, res.Versions)
	}
}

// upgraderTarget checks that a STARTTLS target goes through its upgrader.
func TestNetDialerUpgrader(t *testing.T) {
	t.Parallel()
	srv := faketls.Start(t, faketls.Modern())
	tg := targetOf(t, srv.Addr())
	tg.Protocol = ProtoSMTP
	d := &NetDialer{Timeout: time.Second}
	if _, err := d.Dial(context.Background(), tg); err == nil || !strings.Contains(err.Error(), "scan: preamble:") {
		t.Errorf("no upgrader: %v", err)
	}
	called := false
	d.Upgraders = map[Protocol]Upgrader{ProtoSMTP: func(ctx context.Context, c net.Conn, t Target) error {
		called = true
		return nil
	}}
	c, err := d.Dial(context.Background(), tg)
	if err != nil || !called {
		t.Fatalf("dial: %v, upgrader called %v", err, called)
	}
	c.Close()
}
