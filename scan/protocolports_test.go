package scan

import (
	"strconv"
	"testing"
)

// TestBarePortTakesItsScheme: a bare host:port on a protocol's
// well-known port — the scheme's Port or one of its AlsoPorts — is parsed
// with that scheme and form, which is how `tlsmap scan -p 389,636,… host`
// maps each port with its protocol.
func TestBarePortTakesItsScheme(t *testing.T) {
	for port, want := range map[uint16]struct {
		scheme   Protocol
		starttls bool
	}{
		389: {"ldap", true}, 636: {"ldaps", false}, 3268: {"ldap", true}, 3269: {"ldaps", false},
		5432: {"postgres", true}, 3306: {"mysql", true}, 3389: {"rdp", true},
		21: {"ftp", true}, 990: {"ftps", false},
		5222: {"xmpp", true}, 5223: {"xmpps", false}, 5269: {"xmpp-server", true}, 5270: {"xmpps-server", false},
	} {
		in := "127.0.0.1:" + strconv.Itoa(int(port))
		tg, err := ParseTarget(in, TargetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ProtocolForPort(port) != want.scheme {
			t.Errorf("ProtocolForPort(%d) = %s, want %s", port, ProtocolForPort(port), want.scheme)
		}
		if tg.Protocol != want.scheme || tg.Protocol.STARTTLS() != want.starttls || tg.Port != port {
			t.Errorf("%s: %s (STARTTLS %v) port %d, want %s (STARTTLS %v)", in, tg.Protocol, tg.Protocol.STARTTLS(), tg.Port, want.scheme, want.starttls)
		}
	}
	// The alias schemes take their protocol's port.
	for scheme, port := range map[string]uint16{"postgresql": 5432, "postgres-direct": 5432, "mariadb": 3306} {
		if tg, err := ParseTarget(scheme+"://db.example", TargetOptions{}); err != nil || tg.Port != port || tg.Protocol != Protocol(scheme) {
			t.Errorf("%s://db.example: %+v %v", scheme, tg, err)
		}
	}
	// A URL keeps the scheme's own default port.
	if tg, err := ParseTarget("ldap://dc.example", TargetOptions{}); err != nil || tg.Port != 389 {
		t.Errorf("ldap://dc.example: %+v %v", tg, err)
	}
}
