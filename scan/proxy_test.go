package scan_test

import (
	"context"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/internal/webserver"
	"github.com/tlsmap/tlsmap/protocols/proxyproto"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// TestProxyProtocolBackends scans backends that take connections only
// after a PROXY protocol header — nginx's "listen … ssl proxy_protocol",
// Dovecot's "haproxy = yes" listeners, implicit TLS and STARTTLS — with
// each header version: every version the server is configured to accept
// (TLS 1.0 to 1.3) is found. Without the header the same backends answer
// no hello at all (a STARTTLS one not even its greeting).
func TestProxyProtocolBackends(t *testing.T) {
	ng := webserver.StartNginx(t, webserver.NginxOptions{})
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{HAProxy: true})
	for _, tc := range []struct {
		name, target string
	}{
		{"nginx", ng.HTTPSProxied},
		{"dovecot-imaps", "imaps://" + dc.IMAPSHAProxy},
		{"dovecot-imap-starttls", "imap://" + dc.IMAPHAProxy},
	} {
		for _, v := range []proxyproto.Version{proxyproto.V1, proxyproto.V2, 0} {
			target, err := scan.ParseTarget(tc.target, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			res := scan.ScanTarget(ctx, target, scan.Options{Timeout: 5 * time.Second, VersionsOnly: true, SkipCert: true, SkipGroups: true,
				Retries: -1, Dialer: &scan.NetDialer{Timeout: 5 * time.Second, ProxyProtocol: v},
				Versions: []tls.Version{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}})
			cancel()
			for _, vr := range res.Versions {
				accepted := vr.Outcome == scan.Accepted
				if accepted != (v != 0) {
					t.Errorf("%s, PROXY %v: %v %v (%s)", tc.name, v, vr.Version, vr.Outcome, vr.Reason)
				}
			}
			if v != 0 && len(res.Versions) != 4 {
				t.Errorf("%s, PROXY %v: %d versions (%v %v)", tc.name, v, len(res.Versions), res.Status, res.Error)
			}
		}
	}
}
