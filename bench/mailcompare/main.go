// Command mailcompare starts the mail servers of the real-server tests
// (internal/mailserver: Postfix on a STARTTLS and a wrapper-mode port,
// Dovecot on IMAP, IMAPS, POP3 and POP3S — in Dovecot's default login mode,
// a new login process per connection, and in its high-performance mode),
// scans each endpoint with tlsmap, sslscan and testssl.sh -E in turn, and
// prints two tables: wall times with their ratios and sums, and
// connections — tlsmap's own count by purpose against the fewest a whole
// map can take, and the TCP connections (SYNs, counted by tcpdump) each
// tool opened to the endpoint's port.
//
// Run it through bench/mail-compare.sh (make bench-mail), as root: the
// script puts it in a network namespace with only loopback, and it refuses
// to scan outside one. It sends traffic only to 127.0.0.1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/tlsmap/tlsmap/internal/mailserver"
)

func main() {
	tlsmap := flag.String("tlsmap", "bin/tlsmap", "tlsmap `binary`")
	timeout := flag.Duration("timeout", 10*time.Minute, "bound on one tool's run against one endpoint")
	verbose := flag.Bool("v", false, "print each tool's output to stderr")
	serve := flag.Bool("serve", false, "start the servers, print their addresses and wait for SIGINT (for manual comparisons)")
	login := flag.String("login", "both", "Dovecot's login `mode`: default (a process per connection), performance (service_count = 0) or both")
	syns := flag.Bool("syn", true, "count each tool's connections with tcpdump (SYNs to the endpoint's port)")
	only := flag.String("only", "", "comma-separated `schemes`: scan only these endpoints (smtp,smtps,imap,imaps,pop3,pop3s)")
	peers := flag.Bool("peers", true, "run sslscan and testssl.sh too (false: tlsmap alone)")
	flag.Parse()
	modes, err := loginModes(*login)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	if *serve {
		os.Exit(serveOnly(modes))
	}
	if err := onlyLoopback(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	os.Exit(run(*tlsmap, modes, *only, *peers, *timeout, *verbose, *syns))
}

// A loginMode is one of Dovecot's two login modes.
type loginMode struct {
	name         string // as the tables print it
	defaultLogin bool   // mailserver.DovecotOptions.DefaultLogin
}

var (
	modeDefault     = loginMode{"default", true}
	modePerformance = loginMode{"high-perf", false}
)

func loginModes(s string) ([]loginMode, error) {
	switch s {
	case "default":
		return []loginMode{modeDefault}, nil
	case "performance":
		return []loginMode{modePerformance}, nil
	case "both":
		return []loginMode{modeDefault, modePerformance}, nil
	}
	return nil, fmt.Errorf("-login %q: want default, performance or both", s)
}

// onlyLoopback refuses to scan from a network that has more than
// loopback: testssl.sh resolves names on its own, and the rules of the
// benchmarks are that peer tools see nothing else.
func onlyLoopback() error {
	ifs, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			return fmt.Errorf("interface %s is not loopback: run in a network namespace with only loopback (bench/mail-compare.sh does: unshare -n)", i.Name)
		}
	}
	return nil
}

// tb runs internal/mailserver's starters outside a test: a failure ends
// the program, cleanups run at exit.
type tb struct {
	testing.TB
	cleanups []func()
}

func (t *tb) Helper()                         {}
func (t *tb) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *tb) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (t *tb) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "error: "+format+"\n", args...)
	t.close()
	os.Exit(1)
}
func (t *tb) Skipf(format string, args ...any) { t.Fatalf(format, args...) }
func (t *tb) close() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

type endpoint struct {
	name     string
	mode     string // Dovecot's login mode; "" for Postfix
	addr     string
	scheme   string // tlsmap target scheme
	starttls string // "smtp", "imap", "pop3"; "" for implicit TLS
}

func (e endpoint) port() string {
	_, p, _ := net.SplitHostPort(e.addr)
	return p
}

// startEndpoints starts Postfix and one Dovecot per login mode.
func startEndpoints(t *tb, modes []loginMode) []endpoint {
	pf := mailserver.StartPostfix(t, mailserver.PostfixOptions{})
	eps := []endpoint{
		{"postfix smtp STARTTLS", "", pf.SMTP, "smtp", "smtp"},
		{"postfix smtps", "", pf.SMTPS, "smtps", ""},
	}
	for _, m := range modes {
		dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{DefaultLogin: m.defaultLogin})
		eps = append(eps,
			endpoint{"dovecot imap STARTTLS", m.name, dc.IMAP, "imap", "imap"},
			endpoint{"dovecot imaps", m.name, dc.IMAPS, "imaps", ""},
			endpoint{"dovecot pop3 STLS", m.name, dc.POP3, "pop3", "pop3"},
			endpoint{"dovecot pop3s", m.name, dc.POP3S, "pop3s", ""},
		)
	}
	return eps
}

