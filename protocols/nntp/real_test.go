package nntp

import (
	"net"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/internal/protoserver"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// innSASL are the SASL mechanisms INN 2.7's nnrpd lists whatever its
// readers.conf (Cyrus SASL's); it adds PLAIN and LOGIN where AUTHINFO
// USER is offered.
var innSASL = []string{"SCRAM-SHA-512", "SCRAM-SHA-384", "SCRAM-SHA-256", "SCRAM-SHA-224", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5", "NTLM"}

// TestRealInn runs Upgrade against INN's nnrpd (internal/protoserver)
// with AUTHINFO USER offered in clear and only over TLS, at every TLS
// version, and Capabilities on its NNTPS port.
func TestRealInn(t *testing.T) {
	open := protoserver.InnT(t, protoserver.InnOptions{})
	strict := protoserver.InnT(t, protoserver.InnOptions{LoginsNeedTLS: true})
	for _, tc := range []struct {
		name      string
		srv       *protoserver.Server
		authinfo  string
		plaintext []string
	}{
		{"logins-in-clear", open, "AUTHINFO USER SASL", slices.Concat([]string{"USER"}, innSASL, []string{"PLAIN", "LOGIN"})},
		{"logins-need-tls", strict, "AUTHINFO SASL", innSASL},
	} {
		info := prototest.RealUpgrade(t, prototest.Real{
			Protocol: Protocol, Name: tc.name, Log: tc.srv.Log,
			Dial: func(t *testing.T) net.Conn { return fakemail.Dial(t, tc.srv.Addr("nntp")) },
			Check: func(info *protocols.Dialogue) bool {
				return info.Software == "INN" && info.STARTTLSAdvertised && info.Attributes[AttrPosting] == "true" &&
					info.Attributes[AttrAuthinfo] == tc.authinfo && slices.Equal(info.PlaintextAuth, tc.plaintext)
			},
		})
		t.Logf("REAL-MATRIX nntp | inn %-16s | software %q | banner %q | STARTTLS advertised %v | %s | plaintext auth %q | TLS 1.0–1.3 handshakes after Upgrade ok",
			tc.name, info.Software, info.Banner, info.STARTTLSAdvertised, info.Attributes[AttrAuthinfo], info.PlaintextAuth)
	}
	info := prototest.RealImplicit(t, prototest.Real{
		Protocol: Protocol, Name: "NNTPS", Addr: strict.Addr("nntps"), Log: strict.Log,
		Check: func(info *protocols.Dialogue) bool {
			// Over TLS: AUTHINFO USER, PLAIN and LOGIN, and no STARTTLS
			// (RFC 4642 §2.2.2).
			return info.Software == "INN" && !info.STARTTLSAdvertised && len(info.PlaintextAuth) == 0 &&
				info.Attributes[AttrAuthinfo] == "AUTHINFO USER SASL" && slices.Contains(info.AuthMechanisms, "PLAIN")
		},
	})
	t.Logf("REAL-MATRIX nntp | inn nntps            | software %q | STARTTLS advertised %v | %s | auth in TLS %q",
		info.Software, info.STARTTLSAdvertised, info.Attributes[AttrAuthinfo], info.AuthMechanisms)
}
