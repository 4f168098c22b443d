//go:build linux

package sniff

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
	wire "github.com/tlsmap/tlsmap/protocols/tls"
)

// TestLiveLoopback captures on lo while crypto/tls clients pinned to
// TLS 1.0 and TLS 1.2 handshake with a crypto/tls server on 127.0.0.1, and
// requires both flows with the versions the clients negotiated.
func TestLiveLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "live capture needs root (CI runs as root)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvConf := &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}, MinVersion: tls.VersionTLS10}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				tc := tls.Server(c, srvConf)
				if tc.Handshake() == nil {
					tc.Write([]byte("hello\n"))
				}
			}()
		}
	}()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src, err := OpenLive(ctx, LiveConfig{Interface: "lo", SnapLen: 4096, BufferSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	flows := make(chan *Flow, 16)
	// Other tests (and people) use lo too: keep only our server's port.
	s := New(Config{EmitEarly: true, Filter: &Filter{Ports: []uint16{port}}}, func(f *Flow) { flows <- f })
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, src) }()

	type result struct {
		version uint16
		cipher  uint16
	}
	want := map[string]result{}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS12} {
		sni := "tls" + map[uint16]string{tls.VersionTLS10: "10", tls.VersionTLS12: "12"}[v] + ".live.test"
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{
			ServerName: sni, InsecureSkipVerify: true, MinVersion: v, MaxVersion: v,
		})
		if err != nil {
			t.Fatalf("client %s: %v", sni, err)
		}
		st := c.ConnectionState()
		want[sni] = result{st.Version, st.CipherSuite}
		c.Close()
	}

	got := map[string]*Flow{}
	timeout := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case f := <-flows:
			if f.HasClientHello() {
				got[f.SNI] = f
			}
		case <-timeout:
			t.Fatalf("after 10s the capture found %d of %d handshakes: %v", len(got), len(want), got)
		}
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v", err)
	}
	ks, err := src.Stats()
	if err != nil {
		t.Error(err)
	}
	if err := src.Close(); err != nil {
		t.Error(err)
	}
	if ks.Packets == 0 {
		t.Errorf("kernel counters: %+v, want packets", ks)
	}
	t.Logf("kernel counters: %+v; sniffer: %d packets", ks, s.Stats().Packets)

	for sni, w := range want {
		f := got[sni]
		if f == nil {
			t.Errorf("%s: no flow", sni)
			continue
		}
		if f.Version != wire.Version(w.version) || f.Cipher != w.cipher {
			t.Errorf("%s: negotiated %v 0x%04X, the client says %v 0x%04X", sni,
				f.Version, f.Cipher, wire.Version(w.version), w.cipher)
		}
		if f.Server != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port) {
			t.Errorf("%s: server %v", sni, f.Server)
		}
		if wantLegacy := w.version == tls.VersionTLS10; IsLegacy(f) != wantLegacy {
			t.Errorf("%s: IsLegacy = %v", sni, IsLegacy(f))
		}
	}
}

func TestLiveErrors(t *testing.T) {
	_, err := OpenLive(context.Background(), LiveConfig{Interface: "tlsmap-nonexistent0"})
	if !errors.Is(err, ErrNoInterface) {
		t.Errorf("missing interface: %v, want ErrNoInterface", err)
	}
	var le *LiveError
	if !errors.As(err, &le) || le.Interface != "tlsmap-nonexistent0" {
		t.Errorf("error %v is not a LiveError naming the interface", err)
	}
	if _, err := OpenLive(context.Background(), LiveConfig{}); err == nil {
		t.Error("no interface: no error")
	}
}

// TestLiveFilter checks that the socket filter assembles, with the
// outgoing-frame check only on loopback (x/net/bpf's VM cannot run the
// packet-type extension; TestLiveLoopback exercises it in the kernel).
func TestLiveFilter(t *testing.T) {
	for _, loop := range []bool{false, true} {
		prog, err := liveFilter(loop, 128)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(prog); loop && n != 4 || !loop && n != 1 {
			t.Errorf("loopback=%v: %d instructions", loop, n)
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "live.test"},
		DNSNames:     []string{"*.live.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
