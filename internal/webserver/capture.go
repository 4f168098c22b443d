package webserver

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// Capture is a running tcpdump writing a pcap file.
type Capture struct {
	Path string
	// Dropped is the number of packets tcpdump's statistics say the
	// kernel dropped ("N packets dropped by kernel"), known after Stop;
	// -1 when tcpdump printed no such line.
	Dropped int
	cmd     *exec.Cmd
	done    chan error
	stats   chan string // tcpdump's whole stderr, once it exits
}

// StartCapture runs tcpdump on iface with the BPF filter, writing
// packets to a file in a temporary directory as they come (-U), and
// returns once tcpdump is listening. Stop ends it and returns the file.
func StartCapture(t testing.TB, iface, filter string) *Capture {
	t.Helper()
	bin := sbin(t, "tcpdump")
	if os.Geteuid() != 0 {
		testenv.Missing(t, "tcpdump needs root to capture")
	}
	path := filepath.Join(t.TempDir(), "capture.pcap")
	// --immediate-mode: packets leave the kernel ring as they come, not
	// when a block fills (they would be lost at SIGINT).
	// -B: a 32 MiB kernel buffer, so a loaded machine (the race tests
	// run every package at once) does not drop packets.
	cmd := exec.Command(bin, "-i", iface, "--immediate-mode", "-U", "-n", "-s", "0", "-B", "32768", "-w", path, filter)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("webserver: tcpdump: %v", err)
	}
	c := &Capture{Path: path, Dropped: -1, cmd: cmd, done: make(chan error, 1), stats: make(chan string, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var all []string
		listening := false
		for sc.Scan() {
			all = append(all, sc.Text())
			if !listening && strings.Contains(sc.Text(), "listening on") {
				listening = true
				ready <- ""
			}
		}
		if !listening {
			ready <- strings.Join(all, "\n")
		}
		c.stats <- strings.Join(all, "\n")
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() { c.Stop(t) })
	select {
	case msg := <-ready:
		if msg != "" {
			t.Fatalf("webserver: tcpdump did not start:\n%s", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("webserver: tcpdump is not listening after 10 s")
	}
	return c
}

// Stop ends the capture (SIGINT: tcpdump flushes the file) and returns
// its path. It may be called more than once.
func (c *Capture) Stop(t testing.TB) string {
	t.Helper()
	if c.cmd.ProcessState == nil && c.done != nil {
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		c.done = nil
		c.Dropped = kernelDrops(<-c.stats)
	}
	if _, err := os.Stat(c.Path); err != nil {
		t.Fatalf("webserver: tcpdump wrote no file: %v", err)
	}
	return c.Path
}

// kernelDrops reads "N packets dropped by kernel" from tcpdump's
// closing statistics; -1 when the line is missing.
func kernelDrops(stderr string) int {
	for _, line := range strings.Split(stderr, "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "%d packets dropped by kernel", &n); err == nil {
			return n
		}
	}
	return -1
}

// PortFilter is a BPF filter for TCP traffic to or from any of the ports
// of addrs ("host:port").
func PortFilter(addrs ...string) string {
	var parts []string
	for _, a := range addrs {
		i := strings.LastIndexByte(a, ':')
		parts = append(parts, fmt.Sprintf("tcp port %s", a[i+1:]))
	}
	return strings.Join(parts, " or ")
}
