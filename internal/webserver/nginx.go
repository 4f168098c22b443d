package webserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NginxFormat is the access log format StartNginx configures by default:
// nginx's "combined" followed by the TLS version and cipher, and the
// PROXY protocol source when there is one.
const NginxFormat = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $ssl_protocol $ssl_cipher $proxy_protocol_addr`

// Nginx is a running nginx.
type Nginx struct {
	// HTTPS and HTTP take TLS and plain HTTP; HTTPSProxied and
	// HTTPProxied the same after a PROXY protocol header (listen …
	// proxy_protocol).
	HTTPS, HTTP, HTTPSProxied, HTTPProxied string
	AccessLog                              string // the log_format's lines
	Dir                                    string
}

// NginxOptions configure StartNginx.
type NginxOptions struct {
	// LogFormat is the log_format of the access log (default NginxFormat).
	LogFormat string
}

// StartNginx starts nginx on four loopback ports and stops it when the
// test ends. A missing nginx or openssl, or not being root, skips the test
// (fails it in CI).
func StartNginx(t testing.TB, opts NginxOptions) *Nginx {
	t.Helper()
	bin := sbin(t, "nginx")
	needRoot(t, "nginx")
	if opts.LogFormat == "" {
		opts.LogFormat = NginxFormat
	}
	dir := tempDir(t, "tlsmap-nginx-")
	cert, _ := certs(t, dir)
	var n *Nginx
	retry(t, "nginx", func() error {
		ports, err := freePorts(4)
		if err != nil {
			return err
		}
		n = &Nginx{HTTPS: fmt.Sprintf("127.0.0.1:%d", ports[0]), HTTP: fmt.Sprintf("127.0.0.1:%d", ports[1]),
			HTTPSProxied: fmt.Sprintf("127.0.0.1:%d", ports[2]), HTTPProxied: fmt.Sprintf("127.0.0.1:%d", ports[3]),
			AccessLog: filepath.Join(dir, "access.log"), Dir: dir}
		for _, sub := range []string{"tmp", "logs"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return err
			}
		}
		var b strings.Builder
		w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
		w("user root;")
		w("worker_processes 1;")
		w("pid %s/nginx.pid;", dir)
		w("error_log %s/error.log notice;", dir)
		w("events { worker_connections 256; }")
		w("http {")
		for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
			w("  %s_temp_path %s/tmp/%s;", tmp, dir, tmp)
		}
		w("  log_format tlsmap '%s';", strings.ReplaceAll(opts.LogFormat, "'", `\'`))
		w("  access_log %s tlsmap;", n.AccessLog)
		w("  ssl_certificate %s;", cert.CertFile)
		w("  ssl_certificate_key %s;", cert.KeyFile)
		w("  ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;")
		w("  ssl_ciphers 'ALL:@SECLEVEL=0';")
		w("  ssl_session_tickets off;")
		w("  server {")
		w("    listen %s ssl;", n.HTTPS)
		w("    listen %s;", n.HTTP)
		w("    listen %s ssl proxy_protocol;", n.HTTPSProxied)
		w("    listen %s proxy_protocol;", n.HTTPProxied)
		w("    server_name localhost;")
		w("    location / { return 200 \"ok\\n\"; }")
		w("  }")
		w("}")
		conf := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			return err
		}
		cmd := exec.Command(bin, "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf, "-g", "daemon off;")
		p, err := start(t, dir, "nginx", cmd, []string{n.HTTPS, n.HTTP, n.HTTPSProxied, n.HTTPProxied})
		if err != nil {
			errLog, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return fmt.Errorf("%w\n%s", err, errLog)
		}
		_ = p
		return nil
	})
	return n
}