// serveOnly starts the endpoints, prints them and waits for SIGINT or
// SIGTERM.
func serveOnly(modes []loginMode) int {
	t := &tb{}
	defer t.close()
	for _, e := range startEndpoints(t, modes) {
		mode := ""
		if e.mode != "" {
			mode = "  # dovecot login mode " + e.mode
		}
		fmt.Printf("%s://%s%s\n", e.scheme, e.addr, mode)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}

// A tool is a scanner and its command line for an endpoint.
type tool struct {
	name string
	cmd  func(e endpoint) []string
}

// measure is one tool's run against one endpoint.
type measure struct {
	wall time.Duration
	syns string      // SYNs to the port, "?" when not counted, with "+" when tcpdump dropped packets
	note string      // why the run does not count: a non-zero exit, the tool's own failure message, tlsmap's status
	scan *scanRecord // tlsmap's JSON record
}

// scanRecord is the part of tlsmap's JSON (docs/schema/scan.md) the
// tables use.
type scanRecord struct {
	Status     string `json:"status"`
	Handshakes struct {
		Total     int            `json:"total"`
		ByPurpose map[string]int `json:"by_purpose"`
		Retries   int            `json:"retries"`
	} `json:"handshakes"`
	Versions []struct {
		Version  string `json:"version"`
		Outcome  string `json:"outcome"`
		Accepted int    `json:"accepted"`
	} `json:"versions"`
	Groups []struct {
		Kind   string            `json:"kind"`
		Groups []json.RawMessage `json:"groups"`
	} `json:"groups"`
}

// bound is the fewest connections that can map the endpoint as tlsmap
// found it: one per accepted suite (a handshake shows one suite), one
// more per probed version (the refusal that ends its list, or the
// version's refusal), one per accepted group, and the certificate
// handshake. The accepted sets come from the record itself; other tests
// check them against the servers' configurations.
func (r *scanRecord) bound() (total, suites, versions, groups int) {
	for _, v := range r.Versions {
		suites += v.Accepted
	}
	versions = len(r.Versions)
	for _, g := range r.Groups {
		groups += len(g.Groups)
	}
	return suites + versions + groups + 1, suites, versions, groups
}

// purposes are the keys of handshakes.by_purpose, in the schema's order.
var purposes = []string{"sslv2", "versions", "suites", "order", "groups", "certificate", "poison", "verify", "dialogue"}

func (r *scanRecord) breakdown() string {
	var b strings.Builder
	for _, p := range purposes {
		fmt.Fprintf(&b, "%s %d, ", p, r.Handshakes.ByPurpose[p])
	}
	fmt.Fprintf(&b, "(retries %d)", r.Handshakes.Retries)
	return b.String()
}

func parseScan(out []byte) (*scanRecord, error) {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte("{")) {
			continue
		}
		var r scanRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("tlsmap's JSON: %w", err)
		}
		return &r, nil
	}
	return nil, errors.New("no JSON record in tlsmap's output")
}

// peerFailed matches what sslscan and testssl.sh print when they could
// not scan an endpoint, whatever their exit code.
var peerFailed = regexp.MustCompile(`(?m)^ERROR|Fatal error|[Cc]ouldn.t connect|Unable to|not a TLS|doesn.t seem to be a TLS`)

func run(tlsmap string, modes []loginMode, only string, peers bool, timeout time.Duration, verbose, countSYNs bool) int {
	t := &tb{}
	defer t.close()
	work, err := os.MkdirTemp("", "mailcompare-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if countSYNs {
		if _, err := exec.LookPath("tcpdump"); err != nil {
			t.Fatalf("tcpdump is not installed (apt-get install tcpdump, or -syn=false)")
		}
	}
	loadBefore := loadavg()
	eps := startEndpoints(t, modes)
	if only != "" {
		var kept []endpoint
		for _, e := range eps {
			if strings.Contains(","+only+",", ","+e.scheme+",") {
				kept = append(kept, e)
			}
		}
		eps = kept
	}
	testssl := "testssl.sh"
	if _, err := exec.LookPath(testssl); err != nil {
		testssl = "testssl" // Debian's name
	}
	tools := []tool{
		{"tlsmap", func(e endpoint) []string {
			return []string{tlsmap, "scan", "--format", "jsonl", e.scheme + "://" + e.addr}
		}},
		{"sslscan", func(e endpoint) []string {
			args := []string{"sslscan", "--no-colour"}
			if e.starttls != "" {
				args = append(args, "--starttls-"+e.starttls)
			}
			return append(args, e.addr)
		}},
		{"testssl.sh -E", func(e endpoint) []string {
			args := []string{testssl, "--quiet", "--nodns", "none", "--warnings", "off", "--color", "0"}
			if e.starttls != "" {
				args = append(args, "-t", e.starttls)
			}
			return append(args, "-E", e.addr)
		}},
	}
	if !peers {
		tools = tools[:1]
	}
	ms := make([][]measure, len(eps))
	failed := false
	for i, e := range eps {
		ms[i] = make([]measure, len(tools))
		for j, tl := range tools {
			m := runTool(tl, e, work, timeout, verbose, countSYNs)
			if j == 0 {
				if m.scan == nil {
					m.note = strings.TrimSpace(m.note + " no record")
				} else if m.scan.Status != "ok" {
					m.note = strings.TrimSpace(m.note + " status=" + m.scan.Status)
				}
			}
			if m.note != "" {
				failed = true
			}
			ms[i][j] = m
			fmt.Fprintf(os.Stderr, "%-22s %-9s %-14s %8v %4s SYNs %s\n", e.name, e.mode, tl.name, m.wall.Round(time.Millisecond), m.syns, m.note)
		}
	}
	loadAfter := loadavg()

	fmt.Printf("load average (1, 5, 15 min): %s before the servers started, %s after the last scan\n\n", loadBefore, loadAfter)
	ratiosOK := printTimes(eps, tools, ms, modes)
	fmt.Println()
	printConnections(eps, tools, ms)
	if !ratiosOK || failed {
		return 1
	}
	return 0
}

