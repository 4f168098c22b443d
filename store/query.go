package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// indexedBy names the index SQLite is to read a query from (its planner,
// from a window's day range, would pick the day index and sort); other
// dialects choose for themselves.
func (s *Store) indexedBy(index string) string {
	if s.dialect == SQLite {
		return " INDEXED BY " + index
	}
	return ""
}

// LatestScans returns, for every endpoint scanned at or before asOf, its
// latest result (the record itself is left out: Record is nil). With
// runName set, only the runs of that name count.
func (s *Store) LatestScans(ctx context.Context, asOf time.Time, runName string) ([]ScanResult, error) {
	where, args := `r.scanned_at <= ?`, []any{ns(asOf)}
	if asOf.IsZero() {
		where, args = `1 = 1`, nil
	}
	if runName != "" {
		where += ` AND r.run_id IN (SELECT id FROM scan_runs WHERE name = ?)`
		args = append(args, runName)
	}
	// The latest result per endpoint; of two at the same instant, the
	// later run's.
	query := `SELECT r.run_id, r.endpoint, r.target, r.address, r.host, r.port, r.protocol, r.status, r.versions, r.scanned_at
		FROM scan_results r JOIN (
			SELECT endpoint, MAX(r.scanned_at) AS at FROM scan_results r WHERE ` + where + ` GROUP BY endpoint
		) l ON r.endpoint = l.endpoint AND r.scanned_at = l.at
		WHERE ` + where + `
		ORDER BY r.endpoint, r.run_id`
	rows, err := s.db.QueryContext(ctx, s.q(query), append(append([]any{}, args...), args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: latest scans: %w", err)
	}
	defer rows.Close()
	var out []ScanResult
	for rows.Next() {
		var (
			r        ScanResult
			port, at int64
			versions string
		)
		if err := rows.Scan(&r.RunID, &r.Endpoint, &r.Target, &r.Address, &r.Host, &port, &r.Protocol, &r.Status, &versions, &at); err != nil {
			return nil, fmt.Errorf("store: latest scans: %w", err)
		}
		r.Port, r.Scanned = int(port), fromNS(at)
		if r.Versions, err = ParseVersions(versions); err != nil {
			return nil, err
		}
		// Two results of the same instant: keep the later run's.
		if n := len(out); n > 0 && out[n-1].Endpoint == r.Endpoint {
			out[n-1] = r
			continue
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest scans: %w", err)
	}
	return out, nil
}

// RunNamed returns the runs called name (the shards of one sweep), or an
// error wrapping ErrNoRun.
func (s *Store) RunNamed(ctx context.Context, name string) ([]ScanRun, error) {
	runs, err := s.Runs(ctx)
	if err != nil {
		return nil, err
	}
	var out []ScanRun
	for _, r := range runs {
		if r.Name == name {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNoRun, name)
	}
	return out, nil
}

// ErrNoRun is wrapped by RunNamed's error when no run has the name.
var ErrNoRun = errors.New("store: no scan run named")

// EvidenceRow is one row of the evidence table.
type EvidenceRow struct {
	Day      Day
	Evidence Evidence
	// Client is the client's address, or its name when the evidence
	// names it only so.
	Client   string
	Via      string
	Server   string
	Protocol string
	Version  tls.Version
	Cipher   uint16
	Offered  []tls.Version
	SNI      string
	JA3, JA4 string
	Legacy   Legacy
	// Connections and the time span they were seen in.
	Connections int64
	First, Last time.Time
}

// EachLegacy calls f for every legacy row of the days from..to (both
// included), in no particular order. The row is reused between calls.
func (s *Store) EachLegacy(ctx context.Context, from, to Day, f func(*EvidenceRow) error) error {
	return s.eachLegacy(ctx, true, `SELECT day, kind, client, via, server, protocol, version, cipher, offered, sni, ja3, ja4, legacy, connections, first_seen, last_seen
		FROM evidence WHERE legacy <> 0 AND day >= ? AND day <= ?`, from, to, f)
}

// EachLegacyPair calls f for every distinct combination of the evidence
// columns but the day among the legacy rows of the days from..to: the
// rows of EachLegacy folded over the days in the database (Day is 0,
// Connections summed, First and Last widened), so that a report reads
// one row per client × endpoint × variant, not one a day.
func (s *Store) EachLegacyPair(ctx context.Context, from, to Day, f func(*EvidenceRow) error) error {
	return s.eachLegacy(ctx, false, `SELECT kind, client, via, server, protocol, version, cipher, offered, sni, ja3, ja4, legacy,
			SUM(connections), MIN(first_seen), MAX(last_seen)
		FROM evidence`+s.indexedBy("evidence_legacy_pair")+` WHERE legacy <> 0 AND day >= ? AND day <= ?
		GROUP BY server, client, kind, via, protocol, version, cipher, offered, sni, ja3, ja4, legacy`, from, to, f)
}

// eachLegacy runs query over the days from..to and calls f with each
// row, scanned in EachLegacy's column order (withDay: the day first;
// else the row's Day stays 0).
func (s *Store) eachLegacy(ctx context.Context, withDay bool, query string, from, to Day, f func(*EvidenceRow) error) error {
	rows, err := s.db.QueryContext(ctx, s.q(query), int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("store: legacy evidence: %w", err)
	}
	defer rows.Close()
	var (
		r                                         EvidenceRow
		day, version, cipher, legacy, first, last int64
		kind, offered, prevOffered                string
	)
	dest := []any{&kind, &r.Client, &r.Via, &r.Server, &r.Protocol, &version, &cipher, &offered, &r.SNI, &r.JA3, &r.JA4,
		&legacy, &r.Connections, &first, &last}
	if withDay {
		dest = append([]any{&day}, dest...)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("store: legacy evidence: %w", err)
		}
		r.Day, r.Evidence, r.Version, r.Cipher, r.Legacy = Day(day), Evidence(kind), tls.Version(version), uint16(cipher), Legacy(legacy)
		r.First, r.Last = fromNS(first), fromNS(last)
		if offered != prevOffered || r.Offered == nil {
			r.Offered = parseVersionList(offered)
			prevOffered = offered
		}
		if err := f(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: legacy evidence: %w", err)
	}
	return nil
}

// DayCount is a count of one day and server endpoint.
type DayCount struct {
	Day         Day
	Server      string
	Connections int64
}

// LegacyByDay returns the legacy connections of the days from..to by day
// and server endpoint (read from the legacy index alone).
func (s *Store) LegacyByDay(ctx context.Context, from, to Day) ([]DayCount, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT day, server, SUM(connections) FROM evidence
		WHERE legacy <> 0 AND day >= ? AND day <= ? GROUP BY day, server`), int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("store: legacy trend: %w", err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var (
			c   DayCount
			day int64
		)
		if err := rows.Scan(&day, &c.Server, &c.Connections); err != nil {
			return nil, fmt.Errorf("store: legacy trend: %w", err)
		}
		c.Day = Day(day)
		out = append(out, c)
	}
	return out, rows.Err()
}

func parseVersionList(s string) []tls.Version {
	out := []tls.Version{}
	if s == "" {
		return out
	}
	for _, name := range strings.Split(s, ";") {
		if v, err := tls.ParseVersion(name); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// CoverageRow is what the evidence of the window saw of one server
// endpoint, by evidence kind.
type CoverageRow struct {
	Server   string
	Evidence Evidence
	// TLS counts connections with a TLS hello to it; Legacy those of
	// them that were legacy; Unread the connections to it whose hellos
	// could not be read (a gap).
	TLS, Legacy, Unread int64
	// Sources counts the evidence sources that saw it.
	Sources     int
	First, Last time.Time
}

// Coverage returns, per server endpoint and evidence kind, what the
// evidence of the days from..to saw.
func (s *Store) Coverage(ctx context.Context, from, to Day) ([]CoverageRow, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT server, kind, SUM(tls), SUM(legacy), SUM(unread), COUNT(DISTINCT source_id), MIN(first_seen), MAX(last_seen)
		FROM coverage`+s.indexedBy("coverage_server")+` WHERE day >= ? AND day <= ?
		GROUP BY server, kind ORDER BY server, kind`), int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("store: coverage: %w", err)
	}
	defer rows.Close()
	var out []CoverageRow
	for rows.Next() {
		var (
			r           CoverageRow
			kind        string
			n           int64
			first, last int64
		)
		if err := rows.Scan(&r.Server, &kind, &r.TLS, &r.Legacy, &r.Unread, &n, &first, &last); err != nil {
			return nil, fmt.Errorf("store: coverage: %w", err)
		}
		r.Evidence, r.Sources, r.First, r.Last = Evidence(kind), int(n), fromNS(first), fromNS(last)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: coverage: %w", err)
	}
	return out, nil
}

