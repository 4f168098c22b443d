// Package realserver starts real TLS servers — openssl s_server, nginx,
// gnutls-serv, lighttpd with its non-OpenSSL TLS modules, a Java (JSSE)
// server — on loopback ports for tests and benchmarks, and computes what such a
// server accepts with openssl s_client alone (OpenSSLTruth), so that the
// scanner can be checked against an answer it had no part in.
//
// Nothing here imports tlsmap's scan engine, wire codec or registry: the
// truth must stay independent of the code it checks.
package realserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
	"github.com/tlsmap/tlsmap/internal/testenv"
)

// Software is the server program a Config runs.
type Software uint8

// The server programs.
const (
	OpenSSL    Software = iota // openssl s_server -www
	Nginx                      // nginx with a config file of its own
	GnuTLSServ                 // gnutls-serv --http (gnutls-bin)
	Lighttpd                   // lighttpd -D with Config.TLSModule and a config file of its own
	Java                       // a JSSE SSLServerSocket (javaserver/TLSServer.java), every protocol and suite on
	Stunnel                    // stunnel in the foreground, a config file of its own, to a plain backend
	HAProxy                    // haproxy -db, mode tcp, an RSA and an ECDSA certificate on one bind, to a plain backend
)

// String returns the program's name.
func (s Software) String() string {
	switch s {
	case OpenSSL:
		return "openssl"
	case Nginx:
		return "nginx"
	case GnuTLSServ:
		return "gnutls-serv"
	case Lighttpd:
		return "lighttpd"
	case Java:
		return "java"
	case Stunnel:
		return "stunnel"
	case HAProxy:
		return "haproxy"
	}
	return fmt.Sprintf("software(%d)", uint8(s))
}

// KeyType is the server certificate's key.
type KeyType uint8

// The certificate keys.
const (
	RSA2048   KeyType = iota // RSA 2048, SHA-256
	ECDSAP256                // ECDSA P-256, SHA-256
)

// String returns "RSA 2048" or "ECDSA P-256".
func (k KeyType) String() string {
	switch k {
	case RSA2048:
		return "RSA 2048"
	case ECDSAP256:
		return "ECDSA P-256"
	}
	return fmt.Sprintf("keytype(%d)", uint8(k))
}

// Config describes one server.
type Config struct {
	Name     string // short and unique: "openssl-tls10"
	Software Software
	Key      KeyType

	// Args are openssl s_server's flags besides -accept, -cert, -key and
	// -www (OpenSSL only).
	Args []string

	// Nginx only: the ssl_protocols, ssl_ciphers (TLS ≤ 1.2),
	// Ciphersuites (TLS 1.3, through ssl_conf_command; "" keeps OpenSSL's
	// default) and ssl_ecdh_curve ("" keeps nginx's "auto") directives,
	// ssl_prefer_server_ciphers, and the size of a DH prime for
	// ssl_dhparam (0: none, so no DHE suite is usable).
	Protocols           []string
	Ciphers             string
	Ciphersuites        string
	Curves              string
	PreferServerCiphers bool
	DHParamBits         int

	// Priority is gnutls-serv's priority string (GnuTLSServ only).
	Priority string

	// Lighttpd only: the TLS module (LighttpdGnuTLS …) and the
	// ssl.openssl.ssl-conf-cmd pairs, in order ("MinProtocol" => "TLSv1.0",
	// "CipherString" => …; mod_gnutls also reads "gnutls-override", a
	// whole GnuTLS priority string).
	TLSModule string
	ConfCmd   [][2]string

	// Ciphers and Ciphersuites are also stunnel's ciphers and
	// ciphersuites options and haproxy's bind options of those names.
	//
	// Stunnel and HAProxy only: the lowest version (stunnel's
	// sslVersionMin "TLSv1", haproxy's ssl-min-ver "TLSv1.0"; "" keeps
	// the program's default). Options are stunnel's options lines
	// ("NO_TICKET" …).
	MinVersion string
	Options    []string

	// ServerOrder documents whether the server enforces its own suite
	// order (s_server -serverpref, ssl_prefer_server_ciphers on).
	ServerOrder bool
}

// Server is a running server. Close stops it.
type Server struct {
	Config Config
	Addr   string // "127.0.0.1:port"
	Dir    string // its files: certificate, key, configuration, logs

	cmd     *exec.Cmd
	backend net.Listener // stunnel's and haproxy's plain service, or nil
	out     *lockedBuffer
	done    chan struct{} // closed when the process has exited
	err     error         // the process's exit status, once done is closed

	closeOnce sync.Once
}

// StartT starts cfg's server in a temporary directory and stops it when
// the test ends. It skips the test (fails it in strict mode, see
// internal/testenv) when openssl or the server program (for lighttpd: its
// TLS module too) is missing, and fails it when the server does not start.
func StartT(t testing.TB, cfg Config) *Server {
	t.Helper()
	testenv.NeedProgram(t, "openssl")
	if cfg.Software == GnuTLSServ {
		testenv.NeedProgram(t, "gnutls-serv")
	}
	if cfg.Software == Nginx {
		if _, err := NginxPath(); err != nil {
			testenv.Missing(t, "nginx is not installed (apt-get install nginx-light)")
		}
	}
	if cfg.Software == Lighttpd {
		if _, err := LighttpdPath(); err != nil {
			testenv.Missing(t, "lighttpd is not installed (apt-get install lighttpd)")
		}
		if _, err := LighttpdModuleDir(cfg.TLSModule); err != nil {
			testenv.Missing(t, err.Error())
		}
	}
	if cfg.Software == Stunnel {
		if _, err := StunnelPath(); err != nil {
			testenv.Missing(t, err.Error())
		}
	}
	if cfg.Software == HAProxy {
		if _, err := HAProxyPath(); err != nil {
			testenv.Missing(t, err.Error())
		}
	}
	if cfg.Software == Java {
		for _, p := range []string{"java", "javac", "keytool"} {
			testenv.NeedProgram(t, p)
		}
	}
	// javac and keytool take a few seconds each on a busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, cfg, t.TempDir())
	if err != nil {
		t.Fatalf("realserver: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Logf("realserver: stopping %s: %v", cfg.Name, err)
		}
	})
	return s
}

