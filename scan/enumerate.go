package scan

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Suite list lengths (docs/scan-algorithm.md, "Cipher suites:
// elimination").
const (
	// firstChunk is the longest list of a version's first hello, so that
	// servers that fail on long lists still answer.
	firstChunk = 128
	// trustedLen is the list length whose refusal is believed without
	// proof: no server is known to fail on 32 suites.
	trustedLen = 32
)

// tlsVersions are the versions with cipher suites, oldest first: the order
// of Result.Versions.
var tlsVersions = []tls.Version{
	tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11,
	tls.VersionTLS12, tls.VersionTLS13,
}

// scanVersions runs the SSLv2 probe and every version's enumeration into
// res. The lead version (TLS 1.2 when asked) goes first: its first answer
// tells whether the endpoint is reachable and which list length it
// tolerates, which seeds the other versions. It returns a non-nil error
// only when the endpoint is unreachable.
func (e *endpoint) scanVersions(ctx context.Context, res *Result) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var asked []tls.Version
	for _, v := range tlsVersions {
		if slices.Contains(e.opts.Versions, v) {
			asked = append(asked, v)
		}
	}
	res.Versions = make([]VersionResult, len(asked))
	lead := tls.Version(0)
	for _, v := range asked {
		if v <= tls.VersionTLS12 {
			lead = v // the highest up to TLS 1.2
		}
	}
	if lead == 0 && len(asked) > 0 {
		lead = asked[len(asked)-1]
	}

	var wg sync.WaitGroup
	var sslv2Drop answer // the SSLv2 probe's answer when a dropped connection refused it
	if slices.Contains(e.opts.Versions, tls.VersionSSL20) {
		res.SSLv2 = &SSLv2Result{}
		wg.Go(func() {
			a := e.sslv2Probe(ctx, forSSLv2)
			*res.SSLv2 = e.sslv2Result(a)
			if res.SSLv2.Outcome == Rejected && a.drop != dropNone {
				sslv2Drop = a
			}
		})
	}
	leadFirst := make(chan firstAnswer, 1)
	scans := make([]*versionScan, len(asked))
	// SSLv3 waits for the other versions' proof of long lists
	// (longProven): e.elims counts their eliminations still running. A
	// version that only finds out whether it is spoken stops at its first
	// answer and proves no long list: SSLv3 does not wait for it.
	waited := func(v tls.Version) bool {
		return v >= tls.VersionTLS10 && v <= tls.VersionTLS12 && !e.opts.versionsOnly(v) &&
			slices.Contains(asked, tls.VersionSSL30) && !e.opts.versionsOnly(tls.VersionSSL30)
	}
	e.mu.Lock()
	for _, v := range asked {
		if waited(v) {
			e.elims++
		}
	}
	e.mu.Unlock()
	run := func(i int, v tls.Version, seed int, first chan<- firstAnswer) {
		vs := newVersionScan(e, v, seed)
		vs.onFirst = first
		vs.waited = waited(v)
		scans[i] = vs
		vs.enumerate(ctx)
	}
	leadIndex := slices.Index(asked, lead)
	if lead != 0 {
		wg.Go(func() { run(leadIndex, lead, 0, leadFirst) })
	} else {
		close(leadFirst)
	}
	// TLS 1.3 lists are short enough not to need the seed.
	if i := slices.Index(asked, tls.VersionTLS13); i >= 0 && lead != tls.VersionTLS13 {
		wg.Go(func() { run(i, tls.VersionTLS13, 0, nil) })
	}
	first, ok := <-leadFirst
	if ok && first.kind == ansDialError {
		cancel()
		wg.Wait()
		res.Versions, res.SSLv2 = nil, nil
		return first.err
	}
	// A ServerHello of any version means a TLS server that some version
	// will be accepted from: the certificate handshake need not wait for
	// the enumeration.
	if ok && e.onServerHello != nil && (first.kind == ansHello || first.kind == ansIncomplete || first.kind == ansLower || first.kind == ansHigher || first.kind == ansUnoffered) {
		e.onServerHello()
	}
	// Any ServerHello proves the server parsed a hello of that length,
	// even one for another version or suite than asked; so does a
	// protocol_version alert, which a server can only send after reading
	// the hello's version (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2: the
	// version comes first, but servers parse the whole hello before
	// deciding; one that fails on long lists closes, resets or sends
	// decode_error instead).
	seed := 0
	if ok && (first.kind == ansHello || first.kind == ansIncomplete || first.kind == ansLower || first.kind == ansHigher || first.kind == ansUnoffered ||
		first.kind == ansAlert && first.alert.Description == tls.AlertProtocolVersion) {
		seed = first.offered
	}
	for i, v := range asked {
		if v == lead || v == tls.VersionTLS13 {
			continue
		}
		wg.Go(func() { run(i, v, seed, nil) })
	}
	wg.Wait()

	// The decisions that rest on dropped connections, settled now that
	// the endpoint's stability is known; then the order and the results.
	e.settle(ctx, scans, res.SSLv2, sslv2Drop)
	if res.SSLv2 != nil {
		e.progress("SSLv2", res.SSLv2.Outcome)
	}
	for i, vs := range scans {
		wg.Go(func() {
			res.Versions[i] = vs.finish(ctx)
			e.progress(tls.Version(vs.v).String(), res.Versions[i].Outcome)
		})
	}
	wg.Wait()
	return nil
}

// sslv2Kinds are the cipher kinds of the SSL 2.0 CLIENT-HELLO: every one.
func sslv2Kinds() []uint32 {
	var kinds []uint32
	for _, k := range ciphers.SSLv2Kinds() {
		kinds = append(kinds, k.ID)
	}
	return kinds
}

// sslv2Result is the verdict of the SSL 2.0 probe (sslv2Probe: one
// CLIENT-HELLO listing every cipher kind) from its answer.
func (e *endpoint) sslv2Result(a answer) SSLv2Result {
	kinds := sslv2Kinds()
	if a.kind != ansSSLv2Hello {
		return SSLv2Result{Outcome: a.outcome(), Reason: a.reason}
	}
	r := SSLv2Result{Outcome: Accepted}
	for _, k := range a.sslv2.CipherSpecs {
		if slices.Contains(kinds, k) && !slices.Contains(r.Kinds, k) {
			r.Kinds = append(r.Kinds, k)
		}
	}
	if len(r.Kinds) == 0 {
		r = SSLv2Result{Outcome: Rejected, Reason: "SSLv2 SERVER-HELLO with no offered cipher kind"}
	} else {
		e.accepted(tls.VersionSSL20, 0, slices.Clone(r.Kinds))
	}
	return r
}

