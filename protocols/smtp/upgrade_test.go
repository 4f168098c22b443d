package smtp

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is SMTP for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakemail.SMTP, Goodbye: "QUIT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: StageEHLO},
		fakemail.NoEHLO:        {Stage: StageEHLO},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS, Temporary: true}, // 454
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS},                  // 502
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: StageEHLO},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: StageEHLO},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // 421
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "fake.test ESMTP FakeMail\npleased to meet you", STARTTLSAdvertised: true,
		Capabilities:  []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"},
		PlaintextAuth: []string{"PLAIN", "LOGIN"}, AuthMechanisms: []string{"PLAIN", "LOGIN"},
		Attributes: map[string]string{AttrESMTP: "true"},
	},
	NormalOptions: protocols.Options{ClientName: "scanner.example"},
	Said:          []string{"EHLO scanner.example", "STARTTLS"},
}

func TestUpgradeFailureModes(t *testing.T)  { upgrade.TestFailureModes(t) }
func TestUpgradeAlertFailsTLS(t *testing.T) { upgrade.TestAlertFailsTLS(t) }
func TestUpgradeContext(t *testing.T)       { upgrade.TestContext(t) }

func TestReadReply(t *testing.T) {
	cases := []struct {
		in   string
		code int
		text []string
		err  error
	}{
		{"220 ok\r\n", 220, []string{"ok"}, nil},
		{"220\r\n", 220, []string{""}, nil},
		{"250-a\r\n250-b\r\n250 c\r\n", 250, []string{"a", "b", "c"}, nil},
		{"250-a\n250 b\n", 250, []string{"a", "b"}, nil},
		{"250-a\r\n250 \r\n", 250, []string{"a", ""}, nil},
		{"220-x\r\n221 y\r\n", 221, []string{"x", "y"}, nil},
		{"HTTP/1.1 400\r\n", 0, nil, protocols.ErrMalformed},
		{"250x\r\n", 0, nil, protocols.ErrMalformed},
		{"250-a\r\n", 250, []string{"a"}, io.EOF},
		{"250-a\r\n250", 250, []string{"a"}, io.ErrUnexpectedEOF},
		{"250-a\r\n250-b\r\n250-c\r\n", 250, []string{"a", "b", "c"}, protocols.ErrTooManyLines},
		{"250 " + string(bytes.Repeat([]byte("a"), 100)) + "\r\n", 0, nil, protocols.ErrLineTooLong},
	}
	for _, tc := range cases {
		lr := plaintext.NewLineReader(bytes.NewReader([]byte(tc.in)), 64, protocols.ErrLineTooLong)
		r, err := readReply(lr, 3)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (r.code != tc.code || !slices.Equal(r.text, tc.text)) {
			t.Errorf("%q: %d %q, want %d %q", tc.in, r.code, r.text, tc.code, tc.text)
		}
	}
}

func TestGuessSoftware(t *testing.T) {
	for banner, want := range map[string]string{
		"mx.example ESMTP Postfix (Debian/GNU)":                            "Postfix",
		"mail.example ESMTP Exim 4.96 Mon, 01 Jan 2024":                    "Exim",
		"EX01.corp Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2024":  "Microsoft Exchange",
		"mx.google.com ESMTP s4si9696358qcc.63 - gsmtp":                    "Google",
		"mail.example ESMTP Sendmail 8.15.2/8.15.2; Mon, 1 Jan 2024":       "Sendmail",
		"maximum.example ESMTP ready":                                      "",
		"firewall.unx.ca ESMTP Postfix":                                    "Postfix",
		"smtp.example ESMTP OpenSMTPD":                                     "OpenSMTPD",
		"mx.example.org ESMTP Haraka/3.0.2 ready":                          "Haraka",
		"mail.example.com Microsoft Exchange Internet Mail Service 5.5.26": "Microsoft Exchange",
	} {
		if got := guessSoftware(banner); got != want {
			t.Errorf("guessSoftware(%q) = %q, want %q", banner, got, want)
		}
	}
}
