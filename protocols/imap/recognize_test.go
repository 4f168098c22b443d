package imap

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// recognizer holds IMAP's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Captures: true, Cases: []prototest.Case{
	{Name: "greeting-capabilities",
		C2S: "a1 STARTTLS\r\n", S2C: "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\na1 OK Begin TLS\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "dot-tags",
		C2S: ". CAPABILITY\r\n. STARTTLS\r\n", S2C: "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK CAPABILITY completed\r\n. OK Begin TLS negotiation now\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "pipelined",
		C2S: "a1 CAPABILITY\r\na2 STARTTLS\r\n", S2C: "* OK ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\na2 OK go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "lower-case-ok",
		C2S: "x starttls\n", S2C: "* ok ready\na1 bad junk\nx ok go\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "refused-NO-then-retried",
		C2S: "a1 STARTTLS\r\na2 STARTTLS\r\n", S2C: "* OK ready\r\na1 NO [UNAVAILABLE] later\r\na2 OK go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "refused-BAD",
		C2S: "a1 STARTTLS\r\na2 LOGIN u p\r\n", S2C: "* OK ready\r\na1 BAD unknown command\r\na2 OK logged in\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS refused: a1 BAD unknown command"},
	{Name: "client-literal-hides-starttls",
		C2S: "a1 LOGIN {11}\r\na9 STARTTLS pass\r\na2 STARTTLS\r\n", S2C: "* OK ready\r\na1 NO bad\r\na2 OK go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "server-literal-hides-tagged-ok",
		C2S: "a1 ID NIL\r\na9 STARTTLS\r\n", S2C: "* OK ready\r\n* ID (\"x\" {12}\r\na9 OK fake\r\n)\r\na1 OK\r\n",
		State: protocols.NeedMore},
	{Name: "star-is-not-a-tag",
		C2S: "a1 NOOP\r\n* STARTTLS\r\n", S2C: "* OK ready\r\n* OK still here\r\na1 OK\r\n",
		State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "awaiting-reply", C2S: "a1 STARTTLS\r\n", S2C: "* OK ready\r\n", State: protocols.NeedMore},
	{Name: "client-goes-on-in-plaintext",
		C2S: "a1 STARTTLS\r\na2 LOGIN u p\r\n", S2C: "* OK ready\r\na1 OK go\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS accepted but the client went on in plaintext"},
	{Name: "no-starttls", C2S: "a1 LOGIN u p\r\n", S2C: "* OK ready\r\na1 OK\r\n", State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "bye", C2S: "a1 CAPABILITY\r\n", S2C: "* BYE too many connections\r\n", State: protocols.Plaintext, Reason: "server said BYE"},
	{Name: "preauth", C2S: "a1 CAPABILITY\r\n", S2C: "* PREAUTH welcome\r\n", State: protocols.Plaintext},
	{Name: "greeting-only", S2C: "* OK ready\r\n", State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: "* O", State: protocols.NeedMore},
	{Name: "partial-command", C2S: "a1 CAPA", S2C: "* OK ready\r\n", State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "http-client-only", C2S: "GET / HTTP/1.1\r\n", State: protocols.NotThis},
	{Name: "http-partial", C2S: "GET / HT", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "pop3", C2S: "CAPA\r\n", S2C: "+OK POP3 ready\r\n", State: protocols.NotThis},
	{Name: "xmpp", C2S: "<?xml version='1.0'?><stream:stream to='x'>", S2C: "<?xml version='1.0'?>", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a pipelined dialogue that
// never reaches STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "a0 CAPABILITY\r\n", "* OK ready\r\n", "a1 NOOP\r\n", "a1 OK\r\n")
}
