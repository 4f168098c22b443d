package smtp

import (
	"net"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// TestRealPostfix runs Upgrade against Postfix (authenticating through
// Dovecot) on its STARTTLS ports, at every TLS version, and Capabilities
// on its SMTPS port.
func TestRealPostfix(t *testing.T) {
	d := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: true})
	p := mailserver.StartPostfix(t, mailserver.PostfixOptions{SASL: d})

	for _, tc := range []struct {
		name, addr    string
		plaintextAuth []string
	}{
		{"starttls", p.SMTP, []string{"PLAIN", "LOGIN"}},
		{"starttls-auth-only", p.SMTPAuthOnly, nil},
	} {
		info := prototest.RealUpgrade(t, prototest.Real{
			Protocol: Protocol, Name: tc.name, Log: p.Log,
			Dial: func(t *testing.T) net.Conn { return fakemail.Dial(t, tc.addr) },
			Check: func(info *protocols.Dialogue) bool {
				return info.Software == "Postfix" && info.Banner == mailserver.Banner && info.STARTTLSAdvertised &&
					info.Attributes[AttrESMTP] == "true" && slices.Equal(info.PlaintextAuth, tc.plaintextAuth)
			},
		})
		t.Logf("REAL-MATRIX smtp | postfix %-18s | software %q | STARTTLS advertised %v | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
			tc.name, info.Software, info.STARTTLSAdvertised, info.PlaintextAuth)
	}

	info := prototest.RealImplicit(t, prototest.Real{
		Protocol: Protocol, Name: "SMTPS", Addr: p.SMTPS, Log: p.Log,
		Check: func(info *protocols.Dialogue) bool {
			return info.Software == "Postfix" && len(info.PlaintextAuth) == 0 && slices.Equal(info.AuthMechanisms, []string{"PLAIN", "LOGIN"})
		},
	})
	t.Logf("REAL-MATRIX smtp | postfix smtps              | software %q | STARTTLS advertised %v | auth in TLS %q | capabilities %q",
		info.Software, info.STARTTLSAdvertised, info.AuthMechanisms, info.Capabilities)
}
