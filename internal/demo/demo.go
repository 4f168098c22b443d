// Package demo is tlsmap's main job on a machine of its own: five TLS
// servers in this process on 127.0.0.1 (two HTTPS, SMTP with STARTTLS,
// IMAPS, POP3 with STLS; a mix of legacy and modern settings, certificates
// from a CA made at start), scanned with tlsmap's scan engine while
// tlsmap's sniffer watches, and a few clients of the demo's own that still
// use TLS 1.0/1.1. The result is the two reports tlsmap exists for: the
// endpoints that accept legacy TLS and the clients that used it. Nothing
// is sent beyond loopback.
//
// The sniffer reads the loopback interface live when the process may
// (root or CAP_NET_RAW on Linux); otherwise it reads a capture of the
// same demo shipped in the binary (internal/demo/testdata/demo.pcap.gz).
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/sniff"
)

// Source says where the sniff report's packets come from.
type Source string

const (
	// SourceAuto captures live when permitted, else replays the shipped
	// capture.
	SourceAuto Source = "auto"
	// SourceLive captures live on the loopback interface; failing to is
	// an error.
	SourceLive Source = "live"
	// SourceCapture replays the capture shipped in the binary.
	SourceCapture Source = "capture"
)

// ParseSource parses "auto", "live" or "capture".
func ParseSource(s string) (Source, error) {
	switch src := Source(s); src {
	case SourceAuto, SourceLive, SourceCapture:
		return src, nil
	}
	return "", fmt.Errorf("demo: unknown sniff source %q (want auto, live or capture)", s)
}

// Options configure Run. The zero value is usable.
type Options struct {
	// Source of the sniff report (default SourceAuto).
	Source Source
	// Interface is the loopback interface to capture (default: the
	// first loopback interface that is up, "lo" on Linux).
	Interface string
	// Timeout bounds each scan connection (default DefaultTimeout).
	Timeout time.Duration
	// Log receives a line as each step starts (nil: nothing).
	Log io.Writer
	// Store is the store the scan results and the client connections go
	// into for the readiness report: an SQLite file or a postgres:// URL
	// ("": a temporary SQLite file, removed at the end).
	Store string
}

// DefaultTimeout is the scan's per-connection timeout: generous for
// loopback, short enough that a stuck probe cannot stall the demo.
const DefaultTimeout = 3 * time.Second

// ErrLive is wrapped by Run's error when Options.Source is SourceLive and
// live capture could not be used.
var ErrLive = errors.New("demo: live capture unavailable")

// Result is everything a demo run produced.
type Result struct {
	// Endpoints are the servers, Scan their scan results (nil: not
	// scanned, the demo was interrupted) and Findings the results'
	// policy.Findings, in the same order.
	Endpoints []Endpoint
	Scan      []*scan.Result
	Findings  [][]policy.Finding
	// PlaintextAuth lists, by endpoint name, the authentication offered
	// in clear before STARTTLS, as the scan's STARTTLS dialogue saw it.
	PlaintextAuth map[string][]string

	// Clients are the demo's own clients and what their connections
	// negotiated. ClientsBound is false when the system would not let
	// them (and the scanner) use their own loopback addresses.
	Clients      []Client
	ClientsBound bool

	// Sniff is the legacy-client report.
	Sniff *sniff.Report
	// Live is true when Sniff comes from a live capture on Interface;
	// otherwise from the shipped capture, first packet at CaptureTime,
	// and Fallback says why live capture was not used ("" when the
	// capture was asked for).
	Live        bool
	Interface   string
	CaptureTime time.Time
	Fallback    string
	// SniffStats are the sniffer's counters; LiveDrops the frames the
	// kernel dropped; ScannerFlows the scanner's own connections the
	// sniffer saw and left out of the report; ClientFlows the demo
	// client connections it reported on.
	SniffStats   sniff.Stats
	LiveDrops    uint64
	ScannerFlows int
	ClientFlows  int

	// Readiness is the readiness report read back from the store the
	// scan and the sniffed connections went into.
	Readiness *readiness.Report

	ScanTime time.Duration
	Elapsed  time.Duration
}

