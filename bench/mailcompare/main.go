// Command mailcompare starts the mail servers of the real-server tests
// (internal/mailserver: Postfix on a STARTTLS and a wrapper-mode port,
// Dovecot on IMAP, IMAPS, POP3 and POP3S), scans each endpoint with
// tlsmap, sslscan and testssl.sh in turn, and prints the wall times side by
// side with their sums.
//
// Run it through bench/mail-compare.sh (make bench-mail), as root. It sends
// traffic only to 127.0.0.1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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
	flag.Parse()
	if *serve {
		os.Exit(serveOnly())
	}
	os.Exit(run(*tlsmap, *timeout, *verbose))
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
	addr     string
	scheme   string // tlsmap target scheme
	starttls string // "smtp", "imap", "pop3"; "" for implicit TLS
}

// serveOnly starts the endpoints, prints them and waits for SIGINT or
// SIGTERM.
func serveOnly() int {
	t := &tb{}
	defer t.close()
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{})
	pf := mailserver.StartPostfix(t, mailserver.PostfixOptions{})
	fmt.Printf("smtp://%s\nsmtps://%s\nimap://%s\nimaps://%s\npop3://%s\npop3s://%s\n", pf.SMTP, pf.SMTPS, dc.IMAP, dc.IMAPS, dc.POP3, dc.POP3S)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return 0
}

func run(tlsmap string, timeout time.Duration, verbose bool) int {
	t := &tb{}
	defer t.close()
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{})
	pf := mailserver.StartPostfix(t, mailserver.PostfixOptions{})
	eps := []endpoint{
		{"postfix smtp STARTTLS", pf.SMTP, "smtp", "smtp"},
		{"postfix smtps", pf.SMTPS, "smtps", ""},
		{"dovecot imap STARTTLS", dc.IMAP, "imap", "imap"},
		{"dovecot imaps", dc.IMAPS, "imaps", ""},
		{"dovecot pop3 STLS", dc.POP3, "pop3", "pop3"},
		{"dovecot pop3s", dc.POP3S, "pop3s", ""},
	}
	testssl := "testssl.sh"
	if _, err := exec.LookPath(testssl); err != nil {
		testssl = "testssl" // Debian's name
	}
	tools := []struct {
		name string
		cmd  func(e endpoint) []string
	}{
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
			args := []string{testssl}
			if e.starttls != "" {
				args = append(args, "-t", e.starttls)
			}
			return append(args, "-E", "--warnings", "off", "--color", "0", e.addr)
		}},
	}
	times := make([][]time.Duration, len(eps))
	failed := false
	for i, e := range eps {
		times[i] = make([]time.Duration, len(tools))
		for j, tool := range tools {
			argv := tool.cmd(e)
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			times[i][j] = time.Since(start)
			cancel()
			if verbose {
				fmt.Fprintf(os.Stderr, "== %s\n%s\n", strings.Join(argv, " "), out)
			}
			if err != nil {
				failed = true
				fmt.Fprintf(os.Stderr, "%s: %v\n%s\n", strings.Join(argv, " "), err, tail(string(out), 10))
			}
			fmt.Fprintf(os.Stderr, "%-24s %-14s %v\n", e.name, tool.name, times[i][j].Round(time.Millisecond))
		}
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "endpoint\t")
	for _, tool := range tools {
		fmt.Fprintf(tw, "%s\t", tool.name)
	}
	fmt.Fprintln(tw)
	sums := make([]time.Duration, len(tools))
	for i, e := range eps {
		fmt.Fprintf(tw, "%s (%s)\t", e.name, e.addr)
		for j := range tools {
			sums[j] += times[i][j]
			fmt.Fprintf(tw, "%.2fs\t", times[i][j].Seconds())
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "sum\t")
	for j := range tools {
		fmt.Fprintf(tw, "%.2fs\t", sums[j].Seconds())
	}
	fmt.Fprintln(tw)
	tw.Flush()
	ratio := sums[1].Seconds() / sums[0].Seconds()
	fmt.Printf("sslscan/tlsmap: %.1f×, testssl.sh/tlsmap: %.1f×\n", ratio, sums[2].Seconds()/sums[0].Seconds())
	if ratio < 5 {
		fmt.Fprintf(os.Stderr, "error: tlsmap's summed wall time is only %.1f× lower than sslscan's (want ≥ 5×)\n", ratio)
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
