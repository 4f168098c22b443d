// Package webserver starts real web servers and load balancers — nginx,
// Apache and HAProxy, the Debian packages — on loopback ports for tests,
// each with a configuration of its own in a temporary directory that
// logs every request's TLS version and cipher, and stops them when the
// test ends.
//
// Every TLS listener accepts TLS 1.0 to 1.3 with OpenSSL's whole cipher
// list at security level 0, so that real clients pinned to TLS 1.0 and
// 1.1 still connect and are logged.
package webserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/testenv"
)

// startTimeout bounds a server's start.
const startTimeout = 30 * time.Second

// proc is a server running in the foreground in its own process group.
type proc struct {
	cmd  *exec.Cmd
	out  *os.File
	done chan struct{}
	err  error
	once sync.Once
}

// start runs cmd with its output in dir/name.out and waits until every
// address accepts connections.
func start(t testing.TB, dir, name string, cmd *exec.Cmd, addrs []string) (*proc, error) {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr, cmd.Dir = out, out, dir
	cmd.SysProcAttr = procgroup.Attr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	deadline := time.Now().Add(startTimeout)
	for _, a := range addrs {
		for !listening(a) {
			select {
			case <-p.done:
				return nil, fmt.Errorf("%s exited before listening on %s: %v\n%s", name, a, p.err, p.output())
			default:
			}
			if time.Now().After(deadline) {
				p.stop()
				return nil, fmt.Errorf("%s does not listen on %s\n%s", name, a, p.output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return p, nil
}

// listening reports whether a TCP socket listens on addr, from the
// kernel's table (/proc/net/tcp): connecting to find out would put a
// connection of the harness's own in the server's log.
func listening(addr string) bool {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return false
	}
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		c, err := net.DialTimeout("tcp", addr, time.Second) // no /proc: ask the port itself
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	ip := ap.Addr().As4()
	// /proc/net/tcp writes the address as a little-endian hex word.
	want := fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && f[1] == want && f[3] == "0A" { // 0A: TCP_LISTEN
			return true
		}
	}
	return false
}

// stop sends SIGTERM to the process group, SIGKILL after five seconds.
func (p *proc) stop() {
	p.once.Do(func() {
		select {
		case <-p.done:
		default:
			procgroup.Terminate(p.cmd.Process)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				procgroup.Kill(p.cmd.Process)
				<-p.done
			}
		}
		p.out.Close()
	})
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.out.Name())
	return string(b)
}

// freePorts returns n loopback ports that were free a moment ago.
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

// tempDir is a world-traversable temporary directory (servers drop
// privileges and must still reach their files).
func tempDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("webserver: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("webserver: %v", err)
	}
	return dir
}

// certs makes an RSA certificate for localhost (RSA keeps TLS 1.0's
// suites usable) and a PEM file of certificate and key together, as
// HAProxy wants it.
func certs(t testing.TB, dir string) (realserver.Cert, string) {
	t.Helper()
	testenv.NeedProgram(t, "openssl")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := realserver.MakeCert(ctx, dir, realserver.RSA2048)
	if err != nil {
		t.Fatalf("webserver: %v", err)
	}
	cert, _ := os.ReadFile(c.CertFile)
	key, _ := os.ReadFile(c.KeyFile)
	both := filepath.Join(dir, "both.pem")
	if err := os.WriteFile(both, append(cert, key...), 0o600); err != nil {
		t.Fatalf("webserver: %v", err)
	}
	return c, both
}

// sbin finds a program in PATH or in /usr/sbin, where Debian installs
// daemons outside a user's PATH.
func sbin(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join("/usr/sbin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	testenv.Missing(t, name+" is not installed (.ci/install-deps installs it)")
	return ""
}

// needRoot skips (fails, in CI) a test not running as root.
func needRoot(t testing.TB, prog string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, prog+" needs root here (its workers read a root-owned temporary directory)")
	}
}

// retry runs f until it does not fail on a port taken between freePorts
// and the server's bind.
func retry(t testing.TB, what string, f func() error) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return
		}
		if !strings.Contains(strings.ToLower(err.Error()), "address already in use") || attempt == 2 {
			t.Fatalf("webserver: starting %s: %v", what, err)
		}
	}
}

// ReadLog returns a log file's contents, failing the test when it cannot.
func ReadLog(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("webserver: %v", err)
	}
	return b
}

// WaitLines waits until the file holds at least n lines (servers write
// their logs after answering).
func WaitLines(t testing.TB, path string, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= n {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("webserver: %s holds %d lines, want %d:\n%s", path, bytes.Count(b, []byte("\n")), n, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
