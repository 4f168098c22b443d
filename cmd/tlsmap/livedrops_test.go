package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// TestSniffLiveKernelDrops forces the kernel to drop packets of a live
// capture and requires the report to say so. In a network namespace of its
// own with a veth pair (va, vb), `tlsmap sniff -i vb --buffer 1` (the
// smallest ring: two 1 MiB blocks) reads while tcpreplay processes replay a
// committed capture into va at top speed, many loops; SIGINT stops tlsmap.
// With --format jsonl the coverage record counts the drops (input
// kernel_drops > 0, the same number as the kernel-drops gap and as the
// kernel's own count tlsmap prints on stderr) and is not complete; with
// the table and --strict the legacy report says that hellos may be missing
// and the exit code is 2 (and 0 without --strict).
func TestSniffLiveKernelDrops(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a capture at top speed into a veth pair in a namespace")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "a network namespace and a live capture need root (CI runs as root)")
	}
	ipTool := testenv.NeedProgram(t, "ip")
	replay := testenv.NeedProgram(t, "tcpreplay")
	bin := binary(t)
	capture, err := filepath.Abs(filepath.Join("..", "..", "testdata", "captures", "openssl.pcap"))
	if err != nil {
		t.Fatal(err)
	}

	ns := fmt.Sprintf("tlsmap-drops-%d", os.Getpid())
	ipIn := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipTool, append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command(ipTool, "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(ipTool, "netns", "del", ns).Run() })
	ipIn("link", "add", "va", "type", "veth", "peer", "name", "vb")
	ipIn("link", "set", "va", "up")
	ipIn("link", "set", "vb", "up")

	// One run: tlsmap on vb, replays into va, SIGINT. More tcpreplay
	// processes at once on a later attempt if the first dropped nothing.
	run := func(procs, loops int, args ...string) (stdout, stderr string, code int, sent uint64) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		argv := append([]string{"netns", "exec", ns, bin, "sniff", "-i", "vb", "--buffer", "1", "--stats-interval", "100ms"}, args...)
		cmd := exec.CommandContext(ctx, ipTool, argv...)
		var out bytes.Buffer
		cmd.Stdout = &out
		errPipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The first statistics line comes once the socket is open.
		var errBuf bytes.Buffer
		var mu sync.Mutex
		ready := make(chan struct{})
		readDone := make(chan struct{})
		go func() {
			defer close(readDone)
			sc := bufio.NewScanner(errPipe)
			once := false
			for sc.Scan() {
				mu.Lock()
				errBuf.WriteString(sc.Text() + "\n")
				mu.Unlock()
				if !once && strings.HasPrefix(sc.Text(), "stats:") {
					once = true
					close(ready)
				}
			}
			if !once {
				close(ready)
			}
		}()
		select {
		case <-ready:
		case <-ctx.Done():
			t.Fatalf("tlsmap printed no statistics line")
		}

		var wg sync.WaitGroup
		sents := make([]uint64, procs)
		errs := make([]error, procs)
		for i := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := exec.CommandContext(ctx, ipTool, "netns", "exec", ns, replay, "-i", "va", "--topspeed", "-K",
					"--loop", strconv.Itoa(loops), capture).CombinedOutput()
				if err != nil {
					errs[i] = fmt.Errorf("tcpreplay: %v\n%s", err, out)
					return
				}
				m := regexp.MustCompile(`Successful packets:\s+(\d+)`).FindSubmatch(out)
				if m == nil {
					errs[i] = fmt.Errorf("tcpreplay printed no count of packets sent:\n%s", out)
					return
				}
				sents[i], _ = strconv.ParseUint(string(m[1]), 10, 64)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			_ = cmd.Process.Kill()
			t.Fatal(err)
		}
		for _, n := range sents {
			sent += n
		}
		// Let the reader empty the ring, then stop it.
		time.Sleep(500 * time.Millisecond)
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		<-readDone
		err = cmd.Wait()
		code = 0
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return out.String(), errBuf.String(), code, sent
	}

	// The kernel's own count, as tlsmap prints it at the end.
	doneRe := regexp.MustCompile(`(?m)^done: .*kernel: (\d+) received, (\d+) dropped$`)
	kernelCounts := func(t *testing.T, stderr string) (received, dropped uint64) {
		t.Helper()
		m := doneRe.FindStringSubmatch(stderr)
		if m == nil {
			t.Fatalf("no final statistics line on stderr:\n%s", stderr)
		}
		received, _ = strconv.ParseUint(m[1], 10, 64)
		dropped, _ = strconv.ParseUint(m[2], 10, 64)
		return received, dropped
	}

	// jsonl: the coverage record, its kernel drops and gap.
	procs, loops := 1, 5000
	var drops uint64
	for attempt := 1; ; attempt++ {
		stdout, stderr, code, sent := run(procs, loops, "--format", "jsonl")
		if code != 0 {
			t.Fatalf("exit %d without --strict\nstderr:\n%s", code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		var sum struct {
			Schema  string `json:"schema"`
			Packets uint64 `json:"packets"`
			Input   struct {
				KernelDrops *uint64 `json:"kernel_drops"`
			} `json:"input"`
			Gaps []struct {
				Kind  string `json:"kind"`
				Count uint64 `json:"count"`
			} `json:"gaps"`
			Complete bool `json:"complete"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Schema != "tlsmap.sniff.summary/1" || sum.Input.KernelDrops == nil {
			t.Fatalf("last line is no coverage record with input.kernel_drops (%v): %.500s", err, lines[len(lines)-1])
		}
		received, dropped := kernelCounts(t, stderr)
		drops = *sum.Input.KernelDrops
		t.Logf("attempt %d: %d tcpreplay × %d loops: %d packets sent, kernel %d received, %d dropped; tlsmap read %d, kernel_drops %d",
			attempt, procs, loops, sent, received, dropped, sum.Packets, drops)
		if drops != dropped {
			t.Errorf("coverage kernel_drops %d, the kernel's count on stderr %d", drops, dropped)
		}
		// The kernel counts every frame it offered the socket, read or
		// dropped (a few more than were replayed: IPv6 router
		// solicitations of the new links).
		if received < sent || received > sent+100 || sum.Packets+dropped > received+100 || sum.Packets+dropped+100 < received {
			t.Errorf("counts disagree: %d sent, kernel %d received (%d dropped), tlsmap read %d", sent, received, dropped, sum.Packets)
		}
		if drops == 0 {
			if attempt == 3 {
				t.Fatalf("no kernel drops with %d tcpreplay processes at top speed into a 2 MiB ring: the test could not make the kernel drop", procs)
			}
			procs, loops = procs*2, loops*2
			continue
		}
		var gap uint64
		for _, g := range sum.Gaps {
			if g.Kind == "kernel-drops" {
				gap = g.Count
			}
		}
		if gap != drops || sum.Complete {
			t.Errorf("kernel_drops %d, but the kernel-drops gap counts %d and complete is %v", drops, gap, sum.Complete)
		}
		break
	}

	// The legacy table under --strict: the drops said in words, exit 2.
	for attempt := 1; ; attempt++ {
		stdout, stderr, code, _ := run(procs, loops, "--strict")
		_, dropped := kernelCounts(t, stderr)
		if dropped == 0 {
			if attempt == 3 {
				t.Fatalf("no kernel drops in %d runs under --strict", attempt)
			}
			continue
		}
		if code != exitStrict {
			t.Errorf("--strict with %d kernel drops: exit %d, want %d\nstderr:\n%s", dropped, code, exitStrict, stderr)
		}
		if !strings.Contains(stderr, "--strict: the capture has gaps that could hide a handshake: ") || !strings.Contains(stderr, "kernel-drops") {
			t.Errorf("--strict names no kernel-drops gap:\n%s", stderr)
		}
		for _, want := range []string{
			fmt.Sprintf("Kernel drops:   the kernel dropped %d packets; some hellos may be missing", dropped),
			fmt.Sprintf("%d packets were dropped by the kernel", dropped),
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("the legacy report has no %q:\n%s", want, tail(stdout, 2000))
			}
		}
		break
	}
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
