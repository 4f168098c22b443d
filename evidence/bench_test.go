package evidence

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// benchObservations are n observations from a few thousand clients, each
// mostly with its own version and user agent, as a day of an access log.
func benchObservations(n int) []Observation {
	r := rand.New(rand.NewPCG(1, 2))
	versions := []tls.Version{tls.VersionTLS13, tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS12, tls.VersionTLS11, tls.VersionTLS10}
	agents := []string{"Mozilla/5.0", "curl/7.29.0", "okhttp/3.12.0", "Java/1.7.0_80", "python-requests/2.31.0"}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Observation, n)
	for i := range out {
		c := r.IntN(5000)
		v := versions[c%len(versions)]
		out[i] = Observation{Source: SourceNginx, Time: t0.Add(time.Duration(i) * time.Millisecond),
			Client: netip.AddrFrom4([4]byte{10, byte(c >> 8), byte(c), 1}), Server: netip.MustParseAddrPort("10.0.0.1:443"),
			ServerName: "app.example.com", Protocol: "https", Transport: TransportTLS, Version: v,
			Cipher: SuiteCipher(0xC02F), UserAgent: agents[c%len(agents)]}
	}
	return out
}

// BenchmarkAggregate measures the per-observation cost of the two
// aggregations tlsmap logs and sniff run on every connection.
func BenchmarkAggregate(b *testing.B) {
	obs := benchObservations(100000)
	b.Run("records", func(b *testing.B) {
		for b.Loop() {
			a := NewAggregator(0)
			for i := range obs {
				a.Add(&obs[i])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(obs)), "ns/observation")
	})
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			r := NewReport(ReportConfig{})
			for i := range obs {
				r.Add(&obs[i])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(obs)), "ns/observation")
	})
}
