package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// estatePorts are the well-known ports of the estate's protocols that
// bench/protoserve serves with -well-known; the test requires every one.
var estatePorts = map[int]string{
	389: "ldap", 636: "ldaps", 3268: "ldap", 3269: "ldaps", 21: "ftp", 990: "ftps",
	5222: "xmpp", 5269: "xmpp-server", 5223: "xmpps", 5270: "xmpps-server",
	5432: "postgres", 3306: "mysql", 3389: "rdp", 4190: "sieve", 119: "nntp", 563: "nntps",
	6667: "irc", 6697: "ircs",
}

// TestScanEstatePorts is `tlsmap scan -p PORTS 127.0.0.1` against the real
// servers of internal/protoserver on their well-known ports, in a network
// namespace the test creates (ip netns; the servers and tlsmap inside):
// each port is mapped with its protocol (the scheme its port implies), and
// every one answers with the TLS versions its server serves.
func TestScanEstatePorts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts every server of internal/protoserver in a namespace")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "a network namespace needs root (CI runs as root)")
	}
	ipTool := testenv.NeedProgram(t, "ip")
	goTool := testenv.NeedProgram(t, "go")
	bin := binary(t)
	dir := t.TempDir()
	protoserve := filepath.Join(dir, "protoserve")
	if out, err := exec.Command(goTool, "build", "-o", protoserve, "../../bench/protoserve").CombinedOutput(); err != nil {
		t.Fatalf("go build bench/protoserve: %v\n%s", err, out)
	}
	ns := fmt.Sprintf("tlsmap-estate-%d", os.Getpid())
	if out, err := exec.Command(ipTool, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(ipTool, "netns", "del", ns).Run() })
	if out, err := exec.Command(ipTool, "netns", "exec", ns, ipTool, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, ipTool, "netns", "exec", ns, protoserve, "-well-known")
	// The deferred cancel runs before the cleanup below: it too must let
	// protoserve stop its servers (SIGINT; ip netns exec has exec'd it),
	// not SIGKILL it and leave them running.
	srv.Cancel = func() error { return srv.Process.Signal(os.Interrupt) }
	srv.WaitDelay = 20 * time.Second
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = srv.Process.Kill()
		}
	})
	// protoserve prints every URL at once, when all its servers accept
	// connections; the read ends with its output (it failed) or the ctx.
	served := map[int]string{}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// It prints them in one go: once every estate port is in, a second
	// without another line ends the reading.
	all := func() bool {
		for port := range estatePorts {
			if _, ok := served[port]; !ok {
				return false
			}
		}
		return true
	}
	var settled <-chan time.Time
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("protoserve ended after %v:\n%s", served, srvErr.String())
			}
			scheme, hp, found := strings.Cut(l, "://")
			_, p, _ := strings.Cut(hp, ":")
			port, err := strconv.Atoi(p)
			if !found || err != nil {
				t.Fatalf("protoserve printed %q", l)
			}
			served[port] = scheme
			if all() {
				settled = time.After(time.Second)
			}
		case <-settled:
			break read
		case <-ctx.Done():
			t.Fatalf("protoserve did not start: %v\n%s", served, srvErr.String())
		}
	}
	var ports []string
	for _, port := range slices.Sorted(maps.Keys(served)) {
		if want, ok := estatePorts[port]; ok && want != served[port] {
			t.Fatalf("protoserve serves %s on %d, want %s", served[port], port, want)
		}
		ports = append(ports, strconv.Itoa(port))
	}
	args := []string{"netns", "exec", ns, bin, "scan", "--versions-only", "--format", "jsonl", "--xmpp-domain", "localhost",
		"-p", strings.Join(ports, ","), "127.0.0.1"}
	cmd := exec.CommandContext(ctx, ipTool, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	t.Logf("tlsmap scan -p %s 127.0.0.1: %v\n%s", strings.Join(ports, ","), err, errOut.String())
	got := map[int]string{}
	for l := range strings.Lines(out.String()) {
		var r struct {
			Port     int    `json:"port"`
			Protocol string `json:"protocol"`
			Status   string `json:"status"`
			Versions []struct {
				Version string `json:"version"`
				Outcome string `json:"outcome"`
			} `json:"versions"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || r.Port == 0 {
			continue
		}
		var accepted []string
		for _, v := range r.Versions {
			if v.Outcome == "accepted" {
				accepted = append(accepted, v.Version)
			}
		}
		got[r.Port] = r.Protocol
		// Every server is configured for TLS 1.0 to 1.3.
		if r.Status != "ok" || !slices.Contains(accepted, "TLSv1.0") || !slices.Contains(accepted, "TLSv1.3") {
			t.Errorf("port %d (%s): status %s, accepted %v; want ok, TLSv1.0 … TLSv1.3", r.Port, r.Protocol, r.Status, accepted)
		}
	}
	for port, scheme := range served {
		if got[port] != scheme {
			t.Errorf("port %d: scanned as %q, want %q", port, got[port], scheme)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", out.String())
	}
}
