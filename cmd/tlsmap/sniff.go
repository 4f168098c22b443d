package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/sniff"
)

const sniffHelp = `Usage: tlsmap sniff -r FILE... | -i IFACE [flags]

Reads captures (pcap or pcapng, optionally gzip-compressed; "-" is standard
input) or captures live on an interface, decodes every TLS ClientHello and
ServerHello on any port (also after STARTTLS, through HTTP CONNECT and SOCKS
proxies, after any plaintext prefix, and in QUIC), and reports the clients
that negotiated or offered TLS 1.1 or older.

The default view (--format table) is the legacy-client report: one row per
client address, then totals by version and protocol. --format jsonl and csv
write one record per connection (schema tlsmap.sniff/1, docs/schema/sniff.md)
unless --report legacy asks for the per-client report, or --report evidence
for the tlsmap.evidence/1 records tlsmap logs writes (docs/schema/evidence.md).

Behind a load balancer: a PROXY protocol header (v1 or v2) at the start of
a client stream names the real client, kept with the balancer as its via,
and a v2 header's SSL TLV gives the client's TLS as the balancer negotiated
it (--proxy-protocol=false takes the balancer for the client). On plaintext
HTTP, X-Forwarded-For and Forwarded name each request's client, and
--tls-header the header a TLS-terminating balancer reports its version in.

Every report ends with its coverage (schema tlsmap.sniff.summary/1): packets
read, frames not decoded, connections by outcome, UDP flows, damage of the
input, and the gaps that could hide a handshake. "No client negotiated or
offered TLS 1.1 or older" is said only when there is no gap; --strict exits 2
when there is one.

Ctrl-C stops reading, reports every connection seen so far and exits.
Live capture needs root or CAP_NET_RAW.

Examples:
  tlsmap sniff -r span.pcap
  tlsmap sniff -r mon.pcap.gz -r tue.pcapng --port 993,995,143,110 --format jsonl
  tcpdump -i eth0 -w - 'tcp' | tlsmap sniff -r -
  sudo tlsmap sniff -i eth1 --promisc --stats-interval 30s --report legacy
  tlsmap sniff -r span.pcap --fingerprints known-clients.csv --report legacy --format csv
  tlsmap sniff -r backend.pcap --tls-header X-SSL-Protocol --report evidence --format jsonl
  tlsmap sniff -r mon.pcap.gz -r tue.pcap.gz --store tlsmap.db

With --store (an SQLite file or a postgres:// URL, docs/schema/store.md)
the connections are also stored, aggregated per day: a file is known by its
content (stored again, it adds nothing), an interrupted file goes on
where it stopped when given again, and standard input and live captures are
new traffic each time. Then: tlsmap report --store ….

Flags:
`

// sniffFlags are the parsed flags of tlsmap sniff.
type sniffFlags struct {
	files         listFlag
	iface         string
	promisc       bool
	snaplen       int
	bufferMB      int
	filter        sniff.Filter
	report        sniffReportFlag
	format        formatFlag
	fingerprints  string
	maxFlows      int
	idleTimeout   time.Duration
	statsInterval time.Duration
	proxyProtocol bool
	forwarded     bool
	tlsHeader     string
	prefixWindow  int
	strict        bool
	store         string
	storeFlows    bool
	storeBatch    int
}

