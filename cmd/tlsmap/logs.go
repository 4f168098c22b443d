package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/logs"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/store"
)

const logsHelp = `Usage: tlsmap logs [flags] FILE...

Reads the TLS evidence servers already keep in their logs and reports the
clients that used TLS 1.1 or older, as tlsmap sniff does for captures:

  Exchange   SMTP protocol logs, Receive and Send connectors
  IIS        W3C logs with the crypt-protocol, crypt-cipher, crypt-hash and
             crypt-keyexchange custom fields
  maillog    Postfix (smtpd_tls_loglevel = 1) and Dovecot login lines (with
             %k in login_log_format_elements), syslog or their own files
  nginx, Apache, HAProxy
             access logs, given the server's own format string:
             --log-format 'nginx:$remote_addr … $ssl_protocol $ssl_cipher'

Files may be plain, gzip or bzip2; "-" is standard input. Several are read
in order, a rotated set (mail.log.2.gz mail.log.1 mail.log) oldest first.
The format of each file is told from its first lines unless --log-format
gives it. A line that does not parse is counted and reported, never fatal.

The default view (--format table) is the per-client report, each client
with the sources of its evidence, then what was read. --format jsonl and
csv write one tlsmap.evidence/1 record per client, server, version,
cipher, user, user agent and day (docs/schema/evidence.md), for a store;
--report clients writes the per-client records instead.

A client whose TLS version the log does not name (Dovecot without %k,
Postfix at smtpd_tls_loglevel 0, a request a balancer forwarded) is
reported as unknown, never as modern, with the setting that would tell.

Examples:
  tlsmap logs /var/log/mail.log*
  tlsmap logs --since 30d 'C:\Program Files\Microsoft\Exchange Server\V15\TransportRoles\Logs\FrontEnd\ProtocolLog\SmtpReceive\*.LOG'
  tlsmap logs --log-format 'nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $ssl_protocol $ssl_cipher' access.log*
  tlsmap logs --balancer 10.0.0.5 --format jsonl u_ex*.log > evidence.jsonl
  zcat old.log.gz | tlsmap logs -
  tlsmap logs --store tlsmap.db /var/log/nginx/access.log.1   # then: tlsmap report --store tlsmap.db

With --store (an SQLite file or a postgres:// URL, docs/schema/store.md)
the evidence is also stored, aggregated per day, a source per file: a file
is known by its content (stored again, it adds nothing), an
interrupted one goes on where it stopped. The log format must name the
server endpoint ($server_addr and $server_port, Apache's %A and port) for the
report to join it to a scanned endpoint.

Flags:
`

// logsFlags are the parsed flags of tlsmap logs.
type logsFlags struct {
	format     formatFlag
	report     logsReportFlag
	logFormat  logFormatFlag
	balancers  prefixesFlag
	tlsHeader  string
	since      timeFlag
	until      timeFlag
	tz         zoneFlag
	maxRecords int
	store      string
	storeBatch int
}

