// Package protoserver starts the real servers of the directory, file
// transfer and chat protocols — slapd (LDAP), vsftpd (FTP), Prosody
// (XMPP), InspIRCd (IRC) and INN's nnrpd (NNTP) — on loopback high ports for tests,
// benchmarks and scripts/make-captures.sh, each with a configuration of its
// own in a temporary directory, and stops them when asked.
//
// Every server accepts TLS 1.0 to 1.3 with a wide suite list (OpenSSL's
// whole list at security level 0 where the server is built on OpenSSL,
// every cipher and MAC GnuTLS has where it is built on GnuTLS), so that a
// scan finds legacy versions and suites. They are the Debian packages
// (slapd, vsftpd, prosody, inspircd; .ci/install-deps installs them) and
// need root: vsftpd drops privileges per connection, Prosody and InspIRCd
// refuse to run as root and are started as their packages' users.
//
// Nothing here imports tlsmap's scan engine, wire codec or protocols: the
// servers are what the dialogues are checked against.
package protoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
	"github.com/tlsmap/tlsmap/internal/testenv"
)

// startTimeout bounds a server's start, readiness included.
const startTimeout = 30 * time.Second

// Server is a running server: one or more processes serving the schemes
// of Addrs. Close stops it.
type Server struct {
	Name string
	// Addrs maps each URL scheme the server serves ("ldap", "ldaps") to
	// its "127.0.0.1:port".
	Addrs map[string]string
	// Dir holds its configuration, certificate, data and logs.
	Dir string
	// Cert is the server's certificate and key.
	Cert Cert
	// Also are further "scheme://addr" URLs the same processes serve (a
	// scheme on a second port), which Addrs, one a scheme, cannot hold.
	Also []string

	procs     []*procgroup.Process
	closeOnce sync.Once
}

// Addr returns the address of scheme; it panics on a scheme the server
// does not serve (a test's mistake).
func (s *Server) Addr(scheme string) string {
	a, ok := s.Addrs[scheme]
	if !ok {
		panic("protoserver: " + s.Name + " serves no " + scheme)
	}
	return a
}

// URLs returns "scheme://addr" for every scheme, and Also, sorted.
func (s *Server) URLs() []string {
	out := slices.Clone(s.Also)
	for scheme, a := range s.Addrs {
		out = append(out, scheme+"://"+a)
	}
	sort.Strings(out)
	return out
}

// Log returns the end of every process's output, for failure messages.
func (s *Server) Log() string {
	var b strings.Builder
	for _, p := range s.procs {
		fmt.Fprintf(&b, "== %s\n%s\n", p.Log, tail(p.Log, 30))
	}
	return b.String()
}

// Close stops every process (SIGTERM, SIGKILL after five seconds). It
// returns an error when one had exited before.
func (s *Server) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		for _, p := range s.procs {
			if err := p.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
	})
	return errors.Join(errs...)
}

// Starter starts one kind of server in dir.
type Starter func(ctx context.Context, dir string) (*Server, error)

// StartT starts a server with start in a temporary directory and stops it
// when the test ends. A missing program (progs), or not being root, skips
// the test (fails it in CI); a server that does not start fails it.
func StartT(t testing.TB, start Starter, progs ...string) *Server {
	t.Helper()
	testenv.NeedProgram(t, "openssl")
	for _, p := range progs {
		testenv.NeedProgram(t, p)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, strings.Join(progs, ", ")+" need root to start")
	}
	dir := tempDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := start(ctx, dir)
	if err != nil {
		t.Fatalf("protoserver: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Logf("protoserver: stopping %s: %v\n%s", s.Name, err, s.Log())
		}
	})
	return s
}

// tempDir makes a short, world-traversable temporary directory (the
// servers that drop to their own users must reach their files), removed
// at the end of the test.
func tempDir(t testing.TB) string {
	t.Helper()
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "tlsmap-ps-")
	if err != nil {
		t.Fatalf("protoserver: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("protoserver: %v", err)
	}
	return dir
}

// launch is one attempt at starting a server's processes on ports: the
// commands to run and the address of each scheme.
type launch func(ports []int) (cmds []*exec.Cmd, addrs map[string]string, err error)

// start runs the processes of one server, on the fixed ports or else on
// nports free ones, and waits until every address accepts connections. A
// free port taken between the choice and the bind ("in use" in a log) is
// retried on new ports.
func start(ctx context.Context, name, dir string, cert Cert, fixed []int, nports int, l launch) (*Server, error) {
	var lastErr error
	for attempt := 0; attempt < 4; attempt++ {
		ports := fixed
		if ports == nil {
			var err error
			if ports, err = freePorts(nports); err != nil {
				return nil, err
			}
		} else if len(ports) != nports {
			return nil, fmt.Errorf("%s: %d ports given, %d needed", name, len(ports), nports)
		}
		cmds, addrs, err := l(ports)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s := &Server{Name: name, Addrs: addrs, Dir: dir, Cert: cert}
		for i, cmd := range cmds {
			p, err := procgroup.Start(cmd, filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, i)))
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			s.procs = append(s.procs, p)
		}
		err = s.waitReady(ctx)
		if err == nil {
			return s, nil
		}
		log := s.Log()
		s.Close()
		lastErr = fmt.Errorf("%s: %w\n%s", name, err, log)
		if fixed != nil || !strings.Contains(log, "in use") {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// waitReady dials every address until it accepts, a process exits or ctx
// ends.
func (s *Server) waitReady(ctx context.Context) error {
	var d net.Dialer
	for _, a := range s.Addrs {
		for {
			for _, p := range s.procs {
				if p.Exited() {
					return fmt.Errorf("%s exited before listening: %v", p.Cmd.Path, p.Err())
				}
			}
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			c, err := d.DialContext(dctx, "tcp", a)
			cancel()
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("not listening on %s: %w", a, context.Cause(ctx))
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// addr is "127.0.0.1:port".
func addr(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// tail returns the last lines of a file.
func tail(path string, n int) string { return procgroup.Tail(path, n) }

// writeFile writes a configuration file, readable by everyone (the
// servers that drop privileges read theirs as their own user).
func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}

// Cert is a self-signed RSA 2048 certificate for localhost, 127.0.0.1
// and ::1, and its key, PEM files in the server's directory. RSA keeps
// the legacy suites of TLS 1.0 usable.
type Cert struct {
	CertFile, KeyFile string
}

// makeCert makes the server's certificate in dir with openssl req, the
// key readable by the servers' own users (a test key, never a secret).
func makeCert(ctx context.Context, dir string) (Cert, error) {
	c := Cert{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	out, err := exec.CommandContext(ctx, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-days", "7",
		"-keyout", c.KeyFile, "-out", c.CertFile, "-subj", "/CN=localhost",
		"-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1").CombinedOutput()
	if err != nil {
		return c, fmt.Errorf("openssl req: %w\n%s", err, out)
	}
	return c, os.Chmod(c.KeyFile, 0o644)
}

// makeDH writes DH parameters to dir/dh.pem: RFC 7919's ffdhe2048
// group, at once (and readable by GnuTLS, which refuses the parameters
// of openssl dhparam -dsaparam).
func makeDH(ctx context.Context, dir string) (string, error) {
	path := filepath.Join(dir, "dh.pem")
	out, err := exec.CommandContext(ctx, "openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", path).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("openssl genpkey: %w\n%s", err, out)
	}
	return path, os.Chmod(path, 0o644)
}
