package sieve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// pause is the delay of a delayed greeting.
func pause() bool { time.Sleep(fakemail.GreetingDelay); return true }

// upgrade is ManageSieve for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer, Goodbye: "LOGOUT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS, Temporary: true}, // NO (TRYLATER)
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS},                  // NO
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageGreeting},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageSTARTTLS},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // BYE (TRYLATER)
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "FakeSieve", STARTTLSAdvertised: true,
		Capabilities:   []string{"IMPLEMENTATION FakeSieve", "SASL PLAIN LOGIN", "SIEVE fileinto reject x", "STARTTLS", "VERSION 1.0"},
		AuthMechanisms: []string{"PLAIN", "LOGIN"}, PlaintextAuth: []string{"PLAIN", "LOGIN"},
	},
	Said: []string{"STARTTLS"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeResponses runs Upgrade against one-off scripts: the answers
// real servers give that the canned modes do not cover.
func TestUpgradeResponses(t *testing.T) {
	const dovecot = "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SIEVE\" \"fileinto\"\r\n\"NOTIFY\" \"mailto\"\r\n" +
		"\"SASL\" \"PLAIN LOGIN\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n"
	cases := []struct {
		name     string
		script   string
		opts     protocols.Options
		err      error // nil: upgraded
		stage    string
		temp     bool
		software string
		mechs    []string
	}{
		{name: "dovecot", script: dovecot + "OK \"Begin TLS negotiation now.\"\r\n", software: "Dovecot", mechs: []string{"PLAIN", "LOGIN"}},
		{name: "cyrus-literal", script: "\"IMPLEMENTATION\" {20}\r\nCyrus timsieved v2.4\r\n\"STARTTLS\"\r\nOK\r\nOK\r\n", software: "Cyrus"},
		{name: "no-sasl-before-tls", script: "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nok\r\nOK (x) \"go\"\r\n"},
		{name: "escaped-quote", script: "\"IMPLEMENTATION\" \"a \\\"b\\\" \\\\ Dovecot\"\r\n\"STARTTLS\"\r\nOK\r\nOK\r\n", software: "Dovecot"},
		{name: "greeting-bye", script: "BYE \"go away\"\r\n", err: protocols.ErrThrottled, stage: protocols.StageGreeting},
		{name: "greeting-no", script: "NO \"not now\"\r\n", err: protocols.ErrUnexpectedReply, stage: protocols.StageGreeting},
		{name: "starttls-bye-trylater", script: dovecot + "BYE (TRYLATER) \"later\"\r\n", err: protocols.ErrThrottled, stage: protocols.StageSTARTTLS, temp: true,
			software: "Dovecot", mechs: []string{"PLAIN", "LOGIN"}},
		{name: "no-starttls-anyway", opts: protocols.Options{StartTLSAnyway: true}, script: "\"IMPLEMENTATION\" \"x\"\r\nOK\r\nOK\r\n"},
		{name: "smtp-server", script: "220 mx ESMTP\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting},
		{name: "unterminated-quote", script: "\"IMPLEMENTATION\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting},
		{name: "huge-literal", script: "\"IMPLEMENTATION\" {999999}\r\n", err: protocols.ErrLineTooLong, stage: protocols.StageGreeting},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := prototest.Scripted(t, tc.script)
			d, err := Upgrade(context.Background(), conn, tc.opts)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Upgrade: %v", err)
				}
			} else {
				var e *protocols.Error
				if !errors.As(err, &e) || !errors.Is(err, tc.err) || e.Stage != tc.stage || e.Temporary != tc.temp {
					t.Fatalf("error %v, want %v at %s (temporary %v)", err, tc.err, tc.stage, tc.temp)
				}
			}
			if d.Software != tc.software {
				t.Errorf("software %q, want %q", d.Software, tc.software)
			}
			if !slices.Equal(d.AuthMechanisms, tc.mechs) || !slices.Equal(d.PlaintextAuth, tc.mechs) {
				t.Errorf("mechanisms %q, plaintext %q, want %q", d.AuthMechanisms, d.PlaintextAuth, tc.mechs)
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	cases := []struct {
		in     string
		status string
		code   string
		data   [][]string
		err    error
	}{
		{"OK\r\n", "OK", "", nil, nil},
		{"\"A\"\r\n\"B\" \"c d\"\r\nOK \"x\"\r\n", "OK", "", [][]string{{"A"}, {"B", "c d"}}, nil},
		{"\"A\" {3}\r\nx\"y\r\nOK\r\n", "OK", "", [][]string{{"A", "x\"y"}}, nil},
		{"\"A\" {2+}\r\nxy\r\nno (trylater) \"later\"\r\n", "NO", "TRYLATER", [][]string{{"A", "xy"}}, nil},
		{"BYE (REFERRAL \"sieve://x\") \"go\"\r\n", "BYE", "REFERRAL", nil, nil},
		{"\"A\" \"b\r\n", "", "", nil, protocols.ErrMalformed},
		{"\"A\"x\r\n", "", "", nil, protocols.ErrMalformed},
		{"\"A\" {x}\r\n", "", "", nil, protocols.ErrMalformed},
		{"\"A\" {3} \"b\"\r\n", "", "", nil, protocols.ErrMalformed},
		{"\"\\n\"\r\n", "", "", nil, protocols.ErrMalformed},
		{"220 x\r\n", "", "", nil, protocols.ErrMalformed},
		{"\"A\" {5}\r\nab", "", "", nil, io.EOF},
		{"\"A\"\r\n", "", "", nil, io.EOF},
		{"\"A\"\r\n\"B\"\r\n\"C\"\r\n\"D\"\r\nOK\r\n", "", "", nil, protocols.ErrTooManyLines},
		{"\"A\" {100}\r\n", "", "", nil, protocols.ErrLineTooLong},
		{"\"" + string(bytes.Repeat([]byte("a"), 100)) + "\"\r\n", "", "", nil, protocols.ErrLineTooLong},
	}
	for _, tc := range cases {
		lr := plaintext.NewLineReader(bytes.NewReader([]byte(tc.in)), 64, protocols.ErrLineTooLong)
		r, err := readResponse(lr, 4, 64)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (r.status != tc.status || r.code != tc.code || !equalData(r.data, tc.data)) {
			t.Errorf("%q: %s (%s) %q, want %s (%s) %q", tc.in, r.status, r.code, r.data, tc.status, tc.code, tc.data)
		}
	}
}

func equalData(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}