func runSniff(e *env, args []string) int {
	var o sniffFlags
	fs := flag.NewFlagSet("sniff", flag.ContinueOnError)
	fs.Var(&o.files, "r", "read the capture `FILE` (pcap, pcapng, .gz; - for stdin); repeat for several, read in order")
	fs.Var(&o.files, "read", "same as -r")
	fs.StringVar(&o.iface, "i", "", "capture live on `interface` (needs root or CAP_NET_RAW)")
	fs.StringVar(&o.iface, "interface", "", "same as -i")
	fs.BoolVar(&o.promisc, "promisc", false, "live: put the interface in promiscuous mode")
	fs.IntVar(&o.snaplen, "snaplen", sniff.DefaultSnapLen, "live: `bytes` kept of each frame")
	fs.IntVar(&o.bufferMB, "buffer", sniff.DefaultBufferSize>>20, "live: kernel ring buffer size in `MiB`")
	fs.Func("host", "only connections with this `address` at either end (repeatable, comma list)", func(v string) error {
		return eachItem(v, func(s string) error {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return fmt.Errorf("not an IP address: %q", s)
			}
			o.filter.Hosts = append(o.filter.Hosts, a)
			return nil
		})
	})
	fs.Func("net", "only connections with an end in this `CIDR` (repeatable, comma list)", func(v string) error {
		return eachItem(v, func(s string) error {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return fmt.Errorf("not a network: %q (want CIDR like 10.0.0.0/8)", s)
			}
			o.filter.Nets = append(o.filter.Nets, p.Masked())
			return nil
		})
	})
	fs.Func("port", "only connections with this `port` (TCP, or UDP for QUIC) at either end (repeatable, comma list)", func(v string) error {
		return eachItem(v, func(s string) error {
			n, err := strconv.ParseUint(s, 10, 16)
			if err != nil || n == 0 {
				return fmt.Errorf("not a port: %q", s)
			}
			o.filter.Ports = append(o.filter.Ports, uint16(n))
			return nil
		})
	})
	fs.Var(&o.report, "report", "`view`: legacy (per client; default for table), flows (per connection; default for jsonl and csv) or evidence (tlsmap.evidence/1, as tlsmap logs writes)")
	fs.BoolVar(&o.proxyProtocol, "proxy-protocol", true, "read a PROXY protocol header at the start of a client stream: the client it names is the flow's client, the balancer is kept as via (=false: the balancer is the client)")
	fs.BoolVar(&o.forwarded, "forwarded", true, "read the request heads of plaintext HTTP: X-Forwarded-For and Forwarded name each request's client")
	fs.StringVar(&o.tlsHeader, "tls-header", "", "the request `header` a TLS-terminating balancer sets to the client's TLS version (X-SSL-Protocol)")
	fs.Var(&o.format, "format", "output `format`: table, jsonl or csv (default table)")
	fs.StringVar(&o.fingerprints, "fingerprints", "", "CSV `file` of fingerprint,label (JA3 hash or JA4) naming known clients")
	fs.IntVar(&o.maxFlows, "max-flows", sniff.DefaultMaxFlows, "connections tracked at once; the oldest is reported early beyond it")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", sniff.DefaultIdleTimeout, "report a connection idle this `long` (packet time)")
	fs.DurationVar(&o.statsInterval, "stats-interval", 0, "print capture statistics on stderr this `often` (0: only at the end of a live capture)")
	fs.IntVar(&o.prefixWindow, "prefix-window", sniff.DefaultPrefixWindow, "search this many `bytes` of each direction of a connection no protocol claims for TLS after plaintext (0: no search)")
	fs.BoolVar(&o.strict, "strict", false, "exit 2 when the capture has gaps that could hide a handshake (frames not decoded, cut hellos, connections joined mid-stream …)")
	fs.StringVar(&o.store, "store", "", "also store the connections, aggregated per day, in this `store`: an SQLite file or a postgres:// URL (docs/schema/store.md)")
	fs.BoolVar(&o.storeFlows, "store-flows", false, "with --store: keep every connection's tlsmap.sniff/1 record too, not only the daily aggregates")
	fs.IntVar(&o.storeBatch, "store-batch", 20000, "with --store: commit every `N` connections (and every 5 seconds)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), sniffHelp)
		fs.PrintDefaults()
	}
	pos, code, done := e.parseFlags(fs, args)
	if done {
		return code
	}
	o.files = append(o.files, pos...)

	const sourceHint = "give capture files with -r FILE (- for stdin), or a live interface with -i IFACE"
	switch {
	case len(o.files) == 0 && o.iface == "":
		return e.fail(exitUsage, errors.New("sniff: nothing to read"), sourceHint)
	case len(o.files) > 0 && o.iface != "":
		return e.fail(exitUsage, errors.New("sniff: -r and -i cannot be combined"), sourceHint)
	}
	format, view := o.format.f, o.report.view
	if view == "" {
		view = "flows"
		if format == output.FormatTable {
			view = "legacy"
		}
	}
	if o.maxFlows <= 0 || o.snaplen <= 0 || o.bufferMB <= 0 || o.idleTimeout <= 0 || o.statsInterval < 0 || o.storeBatch <= 0 {
		return e.fail(exitUsage, errors.New("sniff: --max-flows, --snaplen, --buffer, --idle-timeout and --store-batch must be positive"), "")
	}
	if o.storeFlows && o.store == "" {
		return e.fail(exitUsage, errors.New("sniff: --store-flows needs --store"), "e.g. --store tlsmap.db --store-flows")
	}
	if o.prefixWindow < 0 {
		return e.fail(exitUsage, errors.New("sniff: --prefix-window must not be negative"), "0 turns the search off")
	}

	var fp sniff.Fingerprints
	if o.fingerprints != "" {
		f, err := os.Open(o.fingerprints)
		if err != nil {
			return e.fail(exitUsage, fmt.Errorf("sniff: %w", err), "")
		}
		fp, err = sniff.LoadFingerprints(f, o.fingerprints)
		f.Close()
		if err != nil {
			return e.fail(exitUsage, err, "each line is fingerprint,label: a JA3 hash (32 hex digits) or a JA4 string; # starts a comment")
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The source: files (checked up front, so that a bad name fails before
	// any output) or the live interface.
	var (
		err   error
		src   sniff.PacketSource
		live  *sniff.LiveSource
		files *sniff.FileSource
	)
	if o.iface != "" {
		live, err = sniff.OpenLive(ctx, sniff.LiveConfig{Interface: o.iface, Promiscuous: o.promisc,
			SnapLen: o.snaplen, BufferSize: o.bufferMB << 20})
		if err != nil {
			code, hint, err := liveFailure(o.iface, err)
			return e.fail(code, err, hint)
		}
		defer live.Close()
		src = live
	} else {
		names := []string(o.files)
		if o.store != "" {
			// Checked here, opened one at a time below: standard input
			// is not to be touched before its hash is taken as it is
			// read.
			names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "-" })
			if len(o.files)-len(names) > 1 {
				return e.fail(exitUsage, errors.New("sniff: standard input (-) given twice"), captureHint)
			}
		}
		files, err = sniff.OpenFiles(e.stdin, names...)
		if err != nil {
			return e.fail(exitUsage, err, captureHint)
		}
		defer files.Close()
		src = files
		if len(names) < len(o.files) {
			files.Close()
			files, _ = sniff.OpenFiles(nil) // size unknown: no progress bar
		}
	}

	// --store: each file is read by a sniffer of its own (its records
	// and counters are the file's), and stored as it goes.
	var ss *sniffStore
	if o.store != "" {
		ss = openSniffStore(&o, fp, live, e.stderr)
		defer ss.close()
		if live != nil {
			if err := ss.beginLive(ctx, o.iface); err != nil {
				var oe *storeOpenError
				if errors.As(err, &oe) {
					return e.fail(exitFail, err, storeHint)
				}
				return e.fail(exitFail, err, "")
			}
		} else {
			files.Close() // reopened one at a time below
		}
	}

	out := bufio.NewWriterSize(e.stdout, 64<<10)
	report := sniff.NewReport(sniff.ReportConfig{Fingerprints: fp})
	var flows *output.FlowWriter
	if view == "flows" {
		flows = output.NewFlowWriter(out, format, fp)
	}
	var (
		writeErr error
		mon      *monitor
	)
	var agg *evidence.Aggregator
	if view == "evidence" {
		agg = evidence.NewAggregator(0)
	}
	handler := func(f *sniff.Flow) {
		if ss != nil {
			ss.flow(ctx, f)
		}
		report.Add(f)
		mon.flow(f)
		if agg != nil {
			for _, ob := range sniff.Observations(f, fp.Label(f)) {
				agg.Add(&ob)
			}
		}
		if flows == nil || writeErr != nil || !f.HasEvidence() {
			return
		}
		if writeErr = flows.Write(f); writeErr == nil && live != nil && format != output.FormatTable {
			writeErr = out.Flush() // live: each record as it comes
		}
	}
	window := o.prefixWindow
	if window == 0 {
		window = -1 // off
	}
	cfg := sniff.Config{
		Recognizers:  sniff.DefaultRecognizers(),
		MaxFlows:     o.maxFlows,
		IdleTimeout:  o.idleTimeout,
		PrefixWindow: window,
		// A balancer's PROXY header and forwarded-for headers name the
		// clients behind it.
		ProxyProtocol: o.proxyProtocol,
		HTTPForwarded: o.forwarded,
		TLSHeader:     o.tlsHeader,
		// Live: report a connection as soon as its hellos are parsed.
		EmitEarly: live != nil,
		// The store counts the connections whose hellos could not be
		// read, as gaps of their servers' coverage.
		AllFlows: ss != nil,
	}
	if len(o.filter.Hosts)+len(o.filter.Nets)+len(o.filter.Ports) > 0 {
		cfg.Filter = &o.filter
	}

	// Progress and periodic statistics run between packets, in the
	// goroutine that runs the sniffer (which is not safe for concurrent
	// use).
	mon = &monitor{src: src, live: live, stderr: e.stderr}
	if files != nil && files.Size() > 0 && e.stderr == os.Stderr && term.IsTerminal(int(os.Stderr.Fd())) {
		p := mpb.NewWithContext(ctx, mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
		mon.bar = p.AddBar(files.Size(),
			mpb.PrependDecorators(decor.Name("sniff "), decor.CountersKibiByte("% .1f / % .1f")),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f"), decor.Name(" "), decor.Percentage()))
		mon.files = files
		mon.progress = p
	}
	stopTick := mon.tick(ctx, o.statsInterval)
	var runErr error
	if ss == nil || live != nil {
		// One sniffer over the whole input.
		mon.sn = sniff.New(cfg, handler)
		mon.sns = append(mon.sns, mon.sn)
		runErr = mon.sn.Run(ctx, mon)
		if ss != nil {
			mon.sn.Flush() // live: what is open at the stop is stored too
			if err := ss.finish(true, mon.sn.Stats()); err != nil && runErr == nil {
				runErr = err
			}
		}
	} else {
		runErr = runStoredFiles(ctx, e, &o, ss, cfg, handler, mon)
	}
	stopTick()
	mon.finish()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		out.Flush()
		if errors.Is(runErr, sniff.ErrNotCapture) {
			return e.fail(exitUsage, runErr, captureHint)
		}
		if oe := (*storeOpenError)(nil); errors.As(runErr, &oe) {
			return e.fail(exitFail, runErr, storeHint)
		}
		return e.fail(exitFail, runErr, "")
	}
	if ss == nil {
		mon.sn.Flush()
	}
	if ctx.Err() != nil {
		fmt.Fprintln(e.stderr, "tlsmap: interrupted; reporting the connections seen so far")
	}

	st := mon.stats()
	var drops uint64
	if live != nil {
		if ks, err := live.Stats(); err == nil {
			drops = ks.Drops
		}
	}
	cov := output.NewCoverage(st, drops)
	if flows != nil {
		if writeErr == nil {
			writeErr = flows.Flush()
		}
		if writeErr == nil && format == output.FormatTable {
			t := report.Totals()
			_, writeErr = fmt.Fprintf(out, "\n%d TLS connections, %d legacy (TLS 1.1 or older negotiated or offered) from %d clients\n",
				t.Flows, t.LegacyFlows, t.LegacyClients)
		}
		if writeErr == nil {
			writeErr = output.WriteCoverage(out, format, cov)
		}
	} else if writeErr == nil && agg != nil && format != output.FormatTable {
		writeErr = output.WriteEvidence(out, format, agg, report.Totals())
		if writeErr == nil {
			writeErr = output.WriteCoverage(out, format, cov)
		}
	} else if writeErr == nil {
		writeErr = output.WriteLegacyReport(out, format, report, cov)
	}
	if writeErr == nil {
		writeErr = out.Flush()
	}
	if writeErr != nil {
		return e.fail(exitFail, fmt.Errorf("sniff: writing results: %w", writeErr), "")
	}

	for _, w := range st.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	if st.MoreWarnings > 0 {
		fmt.Fprintf(e.stderr, "warning: %d more problems of the input not listed\n", st.MoreWarnings)
	}
	if live != nil || o.statsInterval > 0 {
		mon.final()
	}
	if o.strict && !cov.Complete() {
		kinds := make([]string, len(cov.Gaps))
		for i, g := range cov.Gaps {
			kinds[i] = g.Kind.String()
		}
		return e.fail(exitStrict, fmt.Errorf("sniff: --strict: the capture has gaps that could hide a handshake: %s", strings.Join(kinds, ", ")),
			"the report's coverage counts them; without --strict the same report exits 0 (1 when damage cost part of a file)")
	}
	if st.CorruptFiles > 0 {
		// Damage cost the rest of a file: the report covers less than
		// the input.
		return exitFail
	}
	return exitOK
}

// runStoredFiles reads the capture files one at a time, each with a
// sniffer of its own, storing each as a source (sniffstore.go): a file
// stored before is only reported, one an interrupted run left is gone on
// with. An interruption stores what was reported in the order a whole run
// reports it, and nothing of what the interruption flushed out early.
func runStoredFiles(ctx context.Context, e *env, o *sniffFlags, ss *sniffStore, cfg sniff.Config, handler sniff.Handler, mon *monitor) error {
	var base int64 // bytes of the files before the current one, for the progress bar
	for _, name := range o.files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ss.beginFile(ctx, name)
		size := int64(0)
		if fi, err := os.Stat(name); err == nil && name != "-" {
			size = fi.Size()
		}
		files, err := sniff.OpenFiles(ss.stdin(e.stdin), name)
		if err != nil {
			ss.abort(sniff.Stats{})
			return err
		}
		sn := sniff.New(cfg, handler)
		mon.sn, mon.src, mon.files, mon.base = sn, files, files, base
		mon.sns = append(mon.sns, sn)
		// The source is begun in the background: a begin that fails
		// stops the sniffer, and its error is the run's.
		sctx, cancel := context.WithCancelCause(ctx)
		ss.setCancel(cancel)
		runErr := sn.Run(sctx, mon)
		ss.setCancel(nil)
		cancel(nil)
		files.Close()
		if runErr != nil && ctx.Err() == nil && context.Cause(sctx) != context.Canceled {
			runErr = context.Cause(sctx)
		}
		if runErr != nil {
			// Not stored: what the stop flushes out early.
			ss.stopStoring()
			sn.Flush()
			if err := ss.finish(false, sn.Stats()); err != nil {
				return err
			}
			return runErr
		}
		sn.Flush()
		if err := ss.finish(true, sn.Stats()); err != nil {
			return err
		}
		base += size
	}
	return nil
}

