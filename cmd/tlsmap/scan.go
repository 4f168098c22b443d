package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/scan/targets"
	"github.com/tlsmap/tlsmap/store"
)

const scanHelp = `Usage: tlsmap scan [flags] TARGET...

Maps which protocol versions (SSLv2, SSLv3, TLS 1.0 … 1.3) and which cipher
suites each target accepts, in the server's order when it enforces one, its
key exchange groups and its certificate, and lists what to act on before
switching legacy TLS off. Results stream out as each endpoint finishes.

Targets (docs/targets.md):
  example.com              port 443 (or each -p port)
  example.com:8443
  192.0.2.1:443
  [2001:db8::1]:443        IPv6 with a port needs brackets
  https://example.com      URLs: https, tls, smtp, submission, smtps, imap,
                           imaps, pop3, pop3s; the path is ignored
  192.0.2.0/24             CIDR blocks, IPv4 or IPv6 (2001:db8::/120)
  192.0.2.1-50             ranges: last octet, or 192.0.2.1-192.0.3.255
  -                        one target a line from stdin (zmap ... | tlsmap scan -)
  @FILE, -iL FILE          one target a line from FILE ('#' comments)

Exit status: 0 every endpoint passes (scanned; with a policy: meets it);
1 at least one endpoint violates the policy; 2 no violation, but at least
one endpoint partial (a version undecided), unreachable, failing its
STARTTLS dialogue or inconclusive (or an input line was invalid, or
--max-time cut the sweep: the targets not started are reported
"not-started"); 3 bad flags or targets, or an internal error;
130 interrupted (what finished is printed). See docs/exit-codes.md.

Examples:
  tlsmap scan example.com
  tlsmap scan --format jsonl mail.example.com:465 [2001:db8::1]:8443
  tlsmap scan --versions-only -p 443,8443 --rate 500 10.1.0.0/16
  zmap -p 443 -q 10.0.0.0/8 | tlsmap scan --versions-only --format jsonl -
  tlsmap scan --ciphers tls1.0,tls1.1 -iL hosts.txt --shard 2/4
  tlsmap scan --store postgres://tlsmap@db/tlsmap --store-run week-12 --shard 2/4 -iL hosts.txt

Flags:
`

// Exit codes of tlsmap scan (docs/exit-codes.md). They differ from the
// other commands' (main.go): scan is a CI gate, whose 1 means "a policy
// violation", as linters and test runners use it.
const (
	scanExitPass       = 0 // every endpoint scanned (and, with a policy, passes)
	scanExitViolation  = 1 // at least one endpoint violates the policy
	scanExitIncomplete = 2 // no violation; something unreachable, inconclusive or not scanned
	scanExitUsage      = 3 // bad flags or targets, or an internal error
)

// scanNotifyContext is signal.NotifyContext; tests replace it to
// interrupt a scan without a signal.
var scanNotifyContext = signal.NotifyContext

