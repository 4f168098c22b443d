package rdp

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
)

// TestRealXrdp runs Upgrade against xrdp (Debian's package, a
// configuration of its own) at every TLS version, with the
// standard-security probe against one that negotiates (security_layer
// negotiate: standard RDP security allowed) and one that requires TLS.
func TestRealXrdp(t *testing.T) {
	negotiate := protoserver.XrdpT(t, protoserver.XrdpOptions{})
	tlsOnly := protoserver.XrdpT(t, protoserver.XrdpOptions{TLSOnly: true})
	ctx := context.Background()
	for _, tc := range []struct {
		srv      *protoserver.Server
		name     string
		standard string
	}{
		{negotiate, "security_layer=negotiate", "accepted (PROTOCOL_RDP selected)"},
		{tlsOnly, "security_layer=tls", "refused (SSL_REQUIRED_BY_SERVER)"},
	} {
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
			conn := fakemail.Dial(t, tc.srv.Addr("rdp"))
			opts := protocols.Options{}
			if v == tls.VersionTLS10 {
				opts = protocols.Options{Probe: true, Dial: dialer(tc.srv.Addr("rdp"))}
			}
			info, err := Upgrade(ctx, conn, opts)
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.name, err, tc.srv.Log())
			}
			if !info.STARTTLSAdvertised || info.Attributes[AttrSelected] != "PROTOCOL_SSL" {
				t.Errorf("%s: dialogue %+v", tc.name, info)
			}
			if opts.Probe && info.Attributes[AttrStandardSecurity] != tc.standard {
				t.Errorf("%s: standard RDP security %q, want %q", tc.name, info.Attributes[AttrStandardSecurity], tc.standard)
			}
			c := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := c.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.name, v, err, tc.srv.Log())
			}
		}
		t.Logf("REAL-MATRIX rdp | xrdp %-24s | PROTOCOL_SSL selected | standard RDP security %s | TLS 1.0–1.3 handshakes after Upgrade ok", tc.name, tc.standard)
	}
}
