package realserver

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func truth(t *testing.T, s *Server) *Truth {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tr, err := OpenSSLTruth(ctx, s.Addr, TruthOptions{ServerName: CertHost})
	if err != nil {
		t.Fatalf("OpenSSLTruth: %v\nserver log:\n%s", err, s.Log())
	}
	t.Logf("%s: %d s_client runs in %v", s.Config.Name, tr.Runs, tr.Elapsed.Round(time.Millisecond))
	return tr
}

// ids maps OpenSSL names to code points through tr.Names.
func ids(t *testing.T, tr *Truth, list string) []uint16 {
	t.Helper()
	byName := map[string]uint16{}
	for id, n := range tr.Names {
		byName[n] = id
	}
	var out []uint16
	for _, n := range strings.Split(list, ":") {
		id, ok := byName[n]
		if !ok {
			t.Fatalf("OpenSSL does not know %q", n)
		}
		out = append(out, id)
	}
	return out
}

func acceptedVersions(tr *Truth) []uint16 {
	var vs []uint16
	for v, ok := range tr.Versions {
		if ok {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs
}

func TestTLS13Only(t *testing.T) {
	if testing.Short() {
		t.Skip("starts openssl s_server")
	}
	t.Parallel()
	cfg, _ := ConfigByName("openssl-tls13")
	tr := truth(t, StartT(t, cfg))
	if got := acceptedVersions(tr); !slices.Equal(got, []uint16{TLS13}) {
		t.Errorf("versions %x, want only TLS 1.3", got)
	}
	got := slices.Sorted(slices.Values(tr.Suites[TLS13]))
	if want := []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}; !slices.Equal(got, want) {
		t.Errorf("TLS 1.3 suites %x, want %x", got, want)
	}
	if tr.ServerOrder[TLS13] {
		t.Errorf("server order reported without -serverpref")
	}
}

func TestTLS10Only(t *testing.T) {
	if testing.Short() {
		t.Skip("starts openssl s_server")
	}
	t.Parallel()
	cfg, _ := ConfigByName("openssl-tls10")
	tr := truth(t, StartT(t, cfg))
	if got := acceptedVersions(tr); !slices.Equal(got, []uint16{TLS10}) {
		t.Errorf("versions %x, want only TLS 1.0", got)
	}
	s := tr.Suites[TLS10]
	if !slices.Contains(s, 0xC013) || !slices.Contains(s, 0x002F) {
		t.Errorf("TLS 1.0 suites %x lack ECDHE-RSA-AES128-SHA or AES128-SHA", s)
	}
	for _, id := range s {
		if n := tr.Names[id]; strings.Contains(n, "GCM") || strings.Contains(n, "ECDSA") || strings.Contains(n, "PSK") {
			t.Errorf("TLS 1.0 accepts %s", n)
		}
	}
}

func TestServerPreference(t *testing.T) {
	if testing.Short() {
		t.Skip("starts openssl s_server")
	}
	t.Parallel()
	cfg, _ := ConfigByName("openssl-serverpref")
	tr := truth(t, StartT(t, cfg))
	if got := acceptedVersions(tr); !slices.Equal(got, []uint16{TLS10, TLS11, TLS12, TLS13}) {
		t.Errorf("versions %x, want TLS 1.0–1.3", got)
	}
	// The configured order, less what the version cannot use.
	want12 := ids(t, tr, ServerOrderSuites)
	if got := tr.Suites[TLS12]; !slices.Equal(got, want12) || !tr.ServerOrder[TLS12] {
		t.Errorf("TLS 1.2 order %x (server order %v), want %x", got, tr.ServerOrder[TLS12], want12)
	}
	if !tr.ChaChaPriority[TLS12] {
		t.Errorf("TLS 1.2 ChaCha20 priority not seen with -prioritize_chacha")
	}
	want13 := ids(t, tr, ServerOrderSuites13)
	if got := tr.Suites[TLS13]; !slices.Equal(got, want13) || !tr.ServerOrder[TLS13] {
		t.Errorf("TLS 1.3 order %x (server order %v), want %x", got, tr.ServerOrder[TLS13], want13)
	}
	want10 := slices.DeleteFunc(slices.Clone(want12), func(id uint16) bool {
		n := tr.Names[id]
		return strings.Contains(n, "GCM") || strings.Contains(n, "CHACHA") || strings.Contains(n, "SHA256")
	})
	if got := tr.Suites[TLS10]; !slices.Equal(got, want10) {
		t.Errorf("TLS 1.0 order %x, want %x", got, want10)
	}
}

func TestNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	t.Parallel()
	cfg, _ := ConfigByName("nginx-modern")
	tr := truth(t, StartT(t, cfg))
	if got := acceptedVersions(tr); !slices.Equal(got, []uint16{TLS12, TLS13}) {
		t.Errorf("versions %x, want TLS 1.2 and 1.3", got)
	}
	// The RSA certificate rules the ECDSA suites out.
	want := slices.DeleteFunc(ids(t, tr, mozillaIntermediate), func(id uint16) bool { return strings.Contains(tr.Names[id], "ECDSA") })
	slices.Sort(want)
	if got := tr.Suites[TLS12]; !slices.Equal(got, want) {
		t.Errorf("TLS 1.2 suites %x, want %x", got, want)
	}
	if tr.ServerOrder[TLS12] {
		t.Errorf("server order reported with ssl_prefer_server_ciphers off")
	}
}

func TestProxyCounts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 16)
				n, _ := c.Read(buf)
				c.Write(buf[:n])
				c.Close()
			}()
		}
	}()
	p, err := StartProxy(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 3 {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("ping"))
		buf := make([]byte, 16)
		n, _ := c.Read(buf)
		if string(buf[:n]) != "ping" {
			t.Errorf("connection %d: got %q", i, buf[:n])
		}
		c.Close()
	}
	if n := p.Reset(); n != 3 {
		t.Errorf("counted %d connections, want 3", n)
	}
	if n := p.Connections(); n != 0 {
		t.Errorf("after Reset: %d", n)
	}
}
