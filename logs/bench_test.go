package logs

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
)

// benchLog generates n lines of a log (nginx's format with the TLS fields,
// or a Postfix and Dovecot maillog) from clients spread over a /16, with
// versions and ciphers in the proportions a migration meets.
func benchLog(kind string, n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	versions := []string{"TLSv1.3", "TLSv1.3", "TLSv1.2", "TLSv1.2", "TLSv1.2", "TLSv1.1", "TLSv1"}
	cipher := map[string]string{"TLSv1.3": "TLS_AES_256_GCM_SHA384", "TLSv1.2": "ECDHE-RSA-AES128-GCM-SHA256",
		"TLSv1.1": "ECDHE-RSA-AES256-SHA", "TLSv1": "AES128-SHA"}
	agents := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36", "curl/7.29.0", "okhttp/3.12.0", "Java/1.7.0_80", "python-requests/2.31.0"}
	var b bytes.Buffer
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		c := r.IntN(5000)              // clients: a few thousand, each seen many times
		v := versions[c%len(versions)] // each mostly with its own version and agent
		if r.IntN(10) == 0 {
			v = versions[r.IntN(len(versions))]
		}
		ip := fmt.Sprintf("10.%d.%d.%d", 20+c>>12, c>>8&15, 1+c&255%254)
		t := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		switch kind {
		case "nginx":
			fmt.Fprintf(&b, "%s - - [%s] \"GET /api/v1/items/%d HTTP/1.1\" 200 %d \"-\" \"%s\" %s %s\n",
				ip, t.Format("02/Jan/2006:15:04:05 -0700"), r.IntN(100000), r.IntN(50000), agents[c%len(agents)], v, cipher[v])
		case "maillog":
			ts := t.Format("Jan _2 15:04:05")
			if i%2 == 0 {
				pid := 1000 + i%64
				fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: connect from unknown[%s]\n", ts, pid, ip)
				fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: Anonymous TLS connection established from unknown[%s]: %s with cipher %s (256/256 bits)\n", ts, pid, ip, v, cipher[v])
				fmt.Fprintf(&b, "%s mx postfix/smtpd[%d]: disconnect from unknown[%s] ehlo=1 starttls=1 quit=1 commands=3\n", ts, pid, ip)
			} else {
				fmt.Fprintf(&b, "%s mx dovecot: imap-login: Login: user=<u%d>, method=PLAIN, rip=%s, lip=10.0.0.1, mpid=%d, TLS, session=<abc%d>, %s with cipher %s (256/256 bits)\n",
					ts, r.IntN(5000), ip, i, i, v, cipher[v])
			}
		}
	}
	return b.Bytes()
}

// BenchmarkRead measures reading a log into observations and their
// aggregation, per format: the cost per line and the throughput.
func BenchmarkRead(b *testing.B) {
	for _, tc := range []struct {
		kind   string
		format Format
	}{
		{"nginx", Format{Kind: KindNginx, Pattern: `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $ssl_protocol $ssl_cipher`}},
		{"maillog", Format{Kind: KindMaillog}},
	} {
		data := benchLog(tc.kind, 100000)
		lines := bytes.Count(data, []byte("\n"))
		b.Run(tc.kind, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				agg := evidence.NewAggregator(0)
				rep := evidence.NewReport(evidence.ReportConfig{})
				r := NewReader(Config{Format: tc.format, Location: time.UTC, Now: func() time.Time { return fixedNow }},
					func(o *evidence.Observation) { agg.Add(o); rep.Add(o) })
				if err := r.Read(context.Background(), bytes.NewReader(data), "bench"); err != nil {
					b.Fatal(err)
				}
				r.Close()
				if st := r.Stats(); st.Malformed != 0 || st.Lines != int64(lines) {
					b.Fatalf("stats %+v", st)
				}
			}
			b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}
