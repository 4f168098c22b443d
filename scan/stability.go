package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// A reset, a close or a TCP refusal is what a server refusing a hello
// does, and also what a connection limiter, a firewall or a flaky network
// does to any hello. Such a refusal is final only when it is consistent
// (docs/scan-algorithm.md, "Consistent refusals"): on an endpoint whose
// connections all either answered in TLS or were dropped for the hello's
// sake. The endpoint's stability counts what happened to its connections;
// every refusal that rests on a dropped connection is kept as fragile and
// settled after the enumeration.

// Re-probing a fragile refusal (settle).
const (
	// maxRechecks is how many fresh connections one fragile refusal may
	// get before it is left inconclusive.
	maxRechecks = 4
	// maxFragile bounds the fragile refusals settled per endpoint; the
	// rest stay inconclusive.
	maxFragile = 64
)

// stability counts the connections of an endpoint's probes by what
// happened to them (under endpoint.mu).
type stability struct {
	attempts  int // probes that tried to connect
	completed int // answered in TLS or SSLv2 (a ServerHello, an alert …)
	resets    int
	closes    int
	refused   int // TCP connection refused
}

// describe says what happened: "connection reset on 7 of 60
// connections", several kinds joined with ", ".
func (s stability) describe() string {
	var parts []string
	if s.resets > 0 {
		parts = append(parts, fmt.Sprintf("connection reset on %d", s.resets))
	}
	if s.closes > 0 {
		parts = append(parts, fmt.Sprintf("closed early on %d", s.closes))
	}
	if s.refused > 0 {
		parts = append(parts, fmt.Sprintf("refused at TCP level on %d", s.refused))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" of %d connections", s.attempts)
}

