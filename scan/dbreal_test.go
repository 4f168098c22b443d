package scan_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/truthprobe"
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
			checkAuto(t, target.DialAddress(), target.Protocol, protocols.Options{})
		})
	}
}

// checkAuto scans addr as an auto target (--starttls auto, versions only)
// with dialogue as its dialogues' options (XMPP's domain, as --xmpp-domain
// gives it) and requires the protocol found to be want.
func checkAuto(t *testing.T, addr string, want scan.Protocol, dialogue protocols.Options) {
	t.Helper()
	target, err := scan.ParseTarget(addr, scan.TargetOptions{STARTTLS: scan.ProtoAuto})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res := scan.ScanTarget(ctx, target, scan.Options{Timeout: 10 * time.Second, VersionsOnly: true, SkipGroups: true, SkipCert: true, GreetingWait: 2 * time.Second,
		Dialer: &scan.NetDialer{Timeout: 10 * time.Second, Dialogue: dialogue}})
	d := res.Detected
	if d == nil || d.Protocol != want || res.Target.Protocol != want || res.Status != scan.StatusOK {
		t.Errorf("--starttls auto: status %s (%s), detected %+v, want %s", res.Status, res.Error, d, want)
		return
	}
	t.Logf("AUTO %s | %s | %d connections | %s", addr, d.Protocol, d.Connections, d.Evidence)
}

// x224Dial opens a connection to addr and runs the RDP negotiation on
// it, written here from [MS-RDPBCGR] §2.2.1.1 and §2.2.1.2 apart from
// protocols/rdp: a 19-byte X.224 Connection Request with an RDP
// Negotiation Request for PROTOCOL_SSL|PROTOCOL_HYBRID, then the 19-byte
// Connection Confirm, whose RDP Negotiation Response must select
// PROTOCOL_SSL. The connection is then at the server's first TLS byte.
func x224Dial(addr string) func(ctx context.Context) (net.Conn, error) {
	request := []byte{0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00}
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		}
		confirm := make([]byte, 19)
		if _, err := conn.Write(request); err != nil {
			conn.Close()
			return nil, err
		}
		if _, err := io.ReadFull(conn, confirm); err != nil {
			conn.Close()
			return nil, err
		}
		// TPKT 03 00 00 13, LI 0e, CC d0, refs, class, RDP_NEG_RSP 02,
		// flags, length 08 00, selectedProtocol 1 (little-endian).
		if confirm[0] != 3 || confirm[3] != 19 || confirm[5] != 0xd0 || confirm[11] != 0x02 || !bytes.Equal(confirm[15:], []byte{1, 0, 0, 0}) {
			conn.Close()
			return nil, fmt.Errorf("x224: confirm % x does not select PROTOCOL_SSL", confirm)
		}
		_ = conn.SetDeadline(time.Time{})
		return conn, nil
	}
}

// TestRDPRealServer scans xrdp (Debian's package, TLS 1.0–1.3 with
// OpenSSL's whole cipher list at security level 0) through the registered
// RDP dialogue and requires exactly what the one-suite-per-hello truth
// finds through an X.224 negotiation of its own (internal/truthprobe,
// every registry code point at every version, standard library only):
// the same accepted and chosen-not-completed pairs, the same server-order
// verdict, the server's order where it enforces one. The dialogue kept
// must say that xrdp, negotiating, also allows standard RDP security.
func TestRDPRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts xrdp and runs thousands of truth hellos")
	}
	srv := protoserver.XrdpT(t, protoserver.XrdpOptions{})
	addr := srv.Addr("rdp")
	var registry []uint16
	for _, s := range ciphers.All() {
		if s.Kind == ciphers.KindSuite {
			registry = append(registry, s.ID)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	topts := truthprobe.Options{Addr: addr, Timeout: 10 * time.Second, Parallel: 8, Dial: x224Dial(addr)}
	truth, err := truthprobe.Run(ctx, topts, nil, registry)
	if err != nil {
		t.Fatalf("truth: %v\n%s", err, srv.Log())
	}
	target, err := scan.ParseTarget("rdp://"+addr, scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := scan.ScanTarget(ctx, target, scan.Options{
		Timeout: 10 * time.Second, SkipGroups: true,
		Dialer: &scan.NetDialer{Timeout: 10 * time.Second, Dialogue: protocols.Options{Probe: true}},
	})
	t.Logf("truth: %d hellos in %v; tlsmap: %d handshakes in %v", truth.Hellos, truth.Elapsed.Round(time.Millisecond),
		res.Handshakes.Total, time.Since(start).Round(time.Millisecond))
	for _, v := range res.Versions {
		t.Logf("%s: truth %d accepted; tlsmap %d", v.Name(), len(truth.Accepted[uint16(v.Version)]), len(v.Suites))
	}
	for _, d := range compareProbeTruth(ctx, topts, truth, res) {
		t.Errorf("xrdp: %s", d)
	}
	d := res.Dialogue
	if d == nil || d.Protocol != "rdp" || !d.STARTTLSAdvertised || d.Attributes["selected_protocol"] != "PROTOCOL_SSL" ||
		d.Attributes["standard_rdp_security"] != "accepted (PROTOCOL_RDP selected)" {
		t.Errorf("dialogue %+v", d)
	}
	checkAuto(t, addr, "rdp", protocols.Options{})
}
