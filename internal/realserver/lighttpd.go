package realserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The lighttpd TLS modules Config.TLSModule names; each is a package of
// its own in Debian (lighttpd-mod-gnutls …). mod_openssl is lighttpd's
// default and is not among them: the OpenSSL stack is covered by
// s_server and nginx.
const (
	LighttpdGnuTLS  = "gnutls"
	LighttpdMbedTLS = "mbedtls"
	LighttpdWolfSSL = "wolfssl"
	LighttpdNSS     = "nss"
)

// lighttpdModuleDirs are where lighttpd's modules are looked for: Debian's
// directory first.
var lighttpdModuleDirs = []string{"/usr/lib/lighttpd", "/usr/local/lib/lighttpd", "/usr/lib64/lighttpd"}

// LighttpdPath returns the lighttpd binary: from PATH, or from /usr/sbin
// or /usr/local/sbin, where Debian installs it outside a user's PATH.
func LighttpdPath() (string, error) {
	if p, err := exec.LookPath("lighttpd"); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, "lighttpd")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errNoLighttpd
}

// LighttpdModuleDir returns the directory holding lighttpd's mod_<module>.so.
func LighttpdModuleDir(module string) (string, error) {
	if module == "" || strings.ContainsAny(module, `/\.`) {
		return "", fmt.Errorf("realserver: bad lighttpd module name %q", module)
	}
	for _, dir := range lighttpdModuleDirs {
		if _, err := os.Stat(filepath.Join(dir, "mod_"+module+".so")); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("realserver: lighttpd's mod_%s is not installed (apt-get install lighttpd-mod-%s)", module, module)
}

// lighttpdCommand writes cfg's lighttpd.conf into dir and returns the
// command that runs lighttpd in the foreground (-D) with it, loading
// modules from where mod_<TLSModule>.so was found. Its error log
// is stderr, which Server.Log holds.
func lighttpdCommand(cfg Config, cert Cert, dir, addr string) (*exec.Cmd, error) {
	bin, err := LighttpdPath()
	if err != nil {
		return nil, err
	}
	modDir, err := LighttpdModuleDir(cfg.TLSModule)
	if err != nil {
		return nil, err
	}
	conf, err := lighttpdConf(cfg, cert, dir, addr)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "lighttpd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	docroot := filepath.Join(dir, "htdocs")
	if err := os.MkdirAll(docroot, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(docroot, "index.html"), []byte("ok\n"), 0o644); err != nil {
		return nil, err
	}
	// -m: the module directory (1.4.69 has no server.modules-dir).
	return exec.Command(bin, "-D", "-f", path, "-m", modDir), nil
}

// lighttpdConf is the configuration of one HTTPS server on addr with
// cfg's TLS module and ssl.openssl.ssl-conf-cmd pairs (every lighttpd TLS
// module reads that directive and maps what it can of it to its library).
func lighttpdConf(cfg Config, cert Cert, dir, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	var bad error
	q := func(s string) string {
		// lighttpd's strings are double-quoted with backslash escapes;
		// nothing here needs either.
		if strings.ContainsAny(s, "\"\\\n") {
			bad = fmt.Errorf("realserver: lighttpd value %q has a quote, backslash or newline", s)
		}
		return `"` + s + `"`
	}
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("server.document-root = %s", q(filepath.Join(dir, "htdocs")))
	w("server.bind = %s", q(host))
	w("server.port = %s", port)
	w("server.modules = ( %s )", q("mod_"+cfg.TLSModule))
	w("ssl.engine = \"enable\"")
	w("ssl.pemfile = %s", q(cert.CertFile))
	w("ssl.privkey = %s", q(cert.KeyFile))
	if len(cfg.ConfCmd) > 0 {
		var kv []string
		for _, p := range cfg.ConfCmd {
			kv = append(kv, q(p[0])+" => "+q(p[1]))
		}
		w("ssl.openssl.ssl-conf-cmd = ( %s )", strings.Join(kv, ", "))
	}
	if bad != nil {
		return "", bad
	}
	return b.String(), nil
}

// errNoLighttpd is returned by LighttpdPath.
var errNoLighttpd = errors.New("realserver: lighttpd not found in PATH, /usr/sbin or /usr/local/sbin")
