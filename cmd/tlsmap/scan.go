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
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/scan/targets"
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
one endpoint unreachable or inconclusive (or an input line was invalid, or
--max-time cut the sweep); 3 bad flags or targets, or an internal error;
130 interrupted (what finished is printed). See docs/exit-codes.md.

Examples:
  tlsmap scan example.com
  tlsmap scan --format jsonl mail.example.com:465 [2001:db8::1]:8443
  tlsmap scan --versions-only -p 443,8443 --rate 500 10.1.0.0/16
  zmap -p 443 -q 10.0.0.0/8 | tlsmap scan --versions-only --format jsonl -
  tlsmap scan --ciphers tls1.0,tls1.1 -iL hosts.txt --shard 2/4

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

// Defaults of the scan flags.
const (
	defaultConcurrency = 8
)

// scanNotifyContext is signal.NotifyContext; tests replace it to
// interrupt a scan without a signal.
var scanNotifyContext = signal.NotifyContext

// scanListFlag collects a repeatable string flag.
type scanListFlag []string

func (l *scanListFlag) String() string     { return strings.Join(*l, ",") }
func (l *scanListFlag) Set(s string) error { *l = append(*l, s); return nil }

func runScan(e *env, args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	format := fs.String("format", "table", "output `format`: table, jsonl or csv")
	mail := addMailFlags(fs)
	perHost := fs.Int("per-host", scan.DefaultPerHost, "connections open at once to one target")
	concurrency := fs.Int("concurrency", defaultConcurrency, "targets scanned at once")
	timeout := fs.Duration("timeout", scan.DefaultTimeout, "per-connection `timeout` (dial, hello, answer); the certificate handshake gets twice as long")
	retries := fs.Int("retries", scan.DefaultRetries, "times an inconclusive probe (timeout, garbage) is repeated")
	noCert := fs.Bool("no-cert", false, "skip the certificate handshake")
	noGroups := fs.Bool("no-groups", false, "skip the key exchange group scans and the DHE prime probe")
	sni := fs.String("sni", "", "server `name` to send as SNI and check the certificate against, for every target (default: the target's host name; none for IP addresses)")
	versionsOnly := fs.Bool("versions-only", false, "decide which versions are accepted with one hello each, without enumerating suites (for large ranges)")
	versions := fs.String("versions", "", "comma-separated `versions` to probe (ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3; default all)")
	suitesFor := fs.String("ciphers", "", "enumerate the suites of these `versions` only (e.g. tls1.0,tls1.1); the others are only detected")
	var lists, excludes scanListFlag
	fs.Var(&lists, "iL", "read targets from `FILE`, one a line ('#' comments); repeatable; same as the argument @FILE")
	ports := fs.String("p", "", "comma-separated `ports` for targets written without port or scheme (e.g. 25,465,587,993,995,443); the protocol follows the port")
	resolve := fs.String("resolve", "first", "host names: scan the `first` address or all of them")
	fs.Var(&excludes, "exclude", "never scan these `addresses`: comma-separated IPs, CIDR blocks, ranges, or @FILE; repeatable")
	includeSpecial := fs.Bool("include-special", false, "also scan multicast, unspecified and broadcast addresses, and the network and broadcast addresses of CIDR blocks")
	shard := fs.String("shard", "", "scan only share `I/N` of the targets (1 <= I <= N), for splitting a sweep across N machines")
	rateFlag := fs.Float64("rate", 0, "at most `N` connections per second in all (0: no limit)")
	perIPRate := fs.Float64("per-ip-rate", 0, "at most `N` connections per second to one IP address (0: no limit)")
	backoffAfter := fs.Int("backoff-after", 5, "slow an IP address down to 5 connections/s, halving to 1/s, after `N` consecutive timeouts, resets or throttling replies (0: never)")
	maxTime := fs.Duration("max-time", 0, "stop starting targets after this `duration` and cut those in flight (0: no limit)")
	noProgress := fs.Bool("no-progress", false, "no progress bar (it is drawn on stderr only when stderr is a terminal)")
	pol := installPolicyFlags(fs)
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

	// POLICY GATE (policy.go): --list-policies; --format junit|sarif is the
	// gate's report, written at the end instead of per-endpoint output.
	if listPoliciesAsked(fs) {
		return listPolicies(e.stdout)
	}
	scanOut, formatName := e.stdout, *format
	if isReportFormat(formatName) {
		scanOut, formatName = io.Discard, "table"
	}
	// END POLICY GATE
	f, err := output.ParseFormat(formatName)
	if err != nil {
		return usage(err, "")
	}
	switch {
	case *perHost < 1:
		return usage(fmt.Errorf("--per-host %d: must be at least 1", *perHost), "")
	case *concurrency < 1:
		return usage(fmt.Errorf("--concurrency %d: must be at least 1", *concurrency), "")
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
		SkipCert:     *noCert,
		SkipGroups:   *noGroups,
		VersionsOnly: *versionsOnly,
	}
	if *retries == 0 {
		opts.Retries = -1 // Options: 0 is the default, negative none
	}
	if *versions != "" {
		vs, err := parseVersions("--versions", *versions)
		if err != nil {
			return usage(err, "versions are ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3, comma-separated")
		}
		opts.Versions = vs
	}
	if *suitesFor != "" {
		vs, err := parseVersions("--ciphers", *suitesFor)
		if err != nil {
			return usage(err, "versions are ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3, comma-separated")
		}
		opts.SuitesFor = vs
	}

	sopts := targets.Options{IncludeSpecial: *includeSpecial, Stdin: e.stdin}
	mail.apply(&opts, &sopts.Target) // STARTTLS dialogues (scanmail.go)
	if *sni != "" {
		if err := checkSNI(*sni); err != nil {
			return usage(err, "--sni takes a host name, without port or scheme")
		}
		sopts.SNI = strings.ToLower(strings.TrimSuffix(*sni, "."))
	}
	if *ports != "" {
		if sopts.Ports, err = parsePorts(*ports); err != nil {
			return usage(err, "e.g. -p 443,8443 or -p 25,465,587,993,995,443")
		}
	}
	if sopts.Resolve, err = targets.ParseResolveMode(*resolve); err != nil {
		return usage(fmt.Errorf("--resolve: %w", err), "")
	}
	if len(excludes) > 0 {
		sopts.Exclude = &targets.AddrSet{}
		for _, x := range excludes {
			if err := sopts.Exclude.ParseExclude(x); err != nil {
				return usage(fmt.Errorf("--exclude: %w", err), "e.g. --exclude 10.0.0.0/24,10.1.2.3 or --exclude @excluded.txt")
			}
		}
	}
	if *shard != "" {
		if sopts.Shard, err = targets.ParseShard(*shard); err != nil {
			return usage(fmt.Errorf("--shard: %w", err), "e.g. --shard 1/4 on the first of four machines")
		}
	}

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
	gate, err := pol.load()
	if err != nil {
		return usage(err, "")
	}
	// POLICY GATE (policy.go): --gate sets scan.Options.Gate.
	if c, ok := gate.(interface{ Configure(*scan.Options) }); ok {
		c.Configure(&opts)
	}
	// END POLICY GATE

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
			fmt.Fprintf(e.stderr, "warning: %s: %v\n", source, err)
		}
	}
	jobs := make(chan scan.Target, 2**concurrency)
	produced := make(chan error, 1)
	go func() { produced <- targets.Stream(ctx, inputs, sopts, jobs) }()

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

	sw := output.NewScanWriter(scanOut, f) // POLICY GATE: scanOut (above)
	var (
		writeErr error
		started  atomic.Int64
		finished int
		byStatus = map[scan.Status]int{}
	)
	scan.Sweep(ctx, jobs, opts, scan.SweepOptions{
		Concurrency: *concurrency,
		Limiter:     limiter,
		Started: func(scan.Target) {
			started.Add(1)
			if prog != nil {
				prog.inFlight.Add(1)
			}
		},
	}, func(r *scan.Result) {
		finished++
		byStatus[r.Status]++
		if writeErr == nil {
			writeErr = sw.Write(r, policy.Findings(r))
		}
		if gate != nil {
			gate.Check(r)
		}
		if prog != nil {
			prog.done(r)
		}
	})
	if err := sw.Flush(); writeErr == nil {
		writeErr = err
	}
	interrupted := sigCtx.Err() != nil
	timedOut := !interrupted && ctx.Err() != nil
	stop()
	prodErr := <-produced
	producerDone := prodErr == nil
	if prodErr != nil && ctx.Err() != nil && errors.Is(prodErr, ctx.Err()) {
		prodErr = nil
	}
	if prog != nil {
		prog.finish(interrupted || timedOut)
	}

	emitted := stats.Emitted.Load()
	notStarted := emitted - started.Load()
	summary := func() {
		fmt.Fprintf(e.stderr, "tlsmap: %d %s reported: %d ok, %d inconclusive, %d unreachable", finished, scanPlural(finished, "target", "targets"),
			byStatus[scan.StatusOK], byStatus[scan.StatusInconclusive], byStatus[scan.StatusUnreachable])
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
				fmt.Errorf("scan: interrupted; %d of %d targets reported, %d not started", finished, emitted, notStarted),
				"the reported targets' unfinished parts are inconclusive \"cancelled\"")
		}
		return e.fail(exitInterrupted,
			fmt.Errorf("scan: interrupted; %d targets reported, %d queued not started, the rest of the input not read", finished, notStarted),
			"the reported targets' unfinished parts are inconclusive \"cancelled\"")
	}

	code = scanExitPass
	if gate != nil {
		code = gate.Finish(e.stdout, e.stderr)
	}
	incomplete := byStatus[scan.StatusInconclusive] + byStatus[scan.StatusUnreachable]
	if code == scanExitPass && (incomplete > 0 || badLines.Load() > 0 || timedOut) {
		code = scanExitIncomplete
	}
	switch {
	case timedOut:
		summary()
		fmt.Fprintf(e.stderr, "tlsmap: --max-time %v reached: %d queued targets not started", *maxTime, notStarted)
		if !producerDone {
			fmt.Fprint(e.stderr, ", the rest of the input not read")
		}
		fmt.Fprintln(e.stderr)
	case incomplete > 0 || badLines.Load() > 0:
		summary()
		if incomplete > 0 {
			fmt.Fprintf(e.stderr, "tlsmap: %d of %d targets unreachable or inconclusive\n", incomplete, finished)
		}
	}
	return code
}

