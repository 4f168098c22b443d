package realserver

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStunnelHAProxy starts stunnel and haproxy and completes a TLS 1.0
// handshake with each (both are set to allow it) with openssl s_client;
// haproxy also with its ECDSA certificate when asked for an ECDSA suite.
func TestStunnelHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts stunnel and haproxy")
	}
	for _, c := range []struct {
		cfg     Config
		cipher  string
		version string
	}{
		{Config{Name: "stunnel", Software: Stunnel, MinVersion: "TLSv1", Ciphers: "ALL:@SECLEVEL=0"}, "AES128-SHA", "-tls1"},
		{Config{Name: "haproxy", Software: HAProxy, MinVersion: "TLSv1.0", Ciphers: "ALL:@SECLEVEL=0"}, "AES128-SHA", "-tls1"},
		{Config{Name: "haproxy", Software: HAProxy, MinVersion: "TLSv1.0", Ciphers: "ALL:@SECLEVEL=0"}, "ECDHE-ECDSA-AES128-GCM-SHA256", "-tls1_2"},
	} {
		t.Run(c.cfg.Name+"-"+c.cipher, func(t *testing.T) {
			t.Parallel()
			s := StartT(t, c.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "openssl", "s_client", "-connect", s.Addr, "-servername", CertHost,
				c.version, "-cipher", c.cipher+":@SECLEVEL=0").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Cipher is "+c.cipher) {
				t.Errorf("s_client %s %s: %v\n%s\nserver log:\n%s", c.version, c.cipher, err, out, s.Log())
			}
		})
	}
}

func TestStunnelHAProxyConf(t *testing.T) {
	cfg := Config{MinVersion: "TLSv1", Ciphers: "ALL:@SECLEVEL=0", Options: []string{"NO_TICKET"}}
	conf, err := stunnelConf(cfg, Cert{CertFile: "/d/cert.pem", KeyFile: "/d/key.pem"}, "127.0.0.1:4433", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"foreground = yes", "[tls]", "accept = 127.0.0.1:4433", "connect = 127.0.0.1:9",
		"cert = /d/cert.pem", "key = /d/key.pem", "sslVersionMin = TLSv1", "ciphers = ALL:@SECLEVEL=0", "options = NO_TICKET"} {
		if !strings.Contains(conf, want+"\n") {
			t.Errorf("no line %q in\n%s", want, conf)
		}
	}
	cfg.Ciphers = "ALL\nexec = /bin/sh"
	if _, err := stunnelConf(cfg, Cert{}, "127.0.0.1:4433", "127.0.0.1:9"); err == nil {
		t.Error("a newline in a stunnel value was written")
	}
	cfg = Config{MinVersion: "TLSv1.0", Ciphers: "ALL:@SECLEVEL=0"}
	conf, err = haproxyConf(cfg, []string{"/d/rsa.pem", "/d/ecdsa.pem"}, "127.0.0.1:4433", "127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  bind 127.0.0.1:4433 ssl crt /d/rsa.pem crt /d/ecdsa.pem ssl-min-ver TLSv1.0 ciphers ALL:@SECLEVEL=0",
		"  mode tcp", "  server s1 127.0.0.1:9"} {
		if !strings.Contains(conf, want+"\n") {
			t.Errorf("no line %q in\n%s", want, conf)
		}
	}
	cfg.Ciphers = "ALL crt /etc/x.pem"
	if _, err := haproxyConf(cfg, nil, "127.0.0.1:4433", "127.0.0.1:9"); err == nil {
		t.Error("a space in an haproxy bind value was written")
	}
}
