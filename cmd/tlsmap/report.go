package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/sniff"
	"github.com/tlsmap/tlsmap/store"
)

const reportHelp = `Usage: tlsmap report --store STORE [flags]
       tlsmap report --store STORE --diff A B

Joins what the store holds — every scan's results (tlsmap scan --store) and
the connections captures and logs saw (tlsmap sniff --store) — into one
decision per server endpoint: can TLS 1.1 and older be switched off there
now, and if not, which clients must be fixed first.

Verdicts (docs/schema/report.md):
  blocked       accepts legacy TLS; these clients used it in the window
  unscanned     legacy clients used it; never scanned
  inconclusive  the latest scan could not tell whether it accepts legacy TLS
  no evidence   accepts legacy TLS; no capture or log saw it (never "ready")
  ready         accepts legacy TLS; evidence saw it, and no legacy client
  done          refuses every legacy version

The window is whole UTC days, --since before --until; each endpoint's latest
scan at or before --until counts. Also: the clients, and legacy connections
per day. --format html writes one self-contained page (charts included,
prints well).

--diff A B compares two points, each a scan run's name (--store-run of scan;
its shards together) or a date (2006-01-02: the end of that day): endpoints
that started or stopped accepting legacy TLS, clients that appeared or
disappeared. It exits 1 when an endpoint started accepting legacy TLS.

Exit status: 0 done (and, with --diff, no endpoint regressed); 1 --diff:
an endpoint regressed; 2 bad flags, or the store or a run cannot be found;
3 the report could not be made or written.

Examples:
  tlsmap report --store tlsmap.db
  tlsmap report --store postgres://tlsmap@db/tlsmap --since 14d --format html > readiness.html
  tlsmap report --store tlsmap.db --format jsonl --view clients
  tlsmap report --store tlsmap.db --diff before-change after-change

Flags:
`

// Exit codes of tlsmap report (docs/exit-codes.md).
const (
	reportExitRegressed = 1
	reportExitUsage     = 2
	reportExitError     = 3
)

func runReport(e *env, args []string) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	dsn := fs.String("store", "", "the `store`: an SQLite file or a postgres:// URL")
	since := fs.String("since", "30d", "the window's `length` before --until: 30d, 2w, 36h")
	until := fs.String("until", "", "end of the window and instant the scans are taken at: a `date` (2006-01-02, its end) or an RFC 3339 time (default now)")
	run := fs.String("run", "", "take the scans from the scan run of this `name` only")
	format := fs.String("format", "table", "output `format`: table, jsonl, csv or html")
	viewFlag := fs.String("view", "", "`what` to write: all, endpoints, clients or trend (default all; csv: endpoints)")
	fpFile := fs.String("fingerprints", "", "CSV `file` of fingerprint,label naming known clients (over the labels sniff stored)")
	diff := fs.Bool("diff", false, "compare two points given as arguments: scan run names or dates")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), reportHelp)
		fs.PrintDefaults()
	}
	pos, code, done := e.parseFlags(fs, args)
	if done {
		return code
	}
	usage := func(err error, hint string) int { return e.fail(reportExitUsage, err, hint) }
	if *dsn == "" {
		return usage(errors.New("report: no store"), "give the store with --store FILE or --store postgres://…")
	}
	switch {
	case *diff && len(pos) != 2:
		return usage(errors.New("report: --diff takes two points"), "e.g. --diff before after (scan run names) or --diff 2026-03-01 2026-03-08")
	case !*diff && len(pos) > 0:
		return usage(fmt.Errorf("report: unexpected argument %q", pos[0]), "arguments are only for --diff A B")
	}
	html := strings.EqualFold(*format, "html")
	var f output.Format
	if !html {
		var err error
		if f, err = output.ParseFormat(*format); err != nil {
			return usage(fmt.Errorf("report: %w", err), "--format is table, jsonl, csv or html")
		}
	}
	if *diff && html {
		return usage(errors.New("report: --diff has no html format"), "--format table, jsonl or csv")
	}
	view := output.ViewAll
	if *viewFlag != "" {
		var err error
		if view, err = output.ParseReportView(*viewFlag); err != nil {
			return usage(err, "")
		}
	} else if f == output.FormatCSV && !html {
		view = output.ViewEndpoints
	}
	if f == output.FormatCSV && view == output.ViewAll {
		return usage(errors.New("report: CSV holds one view at a time"), "--view endpoints, clients or trend")
	}
	opts := readiness.Options{Run: *run}
	var err error
	if opts.Since, err = readiness.ParseSince(*since); err != nil {
		return usage(err, "")
	}
	if *until != "" {
		t, run, err := readiness.ParsePoint(*until)
		if err != nil || run != "" {
			return usage(fmt.Errorf("report: --until %q is neither a date nor an RFC 3339 time", *until), "e.g. --until 2026-03-08 or --until 2026-03-08T12:00:00Z")
		}
		opts.Until = t
	}
	if *fpFile != "" {
		file, err := os.Open(*fpFile)
		if err != nil {
			return usage(fmt.Errorf("report: %w", err), "")
		}
		fp, err := sniff.LoadFingerprints(file, *fpFile)
		file.Close()
		if err != nil {
			return usage(err, "each line is fingerprint,label: a JA3 hash (32 hex digits) or a JA4 string; # starts a comment")
		}
		opts.Labels = fp
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !store.IsPostgres(*dsn) {
		// A report reads: it must not make an empty store of a mistyped
		// path.
		if _, err := os.Stat(*dsn); err != nil {
			return usage(fmt.Errorf("report: %w", err), storeHint)
		}
	}
	st, err := store.Open(ctx, *dsn)
	if err != nil {
		return usage(err, storeHint)
	}
	defer st.Close()

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	if *diff {
		a, err := readiness.ResolvePoint(ctx, st, pos[0])
		if err != nil {
			return usage(err, "a point is a scan run's name (tlsmap scan --store-run NAME) or a date 2006-01-02")
		}
		b, err := readiness.ResolvePoint(ctx, st, pos[1])
		if err != nil {
			return usage(err, "a point is a scan run's name (tlsmap scan --store-run NAME) or a date 2006-01-02")
		}
		d, err := readiness.BuildDiff(ctx, st, a, b, opts)
		if err != nil {
			return e.fail(interruptedOr(ctx, reportExitError), err, "")
		}
		err = output.WriteDiff(out, f, d)
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			return e.fail(reportExitError, fmt.Errorf("report: writing: %w", err), "")
		}
		if d.Regressed() {
			return reportExitRegressed
		}
		return exitOK
	}
	r, err := readiness.Build(ctx, st, opts)
	if err != nil {
		return e.fail(interruptedOr(ctx, reportExitError), err, "")
	}
	if html {
		err = output.WriteReportHTML(out, r, st.String(), time.Now())
	} else {
		err = output.WriteReport(out, f, view, r)
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		return e.fail(reportExitError, fmt.Errorf("report: writing: %w", err), "")
	}
	return exitOK
}

// interruptedOr is exitInterrupted when ctx was cancelled, else code.
func interruptedOr(ctx context.Context, code int) int {
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return code
}
