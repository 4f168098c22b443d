package realserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// StunnelPath returns stunnel's binary: stunnel or, as Debian's stunnel4
// package also names it, stunnel4.
func StunnelPath() (string, error) {
	for _, name := range []string{"stunnel", "stunnel4"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("realserver: stunnel not found in PATH (apt-get install stunnel4)")
}

// HAProxyPath returns haproxy's binary: from PATH, or from /usr/sbin or
// /usr/local/sbin.
func HAProxyPath() (string, error) {
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, "haproxy")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("realserver: haproxy not found in PATH, /usr/sbin or /usr/local/sbin (apt-get install haproxy)")
}

// confValue refuses a configuration value that would break a line-based
// configuration file (stunnel's, haproxy's).
func confValue(s string) error {
	if strings.ContainsAny(s, "\n\r#") {
		return fmt.Errorf("realserver: configuration value %q has a newline or '#'", s)
	}
	return nil
}

// stunnelCommand writes stunnel.conf into dir and returns the command that
// runs stunnel in the foreground with it: TLS on addr, the plain
// connection to backend.
func stunnelCommand(cfg Config, cert Cert, dir, addr, backend string) (*exec.Cmd, error) {
	bin, err := StunnelPath()
	if err != nil {
		return nil, err
	}
	conf, err := stunnelConf(cfg, cert, addr, backend)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "stunnel.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return exec.Command(bin, path), nil
}

// stunnelConf is stunnel's configuration: global options, then one
// service. Its log goes to stderr (foreground), which Server.Log holds.
func stunnelConf(cfg Config, cert Cert, addr, backend string) (string, error) {
	var b strings.Builder
	var bad error
	w := func(k, v string) {
		if err := confValue(v); err != nil && bad == nil {
			bad = err
		}
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	w("foreground", "yes")
	w("pid", "")
	w("syslog", "no")
	w("debug", "notice")
	b.WriteString("[tls]\n")
	w("accept", addr)
	w("connect", backend)
	w("cert", cert.CertFile)
	w("key", cert.KeyFile)
	if cfg.MinVersion != "" {
		w("sslVersionMin", cfg.MinVersion)
	}
	if cfg.Ciphers != "" {
		w("ciphers", cfg.Ciphers)
	}
	if cfg.Ciphersuites != "" {
		w("ciphersuites", cfg.Ciphersuites)
	}
	for _, o := range cfg.Options {
		w("options", o)
	}
	return b.String(), bad
}

// haproxyCommand writes haproxy.cfg into dir, with an RSA and an ECDSA
// certificate on the one TLS bind, and returns the command that runs
// haproxy in the foreground (-db) with it: TLS on addr, mode tcp to
// backend.
func haproxyCommand(ctx context.Context, cfg Config, dir, addr, backend string) (*exec.Cmd, error) {
	bin, err := HAProxyPath()
	if err != nil {
		return nil, err
	}
	var crts []string
	for _, k := range []struct {
		name string
		key  KeyType
	}{{"rsa", RSA2048}, {"ecdsa", ECDSAP256}} {
		c, err := MakeCert(ctx, filepath.Join(dir, k.name), k.key)
		if err != nil {
			return nil, err
		}
		// haproxy reads the certificate and its key from one file.
		cb, err := os.ReadFile(c.CertFile)
		if err != nil {
			return nil, err
		}
		kb, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, err
		}
		bundle := filepath.Join(dir, k.name+".pem")
		if err := os.WriteFile(bundle, append(cb, kb...), 0o600); err != nil {
			return nil, err
		}
		crts = append(crts, bundle)
	}
	conf, err := haproxyConf(cfg, crts, addr, backend)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return exec.Command(bin, "-db", "-f", path), nil
}

// haproxyConf is one TLS frontend on addr in mode tcp with the
// certificates crts (the first is the default, sent to a hello without
// SNI), cfg's ssl-min-ver, ciphers and ciphersuites, and one backend.
func haproxyConf(cfg Config, crts []string, addr, backend string) (string, error) {
	bind := "bind " + addr + " ssl"
	for _, c := range crts {
		bind += " crt " + c
	}
	if cfg.MinVersion != "" {
		bind += " ssl-min-ver " + cfg.MinVersion
	}
	if cfg.Ciphers != "" {
		bind += " ciphers " + cfg.Ciphers
	}
	if cfg.Ciphersuites != "" {
		bind += " ciphersuites " + cfg.Ciphersuites
	}
	if strings.ContainsAny(strings.Join(append(crts, cfg.MinVersion, cfg.Ciphers, cfg.Ciphersuites), ""), " \t\n\r#") {
		return "", fmt.Errorf("realserver: an haproxy bind value has a space, newline or '#'")
	}
	conf := strings.Join([]string{
		"global",
		"  log stderr format raw local0 notice",
		"defaults",
		"  mode tcp",
		"  log global",
		"  timeout connect 5s",
		"  timeout client 10s",
		"  timeout server 10s",
		"frontend tls",
		"  " + bind,
		"  default_backend plain",
		"backend plain",
		"  server s1 " + backend,
		"",
	}, "\n")
	return conf, nil
}

// startBackend is the plain TCP service behind stunnel and haproxy: it
// accepts and closes. A TLS handshake with either ends before they
// connect to it.
func startBackend() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln, nil
}