func runLogs(e *env, args []string) int {
	var o logsFlags
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.Var(&o.format, "format", "output `format`: table, jsonl or csv (default table)")
	fs.Var(&o.report, "report", "`view`: clients (per client; default for table) or evidence (per client, server, version, cipher, user, day; default for jsonl and csv)")
	fs.Var(&o.logFormat, "log-format", "the logs' `format`: auto, exchange, iis, maillog, nginx:FORMAT, apache:FORMAT, haproxy:FORMAT (default auto)")
	fs.Var(&o.balancers, "balancer", "a load balancer's `address` or CIDR (repeatable, comma list): flagged when it appears as the client, skipped in forwarded-for lists")
	fs.StringVar(&o.tlsHeader, "tls-header", "", "the request `header` a TLS-terminating balancer sets to the client's TLS version (X-SSL-Protocol), when the access log logs it")
	fs.Var(&o.since, "since", "only lines from this `time` on: RFC 3339, YYYY-MM-DD, or a duration back from now (24h, 30d)")
	fs.Var(&o.until, "until", "only lines before this `time` (same forms as --since)")
	fs.Var(&o.tz, "tz", "the `zone` of timestamps that carry none (syslog, HAProxy %t): Local, UTC, Europe/Berlin … (default Local)")
	fs.IntVar(&o.maxRecords, "max-records", evidence.DefaultMaxKeys, "evidence records kept in memory; beyond, user and user agent are dropped, then records (counted)")
	fs.StringVar(&o.store, "store", "", "also store the evidence, aggregated per day, in this `store`: an SQLite file or a postgres:// URL (docs/schema/store.md)")
	fs.IntVar(&o.storeBatch, "store-batch", 20000, "with --store: commit every `N` observations (and every 5 seconds)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), logsHelp)
		fs.PrintDefaults()
	}
	files, code, done := e.parseFlags(fs, args)
	if done {
		return code
	}
	if len(files) == 0 {
		return e.fail(exitUsage, errors.New("logs: nothing to read"), "give log files (- for standard input)")
	}
	if o.maxRecords <= 0 || o.storeBatch <= 0 {
		return e.fail(exitUsage, errors.New("logs: --max-records and --store-batch must be positive"), "")
	}
	now := time.Now()
	since, until := o.since.at(now), o.until.at(now)
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return e.fail(exitUsage, fmt.Errorf("logs: --since %s is not before --until %s", o.since.text, o.until.text), "")
	}
	format, view := o.format.f, o.report.view
	if view == "" {
		view = "evidence"
		if format == output.FormatTable {
			view = "clients"
		}
	}

	cfg := logs.Config{Format: o.logFormat.f, Balancers: o.balancers.prefixes, TLSHeader: o.tlsHeader,
		Since: since, Until: until, Location: o.tz.loc, Stdin: e.stdin}
	report := evidence.NewReport(evidence.ReportConfig{})
	agg := evidence.NewAggregator(o.maxRecords)
	// Reading and parsing run in this goroutine, the aggregation in
	// another: two cores share the work of a large log.
	pipe := newObsPipe(func(ob *evidence.Observation) {
		report.Add(ob)
		agg.Add(ob)
	})
	r := logs.NewReader(cfg, pipe.add)

	// Every file is checked, and its format told, before anything is
	// read: a bad name or an unknown format fails before any output.
	files = logs.OrderRotated(files)
	stdin := false
	for _, name := range files {
		if name == "-" {
			if stdin {
				return e.fail(exitUsage, errors.New("logs: standard input (-) given twice"), "")
			}
			stdin = true
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return e.fail(exitUsage, fmt.Errorf("logs: %w", err), "")
		}
		if fi.IsDir() {
			return e.fail(exitUsage, fmt.Errorf("logs: %s is a directory", name), "give the log files in it: DIR/*.log")
		}
		if _, err := r.Probe(name); err != nil {
			return e.fail(exitUsage, err, logFormatHint)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// --store: each file is read by a reader of its own (its records and
	// counters are the file's) and stored as a source (logstore.go).
	var (
		st       *store.Store
		perFile  []logs.Stats
		storeErr error
	)
	if o.store != "" {
		var err error
		if st, err = store.Open(ctx, o.store); err != nil {
			return e.fail(exitFail, err, storeHint)
		}
		defer st.Close()
	}
	failed := 0
	for _, name := range files {
		var err error
		if st != nil {
			var fst logs.Stats
			fst, err, storeErr = storeLogFile(ctx, st, cfg, name, o.storeBatch, e.stderr, pipe.add)
			perFile = append(perFile, fst)
			if storeErr != nil {
				break
			}
		} else {
			err = r.ReadFile(ctx, name)
		}
		if ctx.Err() != nil {
			break
		}
		if errors.Is(err, logs.ErrFormat) && name == "-" {
			return e.fail(exitUsage, err, logFormatHint)
		}
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "warning: %v (the lines before were read)\n", err)
		}
	}
	r.Close()
	pipe.close()
	if storeErr != nil {
		return e.fail(exitFail, storeErr, "")
	}
	interrupted := ctx.Err() != nil
	if interrupted {
		fmt.Fprintln(e.stderr, "tlsmap: interrupted; reporting the lines read so far")
	}

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	rst := r.Stats()
	if st != nil {
		rst = logs.Stats{Unknown: map[string]int64{}}
		for _, fst := range perFile {
			addStats(reflect.ValueOf(&rst).Elem(), reflect.ValueOf(fst))
		}
	}
	var err error
	if view == "clients" {
		err = output.WriteClientReport(out, format, output.ClientReport{ClientSchema: output.LogsClientSchema,
			TotalsSchema: output.LogsTotalsSchema, Clients: report.Clients(), Totals: report.Totals()})
	} else {
		err = output.WriteEvidence(out, format, agg, report.Totals())
	}
	if err == nil && format != output.FormatCSV {
		if format == output.FormatTable {
			_, err = out.WriteString("\n")
		}
		if err == nil {
			err = output.WriteLogsInput(out, format, rst)
		}
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		return e.fail(exitFail, fmt.Errorf("logs: writing results: %w", err), "")
	}
	if format != output.FormatTable {
		// The table says it under the report; the machine formats keep
		// stdout for records.
		if rst.Malformed > 0 {
			fmt.Fprintf(e.stderr, "warning: %d malformed lines (first: %s:%d, %s)\n", rst.Malformed, rst.Reasons[0].File, rst.Reasons[0].Line, rst.Reasons[0].Reason)
		}
	}
	if ast := agg.Stats(); ast.Dropped > 0 || ast.Folded > 0 {
		fmt.Fprintf(e.stderr, "warning: the record table was full (--max-records %d): %d observations without user and user agent, %d not in the records (they count in the totals)\n",
			o.maxRecords, ast.Folded, ast.Dropped)
	}
	switch {
	case interrupted:
		return exitInterrupted
	case failed > 0:
		return exitFail // part of the input could not be read: the report covers less
	}
	return exitOK
}

// obsPipe hands observations in batches to a goroutine that consumes
// them, in order.
type obsPipe struct {
	batch []evidence.Observation
	ch    chan []evidence.Observation
	free  chan []evidence.Observation
	done  chan struct{}
}

