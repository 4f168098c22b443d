package realserver

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLighttpd starts lighttpd with each TLS module and fetches its page
// over TLS 1.2 (every module has it) with openssl s_client. Not with
// crypto/tls: it always sends status_request, and lighttpd on wolfSSL
// fails every handshake that asks for OCSP stapling when its certificate
// is self-signed ("-275 ASN self-signed certificate error"); tlsmap's and
// truthprobe's hellos carry no status_request.
func TestLighttpd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts lighttpd")
	}
	for _, m := range []string{LighttpdGnuTLS, LighttpdMbedTLS, LighttpdWolfSSL, LighttpdNSS} {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			s := StartT(t, Config{Name: "lighttpd-" + m, Software: Lighttpd, TLSModule: m})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", s.Addr, "-servername", CertHost,
				"-tls1_2", "-quiet", "-ign_eof")
			cmd.Stdin = strings.NewReader("GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "HTTP/1.0 200 OK") {
				t.Errorf("s_client: %v\n%s\nserver log:\n%s", err, out, s.Log())
			}
		})
	}
}

func TestLighttpdConf(t *testing.T) {
	cfg := Config{Software: Lighttpd, TLSModule: LighttpdNSS,
		ConfCmd: [][2]string{{"MinProtocol", "TLSv1.0"}, {"CipherString", "ALL:COMPLEMENTOFALL"}}}
	conf, err := lighttpdConf(cfg, Cert{CertFile: "/d/cert.pem", KeyFile: "/d/key.pem"}, "/d", "127.0.0.1:4433")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`server.bind = "127.0.0.1"`, "server.port = 4433", `server.modules = ( "mod_nss" )`,
		`ssl.pemfile = "/d/cert.pem"`, `ssl.privkey = "/d/key.pem"`,
		`ssl.openssl.ssl-conf-cmd = ( "MinProtocol" => "TLSv1.0", "CipherString" => "ALL:COMPLEMENTOFALL" )`,
	} {
		if !strings.Contains(conf, want+"\n") {
			t.Errorf("no line %q in\n%s", want, conf)
		}
	}
	cfg.ConfCmd = [][2]string{{"CipherString", `ALL"`}}
	if _, err := lighttpdConf(cfg, Cert{}, "/d", "127.0.0.1:4433"); err == nil {
		t.Error("a quote in a value was written")
	}
	if _, err := LighttpdModuleDir("../x"); err == nil {
		t.Error("a module name with a path was accepted")
	}
}
