package scan

import (
	"context"
	"testing"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// BenchmarkScanFullRegistry scans a faketls server that accepts about 60
// suites over TLS 1.0–1.3 (server preference), with groups, without the
// certificate.
func BenchmarkScanFullRegistry(b *testing.B) {
	cfg := faketls.Config{Suites: map[tls.Version][]uint16{}, ServerPreference: true}
	sizes := map[tls.Version]int{tls.VersionTLS10: 12, tls.VersionTLS11: 12, tls.VersionTLS12: 30, tls.VersionTLS13: 5}
	for v, n := range sizes {
		cfg.Suites[v] = pick(v, n, uint64(v))
	}
	srv := faketls.Start(b, cfg)
	tg := targetOf(b, srv.Addr())
	opts := testOptions(AllVersions...)
	opts.SkipGroups = false
	b.ResetTimer()
	conns := 0
	for b.Loop() {
		res := ScanTarget(context.Background(), tg, opts)
		conns += res.Handshakes.Total
	}
	b.ReportMetric(float64(conns)/float64(b.N), "conns/op")
}
