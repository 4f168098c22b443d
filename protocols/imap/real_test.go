package imap

import (
	"net"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// TestRealDovecot runs Upgrade against Dovecot's STARTTLS port, with
// plaintext authentication allowed and not, at every TLS version, and
// Capabilities on its IMAPS port.
func TestRealDovecot(t *testing.T) {
	open := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: true})
	strict := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: false})

	for _, tc := range []struct {
		name, from, addr string
		loginDisabled    bool
		plaintextAuth    []string
		log              func() string
	}{
		{"starttls", "", open.IMAP, false, []string{"LOGIN", "PLAIN"}, open.Log},
		// From 127.0.0.2: Dovecot treats 127.0.0.1 to 127.0.0.1 as secured.
		{"starttls-plaintext-disabled", "127.0.0.2", strict.IMAP, true, nil, strict.Log},
	} {
		info := prototest.RealUpgrade(t, prototest.Real{
			Protocol: Protocol, Name: tc.name, Log: tc.log,
			Dial: func(t *testing.T) net.Conn { return fakemail.DialFrom(t, tc.from, tc.addr) },
			Check: func(info *protocols.Dialogue) bool {
				return info.Software == "Dovecot" && info.Banner == mailserver.DovecotBanner && info.STARTTLSAdvertised &&
					(info.Attributes[AttrLoginDisabled] == "true") == tc.loginDisabled && slices.Equal(info.PlaintextAuth, tc.plaintextAuth)
			},
		})
		t.Logf("REAL-MATRIX imap | dovecot %-27s | software %q | STARTTLS advertised %v | LOGINDISABLED %v | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
			tc.name, info.Software, info.STARTTLSAdvertised, info.Attributes[AttrLoginDisabled], info.PlaintextAuth)
	}

	info := prototest.RealImplicit(t, prototest.Real{
		Protocol: Protocol, Name: "IMAPS", Addr: strict.IMAPS, Log: strict.Log,
		Check: func(info *protocols.Dialogue) bool {
			return info.Software == "Dovecot" && len(info.PlaintextAuth) == 0 && info.Attributes[AttrLoginDisabled] != "true" &&
				slices.Contains(info.AuthMechanisms, "PLAIN")
		},
	})
	t.Logf("REAL-MATRIX imap | dovecot imaps                       | software %q | STARTTLS advertised %v | auth in TLS %q",
		info.Software, info.STARTTLSAdvertised, info.AuthMechanisms)
}
