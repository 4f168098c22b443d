package pop3

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
		t.Logf("CAPTURES pop3 | %s", line)
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
	{name: "stls", c2s: "STLS\r\n", s2c: "+OK ready <1@x>\r\n+OK Begin TLS negotiation\r\n", tls: true, state: protocols.Upgraded},
	{name: "capa-then-stls",
		c2s: "CAPA\r\nSTLS\r\n", s2c: "+OK ready\r\n+OK\r\nUSER\r\n..X-DOT\r\nSTLS\r\n.\r\n+OK go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "pipelined-lower-case",
		c2s: "capa\nstls\n", s2c: "+ok ready\n+ok\nstls\n.\n+ok go\n", tls: true, state: protocols.Upgraded},
	{name: "refused-then-retried",
		c2s: "STLS\r\nSTLS\r\n", s2c: "+OK ready\r\n-ERR [SYS/TEMP] later\r\n+OK go\r\n", tls: true, state: protocols.Upgraded},
	{name: "refused",
		c2s: "STLS\r\nUSER u\r\n", s2c: "+OK ready\r\n-ERR not supported\r\n+OK\r\n",
		state: protocols.Plaintext, reason: "STLS refused: -ERR not supported"},
	{name: "sasl-exchange-then-stls",
		c2s: "AUTH PLAIN\r\nAGEAYg==\r\nSTLS\r\n", s2c: "+OK ready\r\n+ \r\n-ERR auth failed\r\n+OK go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "retr-body-says-ok",
		c2s: "USER u\r\nPASS p\r\nRETR 1\r\nSTLS\r\n", s2c: "+OK ready\r\n+OK\r\n+OK\r\n+OK 20 octets\r\n+OK fake\r\n..\r\n.\r\n-ERR not now\r\n",
		state: protocols.Plaintext, reason: "STLS refused: -ERR not now"},
	{name: "awaiting-reply", c2s: "STLS\r\n", s2c: "+OK ready\r\n", state: protocols.NeedMore},
	{name: "awaiting-capa-end", c2s: "CAPA\r\nSTLS\r\n", s2c: "+OK ready\r\n+OK\r\nSTLS\r\n", state: protocols.Plaintext},
	{name: "client-goes-on-in-plaintext",
		c2s: "STLS\r\nUSER u\r\n", s2c: "+OK ready\r\n+OK go\r\n",
		state: protocols.Plaintext, reason: "STLS accepted but the client went on in plaintext"},
	{name: "no-stls", c2s: "USER u\r\n", s2c: "+OK ready\r\n+OK\r\n", state: protocols.Plaintext, reason: "no STLS yet"},
	{name: "err-greeting", c2s: "QUIT\r\n", s2c: "-ERR [SYS/TEMP] busy\r\n", state: protocols.Plaintext, reason: "server refused the connection"},
	{name: "greeting-only", s2c: "+OK ready\r\n", state: protocols.NeedMore},
	{name: "partial-greeting", s2c: "+O", state: protocols.NeedMore},
	{name: "partial-command", c2s: "CA", s2c: "+OK ready\r\n", state: protocols.NeedMore},
	{name: "empty", state: protocols.NeedMore},
	{name: "okay-is-not-ok", s2c: "+OKAY\r\n", state: protocols.NotThis},
	{name: "http", c2s: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", s2c: "HTTP/1.1 200 OK\r\n", state: protocols.NotThis},
	{name: "tls", c2s: hello, state: protocols.NotThis},
	{name: "smtp", c2s: "EHLO x\r\n", s2c: "220 mx ESMTP\r\n", state: protocols.NotThis},
	{name: "imap", c2s: "a1 CAPABILITY\r\n", s2c: "* OK IMAP4rev1 ready\r\n", state: protocols.NotThis},
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