// probeRecord is an accepted probe: what was offered (in order) and what
// the server chose. Under server preference the choice ranks above every
// other offered suite.
type probeRecord struct {
	offered []uint16
	chosen  uint16
}

// pendingList is a list refused at a length not yet proven tolerated.
type pendingList struct {
	list   []uint16
	answer answer // the refusal
}

// versionScan enumerates one version's suites by elimination.
type versionScan struct {
	e       *endpoint
	v       tls.Version
	cands   []uint16
	rank    map[uint16]int
	onFirst chan<- firstAnswer // receives the first probe's answer, then is closed
	// longLead: the first list is a versions-only lead's every candidate
	// (firstLen), not yet answered.
	longLead bool

	proven  int // the longest list answered with a ServerHello (or the seed)
	ceiling int // the shortest list known or suspected to be too long; 0: none
	// waited: SSLv3 may be waiting for this elimination's end
	// (endpoint.elimDone).
	waited bool

	pending  [][]uint16    // lists to eliminate
	deferred []pendingList // refusals of unproven length, no canary yet

	accepted []uint16 // in the order found
	cnc      []uint16 // chosen, not completed: in the order found
	records  []probeRecord
	status   map[uint16]Outcome
	reasons  map[uint16]string // for rejected, inconclusive and chosen-not-completed candidates
	probes   int
	refused  string      // the version was refused outright, with this reason
	lowerTo  tls.Version // the version of a lower-version ServerHello that refused it
	stopped  bool

	// refusedWithout[k] holds the candidates refused in a list without
	// any suite of suspect part k (suspectPart): the poison check need not
	// offer them again without that part.
	refusedWithout [3]map[uint16]bool
	poisons        []uint16
	poisonReason   string
	// refusedWithoutECDSA holds the candidates refused in a list without
	// an ECDSA-authenticated suite, for certByOfferCheck; certByOffer
	// says what that check found.
	refusedWithoutECDSA map[uint16]bool
	certByOffer         string

	// fragile are the decisions that rest on a dropped connection, for
	// endpoint.settle.
	fragile []fragile
	// spoke counts the version's probes answered in TLS or SSLv2.
	spoke int
	// so, soKnown: whether the server enforces its order, when known;
	// enumerated is how many suites were accepted when it was asked.
	so, soKnown bool
	enumerated  int
}

func newVersionScan(e *endpoint, v tls.Version, seed int) *versionScan {
	vs := &versionScan{
		e: e, v: v, cands: candidates(v), proven: seed,
		rank:    candidateRank(v), // shared, read-only
		status:  map[uint16]Outcome{},
		reasons: map[uint16]string{},

		refusedWithoutECDSA: map[uint16]bool{},
	}
	for k := range vs.refusedWithout {
		vs.refusedWithout[k] = map[uint16]bool{}
	}
	return vs
}

// firstLists are the lists the elimination begins with: the first list
// (firstLen), then the rest of the candidates, if any.
func (vs *versionScan) firstLists(lead bool) [][]uint16 {
	first := vs.cands[:vs.firstLen(lead)]
	if rest := vs.cands[len(first):]; len(rest) > 0 {
		return [][]uint16{first, rest}
	}
	return [][]uint16{first}
}

// firstLen is the length of the version's first list; lead: it is the
// lead version (scanVersions).
//
// A versions-only lead offers every candidate: a ServerHello to it
// proves the server parses a list that long, so that each other version
// needs one hello too (SSLv3's 370 candidates, kept to lists of at most
// 106 until then, took four: a sweep of nginx cost 9 connections an
// endpoint, now 6). A server that fails on long lists refuses it; the
// elimination then goes on in shorter lists, as for any list refused at
// an unproven length, and the other versions start unseeded.
//
// Any version offers every candidate at once when a list that long was
// answered already: the lead's first (the seed) or another version's
// (SSLv3 only when the list is past the 256–511-byte band:
// sslv3Offerable).
func (vs *versionScan) firstLen(lead bool) int {
	v := vs.v
	all := len(vs.cands)
	if lead && vs.e.opts.versionsOnly(v) {
		return all
	}
	if max(vs.proven, vs.e.longestProven()) >= all && (v != tls.VersionSSL30 || sslv3Offerable(all)) {
		return all
	}
	n := min(firstChunk, all)
	if v == tls.VersionSSL30 {
		n = min(n, sslv3MaxSuites)
	}
	return n
}

// trusted is the longest list whose refusal is final. For SSLv3 a list
// answered at another version counts (endpoint.longProven).
func (vs *versionScan) trusted() int {
	t := max(vs.proven, trustedLen)
	if vs.v == tls.VersionSSL30 {
		t = max(t, vs.e.longestProven())
	}
	return t
}

// longProven: a ServerHello to a list of n suites proves that the server
// parses a suite list that long, at any version (no stack parses the list
// by version; a length it fails on, it fails on at every version: wolfSSL
// past 150 suites). SSLv3, whose lists stay short until one of its suites
// is chosen (maxLen), may offer a long list once another version had one
// as long answered: a server that refuses SSLv3 then costs two hellos, not
// four. Its long lists wait for that proof while a TLS 1.0–1.2
// elimination is still running (waitProven).

// noteProven records a ServerHello to a list of n suites.
func (e *endpoint) noteProven(n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n > e.longest {
		e.longest = n
		e.wakeLocked()
	}
}

// longestProven is the longest list any version had answered.
func (e *endpoint) longestProven() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.longest
}

// elimDone records the end of a TLS 1.0–1.2 elimination that SSLv3 may
// be waiting for.
func (e *endpoint) elimDone() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.elims--
	e.wakeLocked()
}

func (e *endpoint) wakeLocked() {
	if e.proven != nil {
		close(e.proven)
		e.proven = nil
	}
}

