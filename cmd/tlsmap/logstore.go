package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/logs"
	"github.com/tlsmap/tlsmap/store"
)

// storeLogs stores log files as evidence sources, one source per file
// (known by content hash, like a capture file; "-" is a stream), each
// read by a logs.Reader of its own so that its records and counters are
// the file's: what `tlsmap logs --store` runs. A file stored to its end
// before is skipped (its evidence is in the store already); one an
// interrupted run left goes on after the records stored. emit, when not
// nil, also gets every observation (for the command's own report).
func storeLogs(ctx context.Context, st *store.Store, cfg logs.Config, names []string, batch int, stderr io.Writer,
	emit func(*evidence.Observation)) error {
	for _, name := range names {
		if err := storeLogFile(ctx, st, cfg, name, batch, stderr, emit); err != nil {
			return err
		}
	}
	return nil
}

func storeLogFile(ctx context.Context, st *store.Store, cfg logs.Config, name string, batch int, stderr io.Writer,
	emit func(*evidence.Observation)) error {
	spec := store.SourceSpec{Kind: store.KindLog, Name: name, Tool: version,
		Settings: fmt.Sprintf("logs tlsmap=%s format=%s since=%s until=%s", version, cfg.Format, cfg.Since.Format(time.RFC3339), cfg.Until.Format(time.RFC3339))}
	var hasher = sha256.New()
	if name == "-" {
		spec.Kind = store.KindLogStream
		if cfg.Stdin != nil {
			cfg.Stdin = io.TeeReader(cfg.Stdin, hasher)
		}
	} else {
		sum, size, err := hashFile(ctx, name)
		if err != nil {
			return err
		}
		spec.SHA256, spec.Size = sum, size
	}
	in, err := st.Begin(ctx, spec, store.IngestOptions{BatchRecords: batch})
	var already *store.AlreadyStoredError
	if errors.As(err, &already) {
		fmt.Fprintf(stderr, "tlsmap: %s is in the store already (source %d, %d records): not stored again\n", name, already.Source.ID, already.Source.Records)
		return nil
	}
	if err != nil {
		return err
	}
	var (
		fact   store.Fact
		addErr error
	)
	r := logs.NewReader(cfg, func(o *evidence.Observation) {
		if emit != nil {
			emit(o)
		}
		if addErr == nil && store.ObservationFact(&fact, o) {
			addErr = in.Add(context.WithoutCancel(ctx), &fact)
		}
	})
	readErr := r.ReadFile(ctx, name)
	if readErr == nil {
		r.Close() // the sessions still open end with the file
	}
	if addErr != nil {
		return addErr
	}
	stats, _ := json.Marshal(r.Stats())
	in.SetStats(stats)
	state, sum := store.StateComplete, ""
	if readErr != nil {
		state = store.StateInterrupted
	} else if name == "-" {
		sum = hex.EncodeToString(hasher.Sum(nil))
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := in.Finish(fctx, state, sum); err != nil {
		return err
	}
	return readErr
}
