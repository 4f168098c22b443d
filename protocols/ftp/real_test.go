package ftp

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

// TestRealVsftpd runs the USER probe against a vsftpd that takes logins
// in clear and one that wants TLS first (and closes the connection
// after saying so), Upgrade against both at every TLS version, and
// Capabilities on the implicit-TLS port.
func TestRealVsftpd(t *testing.T) {
	open := protoserver.VsftpdT(t, protoserver.VsftpdOptions{})
	strict := protoserver.VsftpdT(t, protoserver.VsftpdOptions{LoginsNeedTLS: true})
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		srv       *protoserver.Server
		user      string
		plaintext []string
		closes    bool // vsftpd closes the connection after refusing USER
	}{
		{"logins-in-clear", open, "accepted (331 Please specify the password.)", []string{"USER"}, false},
		{"logins-need-tls", strict, "refused (530 Non-anonymous sessions must use encryption.)", nil, true},
	} {
		// The probe, on a connection of its own, as a scan runs it.
		info, err := Upgrade(ctx, fakemail.Dial(t, tc.srv.Addr("ftp")), protocols.Options{Probe: true})
		if tc.closes != (err != nil) {
			t.Fatalf("%s: probing Upgrade: %v\n%s", tc.name, err, tc.srv.Log())
		}
		if info.Attributes[AttrUser] != tc.user || !slices.Equal(info.PlaintextAuth, tc.plaintext) {
			t.Errorf("%s: probe learnt %+v", tc.name, info)
		}
		for _, v := range tlsVersions {
			conn := fakemail.Dial(t, tc.srv.Addr("ftp"))
			info, err := Upgrade(ctx, conn, protocols.Options{})
			if err != nil {
				t.Fatalf("%s: Upgrade: %v\n%s", tc.name, err, tc.srv.Log())
			}
			if info.Software != "vsftpd" || !info.STARTTLSAdvertised || info.Attributes[AttrFeat] != "listed" || len(info.PlaintextAuth) != 0 {
				t.Errorf("%s: info %+v", tc.name, info)
			}
			tc2 := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err := tc2.Handshake(); err != nil {
				t.Fatalf("%s: TLS %x handshake after Upgrade: %v\n%s", tc.name, v, err, tc.srv.Log())
			}
			tc2.Close()
			if v == tls.VersionTLS13 {
				t.Logf("REAL-MATRIX ftp | vsftpd %-16s | software %q | banner %q | AUTH TLS advertised %v | USER probe %q | TLS 1.0–1.3 handshakes after Upgrade ok",
					tc.name, info.Software, info.Banner, info.STARTTLSAdvertised, tc.user)
			}
		}
	}
	for _, v := range tlsVersions {
		tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", open.Addr("ftps"),
			&tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		if err != nil {
			t.Fatalf("FTPS TLS %x: %v\n%s", v, err, open.Log())
		}
		info, err := Capabilities(ctx, tc, protocols.Options{})
		tc.Close()
		if err != nil {
			t.Fatalf("FTPS Capabilities: %v\n%s", err, open.Log())
		}
		if info.Software != "vsftpd" || len(info.PlaintextAuth) != 0 || !slices.Contains(info.Capabilities, "PROT") {
			t.Errorf("FTPS info %+v", info)
		}
		if v == tls.VersionTLS13 {
			t.Logf("REAL-MATRIX ftp | vsftpd ftps               | software %q | features in TLS %q", info.Software, info.Capabilities)
		}
	}
}
