package scan_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/scan"
)

// TestDirChatRealServers scans the real directory, file-transfer and chat
// servers of internal/protoserver — OpenLDAP's slapd (ldap StartTLS,
// ldaps), vsftpd (ftp AUTH TLS, ftps), Prosody (xmpp and xmpp-server
// STARTTLS, xmpps and xmpps-server direct TLS), Dovecot's managesieved
// (sieve STARTTLS), INN's nnrpd (nntp STARTTLS, nntps), InspIRCd (irc
// STARTTLS, ircs) — each configured
// for TLS 1.0–1.3
// with a wide suite list, through the registered dialogues, and requires
// exactly what openssl s_client alone finds (realserver.OpenSSLTruth with
// -starttls ldap|ftp|xmpp|xmpp-server|sieve|nntp|irc …, one suite per connection): the same (version,
// suite) pairs, the same verdict on server preference, the server's order
// where it enforces one. It also checks the dialogue kept in the Result.
//
// A server's implicit-TLS port serves the same TLS configuration as its
// STARTTLS port (the same process, or a twin with the same settings): its
// scan must equal the same truth, and s_client confirms on it the
// versions alone (one run a version), which keeps the test at one suite
// truth a server.
func TestDirChatRealServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts slapd, vsftpd … and runs hundreds of s_client processes")
	}
	slapd := protoserver.SlapdT(t, protoserver.SlapdOptions{})
	vsftpd := protoserver.VsftpdT(t, protoserver.VsftpdOptions{})
	prosody := protoserver.ProsodyT(t, protoserver.ProsodyOptions{})
	managesieved := protoserver.ManageSieveT(t, protoserver.ManageSieveOptions{})
	inn := protoserver.InnT(t, protoserver.InnOptions{})
	inspircd := protoserver.InspIRCdT(t, protoserver.InspIRCdOptions{})
	xmpp := protocols.Options{Domain: protoserver.ProsodyDomain}
	servers := []struct {
		name     string
		srv      *protoserver.Server
		starttls string // the STARTTLS scheme, and s_client's -starttls
		sclient  string
		implicit string            // the implicit-TLS scheme, "" for none
		software string            // expected Dialogue.Software
		opts     protocols.Options // Domain is s_client's -xmpphost too
	}{
		{"slapd", slapd, "ldap", "ldap", "ldaps", "OpenLDAP", protocols.Options{}},
		{"vsftpd", vsftpd, "ftp", "ftp", "ftps", "vsftpd", protocols.Options{}},
		{"prosody-c2s", prosody, "xmpp", "xmpp", "xmpps", "", xmpp},
		{"prosody-s2s", prosody, "xmpp-server", "xmpp-server", "xmpps-server", "", xmpp},
		{"managesieved", managesieved, "sieve", "sieve", "", "Dovecot", protocols.Options{}},
		{"inn", inn, "nntp", "nntp", "nntps", "INN", protocols.Options{}},
		{"inspircd", inspircd, "irc", "irc", "ircs", "InspIRCd", protocols.Options{}},
	}
	// --starttls auto without the service domain: Prosody answers the
	// stream with host-unknown, which is XMPP all the same — detected as
	// xmpp, a dialogue error naming the condition, never a scan of an
	// unknown application.
	t.Run("prosody-auto-no-domain", func(t *testing.T) {
		t.Parallel()
		addr := prosody.Addr("xmpp")
		target, err := scan.ParseTarget(addr, scan.TargetOptions{STARTTLS: scan.ProtoAuto})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res := scan.ScanTarget(ctx, target, scan.Options{Timeout: 10 * time.Second, VersionsOnly: true, SkipGroups: true, SkipCert: true,
			GreetingWait: 2 * time.Second, Dialer: &scan.NetDialer{Timeout: 10 * time.Second}})
		if d := res.Detected; d == nil || d.Protocol != scan.Protocol("xmpp") || res.Status != scan.StatusDialogueError ||
			!strings.Contains(res.Error.Reason, "host-unknown") || len(res.Versions) > 0 {
			t.Errorf("status %s (%s), detected %+v, %d versions; want xmpp detected, a host-unknown dialogue error", res.Status, res.Error, res.Detected, len(res.Versions))
		}
	})
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			topts := realserver.TruthOptions{STARTTLS: sv.sclient, XMPPHost: sv.opts.Domain, Parallel: 4}
			truth, err := realserver.OpenSSLTruth(ctx, sv.srv.Addr(sv.starttls), topts)
			if err != nil {
				t.Fatalf("truth: %v\n%s", err, sv.srv.Log())
			}
			t.Logf("truth (s_client -starttls %s): %d runs in %v: %s", sv.sclient, truth.Runs, truth.Elapsed.Round(time.Millisecond), summary(truth))
			schemes := []string{sv.starttls}
			if sv.implicit != "" {
				schemes = append(schemes, sv.implicit)
				vt, err := realserver.OpenSSLTruth(ctx, sv.srv.Addr(sv.implicit), realserver.TruthOptions{VersionsOnly: true})
				if err != nil {
					t.Fatalf("truth on %s: %v", sv.implicit, err)
				}
				if !maps.Equal(vt.Versions, truth.Versions) {
					t.Fatalf("%s serves versions %v, %s %v: not one TLS configuration", sv.implicit, vt.Versions, sv.starttls, truth.Versions)
				}
			}
			for _, scheme := range schemes {
				target, err := scan.ParseTarget(scheme+"://"+sv.srv.Addr(scheme), scan.TargetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				opts := sv.opts
				opts.Probe = true
				start := time.Now()
				res := scan.ScanTarget(ctx, target, scan.Options{
					Timeout: 10 * time.Second,
					Dialer:  &scan.NetDialer{Timeout: 10 * time.Second, Dialogue: opts},
				})
				t.Logf("%s: tlsmap: %d handshakes in %v", scheme, res.Handshakes.Total, time.Since(start).Round(time.Millisecond))
				for _, d := range compareTruth(truth, res) {
					t.Errorf("%s: %s", scheme, d)
				}
				if t.Failed() {
					t.Logf("truth: %s", describeTruth(truth))
					t.Logf("tlsmap: %s", describeResult(res))
				}
				switch d := res.Dialogue; {
				case scheme != sv.starttls:
					if d != nil {
						t.Errorf("implicit TLS with a dialogue: %+v", d)
					}
				case d == nil:
					t.Errorf("%s: no dialogue", scheme)
				case d.Software != sv.software || !d.STARTTLSAdvertised || len(d.Capabilities) == 0:
					t.Errorf("%s: dialogue %+v, want software %s, STARTTLS advertised, capabilities", scheme, *d, sv.software)
				default:
					t.Logf("%s: dialogue %q (%s), %d capabilities, plaintext auth %v, attributes %v", scheme, d.Banner, d.Software, len(d.Capabilities), d.PlaintextAuth, attrs(d.Attributes))
				}
				// --starttls auto: the STARTTLS port's protocol is found from
				// what it answers; an implicit-TLS port that no protocol
				// has (a test's free port) is TLS of an unknown application.
				if scheme == sv.starttls {
					checkAuto(t, sv.srv.Addr(scheme), scan.Protocol(scheme), sv.opts)
				} else {
					checkAuto(t, sv.srv.Addr(scheme), scan.ProtoTLS, sv.opts)
				}
			}
		})
	}
}

// attrs renders a dialogue's attributes in a stable order.
func attrs(m map[string]string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return strings.Join(out, " ")
}
