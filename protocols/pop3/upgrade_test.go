package pop3

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is POP3 for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakemail.POP3, Goodbye: "QUIT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // -ERR
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageCapability},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // -ERR [SYS/TEMP]
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "FakePOP3 ready <1.2@fake.test>", STARTTLSAdvertised: true,
		Capabilities:  []string{"TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "STLS"},
		PlaintextAuth: []string{"USER", "PLAIN", "LOGIN"}, AuthMechanisms: []string{"PLAIN", "LOGIN"},
		Attributes: map[string]string{AttrAPOP: "true"},
	},
	Said: []string{"CAPA", "STLS"},
}

func TestUpgradeFailureModes(t *testing.T)  { upgrade.TestFailureModes(t) }
func TestUpgradeAlertFailsTLS(t *testing.T) { upgrade.TestAlertFailsTLS(t) }
func TestUpgradeContext(t *testing.T)       { upgrade.TestContext(t) }

func TestUpgradeResponses(t *testing.T) {
	cases := []struct {
		name   string
		server string
		want   error
		temp   bool
		check  func(*protocols.Dialogue) bool
	}{
		{"capa-err-anyway", "+OK hi\r\n-ERR unknown command\r\n+OK go\r\n", nil, false,
			func(i *protocols.Dialogue) bool { return len(i.Capabilities) == 0 && len(i.PlaintextAuth) == 0 }},
		{"stuffed-capa", "+OK hi\r\n+OK\r\n..X-DOT\r\nSTLS\r\n.\r\n+OK go\r\n", nil, false,
			func(i *protocols.Dialogue) bool { return i.Capabilities[0] == ".X-DOT" && i.STARTTLSAdvertised }},
		{"lowercase-ok", "+ok hi\r\n+ok\r\nstls\r\n.\r\n+ok go\r\n", nil, false,
			func(i *protocols.Dialogue) bool { return i.STARTTLSAdvertised }},
		{"in-use-greeting", "-ERR [IN-USE] mailbox locked\r\n", protocols.ErrThrottled, true, nil},
		{"err-greeting", "-ERR go away\r\n", protocols.ErrThrottled, true, nil},
		{"sys-perm-greeting", "-ERR [SYS/PERM] disabled\r\n", protocols.ErrUnexpectedReply, false, nil},
		{"stls-sys-temp", "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n-ERR [SYS/TEMP] try later\r\n", protocols.ErrThrottled, true, nil},
		{"not-pop3", "* OK IMAP ready\r\n", protocols.ErrMalformed, false, nil},
		{"okay-is-not-ok", "+OKAY\r\n", protocols.ErrMalformed, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := prototest.Scripted(t, tc.server)
			info, err := Upgrade(context.Background(), conn, protocols.Options{Timeout: 2 * time.Second, StartTLSAnyway: true})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var e *protocols.Error
			if err != nil && (!errors.As(err, &e) || e.Temporary != tc.temp) {
				t.Errorf("err %#v, want Temporary %v", err, tc.temp)
			}
			if tc.check != nil && !tc.check(info) {
				t.Errorf("info %+v", info)
			}
		})
	}
}
