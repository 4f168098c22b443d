package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/pgtest"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// each runs f on a fresh SQLite store and a fresh PostgreSQL store.
func each(t *testing.T, f func(t *testing.T, dsn string, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		dsn := filepath.Join(t.TempDir(), "store.db")
		f(t, dsn, open(t, dsn))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.DSN(t)
		f(t, dsn, open(t, dsn))
	})
}

func open(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var day0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// facts is a fixed set of records: three clients, two servers, three
// days, legacy and not, repeated keys.
func facts() []Fact {
	var out []Fact
	clients := []string{"10.0.0.1", "10.0.0.2", "2001:db8::3"}
	for i := range 60 {
		at := day0.Add(time.Duration(i%3)*24*time.Hour + time.Duration(i)*time.Minute)
		f := Fact{
			Client:   netip.MustParseAddr(clients[i%3]),
			Server:   []string{"192.0.2.1:443", "192.0.2.2:993"}[i%2],
			Protocol: []string{"https", "imap"}[i%2],
			Version:  uint16(tls.VersionTLS12),
			Cipher:   0xC02F,
			Offered:  []uint16{uint16(tls.VersionTLS12), uint16(tls.VersionTLS11)},
			SNI:      fmt.Sprintf("s%d.example", i%2),
			JA3:      fmt.Sprintf("%032x", i%3),
			JA4:      fmt.Sprintf("t12d%04d00_000000000000_00000000000%d", i%3, i%3),
			First:    at, Last: at.Add(time.Second),
			OfferedCiphers: []uint16{0xC02F, 0x00FF},
		}
		if i%3 == 0 {
			f.Version, f.Offered, f.Legacy = uint16(tls.VersionTLS10), []uint16{uint16(tls.VersionTLS10)}, LegacyNegotiated|LegacyOffered
		}
		if i%10 == 9 {
			f = Fact{Unread: true, Server: f.Server, First: at, Last: at}
		}
		out = append(out, f)
	}
	return out
}

func ingest(t *testing.T, s *Store, spec SourceSpec, fs []Fact, batch int) *Ingest {
	t.Helper()
	ctx := context.Background()
	in, err := s.Begin(ctx, spec, IngestOptions{BatchRecords: batch})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fs {
		if err := in.Add(ctx, &fs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// snapshot is the store's content in a comparable form.
type snapshot struct {
	counts   Counts
	legacy   []string
	coverage []string
}

func snap(t *testing.T, s *Store) snapshot {
	t.Helper()
	ctx := context.Background()
	c, err := s.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Sources, c.Coverage = 0, 0 // per source: differ between one and two runs
	var sn snapshot
	sn.counts = c
	err = s.EachLegacy(ctx, 0, 1<<40, func(r *EvidenceRow) error {
		sn.legacy = append(sn.legacy, fmt.Sprintf("%s %s %s %s %v %d %d %s %s", r.Day, r.Client, r.Server, r.Version, r.Offered, r.Legacy, r.Connections,
			r.First.Format(time.RFC3339Nano), r.Last.Format(time.RFC3339Nano)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(sn.legacy)
	cov, err := s.Coverage(ctx, 0, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range cov {
		sn.coverage = append(sn.coverage, fmt.Sprintf("%s %s tls=%d legacy=%d unread=%d", r.Server, r.Evidence, r.TLS, r.Legacy, r.Unread))
	}
	return sn
}

func TestIngest(t *testing.T) {
	each(t, func(t *testing.T, _ string, s *Store) {
		ctx := context.Background()
		fs := facts()
		in := ingest(t, s, SourceSpec{Kind: KindCapture, Name: "a.pcap", Content: "aa", Settings: "x"}, fs, 7)
		if err := in.Finish(ctx, StateComplete, ""); err != nil {
			t.Fatal(err)
		}
		c, err := s.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 54 readable facts: 3 clients × 2 servers × 3 days... keys by
		// (i%3, i%2, day i%3): i%3 fixes the day, so 6 distinct keys.
		if c.Connections != 54 || c.Evidence != 6 {
			t.Errorf("connections %d in %d rows, want 54 in 6", c.Connections, c.Evidence)
		}
		var legacy int64
		if err := s.EachLegacy(ctx, 0, 1<<40, func(r *EvidenceRow) error { legacy += r.Connections; return nil }); err != nil {
			t.Fatal(err)
		}
		if legacy != c.LegacyConnections || legacy != 18 {
			t.Errorf("legacy connections %d (count %d), want 18", legacy, c.LegacyConnections)
		}
		cov, err := s.Coverage(ctx, 0, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		var tlsN, unread int64
		for _, r := range cov {
			tlsN += r.TLS
			unread += r.Unread
		}
		if tlsN != 54 || unread != 6 {
			t.Errorf("coverage: %d TLS, %d unread, want 54 and 6", tlsN, unread)
		}
		if c.Fingerprints != 3 {
			t.Errorf("%d fingerprints, want 3", c.Fingerprints)
		}

		// The same content again: refused, nothing added.
		_, err = s.Begin(ctx, SourceSpec{Kind: KindCapture, Name: "copy.pcap", Content: "aa", Settings: "x"}, IngestOptions{})
		var already *AlreadyStoredError
		if !errors.As(err, &already) || !errors.Is(err, ErrAlreadyStored) || already.Source.Name != "a.pcap" {
			t.Fatalf("second ingest: %v, want AlreadyStoredError for a.pcap", err)
		}
		srcs, err := s.Sources(ctx)
		if err != nil || len(srcs) != 1 || srcs[0].Records != 60 || srcs[0].State != StateComplete ||
			!srcs[0].FirstSeen.Equal(day0) {
			t.Errorf("sources %+v, %v", srcs, err)
		}
	})
}

// TestResume: an ingest that stops without finishing (a crash) leaves
// its committed batches; the next ingest of the same content goes on
// after them and the store ends as one whole run would leave it.
func TestResume(t *testing.T) {
	each(t, func(t *testing.T, dsn string, s *Store) {
		ctx := context.Background()
		fs := facts()
		spec := SourceSpec{Kind: KindCapture, Name: "a.pcap", Content: "bb", Settings: "x"}
		in := ingest(t, s, spec, fs[:40], 9) // commits after 9, 18, 27, 36; 4 open
		if got := in.Stored(); got != 36 {
			t.Fatalf("stored %d, want 36", got)
		}
		// Crash: the open batch is lost, the ingest never finishes.
		in2, err := s.Begin(ctx, SourceSpec{Kind: KindCapture, Name: "a.pcap", Content: "bb", Settings: "other"}, IngestOptions{})
		if !errors.Is(err, ErrSettings) {
			t.Fatalf("other settings: %v, %v", in2, err)
		}
		in2 = ingest(t, s, spec, fs, 9)
		if in2.Resumed() != 36 {
			t.Errorf("resumed after %d, want 36", in2.Resumed())
		}
		if err := in2.Finish(ctx, StateComplete, ""); err != nil {
			t.Fatal(err)
		}
		got := snap(t, s)

		ref := open(t, filepath.Join(t.TempDir(), "ref.db"))
		in3 := ingest(t, ref, spec, fs, 1000)
		if err := in3.Finish(ctx, StateComplete, ""); err != nil {
			t.Fatal(err)
		}
		want := snap(t, ref)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("after resume:\n%v\none run:\n%v", got, want)
		}
	})
}

// TestBusy: a source a live process (this one, seen from another PID) is
// storing is not taken; one whose process is gone is.
func TestBusy(t *testing.T) {
	each(t, func(t *testing.T, dsn string, s *Store) {
		ctx := context.Background()
		spec := SourceSpec{Kind: KindCapture, Name: "a.pcap", Content: "cc", Settings: "x"}
		in := ingest(t, s, spec, facts()[:5], 2)
		_ = in
		// Pretend the process is another live one: our parent.
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE sources SET pid = ?`), os.Getppid()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Begin(ctx, spec, IngestOptions{}); !errors.Is(err, ErrBusy) {
			t.Errorf("live owner: %v, want ErrBusy", err)
		}
		// A PID that runs nothing.
		if _, err := s.db.ExecContext(ctx, s.q(`UPDATE sources SET pid = ?`), 1<<22+12345); err != nil {
			t.Fatal(err)
		}
		in2, err := s.Begin(ctx, spec, IngestOptions{})
		if err != nil || in2.Resumed() != 4 {
			t.Fatalf("dead owner: %v (resumed %v)", err, in2)
		}
		// The first ingest lost its source: its next commit fails.
		if err := in.Commit(ctx); !errors.Is(err, ErrLost) {
			t.Errorf("commit after takeover: %v, want ErrLost", err)
		}
	})
}

func TestStreamDuplicate(t *testing.T) {
	each(t, func(t *testing.T, _ string, s *Store) {
		ctx := context.Background()
		for i := range 2 {
			in := ingest(t, s, SourceSpec{Kind: KindStream, Name: "-"}, facts(), 100)
			if err := in.Finish(ctx, StateComplete, "dd"); err != nil {
				t.Fatal(err)
			}
			dup, ok, err := in.Duplicate(ctx)
			if err != nil || ok != (i == 1) || ok && dup.ID == in.Source().ID {
				t.Errorf("run %d: duplicate %v %v %v", i, dup.ID, ok, err)
			}
		}
	})
}

func TestScanRuns(t *testing.T) {
	each(t, func(t *testing.T, _ string, s *Store) {
		ctx := context.Background()
		t0 := time.Now().Add(-time.Hour)
		mk := func(ep, status string, at time.Time, tls10 string) ScanResult {
			return ScanResult{Endpoint: ep, Target: "tls://" + ep, Address: ep, Port: 443, Protocol: "tls", Status: status,
				Versions: []VersionOutcome{{Version: tls.VersionTLS10, Outcome: tls10}, {Version: tls.VersionTLS12, Outcome: "accepted"}},
				Scanned:  at, Record: []byte(`{"schema":"tlsmap.scan/1"}`)}
		}
		for _, run := range []struct {
			name, shard string
			at          time.Time
			results     []ScanResult
		}{
			{"before", "1/2", t0, []ScanResult{mk("192.0.2.1:443", "ok", t0, "accepted")}},
			{"before", "2/2", t0, []ScanResult{mk("192.0.2.2:443", "ok", t0, "rejected")}},
			{"after", "", t0.Add(30 * time.Minute), []ScanResult{mk("192.0.2.1:443", "ok", t0.Add(30*time.Minute), "rejected")}},
		} {
			w, err := s.BeginScan(ctx, RunSpec{Name: run.name, Shard: run.shard})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range run.results {
				if err := w.Add(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Finish(ctx, RunComplete); err != nil {
				t.Fatal(err)
			}
		}
		str := func(rs []ScanResult) string {
			var out []string
			for _, r := range rs {
				out = append(out, r.Endpoint+" "+FormatVersions(r.Versions))
			}
			return strings.Join(out, ", ")
		}
		latest, err := s.LatestScans(ctx, time.Now(), "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := str(latest), "192.0.2.1:443 TLSv1.0=rejected;TLSv1.2=accepted, 192.0.2.2:443 TLSv1.0=rejected;TLSv1.2=accepted"; got != want {
			t.Errorf("latest: %s\nwant:   %s", got, want)
		}
		early, err := s.LatestScans(ctx, t0.Add(time.Minute), "")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := str(early), "192.0.2.1:443 TLSv1.0=accepted;TLSv1.2=accepted, 192.0.2.2:443 TLSv1.0=rejected;TLSv1.2=accepted"; got != want {
			t.Errorf("as of t0: %s\nwant:     %s", got, want)
		}
		before, err := s.LatestScans(ctx, time.Time{}, "before")
		if err != nil || len(before) != 2 {
			t.Errorf("run before: %v %v", str(before), err)
		}
		if _, err := s.RunNamed(ctx, "nope"); !errors.Is(err, ErrNoRun) {
			t.Errorf("unknown run: %v", err)
		}
	})
}

// TestConcurrentWriters: several stores (as several processes would)
// add the same keys at once; every count arrives.
func TestConcurrentWriters(t *testing.T) {
	each(t, func(t *testing.T, dsn string, _ *Store) {
		ctx := context.Background()
		const writers = 4
		fs := facts()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(ctx, dsn)
				if err != nil {
					errs <- err
					return
				}
				defer s.Close()
				in, err := s.Begin(ctx, SourceSpec{Kind: KindCapture, Name: fmt.Sprint(w), Content: fmt.Sprint("w", w)}, IngestOptions{BatchRecords: 5})
				if err != nil {
					errs <- err
					return
				}
				for i := range fs {
					if err := in.Add(ctx, &fs[i]); err != nil {
						errs <- err
						return
					}
				}
				errs <- in.Finish(ctx, StateComplete, "")
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		s := open(t, dsn)
		c, err := s.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Connections != writers*54 || c.LegacyConnections != writers*18 || c.Evidence != 6 || c.Sources != writers {
			t.Errorf("counts %+v, want %d connections (%d legacy) in 6 rows", c, writers*54, writers*18)
		}
	})
}

// TestSchemasAgree: the SQLite and PostgreSQL migrations make the same
// tables with the same columns (one logical schema).
func TestSchemasAgree(t *testing.T) {
	ctx := context.Background()
	lite := open(t, filepath.Join(t.TempDir(), "s.db"))
	pg := open(t, pgtest.DSN(t))
	columns := func(s *Store, query string) map[string][]string {
		rows, err := s.db.QueryContext(ctx, query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][]string{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], col)
		}
		return out
	}
	a := columns(lite, `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> 'goose_db_version' ORDER BY m.name, p.cid`)
	b := columns(pg, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY table_name, ordinal_position`)
	if len(a) != 7 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("sqlite:   %v\npostgres: %v", a, b)
	}
	for _, s := range []*Store{lite, pg} {
		if v, err := s.SchemaVersion(ctx); err != nil || v != 1 {
			t.Errorf("%s: schema version %d, %v", s.Dialect(), v, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{"", dir, filepath.Join(dir, "no", "such", "dir", "s.db")} {
		if _, err := Open(ctx, dsn); !errors.Is(err, ErrStore) {
			t.Errorf("Open(%q): %v, want ErrStore", dsn, err)
		}
	}
	// A file that is not SQLite.
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o644)
	if _, err := Open(ctx, junk); !errors.Is(err, ErrStore) {
		t.Errorf("junk file: %v, want ErrStore", err)
	}
	// A newer schema than this tlsmap knows.
	path := filepath.Join(dir, "new.db")
	s := open(t, path)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (99, 1)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); !errors.Is(err, ErrStore) || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: %v", err)
	}
}

func TestDay(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "1970-01-01"},
		{time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC), "1969-12-31"},
		{time.Date(2026, 3, 2, 23, 59, 59, 999, time.FixedZone("x", -3600)), "2026-03-03"},
	} {
		if got := DayOf(tc.t).String(); got != tc.want {
			t.Errorf("DayOf(%v) = %s, want %s", tc.t, got, tc.want)
		}
	}
	if vs := versionList([]uint16{0x0301, 0x0a0a, 0x0304, 0x7f17, 0x0303}); vs != "TLSv1.3;TLSv1.3-draft-23;TLSv1.2;TLSv1.0" {
		t.Errorf("versionList: %s", vs)
	}
	if got := parseVersionList("TLSv1.3;TLSv1.0"); !slices.Equal(got, []tls.Version{tls.VersionTLS13, tls.VersionTLS10}) {
		t.Errorf("parseVersionList: %v", got)
	}
}

// TestSchemaDocumented: docs/schema/store.md lists exactly the tables and
// columns the migrations make, in order.
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "schema", "store.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	table := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if name, ok := strings.CutPrefix(line, "### `"); ok {
			table = strings.TrimSuffix(name, "`")
			continue
		}
		if table != "" && strings.HasPrefix(line, "| `") {
			col := strings.Trim(strings.SplitN(line, "|", 3)[1], " `")
			documented[table] = append(documented[table], col)
		}
	}
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	rows, err := s.db.Query(`SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> 'goose_db_version' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	actual := map[string][]string{}
	for rows.Next() {
		var tbl, col string
		if err := rows.Scan(&tbl, &col); err != nil {
			t.Fatal(err)
		}
		actual[tbl] = append(actual[tbl], col)
	}
	if fmt.Sprint(documented) != fmt.Sprint(actual) {
		t.Errorf("docs/schema/store.md documents\n%v\nthe schema has\n%v", documented, actual)
	}
}

// TestPipelinedBatches stores many distinct rows the way sniff does
// (pipelined batches of IngestOptions' default size, raw records kept):
// PostgreSQL's staging tables are emptied between batches, a row met in
// several batches adds up, and both dialects end with the same counts.
func TestPipelinedBatches(t *testing.T) {
	const distinct, rounds = 1300, 3
	var fs []Fact
	for r := 0; r < rounds; r++ {
		for i := 0; i < distinct; i++ {
			at := day0.Add(time.Duration(r*distinct+i) * time.Second)
			fs = append(fs, Fact{Client: netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), Server: fmt.Sprintf("192.0.2.%d:443", i%7),
				Protocol: "https", Version: uint16(tls.VersionTLS10) + uint16(i%4), Offered: []uint16{uint16(tls.VersionTLS10) + uint16(i%4)},
				SNI: fmt.Sprintf("h%d.example", i), JA4: fmt.Sprintf("t1%dd_%d", i%4, i%11), Legacy: Legacy(i % 2),
				OfferedCiphers: []uint16{0xC02F, uint16(i)}, First: at, Last: at, Record: []byte(fmt.Sprintf(`{"n":%d}`, r*distinct+i))})
		}
	}
	var snaps []snapshot
	each(t, func(t *testing.T, dsn string, s *Store) {
		ctx := context.Background()
		for run, content := range []string{"p1", "p2"} {
			in, err := s.Begin(ctx, SourceSpec{Kind: KindCapture, Name: content + ".pcap", Content: content}, IngestOptions{Pipelined: true, Records: true})
			if err != nil {
				t.Fatal(err)
			}
			for i := range fs {
				if err := in.Add(ctx, &fs[i]); err != nil {
					t.Fatal(err)
				}
			}
			if err := in.Finish(ctx, StateComplete, ""); err != nil {
				t.Fatal(err)
			}
			c, err := s.Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n := int64(run + 1)
			if c.Evidence != distinct || c.Connections != n*int64(len(fs)) || c.LegacyConnections != n*int64(len(fs))/2 ||
				c.Flows != n*int64(len(fs)) || c.Fingerprints != 44 {
				t.Fatalf("after %d runs: %+v", run+1, c)
			}
			if got := in.Source().Records; got != int64(len(fs)) {
				t.Fatalf("source records %d, want %d", got, len(fs))
			}
		}
		snaps = append(snaps, snap(t, s))
	})
	if len(snaps) == 2 && !reflect.DeepEqual(snaps[0], snaps[1]) {
		t.Fatalf("SQLite and PostgreSQL differ:\n%+v\n%+v", snaps[0].counts, snaps[1].counts)
	}
}
