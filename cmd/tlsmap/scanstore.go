package main

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/store"
)

// scanResult is a scan result as the store keeps it: the columns the
// report reads and the whole tlsmap.scan/1 record.
func scanResult(r *scan.Result, fs []policy.Finding) (store.ScanResult, error) {
	rec, err := json.Marshal(output.NewScanRecord(r, fs))
	if err != nil {
		return store.ScanResult{}, err
	}
	return store.ScanResultOf(r, rec), nil
}

// scanStore stores one scan run's results (scan --store).
type scanStore struct {
	st  *store.Store
	w   *store.ScanWriter
	err error
}

func openScanStore(ctx context.Context, dsn, run, shard string, args []string) (*scanStore, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	w, err := st.BeginScan(ctx, store.RunSpec{Name: run, Shard: shard, Tool: version, Args: strings.Join(args, " ")})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &scanStore{st: st, w: w}, nil
}

// add stores one result, from the collector goroutine.
func (s *scanStore) add(ctx context.Context, r *scan.Result, fs []policy.Finding) {
	if s.err != nil {
		return
	}
	sr, err := scanResult(r, fs)
	if err != nil {
		s.err = err
		return
	}
	// The results must reach the store even when the scan was cut:
	// their commit is not cancelled with the scan.
	s.err = s.w.Add(context.WithoutCancel(ctx), sr)
}

// finish commits the rest and closes the store.
func (s *scanStore) finish(state store.RunState) error {
	defer s.st.Close()
	if s.err != nil {
		return s.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.w.Finish(ctx, state)
}
