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
	// early counts the drops that came before any answer in TLS (a
	// reset, close or refusal with nothing read): what a limiter or a
	// firewall does. A drop after the server's ServerHello (a suite
	// chosen, then the connection dropped) is the server's own doing.
	early int
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
	} else if a.drop != dropNone {
		s.early++
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
	st := e.stability()
	if st.early == 0 {
		// No connection of the endpoint was dropped before an answer:
		// nothing here limits or resets connections, and a suite that
		// the server chose and then dropped the connection over (a
		// cipher it has no key or parameters for) is its own answer,
		// final as seen.
		for _, vs := range scans {
			vs.fragile = slices.DeleteFunc(vs.fragile, func(f fragile) bool { return f.cnc })
		}
	}
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
	// one settles f alone (settleOne), within the budget.
	one := func(vs *versionScan, f fragile) {
		if budget == 0 || ctx.Err() != nil || e.controlFailed {
			reason := unstable
			if ctx.Err() != nil {
				reason = ReasonCancelled
			}
			vs.undecidable(f, reason)
			return
		}
		budget--
		ok, dis := vs.settleOne(ctx, f, unstable)
		if ok {
			agreed = append(agreed, confirmed{vs, f})
		}
		disproved = disproved || dis
	}
	items := e.settleItems(scans, sslv2Drop)
	if len(items) >= 2 && len(items) <= budget {
		// One run first: every fragile refusal probed once more, one
		// after the other, then a control. When every drop repeats, the
		// run is two or more consecutive drops, which no front dropping
		// every n-th connection makes, and the control answered rules
		// out one dropping everything: each refusal was seen twice.
		budget -= len(items)
		if e.settleRun(ctx, items, sslv2, unstable, &disproved) {
			for _, it := range items {
				if it.vs == nil {
					*sslv2 = SSLv2Result{Outcome: Rejected, Reason: sslv2Drop.reason + againRunSuffix}
					sslv2Agreed = true
					continue
				}
				for _, f := range it.group {
					it.vs.confirm(f, againRunSuffix)
					agreed = append(agreed, confirmed{it.vs, f})
				}
				it.vs.fragile = nil
			}
			items = nil
		}
	}
	// What the run did not settle, one decision at a time: two
	// consecutive drops on fresh connections after a back-off, then a
	// control.
	for _, it := range items {
		if it.done {
			continue
		}
		if it.vs == nil {
			budget--
			a, ok := e.recheck(ctx, func(p purpose) answer { return e.sslv2Probe(ctx, p) }, sslv2Drop.drop, false)
			switch {
			case ok:
				*sslv2 = SSLv2Result{Outcome: Rejected, Reason: sslv2Drop.reason + againSuffix}
				sslv2Agreed = true
			case a.spokeTLS() && a.drop == dropNone:
				*sslv2 = e.sslv2Result(a)
				disproved = true
			default:
				*sslv2 = SSLv2Result{Outcome: Inconclusive, Reason: unstable}
			}
			continue
		}
		vs, group := it.vs, it.group
		if len(group) > 1 && !it.split && budget > 0 && ctx.Err() == nil && !e.controlFailed {
			// Every hello of the version was dropped the same way: one
			// refusal, the version's, settled on its first list; when
			// confirmed it stands for the version's other lists too.
			budget--
			ok, dis := vs.settleOne(ctx, group[0], unstable)
			if ok {
				for _, f := range group {
					vs.confirm(f, againSuffix)
					agreed = append(agreed, confirmed{vs, f})
				}
				continue
			}
			disproved = disproved || dis
			group = group[1:]
		}
		for _, f := range group {
			one(vs, f)
		}
	}
	// The fragile decisions of the re-eliminations that answers started
	// while settling (vs.fragile grows while it is walked).
	for _, vs := range scans {
		for i := 0; i < len(vs.fragile); i++ {
			one(vs, vs.fragile[i])
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

// settleItem is one refusal to settle: the SSLv2 probe's (vs nil), one
// fragile decision of a version, or a version's every list when all of
// them were dropped the same way (group[0] its first list).
type settleItem struct {
	vs    *versionScan
	group []fragile
	done  bool // decided by the run (an answer in TLS)
	split bool // group's lists are settled one by one
}

// settleItems lists the endpoint's fragile refusals, a version refused
// wholesale by drops as one.
func (e *endpoint) settleItems(scans []*versionScan, sslv2Drop answer) []*settleItem {
	var items []*settleItem
	if sslv2Drop.drop != dropNone {
		items = append(items, &settleItem{group: []fragile{{drop: sslv2Drop.drop, reason: sslv2Drop.reason}}})
	}
	for _, vs := range scans {
		if vs.droppedWhole() {
			items = append(items, &settleItem{vs: vs, group: vs.fragile})
		} else {
			for i := range vs.fragile {
				if vs.coveredByPoisonChecks(vs.fragile[i]) {
					continue
				}
				items = append(items, &settleItem{vs: vs, group: vs.fragile[i : i+1]})
			}
		}
		// The items own these now; a re-elimination that a settling
		// answer starts adds its own fragile decisions to vs.fragile.
		vs.fragile = nil
	}
	return items
}

// coveredByPoisonChecks reports whether every suite of the refused list f
// is in a list of the poison check that was dropped the same way: those
// lists are settled, and each of f's suites is then decided by them (a
// confirmed drop refuses it twice on fresh connections; an answer or an
// unsettled drop undecides it), so f need not be probed again. Only the
// elimination's refusals are left out, never the poison check's, so that
// no two lists stand for each other (gnutls-serv behind lighttpd, which
// refuses by closing: a version's last list and the poison check's two
// sub-lists, three re-probes → two).
func (vs *versionScan) coveredByPoisonChecks(f fragile) bool {
	if f.cnc || f.poison {
		return false
	}
	covered := map[uint16]bool{}
	for _, g := range vs.fragile {
		if g.poison && !g.cnc && g.drop == f.drop {
			for _, id := range g.list {
				covered[id] = true
			}
		}
	}
	for _, id := range f.list {
		if !covered[id] {
			return false
		}
	}
	return true
}

// settleRun probes every item once more, one after the other after one
// back-off, then a control; it reports whether every drop repeated and
// the control was answered. An item answered in TLS is decided by that
// answer (done, and *disproved set); the others are left to the one-by-one
// settling.
func (e *endpoint) settleRun(ctx context.Context, items []*settleItem, sslv2 *SSLv2Result, unstable string, disproved *bool) bool {
	if !sleepCtx(ctx, e.backoff(0)) {
		return false
	}
	clean := true
	for _, it := range items {
		f := it.group[0]
		var a answer
		if it.vs == nil {
			a = e.sslv2Probe(ctx, forVerify)
		} else {
			a = it.vs.probeList(ctx, f.settleList(), forVerify)
		}
		switch {
		case a.kind == ansCancelled:
			return false
		case a.spokeTLS() && (a.drop == dropNone || !f.cnc):
			// Answered in TLS: the drop was not the server's answer.
			clean = false
			if it.vs == nil {
				*sslv2 = e.sslv2Result(a)
				*disproved = true
				it.done = true
				continue
			}
			if it.vs.settleAnswer(ctx, f, a, unstable) {
				*disproved = true
			}
			// The version's other lists, if any, are settled one by one.
			it.group, it.split = it.group[1:], true
			it.done = len(it.group) == 0
		case a.drop != f.drop:
			clean = false
		}
	}
	return clean && e.controlAnswered(ctx)
}

// settleOne re-probes one fragile decision of vs. It reports whether the
// drop was confirmed (seen again twice, the control answered) and whether
// it was disproved (the hello answered in TLS).
func (vs *versionScan) settleOne(ctx context.Context, f fragile, unstable string) (agreed, disproved bool) {
	list := f.settleList()
	a, ok := vs.e.recheck(ctx, func(p purpose) answer { return vs.probeList(ctx, list, p) }, f.drop, f.cnc)
	if ok {
		// Two fresh connections dropped the same way, and a control
		// probe was answered: the drop is the server's answer.
		vs.confirm(f, againSuffix)
		return true, false
	}
	return false, vs.settleAnswer(ctx, f, a, unstable)
}

// settleList is the hello a fragile decision is re-probed with: the
// refused list, or the suite chosen and not completed alone.
func (f fragile) settleList() []uint16 {
	if f.cnc {
		return f.list[:1]
	}
	return f.list
}

// settleAnswer decides a fragile decision by a re-probe's answer a that
// did not confirm it; it reports whether a disproved the drop (the hello
// answered in TLS).
func (vs *versionScan) settleAnswer(ctx context.Context, f fragile, a answer, unstable string) bool {
	list := f.settleList()
	switch {
	case !f.cnc && (a.kind == ansHello || a.kind == ansIncomplete):
		// The server answers the list: its earlier refusal was the
		// network's. Eliminate it again.
		vs.undecide(list)
		vs.chosen(a)
		vs.prove(len(list))
		if rest := slices.DeleteFunc(slices.Clone(list), func(id uint16) bool { return id == a.suite }); len(rest) > 0 {
			vs.stopped = false
			vs.pending = append(vs.pending, rest)
			vs.loop(ctx)
		}
		return true
	case !f.cnc && a.outcome() == Rejected && a.drop == dropNone:
		// A refusal in TLS (an alert, a lower version): final.
		for _, id := range list {
			if vs.status[id] == Rejected {
				vs.reasons[id] = a.reason
			}
		}
		return true
	case f.cnc && a.kind == ansHello:
		vs.uncnc(list[0])
		vs.accept(list[0])
		return true
	case f.cnc && a.kind == ansIncomplete && a.drop == dropNone:
		vs.reasons[list[0]] = a.reason // chosen, then an alert: final
		return true
	}
	reason := unstable
	if a.kind == ansCancelled {
		reason = ReasonCancelled
	}
	vs.undecidable(f, reason)
	return a.spokeTLS() && a.drop == dropNone
}

// confirm marks a fragile refusal as seen again: its reason gets suffix.
func (vs *versionScan) confirm(f fragile, suffix string) {
	if f.cnc {
		return
	}
	for _, id := range f.list {
		if vs.status[id] == Rejected && !strings.HasSuffix(vs.reasons[id], suffix) {
			vs.reasons[id] = f.reason + suffix
		}
	}
}

// The reasons of a drop confirmed on fresh connections: alone, or in a
// run in which every drop of the endpoint repeated.
const (
	againSuffix    = ", again on two fresh connections"
	againRunSuffix = ", again on a fresh connection (every drop of the endpoint repeated, a control answered)"
)

// droppedWhole reports whether the version was refused wholesale by
// drops: no hello of it answered in TLS, at least two lists refused, all
// by the same kind of drop, none a poison check's.
func (vs *versionScan) droppedWhole() bool {
	if vs.spoke > 0 || len(vs.accepted) > 0 || len(vs.cnc) > 0 || len(vs.fragile) < 2 {
		return false
	}
	for _, f := range vs.fragile {
		if f.cnc || f.poison || f.drop != vs.fragile[0].drop {
			return false
		}
	}
	return true
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
	if req == nil || ctx.Err() != nil {
		return false
	}
	// No back-off first: a limiter still dropping connections drops the
	// control too, and a drop re-probed after a pause the control did not
	// get is the stricter test.
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

// backoff is the wait before the try-th re-probe, doubling from its
// base up to 2 s. The base lets the server finish with the connections
// just closed (a limit on concurrent connections): twice the endpoint's
// fastest answered probe — a connection, its dialogue and a hello, so at
// least two round trips — from 5 ms up to a twentieth of the timeout (250
// ms by default), which is also the base while no probe was answered. A
// limiter counting over a window of seconds outlasts any pause a scan can
// afford; the control right after the re-probes is what catches it.
func (e *endpoint) backoff(try int) time.Duration {
	d := e.opts.Timeout / 20
	e.mu.Lock()
	if e.fastest > 0 {
		d = min(d, 2*e.fastest)
	}
	e.mu.Unlock()
	d = min(max(d, 5*time.Millisecond)<<try, 2*time.Second)
	return d
}

// answeredIn records how long a probe answered in TLS took, from the
// dial to the answer.
func (e *endpoint) answeredIn(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fastest == 0 || d < e.fastest {
		e.fastest = d
	}
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
