package scan

import (
	"context"
	"crypto/rand"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Defaults of Options.
const (
	DefaultPerHost = 4
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 1
)

// AllVersions are the versions ScanTarget enumerates by default, oldest
// first: SSLv2, SSLv3, TLS 1.0, 1.1, 1.2 and 1.3.
var AllVersions = []tls.Version{
	tls.VersionSSL20, tls.VersionSSL30, tls.VersionTLS10,
	tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13,
}

// Options configures a scan. The zero value scans every version, suite
// and group with the defaults.
type Options struct {
	// PerHost bounds the connections open at once to one endpoint (0:
	// DefaultPerHost).
	PerHost int
	// Timeout bounds each connection: dial, hello, answer (0:
	// DefaultTimeout). The certificate handshake gets twice as long.
	Timeout time.Duration
	// Retries is how many times an inconclusive probe (timeout, garbage,
	// dial failure) is repeated before it settles (0: DefaultRetries;
	// negative: none).
	Retries int
	// Rand is the source of hello randoms and key shares (nil:
	// crypto/rand). It need not be safe for concurrent use.
	Rand io.Reader
	// Dialer opens the connections (nil: a NetDialer with Timeout and no
	// STARTTLS upgraders).
	Dialer Dialer
	// Resolver resolves host names, once per target (nil: the default).
	Resolver *net.Resolver
	// Versions are the versions to enumerate, by wire value
	// (tls.VersionSSL20 … VersionTLS13); nil means AllVersions.
	Versions []tls.Version
	// VersionsOnly stops after the first probe of each version: versions
	// are decided, suites are not enumerated (Suites then holds the one
	// suite each accepted version chose).
	VersionsOnly bool
	// SuitesFor, when non-nil, lists the versions whose
	// suites are enumerated; the other versions are probed as with
	// VersionsOnly (one hello decides the version). VersionsOnly wins.
	SuitesFor []tls.Version
	// SkipCert skips the certificate handshake; Result.CertSkipped then
	// says so, with SkipCertReason (default "skipped"), on every endpoint
	// that accepted a version: a certificate not fetched is not checked,
	// never "no problem".
	SkipCert       bool
	SkipCertReason string
	// SkipGroups skips the group scans and the DHE prime probe.
	SkipGroups bool
	// KeyShare13 sends an x25519 key share in the TLS 1.3 suite probes
	// instead of an empty key_share list (the server then answers with a
	// ServerHello rather than a HelloRetryRequest when it takes x25519).
	KeyShare13 bool
	// CertOptions configures the certificate handshake; its ServerName
	// defaults to the target's host name, Now and Timeout to these
	// options'.
	CertOptions CertOptions
	// Now is the clock of Result.Started and Duration (nil: time.Now).
	Now func() time.Time
	// Progress, when set, is called as parts of a scan finish. It is
	// called from the scan's goroutines and must be safe for concurrent
	// use.
	Progress func(Event)
	// GreetingWait is how long the detection of an auto target
	// (ProtoAuto) waits for a server that speaks first (0:
	// DefaultGreetingWait).
	GreetingWait time.Duration
	// Gate, when set, is called each time a probe finds a suite accepted
	// (and so its version; for SSLv2, the cipher kinds). When it returns
	// true the endpoint's remaining probes are cancelled: the undecided
	// parts are inconclusive with ReasonGated, the groups and the
	// certificate are not probed, and Status stays StatusOK. It is called
	// from the scan's goroutines and must be safe for concurrent use; once
	// it has returned true it is not called again for the endpoint.
	Gate func(GateEvent) (stop bool)
}

// ReasonGated is the reason of the parts left undecided because
// Options.Gate stopped the endpoint's scan.
const ReasonGated = "stopped by --gate"

// GateEvent is what Options.Gate is told: one accepted suite.
type GateEvent struct {
	Target Target
	// Version is the wire version the suite was accepted at
	// (tls.VersionSSL20 for SSLv2).
	Version tls.Version
	// Suite is the accepted suite (TLS and SSLv3).
	Suite uint16
	// SSLv2Kinds are the accepted SSL 2.0 cipher kinds (SSLv2 only).
	SSLv2Kinds []uint32
}

// Event reports progress.
type Event struct {
	Target Target
	// Part is what finished: "sslv2", a version name ("TLSv1.2"),
	// "groups", "certificate", or "done" for the whole endpoint.
	Part    string
	Outcome Outcome // of the part; empty for "done", "groups", "certificate"
	// Handshakes is the number of connections opened so far for the
	// endpoint.
	Handshakes int
}

func (o Options) normalized() Options {
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	} else {
		o.Rand = &lockedReader{r: o.Rand}
	}
	if o.Dialer == nil {
		o.Dialer = &NetDialer{Timeout: o.Timeout}
	}
	if o.Versions == nil {
		o.Versions = AllVersions
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// versionsOnly reports whether version v is only detected, its suites not
// enumerated (VersionsOnly, or v not in SuitesFor).
func (o *Options) versionsOnly(v tls.Version) bool {
	return o.VersionsOnly || o.SuitesFor != nil && !slices.Contains(o.SuitesFor, v)
}

// endpoint is the shared state of one target's scan.
type endpoint struct {
	target Target // Addr resolved
	opts   Options
	sem    chan struct{}

	mu         sync.Mutex
	handshakes Handshakes
	spokeTLS   atomic.Bool // some probe got a TLS answer (hello, alert, SSLv2 message)

	// onServerHello, when set, is called once the lead version's first
	// probe has been answered with a ServerHello (scanVersions).
	onServerHello func()

	gateMu   sync.Mutex
	gated    atomic.Bool        // opts.Gate returned true
	stopGate context.CancelFunc // cancels the probes' context when gated

	// Backoff after protocols.ErrThrottled (scan/mail.go), under mu: how many
	// throttled answers so far, and until when every probe waits.
	throttles     int
	throttleUntil time.Time

	// stab counts what happened to the probes' connections, and control
	// is a hello the endpoint answered with a ServerHello (stability.go);
	// both under mu.
	stab    stability
	control *probeReq
	// hrrGroup is the group of the first TLS 1.3 HelloRetryRequest;
	// serverHello13 is set once a TLS 1.3 probe got a ServerHello (not a
	// HelloRetryRequest). Both under mu.
	hrrGroup      uint16
	serverHello13 bool
	// poisons are the poisons named so far, by suspect part (under mu):
	// another version tries them first (namePoison), one version naming
	// at a time (poisonMu) so that the versions that run together do not
	// each bisect.
	poisons  [3][]uint16
	poisonMu sync.Mutex
	// controlFailed: a control probe of settle was dropped (settle's
	// goroutine only).
	controlFailed bool
	// certWait, when set, waits for the certificate handshake in flight.
	certWait func()
	// longest is the longest suite list a probe of any version got a
	// ServerHello for; elims counts the TLS 1.0–1.2 eliminations still
	// running while SSLv3 is scanned; proven is closed (and cleared) when
	// either changes. All under mu (longProven).
	longest int
	elims   int
	proven  chan struct{}
	// fastest is the quickest probe answered in TLS, dial to answer
	// (under mu): the re-probes' back-off scales with it.
	fastest time.Duration
}

// accepted tells opts.Gate about an accepted suite (or SSLv2 kinds) and
// stops the endpoint's probes when it says so.
func (e *endpoint) accepted(version tls.Version, suite uint16, kinds []uint32) {
	if e.opts.Gate == nil || e.gated.Load() {
		return
	}
	e.gateMu.Lock()
	defer e.gateMu.Unlock()
	if e.gated.Load() {
		return
	}
	if e.opts.Gate(GateEvent{Target: e.target, Version: version, Suite: suite, SSLv2Kinds: kinds}) {
		e.gated.Store(true)
		e.stopGate()
	}
}

// markGated rewrites the reason of the parts the gate left undecided.
func markGated(res *Result) {
	gated := func(s *string) {
		if *s == ReasonCancelled {
			*s = ReasonGated
		}
	}
	if res.SSLv2 != nil {
		gated(&res.SSLv2.Reason)
	}
	for i := range res.Versions {
		gated(&res.Versions[i].Reason)
		gated(&res.Versions[i].InconclusiveReason)
	}
}

// count records an opened connection.
func (e *endpoint) count(p purpose, retry bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h := &e.handshakes
	switch p {
	case forSSLv2:
		h.SSLv2++
	case forVersion:
		h.Versions++
	case forSuites:
		h.Suites++
	case forOrder:
		h.Order++
	case forGroups:
		h.Groups++
	case forPoison:
		h.Poison++
	case forVerify:
		h.Verify++
	}
	if retry {
		h.Retries++
	}
	h.Total++
}

func (e *endpoint) total() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.handshakes.Total
}

func (e *endpoint) progress(part string, o Outcome) {
	if e.opts.Progress != nil {
		e.opts.Progress(Event{Target: e.target, Part: part, Outcome: o, Handshakes: e.total()})
	}
}

// cancelled is the failure of an endpoint whose scan ctx cut short.
var cancelled = Failure{Reason: ReasonCancelled}

// ScanTarget maps one endpoint (docs/scan-algorithm.md): SSLv2, the
// versions and their suites, the server's order, groups, the DHE prime and
// the certificate. The probes of the endpoint run in parallel, at most
// opts.PerHost connections at a time. It resolves t.Addr once (the name
// stays for SNI) and dials the first address.
//
// It never fails: what could not be decided is inconclusive, with its
// reason, and an endpoint that cannot be reached has StatusUnreachable.
// When ctx is cancelled it returns promptly with what finished; the rest is
// inconclusive "cancelled" and Status is StatusInconclusive.
func ScanTarget(ctx context.Context, t Target, opts Options) *Result {
	opts = opts.normalized()
	res := &Result{Target: t, Started: opts.Now(), Status: StatusOK}
	defer func() { res.Duration = opts.Now().Sub(res.Started) }()
	// The mail upgraders (MailUpgraders) keep the first dialogue here.
	slot := &dialogueSlot{}
	ctx = context.WithValue(ctx, dialogueKey{}, slot)
	defer func() { res.Dialogue = slot.get() }()

	rt, err := resolve(ctx, opts.Resolver, t)
	if err != nil {
		res.Status, res.Error = StatusUnreachable, failureOf(StageResolve, err)
		if ctx.Err() != nil {
			res.Status, res.Error = StatusInconclusive, cancelled
		}
		return res
	}
	res.Address = rt.DialAddress()
	if rt.Protocol == ProtoAuto {
		det, err := detect(ctx, opts, rt)
		res.Detected = det
		if err != nil {
			res.Status, res.Error = detectFailure(ctx, err)
			return res
		}
		rt.Protocol, res.Target.Protocol = det.Protocol, det.Protocol
	}
	// The probes run under gctx, which the gate (opts.Gate) cancels; ctx
	// is still the caller's, whose cancellation means "cancelled".
	gctx, stopGate := context.WithCancel(ctx)
	defer stopGate()
	e := &endpoint{target: rt, opts: opts, sem: make(chan struct{}, opts.PerHost), stopGate: stopGate}
	defer func() {
		e.mu.Lock()
		res.Handshakes = e.handshakes
		e.mu.Unlock()
		// The protocol's probe dialogue runs on a connection of its own
		// (NetDialer.Dial), which sends no ClientHello.
		n := slot.probeConns()
		res.Handshakes.Dialogue += n
		res.Handshakes.Total += n
		e.progress("done", "")
	}()

	// The certificate handshake starts as soon as the server is known to
	// speak TLS, alongside the enumeration (it is one full handshake and
	// chain verification: as long as a hundred probes on a busy server).
	// Not under a gate, which wants the fewest connections.
	var certWG sync.WaitGroup
	var certOnce sync.Once
	startCert := func() {
		certOnce.Do(func() {
			certWG.Go(func() {
				e.fetchCert(ctx, res)
				e.progress("certificate", "")
			})
		})
	}
	defer certWG.Wait()
	if !opts.SkipCert && opts.Gate == nil {
		e.onServerHello = startCert
	}
	e.certWait = certWG.Wait
	if !opts.SkipCert && opts.CertOptions.Roots == nil {
		preloadRoots() // parsed while the probes run
	}

	unreachable := e.scanVersions(gctx, res)
	switch {
	case ctx.Err() != nil:
		certWG.Wait()
		res.Status, res.Error = StatusInconclusive, cancelled
		return res
	case e.gated.Load():
		// Something was accepted, so the endpoint was reached; what the
		// gate cut short is neither accepted nor rejected, and the
		// certificate was not checked.
		markGated(res)
		res.CertSkipped = certSkipped(opts, ReasonGated)
		return res
	case unreachable != nil:
		res.Status, res.Error = endpointError(unreachable)
		return res
	}
	if allInconclusive(res) {
		res.Status = StatusInconclusive
		res.Error = Failure{Stage: StageHello, Reason: "no probe was answered decisively"}
	} else if !e.spokeTLS.Load() {
		// Every "rejection" was a close or reset: nothing proves a TLS
		// server is listening, so the endpoint as a whole is undecided.
		res.Status = StatusInconclusive
		res.Error = Failure{Stage: StageHello, Reason: "the server closed or reset every connection after the ClientHello without a TLS answer: it may not speak TLS on this port"}
	}

	var wg sync.WaitGroup
	if !opts.SkipGroups && !opts.VersionsOnly {
		wg.Go(func() {
			e.scanGroups(ctx, res)
			e.progress("groups", "")
		})
	}
	switch {
	case !opts.SkipCert && anyAccepted(res):
		startCert()
	case anyAccepted(res):
		res.CertSkipped = certSkipped(opts, "")
	}
	wg.Wait()
	certWG.Wait()
	if ctx.Err() == nil {
		e.crossCheck(ctx, res)
	}
	if ctx.Err() != nil {
		res.Status, res.Error = StatusInconclusive, cancelled
		return res
	}
	if res.Status == StatusOK {
		if f, partial := partialFailure(res); partial {
			res.Status, res.Error = StatusPartial, f
		}
	}
	return res
}

// certSkipped is Result.CertSkipped of an endpoint that accepted a version
// but whose certificate handshake did not run: SkipCert's reason, or why
// (a gate) when it was not skipped.
func certSkipped(opts Options, why string) string {
	switch {
	case opts.SkipCert && opts.SkipCertReason != "":
		return opts.SkipCertReason
	case opts.SkipCert:
		return "skipped"
	}
	return why
}

func anyAccepted(res *Result) bool {
	return slices.ContainsFunc(res.Versions, func(v VersionResult) bool { return v.Outcome == Accepted })
}

func allInconclusive(res *Result) bool {
	if res.SSLv2 != nil && res.SSLv2.Outcome != Inconclusive {
		return false
	}
	return !slices.ContainsFunc(res.Versions, func(v VersionResult) bool { return v.Outcome != Inconclusive })
}

// fetchCert runs the certificate handshake on connections from the scan's
// dialer, counted as Handshakes.Certificate, and, for an IP target
// without a server name, the SNI check (SNICheck).
func (e *endpoint) fetchCert(ctx context.Context, res *Result) {
	co := e.opts.CertOptions
	if co.ServerName == "" {
		co.ServerName = e.target.Host
	}
	if co.Now == nil {
		co.Now = e.opts.Now
	}
	if co.Timeout <= 0 {
		co.Timeout = 2 * e.opts.Timeout
	}
	if co.Roots == nil {
		co.Roots = systemRoots()
	}
	dial := func(ctx context.Context) (net.Conn, error) {
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		conn, err := e.opts.Dialer.Dial(ctx, e.target)
		if err != nil {
			<-e.sem
			return nil, err
		}
		e.mu.Lock()
		e.handshakes.Certificate++
		e.handshakes.Total++
		e.mu.Unlock()
		return &semConn{Conn: conn, release: func() { <-e.sem }}, nil
	}
	conn, err := dial(ctx)
	if err != nil {
		res.CertError = failureOf(StageDial, err)
		return
	}
	info, err := FetchCertificate(ctx, conn, dial, co)
	res.Cert = info
	if err != nil {
		res.CertError = failureOf(StageHandshake, err)
	}
	// An IP target scanned without a name: does a name of the leaf get
	// another certificate (docs/scan-algorithm.md, "Certificates chosen
	// by SNI")? One handshake more, counted as the first.
	if co.ServerName == "" && info != nil && len(info.Chain) > 0 {
		if name := sniName(info.Chain[0]); name != "" {
			res.SNICheck = checkSNI(ctx, co, dial, name, info.Chain[0].SHA256)
		}
	}
}

// semConn releases a per-host slot when closed.
type semConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *semConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
