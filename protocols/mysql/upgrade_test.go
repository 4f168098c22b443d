package mysql

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is MySQL for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer,
	MaxLine: DefaultMaxLine, MaxLines: 1,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS: {Stage: protocols.StageGreeting}, // no CLIENT_SSL
		fakemail.Refuse: {Absent: "the SSL request has no answer: the ClientHello follows at once, and a server that will not do TLS " +
			"answers it with an ERR packet where the ServerHello should be (the scan's TLS layer: bytes that are not TLS, inconclusive)"},
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		// A greeting of 16 MiB - 1 bytes, continued endlessly: too long
		// before a byte of it is read.
		fakemail.Endless:  {Stage: protocols.StageGreeting, Err: protocols.ErrLineTooLong},
		fakemail.LongLine: {Stage: protocols.StageGreeting}, // a greeting claiming 1 MiB
		fakemail.CloseMid: {Stage: protocols.StageGreeting}, // closed before the greeting
		fakemail.Throttle: {Stage: protocols.StageGreeting}, // ERR 1040 Too many connections
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "8.0.36-fake", STARTTLSAdvertised: true,
		Capabilities:   capabilityNames(fakeCaps),
		AuthMechanisms: []string{"caching_sha2_password"},
		Attributes: map[string]string{AttrProtocolVersion: "10", AttrAuthPlugin: "caching_sha2_password",
			AttrCapabilities: "0x9fffffff"},
	},
	Said: []string{"SSLRequest"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeGreetings runs Upgrade against one-off greetings real
// servers send that the canned modes do not cover.
func TestUpgradeGreetings(t *testing.T) {
	mariadb := packet(0, greetingPayload("5.5.5-10.11.6-MariaDB-0+deb12u1", fakeCaps&^capLongPassword, 0x1d, "mysql_native_password"))
	for _, tc := range []struct {
		name, greeting string
		err            error
		temporary      bool
		check          func(*protocols.Dialogue) bool
	}{
		{"mariadb", mariadb, nil, false, func(d *protocols.Dialogue) bool {
			return d.Software == "MariaDB" && d.Attributes[AttrCapabilities] == "0x9ffffffe 0x0000001d" && d.STARTTLSAdvertised
		}},
		{"clear-password-plugin", packet(0, greetingPayload("8.0.36", fakeCaps, 0, "mysql_clear_password")), nil, false, func(d *protocols.Dialogue) bool {
			return slices.Equal(d.PlaintextAuth, []string{"mysql_clear_password"}) && d.Software == ""
		}},
		{"mysql-4.0", packet(0, "\x0a4.0.27-log\x00\x01\x00\x00\x00abcdefgh\x00"+"\x01\x08"), nil, false, func(d *protocols.Dialogue) bool {
			return d.STARTTLSAdvertised && d.Banner == "4.0.27-log"
		}},
		{"protocol-9", packet(0, "\x093.20.32a\x00\x01\x00\x00\x00scramble\x00"), protocols.ErrNoSTARTTLS, false, func(d *protocols.Dialogue) bool {
			return d.Attributes[AttrProtocolVersion] == "9" && !d.STARTTLSAdvertised
		}},
		{"host-not-allowed", packet(0, errPayload(1130, "Host '10.1.2.3' is not allowed to connect to this MySQL server")), protocols.ErrUnexpectedReply, false, func(d *protocols.Dialogue) bool {
			return d.Banner == "ERR 1130 Host '10.1.2.3' is not allowed to connect to this MySQL server"
		}},
		{"user-connections", packet(0, "\xff\xb3\x04#42000User has exceeded the 'max_user_connections' resource"), protocols.ErrThrottled, true, func(d *protocols.Dialogue) bool {
			return d.Banner == "ERR 1203 (42000) User has exceeded the 'max_user_connections' resource"
		}},
		{"second-packet-number", packet(3, greetingPayload("8.0.36", fakeCaps, 0, "x")), protocols.ErrMalformed, false, nil},
		{"truncated-greeting", packet(0, "\x0a8.0.36\x00\x01\x00"), protocols.ErrMalformed, false, nil},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n", protocols.ErrMalformed, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakemail.Start(t, func(c *fakemail.Conn) {
				_ = c.Send(tc.greeting)
				_, _ = c.Reader().ReadByte()
			})
			conn := fakemail.Dial(t, srv.Addr)
			d, err := Upgrade(context.Background(), conn, protocols.Options{})
			var e *protocols.Error
			if tc.err == nil && err != nil || tc.err != nil && (!errors.As(err, &e) || !errors.Is(err, tc.err) || e.Temporary != tc.temporary) {
				t.Fatalf("error %v, want %v (temporary %v)", err, tc.err, tc.temporary)
			}
			if d == nil || d.Protocol != Name || tc.check != nil && !tc.check(d) {
				t.Errorf("dialogue %+v", d)
			}
		})
	}
}

// TestSSLRequest: the request a 4.1 server gets is the 32-byte
// SSLRequest with sequence number 1 and CLIENT_SSL set, capabilities the
// server lacks left out; a 4.0 server gets the 5-byte form.
func TestSSLRequest(t *testing.T) {
	b := sslRequest(greeting{protocol: protocolV10, caps: fakeCaps &^ capLongPassword})
	n, seq, _ := parseHeader(b)
	caps, _ := clientCaps(b[4:], true)
	if n != 32 || seq != 1 || len(b) != 36 || caps&capSSL == 0 || caps&capProtocol41 == 0 || caps&capLongPassword != 0 {
		t.Errorf("4.1 request % x", b)
	}
	b = sslRequest(greeting{protocol: protocolV10, caps: capLongPassword | capSSL})
	caps, _ = clientCaps(b[4:], false)
	if n, seq, _ := parseHeader(b); n != 5 || seq != 1 || caps&capSSL == 0 {
		t.Errorf("4.0 request % x", b)
	}
}
