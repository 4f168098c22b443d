package scan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	stdx509 "crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	wire "github.com/tlsmap/tlsmap/protocols/tls"
)

func TestSNIName(t *testing.T) {
	for _, tc := range []struct {
		name    string
		subject string
		sans    []string
		want    string
	}{
		{"first DNS SAN", "CN=other.example", []string{"db.example.com", "www.example.com", "192.0.2.1"}, "db.example.com"},
		{"lowered, no trailing dot", "", []string{"DB.Example.COM."}, "db.example.com"},
		{"wildcard skipped", "", []string{"*.example.com", "example.com"}, "example.com"},
		{"only a wildcard: none", "CN=example.com", []string{"*.example.com", "192.0.2.1"}, ""},
		{"an invalid DNS SAN skipped", "", []string{"bad_-.exa mple", "ok.example"}, "ok.example"},
		{"IP SANs only: the CN", "CN=db.example.com, O=Example", []string{"192.0.2.1", "2001:db8::1"}, "db.example.com"},
		{"RFC 4514 subject", "CN=db.example.com,O=Example", nil, "db.example.com"},
		{"CN later in the subject", "O=Example, CN=db.example.com", nil, "db.example.com"},
		{"e-mail SAN is no name", "CN=db.example.com", []string{"admin@example.com"}, "db.example.com"},
		{"CN not a host name", "CN=Example Server, O=Example", []string{"192.0.2.1"}, ""},
		{"CN an IP address", "CN=192.0.2.1", nil, ""},
		{"CN wildcard", "CN=*.example.com", nil, ""},
		{"CN with an escape", `CN=a\,b.example`, nil, ""},
		{"multi-valued RDN", "CN=db.example.com+O=Example", nil, ""},
		{"nothing", "", nil, ""},
		{"single label", "CN=localhost", []string{"localhost", "127.0.0.1"}, "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sniName(CertSummary{Subject: tc.subject, SANs: tc.sans}); got != tc.want {
				t.Errorf("sniName(%q, %q) = %q, want %q", tc.subject, tc.sans, got, tc.want)
			}
		})
	}
}

func TestSNINote(t *testing.T) {
	leaf := &CertSummary{Subject: "CN=db.example.com", KeyType: "ECDSA", KeyBits: 256, Curve: "P-256", SHA256: strings.Repeat("3f", 32)}
	differs := (&SNICheck{Name: "db.example.com", Outcome: SNIDiffers, Leaf: leaf}).Note()
	for _, want := range []string{"with SNI db.example.com", "another certificate (ECDSA P-256, CN=db.example.com, sha256 3f3f3f3f3f3f3f3f…)", "rescan with --sni db.example.com"} {
		if !strings.Contains(differs, want) {
			t.Errorf("differs: %q lacks %q", differs, want)
		}
	}
	inc := (&SNICheck{Name: "db.example.com", Outcome: SNIInconclusive, Error: Failure{Stage: StageHandshake, Reason: "timed out"}}).Note()
	for _, want := range []string{"not known", "handshake: timed out", "--sni db.example.com"} {
		if !strings.Contains(inc, want) {
			t.Errorf("inconclusive: %q lacks %q", inc, want)
		}
	}
	if strings.Contains(inc, "same") {
		t.Errorf("inconclusive note claims something: %q", inc)
	}
	if n := (&SNICheck{Name: "db.example.com", Outcome: SNISame}).Note(); n != "" {
		t.Errorf("same: note %q", n)
	}
	if n := (*SNICheck)(nil).Note(); n != "" {
		t.Errorf("nil: note %q", n)
	}
}

