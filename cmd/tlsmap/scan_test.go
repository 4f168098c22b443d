package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/output"
)

// scanRecords runs tlsmap with args and decodes its JSON Lines output by
// canonical target.
func scanRecords(t *testing.T, args ...string) (map[string]output.ScanRecord, int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"scan", "--format", "jsonl"}, args...), strings.NewReader(""), &stdout, &stderr)
	recs := map[string]output.ScanRecord{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var r output.ScanRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		if r.Schema != output.ScanSchema {
			t.Errorf("schema %q", r.Schema)
		}
		recs[r.Target] = r
	}
	return recs, code, stderr.String()
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func versionsSummary(r output.ScanRecord) string {
	var parts []string
	for _, v := range r.Versions {
		parts = append(parts, v.Version+" "+v.Outcome+" ("+v.Reason+")")
	}
	return strings.Join(parts, "; ")
}

// TestScanBadEndpoints scans, in one run, a good server next to every kind
// of endpoint that is not a TLS server: each is reported for itself, with
// its reason, within its deadline, and the good one is unaffected.
func TestScanBadEndpoints(t *testing.T) {
	const timeout = 700 * time.Millisecond
	good := faketls.Start(t, faketls.Intermediate())
	endpoints := map[string]struct {
		addr string
		// want checks the record; the status is checked by the caller.
		status string
		reason []string // one of these in error or the versions' reasons
	}{
		"unknown host": {"nothing-here.invalid:443", "unreachable", []string{"resolve", "no such host"}},
		"refused":      {closedPort(t), "unreachable", []string{"refused"}},
		"http":         {faketls.Start(t, faketls.Config{HTTP: true}).Addr(), "inconclusive", []string{"HTTP", "not TLS", "garbage", "not a TLS"}},
		"ssh banner":   {faketls.Start(t, faketls.Config{Banner: "SSH-2.0-OpenSSH_9.6\r\n"}).Addr(), "inconclusive", []string{"SSH", "not TLS", "garbage", "not a TLS"}},
		"close":        {faketls.Start(t, faketls.Config{CloseAfterHello: true}).Addr(), "", []string{"close", "closed", "EOF"}},
		"garbage":      {faketls.Start(t, faketls.Config{Garbage: true}).Addr(), "inconclusive", []string{"not TLS", "garbage", "not a TLS", "record", "malformed", "bad"}},
		"silent":       {faketls.Start(t, faketls.Config{Silent: true, HangFor: time.Minute}).Addr(), "inconclusive", []string{"timeout", "timed out", "deadline"}},
	}
	// --no-cert: faketls never completes a handshake, so the certificate
	// handshake would only wait for its own timeout.
	args := []string{"--no-cert", "--backoff-after", "0", "--timeout", timeout.String(), "--retries", "0", "--concurrency", "8", good.Addr()}
	for _, ep := range endpoints {
		args = append(args, ep.addr)
	}
	start := time.Now()
	recs, code, stderr := scanRecords(t, args...)
	elapsed := time.Since(start)
	if code != scanExitIncomplete {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, scanExitIncomplete, stderr)
	}
	if !strings.Contains(stderr, "targets not ok") {
		t.Errorf("stderr does not summarise the failures:\n%s", stderr)
	}
	if len(recs) != len(endpoints)+1 {
		t.Errorf("%d records for %d targets", len(recs), len(endpoints)+1)
	}
	find := func(addr string) (output.ScanRecord, bool) {
		for _, r := range recs {
			if r.Input == addr {
				return r, true
			}
		}
		return output.ScanRecord{}, false
	}

	g, ok := find(good.Addr())
	if !ok || g.Status != "ok" || len(g.Ciphers) == 0 {
		t.Errorf("good server next to bad ones: status %q, %d ciphers; %s", g.Status, len(g.Ciphers), versionsSummary(g))
	}
	for name, ep := range endpoints {
		r, ok := find(ep.addr)
		if !ok {
			t.Errorf("%s: no record", name)
			continue
		}
		t.Logf("%s: status %s, error %q, %d ms, %d handshakes; %s", name, r.Status, r.Error, r.DurationMS, r.Handshakes.Total, versionsSummary(r))
		if len(r.Ciphers) != 0 {
			t.Errorf("%s: accepted ciphers %v", name, r.Ciphers)
		}
		switch {
		case ep.status != "" && r.Status != ep.status:
			t.Errorf("%s: status %q, want %q (error %q)", name, r.Status, ep.status, r.Error)
		case ep.status == "" && r.Status == "ok":
			// A close right after every ClientHello is a refusal
			// (docs/scan-algorithm.md): every version rejected.
			for _, v := range r.Versions {
				if v.Outcome == "accepted" {
					t.Errorf("%s: %s accepted", name, v.Version)
				}
			}
		}
		text := strings.ToLower(r.Error + " " + versionsSummary(r))
		found := false
		for _, want := range ep.reason {
			found = found || strings.Contains(text, strings.ToLower(want))
		}
		if !found {
			t.Errorf("%s: no reason among %q in %q", name, ep.reason, text)
		}
		// Deadline: every connection is bounded by the timeout and four
		// run at once (--per-host 4), so the target ends within one
		// timeout per four handshakes (and a second for the rest).
		waves := (r.Handshakes.Total + 3) / 4
		if limit := time.Duration(waves)*timeout + time.Second; time.Duration(r.DurationMS)*time.Millisecond > limit {
			t.Errorf("%s: took %d ms for %d handshakes, more than %v", name, r.DurationMS, r.Handshakes.Total, limit)
		}
	}
	if elapsed > 10*time.Second {
		t.Errorf("the whole scan took %v", elapsed)
	}
}

