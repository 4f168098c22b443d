package imap

import (
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/protocols"
)

// TestRecognizePublicCaptures runs Recognize over every TCP flow of the
// public captures (testdata/public), whole and frame by frame; see
// mailserver.CheckRecognizer for what is asserted.
func TestRecognizePublicCaptures(t *testing.T) {
	for _, line := range mailserver.CheckRecognizer(t, Name, Recognize) {
		t.Logf("CAPTURES imap | %s", line)
	}
}

// hello is the start of a ClientHello record, and serverHello of a
// ServerHello record, as they follow a STARTTLS exchange.
const (
	hello       = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	serverHello = "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03"
)

// recognizeCases are dialogues with their expected recognition; they also
// seed FuzzRecognize (go test -run TestFuzzCorpus -update-fuzz-corpus).
var recognizeCases = []struct {
	name     string
	c2s, s2c string
	tls      bool // append the start of a ClientHello and a ServerHello
	state    protocols.State
	reason   string // prefix of the Reason, when not empty
}{
	{name: "greeting-capabilities",
		c2s: "a1 STARTTLS\r\n", s2c: "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\na1 OK Begin TLS\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "dot-tags",
		c2s: ". CAPABILITY\r\n. STARTTLS\r\n", s2c: "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK CAPABILITY completed\r\n. OK Begin TLS negotiation now\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "pipelined",
		c2s: "a1 CAPABILITY\r\na2 STARTTLS\r\n", s2c: "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\na2 OK go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "lower-case-ok",
		c2s: "x starttls\n", s2c: "* ok ready\na1 bad junk\nx ok go\n",
		tls: true, state: protocols.Upgraded},
	{name: "refused-NO-then-retried",
		c2s: "a1 STARTTLS\r\na2 STARTTLS\r\n", s2c: "* OK ready\r\na1 NO [UNAVAILABLE] later\r\na2 OK go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "refused-BAD",
		c2s: "a1 STARTTLS\r\na2 LOGIN u p\r\n", s2c: "* OK ready\r\na1 BAD unknown command\r\na2 OK logged in\r\n",
		state: protocols.Plaintext, reason: "STARTTLS refused: a1 BAD unknown command"},
	{name: "client-literal-hides-starttls",
		c2s: "a1 LOGIN {11}\r\na9 STARTTLS pass\r\na2 STARTTLS\r\n", s2c: "* OK ready\r\na1 NO bad\r\na2 OK go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "server-literal-hides-tagged-ok",
		c2s: "a1 ID NIL\r\na9 STARTTLS\r\n", s2c: "* OK ready\r\n* ID (\"x\" {12}\r\na9 OK fake\r\n)\r\na1 OK\r\n",
		state: protocols.NeedMore},
	{name: "star-is-not-a-tag",
		c2s: "a1 NOOP\r\n* STARTTLS\r\n", s2c: "* OK ready\r\n* OK still here\r\na1 OK\r\n",
		state: protocols.Plaintext, reason: "no STARTTLS yet"},
	{name: "awaiting-reply", c2s: "a1 STARTTLS\r\n", s2c: "* OK ready\r\n", state: protocols.NeedMore},
	{name: "client-goes-on-in-plaintext",
		c2s: "a1 STARTTLS\r\na2 LOGIN u p\r\n", s2c: "* OK ready\r\na1 OK go\r\n",
		state: protocols.Plaintext, reason: "STARTTLS accepted but the client went on in plaintext"},
	{name: "no-starttls", c2s: "a1 LOGIN u p\r\n", s2c: "* OK ready\r\na1 OK\r\n", state: protocols.Plaintext, reason: "no STARTTLS yet"},
	{name: "bye", c2s: "a1 CAPABILITY\r\n", s2c: "* BYE too many connections\r\n", state: protocols.Plaintext, reason: "server said BYE"},
	{name: "preauth", c2s: "a1 CAPABILITY\r\n", s2c: "* PREAUTH welcome\r\n", state: protocols.Plaintext},
	{name: "greeting-only", s2c: "* OK ready\r\n", state: protocols.NeedMore},
	{name: "partial-greeting", s2c: "* O", state: protocols.NeedMore},
	{name: "partial-command", c2s: "a1 CAPA", s2c: "* OK ready\r\n", state: protocols.NeedMore},
	{name: "empty", state: protocols.NeedMore},
	{name: "http", c2s: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", s2c: "HTTP/1.1 200 OK\r\n", state: protocols.NotThis},
	{name: "http-client-only", c2s: "GET / HTTP/1.1\r\n", state: protocols.NotThis},
	{name: "http-partial", c2s: "GET / HT", state: protocols.NotThis},
	{name: "tls", c2s: hello, state: protocols.NotThis},
	{name: "smtp", c2s: "EHLO x\r\n", s2c: "220 mx ESMTP\r\n", state: protocols.NotThis},
	{name: "pop3", c2s: "CAPA\r\n", s2c: "+OK POP3 ready\r\n", state: protocols.NotThis},
	{name: "xmpp", c2s: "<?xml version='1.0'?><stream:stream to='x'>", s2c: "<?xml version='1.0'?>", state: protocols.NotThis},
	{name: "binary-greeting", s2c: "\x00\x01\x02\x03", state: protocols.NotThis},
}

func TestRecognize(t *testing.T) {
	for _, tc := range recognizeCases {
		t.Run(tc.name, func(t *testing.T) {
			c2s, s2c := tc.c2s, tc.s2c
			if tc.tls {
				c2s, s2c = c2s+hello, s2c+serverHello
			}
			r := Recognize([]byte(c2s), []byte(s2c))
			if r.State != tc.state || r.Protocol != Name {
				t.Fatalf("%v %q (%s), want %v", r.State, r.Protocol, r.Reason, tc.state)
			}
			if tc.state == protocols.Upgraded && (r.ClientOffset != len(tc.c2s) || r.ServerOffset != len(tc.s2c)) {
				t.Errorf("offsets %d/%d, want %d/%d", r.ClientOffset, r.ServerOffset, len(tc.c2s), len(tc.s2c))
			}
			if !strings.HasPrefix(r.Reason, tc.reason) {
				t.Errorf("Reason %q, want %q…", r.Reason, tc.reason)
			}
		})
	}
}
