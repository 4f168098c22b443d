package ldap

import (
	"context"
	"crypto/tls"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
)

var tlsVersions = []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}

// TestRealSlapd runs Upgrade against OpenLDAP's slapd at every TLS
// version, with the simple-bind probe against a slapd that takes simple
// binds in clear and one that wants TLS first, and Capabilities on its
// LDAPS port.
func TestRealSlapd(t *testing.T) {
	open := protoserver.SlapdT(t, protoserver.SlapdOptions{})
	strict := protoserver.SlapdT(t, protoserver.SlapdOptions{SimpleBindNeedsTLS: true})
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		srv        *protoserver.Server
		simpleBind string
		plaintext  []string // besides the SASL mechanisms
	}{
		{"simple-bind-in-clear", open, "accepted (invalidCredentials)", []string{"SIMPLE"}},
		{"simple-bind-needs-tls", strict, "refused (confidentialityRequired)", nil},
	} {
		for _, v := range tlsVersions {
			conn := fakemail.Dial(t, tc.srv.Addr("ldap"))
			info, err := Upgrade(ctx, conn, protocols.Options{Probe: true})
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.name, err, tc.srv.Log())
			}
			if info.Software != "OpenLDAP" || !info.STARTTLSAdvertised || info.Attributes[AttrRootDSE] != "read" ||
				info.Attributes[AttrSimpleBind] != tc.simpleBind || !slices.Equal(info.PlaintextAuth, append(slices.Clone(info.AuthMechanisms), tc.plaintext...)) ||
				slices.Contains(info.AuthMechanisms, "PLAIN") {
				t.Errorf("%s: info %+v", tc.name, info)
			}
			tc2 := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc2.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.name, v, err, tc.srv.Log())
			}
			if v == tls.VersionTLS13 {
				t.Logf("REAL-MATRIX ldap | slapd %-22s | software %q | StartTLS advertised %v | simple bind %q | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
					tc.name, info.Software, info.STARTTLSAdvertised, info.Attributes[AttrSimpleBind], info.PlaintextAuth)
			}
		}
	}
	for _, v := range tlsVersions {
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", open.Addr("ldaps"),
			&tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("LDAPS TLS %x: %v", v, err)
		}
		info, err := Capabilities(ctx, tc, protocols.Options{})
		tc.Close()
		if err != nil {
			t.Fatalf("LDAPS Capabilities: %v\n%s", err, open.Log())
		}
		// slapd offers PLAIN once TLS is up (sasl-secprops noplain).
		if info.Software != "OpenLDAP" || !info.STARTTLSAdvertised || len(info.PlaintextAuth) != 0 || !slices.Contains(info.AuthMechanisms, "PLAIN") {
			t.Errorf("LDAPS info %+v", info)
		}
		if v == tls.VersionTLS13 {
			t.Logf("REAL-MATRIX ldap | slapd ldaps                | software %q | %d root DSE values | SASL in TLS %q", info.Software, len(info.Capabilities), info.AuthMechanisms)
		}
	}
}
