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
	cmd  *exec.Cmd
	done chan error
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
	cmd := exec.Command(bin, "-i", iface, "--immediate-mode", "-U", "-n", "-s", "0", "-w", path, filter)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("webserver: tcpdump: %v", err)
	}
	c := &Capture{Path: path, cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var all []string
		for sc.Scan() {
			all = append(all, sc.Text())
			if strings.Contains(sc.Text(), "listening on") {
				ready <- ""
			}
		}
		ready <- strings.Join(all, "\n")
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
	}
	if _, err := os.Stat(c.Path); err != nil {
		t.Fatalf("webserver: tcpdump wrote no file: %v", err)
	}
	return c.Path
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
