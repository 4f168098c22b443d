package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/sniff"
	"github.com/tlsmap/tlsmap/store"
)

// storeHint follows an error opening a store.
const storeHint = "--store takes an SQLite file (created when missing) or a postgres://user@host/db URL"

// sniffStore stores what one sniff run reads (--store): a source per
// capture file (known by its content fingerprint, store.FileContent), per
// stream or per live capture, each read by a sniffer of its own so that a
// file's records and counters are its alone.
//
// A capture file's source is begun in the background (its content
// fingerprinted, the store opened the first time, its schema migrated,
// the file claimed) while its sniffer already reads: the facts of the flows reported meanwhile are
// held, in order, and stored once the source is in. A failed begin stops
// the sniffer (cancel) and is the run's error.
type sniffStore struct {
	dsn     string
	st      *store.Store // nil until the first begin is in
	fp      sniff.Fingerprints
	records bool // --store-flows
	batch   int
	stderr  io.Writer

	settings string
	live     *sniff.LiveSource // for its kernel's drops
	in       *store.Ingest
	// active is false while flows must not be stored: the ones an
	// interruption flushes out early (a later run of the same file goes
	// on after the records stored, in the order a whole run emits them),
	// and those of a file stored before.
	active bool
	stream *store.StreamContent // the stream's fingerprint, as it is read
	spec   store.SourceSpec
	facts  []store.Fact // a flow's facts, reused
	record []byte       // a flow's --store-flows record, reused
	err    error

	// pending is the begin running in the background (nil: none); held
	// are the facts reported since it started; cancel stops the sniffer
	// reading the source when the begin fails.
	pending chan beginResult
	held    []store.Fact
	cancel  context.CancelCauseFunc

	// queue carries the reported flows, in order, to the goroutine that
	// stores them (storeFlows; nil: none runs), so that their facts,
	// records and batches are made beside the sniffer instead of on its
	// goroutine; done is closed when that goroutine has stored the last.
	// They go in handoffs of up to handoff flows (next: the one being
	// filled), so that the goroutine is not woken for every flow: a
	// wake-up costs more than a small flow's facts.
	// Every method but flow first waits for it (drain): only flow runs
	// while the goroutine does, and it touches nothing of ss but queue
	// and next.
	queue   chan []*sniff.Flow
	done    chan struct{}
	next    []*sniff.Flow
	handoff int
}

// Flows per handoff: one for a live capture, whose flows come as they
// end (a partial handoff would wait for the next ones); more for a file.
const (
	fileHandoff  = 256
	queueHandoff = 8 // handoffs that may wait before the sniffer does
)

// beginResult is what a background begin gives: the store (opened by
// the first one), and the source's ingest, or that the file was stored
// before, or an error.
type beginResult struct {
	st      *store.Store
	in      *store.Ingest
	already *store.AlreadyStoredError
	err     error
	ctxDone bool // the begin ended because ctx did (an interruption)
}

// storeOpenError is a store that could not be opened: its hint is
// storeHint.
type storeOpenError struct{ err error }

func (e *storeOpenError) Error() string { return e.err.Error() }
func (e *storeOpenError) Unwrap() error { return e.err }

func openSniffStore(o *sniffFlags, fp sniff.Fingerprints, live *sniff.LiveSource, stderr io.Writer) *sniffStore {
	ss := &sniffStore{dsn: o.store, fp: fp, records: o.storeFlows, batch: o.storeBatch, stderr: stderr, live: live}
	// What decides the records a capture yields, and their order: the
	// same file read with other settings cannot go on where an
	// interrupted run stopped.
	ss.settings = fmt.Sprintf("sniff tlsmap=%s max-flows=%d idle-timeout=%s filter=%s flows=%t",
		version, o.maxFlows, o.idleTimeout, filterString(&o.filter), o.storeFlows)
	return ss
}