// tarpit is a loopback listener that accepts connections and never
// answers, until the test ends. accepted is closed at its first accept:
// the scan has reached it, the signal to interrupt it.
func tarpit(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if n == 0 {
				close(first)
			}
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), first
}

// TestScanInterrupted cancels a scan as if Ctrl-C were pressed: what
// finished is printed, the rest is not, and the exit code is 130.
func TestScanInterrupted(t *testing.T) {
	good := faketls.Start(t, faketls.Intermediate())
	tarpitAddr, reached := tarpit(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	scanNotifyContext = func(parent context.Context, _ ...os.Signal) (context.Context, context.CancelFunc) {
		return ctx, cancel
	}
	defer func() { scanNotifyContext = defaultNotifyContext }()

	// The tarpit is scanned with a long timeout; the good server first,
	// one target at a time, so it has finished when the scan reaches the
	// tarpit, and is cut there.
	go func() {
		select {
		case <-reached:
			cancel()
		case <-ctx.Done():
		}
	}()
	recs, code, stderr := scanRecords(t, "--no-cert", "--concurrency", "1", "--timeout", "30s", good.Addr(), tarpitAddr, "192.0.2.1:443")
	if code != exitInterrupted {
		t.Errorf("exit code %d, want %d", code, exitInterrupted)
	}
	if !strings.Contains(stderr, "error: scan: interrupted; 2 of 3 targets reported, 1 not started") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if r := recs["tls://"+good.Addr()]; r.Status != "ok" || len(r.Ciphers) == 0 {
		t.Errorf("finished target: status %q, %d ciphers", r.Status, len(r.Ciphers))
	}
	if r := recs["tls://"+tarpitAddr]; r.Status != "inconclusive" || r.Error != "cancelled" {
		t.Errorf("target in flight: status %q error %q", r.Status, r.Error)
	}
	if _, ok := recs["tls://192.0.2.1:443"]; ok {
		t.Errorf("a target never started was printed")
	}
}

var defaultNotifyContext = scanNotifyContext

// TestScanSIGINT sends a real SIGINT to a tlsmap process (the copy of the
// test binary testscript puts in PATH) in the middle of a scan.
func TestScanSIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	bin, err := exec.LookPath("tlsmap")
	if err != nil {
		t.Skipf("no tlsmap in PATH: %v", err)
	}
	tarpitAddr, reached := tarpit(t)
	cmd := exec.Command(bin, "scan", "--format", "jsonl", "--timeout", "30s", tarpitAddr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Started: the scan has connected to the tarpit, so its signal
	// handler is in place.
	select {
	case <-reached:
	case err := <-done:
		t.Fatalf("tlsmap exited before reaching the tarpit: %v; stderr:\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tlsmap did not reach the tarpit within 10s")
	}
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tlsmap did not stop within 10s of SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v, want code %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"status":"inconclusive"`) || !strings.Contains(stdout.String(), `"error":"cancelled"`) {
		t.Errorf("the interrupted target was not reported: %s", stdout.String())
	}
}

// slowEndpoint is a loopback listener that waits delay after each accept,
// then relays the connection to backend: a slow TLS server.
func slowEndpoint(t *testing.T, backend string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				time.Sleep(delay)
				b, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer b.Close()
				go func() { io.Copy(b, c); b.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, b)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestScanSIGINTStreaming interrupts a streamed sweep of slow endpoints
// (read from stdin) with a real SIGINT: in-flight probes settle within a
// second, and stdout is valid JSON Lines — every line complete and
// parseable, every endpoint reported "ok" fully decided.
func TestScanSIGINTStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a subprocess")
	}
	bin, err := exec.LookPath("tlsmap")
	if err != nil {
		t.Skipf("no tlsmap in PATH: %v", err)
	}
	good := faketls.Start(t, faketls.Intermediate())
	var list strings.Builder
	for i := range 40 {
		fmt.Fprintln(&list, slowEndpoint(t, good.Addr(), time.Duration(30+10*i)*time.Millisecond))
	}
	cmd := exec.Command(bin, "scan", "--format", "jsonl", "--versions-only", "--no-cert", "--concurrency", "6", "--timeout", "10s", "-")
	cmd.Stdin = strings.NewReader(list.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Started: the first endpoint is reported (its line is on stdout),
	// the slower ones are still being scanned.
	var stdout bytes.Buffer
	firstLine := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		br := bufio.NewReader(pipe)
		for n := 0; ; n++ {
			line, err := br.ReadBytes('\n')
			stdout.Write(line)
			if err != nil {
				break
			}
			if n == 0 {
				close(firstLine)
			}
		}
		done <- cmd.Wait() // after the last read, as StdoutPipe asks
	}()
	select {
	case <-firstLine:
	case err := <-done:
		t.Fatalf("tlsmap exited before reporting an endpoint: %v; stderr:\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no endpoint reported within 10s; stderr:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	sent := time.Now()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tlsmap did not stop within 10s of SIGINT")
	}
	settle := time.Since(sent)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Errorf("exit: %v, want code %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	if settle > 1500*time.Millisecond {
		t.Errorf("exited %v after SIGINT, want about a second at most", settle)
	}
	out := stdout.String()
	if out != "" && !strings.HasSuffix(out, "\n") {
		t.Errorf("stdout ends with a partial line: %q", out[max(0, len(out)-80):])
	}
	ok, cancelled := 0, 0
	seen := map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var r output.ScanRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d is not JSON: %v: %q", i+1, err, line)
		}
		if seen[r.Target] {
			t.Errorf("%s reported twice", r.Target)
		}
		seen[r.Target] = true
		switch {
		case r.Status == "ok":
			ok++
			if len(r.Versions) != 6 {
				t.Errorf("%s: ok with %d versions", r.Target, len(r.Versions))
			}
			for _, v := range r.Versions {
				if v.Outcome == "inconclusive" {
					t.Errorf("%s: ok, but %s inconclusive (%s)", r.Target, v.Version, v.Reason)
				}
			}
		case r.Error == "cancelled":
			cancelled++
		default:
			t.Errorf("%s: status %s, error %q", r.Target, r.Status, r.Error)
		}
	}
	t.Logf("SIGINT after the first result: %d endpoints finished, %d cut short, %d not started; exited %v after the signal", ok, cancelled, 40-ok-cancelled, settle.Round(time.Millisecond))
	if ok == 0 || ok+cancelled >= 40 {
		t.Errorf("%d finished and %d cut of 40: the interrupt did not land mid-sweep", ok, cancelled)
	}
	if !strings.Contains(stderr.String(), "targets reported:") || !strings.Contains(stderr.String(), "error: scan: interrupted;") {
		t.Errorf("no partial summary on stderr:\n%s", stderr.String())
	}
}

// TestScanMaxTimeNotStarted: --max-time cuts a sweep; every input still
// gets a record, those never started "not-started" — from the arguments
// and from a list the producer goes on reading — and the summary counts
// them.
func TestScanMaxTimeNotStarted(t *testing.T) {
	t.Parallel()
	tarpit := faketls.Start(t, faketls.Config{Silent: true, HangFor: 10 * time.Second})
	_, port, _ := net.SplitHostPort(tarpit.Addr())
	list := filepath.Join(t.TempDir(), "targets.txt")
	var lines []string
	for i := 2; i <= 40; i++ {
		lines = append(lines, fmt.Sprintf("127.0.0.%d:%s", i, port))
	}
	if err := os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, code, stderr := scanRecords(t, "--concurrency", "1", "--no-cert", "--timeout", "2s", "--max-time", "300ms",
		tarpit.Addr(), "-iL", list)
	if code != scanExitIncomplete {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, scanExitIncomplete, stderr)
	}
	if len(recs) != 40 {
		t.Errorf("%d records, want 40 (every input)", len(recs))
	}
	notStarted := 0
	for _, r := range recs {
		if r.Status == "not-started" {
			notStarted++
			if !strings.Contains(r.Error, "--max-time") || r.Handshakes.Total != 0 {
				t.Errorf("%s: error %q, %d handshakes", r.Target, r.Error, r.Handshakes.Total)
			}
		}
	}
	if notStarted < 38 {
		t.Errorf("%d not-started records, want at least 38", notStarted)
	}
	if !strings.Contains(stderr, fmt.Sprintf("%d not-started", notStarted)) || !strings.Contains(stderr, "reported \"not-started\"") {
		t.Errorf("stderr does not count the not-started targets:\n%s", stderr)
	}
}

// TestScanVersionsOnlyCert: a --versions-only scan skips the certificate
// handshake unless --cert, and says so in every record ("not checked",
// never an empty certificate that reads as no problem); --no-cert says its
// own name. A full scan still runs it.
func TestScanVersionsOnlyCert(t *testing.T) {
	srv := faketls.Start(t, faketls.Intermediate())
	target := "tls://" + srv.Addr()
	for _, tc := range []struct {
		name    string
		args    []string
		skipped string // certificate_skipped
		certRun bool   // a certificate handshake was made
	}{
		{"versions-only", []string{"--versions-only"}, "skipped by --versions-only (--cert checks it)", false},
		{"versions-only --cert", []string{"--versions-only", "--cert"}, "", true},
		{"versions-only --no-cert", []string{"--versions-only", "--no-cert"}, "skipped by --no-cert", false},
		{"full --no-cert", []string{"--no-cert", "--versions", "tls1.2"}, "skipped by --no-cert", false},
		{"full", []string{"--versions", "tls1.2", "--no-groups"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--no-progress", "--timeout", "2s"}, tc.args...)
			recs, _, stderr := scanRecords(t, append(args, target)...)
			r, ok := recs[target]
			if !ok {
				t.Fatalf("no record for %s; stderr:\n%s", target, stderr)
			}
			if !slicesContainsAccepted(r) {
				t.Fatalf("nothing accepted: %s", versionsSummary(r))
			}
			n := r.Handshakes.ByPurpose["certificate"]
			if r.CertificateSkipped != tc.skipped || (n > 0) != tc.certRun {
				t.Errorf("certificate_skipped %q, %d certificate handshakes (error %q); want %q, handshake %v",
					r.CertificateSkipped, n, r.CertificateError, tc.skipped, tc.certRun)
			}
			if tc.certRun && r.Certificate == nil && r.CertificateError == "" {
				t.Error("the certificate handshake ran but neither a certificate nor its error is reported")
			}
		})
	}
	// The table says "not checked" for the skipped certificate.
	var stdout, stderr bytes.Buffer
	run([]string{"scan", "--no-progress", "--timeout", "2s", "--versions-only", target}, strings.NewReader(""), &stdout, &stderr)
	if !strings.Contains(stdout.String(), "not checked  skipped by --versions-only (--cert checks it)") {
		t.Errorf("the table does not say the certificate was not checked:\n%s", stdout.String())
	}
}

func slicesContainsAccepted(r output.ScanRecord) bool {
	for _, v := range r.Versions {
		if v.Outcome == "accepted" {
			return true
		}
	}
	return false
}