// Run runs the demo: servers, sniffer, scan, clients, reports. ctx
// cancels it. The error is for a demo that could not run at all; what it
// found is in the Result (see Check).
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Source == "" {
		opts.Source = SourceAuto
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Interface == "" {
		opts.Interface = loopbackInterface()
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "demo: "+format+"\n", args...)
		}
	}

	logf("starting 5 servers on %s (certificates from a throwaway CA)", serverAddr)
	srv, err := StartServers()
	if err != nil {
		return nil, err
	}
	defer srv.Close()

	res := &Result{
		Endpoints:     srv.Endpoints,
		PlaintextAuth: map[string][]string{},
		Clients:       plannedClients(),
		ClientsBound:  canBind(),
		Interface:     opts.Interface,
	}

	// The sniffer starts before any demo traffic.
	col := newCollector(countConns(res.Clients))
	var live *liveRun
	if opts.Source != SourceCapture {
		switch {
		case !res.ClientsBound:
			res.Fallback = "this system does not route 127.0.0.0/8 to loopback, so the demo's clients cannot be told apart live"
		default:
			col.servers, col.clients = map[netip.AddrPort]bool{}, map[netip.Addr]bool{}
			var ports []uint16
			for _, e := range srv.Endpoints {
				ap := netip.AddrPortFrom(netip.MustParseAddr(serverAddr), e.Target.Port)
				col.servers[ap] = true
				ports = append(ports, e.Target.Port)
			}
			for _, c := range res.Clients {
				col.clients[c.Addr] = true
			}
			live, err = startLive(ctx, opts.Interface, col, ports)
			if err != nil {
				res.Fallback = err.Error()
				live = nil
			}
		}
		if live == nil && opts.Source == SourceLive {
			return nil, fmt.Errorf("%w: %s", ErrLive, res.Fallback)
		}
		if live != nil {
			logf("sniffing %s live", opts.Interface)
		}
	}

	// The scan, with tlsmap's STARTTLS upgraders, from its own address.
	logf("scanning %d endpoints", len(srv.Endpoints))
	scanStart := time.Now()
	res.Scan = runScan(ctx, srv, opts.Timeout, res.ClientsBound, res.PlaintextAuth)
	res.ScanTime = time.Since(scanStart)
	for _, r := range res.Scan {
		var fs []policy.Finding
		if r != nil {
			fs = policy.Findings(r)
		}
		res.Findings = append(res.Findings, fs)
	}

	logf("connecting the demo's clients (%d connections)", countConns(res.Clients))
	runClients(ctx, srv, res.Clients, res.ClientsBound)

	if live != nil {
		stats, drops, err := live.stop()
		res.SniffStats, res.LiveDrops = stats, drops
		switch {
		case err != nil:
			res.Fallback = err.Error()
		case col.seenCount() == 0:
			res.Fallback = fmt.Sprintf("the live capture on %s saw none of the demo's client connections", opts.Interface)
		default:
			res.Live = true
		}
		if !res.Live && opts.Source == SourceLive {
			return nil, fmt.Errorf("%w: %s", ErrLive, res.Fallback)
		}
	}
	if !res.Live {
		logf("reading the shipped capture %s", ShippedCaptureName)
		col = newCollector(-1)
		res.SniffStats, err = replayShipped(ctx, col)
		if err != nil {
			return nil, err
		}
		res.CaptureTime = col.first
	}
	res.Sniff = col.report
	res.ScannerFlows = col.scanner
	res.ClientFlows = col.seenCount()
	if ctx.Err() == nil {
		logf("storing the scan and the connections, and reading the readiness report back")
		if res.Readiness, err = storeAndJudge(ctx, opts.Store, res, col.flows); err != nil {
			return nil, err
		}
	}
	res.Elapsed = time.Since(start)
	return res, ctx.Err()
}

// runScan scans every endpoint at once and returns the results in
// endpoint order.
func runScan(ctx context.Context, srv *Servers, timeout time.Duration, bind bool, plainAuth map[string][]string) []*scan.Result {
	roots := scan.NewCertPool()
	roots.AddCert(srv.CA.Raw)
	var from netip.Addr
	if bind {
		from = scannerAddr
	}
	opts := scan.Options{
		PerHost: 8,
		Timeout: timeout,
		Dialer: &scan.NetDialer{
			Timeout: timeout,
			Dialer:  dialer(from, timeout),
		},
		CertOptions: scan.CertOptions{Roots: roots},
	}
	targets := make([]scan.Target, len(srv.Endpoints))
	for i, e := range srv.Endpoints {
		targets[i] = e.Target
	}
	// tlsmap scan's worker pool, every endpoint at once.
	in := make(chan scan.Target, len(targets))
	for _, t := range targets {
		in <- t
	}
	close(in)
	byTarget := map[string]*scan.Result{}
	scan.Sweep(ctx, in, opts, scan.SweepOptions{Concurrency: len(targets)}, func(r *scan.Result) {
		byTarget[r.Target.String()] = r
	})
	out := make([]*scan.Result, len(targets))
	for i, t := range targets {
		out[i] = byTarget[t.String()]
	}
	// What each STARTTLS dialogue revealed is kept for the report (AUTH
	// offered in clear, …).
	for i, e := range srv.Endpoints {
		if r := out[i]; r != nil && r.Dialogue != nil && len(r.Dialogue.PlaintextAuth) > 0 {
			plainAuth[e.Name] = r.Dialogue.PlaintextAuth
		}
	}
	return out
}