func runScan(e *env, args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	format := &formatFlag{reports: true}
	fs.Var(format, "format", "output `format`: table, jsonl or csv (default table)")
	mail := addMailFlags(fs)
	perHost := fs.Int("per-host", scan.DefaultPerHost, "connections open at once to one target")
	var concurrency concurrencyFlag // auto
	fs.Var(&concurrency, "concurrency", fmt.Sprintf("targets scanned at once: `N`, or auto (the default): from 1, growing while targets wait and their endpoints answer, up to %d, halved when answering endpoints start timing out or resetting (--per-host still bounds each endpoint)", scan.DefaultMaxConcurrency))
	timeout := fs.Duration("timeout", scan.DefaultTimeout, "per-connection `timeout` (dial, hello, answer); the certificate handshake gets twice as long")
	retries := fs.Int("retries", scan.DefaultRetries, "times an inconclusive probe (timeout, garbage) is repeated")
	noCert := fs.Bool("no-cert", false, "skip the certificate handshake (the certificate is then reported not checked)")
	withCert := fs.Bool("cert", false, "with --versions-only: run the certificate handshake too (a versions-only scan skips it by default)")
	noGroups := fs.Bool("no-groups", false, "skip the key exchange group scans and the DHE prime probe")
	var sni sniFlag
	fs.Var(&sni, "sni", "server `name` to send as SNI and check the certificate against, for every target (default: the target's host name; none for IP addresses)")
	versionsOnly := fs.Bool("versions-only", false, "decide which versions are accepted with one hello each, without enumerating suites (for large ranges)")
	versions := &versionsFlag{name: "--versions"}
	fs.Var(versions, "versions", "comma-separated `versions` to probe (ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3; default all)")
	suitesFor := &versionsFlag{name: "--ciphers"}
	fs.Var(suitesFor, "ciphers", "enumerate the suites of these `versions` only (e.g. tls1.0,tls1.1); the others are only detected")
	var lists listFlag
	fs.Var(&lists, "iL", "read targets from `FILE`, one a line ('#' comments); repeatable; same as the argument @FILE")
	var ports portsFlag
	fs.Var(&ports, "p", "comma-separated `ports` for targets written without port or scheme (e.g. 25,465,587,993,995,443); the protocol follows the port")
	var resolve resolveFlag
	fs.Var(&resolve, "resolve", "host names: scan the `first` address or all of them")
	var exclude excludeFlag
	fs.Var(&exclude, "exclude", "never scan these `addresses`: comma-separated IPs, CIDR blocks, ranges, or @FILE; repeatable")
	includeSpecial := fs.Bool("include-special", false, "also scan multicast, unspecified and broadcast addresses, and the network and broadcast addresses of CIDR blocks")
	var shard shardFlag
	fs.Var(&shard, "shard", "scan only share `I/N` of the targets (1 <= I <= N), for splitting a sweep across N machines")
	rateFlag := fs.Float64("rate", 0, "at most `N` connections per second in all (0: no limit)")
	perIPRate := fs.Float64("per-ip-rate", 0, "at most `N` connections per second to one IP address (0: no limit)")
	backoffAfter := fs.Int("backoff-after", 5, "slow an IP address down to 5 connections/s, halving to 1/s, after `N` consecutive timeouts, resets or throttling replies (0: never)")
	maxTime := fs.Duration("max-time", 0, "stop starting targets after this `duration` and cut those in flight (0: no limit)")
	noProgress := fs.Bool("no-progress", false, "no progress bar (it is drawn on stderr only when stderr is a terminal)")
	storeDSN := fs.String("store", "", "also store every result in this `store`: an SQLite file or a postgres:// URL (docs/schema/store.md)")
	storeRun := fs.String("store-run", "", "with --store: the run's `name` (give the shards of one sweep the same name; default: scan-ID)")
	pol := addPolicyFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), scanHelp)
		fs.PrintDefaults()
	}
	args, code, done := e.parseFlags(fs, args)
	if done {
		if code == exitUsage {
			code = scanExitUsage
		}
		return code
	}
	usage := func(err error, hint string) int { return e.fail(scanExitUsage, err, hint) }

	// The policy gate (policy.go): --list-policies; --format junit|sarif
	// is the gate's report, written at the end instead of per-endpoint
	// output.
	if pol.list {
		return listPolicies(e.stdout)
	}
	scanOut := e.stdout
	if format.report != "" {
		scanOut = io.Discard
	}
	switch {
	case *perHost < 1:
		return usage(fmt.Errorf("--per-host %d: must be at least 1", *perHost), "")
	case *withCert && *noCert:
		return usage(errors.New("scan: --cert and --no-cert together"), "--cert runs the certificate handshake in a --versions-only scan, --no-cert skips it in any scan: give one")
	case *timeout <= 0:
		return usage(fmt.Errorf("--timeout %v: must be positive", *timeout), "e.g. --timeout 5s")
	case *retries < 0:
		return usage(fmt.Errorf("--retries %d: must be 0 or more", *retries), "")
	case *rateFlag < 0:
		return usage(fmt.Errorf("--rate %v: must be 0 (no limit) or more", *rateFlag), "")
	case *perIPRate < 0:
		return usage(fmt.Errorf("--per-ip-rate %v: must be 0 (no limit) or more", *perIPRate), "")
	case *backoffAfter < 0:
		return usage(fmt.Errorf("--backoff-after %d: must be 0 (never) or more", *backoffAfter), "")
	case *maxTime < 0:
		return usage(fmt.Errorf("--max-time %v: must be 0 (no limit) or more", *maxTime), "")
	}
	opts := scan.Options{
		PerHost:      *perHost,
		Timeout:      *timeout,
		Retries:      *retries,
		SkipCert:     *noCert || *versionsOnly && !*withCert,
		SkipGroups:   *noGroups,
		VersionsOnly: *versionsOnly,
		Versions:     versions.vs,
		SuitesFor:    suitesFor.vs,
	}
	if *retries == 0 {
		opts.Retries = -1 // Options: 0 is the default, negative none
	}
	// A certificate not fetched is reported not checked, with the flag
	// that skipped it.
	switch {
	case *noCert:
		opts.SkipCertReason = "skipped by --no-cert"
	case opts.SkipCert:
		opts.SkipCertReason = "skipped by --versions-only (--cert checks it)"
	}

	sopts := targets.Options{
		IncludeSpecial: *includeSpecial, Stdin: e.stdin,
		SNI: sni.name, Ports: ports.ports, Resolve: resolve.m, Exclude: exclude.set, Shard: shard.s,
	}
	mail.apply(&opts, &sopts.Target) // STARTTLS dialogues (scanmail.go)

	// Inputs: the arguments, then the -iL lists. Arguments are checked
	// before anything is scanned; lists are read as the sweep goes.
	inputs := slices.Clone(args)
	for _, l := range lists {
		inputs = append(inputs, "@"+l)
	}
	if len(inputs) == 0 {
		return usage(errors.New("scan: no targets"), "give one or more targets, e.g. 'tlsmap scan example.com', or '-' to read them from stdin")
	}
	var bad []error
	stdinSeen := false
	for _, in := range inputs {
		switch {
		case in == "-":
			if stdinSeen {
				bad = append(bad, errors.New("scan: '-' (stdin) given twice"))
			}
			stdinSeen = true
		case strings.HasPrefix(in, "@"):
			if st, err := os.Stat(in[1:]); err != nil {
				bad = append(bad, fmt.Errorf("scan: target list: %w", err))
			} else if st.IsDir() {
				bad = append(bad, fmt.Errorf("scan: target list %s is a directory", in[1:]))
			}
		default:
			if err := targets.Check(in, sopts); err != nil {
				bad = append(bad, err)
			}
		}
	}
	if len(bad) > 0 {
		return usage(errors.Join(bad...), "targets are host, host:port, [IPv6]:port, scheme://host[:port], CIDR blocks and ranges; see 'tlsmap help scan'")
	}
	gate, err := pol.load(format.report, notEnumerated(*versionsOnly, suitesFor.vs))
	if err != nil {
		return usage(err, "")
	}
	if gate != nil {
		gate.Configure(&opts) // --gate sets scan.Options.Gate
	}

	if *storeRun != "" && *storeDSN == "" {
		return usage(errors.New("scan: --store-run needs --store"), "e.g. --store tlsmap.db --store-run weekly")
	}
	var ss *scanStore
	if *storeDSN != "" {
		var err error
		ss, err = openScanStore(context.Background(), *storeDSN, *storeRun, shard.String(), args)
		if err != nil {
			return e.fail(scanExitUsage, err, storeHint)
		}
	}

	sigCtx, stop := scanNotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Once interrupted, a second Ctrl-C kills at once.
	context.AfterFunc(sigCtx, stop)
	ctx := sigCtx
	if *maxTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(sigCtx, *maxTime)
		defer cancel()
	}

	var (
		stats    targets.Stats
		badLines atomic.Int64
	)
	sopts.Stats = &stats
	sopts.OnBad = func(source string, err error) {
		// Only list lines get here (arguments were checked above); the
		// first ones are named, the rest counted.
		if badLines.Add(1) <= 20 {
			fmt.Fprintf(e.stderr, "warning: %s\n", clip(source+": "+err.Error()))
		}
	}
	sweep := concurrency.sweepOptions()
	// The queue holds what the sweep may start next: twice its most
	// targets at once (an automatic sweep sees targets waiting, and grows).
	jobs := make(chan scan.Target, 2*max(sweep.Concurrency, sweep.MaxConcurrency))
	produced := make(chan error, 1)
	// The producer runs on when --max-time cuts the sweep: every target
	// of the input gets a record, the ones never started "not-started"
	// (enumerating them dials nothing).
	go func() { produced <- targets.Stream(sigCtx, inputs, sopts, jobs) }()

	limits := scan.Limits{Rate: *rateFlag, PerIPRate: *perIPRate, BackoffAfter: *backoffAfter}
	if *backoffAfter == 0 {
		limits.BackoffAfter = -1 // Limits: 0 is the default, negative never
	}
	limiter := scan.NewLimiter(limits)

	var prog *scanProgress
	if !*noProgress && isTerminal(e.stderr) {
		total, known := targets.Estimate(inputs, sopts)
		prog = newScanProgress(e.stderr, total, known)
	}

	sw := output.NewScanWriter(scanOut, format.f)
	var (
		writeErr error
		started  atomic.Int64
		finished int
		byStatus = map[scan.Status]int{}
	)
	unknownDomain := 0 // XMPP servers that do not serve the name they were given
	emit := func(r *scan.Result) {
		finished++
		byStatus[r.Status]++
		if r.Status == scan.StatusDialogueError && strings.Contains(r.Error.Reason, unknownDomainText) {
			unknownDomain++
		}
		j := gate.Judge(r) // gate may be nil: the findings alone
		if writeErr == nil {
			writeErr = sw.Write(r, j.Findings)
		}
		if ss != nil {
			ss.add(ctx, r, j.Findings)
		}
		if prog != nil {
			prog.done(r)
		}
	}
	var (
		sweepStats scan.SweepStats
		held       []scan.Target // taken from jobs, not started when ctx ended
	)
	sweepStart := time.Now()
	sweep.Limiter = limiter
	sweep.Stats = &sweepStats
	sweep.Started = func(scan.Target) {
		started.Add(1)
		if prog != nil {
			prog.inFlight.Add(1)
		}
	}
	sweep.Unstarted = func(t scan.Target) { held = append(held, t) }
	scan.Sweep(ctx, jobs, opts, sweep, emit)
	sweepTime := time.Since(sweepStart)
	interrupted := sigCtx.Err() != nil
	timedOut := !interrupted && ctx.Err() != nil
	notStarted := 0
	if timedOut {
		// What the sweep never took, and the rest of the input.
		reason := fmt.Sprintf("--max-time %v reached before the scan started", *maxTime)
		for _, t := range held {
			if prog != nil {
				prog.inFlight.Add(1)
			}
			emit(scan.NotStarted(t, reason))
			notStarted++
		}
		for t := range jobs {
			if prog != nil {
				prog.inFlight.Add(1)
			}
			emit(scan.NotStarted(t, reason))
			notStarted++
		}
	}
	if err := sw.Flush(); writeErr == nil {
		writeErr = err
	}
	interrupted = sigCtx.Err() != nil
	stop()
	prodErr := <-produced
	producerDone := prodErr == nil
	if prodErr != nil && ctx.Err() != nil && errors.Is(prodErr, ctx.Err()) {
		prodErr = nil
	}
	if prog != nil {
		prog.finish(interrupted || timedOut)
	}
	if ss != nil {
		state := store.RunComplete
		if interrupted || timedOut || prodErr != nil {
			state = store.RunInterrupted
		}
		if err := ss.finish(state); err != nil && writeErr == nil {
			writeErr = err
		}
	}

	emitted := stats.Emitted.Load()
	queued := emitted - started.Load() - int64(notStarted) // interrupted: queued, never reported
	summary := func() {
		fmt.Fprintf(e.stderr, "tlsmap: %d %s reported: %d ok", finished, scanPlural(finished, "target", "targets"), byStatus[scan.StatusOK])
		for _, st := range []scan.Status{scan.StatusPartial, scan.StatusInconclusive, scan.StatusUnreachable, scan.StatusDialogueError, scan.StatusNotStarted} {
			if n := byStatus[st]; n > 0 || st == scan.StatusInconclusive || st == scan.StatusUnreachable {
				fmt.Fprintf(e.stderr, ", %d %s", n, st)
			}
		}
		if d := stats.Duplicates.Load(); d > 0 {
			fmt.Fprintf(e.stderr, "; %d %s removed", d, scanPlural(int(d), "duplicate", "duplicates"))
		}
		if x := stats.Excluded.Load(); x > 0 {
			fmt.Fprintf(e.stderr, "; %d excluded", x)
		}
		if s := stats.Special.Load(); s > 0 {
			fmt.Fprintf(e.stderr, "; %d special %s skipped", s, scanPlural(int(s), "address", "addresses"))
		}
		if b := badLines.Load(); b > 0 {
			fmt.Fprintf(e.stderr, "; %d invalid input %s skipped", b, scanPlural(int(b), "line", "lines"))
		}
		if n := limiter.Slowed(); n > 0 {
			fmt.Fprintf(e.stderr, "; %d backoff steps", n)
		}
		fmt.Fprintln(e.stderr)
		fmt.Fprintf(e.stderr, "tlsmap: %s\n", sweepSummary(sweep.Auto, &sweepStats, sweepTime))
	}

	switch {
	case writeErr != nil:
		return e.fail(scanExitUsage, fmt.Errorf("scan: writing results: %w", writeErr), "")
	case prodErr != nil:
		summary()
		return e.fail(scanExitUsage, prodErr, "")
	case interrupted:
		summary()
		if producerDone {
			return e.fail(exitInterrupted,
				fmt.Errorf("scan: interrupted; %d of %d targets reported, %d not started", finished, emitted, queued),
				"the reported targets' unfinished parts are inconclusive \"cancelled\"")
		}
		return e.fail(exitInterrupted,
			fmt.Errorf("scan: interrupted; %d targets reported, %d queued not started, the rest of the input not read", finished, queued),
			"the reported targets' unfinished parts are inconclusive \"cancelled\"")
	}

	code = scanExitPass
	if gate != nil {
		code = gate.Finish(e.stdout, e.stderr)
	}
	// Every status but ok is something not seen (partial: a version).
	incomplete := finished - byStatus[scan.StatusOK]
	if code == scanExitPass && (incomplete > 0 || badLines.Load() > 0 || timedOut) {
		code = scanExitIncomplete
	}
	switch {
	case timedOut:
		summary()
		fmt.Fprintf(e.stderr, "tlsmap: --max-time %v reached: %d %s not started (reported \"not-started\")\n", *maxTime, notStarted, scanPlural(notStarted, "target", "targets"))
	case incomplete > 0 || badLines.Load() > 0:
		summary()
		if incomplete > 0 {
			fmt.Fprintf(e.stderr, "tlsmap: %d of %d targets not ok (partial, unreachable, dialogue error or inconclusive)\n", incomplete, finished)
		}
		if unknownDomain > 0 {
			fmt.Fprintf(e.stderr, "hint: %d XMPP %s not serve the domain the stream named (host-unknown): give the service's domain with --xmpp-domain DOMAIN\n",
				unknownDomain, scanPlural(unknownDomain, "server does", "servers do"))
		}
	case finished > 1:
		// A sweep that went well still says what it did and how fast.
		summary()
	}
	return code
}