// runTool runs one tool against one endpoint, with tcpdump counting the
// SYNs to the endpoint's port when countSYNs.
func runTool(tl tool, e endpoint, work string, timeout time.Duration, verbose, countSYNs bool) measure {
	argv := tl.cmd(e)
	m := measure{syns: "?"}
	var counter *synCounter
	if countSYNs {
		var err error
		if counter, err = startSYNCount(work, e.port()); err != nil {
			fmt.Fprintf(os.Stderr, "tcpdump: %v\n", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m.wall = time.Since(start)
	timedOut := ctx.Err() != nil
	cancel()
	if counter != nil {
		if n, err := counter.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "tcpdump: %v\n", err)
		} else {
			m.syns = n
		}
	}
	out := append(stdout.Bytes(), stderr.Bytes()...)
	if verbose {
		fmt.Fprintf(os.Stderr, "== %s\n%s\n", strings.Join(argv, " "), out)
	}
	switch {
	case timedOut:
		m.note = "TIMEOUT"
	case err != nil:
		m.note = fmt.Sprintf("rc=%v", exitCode(err))
	}
	if tl.name == "tlsmap" {
		if r, perr := parseScan(stdout.Bytes()); perr == nil {
			m.scan = r
		} else {
			fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(argv, " "), perr)
		}
	} else if peerFailed.Match(out) {
		m.note = strings.TrimSpace("FAILED " + m.note)
	}
	if m.note != "" {
		fmt.Fprintf(os.Stderr, "%s: %s\n%s\n", strings.Join(argv, " "), m.note, tail(string(out), 10))
	}
	return m
}

func exitCode(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return strconv.Itoa(ee.ExitCode())
	}
	return err.Error()
}

// synCounter is a tcpdump counting the connection attempts (SYN without
// ACK) to one port on loopback.
type synCounter struct {
	cmd *exec.Cmd
	log string
}

