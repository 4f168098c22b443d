package postgres

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

// TestRealPostgres runs Upgrade against PostgreSQL (Debian's package, a
// cluster of its own) at every TLS version, and against one with ssl=off,
// which answers 'N'.
func TestRealPostgres(t *testing.T) {
	pg := protoserver.PostgresT(t, protoserver.PostgresOptions{})
	off := protoserver.PostgresT(t, protoserver.PostgresOptions{NoSSL: true})
	ctx := context.Background()
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		conn := fakemail.Dial(t, pg.Addr("postgres"))
		info, err := Upgrade(ctx, conn, protocols.Options{})
		if err != nil {
			t.Fatalf("Upgrade: %v\n%s", err, pg.Log())
		}
		if !info.STARTTLSAdvertised || info.Attributes[AttrAnswer] != "S" {
			t.Errorf("dialogue %+v", info)
		}
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS %x handshake after Upgrade: %v\n%s", v, err, pg.Log())
		}
	}
	t.Logf("REAL-MATRIX postgres | postgresql ssl=on  | SSLRequest answered S | TLS 1.0–1.3 handshakes after Upgrade ok")

	conn := fakemail.Dial(t, off.Addr("postgres"))
	info, err := Upgrade(ctx, conn, protocols.Options{})
	var e *protocols.Error
	if !errors.As(err, &e) || !errors.Is(err, protocols.ErrNoTLS) || e.Reply != "N" || info.Attributes[AttrAnswer] != "N" {
		t.Fatalf("ssl=off: %v, %+v\n%s", err, info, off.Log())
	}
	t.Logf("REAL-MATRIX postgres | postgresql ssl=off | %v", err)
}