// sweepSummary is the summary's line about the sweep itself: its
// concurrency (the most targets at once, and the final limit: auto's
// last value) and its connection rate.
func sweepSummary(auto bool, st *scan.SweepStats, took time.Duration) string {
	mode := "concurrency"
	if auto {
		mode = "concurrency auto"
	}
	s := fmt.Sprintf("%s: peak %d, final limit %d", mode, st.Peak.Load(), st.Limit.Load())
	if n := st.Cuts.Load(); n > 0 {
		s += fmt.Sprintf(" (halved %d %s on timeouts or resets)", n, scanPlural(int(n), "time", "times"))
	}
	conns := st.Connections.Load()
	rate := 0.0
	if sec := took.Seconds(); sec > 0 {
		rate = float64(conns) / sec
	}
	return s + fmt.Sprintf("; %d %s in %v (%.0f/s)", conns, scanPlural(int(conns), "connection", "connections"), took.Round(time.Millisecond), rate)
}

// unknownDomainText is how a dialogue error's reason says that the server
// does not serve the domain asked for (protocols.ErrUnknownDomain).
var unknownDomainText = strings.TrimPrefix(protocols.ErrUnknownDomain.Error(), "protocols: ")

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// scanProgress is the progress bar on stderr: targets done (of the total
// when the inputs tell it), rate, ETA, in flight, inconclusive.
type scanProgress struct {
	p            *mpb.Progress
	bar          *mpb.Bar
	inFlight     atomic.Int64
	inconclusive atomic.Int64
}

