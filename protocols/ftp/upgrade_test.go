package ftp

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

// upgrade is FTP for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer, Goodbye: "QUIT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS, Temporary: true}, // 431
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS},                  // 534
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageCapability},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // 421
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "FakeFTP ready\nwelcome\ngo on", STARTTLSAdvertised: true,
		Capabilities: []string{"AUTH TLS", "PBSZ", "PROT", "UTF8"}, AuthMechanisms: []string{"TLS"},
		Attributes: map[string]string{AttrFeat: "listed"},
	},
	Said: []string{"FEAT", "AUTH TLS"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeProbe: with Options.Probe the dialogue sends USER with the
// made-up name before AUTH TLS and reads the answer as a finding.
func TestUpgradeProbe(t *testing.T) {
	srv := fakemail.Start(t, fakeServer(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	d, err := Upgrade(context.Background(), conn, protocols.Options{Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Attributes[AttrUser] != "accepted (331 Please specify the password.)" || !slices.Equal(d.PlaintextAuth, []string{"USER"}) {
		t.Errorf("user %q, plaintext auth %q", d.Attributes[AttrUser], d.PlaintextAuth)
	}
	if l := srv.Lines(); !slices.Equal(l, []string{"FEAT", "USER " + probeUser, "AUTH TLS"}) {
		t.Errorf("client said %q", l)
	}
	if _, err := fakemail.TLSHandshake(conn); err != nil {
		t.Fatalf("TLS after the probe: %v", err)
	}
}

// TestUpgradeResponses runs Upgrade against one-off scripts: the answers
// real servers give that the canned modes do not cover.
func TestUpgradeResponses(t *testing.T) {
	const feat = "211-Features:\r\n AUTH TLS\r\n211 End\r\n"
	cases := []struct {
		name     string
		script   string
		opts     protocols.Options
		err      error // nil: upgraded
		stage    string
		attr     string // AttrFeat, or AttrUser with opts.Probe
		software string
	}{
		{name: "vsftpd", script: "220 (vsFTPd 3.0.3)\r\n" + feat + "234 Proceed with negotiation.\r\n", attr: "listed", software: "vsftpd"},
		{name: "feat-unknown-auth-tried", script: "220 ProFTPD Server\r\n500 FEAT not understood\r\n234 AUTH TLS successful\r\n",
			attr: "500 FEAT not understood", software: "ProFTPD"},
		{name: "feat-no-features", script: "220 x\r\n211 no features\r\n504 Unknown AUTH\r\n221 bye\r\n",
			err: protocols.ErrNoSTARTTLS, stage: protocols.StageCapability, attr: "listed"},
		{name: "auth-tls-c-semicolons", script: "220 x\r\n211-Extensions supported:\r\n AUTH TLS-C;SSL\r\n211 END\r\n234 go\r\n", attr: "listed"},
		{name: "iis-multiline-greeting", script: "220-Microsoft FTP Service\r\n220 ready\r\n" + feat + "234 AUTH command ok. Expecting TLS Negotiation.\r\n",
			attr: "listed", software: "Microsoft IIS FTP"},
		{name: "preliminary-reply-skipped", script: "220 x\r\n150 hold on\r\n" + feat + "234 go\r\n", attr: "listed"},
		{name: "greeting-554", script: "554 go away\r\n221 bye\r\n", err: protocols.ErrUnexpectedReply, stage: protocols.StageGreeting},
		{name: "auth-421", script: "220 x\r\n" + feat + "421 shutting down\r\n", err: protocols.ErrThrottled, stage: protocols.StageSTARTTLS},
		{name: "feat-421", script: "220 x\r\n421 timeout\r\n", err: protocols.ErrThrottled, stage: protocols.StageCapability},
		{name: "smtp-server", script: "220 mx ESMTP\r\n502 5.5.2 Error: command not recognized\r\n502 5.5.2 Error\r\n221 bye\r\n",
			err: protocols.ErrSTARTTLSRefused, stage: protocols.StageSTARTTLS},
		{name: "http-server", script: "HTTP/1.1 400 Bad Request\r\n\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting},
		{name: "probe-must-use-encryption", opts: protocols.Options{Probe: true},
			script: "220 x\r\n" + feat + "530 Non-anonymous sessions must use encryption.\r\n234 go\r\n",
			attr:   "refused (530 Non-anonymous sessions must use encryption.)"},
		{name: "probe-odd", opts: protocols.Options{Probe: true}, script: "220 x\r\n" + feat + "202 whatever\r\n234 go\r\n", attr: "unknown (202 whatever)"},
		{name: "probe-421", opts: protocols.Options{Probe: true}, script: "220 x\r\n" + feat + "421 bye\r\n", err: protocols.ErrThrottled, stage: StageUser},
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
				if !errors.As(err, &e) || !errors.Is(err, tc.err) || e.Stage != tc.stage {
					t.Fatalf("error %v, want %v at %s", err, tc.err, tc.stage)
				}
			}
			if tc.attr != "" {
				got := d.Attributes[AttrFeat]
				if tc.opts.Probe {
					got = d.Attributes[AttrUser]
				}
				if got != tc.attr {
					t.Errorf("attribute %q, want %q", got, tc.attr)
				}
			}
			if d.Software != tc.software {
				t.Errorf("software %q, want %q", d.Software, tc.software)
			}
		})
	}
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		in    string
		code  int
		lines int
		err   error
	}{
		{"220 ok\r\n", 220, 1, nil},
		{"220\r\n", 220, 1, nil},
		{"211-Features:\r\n AUTH TLS\r\n211 End\r\n", 211, 3, nil},
		{"220-a\r\n220-b\r\n220 c\r\n", 220, 3, nil},
		{"220-a\r\n221 not the end\r\n123 neither\r\n220\r\n", 220, 4, nil},
		{"220-a\n220 b\n", 220, 2, nil},
		{"HTTP/1.1 400\r\n", 0, 0, protocols.ErrMalformed},
		{"220x\r\n", 0, 0, protocols.ErrMalformed},
		{"611 x\r\n", 0, 0, protocols.ErrMalformed},
		{"220-a\r\n", 220, 1, io.EOF},
		{"211-a\r\n b\r\n c\r\n d\r\n e\r\n", 211, 4, protocols.ErrTooManyLines},
		{"220 " + string(bytes.Repeat([]byte("a"), 100)) + "\r\n", 0, 0, protocols.ErrLineTooLong},
	}
	for _, tc := range cases {
		lr := plaintext.NewLineReader(bytes.NewReader([]byte(tc.in)), 64, protocols.ErrLineTooLong)
		r, err := readReply(lr, 4)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (r.code != tc.code || len(r.lines) != tc.lines) {
			t.Errorf("%q: %d %q, want %d with %d lines", tc.in, r.code, r.lines, tc.code, tc.lines)
		}
	}
}
