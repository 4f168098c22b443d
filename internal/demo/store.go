package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/sniff"
	"github.com/tlsmap/tlsmap/store"
)

// storeAndJudge puts the demo's scan results and the client connections
// the sniffer kept into a store (path, or a temporary SQLite file when
// ""), as tlsmap scan --store and tlsmap sniff --store would, and reads
// the readiness report back from it.
func storeAndJudge(ctx context.Context, path string, res *Result, flows []*sniff.Flow) (*readiness.Report, error) {
	if path == "" {
		dir, err := os.MkdirTemp("", "tlsmap-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: store: %w", err)
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "demo.db")
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer st.Close()

	w, err := st.BeginScan(ctx, store.RunSpec{Name: "demo"})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for i, r := range res.Scan {
		if r == nil {
			continue
		}
		rec, err := json.Marshal(output.NewScanRecord(r, res.Findings[i]))
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		if err := w.Add(ctx, store.ScanResultOf(r, rec)); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	if err := w.Finish(ctx, store.RunComplete); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	spec := store.SourceSpec{Kind: store.KindLive, Name: res.Interface, Tool: "demo"}
	// The shipped capture's servers listened on other ports than this
	// run's: its connections are given to this run's endpoints by SNI.
	bySNI := map[string]string{}
	if !res.Live {
		sum := sha256.Sum256(shippedCapture)
		spec = store.SourceSpec{Kind: store.KindCapture, Name: ShippedCaptureName, Content: "sha256:" + hex.EncodeToString(sum[:]), Tool: "demo"}
		for _, e := range res.Endpoints {
			bySNI[e.Target.Host] = netip.AddrPortFrom(netip.MustParseAddr(serverAddr), e.Target.Port).String()
		}
	}
	in, err := st.Begin(ctx, spec, store.IngestOptions{})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	var facts []store.Fact
	for _, f := range flows {
		facts = store.FlowFacts(facts[:0], f, "")
		for i := range facts {
			if ep, ok := bySNI[f.SNI]; ok {
				facts[i].Server = ep
			}
			if err := in.Add(ctx, &facts[i]); err != nil {
				return nil, fmt.Errorf("demo: %w", err)
			}
		}
	}
	if err := in.Finish(ctx, store.StateComplete, ""); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	// The window: from the first connection's day (the shipped capture
	// is older than today) to now.
	now := time.Now()
	since := 24 * time.Hour
	for _, f := range flows {
		if d := now.Sub(f.FirstSeen) + 24*time.Hour; d > since {
			since = d
		}
	}
	return readiness.Build(ctx, st, readiness.Options{Until: now, Since: since})
}