// scanGate is the policy gate of a scan (cmd/tlsmap/policy.go): it sees
// every result as it is written and decides the exit code at the end.
type scanGate interface {
	// Check evaluates one endpoint, from the collector goroutine.
	Check(r *scan.Result)
	// Finish writes the gate's reports (JUnit, SARIF, a summary on
	// stderr) and returns scanExitPass, scanExitViolation or
	// scanExitIncomplete.
	Finish(stdout, stderr io.Writer) int
}

// policyHook is how the policy gate plugs into scan: cmd/tlsmap/policy.go
// sets it (in an init function) to a function that registers the policy
// flags on fs and returns a loader, called once the flags are parsed,
// which returns the gate (nil without a policy) or a usage error.
//
// POLICY HOOK: until policy.go sets it, scan has no policy flags and no
// gate, and exits 0 or 2 (never 1).
var policyHook func(fs *flag.FlagSet) func() (scanGate, error)

type policyLoader struct{ load func() (scanGate, error) }

func installPolicyFlags(fs *flag.FlagSet) policyLoader {
	if policyHook == nil {
		return policyLoader{load: func() (scanGate, error) { return nil, nil }}
	}
	return policyLoader{load: policyHook(fs)}
}

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

// checkSNI accepts a DNS host name (RFC 6066 section 3: no IP literal,
// no port).
func checkSNI(name string) error {
	t, err := scan.ParseTarget(name, scan.TargetOptions{})
	switch {
	case err != nil:
		return fmt.Errorf("--sni %q: %w", name, err)
	case t.Host == "":
		return fmt.Errorf("--sni %q: SNI cannot be an IP address (RFC 6066, section 3)", name)
	case strings.ContainsAny(name, ":/"):
		return fmt.Errorf("--sni %q: a host name, without port or scheme", name)
	}
	return nil
}

// parsePorts parses "25,465,443" (duplicates dropped, order kept).
func parsePorts(s string) ([]uint16, error) {
	var ps []uint16
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.ParseUint(part, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("-p: port %q: want 1-65535", part)
		}
		if !slices.Contains(ps, uint16(n)) {
			ps = append(ps, uint16(n))
		}
	}
	return ps, nil
}

// parseVersions parses "tls1.0,tls1.2" into wire versions, oldest first;
// flag names the flag in errors.
func parseVersions(flag, s string) ([]uint16, error) {
	var vs []uint16
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var v uint16
		switch strings.ToLower(part) {
		case "ssl2", "sslv2", "ssl2.0", "sslv2.0":
			v = ciphers.VersionSSL20
		default:
			tv, err := tls.ParseVersion(part)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
			v = uint16(tv)
		}
		if !slices.Contains(scan.AllVersions, v) {
			return nil, fmt.Errorf("%s: %s cannot be scanned (want ssl2, ssl3, tls1.0 … tls1.3)", flag, tls.Version(v).String())
		}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs, nil
}

func scanPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