// waitProven waits until a list of n suites has been answered at some
// version, or no elimination that could answer one is still running, or
// ctx is done.
func (e *endpoint) waitProven(ctx context.Context, n int) {
	for {
		e.mu.Lock()
		if e.longest >= n || e.elims <= 0 {
			e.mu.Unlock()
			return
		}
		if e.proven == nil {
			e.proven = make(chan struct{})
		}
		ch := e.proven
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

// prove records that a list of n suites was answered with a ServerHello.
func (vs *versionScan) prove(n int) {
	vs.proven = max(vs.proven, n)
	vs.e.noteProven(n)
}

// maxLen is the longest list to offer now.
func (vs *versionScan) maxLen() int {
	n := int(^uint(0) >> 1)
	if vs.ceiling > 0 {
		n = min(vs.ceiling-1, vs.trusted())
	}
	if vs.v == tls.VersionSSL30 && len(vs.accepted)+len(vs.cnc) == 0 {
		// Until SSLv3 is proven spoken, short hellos, or long ones no
		// longer than another version had answered: most servers refuse
		// it, and a long list refused at an unproven length would have to
		// be split again.
		if t := vs.trusted(); t >= sslv3MinLongSuites {
			n = min(n, t)
		} else {
			n = min(n, sslv3MaxSuites)
		}
	}
	return max(n, 1)
}

// offerable reports whether a hello of the version may list n suites: an
// SSLv3 hello cannot be padded, so its lists avoid the 256–511-byte range
// (sslv3Offerable).
func (vs *versionScan) offerable(n int) bool {
	return vs.v != tls.VersionSSL30 || sslv3Offerable(n)
}

// chunks cuts list into parts of at most m suites (maxLen when m is 0),
// each of an offerable length: for SSLv3 a list too short to be long and
// too long to be short is cut into lists of at most sslv3MaxSuites.
func (vs *versionScan) chunks(list []uint16, m int) [][]uint16 {
	if m <= 0 {
		m = vs.maxLen()
	}
	parts := split(list, m)
	for _, p := range parts {
		if !vs.offerable(len(p)) {
			return split(list, min(m, sslv3MaxSuites))
		}
	}
	return parts
}

// split cuts list into near-equal parts of at most n suites.
func split(list []uint16, n int) [][]uint16 {
	if len(list) <= n {
		return [][]uint16{list}
	}
	parts := (len(list) + n - 1) / n
	var out [][]uint16
	for i := range parts {
		lo, hi := i*len(list)/parts, (i+1)*len(list)/parts
		out = append(out, list[lo:hi:hi])
	}
	return out
}

// halves cuts list in two.
func halves(list []uint16) [][]uint16 { return split(list, (len(list)+1)/2) }

// enumerate runs the version's elimination, the poison check and the
// server order probe; finish ranks and assembles the result. Between the two, the
// endpoint settles the fragile decisions (endpoint.settle).
func (vs *versionScan) enumerate(ctx context.Context) {
	vs.pending = vs.firstLists(vs.onFirst != nil)
	vs.longLead = vs.onFirst != nil && len(vs.pending[0]) > firstChunk
	vs.loop(ctx)
	if vs.onFirst != nil {
		close(vs.onFirst) // no probe was sent (cancelled)
		vs.onFirst = nil
	}
	if vs.waited {
		vs.waited = false
		vs.e.elimDone()
	}
	if !vs.e.opts.versionsOnly(vs.v) && ctx.Err() == nil && !vs.stopped {
		if len(vs.accepted) >= 2 {
			vs.so, vs.soKnown = vs.serverOrder(ctx)
		}
		vs.poisonCheck(ctx, vs.soKnown && !vs.so)
		vs.certByOfferCheck(ctx)
		if len(vs.accepted) >= 2 && !vs.soKnown && ctx.Err() == nil {
			vs.so, vs.soKnown = vs.serverOrder(ctx)
		}
	}
	vs.enumerated = len(vs.accepted)
}

// finish ranks the accepted suites under server order and returns the
// result. When settling changed the accepted suites (accepted > the
// count enumerate ended with), the order is asked again.
func (vs *versionScan) finish(ctx context.Context) VersionResult {
	if len(vs.accepted) != vs.enumerated && !vs.e.opts.versionsOnly(vs.v) && ctx.Err() == nil {
		vs.so, vs.soKnown = false, false
		if len(vs.accepted) >= 2 {
			vs.so, vs.soKnown = vs.serverOrder(ctx)
		}
	}
	so, soKnown := vs.so, vs.soKnown
	r := vs.result()
	if r.Outcome == Accepted && soKnown && ctx.Err() == nil {
		r.ServerOrder = &so
		if so {
			rank := vs.rankSuites
			if vs.certByOffer != "" {
				rank = vs.rankByOffer
			}
			ranked, complete := rank(ctx)
			r.Suites, r.OrderIncomplete = ranked, !complete
			vs.chachaPriority(ctx, &r)
		}
	}
	return r
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (vs *versionScan) loop(ctx context.Context) {
	for !vs.stopped {
		if ctx.Err() != nil {
			vs.stop(ReasonCancelled)
			return
		}
		if len(vs.pending) == 0 {
			if len(vs.deferred) == 0 {
				return
			}
			d := vs.deferred[0]
			vs.deferred = vs.deferred[1:]
			vs.resolve(ctx, d.list, d.answer)
			continue
		}
		l := vs.pending[0]
		vs.pending = vs.pending[1:]
		if vs.v == tls.VersionSSL30 && len(vs.accepted)+len(vs.cnc) == 0 && len(l) > sslv3MaxSuites && vs.trusted() < len(l) {
			// A long SSLv3 list may go out once another version has
			// answered one as long (longProven).
			vs.e.waitProven(ctx, len(l))
		}
		if parts := vs.chunks(l, 0); len(parts) > 1 {
			vs.pending = append(parts, vs.pending...)
			continue
		}
		vs.eliminate(ctx, l)
	}
}

// firstAnswer is the lead version's first answer and the length of the
// list it answered (the seed of the other versions).
type firstAnswer struct {
	answer
	offered int
}

// restarts reports whether a is the answer to a versions-only lead's
// first list (every candidate) that makes it start over with the usual
// first list: a refusal that may be the length's (an alert other than
// protocol_version, a close, a reset). A timeout does not: it is handled
// as at any unproven length, and waiting for a second one would double
// what a tarpit costs.
func (vs *versionScan) restarts(a answer) bool {
	if !vs.longLead || vs.probes != 1 {
		return false
	}
	return a.kind == ansAlert && a.alert.Description != tls.AlertProtocolVersion || a.kind == ansClosed || a.kind == ansReset
}

// probeList offers list (no ChaCha20 suite first) and records an
// acceptance.
func (vs *versionScan) probeList(ctx context.Context, list []uint16, p purpose) answer {
	list = noChaChaFirst(list)
	if vs.probes == 0 {
		p = forVersion
	}
	vs.probes++
	hello, err := buildHello(helloParams{
		version: vs.v, suites: list, host: vs.e.target.Host, alpn: vs.e.target.Protocol.ALPN(),
		// Detecting TLS 1.3 alone, a key share gets the ServerHello that
		// proves it at once (a HelloRetryRequest must be retried).
		keyShare13: vs.e.opts.KeyShare13 || vs.e.opts.versionsOnly(vs.v), rand: vs.e.opts.Rand,
	})
	if err != nil {
		return answer{kind: ansMalformed, reason: err.Error()}
	}
	a := vs.e.probe(ctx, probeReq{purpose: p, version: vs.v, hello: hello, offered: list, alpn: len(vs.e.target.Protocol.ALPN()) > 0})
	if vs.onFirst != nil && !vs.restarts(a) {
		vs.onFirst <- firstAnswer{answer: a, offered: len(list)}
		close(vs.onFirst)
		vs.onFirst = nil
	}
	if a.kind == ansHello {
		vs.records = append(vs.records, probeRecord{offered: list, chosen: a.suite})
	}
	if a.spokeTLS() {
		vs.spoke++
	}
	return a
}

// eliminate offers l, removes the suite the server picks, and repeats
// until the server refuses.
func (vs *versionScan) eliminate(ctx context.Context, l []uint16) {
	for len(l) > 0 && !vs.stopped {
		if ctx.Err() != nil {
			vs.mark(l, Inconclusive, ReasonCancelled)
			vs.stop(ReasonCancelled)
			return
		}
		first := vs.probes == 0
		a := vs.probeList(ctx, l, forSuites)
		switch a.kind {
		case ansHello, ansIncomplete:
			vs.chosen(a)
			vs.prove(len(l))
			l = slices.DeleteFunc(slices.Clone(l), func(id uint16) bool { return id == a.suite })
			if vs.e.opts.versionsOnly(vs.v) && a.kind == ansHello {
				vs.stopped = true
				return
			}
			// Once a suite is accepted, the remaining lists are offered
			// together (speculatively longer than proven; a refusal of
			// that length is then checked with a canary).
			if vs.ceiling == 0 && len(vs.pending) > 0 {
				for _, p := range vs.pending {
					l = append(l, p...)
				}
				vs.pending = nil
			}
			if parts := vs.chunks(l, 0); len(parts) > 1 {
				vs.pending = append(parts, vs.pending...)
				return
			}
		case ansUnoffered, ansHigher:
			vs.mark(l, Inconclusive, a.reason)
			vs.stop(a.reason)
			return
		case ansCancelled:
			vs.mark(l, Inconclusive, a.reason)
			vs.stop(a.reason)
			return
		default:
			if vs.restarts(a) {
				// The versions-only lead's every candidate, refused at a
				// length no answer has proven: it starts over from the
				// usual first list, as if this one had not been sent
				// (firstLen).
				vs.longLead, vs.probes = false, 0
				vs.pending = append(vs.firstLists(false), vs.pending...)
				return
			}
			if first && (a.kind == ansLower || a.kind == ansAlert && a.alert.Description == tls.AlertProtocolVersion) {
				vs.refused = a.reason
				if a.kind == ansLower {
					vs.lowerTo = a.version
				}
				vs.stopped = true
				return
			}
			if a.kind == ansDialError && first {
				vs.mark(l, Inconclusive, a.reason)
				vs.stop(a.reason)
				return
			}
			switch {
			case len(l) <= vs.trusted() && a.outcome() == Rejected:
				vs.reject(l, a.reason)
				vs.noteFragile(l, a, false, false)
			case len(l) <= vs.trusted():
				// No answer at a length that is not in question: the
				// server will not answer this version's hellos (a
				// tarpit, a filter); probing on would only wait more.
				vs.mark(l, Inconclusive, a.reason)
				vs.stop(a.reason)
			default:
				vs.ambiguous(ctx, l, a)
			}
			return
		}
	}
}

// ambiguous handles an answer to a list longer than proven: a refusal may
// mean "nothing acceptable" or "too long"; a timeout may be a hang on the
// length.
func (vs *versionScan) ambiguous(ctx context.Context, l []uint16, a answer) {
	if a.kind == ansAlert && a.alert.Description == tls.AlertDecodeError && len(l) > trustedLen {
		// RFC 8446 §6.2: decode_error is "a message could not be
		// decoded"; to a list longer than proven it is the server
		// failing on the length (wolfSSL past 150 suites), not a
		// refusal of the suites: halve at once, no canary.
		vs.suspect(l)
		return
	}
	if a.outcome() == Rejected && (vs.ceiling == 0 || len(l) < vs.ceiling) {
		if len(vs.accepted) == 0 {
			vs.deferred = append(vs.deferred, pendingList{list: l, answer: a})
			return
		}
		vs.resolve(ctx, l, a)
		return
	}
	// No answer to a long list: it may be a hang on the length. A list
	// of trusted length comes first; if that is not answered either,
	// the version stops there.
	if vs.ceiling == 0 || len(l) < vs.ceiling {
		vs.ceiling = len(l)
	}
	n := min(len(l)-1, vs.trusted())
	vs.pending = append([][]uint16{l[:n:n], l[n:]}, vs.pending...)
}

// suspect notes that l may be too long and queues its halves.
func (vs *versionScan) suspect(l []uint16) {
	if vs.ceiling == 0 || len(l) < vs.ceiling {
		vs.ceiling = len(l)
	}
	if vs.proven > trustedLen {
		// Lists of the proven length are safe: fewer of them than
		// halving gives (wolfSSL: 369 suites in three lists of 123, not
		// four of 92).
		vs.pending = append(vs.chunks(l, 0), vs.pending...)
		return
	}
	vs.pending = append(halves(l), vs.pending...)
}

// resolve decides a refusal of l (the answer refusal) at an unproven
// length: final once the length is proven, else checked with a canary,
// else split.
func (vs *versionScan) resolve(ctx context.Context, l []uint16, refusal answer) {
	reason := refusal.reason
	switch {
	case len(l) <= vs.trusted():
		vs.reject(l, reason)
		vs.noteFragile(l, refusal, false, false)
	case vs.ceiling > 0 && len(l) >= vs.ceiling, len(vs.accepted) == 0, !vs.offerable(len(l) + 1):
		vs.suspect(l)
	default:
		// The canary: an accepted suite appended. If the server picks
		// it, the length is tolerated and nothing in l is acceptable.
		canary := vs.canary()
		a := vs.probeList(ctx, append(slices.Clone(l), canary), forSuites)
		switch {
		case a.kind == ansHello && a.suite == canary:
			vs.prove(len(l) + 1)
			vs.reject(l, reason)
		case a.kind == ansHello, a.kind == ansIncomplete:
			// The server changed its mind about l: go on eliminating.
			vs.chosen(a)
			vs.pending = append([][]uint16{slices.DeleteFunc(slices.Clone(l), func(id uint16) bool { return id == a.suite })}, vs.pending...)
		case a.kind == ansCancelled, a.kind == ansUnoffered, a.kind == ansHigher:
			vs.mark(l, Inconclusive, a.reason)
			vs.stop(a.reason)
		default:
			vs.suspect(l)
		}
	}
}

// canary is the accepted suite appended to check a refusal: a non-ChaCha20
// one when there is one.
func (vs *versionScan) canary() uint16 {
	for _, id := range vs.accepted {
		if !isChaCha(id) {
			return id
		}
	}
	return vs.accepted[0]
}

// chosen records the suite of a ServerHello: accepted, or chosen but not
// completed.
func (vs *versionScan) chosen(a answer) {
	if a.kind == ansIncomplete {
		if _, done := vs.status[a.suite]; !done {
			vs.cnc = append(vs.cnc, a.suite)
			vs.status[a.suite] = ChosenNotCompleted
			vs.reasons[a.suite] = a.reason
			vs.noteFragile([]uint16{a.suite}, a, true, false)
		}
		return
	}
	vs.accept(a.suite)
}

// reject marks the undecided candidates of l rejected after a refusal of
// exactly l, and notes which suspect parts the list lacked.
func (vs *versionScan) reject(l []uint16, reason string) {
	var has [3]bool
	ecdsa := false
	for _, id := range l {
		has[suspectPart(id)] = true
		ecdsa = ecdsa || authIs(id, "ECDSA")
	}
	for k, in := range has {
		if !in {
			for _, id := range l {
				vs.refusedWithout[k][id] = true
			}
		}
	}
	if !ecdsa {
		for _, id := range l {
			vs.refusedWithoutECDSA[id] = true
		}
	}
	vs.mark(l, Rejected, reason)
}

func (vs *versionScan) accept(id uint16) {
	if vs.status[id] != Accepted {
		vs.accepted = append(vs.accepted, id)
		vs.e.accepted(vs.v, id, nil)
	}
	vs.status[id] = Accepted
}

// mark decides the candidates of l that are still undecided.
func (vs *versionScan) mark(l []uint16, o Outcome, reason string) {
	for _, id := range l {
		if _, done := vs.status[id]; !done {
			vs.status[id] = o
			vs.reasons[id] = reason
		}
	}
}

// stop ends the enumeration: every undecided candidate is inconclusive.
func (vs *versionScan) stop(reason string) {
	vs.stopped = true
	for _, l := range vs.pending {
		vs.mark(l, Inconclusive, reason)
	}
	for _, d := range vs.deferred {
		vs.mark(d.list, Inconclusive, reason)
	}
	vs.pending, vs.deferred = nil, nil
}

// result assembles the VersionResult.
func (vs *versionScan) result() VersionResult {
	r := VersionResult{Version: vs.v, Candidates: len(vs.cands), Suites: []uint16{}}
	r.Suites = append(r.Suites, vs.accepted...)
	slices.SortStableFunc(r.Suites, func(a, b uint16) int { return vs.rank[a] - vs.rank[b] })
	if len(vs.cnc) > 0 {
		r.ChosenNotCompleted = slices.Clone(vs.cnc)
		slices.SortStableFunc(r.ChosenNotCompleted, func(a, b uint16) int { return vs.rank[a] - vs.rank[b] })
		r.ChosenNotCompletedReason = vs.reasons[r.ChosenNotCompleted[0]]
	}
	r.Poisons, r.PoisonReason = vs.poisons, vs.poisonReason
	r.CertByOffer = vs.certByOffer
	firstRejection := ""
	for _, id := range vs.cands {
		switch vs.status[id] {
		case Inconclusive:
			r.Inconclusive = append(r.Inconclusive, id)
			if r.InconclusiveReason == "" {
				r.InconclusiveReason = vs.reasons[id]
			}
		case Rejected:
			if firstRejection == "" {
				firstRejection = vs.reasons[id]
			}
		}
	}
	switch {
	case len(vs.accepted) > 0:
		r.Outcome = Accepted
		if vs.e.opts.versionsOnly(vs.v) {
			r.Inconclusive, r.InconclusiveReason = nil, ""
		}
	case vs.refused != "":
		r.Outcome, r.Reason = Rejected, vs.refused
		r.lowerTo = vs.lowerTo
		r.Inconclusive, r.InconclusiveReason = nil, ""
	case len(vs.cnc) > 0 && len(r.Inconclusive) == 0:
		// The server speaks the version but completes none of the suites
		// it chooses: no client gets a handshake at it.
		r.Outcome = Rejected
		r.Reason = "every suite the server chose failed before ServerHelloDone: " + r.ChosenNotCompletedReason
	case len(r.Inconclusive) == 0 && firstRejection != "":
		r.Outcome, r.Reason = Rejected, firstRejection
	default:
		r.Outcome, r.Reason = Inconclusive, r.InconclusiveReason
		if r.Reason == "" {
			r.Reason = ReasonNotProbed
		}
	}
	return r
}

// beats reports whether a recorded probe shows x above y in the server's
// order: x chosen while y was offered. Records whose first suite is a
// ChaCha20 suite are ignored unless every offered suite is one (a server
// with PRIORITIZE_CHACHA follows the client there).
func (vs *versionScan) beats(x, y uint16) bool {
	for _, r := range vs.records {
		if r.chosen == x && slices.Contains(r.offered, y) && vs.validRecord(r) {
			return true
		}
	}
	return false
}

func (vs *versionScan) validRecord(r probeRecord) bool {
	return !isChaCha(r.offered[0]) || !slices.ContainsFunc(r.offered, func(id uint16) bool { return !isChaCha(id) })
}

// pairProbe offers exactly list and returns the suite chosen, or false.
func (vs *versionScan) pairProbe(ctx context.Context, list []uint16) (uint16, bool) {
	hello, err := buildHello(helloParams{
		version: vs.v, suites: list, host: vs.e.target.Host, alpn: vs.e.target.Protocol.ALPN(),
		keyShare13: vs.e.opts.KeyShare13, rand: vs.e.opts.Rand,
	})
	if err != nil {
		return 0, false
	}
	a := vs.e.probe(ctx, probeReq{purpose: forOrder, version: vs.v, hello: hello, offered: list, alpn: len(vs.e.target.Protocol.ALPN()) > 0})
	if a.kind != ansHello {
		return 0, false
	}
	vs.records = append(vs.records, probeRecord{offered: list, chosen: a.suite})
	return a.suite, true
}

// serverOrder decides whether the server enforces its own order: proven
// by the elimination itself when the server once chose a suite offered
// after another accepted one; otherwise one probe offers a pair the
// elimination saw in our order reversed (two probes when it saw none).
func (vs *versionScan) serverOrder(ctx context.Context) (bool, bool) {
	var pairs [][2]uint16 // chosen, accepted offered after it
	for _, rec := range vs.records {
		if !vs.validRecord(rec) {
			continue
		}
		at := slices.Index(rec.offered, rec.chosen)
		for i, y := range rec.offered {
			if y == rec.chosen || vs.status[y] != Accepted {
				continue
			}
			if i < at {
				return true, true
			}
			pairs = append(pairs, [2]uint16{rec.chosen, y})
		}
	}
	// Prefer a pair without ChaCha20, which PRIORITIZE_CHACHA would
	// muddle.
	slices.SortStableFunc(pairs, func(a, b [2]uint16) int {
		return boolInt(isChaCha(a[0]) || isChaCha(a[1])) - boolInt(isChaCha(b[0]) || isChaCha(b[1]))
	})
	if len(pairs) > 0 {
		c, y := pairs[0][0], pairs[0][1]
		got, ok := vs.pairProbe(ctx, []uint16{y, c})
		switch {
		case ok && got == c:
			return true, true
		case ok && got == y:
			return false, true
		}
		return false, false
	}
	x, y := vs.accepted[0], vs.accepted[1]
	a, ok1 := vs.pairProbe(ctx, []uint16{x, y})
	b, ok2 := vs.pairProbe(ctx, []uint16{y, x})
	if !ok1 || !ok2 {
		return false, false
	}
	return a == b, true
}

// rankSuites returns the accepted suites in the server's order. The
// elimination sequence is cut into runs in which each suite was offered
// when its predecessor was chosen (so each run is in the server's order);
// the runs are merged by binary insertion, asking the server with a
// two-suite probe only when no record decides.
func (vs *versionScan) rankSuites(ctx context.Context) ([]uint16, bool) {
	var runs [][]uint16
	for i, id := range vs.accepted {
		if i > 0 && vs.beats(vs.accepted[i-1], id) {
			runs[len(runs)-1] = append(runs[len(runs)-1], id)
			continue
		}
		runs = append(runs, []uint16{id})
	}
	slices.SortStableFunc(runs, func(a, b []uint16) int { return len(b) - len(a) })
	// Binary insertion asks about log₂ of the merged length per suite of
	// the shorter runs; merging by the runs' heads at most one hello per
	// suite placed. Take the cheaper (wolfSSL, whose lists of at most 150
	// suites make runs of similar lengths: heads).
	insertCost, n := 0, len(runs[0])
	for _, run := range runs[1:] {
		insertCost += len(run) * bits.Len(uint(n))
		n += len(run)
	}
	if len(runs) > 1 && insertCost > len(vs.accepted)-1 {
		return vs.mergeHeads(ctx, runs)
	}
	complete := true
	above := func(x, y uint16) bool {
		if above, known := vs.decided(x, y); known {
			return above
		}
		if ctx.Err() != nil {
			complete = false
			return false
		}
		got, ok := vs.pairProbe(ctx, noChaChaFirst([]uint16{x, y}))
		if !ok {
			complete = false
			return false
		}
		return got == x
	}
	out := slices.Clone(runs[0])
	for _, run := range runs[1:] {
		pos := 0
		for _, x := range run {
			i := pos + sort.Search(len(out)-pos, func(i int) bool { return above(x, out[pos+i]) })
			out = slices.Insert(out, i, x)
			pos = i + 1
		}
	}
	return out, complete
}

// decided reports whether the records show x above y or y above x,
// directly or through one other accepted suite.
func (vs *versionScan) decided(x, y uint16) (above, known bool) {
	if vs.beats(x, y) {
		return true, true
	}
	if vs.beats(y, x) {
		return false, true
	}
	for _, z := range vs.accepted {
		if vs.beats(x, z) && vs.beats(z, y) {
			return true, true
		}
		if vs.beats(y, z) && vs.beats(z, x) {
			return false, true
		}
	}
	return false, false
}

// mergeHeads merges runs (each in the server's order) by their heads: the
// next suite of the order is the head the records put above every other
// head, or the one the server chooses from a hello offering the heads.
func (vs *versionScan) mergeHeads(ctx context.Context, runs [][]uint16) ([]uint16, bool) {
	runs = slices.Clone(runs)
	var out []uint16
	for {
		runs = slices.DeleteFunc(runs, func(r []uint16) bool { return len(r) == 0 })
		if len(runs) <= 1 {
			for _, r := range runs {
				out = append(out, r...)
			}
			return out, true
		}
		best := -1
		for i := range runs {
			top := true
			for j := range runs {
				if above, known := vs.decided(runs[i][0], runs[j][0]); j != i && (!known || !above) {
					top = false
					break
				}
			}
			if top {
				best = i
				break
			}
		}
		if best < 0 {
			heads := make([]uint16, len(runs))
			for i, r := range runs {
				heads[i] = r[0]
			}
			var got uint16
			ok := ctx.Err() == nil
			if ok {
				got, ok = vs.pairProbe(ctx, noChaChaFirst(heads))
			}
			if best = slices.Index(heads, got); !ok || best < 0 {
				for _, r := range runs {
					out = append(out, r...)
				}
				return out, false
			}
		}
		out = append(out, runs[best][0])
		runs[best] = runs[best][1:]
	}
}

// rankByOffer ranks the accepted suites as a client offering all those
// not ranked yet gets them, one hello per rank. It replaces rankSuites
// when the server picks its certificate by the offer (certByOffer): its
// choices between pairs then need not make one order (an anonymous suite
// it ranks above an ECDSA suite, that ECDSA suite above an RSA one, and
// the RSA one above the anonymous suite, chosen without ECDSA suites).
func (vs *versionScan) rankByOffer(ctx context.Context) ([]uint16, bool) {
	rest := slices.Clone(vs.accepted)
	slices.SortStableFunc(rest, func(a, b uint16) int { return vs.rank[a] - vs.rank[b] })
	var out []uint16
	for len(rest) > 1 && ctx.Err() == nil && vs.offerable(len(rest)) {
		next, ok := vs.recordedRank(rest)
		if !ok {
			a := vs.probeList(ctx, rest, forOrder)
			if a.kind != ansHello || !slices.Contains(rest, a.suite) {
				return append(out, rest...), false
			}
			next = a.suite
		}
		out = append(out, next)
		rest = slices.DeleteFunc(rest, func(id uint16) bool { return id == next })
	}
	return append(out, rest...), len(rest) <= 1
}

// recordedRank returns the choice of an earlier probe that asked what a
// rank probe offering rest would: its accepted suites are exactly rest,
// and it listed an ECDSA-authenticated suite exactly when rest does (the
// other suites it listed are ones the server never chooses; only an ECDSA
// one changes its certificate, hence its choice).
func (vs *versionScan) recordedRank(rest []uint16) (uint16, bool) {
	ecdsa := func(id uint16) bool { return authIs(id, "ECDSA") }
	wantECDSA := slices.ContainsFunc(rest, ecdsa)
	for _, r := range vs.records {
		if !slices.Contains(rest, r.chosen) || slices.ContainsFunc(r.offered, ecdsa) != wantECDSA {
			continue
		}
		n := 0
		for _, id := range r.offered {
			if vs.status[id] == Accepted {
				if !slices.Contains(rest, id) {
					n = -1
					break
				}
				n++
			}
		}
		if n == len(rest) {
			return r.chosen, true
		}
	}
	return 0, false
}

// chachaPriority probes, when the server's order puts an AES suite above a
// ChaCha20 one, whether a client listing ChaCha20 first gets it.
func (vs *versionScan) chachaPriority(ctx context.Context, r *VersionResult) {
	ic := slices.IndexFunc(r.Suites, isChaCha)
	ia := slices.IndexFunc(r.Suites, func(id uint16) bool {
		s, ok := ciphers.ByID(id)
		return ok && s.Enc == "AES"
	})
	if ic < 0 || ia < 0 || ia > ic {
		return
	}
	c := r.Suites[ic]
	hello, err := buildHello(helloParams{
		version: vs.v, suites: []uint16{c, r.Suites[ia]}, host: vs.e.target.Host, alpn: vs.e.target.Protocol.ALPN(),
		keyShare13: vs.e.opts.KeyShare13, rand: vs.e.opts.Rand,
	})
	if err != nil {
		return
	}
	a := vs.e.probe(ctx, probeReq{purpose: forOrder, version: vs.v, hello: hello, offered: []uint16{c, r.Suites[ia]}, alpn: len(vs.e.target.Protocol.ALPN()) > 0})
	if a.kind == ansHello {
		yes := a.suite == c
		r.ChaChaPriority = &yes
	}
}

// poisonCheck looks for suites that a refused list hid (docs/scan-
// algorithm.md, "Poisoned lists"): a server that fails the whole hello
// when it meets a suite it cannot carry out (GnuTLS with PSK suites
// enabled and no PSK credentials) refuses lists that also hold suites it
// accepts. The suspects are the suites that need a credential besides the
// certificate (suspectPart 1: anonymous, SRP, Kerberos, password; 2: PSK).
// For each suspect part, the rejected candidates that were never refused
// in a list without that part are offered again without it. An answer
// means the part poisoned the earlier refusals: the chosen suite is
// recorded, the rest of that list eliminated as usual, and a poison of
// the part named by bisection. Under client order (clientOrder) only part
// 1 is left out: the candidates list the PSK suites last, so they can hide
// nothing from a server that follows the client's order.
func (vs *versionScan) poisonCheck(ctx context.Context, clientOrder bool) {
	if len(vs.accepted)+len(vs.cnc) == 0 {
		return
	}
	parts := []int{1, 2}
	if clientOrder {
		parts = []int{1}
	}
	for round := 0; round < 4 && !vs.stopped && ctx.Err() == nil; round++ {
		found := false
		for _, k := range parts {
			if !slices.ContainsFunc(vs.cands, func(id uint16) bool { return vs.status[id] == Rejected && suspectPart(id) == k }) {
				continue // nothing of the part was refused: it poisoned nothing
			}
			var offer []uint16
			for _, id := range vs.cands {
				if vs.status[id] == Rejected && suspectPart(id) != k && !vs.refusedWithout[k][id] {
					offer = append(offer, id)
				}
			}
			if len(offer) == 0 {
				continue
			}
			for _, chunk := range vs.chunks(offer, 0) {
				if x, ok := vs.unpoison(ctx, chunk, k); ok {
					found = true
					vs.namePoison(ctx, k, x)
				}
				if vs.stopped || ctx.Err() != nil {
					return
				}
			}
		}
		if !found {
			return
		}
	}
}

// unpoison offers chunk, a list of rejected candidates without suspect
// part k. When the server chooses one of them, the earlier refusals were
// poisoned: the chunk is undecided again and eliminated, and the choice is
// returned.
func (vs *versionScan) unpoison(ctx context.Context, chunk []uint16, k int) (uint16, bool) {
	a := vs.probeList(ctx, chunk, forPoison)
	switch {
	case a.kind == ansHello || a.kind == ansIncomplete:
		vs.undecide(chunk)
		vs.chosen(a)
		vs.prove(len(chunk))
		if rest := slices.DeleteFunc(slices.Clone(chunk), func(id uint16) bool { return id == a.suite }); len(rest) > 0 {
			vs.pending = append(vs.pending, rest)
			vs.loop(ctx)
		}
		return a.suite, true
	case a.outcome() == Rejected:
		vs.reject(chunk, a.reason)
		vs.noteFragile(chunk, a, false, true)
	default:
		// Neither answered nor refused: the earlier refusal is not
		// confirmed.
		for _, id := range chunk {
			vs.status[id], vs.reasons[id] = Inconclusive, "poison check: "+a.reason
		}
		if a.kind == ansCancelled {
			vs.stop(a.reason)
		}
	}
	return 0, false
}

// certByOfferCheck looks for suites a certificate choice hid (docs/scan-
// algorithm.md, "Certificates chosen by the offer"): a server with an RSA
// and an ECDSA certificate that picks one from the whole hello before it
// picks a suite (haproxy with both on one bind) gives every hello listing
// an ECDSA-authenticated suite its ECDSA certificate, and refuses it when
// none of the ECDSA suites it accepts is left in it: its RSA suites read
// as refused. When the version accepted or chose an ECDSA suite and no
// RSA or DSS one, the rejected certificate suites of another
// authentication that were never refused in a list without ECDSA suites
// are offered again without them (in lists of the proven length). A
// refusal confirms them; an answer is recorded, the rest eliminated as
// usual, and the result says so (VersionResult.CertByOffer).
func (vs *versionScan) certByOfferCheck(ctx context.Context) {
	if vs.stopped || ctx.Err() != nil {
		return
	}
	found := slices.Concat(vs.accepted, vs.cnc)
	if !slices.ContainsFunc(found, func(id uint16) bool { return authIs(id, "ECDSA") }) ||
		slices.ContainsFunc(found, func(id uint16) bool { return authIs(id, "RSA") || authIs(id, "DSS") }) {
		return
	}
	var offer []uint16
	for _, id := range vs.cands {
		if vs.status[id] == Rejected && suspectPart(id) == 0 && !authIs(id, "ECDSA") && !vs.refusedWithoutECDSA[id] {
			offer = append(offer, id)
		}
	}
	for _, chunk := range vs.chunks(offer, 0) {
		// Suites found from an earlier chunk may have decided some.
		chunk = slices.DeleteFunc(slices.Clone(chunk), func(id uint16) bool { return vs.status[id] != Rejected })
		if len(chunk) == 0 {
			continue
		}
		for _, c := range vs.chunks(chunk, 0) {
			if x, ok := vs.unpoison(ctx, c, 0); ok && vs.certByOffer == "" {
				vs.certByOffer = fmt.Sprintf("a hello without ECDSA suites gets 0x%04X, refused while an ECDSA suite is listed: the server picks its certificate by the offer", x)
			}
			if vs.stopped || ctx.Err() != nil {
				return
			}
		}
	}
}

// authIs reports whether suite id's server authentication is auth
// (ciphers.Suite.Auth).
func authIs(id uint16, auth string) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Auth == auth
}

// undecide makes rejected candidates of l undecided again.
func (vs *versionScan) undecide(l []uint16) {
	for _, id := range l {
		if vs.status[id] == Rejected {
			delete(vs.status, id)
			delete(vs.reasons, id)
		}
	}
}

// namePoison finds one suite of suspect part k that makes the server
// refuse a hello also listing x, which it chooses without part k: the
// rejected part-k candidates are offered with x appended, in lists of the
// proven length, and a refused one is bisected down to one suite. A hello
// refused with the poison and x, where x alone (or with harmless suites)
// is chosen, names the poison.
func (vs *versionScan) namePoison(ctx context.Context, k int, x uint16) {
	var q []uint16
	for _, id := range vs.cands {
		if vs.status[id] == Rejected && suspectPart(id) == k {
			q = append(q, id)
		}
	}
	if len(q) == 0 {
		return
	}
	// try offers part (x appended): true when refused.
	try := func(part []uint16) (refused bool, reason string, ok bool) {
		a := vs.probeList(ctx, append(slices.Clone(part), x), forPoison)
		switch {
		case (a.kind == ansHello || a.kind == ansIncomplete) && a.suite == x:
			return false, "", true
		case a.kind == ansHello || a.kind == ansIncomplete:
			// A suite of the part is chosen after all: eliminate the
			// part again.
			vs.undecide(part)
			vs.chosen(a)
			if rest := slices.DeleteFunc(slices.Clone(part), func(id uint16) bool { return id == a.suite }); len(rest) > 0 {
				vs.pending = append(vs.pending, rest)
				vs.loop(ctx)
			}
			return false, "", false
		case a.outcome() == Rejected && a.drop == dropNone:
			return true, a.reason, true
		}
		// A drop names no poison: a flaky connection refuses anything.
		return false, "", false
	}
	// A poison another version named: one hello confirms it here.
	vs.e.poisonMu.Lock()
	defer vs.e.poisonMu.Unlock()
	vs.e.mu.Lock()
	known := slices.Clone(vs.e.poisons[k])
	vs.e.mu.Unlock()
	for _, p := range known {
		if !slices.Contains(q, p) {
			continue
		}
		refused, reason, ok := try([]uint16{p})
		if !ok {
			return
		}
		if refused {
			vs.named(k, p, x, reason)
			return
		}
	}
	m := max(vs.maxLen()-1, 1)
	if vs.v == tls.VersionSSL30 {
		m = min(m, sslv3MaxSuites-1) // x appended, and halves offerable
	}
	for _, chunk := range vs.chunks(q, m) {
		refused, reason, ok := try(chunk)
		if !ok {
			return
		}
		if !refused {
			continue
		}
		for len(chunk) > 1 {
			h := chunk[:len(chunk)/2]
			r, why, ok := try(h)
			if !ok {
				return
			}
			if r {
				chunk, reason = h, why
			} else {
				chunk = chunk[len(chunk)/2:]
			}
		}
		vs.named(k, chunk[0], x, reason)
		return
	}
}

// named records p, of suspect part k, as a poison: a hello listing p and
// x was refused with reason, x is chosen without p's kind.
func (vs *versionScan) named(k int, p, x uint16, reason string) {
	if !slices.Contains(vs.poisons, p) {
		vs.poisons = append(vs.poisons, p)
	}
	if vs.poisonReason == "" {
		vs.poisonReason = fmt.Sprintf("a hello listing 0x%04X and 0x%04X is refused (%s); without 0x%04X's kind the server chooses 0x%04X", p, x, reason, p, x)
	}
	vs.e.mu.Lock()
	if !slices.Contains(vs.e.poisons[k], p) {
		vs.e.poisons[k] = append(vs.e.poisons[k], p)
	}
	vs.e.mu.Unlock()
}
