package scan_test

import (
	"context"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/scan"
)

// dbServer is one real endpoint of TestDatabaseRealServers.
type dbServer struct {
	name     string
	url      string
	starttls string // s_client -starttls
	check    func(t *testing.T, d *protocols.Dialogue)
}

// TestDatabaseRealServers scans the real database servers of
// internal/protoserver — PostgreSQL (SSLRequest), MariaDB (the greeting and
// an SSL request) — each configured for
// TLS 1.0–1.3 with OpenSSL's whole cipher list at security level 0,
// through the registered dialogues, and requires exactly what openssl
// s_client -starttls postgres|mysql alone finds (realserver.OpenSSLTruth): the
// same (version, suite) pairs, the same verdict on server preference,
// the server's order where it enforces one. It also checks the dialogue
// kept in the Result.
func TestDatabaseRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts postgresql and mariadb and runs hundreds of s_client processes")
	}
	pg := protoserver.PostgresT(t, protoserver.PostgresOptions{})
	db := protoserver.MariaDBT(t, protoserver.MariaDBOptions{})
	servers := []dbServer{
		{"postgres", "postgres://" + pg.Addr("postgres"), "postgres", func(t *testing.T, d *protocols.Dialogue) {
			if d == nil || d.Protocol != "postgres" || !d.STARTTLSAdvertised || d.Attributes["sslrequest"] != "S" {
				t.Errorf("dialogue %+v", d)
			}
		}},
		{"mariadb", "mysql://" + db.Addr("mysql"), "mysql", func(t *testing.T, d *protocols.Dialogue) {
			if d == nil || d.Protocol != "mysql" || !d.STARTTLSAdvertised || d.Software != "MariaDB" || len(d.Capabilities) == 0 {
				t.Errorf("dialogue %+v", d)
			}
		}},
	}
	for _, m := range servers {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			target, err := scan.ParseTarget(m.url, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			truth, err := realserver.OpenSSLTruth(ctx, target.DialAddress(), realserver.TruthOptions{STARTTLS: m.starttls, Parallel: 4})
			if err != nil {
				t.Fatalf("truth: %v\n%s\n%s", err, pg.Log(), db.Log())
			}
			start := time.Now()
			res := scan.ScanTarget(ctx, target, scan.Options{
				Timeout: 10 * time.Second,
				Dialer:  &scan.NetDialer{Timeout: 10 * time.Second, Dialogue: protocols.Options{Probe: true}},
			})
			scanTime := time.Since(start)
			t.Logf("truth: %d s_client runs in %v; tlsmap: %d handshakes in %v",
				truth.Runs, truth.Elapsed.Round(time.Millisecond), res.Handshakes.Total, scanTime.Round(time.Millisecond))
			t.Logf("truth: %s", summary(truth))
			for _, d := range compareTruth(truth, res) {
				t.Errorf("%s: %s", m.name, d)
			}
			if t.Failed() {
				t.Logf("truth: %s", describeTruth(truth))
				t.Logf("tlsmap: %s", describeResult(res))
			}
			m.check(t, res.Dialogue)
		})
	}
}
