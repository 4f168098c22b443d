package realserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// NginxPath returns the nginx binary: from PATH, or from /usr/sbin or
// /usr/local/sbin, where Debian installs it outside root's PATH.
func NginxPath() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, "nginx")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errNoNginx
}

// nginxCommand writes cfg's nginx.conf into dir (everything nginx writes —
// pid, logs, temporary files — stays in dir) and returns the command that
// runs nginx in the foreground with it.
func nginxCommand(ctx context.Context, cfg Config, cert Cert, dir, addr string) (*exec.Cmd, error) {
	bin, err := NginxPath()
	if err != nil {
		return nil, err
	}
	dhparam := ""
	if cfg.DHParamBits > 0 {
		dhparam = filepath.Join(dir, "dhparam.pem")
		if _, err := os.Stat(dhparam); err != nil {
			// -dsaparam makes a prime of any size in well under a second.
			if _, err := run(ctx, dir, "openssl", "dhparam", "-dsaparam", "-out", dhparam, strconv.Itoa(cfg.DHParamBits)); err != nil {
				return nil, err
			}
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(cfg, cert, dir, addr, dhparam)), 0o644); err != nil {
		return nil, err
	}
	for _, sub := range []string{"tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	return exec.Command(bin, "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf, "-g", "daemon off;"), nil
}

// nginxConf is the configuration of one HTTPS server on addr.
func nginxConf(cfg Config, cert Cert, dir, addr, dhparam string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p := func(name string) string { return filepath.Join(dir, name) }
	if os.Geteuid() == 0 {
		// Workers would otherwise run as nobody, who cannot enter dir.
		w("user root;")
	}
	w("worker_processes 2;")
	w("pid %s;", p("nginx.pid"))
	w("error_log %s notice;", p("error.log"))
	w("events { worker_connections 1024; }")
	w("http {")
	w("  access_log off;")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		w("  %s_temp_path %s;", t, p("tmp/"+t))
	}
	w("  server {")
	w("    listen %s ssl;", addr)
	w("    server_name %s;", CertHost)
	w("    ssl_certificate %s;", cert.CertFile)
	w("    ssl_certificate_key %s;", cert.KeyFile)
	if len(cfg.Protocols) > 0 {
		w("    ssl_protocols %s;", strings.Join(cfg.Protocols, " "))
	}
	if cfg.Ciphers != "" {
		w("    ssl_ciphers '%s';", cfg.Ciphers)
	}
	if cfg.Ciphersuites != "" {
		w("    ssl_conf_command Ciphersuites %s;", cfg.Ciphersuites)
	}
	if cfg.Curves != "" {
		w("    ssl_ecdh_curve %s;", cfg.Curves)
	}
	if cfg.PreferServerCiphers {
		w("    ssl_prefer_server_ciphers on;")
	} else {
		w("    ssl_prefer_server_ciphers off;")
	}
	if dhparam != "" {
		w("    ssl_dhparam %s;", dhparam)
	}
	w("    ssl_session_tickets off;")
	w("    location / { return 200 \"ok\\n\"; }")
	w("  }")
	w("}")
	return b.String()
}
