package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
type sniffStore struct {
	st      *store.Store
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
	err    error
}

func openSniffStore(ctx context.Context, o *sniffFlags, fp sniff.Fingerprints, live *sniff.LiveSource, stderr io.Writer) (*sniffStore, error) {
	st, err := store.Open(ctx, o.store)
	if err != nil {
		return nil, err
	}
	ss := &sniffStore{st: st, fp: fp, records: o.storeFlows, batch: o.storeBatch, stderr: stderr, live: live}
	// What decides the records a capture yields, and their order: the
	// same file read with other settings cannot go on where an
	// interrupted run stopped.
	ss.settings = fmt.Sprintf("sniff tlsmap=%s max-flows=%d idle-timeout=%s filter=%s flows=%t",
		version, o.maxFlows, o.idleTimeout, filterString(&o.filter), o.storeFlows)
	return ss, nil
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

func (ss *sniffStore) close() { ss.st.Close() }

// beginFile starts storing the capture file name ("-": standard input,
// fingerprinted as it is read: stdin is then to be read through
// ss.stdin). A file stored before is read for the report but not stored
// again.
func (ss *sniffStore) beginFile(ctx context.Context, name string) error {
	ss.spec = store.SourceSpec{Name: name, Settings: ss.settings, Tool: version}
	ss.active = true
	if name == "-" {
		ss.spec.Kind = store.KindStream
		ss.stream = &store.StreamContent{}
		return ss.begin(ctx)
	}
	ss.spec.Kind = store.KindCapture
	content, size, err := store.FileContent(name)
	if err != nil {
		return err
	}
	ss.spec.Content, ss.spec.Size = content, size
	return ss.begin(ctx)
}

// begin starts the ingest of ss.spec.
func (ss *sniffStore) begin(ctx context.Context) error {
	name := ss.spec.Name
	in, err := ss.st.Begin(ctx, ss.spec, store.IngestOptions{BatchRecords: ss.batch, Records: ss.records, Pipelined: true})
	var already *store.AlreadyStoredError
	if errors.As(err, &already) {
		fmt.Fprintf(ss.stderr, "tlsmap: %s is in the store already (source %d, %d records): reported, not stored again\n",
			name, already.Source.ID, already.Source.Records)
		ss.active = false
		return nil
	}
	if err != nil {
		return err
	}
	if n := in.Resumed(); n > 0 {
		fmt.Fprintf(ss.stderr, "tlsmap: %s: an earlier run stored its first %d records; going on after them\n", name, n)
	}
	ss.in = in
	return nil
}

// beginLive starts storing a live capture.
func (ss *sniffStore) beginLive(ctx context.Context, iface string) error {
	ss.spec = store.SourceSpec{Kind: store.KindLive, Name: iface, Settings: ss.settings, Tool: version}
	ss.active = true
	return ss.begin(ctx)
}

// stdin wraps standard input so that a stream's fingerprint is taken as
// it is read.
func (ss *sniffStore) stdin(r io.Reader) io.Reader {
	if ss.stream == nil {
		return r
	}
	return io.TeeReader(r, ss.stream)
}

// flow stores one reported flow.
func (ss *sniffStore) flow(ctx context.Context, f *sniff.Flow) {
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
			rec, err := json.Marshal(output.NewFlowRecord(f, label))
			if err != nil {
				ss.err = err
				return
			}
			fact.Record = rec
		}
		ss.add(ctx, fact)
	}
}

// add stores one fact.
func (ss *sniffStore) add(ctx context.Context, fact store.Fact) {
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