func newScanProgress(w io.Writer, total uint64, known bool) *scanProgress {
	sp := &scanProgress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(200*time.Millisecond))}
	extra := decor.Any(func(decor.Statistics) string {
		return fmt.Sprintf("in flight %d · inconclusive %d", sp.inFlight.Load(), sp.inconclusive.Load())
	}, decor.WCSyncSpaceR)
	if known {
		sp.bar = sp.p.New(int64(total), mpb.BarStyle(),
			mpb.PrependDecorators(decor.Name("targets "), decor.CountersNoUnit("%d / %d", decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.AverageSpeed(nil, " %.0f/s"), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO), decor.Name(" "), extra),
		)
	} else {
		sp.bar = sp.p.New(0, mpb.SpinnerStyle(),
			mpb.PrependDecorators(decor.Name("targets "), decor.CurrentNoUnit("%d", decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.AverageSpeed(nil, " %.0f/s"), decor.Name(" "), extra),
		)
	}
	return sp
}

func (sp *scanProgress) done(r *scan.Result) {
	sp.inFlight.Add(-1)
	if r.Status != scan.StatusOK {
		sp.inconclusive.Add(1)
	}
	sp.bar.Increment()
}

// finish completes (or, cut short, aborts) the bar and waits for its last
// drawing.
func (sp *scanProgress) finish(cut bool) {
	if cut {
		sp.bar.Abort(false)
	} else {
		sp.bar.SetTotal(-1, true)
	}
	sp.p.Wait()
}

func scanPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