func eachItem(v string, f func(string) error) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			if err := f(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveFailure is the exit code, hint and error to print for a live capture
// on iface that OpenLive refused with err.
func liveFailure(iface string, err error) (code int, hint string, _ error) {
	switch {
	case errors.Is(err, sniff.ErrLiveUnsupported):
		return exitFail, "record a capture on this machine (tcpdump -w, dumpcap, Wireshark) and read it with: tlsmap sniff -r FILE", err
	case errors.Is(err, sniff.ErrLivePermission):
		return exitFail, "run as root, or grant the capability once: sudo setcap cap_net_raw,cap_net_admin=eip " + exePath(),
			fmt.Errorf("live capture on %s needs root or CAP_NET_RAW", iface)
	case errors.Is(err, sniff.ErrNoInterface):
		return exitUsage, "'ip link' lists the interfaces", err
	}
	return exitFail, "", err
}

func exePath() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "$(command -v tlsmap)"
}

// exitStrict is sniff's exit code under --strict when the capture has
// gaps that could hide a handshake (docs/exit-codes.md): 2, as a usage
// error, since a script must not act on the report.
const exitStrict = 2

// captureHint follows an error about a file that is not a capture.
const captureHint = "tlsmap sniff reads pcap and pcapng files (tcpdump -w, dumpcap, Wireshark), optionally gzip-compressed"

