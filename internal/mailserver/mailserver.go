// Package mailserver starts real mail servers — Postfix and Dovecot, and
// on GnuTLS Exim and Courier-IMAP — on loopback high ports for tests,
// each with a configuration of its own in a temporary directory, and
// stops them when the test ends.
//
// Postfix and Dovecot accept TLS 1.0 to 1.3 with OpenSSL's whole cipher
// list at security level 0, so that a scan finds legacy versions and
// suites. Both are the Debian packages (postfix, dovecot-imapd,
// dovecot-pop3d; .ci/install-deps installs them) and need root: Postfix's
// daemons drop to the postfix user, Dovecot's login processes to
// dovenull. Exim and Courier-IMAP take a GnuTLS priority string from the
// test; their Debian packages conflict with Postfix's and Dovecot's, so
// .ci/install-deps unpacks them into ExtractedRoot instead, from where
// they run (as root, their connection processes as Debian-exim and
// courier).
//
// How Postfix runs. "postfix -c DIR start" with a main.cf of our own works
// as root without listing DIR in the system main.cf's
// alternate_config_directories (that check is for unprivileged users).
// The instance has its own queue_directory (created by postfix-script's
// check) and data_directory (owned by the postfix user), logs to a file
// through postlogd (maillog_file, allowed by maillog_file_prefixes), and
// its master.cf has only smtpd services plus what they need: tlsmgr (TLS
// session cache and PRNG; without it smtpd disables TLS), anvil and
// postlog. Nothing is chrooted. The temporary directory is created
// world-traversable (0755): the daemons reach their sockets after
// dropping privileges, and a short path keeps UNIX socket names under 108
// bytes.
package mailserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
	"github.com/tlsmap/tlsmap/internal/testenv"
)

// startTimeout bounds a server's start, readiness included.
const startTimeout = 30 * time.Second

// needRoot skips (or fails, in CI) a test that is not running as root.
func needRoot(t testing.TB, prog string) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, prog+" needs root to start")
	}
}

// tempDir makes a short, world-traversable temporary directory, removed at
// the end of the test (after the servers in it have stopped: register it
// before them).
func tempDir(t testing.TB, prefix string) string {
	t.Helper()
	base := os.TempDir()
	if len(base) > 40 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		t.Fatalf("mailserver: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("mailserver: %v", err)
	}
	return dir
}

// makeCert writes a self-signed RSA 2048 certificate for localhost and
// 127.0.0.1 (cert.pem, key.pem in dir) with openssl. RSA keeps the legacy
// suites of TLS 1.0 usable.
func makeCert(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	testenv.NeedProgram(t, "openssl")
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	out, err := run(dir, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-sha256", "-nodes", "-days", "7",
		"-keyout", keyFile, "-out", certFile, "-subj", "/CN=localhost",
		"-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
	if err != nil {
		t.Fatalf("mailserver: making a certificate: %v\n%s", err, out)
	}
	if err := os.Chmod(keyFile, 0o600); err != nil {
		t.Fatalf("mailserver: %v", err)
	}
	return certFile, keyFile
}

// run runs a command in dir with a timeout and returns its combined
// output. The output goes through a file, not a pipe: postfix and dovecot
// leave daemons behind that inherit it, and a pipe would keep Wait
// waiting for them.
func run(dir, name string, args ...string) ([]byte, error) {
	out, err := os.CreateTemp(dir, "cmd-*.out")
	if err != nil {
		return nil, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	b, _ := os.ReadFile(out.Name())
	return b, err
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// A server may still lose one to a race; the starters retry.
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

// waitListening waits until every address accepts connections.
func waitListening(addrs []string, deadline time.Time) error {
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s does not accept connections: %w", a, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// waitExit waits until the process whose pid is in pidFile has exited,
// killing it when it has not within a few seconds.
func waitExit(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			killPID(pid)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the last lines of a log file, for failure messages.
func tail(path string, n int) string { return procgroup.Tail(path, n) }

// errAddrInUse reports whether a start failed because a port was taken
// between freePorts and the server's bind.
func errAddrInUse(log string) bool {
	return strings.Contains(log, "Address already in use") || strings.Contains(log, "address already in use")
}

var errRetry = errors.New("a port was taken; retrying")
