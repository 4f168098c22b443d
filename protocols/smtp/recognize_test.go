package smtp

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
		t.Logf("CAPTURES smtp | %s", line)
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
	{name: "basic",
		c2s: "EHLO x\r\nSTARTTLS\r\n", s2c: "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 2.0.0 go ahead\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "multi-line-greeting-lf-only",
		c2s: "ehlo x\nstarttls\n", s2c: "220-mx ESMTP\n220 welcome\n250 mx\n220 go\n",
		tls: true, state: protocols.Upgraded},
	{name: "refused-then-retried",
		c2s: "EHLO x\r\nSTARTTLS\r\nSTARTTLS\r\n", s2c: "220 mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n220 go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "refused",
		c2s: "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n", s2c: "220 mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n250 ok\r\n",
		state: protocols.Plaintext, reason: "STARTTLS refused: 454 4.7.0 TLS not available"},
	{name: "pipelined-data-body-says-starttls",
		c2s: "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSTARTTLS\r\n220 fake\r\n.\r\nSTARTTLS\r\n",
		s2c: "220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n354 go on\r\n250 queued\r\n220 go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "bdat-chunk-says-starttls",
		c2s: "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 10 LAST\r\nSTARTTLS\r\nSTARTTLS\r\n",
		s2c: "220 mx\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n250 queued\r\n220 go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "auth-login-before-starttls",
		c2s: "EHLO x\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\nSTARTTLS\r\n",
		s2c: "220 mx\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok\r\n220 go\r\n",
		tls: true, state: protocols.Upgraded},
	{name: "awaiting-reply", c2s: "EHLO x\r\nSTARTTLS\r\n", s2c: "220 mx\r\n250 STARTTLS\r\n", state: protocols.NeedMore},
	{name: "awaiting-reply-end", c2s: "EHLO x\r\nSTARTTLS\r\n", s2c: "220 mx\r\n250 STARTTLS\r\n220-go\r\n", state: protocols.NeedMore},
	{name: "client-goes-on-in-plaintext",
		c2s: "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n", s2c: "220 mx\r\n250 STARTTLS\r\n220 go\r\n",
		state: protocols.Plaintext, reason: "STARTTLS accepted but the client went on in plaintext"},
	{name: "no-starttls", c2s: "EHLO x\r\nMAIL FROM:<a@b>\r\n", s2c: "220 mx\r\n250 mx\r\n250 ok\r\n", state: protocols.Plaintext, reason: "no STARTTLS yet"},
	{name: "greeting-554", c2s: "QUIT\r\n", s2c: "554 5.7.1 go away\r\n221 bye\r\n", state: protocols.Plaintext, reason: "greeting 554 5.7.1 go away"},
	{name: "greeting-only", s2c: "220 mx ESMTP\r\n", state: protocols.NeedMore},
	{name: "partial-greeting", s2c: "22", state: protocols.NeedMore},
	{name: "partial-ehlo", c2s: "EH", s2c: "220 mx\r\n", state: protocols.NeedMore},
	{name: "empty", state: protocols.NeedMore},
	{name: "ftp", c2s: "USER anonymous\r\n", s2c: "220 ProFTPD Server ready\r\n", state: protocols.NotThis},
	{name: "ftp-auth-tls", c2s: "AUTH TLS\r\n", s2c: "220 FTP\r\n234 go\r\n", state: protocols.NotThis},
	{name: "http", c2s: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", s2c: "HTTP/1.1 200 OK\r\n", state: protocols.NotThis},
	{name: "tls", c2s: hello, state: protocols.NotThis},
	{name: "imap", c2s: "a1 CAPABILITY\r\n", s2c: "* OK IMAP4rev1 ready\r\n", state: protocols.NotThis},
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