// Start makes a certificate for cfg in dir, starts the server on a free
// loopback port and returns once the port accepts connections. ctx bounds
// the start only: the server runs until Close.
func Start(ctx context.Context, cfg Config, dir string) (*Server, error) {
	cert, err := MakeCert(ctx, dir, cfg.Key)
	if err != nil {
		return nil, err
	}
	var lastErr error
	// The free port is found by listening and closing, so another process
	// can take it before the server binds it: try a few ports.
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s, err := startOn(ctx, cfg, cert, dir, addr)
		if err != nil {
			lastErr = err
			if s != nil && (strings.Contains(s.Log(), "in use") || strings.Contains(s.Log(), "bind() failed")) {
				continue
			}
			return nil, lastErr
		}
		return s, nil
	}
	return nil, lastErr
}

// StartAt is Start on a given address ("127.0.0.1:port"): a server
// reconfigured on the port of one stopped before (its certificate is made
// anew in dir).
func StartAt(ctx context.Context, cfg Config, dir, addr string) (*Server, error) {
	cert, err := MakeCert(ctx, dir, cfg.Key)
	if err != nil {
		return nil, err
	}
	return startOn(ctx, cfg, cert, dir, addr)
}

// startOn starts cfg's server on addr; a server that did not start is
// returned with the error, for its log.
func startOn(ctx context.Context, cfg Config, cert Cert, dir, addr string) (*Server, error) {
	var (
		cmd     *exec.Cmd
		backend net.Listener
		err     error
	)
	if cfg.Software == Stunnel || cfg.Software == HAProxy {
		if backend, err = startBackend(); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.Name, err)
		}
	}
	switch cfg.Software {
	case OpenSSL:
		cmd, err = openSSLCommand(cfg, cert, addr)
	case Nginx:
		cmd, err = nginxCommand(ctx, cfg, cert, dir, addr)
	case GnuTLSServ:
		// gnutls-serv cannot bind one address: it listens on every
		// address of the port; the tests only connect to loopback.
		_, port, _ := net.SplitHostPort(addr)
		cmd = exec.Command("gnutls-serv", "--http", "--port", port,
			"--x509certfile", cert.CertFile, "--x509keyfile", cert.KeyFile, "--priority", cfg.Priority)
	case Lighttpd:
		cmd, err = lighttpdCommand(cfg, cert, dir, addr)
	case Java:
		cmd, err = javaCommand(ctx, dir, addr)
	case Stunnel:
		cmd, err = stunnelCommand(cfg, cert, dir, addr, backend.Addr().String())
	case HAProxy:
		cmd, err = haproxyCommand(ctx, cfg, dir, addr, backend.Addr().String())
	default:
		err = fmt.Errorf("unknown software %v", cfg.Software)
	}
	if err != nil {
		if backend != nil {
			backend.Close()
		}
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	s := &Server{Config: cfg, Addr: addr, Dir: dir, cmd: cmd, backend: backend, out: &lockedBuffer{}, done: make(chan struct{})}
	if err := s.start(ctx); err != nil {
		return s, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.cmd.Stdin = nil // /dev/null
	s.cmd.Dir = s.Dir
	// Its own process group, so that nginx's workers go with it.
	s.cmd.SysProcAttr = procgroup.Attr()
	if err := s.cmd.Start(); err != nil {
		return err
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return fmt.Errorf("%w; output:\n%s", err, s.Log())
	}
	return nil
}

// waitReady dials the port until it accepts, the process exits or ctx
// ends.
func (s *Server) waitReady(ctx context.Context) error {
	var d net.Dialer
	for {
		select {
		case <-s.done:
			return fmt.Errorf("%s exited before listening: %v", s.cmd.Path, s.err)
		default:
		}
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", s.Addr)
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not listening on %s: %w", s.Addr, context.Cause(ctx))
		case <-s.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close stops the server: SIGTERM to its process group, SIGKILL after
// five seconds. It returns nil when the server was running until then.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.backend != nil {
			defer s.backend.Close()
		}
		select {
		case <-s.done:
			err = fmt.Errorf("%s had exited: %v", s.Config.Name, s.err)
			return
		default:
		}
		procgroup.Terminate(s.cmd.Process)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			procgroup.Kill(s.cmd.Process)
			<-s.done
		}
	})
	return err
}

// Log returns what the server wrote to stdout and stderr (and, for nginx,
// its error log).
func (s *Server) Log() string {
	out := s.out.String()
	if s.Config.Software == Nginx {
		if b, err := os.ReadFile(filepath.Join(s.Dir, "error.log")); err == nil {
			out += string(b)
		}
	}
	return out
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// run runs a short command and returns its combined output, with the
// output in the error when it fails.
func run(ctx context.Context, dir, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return out, nil
}

// lockedBuffer is a bytes.Buffer safe for the process's writes and Log's
// reads at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	const max = 1 << 20 // a noisy server must not eat the test's memory
	if l.b.Len() > max {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// errNoNginx is returned by NginxPath.
var errNoNginx = errors.New("realserver: nginx not found in PATH, /usr/sbin or /usr/local/sbin")