const obsBatch = 1024

func newObsPipe(consume func(*evidence.Observation)) *obsPipe {
	p := &obsPipe{ch: make(chan []evidence.Observation, 4), free: make(chan []evidence.Observation, 6), done: make(chan struct{})}
	for range 6 {
		p.free <- make([]evidence.Observation, 0, obsBatch)
	}
	p.batch = <-p.free
	go func() {
		defer close(p.done)
		for b := range p.ch {
			for i := range b {
				consume(&b[i])
			}
			p.free <- b[:0]
		}
	}()
	return p
}

// add copies ob (the reader reuses it) into the current batch.
func (p *obsPipe) add(ob *evidence.Observation) {
	p.batch = append(p.batch, *ob)
	if len(p.batch) == obsBatch {
		p.ch <- p.batch
		p.batch = <-p.free
	}
}

// close hands on the last batch and waits until all are consumed.
func (p *obsPipe) close() {
	if len(p.batch) > 0 {
		p.ch <- p.batch
	}
	close(p.ch)
	<-p.done
}

const logFormatHint = "give the format with --log-format: exchange, iis, maillog, or the server's own format string, nginx:'…', apache:'…', haproxy:'…' (docs/logs.md)"

// logsReportFlag is logs' --report: clients or evidence.
type logsReportFlag struct {
	checked
	view string
}

func (v *logsReportFlag) String() string { return v.view }

func (v *logsReportFlag) Set(s string) error {
	switch s {
	case "clients", "evidence":
		v.view = s
		return nil
	}
	return v.fail(fmt.Errorf("logs: unknown report %q", s), "--report is clients (one row per client) or evidence (one record per client, server, version, cipher, user and day)")
}

// logFormatFlag is --log-format.
type logFormatFlag struct {
	checked
	f logs.Format
}

func (v *logFormatFlag) String() string { return v.f.String() }

func (v *logFormatFlag) Set(s string) error {
	f, err := logs.ParseFormat(s)
	if err != nil {
		return v.fail(err, logFormatHint)
	}
	v.f = f
	return nil
}

// prefixesFlag is a repeatable list of addresses and CIDRs.
type prefixesFlag struct {
	checked
	prefixes []netip.Prefix
}

func (v *prefixesFlag) String() string {
	var s []string
	for _, p := range v.prefixes {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}

func (v *prefixesFlag) Set(s string) error {
	return eachItem(s, func(item string) error {
		if p, err := netip.ParsePrefix(item); err == nil {
			v.prefixes = append(v.prefixes, p.Masked())
			return nil
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return v.fail(fmt.Errorf("--balancer: %q is neither an address nor a CIDR", item), "e.g. --balancer 10.0.0.5,10.0.1.0/28")
		}
		v.prefixes = append(v.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		return nil
	})
}

// timeFlag is --since/--until: an absolute time, or a duration back from
// the time the command started.
type timeFlag struct {
	checked
	text string
	abs  time.Time
	ago  time.Duration
}

func (v *timeFlag) String() string { return v.text }

func (v *timeFlag) Set(s string) error {
	v.text = s
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			v.abs, v.ago = t, 0
			return nil
		}
	}
	d, err := parseAgo(s)
	if err != nil || d <= 0 {
		return v.fail(fmt.Errorf("%q is not a time: want RFC 3339 (2026-03-01T12:00:00Z), a date (2026-03-01) or a duration back from now (24h, 30d)", s), "")
	}
	v.abs, v.ago = time.Time{}, d
	return nil
}

// at is the flag's time, given now; zero when not set.
func (v *timeFlag) at(now time.Time) time.Time {
	if v.ago > 0 {
		return now.Add(-v.ago)
	}
	return v.abs
}

// parseAgo reads a Go duration, or a whole number of days ("30d") or
// weeks ("2w").
func parseAgo(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if k, err := strconv.Atoi(n); err == nil {
			return time.Duration(k) * 24 * time.Hour, nil
		}
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		if k, err := strconv.Atoi(n); err == nil {
			return time.Duration(k) * 7 * 24 * time.Hour, nil
		}
	}
	return time.ParseDuration(s)
}

// zoneFlag is --tz.
type zoneFlag struct {
	checked
	loc *time.Location
}

func (v *zoneFlag) String() string {
	if v.loc == nil {
		return ""
	}
	return v.loc.String()
}

func (v *zoneFlag) Set(s string) error {
	loc, err := time.LoadLocation(s)
	if err != nil {
		return v.fail(fmt.Errorf("--tz: %w", err), "a zone name of the tz database: UTC, Local, Europe/Berlin, America/New_York")
	}
	v.loc = loc
	return nil
}

var (
	_ flag.Value = (*logsReportFlag)(nil)
	_ flag.Value = (*logFormatFlag)(nil)
	_ flag.Value = (*prefixesFlag)(nil)
	_ flag.Value = (*timeFlag)(nil)
	_ flag.Value = (*zoneFlag)(nil)
)