func filterString(f *sniff.Filter) string {
	var parts []string
	for _, h := range f.Hosts {
		parts = append(parts, "host:"+h.String())
	}
	for _, n := range f.Nets {
		parts = append(parts, "net:"+n.String())
	}
	for _, p := range f.Ports {
		parts = append(parts, fmt.Sprint("port:", p))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

func (ss *sniffStore) close() {
	ss.drain()
	if ss.pending != nil {
		ss.poll(true)
	}
	if ss.st != nil {
		ss.st.Close()
	}
}

// beginFile starts storing the capture file name ("-": standard input,
// fingerprinted as it is read: stdin is then to be read through
// ss.stdin), in the background (ss.poll takes the result): a file's
// content fingerprint is taken there too, beside the sniffer that
// already reads it. A file stored before is read for the report but not
// stored again.
func (ss *sniffStore) beginFile(ctx context.Context, name string) {
	ss.drain()
	ss.spec = store.SourceSpec{Name: name, Settings: ss.settings, Tool: version}
	ss.active = true
	if name == "-" {
		ss.spec.Kind = store.KindStream
		ss.stream = &store.StreamContent{}
	} else {
		ss.spec.Kind = store.KindCapture
	}
	pending := make(chan beginResult, 1)
	ss.pending = pending
	go func(st *store.Store, spec store.SourceSpec) {
		if spec.Kind == store.KindCapture {
			var err error
			if spec.Content, spec.Size, err = store.FileContent(spec.Name); err != nil {
				pending <- beginResult{st: st, err: err}
				return
			}
		}
		pending <- ss.begin(ctx, st, spec)
	}(ss.st, ss.spec)
}

// beginLive starts storing a live capture (at once: a live capture
// runs for long).
func (ss *sniffStore) beginLive(ctx context.Context, iface string) error {
	ss.drain()
	ss.spec = store.SourceSpec{Kind: store.KindLive, Name: iface, Settings: ss.settings, Tool: version}
	ss.active = true
	ss.pending = make(chan beginResult, 1)
	ss.pending <- ss.begin(ctx, ss.st, ss.spec)
	ss.poll(true)
	return ss.err
}

// begin opens the store when st is nil and begins the ingest of spec.
// It touches nothing of ss but its settings: it runs beside the sniffer.
func (ss *sniffStore) begin(ctx context.Context, st *store.Store, spec store.SourceSpec) beginResult {
	r := beginResult{st: st}
	if st == nil {
		var err error
		if r.st, err = store.Open(ctx, ss.dsn); err != nil {
			r.err, r.ctxDone = &storeOpenError{err}, ctx.Err() != nil
			return r
		}
	}
	in, err := r.st.Begin(ctx, spec, store.IngestOptions{BatchRecords: ss.batch, Records: ss.records, Pipelined: true})
	if errors.As(err, &r.already) {
		return r
	}
	r.in, r.err, r.ctxDone = in, err, err != nil && ctx.Err() != nil
	return r
}

// poll takes the background begin's result when it is in (wait: waits
// for it), stores the facts held meanwhile, and reports a failure: it
// stops the sniffer, and is the run's error. A begin cut by an
// interruption stores nothing and is no error of its own.
func (ss *sniffStore) poll(wait bool) {
	var r beginResult
	if wait {
		r = <-ss.pending
	} else {
		select {
		case r = <-ss.pending:
		default:
			return
		}
	}
	ss.pending = nil
	held := ss.held
	ss.held = nil
	if r.st != nil {
		ss.st = r.st
	}
	switch {
	case r.ctxDone:
		ss.active = false
		return
	case r.err != nil:
		ss.active = false
		if ss.err == nil {
			ss.err = r.err
		}
		if ss.cancel != nil {
			ss.cancel(r.err)
		}
		return
	case r.already != nil:
		fmt.Fprintf(ss.stderr, "tlsmap: %s is in the store already (source %d, %d records): reported, not stored again\n",
			ss.spec.Name, r.already.Source.ID, r.already.Source.Records)
		ss.active = false
		return
	}
	if n := r.in.Resumed(); n > 0 {
		fmt.Fprintf(ss.stderr, "tlsmap: %s: an earlier run stored its first %d records; going on after them\n", ss.spec.Name, n)
	}
	ss.in = r.in
	// The flows reported before the source was in, in their order (an
	// interruption since then stopped only the later ones).
	for i := range held {
		if ss.err != nil {
			break
		}
		ss.err = ss.in.Add(context.Background(), &held[i])
	}
}

// stdin wraps standard input so that a stream's fingerprint is taken as
// it is read.
func (ss *sniffStore) stdin(r io.Reader) io.Reader {
	if ss.stream == nil {
		return r
	}
	return io.TeeReader(r, ss.stream)
}

// flow stores one reported flow: it queues it for the goroutine that
// stores the flows, started by the first. A sniffer makes a Flow anew
// for each connection and touches it no more once reported, so the
// goroutine reads it beside the handler's other readers.
func (ss *sniffStore) flow(ctx context.Context, f *sniff.Flow) {
	if ss.queue == nil {
		ss.handoff = fileHandoff
		if ss.live != nil {
			ss.handoff = 1
		}
		ss.queue, ss.done = make(chan []*sniff.Flow, queueHandoff), make(chan struct{})
		go ss.storeFlows(ctx, ss.queue, ss.done)
	}
	if ss.next == nil {
		ss.next = make([]*sniff.Flow, 0, ss.handoff)
	}
	ss.next = append(ss.next, f)
	if len(ss.next) >= ss.handoff {
		ss.queue <- ss.next
		ss.next = nil
	}
}

// storeFlows stores the flows of q in order, until q is closed.
func (ss *sniffStore) storeFlows(ctx context.Context, q <-chan []*sniff.Flow, done chan<- struct{}) {
	defer close(done)
	for fs := range q {
		for _, f := range fs {
			ss.storeFlow(ctx, f)
		}
	}
}

// drain waits until every flow reported is stored, and stops the
// goroutine storing them.
func (ss *sniffStore) drain() {
	if ss.queue == nil {
		return
	}
	if len(ss.next) > 0 {
		ss.queue <- ss.next
	}
	ss.next = nil
	close(ss.queue)
	<-ss.done
	ss.queue, ss.done = nil, nil
}

// stopStoring stores the flows reported so far, and none after: those an
// interruption flushes out early.
func (ss *sniffStore) stopStoring() {
	ss.drain()
	ss.active = false
}

// setCancel sets the function that stops the current source's sniffer
// when its begin fails (nil: none).
func (ss *sniffStore) setCancel(cancel context.CancelCauseFunc) {
	ss.drain()
	ss.cancel = cancel
}

// storeFlow stores one reported flow.
func (ss *sniffStore) storeFlow(ctx context.Context, f *sniff.Flow) {
	if ss.pending != nil {
		ss.poll(false)
	}
	if !ss.active || ss.err != nil {
		return
	}
	label := ""
	if ss.fp != nil {
		label = ss.fp.Label(f)
	}
	ss.facts = store.FlowFacts(ss.facts[:0], f, label)
	for i := range ss.facts {
		fact := ss.facts[i]
		if ss.records && !fact.Unread && i == 0 {
			// The bytes of json.Marshal, in a buffer of ss's (the
			// ingest copies what it keeps).
			r := output.NewFlowRecord(f, label)
			ss.record = r.AppendJSON(ss.record[:0])
			fact.Record = ss.record
		}
		ss.add(ctx, fact)
	}
}

// add stores one fact.
func (ss *sniffStore) add(ctx context.Context, fact store.Fact) {
	if ss.pending != nil {
		// Held until the source is in: FlowFacts' slices are the flow's,
		// the record is ss's buffer.
		fact.Offered = slices.Clone(fact.Offered)
		fact.OfferedCiphers = slices.Clone(fact.OfferedCiphers)
		fact.Record = slices.Clone(fact.Record)
		ss.held = append(ss.held, fact)
		return
	}
	if ss.in == nil || ss.err != nil {
		return
	}
	// A batch full at the interruption is still committed.
	ss.err = ss.in.Add(context.WithoutCancel(ctx), &fact)
}

// finish ends the current source: complete when it was read to its end.
// st are its sniffer's counters. ctx may be done (interrupted): the last
// commit gets a few seconds of its own.
func (ss *sniffStore) finish(complete bool, st sniff.Stats) error {
	ss.drain()
	if ss.pending != nil {
		ss.poll(true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := ss.in
	ss.in, ss.active = nil, false
	if ss.err != nil {
		err := ss.err
		ss.err = nil
		if in != nil {
			in.Finish(ctx, store.StateInterrupted, "")
		}
		return err
	}
	if in == nil {
		return nil
	}
	var drops uint64
	if ss.live != nil {
		if ks, err := ss.live.Stats(); err == nil {
			drops = ks.Drops
		}
	}
	in.SetStats(summaryJSON(st, drops))
	state := store.StateComplete
	if !complete {
		state = store.StateInterrupted
	}
	content := ""
	if ss.stream != nil {
		if complete {
			content, _ = ss.stream.Content()
		}
		ss.stream = nil
	}
	if err := in.Finish(ctx, state, content); err != nil {
		return err
	}
	src := in.Source()
	if !complete {
		fmt.Fprintf(ss.stderr, "tlsmap: %s: %d records stored before the interruption; run the same command again to go on\n", src.Name, src.Records)
	}
	if dup, ok, err := in.Duplicate(ctx); err == nil && ok {
		fmt.Fprintf(ss.stderr, "warning: the same bytes were stored before as %s (source %d): standard input is not deduplicated, so they now count twice; give the file by name\n", dup.Name, dup.ID)
	}
	return nil
}

// abort marks the current source interrupted after an error.
func (ss *sniffStore) abort(st sniff.Stats) {
	ss.finish(false, st)
}

// summaryJSON is a sniffer's coverage record (tlsmap.sniff.summary/1):
// what it read and what it could not see, as the source's stats.
func summaryJSON(st sniff.Stats, kernelDrops uint64) json.RawMessage {
	b, err := json.Marshal(output.NewSummaryRecord(output.NewCoverage(st, kernelDrops)))
	if err != nil {
		b, _ = json.Marshal(map[string]string{"stats": fmt.Sprintf("%+v", st)})
	}
	return b
}
