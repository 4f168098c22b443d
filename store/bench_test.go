package store

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/pgtest"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// BenchmarkIngest stores 10,000 distinct facts (each its own row, as the
// connections of a capture whose every handshake has an SNI of its own)
// in batches of IngestOptions' default size, each iteration a new source
// of a new day, into SQLite and into PostgreSQL: the cost sniff --store
// adds at its commits. The batches are written in turn (not pipelined),
// so that ns/row is the whole write, the database server's part included.
func BenchmarkIngest(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIngest(b, filepath.Join(b.TempDir(), "s.db"), false) })
	b.Run("postgres", func(b *testing.B) { benchIngest(b, pgtest.DSN(b), false) })
	// --store-flows: each fact with its record, as long as the bench
	// capture's (1,173 bytes on average).
	b.Run("sqlite-records", func(b *testing.B) { benchIngest(b, filepath.Join(b.TempDir(), "s.db"), true) })
	b.Run("postgres-records", func(b *testing.B) { benchIngest(b, pgtest.DSN(b), true) })
}

func benchIngest(b *testing.B, dsn string, records bool) {
	ctx := context.Background()
	st, err := Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	facts := benchFacts(day)
	if records {
		for i := range facts {
			facts[i].Record = benchRecord(i)
		}
	}
	n := 0
	for b.Loop() {
		n++
		at := day.AddDate(0, 0, n)
		for i := range facts {
			facts[i].First, facts[i].Last = at, at
		}
		in, err := st.Begin(ctx, SourceSpec{Kind: KindCapture, Name: "x", Content: fmt.Sprint("x", n)}, IngestOptions{Records: records})
		if err != nil {
			b.Fatal(err)
		}
		for i := range facts {
			if err := in.Add(ctx, &facts[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := in.Finish(ctx, StateComplete, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(facts)), "ns/row")
}

// BenchmarkIngestFresh is what bench/store-compare.sh's sniff --store
// into a new SQLite file costs the store: 10,000 distinct facts (a third
// of them legacy) into a store of its own, in batches of IngestOptions'
// default size written in turn, and the store's closing (the WAL's last
// checkpoint) — the store's migration is not timed. ns/row is the whole;
// ns/row-open the same without the closing.
func BenchmarkIngestFresh(b *testing.B) {
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	facts := benchFacts(day)
	var open time.Duration
	n := 0
	for b.Loop() {
		n++
		b.StopTimer()
		st, err := Open(ctx, filepath.Join(b.TempDir(), fmt.Sprint(n, ".db")))
		if err != nil {
			b.Fatal(err)
		}
		in, err := st.Begin(ctx, SourceSpec{Kind: KindCapture, Name: "x", Content: "x"}, IngestOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		for i := range facts {
			if err := in.Add(ctx, &facts[i]); err != nil {
				b.Fatal(err)
			}
		}
		if err := in.Finish(ctx, StateComplete, ""); err != nil {
			b.Fatal(err)
		}
		open += time.Since(t0)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(facts)), "ns/row")
	b.ReportMetric(float64(open.Nanoseconds())/float64(b.N)/float64(len(facts)), "ns/row-open")
}

// benchFacts returns 10,000 distinct facts of day: 200 clients, each
// handshake with an SNI of its own (bench/store-compare.sh's capture).
func benchFacts(day time.Time) []Fact {
	facts := make([]Fact, 10000)
	for i := range facts {
		facts[i] = Fact{Client: netip.AddrFrom4([4]byte{10, 1, 0, byte(i % 200)}), Server: "192.0.2.1:443", Protocol: "https",
			Version: uint16(tls.VersionTLS12), Cipher: 0xC02F, Offered: []uint16{uint16(tls.VersionTLS13), uint16(tls.VersionTLS12)},
			SNI: fmt.Sprintf("h%d.bench.test", i), JA4: "t12d1209h2_d34a8e72043a_b39be8c56a14", Legacy: Legacy(i % 3 / 2),
			OfferedCiphers: []uint16{0x1301, 0x1302, 0xC02F}, First: day, Last: day}
	}
	return facts
}

// benchRecord is a flow record of 1,173 bytes, distinct for each i.
func benchRecord(i int) []byte {
	r := fmt.Appendf(nil, `{"schema":"tlsmap.sniff/1","client":"10.1.0.%d:%d","server":"192.0.2.1:443","protocol":"https","sni":"h%d.bench.test"`, i%200, 40000+i%20000, i)
	r = append(r, `,"offered_ciphers":["0x1301","0x1302","0x1303","0xc02b","0xc02f","0xc02c","0xc030","0xcca9","0xcca8","0xc013","0xc014","0x009c","0x009d","0x002f","0x0035"]`...)
	for len(r) < 1172 {
		r = append(r, `,"x":"padding"`...)
	}
	return append(r[:1172], '}')
}

// BenchmarkIngestAdd is what Add costs the goroutine that reads (a
// sniffer's): 10,000 distinct facts into the open batch, no commit.
func BenchmarkIngestAdd(b *testing.B) {
	facts := benchFacts(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	in := &Ingest{opts: IngestOptions{BatchRecords: 1 << 30, BatchRows: 1 << 30, BatchInterval: time.Hour, Now: time.Now},
		src: Source{Kind: KindCapture}}
	in.reset()
	b.ReportAllocs()
	for b.Loop() {
		for i := range facts {
			in.add(&facts[i])
		}
		in.reset()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(facts)), "ns/fact")
}
