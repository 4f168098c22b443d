package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/logs"
	"github.com/tlsmap/tlsmap/store"
)

// storeLogFile reads one log file (tlsmap logs --store) with a
// logs.Reader of its own, so that its records and counters are the
// file's, and stores its observations as a source: known by its content
// (store.FileContent) like a capture file ("-" is a stream, new each
// time). A file stored to
// its end before is read for the report but not stored again; one an
// interrupted run left goes on after the records stored. emit, when not
// nil, gets every observation too (the command's own report). It returns
// the reader's counters, the reading error (ctx's when interrupted) and
// the store's.
func storeLogFile(ctx context.Context, st *store.Store, cfg logs.Config, name string, batch int, stderr io.Writer,
	emit func(*evidence.Observation)) (stats logs.Stats, readErr, storeErr error) {
	spec := store.SourceSpec{Kind: store.KindLog, Name: name, Tool: version,
		Settings: fmt.Sprintf("logs tlsmap=%s format=%s balancers=%v tls-header=%s since=%s until=%s zone=%v", version, cfg.Format,
			cfg.Balancers, cfg.TLSHeader, cfg.Since.Format(time.RFC3339), cfg.Until.Format(time.RFC3339), cfg.Location)}
	stream := &store.StreamContent{}
	if name == "-" {
		spec.Kind = store.KindLogStream
		if cfg.Stdin != nil {
			cfg.Stdin = io.TeeReader(cfg.Stdin, stream)
		}
	} else {
		content, size, err := store.FileContent(name)
		if err != nil {
			return logs.Stats{}, err, nil
		}
		spec.Content, spec.Size = content, size
	}
	in, err := st.Begin(ctx, spec, store.IngestOptions{BatchRecords: batch, Pipelined: true})
	var already *store.AlreadyStoredError
	switch {
	case errors.As(err, &already):
		fmt.Fprintf(stderr, "tlsmap: %s is in the store already (source %d, %d records): reported, not stored again\n",
			name, already.Source.ID, already.Source.Records)
		in = nil
	case err != nil:
		return logs.Stats{}, nil, err
	case in.Resumed() > 0:
		fmt.Fprintf(stderr, "tlsmap: %s: an earlier run stored its first %d records; going on after them\n", name, in.Resumed())
	}
	var (
		fact   store.Fact
		addErr error
	)
	r := logs.NewReader(cfg, func(o *evidence.Observation) {
		if emit != nil {
			emit(o)
		}
		if in != nil && addErr == nil && store.ObservationFact(&fact, o) {
			// A batch full at an interruption is still committed.
			addErr = in.Add(context.WithoutCancel(ctx), &fact)
		}
	})
	readErr = r.ReadFile(ctx, name)
	if ctx.Err() == nil {
		r.Close() // the sessions still open end with the file
	}
	stats = r.Stats()
	if in == nil {
		return stats, readErr, nil
	}
	if addErr != nil {
		return stats, readErr, addErr
	}
	b, _ := json.Marshal(stats)
	in.SetStats(b)
	state, content := store.StateComplete, ""
	if readErr != nil {
		state = store.StateInterrupted
	} else if name == "-" {
		content, _ = stream.Content()
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := in.Finish(fctx, state, content); err != nil {
		return stats, readErr, err
	}
	if state == store.StateInterrupted {
		fmt.Fprintf(stderr, "tlsmap: %s: %d records stored before the stop; run the same command again to go on\n", name, in.Source().Records)
	}
	return stats, readErr, nil
}
