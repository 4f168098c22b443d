package readiness_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/pgtest"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The benchmark estate: a month of evidence from four span ports over
// 1,000 server endpoints and 100,000 client addresses, each aggregated
// row a client × server × day × (version, cipher, fingerprint) variant;
// 2,000 legacy clients use legacy TLS with three servers each, every day
// (about 4% of the rows). Four weekly scans of every endpoint, a third of
// which accept legacy TLS.
const (
	benchDays      = 30
	benchServers   = 1000
	benchClients   = 100000
	benchLegacy    = 2000
	benchSensors   = 4
	benchScanRuns  = 4
	benchLegacyPer = 3
)

var benchEnd = time.Date(2026, 3, 31, 23, 0, 0, 0, time.UTC)

// benchRows is TLSMAP_BENCH_ROWS (default 200,000, so that `make bench`
// stays quick; `make bench-report` asks for 10,000,000).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("TLSMAP_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// fillStore writes the estate, rows evidence rows in all, with SQL of the
// store's dialect (10 million rows through the ingest's upserts would take
// the better part of an hour on this machine; what is timed is the
// report, not the writing).
func fillStore(b *testing.B, st *store.Store, rows int) {
	ctx := context.Background()
	db := st.DB()
	start := benchEnd.Add(-benchDays * 24 * time.Hour).Truncate(24 * time.Hour)
	perDay := rows / benchDays
	legacyPerDay := benchLegacy * benchLegacyPer
	pg := st.Dialect() == store.Postgres
	ph := func(i int) string {
		if pg {
			return "$" + strconv.Itoa(i)
		}
		return "?" + strconv.Itoa(i)
	}
	// Row i of a day: the first legacyPerDay are the legacy clients' (a
	// client, three servers each); the rest distinct modern client ×
	// server × variant rows.
	series := "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < " + ph(1) + " - 1) "
	from := " FROM n"
	key := "randomblob(16)"
	if pg {
		series, from, key = "", " FROM generate_series(0::bigint, "+ph(1)+"::bigint - 1) AS n(i)", "decode(md5(("+ph(2)+" * 100000000 + i)::text), 'hex')"
	}
	client := func(c string) string {
		return "'10.' || (2 + ((" + c + ") >> 16)) || '.' || (((" + c + ") >> 8) & 255) || '.' || ((" + c + ") & 255)"
	}
	server := func(s string) string {
		return "'10.1.' || ((" + s + ") / 250) || '.' || ((" + s + ") % 250 + 1) || ':443'"
	}
	lp := strconv.Itoa(legacyPerDay)
	k := "(i - " + lp + ")"
	cm := "(" + k + " / 3)"
	query := series + `INSERT INTO evidence (day, key, kind, client, via, server, protocol, version, cipher, offered, sni, ja3, ja4, legacy, connections, first_seen, last_seen)
		SELECT ` + ph(2) + `, ` + key + `, 'capture',
			CASE WHEN i < ` + lp + ` THEN ` + client("i / 3") + ` ELSE ` + client(cm+" % "+strconv.Itoa(benchClients)) + ` END, '',
			CASE WHEN i < ` + lp + ` THEN ` + server("((i / 3) * 7 + (i % 3) * 131) % "+strconv.Itoa(benchServers)) +
		` ELSE ` + server("(("+cm+" / "+strconv.Itoa(benchClients)+") * 37 + "+cm+") % "+strconv.Itoa(benchServers)) + ` END,
			'https',
			CASE WHEN i < ` + lp + ` THEN 769 WHEN ` + k + ` % 3 = 1 THEN 771 ELSE 772 END,
			CASE WHEN i < ` + lp + ` THEN 49172 WHEN ` + k + ` % 3 = 0 THEN 4865 WHEN ` + k + ` % 3 = 1 THEN 49199 ELSE 4866 END,
			CASE WHEN i < ` + lp + ` THEN 'TLSv1.0' WHEN ` + k + ` % 3 = 1 THEN 'TLSv1.2' ELSE 'TLSv1.3;TLSv1.2' END,
			'www.bench.test', '',
			CASE WHEN i < ` + lp + ` THEN 't10d230600_44099cda8a52_195413a0cc0f' WHEN ` + k + ` % 3 = 0 THEN 't13d1516h2_8daaf6152771_e5627efa2ab1'
				WHEN ` + k + ` % 3 = 1 THEN 't12d1209h2_d34a8e72043a_b39be8c56a14' ELSE 't13d1713h2_5b57614c22b0_3d5424432f57' END,
			CASE WHEN i < ` + lp + ` THEN 3 ELSE 0 END,
			1 + (i * 7919) % 40,
			` + ph(3) + ` + (i % 86400) * 1000000000, ` + ph(3) + ` + (i % 86400) * 1000000000 + 60000000000` + from
	srcQuery := `INSERT INTO sources (kind, name, content, size, state, settings, tool, host, pid, owner, started_at, updated_at, finished_at, first_seen, last_seen, records)
		VALUES ('capture', ` + ph(1) + `, ` + ph(1) + `, 0, 'complete', '', 'bench', 'bench', 0, '', ` + ph(2) + `, ` + ph(2) + `, ` + ph(2) + `, ` + ph(2) + `, ` + ph(3) + `, ` + ph(4) + `)`
	covQuery := series + `INSERT INTO coverage (source_id, day, server, kind, tls, legacy, unread, first_seen, last_seen)
		SELECT ` + ph(2) + `, ` + ph(3) + `, ` + server("i") + `, 'capture', 100 + i % 50, 0, i % 7, ` + ph(4) + `, ` + ph(4) + ` + 86000000000000` + from
	if pg {
		query = strings.NewReplacer("$2", "$2::bigint", "$3", "$3::bigint").Replace(query)
		covQuery = `INSERT INTO coverage (source_id, day, server, kind, tls, legacy, unread, first_seen, last_seen)
		SELECT $2::bigint, $3::bigint, ` + server("i") + `, 'capture', 100 + i % 50, 0, i % 7, $4::bigint, $4::bigint + 86000000000000 FROM generate_series(0::bigint, $1::bigint - 1) AS n(i)`
	}
	for d := range benchDays {
		day := store.DayOf(start.Add(time.Duration(d) * 24 * time.Hour))
		t0 := day.Time().UnixNano()
		args := []any{int64(perDay), int64(day), t0}
		if _, err := db.ExecContext(ctx, query, args...); err != nil {
			b.Fatalf("day %d: %v", d, err)
		}
		for sensor := range benchSensors {
			var id int64
			name := fmt.Sprintf("sensor%d-day%02d.pcap", sensor, d)
			if err := db.QueryRowContext(ctx, srcQuery+" RETURNING id", name, t0, t0+86_000_000_000_000, int64(perDay/benchSensors)).Scan(&id); err != nil {
				b.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, covQuery, int64(benchServers), id, int64(day), t0); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO fingerprints (ja3, ja4, label, offered_versions, offered_ciphers, first_seen) VALUES
		('', 't10d230600_44099cda8a52_195413a0cc0f', 'legacy payment terminal', 'TLSv1.0', '0xC014;0x002F', 0)`); err != nil {
		b.Fatal(err)
	}
	for r := range benchScanRuns {
		w, err := st.BeginScan(ctx, store.RunSpec{Name: fmt.Sprintf("week-%d", r)})
		if err != nil {
			b.Fatal(err)
		}
		at := benchEnd.Add(-time.Duration(benchScanRuns-r-1) * 7 * 24 * time.Hour)
		for s := range benchServers {
			tls10 := "rejected"
			if s%3 == 0 {
				tls10 = "accepted"
			}
			vs, _ := store.ParseVersions("SSLv2=rejected;SSLv3=rejected;TLSv1.0=" + tls10 + ";TLSv1.1=" + tls10 + ";TLSv1.2=accepted;TLSv1.3=accepted")
			ep := fmt.Sprintf("10.1.%d.%d:443", s/250, s%250+1)
			if err := w.Add(ctx, store.ScanResult{Endpoint: ep, Target: "https://" + ep, Address: ep, Port: 443,
				Protocol: "https", Status: "ok", Versions: vs, Scanned: at, Record: []byte(`{"schema":"tlsmap.scan/1"}`)}); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Finish(ctx, store.RunComplete); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStore opens the estate's store of dialect: SQLite is kept between
// runs in the temporary directory (made once per size), PostgreSQL is made
// on the tests' own server.
func benchStore(b *testing.B, dialect string, rows int) *store.Store {
	b.Helper()
	ctx := context.Background()
	var dsn string
	fresh := true
	if dialect == "sqlite" {
		dsn = filepath.Join(os.TempDir(), fmt.Sprintf("tlsmap-bench-report-%d-v2.db", rows))
		if _, err := os.Stat(dsn + ".done"); err == nil {
			fresh = false
		} else {
			os.Remove(dsn)
			os.Remove(dsn + "-wal")
			os.Remove(dsn + "-shm")
		}
	} else {
		dsn = pgtest.DSN(b)
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if fresh {
		t0 := time.Now()
		fillStore(b, st, rows)
		if dialect == "sqlite" {
			st.DB().ExecContext(ctx, "ANALYZE")
			os.WriteFile(dsn+".done", nil, 0o644)
		} else {
			st.DB().ExecContext(ctx, "VACUUM ANALYZE")
		}
		c, err := st.Count(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d evidence rows (%d connections, %d legacy), %d coverage rows, %d scan results, written in %v",
			dialect, c.Evidence, c.Connections, c.LegacyConnections, c.Coverage, c.Results, time.Since(t0).Round(time.Second))
	}
	return st
}

// BenchmarkReport times `tlsmap report`'s work over the estate: the
// decisions over a 30-day window (every legacy row of the window read,
// the coverage, the latest scans), and the whole JSON Lines report
// written.
func BenchmarkReport(b *testing.B) {
	rows := benchRows()
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/rows=%d", dialect, rows), func(b *testing.B) {
			st := benchStore(b, dialect, rows)
			ctx := context.Background()
			opts := readiness.Options{Until: benchEnd, Since: 30 * 24 * time.Hour}
			var r *readiness.Report
			cpu0 := processCPU()
			for b.Loop() {
				var err error
				if r, err = readiness.Build(ctx, st, opts); err != nil {
					b.Fatal(err)
				}
				if err := output.WriteReport(io.Discard, output.FormatJSONL, output.ViewAll, r); err != nil {
					b.Fatal(err)
				}
			}
			// Wall time depends on what else the machine runs; the CPU the
			// process used (the store's too, for SQLite) much less.
			b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(r.Summary.Endpoints), "endpoints")
			b.ReportMetric(float64(r.Summary.LegacyClients), "legacy-clients")
		})
	}
}
