// Package tlsclient drives real TLS clients — openssl s_client — from a
// chosen loopback source address with a chosen protocol version, for
// tests whose truth must come from a program that shares no code with
// tlsmap: the version and cipher a connection used are what the client
// itself reports.
package tlsclient

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// Version is a protocol version as openssl s_client's flags name it.
type Version string

// The versions a test can pin a client to.
const (
	TLS10 Version = "-tls1"
	TLS11 Version = "-tls1_1"
	TLS12 Version = "-tls1_2"
	TLS13 Version = "-tls1_3"
)

// Versions are the four, oldest first.
var Versions = []Version{TLS10, TLS11, TLS12, TLS13}

// Name is OpenSSL's name of the version ("TLSv1" for TLS 1.0), as
// servers log it.
func (v Version) Name() string {
	switch v {
	case TLS10:
		return "TLSv1"
	case TLS11:
		return "TLSv1.1"
	case TLS12:
		return "TLSv1.2"
	case TLS13:
		return "TLSv1.3"
	}
	return string(v)
}

// Options describe one connection.
type Options struct {
	// Addr is the server's "host:port"; Source the local address to
	// connect from ("127.0.0.7"; "" for any).
	Addr, Source string
	Version      Version
	// StartTLS is s_client's -starttls protocol ("smtp", "imap", "pop3");
	// "" for TLS from the first byte.
	StartTLS string
	// ServerName is sent as SNI when set.
	ServerName string
	// Send is written once the handshake is done ("QUIT\r\n", an HTTP
	// request); the client then reads until the server closes.
	Send string
	// Timeout bounds the whole run (default 15 s).
	Timeout time.Duration
}

// Result is what the client reported.
type Result struct {
	Version string // "TLSv1.2", OpenSSL's name; "TLSv1" is TLS 1.0
	Cipher  string // OpenSSL's name of the suite
	Output  string // everything it printed
}

var (
	protoLine  = regexp.MustCompile(`(?m)^Protocol version: (\S+)`)
	cipherLine = regexp.MustCompile(`(?m)^Ciphersuite: (\S+)`)
)

// Connect runs openssl s_client once and returns what it negotiated. The
// client allows every version and cipher its library has at security
// level 0, so that TLS 1.0 and 1.1 still work against OpenSSL 3. It
// fails the test when the handshake does not complete.
func Connect(t testing.TB, o Options) Result {
	t.Helper()
	r, err := Run(o)
	if err != nil {
		t.Fatalf("tlsclient: %v", err)
	}
	return r
}

// Run is Connect without a test.
func Run(o Options) (Result, error) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		return Result{}, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	args := []string{"s_client", "-connect", o.Addr, "-brief", string(o.Version)}
	if o.Version == TLS13 {
		args = append(args, "-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256")
	} else {
		args = append(args, "-cipher", "ALL:@SECLEVEL=0")
	}
	if o.Source != "" {
		args = append(args, "-bind", o.Source+":0")
	}
	if o.StartTLS != "" {
		args = append(args, "-starttls", o.StartTLS)
	}
	if o.ServerName != "" {
		args = append(args, "-servername", o.ServerName)
	} else {
		args = append(args, "-noservername")
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(o.Send)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	runErr := cmd.Run()
	res := Result{Output: out.String()}
	if m := protoLine.FindStringSubmatch(res.Output); m != nil {
		res.Version = m[1]
	}
	if m := cipherLine.FindStringSubmatch(res.Output); m != nil {
		res.Cipher = m[1]
	}
	if res.Version == "" {
		return res, fmt.Errorf("openssl %s: no handshake (%v):\n%s", strings.Join(args, " "), runErr, res.Output)
	}
	if res.Version != o.Version.Name() {
		return res, fmt.Errorf("openssl %s: negotiated %s, asked for %s", strings.Join(args, " "), res.Version, o.Version.Name())
	}
	return res, nil
}

// Need skips (fails, in CI) a test when openssl is missing.
func Need(t testing.TB) { testenv.NeedProgram(t, "openssl") }
