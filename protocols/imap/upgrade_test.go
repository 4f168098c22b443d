package imap

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is IMAP for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakemail.IMAP, Goodbye: "a3 LOGOUT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS, Temporary: true}, // NO [UNAVAILABLE]
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS},                  // BAD
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageCapability},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // * BYE
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "FakeIMAP ready", STARTTLSAdvertised: true,
		Capabilities:  []string{"IMAP4rev1", "SASL-IR", "ID", "STARTTLS", "AUTH=PLAIN"},
		PlaintextAuth: []string{"LOGIN", "PLAIN"}, AuthMechanisms: []string{"PLAIN"},
		Attributes: map[string]string{AttrGreeting: "OK", AttrLoginDisabled: "false"},
	},
	Said: []string{"a1 CAPABILITY", "a2 STARTTLS"},
}

func TestUpgradeFailureModes(t *testing.T)  { upgrade.TestFailureModes(t) }
func TestUpgradeAlertFailsTLS(t *testing.T) { upgrade.TestAlertFailsTLS(t) }
func TestUpgradeContext(t *testing.T)       { upgrade.TestContext(t) }

func TestUpgradeResponses(t *testing.T) {
	cases := []struct {
		name   string
		server string
		opts   protocols.Options
		want   error
		check  func(*protocols.Dialogue) bool
	}{
		{"greeting-capabilities", "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\na2 OK go\r\n", protocols.Options{}, nil,
			func(i *protocols.Dialogue) bool {
				return i.Attributes[AttrLoginDisabled] == "true" && len(i.PlaintextAuth) == 0 && i.Banner == "ready"
			}},
		{"greeting-bare-ok", "* OK\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\na2 OK\r\n", protocols.Options{}, nil,
			func(i *protocols.Dialogue) bool { return i.STARTTLSAdvertised }},
		{"untagged-before-tagged", "* OK hi\r\n* ID NIL\r\n* OK [CAPABILITY IMAP4rev1 STARTTLS] x\r\na1 OK done\r\na2 OK go\r\n", protocols.Options{}, nil,
			func(i *protocols.Dialogue) bool { return i.STARTTLSAdvertised }},
		{"literal-in-response", "* OK hi\r\n* ID (\"name\" {5}\r\nhello)\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\na2 OK\r\n", protocols.Options{}, nil,
			func(i *protocols.Dialogue) bool { return i.STARTTLSAdvertised }},
		{"capability-NO", "* OK hi\r\na1 NO not now\r\n", protocols.Options{}, protocols.ErrNoSTARTTLS, nil},
		{"preauth", "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n", protocols.Options{}, protocols.ErrNoSTARTTLS,
			func(i *protocols.Dialogue) bool { return i.Attributes[AttrGreeting] == "PREAUTH" }},
		{"bye-on-starttls", "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n* BYE shutting down\r\n", protocols.Options{}, protocols.ErrThrottled, nil},
		{"not-imap", "220 mx ESMTP\r\n", protocols.Options{}, protocols.ErrUnexpectedReply, nil},
		{"tagged-greeting", "a1 OK hi\r\n", protocols.Options{}, protocols.ErrUnexpectedReply, nil},
		{"garbage", "* (((\r\n", protocols.Options{}, protocols.ErrMalformed, nil},
		{"huge-literal", "* OK hi\r\n* ID {99999}\r\n", protocols.Options{}, protocols.ErrLineTooLong, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := prototest.Scripted(t, tc.server)
			info, err := Upgrade(context.Background(), conn, protocols.Options{Timeout: 2 * time.Second})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.check != nil && !tc.check(info) {
				t.Errorf("info %+v", info)
			}
		})
	}
}

func TestLiteralSize(t *testing.T) {
	for line, want := range map[string]int{"* ID {5}": 5, "x {0}": 0, "x {12+}": 12, "x {}": -1, "x {+}": -1, "x {-1}": -1, "x 5}": -1, "x {a}": -1} {
		n, ok := literalSize(line)
		if !ok {
			n = -1
		}
		if n != want {
			t.Errorf("literalSize(%q) = %d, want %d", line, n, want)
		}
	}
}
