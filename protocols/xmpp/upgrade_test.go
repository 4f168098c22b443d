package xmpp

import (
	"context"
	"errors"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is XMPP's client streams for the shared failure-mode table.
var upgrade = prototest.Upgrade{
	Protocol: Client, Server: fakeServer, Goodbye: "</stream:stream>",
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageCapability},
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // <failure/>
		fakemail.DelayGreeting: {Stage: protocols.StageGreeting},
		fakemail.Tarpit:        {Stage: protocols.StageGreeting},
		fakemail.Endless:       {Stage: protocols.StageCapability},
		fakemail.LongLine:      {Stage: protocols.StageGreeting},
		fakemail.CloseMid:      {Stage: protocols.StageGreeting},
		fakemail.Throttle:      {Stage: protocols.StageCapability}, // <resource-constraint/>
	},
	Normal: protocols.Dialogue{
		Protocol: NameClient, Banner: "fake.test", Software: "ejabberd", STARTTLSAdvertised: true,
		Capabilities: []string{"starttls " + nsTLS + " required", "mechanisms " + nsSASL + " SCRAM-SHA-1 PLAIN",
			"c " + nsCaps + " node=http://www.process-one.net/en/ejabberd/"},
		PlaintextAuth: []string{"SCRAM-SHA-1", "PLAIN"}, AuthMechanisms: []string{"SCRAM-SHA-1", "PLAIN"},
		Attributes: map[string]string{AttrDomain: "chat.example", AttrFrom: "fake.test", AttrVersion: "1.0", AttrStartTLS: "required"},
	},
	NormalOptions: protocols.Options{Domain: "chat.example", Host: "xmpp.example"},
	Said:          []string{"stream to=chat.example", "starttls"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestDomain: the stream is opened to Options.Domain, else the host name,
// else the address.
func TestDomain(t *testing.T) {
	for _, tc := range []struct {
		opts protocols.Options
		want string
	}{
		{protocols.Options{Domain: "chat.example", Host: "xmpp.example"}, "chat.example"},
		{protocols.Options{Host: "xmpp.example"}, "xmpp.example"},
		{protocols.Options{}, "127.0.0.1"},
		{protocols.Options{Domain: "a'b<c"}, "a&#39;b&lt;c"},
	} {
		srv := fakemail.Start(t, fakeServer(fakemail.Normal))
		if _, err := Client.Upgrade(context.Background(), fakemail.Dial(t, srv.Addr), tc.opts); err != nil {
			t.Fatal(err)
		}
		if l := srv.Lines(); len(l) == 0 || l[0] != "stream to="+tc.want {
			t.Errorf("%+v: client said %q, want to=%s", tc.opts, l, tc.want)
		}
	}
}

// TestUpgradeResponses runs Upgrade against one-off scripts: the answers
// real servers give that the canned modes do not cover.
func TestUpgradeResponses(t *testing.T) {
	const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='x' version='1.0'>"
	const serverHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' from='x' version='1.0'>"
	tlsFeature := "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
	cases := []struct {
		name   string
		p      *protocols.Protocol
		script string
		opts   protocols.Options
		err    error // nil: upgraded
		stage  string
		reply  string
		attr   string // AttrStartTLS or AttrStreamError
	}{
		{name: "prosody-s2s", p: Server, script: serverHeader + "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>" +
			"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>" + proceed, attr: "required"},
		{name: "proceed-with-end-tag", p: Client, script: header + tlsFeature + "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>", attr: "optional"},
		{name: "whitespace-between-elements", p: Client, script: header + "\n  " + tlsFeature + "\n" + proceed, attr: "optional"},
		{name: "no-declaration", p: Client, script: header[len("<?xml version='1.0'?>"):] + tlsFeature + proceed, attr: "optional"},
		{name: "host-unknown", p: Client, script: header + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
			"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve 127.0.0.1</text></stream:error></stream:stream>",
			err: protocols.ErrUnknownDomain, stage: protocols.StageCapability, reply: "stream error host-unknown: This server does not serve 127.0.0.1"},
		{name: "system-shutdown-at-starttls", p: Client, script: header + tlsFeature + "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
			err: protocols.ErrThrottled, stage: protocols.StageSTARTTLS, reply: "stream error system-shutdown"},
		{name: "server-stream-to-a-client", p: Client, script: serverHeader + tlsFeature, err: protocols.ErrUnexpectedReply, stage: protocols.StageGreeting},
		{name: "stream-closed", p: Client, script: header + "</stream:stream>", err: protocols.ErrUnexpectedReply, stage: protocols.StageCapability},
		{name: "doctype", p: Client, script: "<!DOCTYPE x>" + header, err: protocols.ErrMalformed, stage: protocols.StageGreeting},
		{name: "not-xml", p: Client, script: "220 mx ESMTP\r\n", err: protocols.ErrMalformed, stage: protocols.StageGreeting},
		{name: "iq-auth", p: Client, script: header + "<stream:features><auth xmlns='http://jabber.org/features/iq-auth'/></stream:features></stream:stream>",
			err: protocols.ErrNoSTARTTLS, stage: protocols.StageCapability},
		{name: "other-element-at-starttls", p: Client, script: header + tlsFeature + "<iq type='get'/>", err: protocols.ErrUnexpectedReply, stage: protocols.StageSTARTTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := prototest.Scripted(t, tc.script)
			d, err := tc.p.Upgrade(context.Background(), conn, tc.opts)
			if tc.err == nil {
				if err != nil {
					t.Fatalf("Upgrade: %v", err)
				}
				// Nothing past the proceed element was read.
				if n, want := conn.BytesRead(), int64(len(tc.script)); n != want {
					t.Errorf("read %d bytes of the %d the server sent", n, want)
				}
			} else {
				var e *protocols.Error
				if !errors.As(err, &e) || !errors.Is(err, tc.err) || e.Stage != tc.stage || tc.reply != "" && e.Reply != tc.reply {
					t.Fatalf("error %v (%#v), want %v at %s with %q", err, e, tc.err, tc.stage, tc.reply)
				}
			}
			if tc.attr != "" {
				got := d.Attributes[AttrStartTLS]
				if tc.err != nil {
					got = d.Attributes[AttrStreamError]
				}
				if got != tc.attr {
					t.Errorf("attribute %q, want %q", got, tc.attr)
				}
			}
			if tc.name == "iq-auth" && (len(d.PlaintextAuth) != 1 || d.PlaintextAuth[0] != "IQ-AUTH") {
				t.Errorf("plaintext auth %q", d.PlaintextAuth)
			}
		})
	}
}