// Fingerprint is what the store knows of one JA3 × JA4 pair.
type Fingerprint struct {
	JA3, JA4        string
	Label           string
	OfferedVersions []tls.Version
	OfferedCiphers  []uint16
	First           time.Time
}

// Fingerprints returns the fingerprints stored, keyed by JA3 + "|" + JA4.
func (s *Store) Fingerprints(ctx context.Context) (map[string]Fingerprint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT ja3, ja4, label, offered_versions, offered_ciphers, first_seen FROM fingerprints`)
	if err != nil {
		return nil, fmt.Errorf("store: fingerprints: %w", err)
	}
	defer rows.Close()
	out := map[string]Fingerprint{}
	for rows.Next() {
		var (
			f                Fingerprint
			versions, suites string
			first            int64
		)
		if err := rows.Scan(&f.JA3, &f.JA4, &f.Label, &versions, &suites, &first); err != nil {
			return nil, fmt.Errorf("store: fingerprints: %w", err)
		}
		f.OfferedVersions, f.First = parseVersionList(versions), fromNS(first)
		for _, id := range strings.Split(suites, ";") {
			var v uint16
			if _, err := fmt.Sscanf(id, "0x%04X", &v); err == nil {
				f.OfferedCiphers = append(f.OfferedCiphers, v)
			}
		}
		out[f.JA3+"|"+f.JA4] = f
	}
	return out, rows.Err()
}

// Counts are the rows of each table, for tests and `tlsmap report`'s
// footer.
type Counts struct {
	Sources, Evidence, Coverage, Fingerprints, Flows, Runs, Results int64
	// Connections sums the evidence's connections; LegacyConnections
	// those of legacy rows.
	Connections, LegacyConnections int64
}

// Count counts the rows of every table.
func (s *Store) Count(ctx context.Context) (Counts, error) {
	var c Counts
	for _, q := range []struct {
		query string
		dst   *int64
	}{
		{`SELECT COUNT(*) FROM sources`, &c.Sources},
		{`SELECT COUNT(*) FROM evidence`, &c.Evidence},
		{`SELECT COUNT(*) FROM coverage`, &c.Coverage},
		{`SELECT COUNT(*) FROM fingerprints`, &c.Fingerprints},
		{`SELECT COUNT(*) FROM flows`, &c.Flows},
		{`SELECT COUNT(*) FROM scan_runs`, &c.Runs},
		{`SELECT COUNT(*) FROM scan_results`, &c.Results},
		{`SELECT COALESCE(SUM(connections), 0) FROM evidence`, &c.Connections},
		{`SELECT COALESCE(SUM(connections), 0) FROM evidence WHERE legacy <> 0`, &c.LegacyConnections},
	} {
		if err := s.db.QueryRowContext(ctx, q.query).Scan(q.dst); err != nil {
			return Counts{}, fmt.Errorf("store: counting: %w", err)
		}
	}
	return c, nil
}
