package mysql

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
)

// TestRealMariaDB runs Upgrade against MariaDB (Debian's mariadb-server,
// a data directory of its own) at every TLS version, and against one
// without a certificate, whose greeting lacks CLIENT_SSL.
func TestRealMariaDB(t *testing.T) {
	db := protoserver.MariaDBT(t, protoserver.MariaDBOptions{})
	off := protoserver.MariaDBT(t, protoserver.MariaDBOptions{NoSSL: true})
	ctx := context.Background()
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		conn := fakemail.Dial(t, db.Addr("mysql"))
		info, err := Upgrade(ctx, conn, protocols.Options{})
		if err != nil {
			t.Fatalf("Upgrade: %v\n%s", err, db.Log())
		}
		if !info.STARTTLSAdvertised || info.Software != "MariaDB" || info.Attributes[AttrProtocolVersion] != "10" || info.Attributes[AttrAuthPlugin] == "" {
			t.Errorf("dialogue %+v", info)
		}
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS %x handshake after Upgrade: %v\n%s", v, err, db.Log())
		}
		if v == tls.VersionTLS13 {
			t.Logf("REAL-MATRIX mysql | mariadb with TLS    | %q (%s) | auth %q | caps %s | TLS 1.0–1.3 handshakes after Upgrade ok",
				info.Banner, info.Software, info.Attributes[AttrAuthPlugin], info.Attributes[AttrCapabilities])
		}
	}

	conn := fakemail.Dial(t, off.Addr("mysql"))
	info, err := Upgrade(ctx, conn, protocols.Options{})
	var e *protocols.Error
	if !errors.As(err, &e) || !errors.Is(err, protocols.ErrNoSTARTTLS) || e.Stage != protocols.StageGreeting || info.STARTTLSAdvertised || info.Software != "MariaDB" {
		t.Fatalf("no TLS: %v, %+v\n%s", err, info, off.Log())
	}
	t.Logf("REAL-MATRIX mysql | mariadb without TLS | %v", err)
}