// monitor wraps the packet source to update the progress bar between
// packets, and counts what the periodic statistics print (the sniffer is
// not safe for concurrent use, so the ticker reads only these atomics and
// the kernel's counters).
type monitor struct {
	src      sniff.PacketSource
	sn       *sniff.Sniffer   // the current sniffer
	sns      []*sniff.Sniffer // every sniffer of the run (--store: one per file)
	base     int64            // --store: bytes of the files read before the current one
	live     *sniff.LiveSource
	files    *sniff.FileSource
	progress *mpb.Progress
	bar      *mpb.Bar
	stderr   io.Writer

	packets, flows, legacy atomic.Uint64
}

func (m *monitor) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	data, ci, lt, err := m.src.ReadPacket()
	if err == nil {
		if n := m.packets.Add(1); n&1023 == 0 && m.bar != nil {
			m.bar.SetCurrent(m.base + m.files.BytesRead())
		}
	}
	return data, ci, lt, err
}

// KeepPackets, Kept and Return pass the source's keeping on
// (sniff.KeepingSource): a file's packets are then decoded on a
// goroutine of their own, beside the flow tables.
func (m *monitor) KeepPackets() bool {
	ks, ok := m.src.(sniff.KeepingSource)
	return ok && ks.KeepPackets()
}

