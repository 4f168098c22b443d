package irc

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// pause is the delay of a delayed greeting.
func pause() bool { time.Sleep(fakemail.GreetingDelay); return true }

// upgrade is IRC for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer, Goodbye: "QUIT",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // 691
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS}, // 421
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting}, // nothing heard yet
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageCapability},
		fakemail.Throttle:      {Stage: protocols.StageGreeting}, // ERROR … Throttled
	},
	Normal: protocols.Dialogue{
		Protocol: Name, Banner: "*** Looking up your hostname...", STARTTLSAdvertised: true,
		Capabilities: []string{"account-notify", "away-notify", "cap-notify", "multi-prefix", "sasl=PLAIN,EXTERNAL",
			"sts=port=6697", "tls", "userhost-in-names"},
		AuthMechanisms: []string{"PLAIN", "EXTERNAL"}, PlaintextAuth: []string{"PLAIN", "EXTERNAL"},
		Attributes: map[string]string{AttrCapabilities: "listed", AttrServer: "fake.test", AttrSASL: "sasl=PLAIN,EXTERNAL",
			AttrSTS: "port=6697"},
	},
	Said: []string{"CAP LS 302", "STARTTLS"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeResponses runs Upgrade against one-off scripts: the answers
// real servers give that the canned modes do not cover.
func TestUpgradeResponses(t *testing.T) {
	const (
		insp     = ":irc.example.net NOTICE * :*** Looking up your hostname...\r\n"
		inspCaps = ":irc.example.net CAP * LS * :account-notify away-notify cap-notify chghost extended-join\r\n" +
			":irc.example.net CAP * LS * :inspircd.org/poison inspircd.org/standard-replies invite-notify\r\n" +
			":irc.example.net CAP * LS :multi-prefix sasl=PLAIN,EXTERNAL tls userhost-in-names\r\n"
		ok670 = ":irc.example.net 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"
	)
	cases := []struct {
		name      string
		script    string
		opts      protocols.Options
		err       error // nil: upgraded
		stage     string
		temp      bool
		software  string
		banner    string
		caps      int // number of capabilities, -1: not checked
		plaintext []string
		attrs     map[string]string // a subset of the Dialogue's
	}{
		{name: "inspircd-cap-302-multi-line", script: insp + inspCaps + ok670, software: "InspIRCd",
			banner: "*** Looking up your hostname...", caps: 12, plaintext: []string{"PLAIN", "EXTERNAL"},
			attrs: map[string]string{AttrServer: "irc.example.net", AttrSASL: "sasl=PLAIN,EXTERNAL", AttrCapabilities: "listed"}},
		// CAP 301 style: one line, sasl without its mechanisms.
		{name: "cap-one-line-sasl-bare", script: ":srv.test CAP * LS :tls sasl\r\n" + ":srv.test 670 * :go\r\n",
			caps: 2, plaintext: []string{"SASL"}, attrs: map[string]string{AttrSASL: "sasl", AttrServer: "srv.test"}},
		{name: "unrealircd-sts", script: ":irc.unreal.test NOTICE * :*** Looking up your hostname...\r\n" +
			":irc.unreal.test CAP * LS :unrealircd.org/link-security=2 sts=port=6697,duration=300 tls\r\n" + ":irc.unreal.test 670 * :go\r\n",
			software: "UnrealIRCd", banner: "*** Looking up your hostname...", caps: 3, attrs: map[string]string{AttrSTS: "port=6697,duration=300"}},
		{name: "no-tls-cap", script: insp + ":irc.example.net CAP * LS :multi-prefix sasl=PLAIN\r\nERROR :Closing link\r\n",
			err: protocols.ErrNoSTARTTLS, stage: protocols.StageCapability, banner: "*** Looking up your hostname...", caps: 2,
			plaintext: []string{"PLAIN"}},
		{name: "no-tls-cap-anyway", opts: protocols.Options{StartTLSAnyway: true},
			script: insp + ":irc.example.net CAP * LS :multi-prefix\r\n" + ok670, banner: "*** Looking up your hostname...", caps: 1},
		// A server without capability negotiation: STARTTLS is asked all
		// the same, and its answer decides.
		{name: "cap-unknown-421", script: insp + ":irc.example.net 421 * CAP :Unknown command\r\n" + ok670, caps: 0,
			banner: "*** Looking up your hostname...", attrs: map[string]string{AttrCapabilities: ":irc.example.net 421 * CAP :Unknown command"}},
		{name: "cap-unknown-starttls-unknown-421", script: insp + ":irc.example.net 421 * CAP :Unknown command\r\n" +
			":irc.example.net 421 * STARTTLS :Unknown command\r\n", err: protocols.ErrSTARTTLSRefused, stage: protocols.StageSTARTTLS,
			banner: "*** Looking up your hostname...", caps: 0},
		{name: "not-registered-451", script: ":old.test NOTICE AUTH :*** Looking up your hostname\r\n" +
			":old.test 451 * :You have not registered\r\n:old.test 451 * :You have not registered\r\n",
			err: protocols.ErrSTARTTLSRefused, stage: protocols.StageSTARTTLS, banner: "*** Looking up your hostname", caps: 0,
			attrs: map[string]string{AttrServer: "old.test"}},
		{name: "refused-691", script: insp + inspCaps + ":irc.example.net 691 * :STARTTLS failure\r\n", err: protocols.ErrSTARTTLSRefused,
			stage: protocols.StageSTARTTLS, software: "InspIRCd", banner: "*** Looking up your hostname...", caps: 12,
			plaintext: []string{"PLAIN", "EXTERNAL"}},
		// NOTICEs (old style without a prefix too), RPL_HELLO and blank
		// lines around and between the replies; bare LF line ends; tags.
		{name: "notice-noise", script: "NOTICE AUTH :*** Processing connection to irc.example.net\n" + insp +
			":irc.example.net 020 * :Please wait while we process your connection.\r\n\r\n" +
			":irc.example.net CAP * LS * :multi-prefix\n:irc.example.net NOTICE * :*** Found your hostname (localhost)\r\n" +
			":irc.example.net CAP * LS :tls\r\n:irc.example.net NOTICE * :*** \x02Welcome\x02\r\n" +
			"@time=2024-01-01T00:00:00.000Z :irc.example.net NOTICE * :late\r\n" + ok670,
			banner: "*** Processing connection to irc.example.net\n*** Looking up your hostname...\n*** Found your hostname (localhost)",
			caps:   2, attrs: map[string]string{AttrServer: "irc.example.net"}},
		{name: "throttled-on-connect", script: "ERROR :Closing link: (unknown@127.0.0.1) [Throttled: Reconnecting too fast]\r\n",
			err: protocols.ErrThrottled, stage: protocols.StageGreeting, temp: true, caps: 0},
		{name: "throttled-after-notice", script: insp + "ERROR :Trying to reconnect too fast.\r\n",
			err: protocols.ErrThrottled, stage: protocols.StageCapability, temp: true, banner: "*** Looking up your hostname...", caps: 0},
		{name: "too-many-connections-465", script: insp + ":irc.example.net 465 * :Too many connections from your IP\r\n",
			err: protocols.ErrThrottled, stage: protocols.StageCapability, temp: true, banner: "*** Looking up your hostname...", caps: 0},
		{name: "try-again-263-to-starttls", script: insp + ":irc.example.net CAP * LS :tls\r\n" +
			":irc.example.net 263 * STARTTLS :Please wait a while and try again.\r\n",
			err: protocols.ErrThrottled, stage: protocols.StageSTARTTLS, temp: true, banner: "*** Looking up your hostname...", caps: 1},
		{name: "error-closing-link", script: insp + "ERROR :Closing link: (unknown@127.0.0.1) [Registration timeout]\r\n",
			err: protocols.ErrUnexpectedReply, stage: protocols.StageCapability, banner: "*** Looking up your hostname...", caps: 0},
		{name: "smtp-server", script: "220 mx ESMTP\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting, caps: 0},
		{name: "pop3-server", script: "+OK POP3 ready\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting, caps: 0},
		{name: "cap-unterminated", script: insp + ":irc.example.net CAP * LS * :multi-prefix\r\n", opts: protocols.Options{Timeout: time.Second},
			err: os.ErrDeadlineExceeded, stage: protocols.StageCapability, banner: "*** Looking up your hostname...", caps: 1},
		{name: "silent-then-closed", script: "", opts: protocols.Options{Timeout: time.Second},
			err: os.ErrDeadlineExceeded, stage: protocols.StageGreeting, caps: 0},
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
			if d.Banner != tc.banner {
				t.Errorf("banner %q, want %q", d.Banner, tc.banner)
			}
			if tc.caps >= 0 && len(d.Capabilities) != tc.caps {
				t.Errorf("capabilities %q, want %d", d.Capabilities, tc.caps)
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

// TestUpgradeSilentServer: a server that says nothing until the client
// speaks (ngIRCd sends no NOTICE before registration) is upgraded all the
// same: the dialogue waits for no greeting.
func TestUpgradeSilentServer(t *testing.T) {
	srv := fakemail.Start(t, func(c *fakemail.Conn) {
		if l, err := c.Line(); err != nil || l != "CAP LS 302" {
			return
		}
		_ = c.Send(":quiet.test CAP * LS :tls\r\n")
		if l, err := c.Line(); err == nil && l == "STARTTLS" && c.Send(":quiet.test 670 * :go ahead\r\n") == nil {
			_ = c.ServeTLS()
		}
	})
	conn := fakemail.Dial(t, srv.Addr)
	d, err := Upgrade(context.Background(), conn, protocols.Options{})
	if err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	if d.Banner != "" || !d.STARTTLSAdvertised || d.Attributes[AttrServer] != "quiet.test" {
		t.Errorf("dialogue %+v", d)
	}
	if _, err := fakemail.TLSHandshake(conn); err != nil {
		t.Fatalf("TLS handshake after Upgrade: %v", err)
	}
}

// TestUpgradePing: a PING in the middle of the dialogue is answered with
// a PONG carrying its token, and the dialogue goes on; the server goes on
// only once it has the PONG.
func TestUpgradePing(t *testing.T) {
	srv := fakemail.Start(t, func(c *fakemail.Conn) {
		_ = c.Send(":srv.test NOTICE * :*** Looking up your hostname...\r\n")
		if l, err := c.Line(); err != nil || l != "CAP LS 302" {
			return
		}
		_ = c.Send(":srv.test CAP * LS * :multi-prefix\r\nPING :1234567890\r\n")
		if l, err := c.Line(); err != nil || l != "PONG :1234567890" {
			return
		}
		_ = c.Send(":srv.test CAP * LS :tls\r\n")
		if l, err := c.Line(); err != nil || l != "STARTTLS" {
			return
		}
		_ = c.Send("PING :again\r\n")
		if l, err := c.Line(); err != nil || l != "PONG :again" {
			return
		}
		if c.Send(":srv.test 670 * :go ahead\r\n") == nil {
			_ = c.ServeTLS()
		}
	})
	conn := fakemail.Dial(t, srv.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Upgrade(ctx, conn, protocols.Options{}); err != nil {
		t.Fatalf("Upgrade: %v (client said %q)", err, srv.Lines())
	}
	if _, err := fakemail.TLSHandshake(conn); err != nil {
		t.Fatalf("TLS handshake after Upgrade: %v", err)
	}
	want := []string{"CAP LS 302", "PONG :1234567890", "STARTTLS", "PONG :again"}
	if l := srv.Lines(); !slices.Equal(l, want) {
		t.Errorf("client said %q, want %q", l, want)
	}
}
