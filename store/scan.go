package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// RunState is where a scan run stands.
type RunState string

// The states of a scan run.
const (
	RunRunning     RunState = "running"
	RunComplete    RunState = "complete"
	RunInterrupted RunState = "interrupted"
)

// ScanRun is one scan process's run. The shards of one sweep (scan
// --shard I/N on several machines) are runs of the same Name.
type ScanRun struct {
	ID        int64
	Name      string
	Shard     string // "2/4"; "" when not sharded
	Tool      string
	Host      string
	PID       int
	Args      string
	State     RunState
	Started   time.Time
	Finished  time.Time
	Endpoints int
}

// RunSpec describes a scan run to store.
type RunSpec struct {
	// Name names the run; shards of one sweep share it. "" gives the run
	// a name of its own ("scan-<id>").
	Name  string
	Shard string
	Tool  string
	Args  string
}

// VersionOutcome is a scan's verdict on one protocol version.
type VersionOutcome struct {
	Version tls.Version
	Outcome string // accepted, rejected, inconclusive
	Reason  string
}

// ScanResult is one endpoint's result in a run: the columns the report
// reads, and the whole tlsmap.scan/1 record.
type ScanResult struct {
	RunID int64
	// Endpoint is what the report joins evidence on: the address dialed
	// ("ip:port"), or host:port when it did not resolve.
	Endpoint string
	Target   string // canonical "https://example.com:443"
	Address  string
	Host     string
	Port     int
	Protocol string
	Status   string // ok, unreachable, inconclusive
	Versions []VersionOutcome
	Scanned  time.Time
	Record   []byte // tlsmap.scan/1 JSON
}

// ScanWriter stores the results of one scan run, committed in batches.
// Not safe for concurrent use.
type ScanWriter struct {
	s       *Store
	run     ScanRun
	pending []ScanResult
	batch   int
	last    time.Time
	err     error
}

