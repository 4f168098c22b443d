package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/scan"
)

const scanHelp = `Usage: tlsmap scan [flags] TARGET...

Maps which protocol versions (SSLv2, SSLv3, TLS 1.0 … 1.3) and which cipher
suites each target accepts, in the server's order when it enforces one, its
key exchange groups and its certificate, and lists what to act on before
switching legacy TLS off.

Targets:
  example.com              port 443
  example.com:8443
  192.0.2.1:443
  [2001:db8::1]:443        IPv6 with a port needs brackets
  https://example.com      URLs: https, tls (any port); the path is ignored

Exit status: 0 every target was scanned; 1 at least one target was
unreachable or inconclusive; 2 bad flags or targets; 130 interrupted (what
finished is printed). See docs/exit-codes.md.

Examples:
  tlsmap scan example.com
  tlsmap scan --format jsonl mail.example.com:465 [2001:db8::1]:8443
  tlsmap scan --versions-only --concurrency 32 $(cat hosts.txt)
  tlsmap scan --sni www.example.com 192.0.2.1

Flags:
`

// Defaults of the scan flags.
const (
	defaultConcurrency = 8
)

// scanNotifyContext is signal.NotifyContext; tests replace it to
// interrupt a scan without a signal.
var scanNotifyContext = signal.NotifyContext

func runScan(e *env, args []string) int {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	format := fs.String("format", "table", "output `format`: table, jsonl or csv")
	perHost := fs.Int("per-host", scan.DefaultPerHost, "connections open at once to one target")
	concurrency := fs.Int("concurrency", defaultConcurrency, "targets scanned at once")
	timeout := fs.Duration("timeout", scan.DefaultTimeout, "per-connection `timeout` (dial, hello, answer); the certificate handshake gets twice as long")
	retries := fs.Int("retries", scan.DefaultRetries, "times an inconclusive probe (timeout, garbage) is repeated")
	noCert := fs.Bool("no-cert", false, "skip the certificate handshake")
	noGroups := fs.Bool("no-groups", false, "skip the key exchange group scans and the DHE prime probe")
	sni := fs.String("sni", "", "server `name` to send as SNI and check the certificate against, for every target (default: the target's host name; none for IP addresses)")
	versionsOnly := fs.Bool("versions-only", false, "decide which versions are accepted, without enumerating suites")
	versions := fs.String("versions", "", "comma-separated `versions` to probe (ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3; default all)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), scanHelp)
		fs.PrintDefaults()
	}
	args, code, done := e.parseFlags(fs, args)
	if done {
		return code
	}

	f, err := output.ParseFormat(*format)
	if err != nil {
		return e.fail(exitUsage, err, "")
	}
	switch {
	case *perHost < 1:
		return e.fail(exitUsage, fmt.Errorf("--per-host %d: must be at least 1", *perHost), "")
	case *concurrency < 1:
		return e.fail(exitUsage, fmt.Errorf("--concurrency %d: must be at least 1", *concurrency), "")
	case *timeout <= 0:
		return e.fail(exitUsage, fmt.Errorf("--timeout %v: must be positive", *timeout), "e.g. --timeout 5s")
	case *retries < 0:
		return e.fail(exitUsage, fmt.Errorf("--retries %d: must be 0 or more", *retries), "")
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
		vs, err := parseVersions(*versions)
		if err != nil {
			return e.fail(exitUsage, err, "versions are ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3, comma-separated")
		}
		opts.Versions = vs
	}
	if *sni != "" {
		if err := checkSNI(*sni); err != nil {
			return e.fail(exitUsage, err, "--sni takes a host name, without port or scheme")
		}
	}

	if len(args) == 0 {
		return e.fail(exitUsage, errors.New("scan: no targets"), "give one or more targets, e.g. 'tlsmap scan example.com'")
	}
	targets, err := parseTargets(args, strings.ToLower(strings.TrimSuffix(*sni, ".")))
	if err != nil {
		return e.fail(exitUsage, err, "targets are host, host:port, [IPv6]:port or https://host[:port]; see 'tlsmap help scan'")
	}

	ctx, stop := scanNotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Once interrupted, a second Ctrl-C kills at once.
	context.AfterFunc(ctx, stop)

	sw := output.NewScanWriter(e.stdout, f)
	var (
		writeErr   error
		incomplete int // targets not scanned to the end
		notStarted int
		finished   int
	)
	scan.Scan(ctx, targets, opts, *concurrency, func(r *scan.Result) {
		if neverStarted(r) {
			notStarted++
			return
		}
		finished++
		if r.Status != scan.StatusOK {
			incomplete++
		}
		if writeErr == nil {
			writeErr = sw.Write(r)
		}
	})
	if err := sw.Flush(); writeErr == nil {
		writeErr = err
	}
	interrupted := ctx.Err() != nil
	stop()
	if writeErr != nil {
		return e.fail(exitFail, fmt.Errorf("scan: writing results: %w", writeErr), "")
	}
	if interrupted {
		return e.fail(exitInterrupted,
			fmt.Errorf("scan: interrupted; %d of %d targets reported, %d not started", finished, len(targets), notStarted),
			"the reported targets' unfinished parts are inconclusive \"cancelled\"")
	}
	if incomplete > 0 {
		fmt.Fprintf(e.stderr, "tlsmap: %d of %d targets unreachable or inconclusive\n", incomplete, len(targets))
		return exitFail
	}
	return exitOK
}

// neverStarted reports whether r is a target the scan skipped because it
// was interrupted before the target's turn.
func neverStarted(r *scan.Result) bool {
	return r.Status == scan.StatusInconclusive && r.Error == scan.ReasonCancelled &&
		r.Address == "" && r.Handshakes.Total == 0 && len(r.Versions) == 0
}

// parseTargets parses every argument, reporting every bad one at once, and
// drops repeats of a target already given. A non-empty sni replaces the
// host name of every target.
func parseTargets(args []string, sni string) ([]scan.Target, error) {
	var (
		targets []scan.Target
		seen    = map[string]bool{}
		errs    []error
	)
	for _, a := range args {
		t, err := scan.ParseTarget(a, scan.TargetOptions{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if t.Protocol.STARTTLS() {
			errs = append(errs, fmt.Errorf("%w %q: STARTTLS (%s) is not supported by scan yet; use an implicit-TLS port or tls://host:port", scan.ErrBadTarget, a, t.Protocol))
			continue
		}
		if sni != "" {
			t.Host = sni
		}
		key := t.String() + " " + t.Host
		if seen[key] {
			continue
		}
		seen[key] = true
		targets = append(targets, t)
	}
	return targets, errors.Join(errs...)
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

// parseVersions parses "tls1.0,tls1.2" into wire versions, oldest first.
func parseVersions(s string) ([]uint16, error) {
	var vs []uint16
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var v uint16
		switch strings.ToLower(part) {
		case "ssl2", "sslv2", "ssl2.0", "sslv2.0":
			v = ciphers.VersionSSL20
		default:
			var err error
			if v, err = ciphers.ParseVersion(part); err != nil {
				return nil, fmt.Errorf("--versions: %w", err)
			}
		}
		if !slices.Contains(scan.AllVersions, v) {
			return nil, fmt.Errorf("--versions: %s cannot be scanned (want ssl2, ssl3, tls1.0 … tls1.3)", ciphers.VersionName(v))
		}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs, nil
}