func (m *monitor) Kept() [][]byte {
	if ks, ok := m.src.(sniff.KeepingSource); ok {
		return ks.Kept()
	}
	return nil
}

func (m *monitor) Return(bufs [][]byte) {
	if ks, ok := m.src.(sniff.KeepingSource); ok {
		ks.Return(bufs)
	}
}

// flow counts a reported flow.
func (m *monitor) flow(f *sniff.Flow) {
	if f.HasClientHello() || f.HasServerHello() {
		m.flows.Add(1)
		if sniff.IsLegacy(f) {
			m.legacy.Add(1)
		}
	}
}

// tick prints a statistics line every d until ctx is done; the returned
// function stops it and waits.
func (m *monitor) tick(ctx context.Context, d time.Duration) (stop func()) {
	if d <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				line := fmt.Sprintf("stats: %d packets, %d TLS connections reported (%d legacy)",
					m.packets.Load(), m.flows.Load(), m.legacy.Load())
				if m.live != nil {
					if ks, err := m.live.Stats(); err == nil {
						line += fmt.Sprintf("; kernel: %d received, %d dropped", ks.Packets, ks.Drops)
					}
				}
				fmt.Fprintln(m.stderr, line)
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (m *monitor) finish() {
	if m.bar != nil {
		m.bar.SetTotal(-1, true) // complete at whatever was read
		m.progress.Wait()
	}
}

// stats are the counters of every sniffer of the run, added up.
func (m *monitor) stats() sniff.Stats {
	if len(m.sns) == 1 {
		return m.sns[0].Stats()
	}
	var sum sniff.Stats
	for _, sn := range m.sns {
		addStats(reflect.ValueOf(&sum).Elem(), reflect.ValueOf(sn.Stats()))
	}
	return sum
}

// addStats adds the counters of src to dst: numbers summed, maps merged
// (values summed), lists appended.
func addStats(dst, src reflect.Value) {
	switch dst.Kind() {
	case reflect.Struct:
		for i := 0; i < dst.NumField(); i++ {
			if dst.Type().Field(i).IsExported() {
				addStats(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		dst.SetUint(dst.Uint() + src.Uint())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		dst.SetInt(dst.Int() + src.Int())
	case reflect.Map:
		if src.Len() == 0 {
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(dst.Type()))
		}
		for it := src.MapRange(); it.Next(); {
			v := reflect.New(dst.Type().Elem()).Elem()
			if old := dst.MapIndex(it.Key()); old.IsValid() {
				v.Set(old)
			}
			addStats(v, it.Value())
			dst.SetMapIndex(it.Key(), v)
		}
	case reflect.Slice:
		dst.Set(reflect.AppendSlice(dst, src))
	case reflect.Bool:
		dst.SetBool(dst.Bool() || src.Bool())
	}
}

// final writes the closing statistics line on stderr (the sniffer has
// stopped).
func (m *monitor) final() {
	st := m.stats()
	line := fmt.Sprintf("done: %d packets, %d TCP, %d connections (%d TLS), %d decode errors",
		st.Packets, st.Decoded, st.FlowsTotal, st.FlowsTLS, st.DecodeErrors)
	if m.live != nil {
		if ks, err := m.live.Stats(); err == nil {
			line += fmt.Sprintf("; kernel: %d received, %d dropped", ks.Packets, ks.Drops)
		}
	}
	fmt.Fprintln(m.stderr, line)
}