// TestSNICheck scans IP targets of crypto/tls servers with the
// certificate pass on: one that picks its certificate by SNI (ECDSA for
// example.test, RSA otherwise), one with one certificate, one that fails
// or never answers a hello with SNI, and one whose leaf names no host.
func TestSNICheck(t *testing.T) {
	t.Parallel()
	p := loadPKI(t)
	// A leaf for a wildcard and an IP address only: no name to send.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &stdx509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "*.example.test"},
		DNSNames: []string{"*.example.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: testNow.Add(-day), NotAfter: testNow.Add(30 * day),
	}
	der, err := stdx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	wildcard := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}

	bySNI := func(h *tls.ClientHelloInfo, _ <-chan struct{}) (*tls.Certificate, error) {
		if h.ServerName == "example.test" {
			return &p.ecdsaLeaf, nil
		}
		return &p.rsaLeaf, nil
	}
	for _, tc := range []struct {
		name string
		// pick is the server's GetCertificate; stop is closed when the
		// subtest ends.
		pick func(h *tls.ClientHelloInfo, stop <-chan struct{}) (*tls.Certificate, error)
		host string // Target.Host: a named target
		sni  string // CertOptions.ServerName (--sni)

		outcome  SNIOutcome // "": no check
		leafSHA  string     // SNICheck.Leaf's
		inReason string
		certs    int // Handshakes.Certificate
	}{
		{name: "by SNI", pick: bySNI, outcome: SNIDiffers, leafSHA: fingerprint(p.ecdsaLeaf.Certificate[0]), certs: 2},
		{name: "by SNI, named target", pick: bySNI, host: "example.test", certs: 1},
		{name: "by SNI, --sni", pick: bySNI, sni: "example.test", certs: 1},
		{name: "one certificate", pick: func(*tls.ClientHelloInfo, <-chan struct{}) (*tls.Certificate, error) { return &p.rsaLeaf, nil },
			outcome: SNISame, certs: 2},
		// zcrypto, then crypto/tls on a fresh connection: two for the
		// check, as for the first handshake.
		{name: "SNI refused", pick: func(h *tls.ClientHelloInfo, _ <-chan struct{}) (*tls.Certificate, error) {
			if h.ServerName != "" {
				return nil, errors.New("no certificate for that name")
			}
			return &p.rsaLeaf, nil
		}, outcome: SNIInconclusive, inReason: "handshake: ", certs: 3},
		// A deadline is not retried with crypto/tls.
		{name: "SNI unanswered", pick: func(h *tls.ClientHelloInfo, stop <-chan struct{}) (*tls.Certificate, error) {
			if h.ServerName != "" {
				<-stop
				return nil, errors.New("stopped")
			}
			return &p.rsaLeaf, nil
		}, outcome: SNIInconclusive, inReason: "timed out", certs: 2},
		{name: "no host name in the leaf", pick: func(*tls.ClientHelloInfo, <-chan struct{}) (*tls.Certificate, error) { return &wildcard, nil }, certs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stop := make(chan struct{})
			pick := func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return tc.pick(h, stop) }
			srv := startTLSServer(t, &tls.Config{GetCertificate: pick, MinVersion: tls.VersionTLS12})
			t.Cleanup(func() { close(stop) }) // before the server's cleanup waits for its handlers
			target := targetOf(t, srv.addr)
			target.Host = tc.host
			opts := testOptions(wire.VersionTLS12, wire.VersionTLS13)
			opts.VersionsOnly = true
			opts.SkipCert = false
			opts.CertOptions = CertOptions{ServerName: tc.sni, Roots: p.roots, Now: fixedNow, Timeout: 2 * time.Second}
			res := ScanTarget(context.Background(), target, opts)
			if res.Cert == nil || len(res.Cert.Chain) == 0 {
				t.Fatalf("certificate %+v (%s)", res.Cert, res.CertError)
			}
			c := res.SNICheck
			switch {
			case tc.outcome == "" && c != nil:
				t.Errorf("SNI check %+v, want none", c)
			case tc.outcome == "":
			case c == nil:
				t.Errorf("no SNI check, want %s", tc.outcome)
			case c.Name != "example.test" || c.Outcome != tc.outcome:
				t.Errorf("SNI check %s with %q, want %s with example.test", c.Outcome, c.Name, tc.outcome)
			case tc.outcome == SNIDiffers && (c.Leaf == nil || c.Leaf.SHA256 != tc.leafSHA || c.Leaf.KeyType != "ECDSA"):
				t.Errorf("other leaf %+v, want the ECDSA one", c.Leaf)
			case tc.outcome != SNIDiffers && c.Leaf != nil:
				t.Errorf("%s with a leaf %+v", c.Outcome, c.Leaf)
			case tc.outcome == SNIInconclusive && !strings.Contains(c.Error.String(), tc.inReason):
				t.Errorf("error %q, want %q in it", c.Error, tc.inReason)
			case tc.outcome != SNIInconclusive && !c.Error.IsZero():
				t.Errorf("%s with error %q", c.Outcome, c.Error)
			}
			if res.Handshakes.Certificate != tc.certs {
				t.Errorf("%d certificate handshakes, want %d (%+v)", res.Handshakes.Certificate, tc.certs, res.Handshakes)
			}
			if n := int(srv.accepts.Load()); n != res.Handshakes.Total {
				t.Errorf("the server accepted %d connections, the scan counts %d (%+v)", n, res.Handshakes.Total, res.Handshakes)
			}
		})
	}
}
