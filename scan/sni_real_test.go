package scan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// TestSNICheckRealServers scans real servers as IP targets with the
// certificate pass on (versions only, TLS 1.2 and 1.3, no groups: the
// enumeration is not what is tested): haproxy with an RSA and an ECDSA
// certificate on one bind presents the ECDSA one to the SNI check, so
// the note names realserver.CertHost and ECDSA; scanned with SNI it gets
// no check. nginx with one certificate presents the same leaf: no note,
// and exactly one certificate connection more than the named scan.
func TestSNICheckRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts haproxy and nginx")
	}
	opts := scan.Options{Timeout: 10 * time.Second, SkipGroups: true, VersionsOnly: true,
		Versions: []tls.Version{tls.VersionTLS12, tls.VersionTLS13}}
	scanAs := func(t *testing.T, addr, host string) *scan.Result {
		t.Helper()
		target, err := scan.ParseTarget(addr, scan.TargetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		target.Host = host
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res := scan.ScanTarget(ctx, target, opts)
		if res.Cert == nil || len(res.Cert.Chain) == 0 {
			t.Fatalf("%s as %q: no certificate (%s); status %s (%s)", addr, host, res.CertError, res.Status, res.Error)
		}
		t.Logf("%s as %q: leaf %s %d, handshakes %+v, SNI check %+v", addr, host,
			res.Cert.Chain[0].KeyType, res.Cert.Chain[0].KeyBits, res.Handshakes, res.SNICheck)
		return res
	}

	t.Run("haproxy", func(t *testing.T) {
		t.Parallel()
		addr := startHAProxy(t)
		res := scanAs(t, addr, "")
		c := res.SNICheck
		switch {
		case res.Cert.Chain[0].KeyType != "RSA":
			t.Errorf("without SNI: a %s leaf, want haproxy's default, RSA", res.Cert.Chain[0].KeyType)
		case c == nil:
			t.Fatal("no SNI check")
		case c.Name != realserver.CertHost || c.Outcome != scan.SNIDiffers || c.Leaf == nil || c.Leaf.KeyType != "ECDSA":
			t.Errorf("SNI check %+v (leaf %+v), want differs with %s: ECDSA", c, c.Leaf, realserver.CertHost)
		default:
			note := c.Note()
			t.Logf("note: %s", note)
			for _, want := range []string{"with SNI " + realserver.CertHost, "ECDSA P-256", "--sni " + realserver.CertHost} {
				if !strings.Contains(note, want) {
					t.Errorf("note %q lacks %q", note, want)
				}
			}
		}

		named := scanAs(t, addr, realserver.CertHost)
		if named.SNICheck != nil {
			t.Errorf("scanned with SNI %s: SNI check %+v, want none", realserver.CertHost, named.SNICheck)
		}
	})

	t.Run("nginx", func(t *testing.T) {
		t.Parallel()
		cfg, ok := realserver.ConfigByName("nginx-modern")
		if !ok {
			t.Fatal("no nginx-modern config")
		}
		cfg.Name = "nginx-sni-check"
		addr := realserver.StartT(t, cfg).Addr
		res := scanAs(t, addr, "")
		named := scanAs(t, addr, realserver.CertHost)
		switch c := res.SNICheck; {
		case c == nil:
			t.Error("no SNI check")
		case c.Name != realserver.CertHost || c.Outcome != scan.SNISame || c.Leaf != nil || c.Note() != "":
			t.Errorf("SNI check %+v (note %q), want the same leaf with %s", c, c.Note(), realserver.CertHost)
		}
		if named.SNICheck != nil {
			t.Errorf("scanned with SNI: SNI check %+v", named.SNICheck)
		}
		if d := res.Handshakes.Certificate - named.Handshakes.Certificate; d != 1 {
			t.Errorf("certificate connections: %d as an IP target, %d with SNI; want exactly one more", res.Handshakes.Certificate, named.Handshakes.Certificate)
		}
	})
}
