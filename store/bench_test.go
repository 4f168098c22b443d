package store

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// BenchmarkIngest stores 10,000 distinct facts (each its own row, as the
// connections of a capture whose every handshake has an SNI of its own)
// in one batch into SQLite: the cost sniff --store adds at its commits.
func BenchmarkIngest(b *testing.B) {
	ctx := context.Background()
	facts := make([]Fact, 10000)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range facts {
		facts[i] = Fact{Client: netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), Server: "192.0.2.1:443", Protocol: "https",
			Version: uint16(tls.VersionTLS12), Cipher: 0xC02F, Offered: []uint16{uint16(tls.VersionTLS12)},
			SNI: fmt.Sprintf("h%d.bench.test", i), JA4: "t12d1209h2_d34a8e72043a_b39be8c56a14", First: at, Last: at}
	}
	for b.Loop() {
		b.StopTimer()
		st, err := Open(ctx, filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		in, err := st.Begin(ctx, SourceSpec{Kind: KindCapture, Name: "x", Content: "x"}, IngestOptions{BatchRecords: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		for i := range facts {
			in.Add(ctx, &facts[i])
		}
		if err := in.Finish(ctx, StateComplete, ""); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(facts)), "ns/row")
}