// observe counts a probe's connection.
func (e *endpoint) observe(a answer) {
	if a.kind == ansCancelled {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &e.stab
	s.attempts++
	switch a.drop {
	case dropReset:
		s.resets++
	case dropClosed:
		s.closes++
	case dropRefused:
		s.refused++
	}
	if a.spokeTLS() {
		s.completed++
	}
}

func (e *endpoint) stability() stability {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stab
}

// fragile is a decision that rests on a dropped connection: a list
// refused by a reset or close (list), or a suite chosen and then dropped
// before ServerHelloDone (cnc).
type fragile struct {
	list   []uint16
	cnc    bool
	drop   dropKind
	reason string
	poison bool // the refusal of the poison check
}

// noteFragile records a decision of vs that a's dropped connection made.
func (vs *versionScan) noteFragile(list []uint16, a answer, cnc, poison bool) {
	if a.drop == dropNone {
		return
	}
	vs.fragile = append(vs.fragile, fragile{list: slices.Clone(list), cnc: cnc, drop: a.drop, reason: a.reason, poison: poison})
}

// settle decides the fragile refusals of the enumeration (scans, and the
// SSLv2 probe when sslv2 is set): when no connection of the endpoint was
// answered in TLS nothing proves a drop is a refusal, and they are left
// inconclusive; otherwise each is re-probed on fresh connections, one at
// a time, after a back-off, and decided only when two consecutive probes
// agree and a control probe right after is answered (docs/scan-
// algorithm.md, "Consistent refusals"). It reports whether any version's
// accepted suites changed.
func (e *endpoint) settle(ctx context.Context, scans []*versionScan, sslv2 *SSLv2Result, sslv2Drop answer) {
	pending := 0
	for _, vs := range scans {
		pending += len(vs.fragile)
	}
	if sslv2Drop.drop != dropNone {
		pending++
	}
	if pending == 0 || ctx.Err() != nil {
		return
	}
	e.controlFailed = false
	st := e.stability()
	if st.completed == 0 {
		reason := "no TLS answer to any hello: " + st.describe()
		for _, vs := range scans {
			for _, f := range vs.fragile {
				vs.undecidable(f, reason)
			}
			vs.fragile = nil
		}
		if sslv2Drop.drop != dropNone {
			*sslv2 = SSLv2Result{Outcome: Inconclusive, Reason: reason}
		}
		return
	}
	if e.certWait != nil {
		e.certWait() // its connections would count against per-host 1
	}
	release := e.exclusive(ctx)
	defer release()
	unstable := "unstable: " + st.describe()

	// A drop that a later probe of the same hello disproves (it is
	// answered in TLS) shows that the endpoint drops hellos it does not
	// refuse: then no drop is believed, not even one seen twice before.
	disproved := false
	type confirmed struct {
		vs *versionScan
		f  fragile
	}
	var agreed []confirmed
	sslv2Agreed := false

	budget := maxFragile
	if sslv2Drop.drop != dropNone {
		budget--
		a, ok := e.recheck(ctx, func(p purpose) answer { return e.sslv2Probe(ctx, p) }, sslv2Drop.drop, false)
		switch {
		case ok:
			*sslv2 = SSLv2Result{Outcome: Rejected, Reason: sslv2Drop.reason + ", again on two fresh connections"}
			sslv2Agreed = true
		case a.spokeTLS() && a.drop == dropNone:
			*sslv2 = e.sslv2Result(a)
			disproved = true
		default:
			*sslv2 = SSLv2Result{Outcome: Inconclusive, Reason: unstable}
		}
	}
	for _, vs := range scans {
		for i := 0; i < len(vs.fragile); i++ {
			f := vs.fragile[i]
			if budget == 0 || ctx.Err() != nil || e.controlFailed {
				reason := unstable
				if ctx.Err() != nil {
					reason = ReasonCancelled
				}
				vs.undecidable(f, reason)
				continue
			}
			budget--
			ok, dis := vs.settleOne(ctx, f, unstable)
			if ok {
				agreed = append(agreed, confirmed{vs, f})
			}
			disproved = disproved || dis
		}
		vs.fragile = nil
	}
	if disproved {
		reason := unstable + "; drops answered on a later connection"
		for _, c := range agreed {
			c.vs.undecidable(c.f, reason)
		}
		if sslv2Agreed {
			*sslv2 = SSLv2Result{Outcome: Inconclusive, Reason: reason}
		}
	}
}

// settleOne re-probes one fragile decision of vs. It reports whether the
// drop was confirmed (seen again twice, the control answered) and whether
// it was disproved (the hello answered in TLS).
func (vs *versionScan) settleOne(ctx context.Context, f fragile, unstable string) (agreed, disproved bool) {
	e := vs.e
	list := f.list
	if f.cnc {
		list = f.list[:1]
	}
	a, ok := e.recheck(ctx, func(p purpose) answer { return vs.probeList(ctx, list, p) }, f.drop, f.cnc)
	switch {
	case ok:
		// Two fresh connections dropped the same way, and a control
		// probe was answered: the drop is the server's answer.
		if !f.cnc {
			for _, id := range list {
				if vs.status[id] == Rejected {
					vs.reasons[id] = f.reason + ", again on two fresh connections"
				}
			}
		}
		return true, false
	case !f.cnc && (a.kind == ansHello || a.kind == ansIncomplete):
		// The server answers the list: its earlier refusal was the
		// network's. Eliminate it again.
		vs.undecide(list)
		vs.chosen(a)
		vs.proven = max(vs.proven, len(list))
		if rest := slices.DeleteFunc(slices.Clone(list), func(id uint16) bool { return id == a.suite }); len(rest) > 0 {
			vs.stopped = false
			vs.pending = append(vs.pending, rest)
			vs.loop(ctx)
		}
		return false, true
	case !f.cnc && a.outcome() == Rejected && a.drop == dropNone:
		// A refusal in TLS (an alert, a lower version): final.
		for _, id := range list {
			if vs.status[id] == Rejected {
				vs.reasons[id] = a.reason
			}
		}
		return false, true
	case f.cnc && a.kind == ansHello:
		vs.uncnc(list[0])
		vs.accept(list[0])
		return false, true
	case f.cnc && a.kind == ansIncomplete && a.drop == dropNone:
		vs.reasons[list[0]] = a.reason // chosen, then an alert: final
		return false, true
	}
	reason := unstable
	if a.kind == ansCancelled {
		reason = ReasonCancelled
	}
	vs.undecidable(f, reason)
	return false, a.spokeTLS() && a.drop == dropNone
}

// recheck re-probes (probe, on a fresh connection each time, after a
// back-off) up to maxRechecks times. It stops at the first answer in
// TLS, returning it (for a chosen-not-completed suite, cnc, a
// ServerHello then a drop is the drop again); it reports agreed when two
// consecutive probes were dropped the same way as the first time (drop)
// and a control probe right after was answered in TLS.
func (e *endpoint) recheck(ctx context.Context, probe func(purpose) answer, drop dropKind, cnc bool) (answer, bool) {
	var a answer
	prev := dropNone
	for try := range maxRechecks {
		if !sleepCtx(ctx, e.backoff(try)) {
			return answer{kind: ansCancelled, reason: ReasonCancelled}, false
		}
		a = probe(forVerify)
		switch {
		case a.kind == ansCancelled:
			return a, false
		case a.spokeTLS() && (a.drop == dropNone || !cnc):
			return a, false
		case a.drop == drop && prev == drop:
			return a, e.controlAnswered(ctx)
		}
		prev = a.drop
	}
	return a, false
}

// controlAnswered sends again a hello the endpoint once answered with a
// ServerHello: a drop is a refusal only while the endpoint answers other
// hellos (a connection limiter drops every hello alike).
func (e *endpoint) controlAnswered(ctx context.Context) bool {
	e.mu.Lock()
	req := e.control
	e.mu.Unlock()
	if req == nil {
		return false
	}
	if !sleepCtx(ctx, e.backoff(0)) {
		return false
	}
	c := *req
	c.purpose = forVerify
	a := e.probeOnce(ctx, c, false)
	if !a.spokeTLS() || a.drop != dropNone {
		// The endpoint drops hellos it answered before: its drops are
		// not refusals, and the rest need not be probed again.
		e.controlFailed = true
		return false
	}
	return true
}

// backoff is the wait before the try-th re-probe: a twentieth of the
// timeout (250 ms by default), doubling, from 5 ms to 2 s.
func (e *endpoint) backoff(try int) time.Duration {
	d := e.opts.Timeout / 20
	d = min(max(d, 5*time.Millisecond)<<try, 2*time.Second)
	return d
}

// exclusive takes every per-host slot but one, so that the endpoint's
// probes run one at a time; the returned func gives them back.
func (e *endpoint) exclusive(ctx context.Context) func() {
	n := 0
	for n < cap(e.sem)-1 {
		select {
		case e.sem <- struct{}{}:
			n++
			continue
		case <-ctx.Done():
		}
		break
	}
	return func() {
		for range n {
			<-e.sem
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// undecidable leaves a fragile decision undecided, for reason.
func (vs *versionScan) undecidable(f fragile, reason string) {
	if f.cnc {
		id := f.list[0]
		if vs.status[id] == ChosenNotCompleted {
			vs.uncnc(id)
			vs.status[id], vs.reasons[id] = Inconclusive, "chosen, then dropped: "+reason
		}
		return
	}
	if f.poison {
		reason = "poison check: " + reason
	}
	for _, id := range f.list {
		if vs.status[id] == Rejected {
			vs.status[id], vs.reasons[id] = Inconclusive, reason
		}
	}
}

// uncnc takes a suite out of the chosen-not-completed list.
func (vs *versionScan) uncnc(id uint16) {
	vs.cnc = slices.DeleteFunc(vs.cnc, func(x uint16) bool { return x == id })
	delete(vs.status, id)
	delete(vs.reasons, id)
}

// sslv2Probe sends the SSL 2.0 CLIENT-HELLO of scanSSLv2.
func (e *endpoint) sslv2Probe(ctx context.Context, p purpose) answer {
	hello, err := buildSSLv2Hello(sslv2Kinds(), e.opts.Rand)
	if err != nil {
		return answer{kind: ansMalformed, reason: err.Error()}
	}
	return e.probe(ctx, probeReq{purpose: p, version: tls.VersionSSL20, hello: hello})
}