// BeginScan starts a scan run.
func (s *Store) BeginScan(ctx context.Context, spec RunSpec) (*ScanWriter, error) {
	host, _ := os.Hostname()
	now := time.Now()
	run := ScanRun{Name: spec.Name, Shard: spec.Shard, Tool: spec.Tool, Host: host, PID: os.Getpid(), Args: spec.Args,
		State: RunRunning, Started: now}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.q(`INSERT INTO scan_runs (name, shard, tool, host, pid, args, state, started_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			spec.Name, spec.Shard, spec.Tool, host, run.PID, spec.Args, string(RunRunning), ns(now)).Scan(&run.ID); err != nil {
			return err
		}
		if run.Name == "" {
			run.Name = fmt.Sprintf("scan-%d", run.ID)
			_, err := tx.ExecContext(ctx, s.q(`UPDATE scan_runs SET name = ? WHERE id = ?`), run.Name, run.ID)
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: starting the scan run: %w", err)
	}
	return &ScanWriter{s: s, run: run, batch: 64, last: now}, nil
}

// Run returns the run.
func (w *ScanWriter) Run() ScanRun { return w.run }

// Add stores one endpoint's result (committed with the next batch: every
// 64 results, or 2 seconds after the last commit).
func (w *ScanWriter) Add(ctx context.Context, r ScanResult) error {
	if w.err != nil {
		return w.err
	}
	w.pending = append(w.pending, r)
	if len(w.pending) >= w.batch || time.Since(w.last) >= 2*time.Second {
		return w.Commit(ctx)
	}
	return nil
}

// Commit commits the results added so far.
func (w *ScanWriter) Commit(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	if err := w.commit(ctx, ""); err != nil {
		w.err = err
	}
	return w.err
}

// Finish commits and sets the run's state.
func (w *ScanWriter) Finish(ctx context.Context, state RunState) error {
	if w.err != nil {
		return w.err
	}
	err := w.commit(ctx, state)
	w.err = errors.New("store: scan run finished")
	return err
}

func (w *ScanWriter) commit(ctx context.Context, state RunState) error {
	s := w.s
	now := time.Now()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := s.insertRows(ctx, tx, `INSERT INTO scan_results (run_id, endpoint, target, address, host, port, protocol, status, versions, scanned_at, record) VALUES `,
			` ON CONFLICT (run_id, target) DO UPDATE SET endpoint = excluded.endpoint, address = excluded.address, status = excluded.status,
			versions = excluded.versions, scanned_at = excluded.scanned_at, record = excluded.record`,
			11, len(w.pending), func(i int, args []any) []any {
				r := &w.pending[i]
				return append(args, w.run.ID, r.Endpoint, r.Target, r.Address, r.Host, int64(r.Port), r.Protocol, r.Status,
					FormatVersions(r.Versions), ns(r.Scanned), string(r.Record))
			})
		if err != nil {
			return err
		}
		query := `UPDATE scan_runs SET endpoints = endpoints + ?`
		args := []any{int64(len(w.pending))}
		if state != "" {
			query += `, state = ?, finished_at = ?`
			args = append(args, string(state), ns(now))
		}
		_, err = tx.ExecContext(ctx, s.q(query+` WHERE id = ?`), append(args, w.run.ID)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: storing scan results: %w", err)
	}
	w.run.Endpoints += len(w.pending)
	if state != "" {
		w.run.State, w.run.Finished = state, now
	}
	w.pending = w.pending[:0]
	w.last = now
	return nil
}

// FormatVersions writes version outcomes as the versions column holds
// them: "TLSv1.0=accepted;TLSv1.1=rejected".
func FormatVersions(vs []VersionOutcome) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(';')
		}
		// A name that does not read back (GREASE) is written as its code.
		name := v.Version.String()
		if p, err := tls.ParseVersion(name); err != nil || p != v.Version {
			name = fmt.Sprintf("0x%04X", uint16(v.Version))
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(v.Outcome)
	}
	return b.String()
}

// ParseVersions reads the versions column back (reasons are not kept
// there; the record has them).
func ParseVersions(s string) ([]VersionOutcome, error) {
	if s == "" {
		return nil, nil
	}
	var out []VersionOutcome
	for _, part := range strings.Split(s, ";") {
		name, outcome, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("store: versions column: %q has no outcome", part)
		}
		v, err := tls.ParseVersion(name)
		if err != nil {
			return nil, fmt.Errorf("store: versions column: %w", err)
		}
		out = append(out, VersionOutcome{Version: v, Outcome: outcome})
	}
	return out, nil
}

// Runs returns the scan runs, oldest first.
func (s *Store) Runs(ctx context.Context) ([]ScanRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, shard, tool, host, pid, args, state, started_at, finished_at, endpoints FROM scan_runs ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: scan runs: %w", err)
	}
	defer rows.Close()
	var out []ScanRun
	for rows.Next() {
		var (
			r                        ScanRun
			state                    string
			pid, started, fin, count int64
		)
		if err := rows.Scan(&r.ID, &r.Name, &r.Shard, &r.Tool, &r.Host, &pid, &r.Args, &state, &started, &fin, &count); err != nil {
			return nil, fmt.Errorf("store: scan runs: %w", err)
		}
		r.PID, r.State, r.Started, r.Finished, r.Endpoints = int(pid), RunState(state), fromNS(started), fromNS(fin), int(count)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ScanResultOf is r as the store keeps it; record is its tlsmap.scan/1
// JSON (output.NewScanRecord).
func ScanResultOf(r *scan.Result, record []byte) ScanResult {
	sr := ScanResult{
		Endpoint: r.Address,
		Target:   r.Target.String(),
		Address:  r.Address,
		Host:     r.Target.Host,
		Port:     int(r.Target.Port),
		Protocol: string(r.Target.Protocol),
		Status:   string(r.Status),
		Scanned:  r.Started.Add(r.Duration),
		Record:   record,
	}
	if sr.Endpoint == "" {
		sr.Endpoint = net.JoinHostPort(r.Target.Addr, strconv.Itoa(int(r.Target.Port)))
	}
	if r.Started.IsZero() {
		sr.Scanned = time.Now()
	}
	if r.SSLv2 != nil {
		sr.Versions = append(sr.Versions, VersionOutcome{Version: tls.VersionSSL20, Outcome: string(r.SSLv2.Outcome), Reason: r.SSLv2.Reason})
	}
	for _, v := range r.Versions {
		sr.Versions = append(sr.Versions, VersionOutcome{Version: tls.Version(v.Version), Outcome: string(v.Outcome), Reason: v.Reason})
	}
	return sr
}
