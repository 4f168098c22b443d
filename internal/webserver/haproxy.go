package webserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// HAProxyFormat is the log-format StartHAProxy configures by default for
// HTTP frontends: client, date, frontend, backend and server, then the
// TLS version and cipher of the client's connection. HAProxyTCPFormat is
// the same for TCP frontends (%tr is for HTTP only).
const (
	HAProxyFormat    = `%ci:%cp [%tr] %ft %b/%s %B %sslv %sslc`
	HAProxyTCPFormat = `%ci:%cp [%t] %ft %b/%s %B %sslv %sslc`
)

// Frontend is one HAProxy frontend and the backend it forwards to.
type Frontend struct {
	Name string
	// Mode is "http" or "tcp".
	Mode string
	// TLS terminates TLS on the frontend (bind … ssl); without it, TLS
	// (if any) passes through to the backend.
	TLS bool
	// Backend is the server's "host:port"; ServerOptions follow it on
	// the server line: "send-proxy", "send-proxy-v2",
	// "send-proxy-v2-ssl", "ssl verify none" …
	Backend       string
	ServerOptions string
	// Source is the address HAProxy connects to the backend from
	// ("127.0.0.200"); "" lets the kernel choose.
	Source string
	// Lines are extra configuration lines of the frontend ("option
	// forwardfor", "http-request set-header …").
	Lines []string
}

// HAProxy is a running HAProxy.
type HAProxy struct {
	// Addrs are the frontends' addresses, by name.
	Addrs map[string]string
	// Log is the file HAProxy's log lines go to (its stdout, "log stdout
	// format raw").
	Log string
	Dir string
}

// HAProxyOptions configure StartHAProxy.
type HAProxyOptions struct {
	Frontends []Frontend
	// LogFormat is every frontend's log-format (default HAProxyFormat,
	// HAProxyTCPFormat for a TCP frontend).
	LogFormat string
}

// StartHAProxy starts HAProxy in the foreground with the given frontends
// on loopback ports and stops it when the test ends.
func StartHAProxy(t testing.TB, opts HAProxyOptions) *HAProxy {
	t.Helper()
	bin := sbin(t, "haproxy")
	dir := tempDir(t, "tlsmap-haproxy-")
	_, both := certs(t, dir)
	var h *HAProxy
	retry(t, "haproxy", func() error {
		ports, err := freePorts(len(opts.Frontends))
		if err != nil {
			return err
		}
		h = &HAProxy{Addrs: map[string]string{}, Log: filepath.Join(dir, "haproxy.out"), Dir: dir}
		var b strings.Builder
		w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
		w("global")
		w("  log stdout format raw local0")
		w("  maxconn 256")
		w("  ssl-default-bind-options ssl-min-ver TLSv1.0")
		w("  ssl-default-bind-ciphers ALL:@SECLEVEL=0")
		w("  tune.ssl.default-dh-param 2048")
		w("defaults")
		w("  log global")
		w("  timeout connect 5s")
		w("  timeout client 10s")
		w("  timeout server 10s")
		var addrs []string
		for i, f := range opts.Frontends {
			addr := fmt.Sprintf("127.0.0.1:%d", ports[i])
			h.Addrs[f.Name] = addr
			addrs = append(addrs, addr)
			w("frontend %s", f.Name)
			w("  mode %s", f.Mode)
			format := opts.LogFormat
			switch {
			case format != "":
			case f.Mode == "tcp":
				format = HAProxyTCPFormat
			default:
				format = HAProxyFormat
			}
			w("  log-format \"%s\"", strings.ReplaceAll(format, `"`, `\"`))
			if f.TLS {
				w("  bind %s ssl crt %s", addr, both)
			} else {
				w("  bind %s", addr)
			}
			for _, l := range f.Lines {
				w("  %s", l)
			}
			w("  default_backend be_%s", f.Name)
			w("backend be_%s", f.Name)
			w("  mode %s", f.Mode)
			if f.Source != "" {
				w("  source %s", f.Source)
			}
			w("  server s1 %s %s", f.Backend, f.ServerOptions)
		}
		conf := filepath.Join(dir, "haproxy.cfg")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			return err
		}
		cmd := exec.Command(bin, "-db", "-f", conf)
		_, err = start(t, dir, "haproxy", cmd, addrs)
		return err
	})
	return h
}
