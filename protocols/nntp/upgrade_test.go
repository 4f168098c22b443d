package nntp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
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

// upgrade is NNTP for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer, Goodbye: "QUIT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // 580
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS}, // 502
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageCapability},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // 400
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "news.fake.test FakeNews ready (posting ok)", STARTTLSAdvertised: true,
		Capabilities: []string{"VERSION 2", "IMPLEMENTATION FakeNews 1.0", "AUTHINFO USER SASL", "SASL PLAIN", "READER",
			"STARTTLS", "LIST ACTIVE NEWSGROUPS"},
		AuthMechanisms: []string{"PLAIN"}, PlaintextAuth: []string{"USER", "PLAIN"},
		Attributes: map[string]string{AttrPosting: "true", AttrCapabilities: "listed", AttrAuthinfo: "AUTHINFO USER SASL"},
	},
	Said: []string{"CAPABILITIES", "STARTTLS"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeResponses runs Upgrade against one-off scripts: the answers
// real servers give that the canned modes do not cover.
func TestUpgradeResponses(t *testing.T) {
	const inn = "200 news.example InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n"
	const innCaps = "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nAUTHINFO SASL\r\nSASL SCRAM-SHA-256 CRAM-MD5\r\n" +
		"READER\r\nSTARTTLS\r\n.\r\n"
	cases := []struct {
		name      string
		script    string
		opts      protocols.Options
		err       error // nil: upgraded
		stage     string
		temp      bool
		software  string
		plaintext []string
		attrs     map[string]string // a subset of the Dialogue's
	}{
		{name: "inn", script: inn + innCaps + "382 Begin TLS negotiation now\r\n", software: "INN",
			plaintext: []string{"SCRAM-SHA-256", "CRAM-MD5"}, attrs: map[string]string{AttrPosting: "true", AttrAuthinfo: "AUTHINFO SASL"}},
		{name: "posting-prohibited-authinfo-bare", script: "201 Leafnode NNTP daemon, version 2.0 running\r\n" +
			"101 caps\r\nVERSION 2\r\nAUTHINFO\r\nSTARTTLS\r\n.\r\n382 go\r\n", software: "Leafnode",
			attrs: map[string]string{AttrPosting: "false", AttrAuthinfo: "AUTHINFO"}},
		{name: "dot-stuffed-capability", script: inn + "101 caps\r\n..X-DOT\r\nSTARTTLS\r\n.\r\n382 go\r\n", software: "INN"},
		// A mode-switching server (RFC 3977 §5.3): STARTTLS only once
		// it is reading.
		{name: "mode-reader", script: "200 transit ready\r\n101 caps\r\nVERSION 2\r\nMODE-READER\r\nIHAVE\r\n.\r\n" +
			"200 Reader mode, posting permitted\r\n101 caps\r\nVERSION 2\r\nREADER\r\nAUTHINFO USER\r\nSTARTTLS\r\n.\r\n382 go\r\n",
			plaintext: []string{"USER"}, attrs: map[string]string{AttrModeReader: "200 Reader mode, posting permitted"}},
		{name: "mode-reader-refused", script: "200 transit ready\r\n101 caps\r\nVERSION 2\r\nMODE-READER\r\n.\r\n502 no reading\r\n205 bye\r\n",
			err: protocols.ErrNoSTARTTLS, stage: protocols.StageCapability, attrs: map[string]string{AttrModeReader: "502 no reading"}},
		// A server older than RFC 3977: CAPABILITIES unknown, STARTTLS
		// asked all the same.
		{name: "no-capabilities-command", script: "200 old server\r\n500 What?\r\n382 go\r\n",
			attrs: map[string]string{AttrCapabilities: "500 What?"}},
		{name: "no-capabilities-refused", script: "200 old server\r\n500 What?\r\n500 What?\r\n205 bye\r\n",
			err: protocols.ErrSTARTTLSRefused, stage: protocols.StageSTARTTLS},
		{name: "no-starttls-anyway", opts: protocols.Options{StartTLSAnyway: true}, script: "200 x\r\n101 caps\r\nVERSION 2\r\n.\r\n382 go\r\n"},
		{name: "starttls-throttled", script: inn + innCaps + "400 server overloaded\r\n", err: protocols.ErrThrottled,
			stage: protocols.StageSTARTTLS, temp: true, software: "INN", plaintext: []string{"SCRAM-SHA-256", "CRAM-MD5"}},
		{name: "capabilities-throttled", script: inn + "400 going down\r\n", err: protocols.ErrThrottled,
			stage: protocols.StageCapability, temp: true, software: "INN"},
		{name: "greeting-502", script: "502 You have no permission to talk.  Goodbye!\r\n", err: protocols.ErrUnexpectedReply, stage: protocols.StageGreeting},
		{name: "greeting-400-inn", script: "400 NNTP server unavailable.  Try later!\r\n", err: protocols.ErrThrottled,
			stage: protocols.StageGreeting, temp: true},
		{name: "smtp-server", script: "220 mx ESMTP\r\n221 bye\r\n", err: protocols.ErrUnexpectedReply, stage: protocols.StageGreeting},
		{name: "pop3-server", script: "+OK POP3 ready\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting},
		{name: "capabilities-unterminated", script: inn + "101 caps\r\nSTARTTLS\r\n", opts: protocols.Options{Timeout: time.Second},
			err: os.ErrDeadlineExceeded, stage: protocols.StageCapability, software: "INN"},
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
			if !slices.Equal(d.PlaintextAuth, tc.plaintext) {
				t.Errorf("plaintext auth %q, want %q", d.PlaintextAuth, tc.plaintext)
			}
			for k, v := range tc.attrs {
				if d.Attributes[k] != v {
					t.Errorf("attribute %s %q, want %q (%v)", k, d.Attributes[k], v, d.Attributes)
				}
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	multi := func(code int) bool { return code == 101 }
	cases := []struct {
		in   string
		code int
		data []string
		err  error
	}{
		{"200 ready\r\n", 200, nil, nil},
		{"205\r\n", 205, nil, nil},
		{"101 caps\r\nVERSION 2\r\n..X\r\n.\r\n", 101, []string{"VERSION 2", ".X"}, nil},
		{"101 caps\n.\n", 101, nil, nil},
		{"101 caps\r\nA\r\nB\r\nC\r\nD\r\nE\r\n.\r\n", 0, nil, protocols.ErrTooManyLines},
		{"101 caps\r\nA\r\n", 0, nil, io.EOF},
		{"20 x\r\n", 0, nil, protocols.ErrMalformed},
		{"600 x\r\n", 0, nil, protocols.ErrMalformed},
		{"200x\r\n", 0, nil, protocols.ErrMalformed},
		{"+OK\r\n", 0, nil, protocols.ErrMalformed},
		{"200 " + string(bytes.Repeat([]byte("a"), 100)) + "\r\n", 0, nil, protocols.ErrLineTooLong},
	}
	for _, tc := range cases {
		lr := plaintext.NewLineReader(bytes.NewReader([]byte(tc.in)), 64, protocols.ErrLineTooLong)
		r, err := readResponse(lr, 4, multi)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (r.code != tc.code || !slices.Equal(r.data, tc.data)) {
			t.Errorf("%q: %d %q, want %d %q", tc.in, r.code, r.data, tc.code, tc.data)
		}
	}
}