func startSYNCount(work, port string) (*synCounter, error) {
	s := &synCounter{log: filepath.Join(work, "tcpdump.log")}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s.cmd = exec.Command("tcpdump", "-i", "lo", "-n", "-B", "16384", "--immediate-mode",
		"-w", filepath.Join(work, "syn.pcap"),
		"tcp dst port "+port+" and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, _ := os.ReadFile(s.log)
		if bytes.Contains(b, []byte("listening on")) {
			return s, nil
		}
		if time.Now().After(deadline) {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
			return nil, fmt.Errorf("not listening after 10s: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var (
	tcpdumpCaptured = regexp.MustCompile(`(?m)^(\d+) packets? captured`)
	tcpdumpDropped  = regexp.MustCompile(`(?m)^(\d+) packets? dropped by kernel`)
)

// stop lets the last packets arrive, stops tcpdump and returns the count,
// with "+" when the kernel dropped packets (the count is then a floor).
func (s *synCounter) stop() (string, error) {
	time.Sleep(300 * time.Millisecond)
	_ = s.cmd.Process.Signal(os.Interrupt)
	_ = s.cmd.Wait()
	b, err := os.ReadFile(s.log)
	if err != nil {
		return "", err
	}
	c := tcpdumpCaptured.FindSubmatch(b)
	if c == nil {
		return "", fmt.Errorf("no packet count in %q", b)
	}
	n := string(c[1])
	if d := tcpdumpDropped.FindSubmatch(b); d != nil && string(d[1]) != "0" {
		n += "+"
	}
	return n, nil
}

// printTimes prints the wall-time table and reports whether tlsmap's sum
// is at least 5× lower than sslscan's for every set of endpoints (Postfix
// with each Dovecot login mode).
func printTimes(eps []endpoint, tools []tool, ms [][]measure, modes []loginMode) bool {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "wall time\tdovecot login\t")
	for _, tl := range tools {
		fmt.Fprintf(tw, "%s\t", tl.name)
	}
	for _, tl := range tools[1:] {
		fmt.Fprintf(tw, "%s/tlsmap\t", tl.name)
	}
	fmt.Fprintln(tw)
	row := func(label, mode string, ds []time.Duration, notes []string) {
		fmt.Fprintf(tw, "%s\t%s\t", label, mode)
		for j, d := range ds {
			fmt.Fprintf(tw, "%.2fs%s\t", d.Seconds(), notes[j])
		}
		for _, d := range ds[1:] {
			fmt.Fprintf(tw, "%.1f×\t", d.Seconds()/ds[0].Seconds())
		}
		fmt.Fprintln(tw)
	}
	for i, e := range eps {
		ds := make([]time.Duration, len(tools))
		notes := make([]string, len(tools))
		for j, m := range ms[i] {
			ds[j] = m.wall
			if m.note != "" {
				notes[j] = " !"
			}
		}
		mode := e.mode
		if mode == "" {
			mode = "—"
		}
		row(fmt.Sprintf("%s (%s)", e.name, e.addr), mode, ds, notes)
	}
	ok := true
	var ratios []string
	for _, m := range modes {
		sums := make([]time.Duration, len(tools))
		for i, e := range eps {
			if e.mode != "" && e.mode != m.name {
				continue
			}
			for j := range tools {
				sums[j] += ms[i][j].wall
			}
		}
		row("sum: postfix + dovecot "+m.name, m.name, sums, make([]string, len(tools)))
		if len(tools) < 2 {
			continue
		}
		r := sums[1].Seconds() / sums[0].Seconds()
		ratios = append(ratios, fmt.Sprintf("dovecot %s %.1f×", m.name, r))
		if r < 5 {
			ok = false
		}
	}
	tw.Flush()
	fmt.Println("(! = the run does not count: see the connections table's notes and stderr)")
	if !ok {
		fmt.Fprintf(os.Stderr, "error: tlsmap's summed wall time is not 5× lower than sslscan's (want ≥ 5×): %s\n", strings.Join(ratios, ", "))
	}
	return ok
}

// printConnections prints tlsmap's connections against the bound, and
// every tool's SYNs.
func printConnections(eps []endpoint, tools []tool, ms [][]measure) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "connections\tdovecot login\ttlsmap total\tbound = suites+versions+groups+cert\ttotal/bound\t")
	for _, tl := range tools {
		fmt.Fprintf(tw, "%s SYNs\t", tl.name)
	}
	fmt.Fprintln(tw, "tlsmap by purpose\tnotes")
	for i, e := range eps {
		mode := e.mode
		if mode == "" {
			mode = "—"
		}
		fmt.Fprintf(tw, "%s\t%s\t", e.name, mode)
		if r := ms[i][0].scan; r != nil {
			b, s, v, g := r.bound()
			fmt.Fprintf(tw, "%d\t%d = %d+%d+%d+1\t%.2f\t", r.Handshakes.Total, b, s, v, g, float64(r.Handshakes.Total)/float64(b))
		} else {
			fmt.Fprint(tw, "?\t?\t?\t")
		}
		var notes []string
		for j, tl := range tools {
			fmt.Fprintf(tw, "%s\t", ms[i][j].syns)
			if ms[i][j].note != "" {
				notes = append(notes, tl.name+": "+ms[i][j].note)
			}
		}
		if r := ms[i][0].scan; r != nil {
			fmt.Fprint(tw, r.breakdown())
			// A connection that carries no ClientHello (the STARTTLS
			// protocol's probe) is in tcpdump's count, not in total.
			if n, err := strconv.Atoi(ms[i][0].syns); err == nil && n != r.Handshakes.Total {
				notes = append(notes, fmt.Sprintf("tlsmap: SYNs − total = %d", n-r.Handshakes.Total))
			}
		}
		fmt.Fprintf(tw, "\t%s\n", strings.Join(notes, "; "))
	}
	tw.Flush()
	fmt.Println("(total = tlsmap's handshakes.total; bound = the fewest connections a whole map takes, from tlsmap's own record:")
	fmt.Println(" one per accepted suite, one per probed version, one per accepted group, one for the certificate;")
	fmt.Println(" SYNs = TCP connection attempts to the endpoint's port counted by tcpdump, \"+\" when it dropped packets)")
}

// loadavg returns the three load averages of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
