package pop3

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// recognizer holds POP3's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Captures: true, Cases: []prototest.Case{
	{Name: "stls", C2S: "STLS\r\n", S2C: "+OK ready <1@x>\r\n+OK Begin TLS negotiation\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "capa-then-stls",
		C2S: "CAPA\r\nSTLS\r\n", S2C: "+OK ready\r\n+OK\r\nUSER\r\n..X-DOT\r\nSTLS\r\n.\r\n+OK go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "pipelined-lower-case",
		C2S: "capa\nstls\n", S2C: "+ok ready\n+ok\nstls\n.\n+ok go\n", TLS: true, State: protocols.Upgraded},
	{Name: "refused-then-retried",
		C2S: "STLS\r\nSTLS\r\n", S2C: "+OK ready\r\n-ERR [SYS/TEMP] later\r\n+OK go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "refused",
		C2S: "STLS\r\nUSER u\r\n", S2C: "+OK ready\r\n-ERR not supported\r\n+OK\r\n",
		State: protocols.Plaintext, Reason: "STLS refused: -ERR not supported"},
	{Name: "sasl-exchange-then-stls",
		C2S: "AUTH PLAIN\r\nAGEAYg==\r\nSTLS\r\n", S2C: "+OK ready\r\n+ \r\n-ERR auth failed\r\n+OK go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "retr-body-says-ok",
		C2S: "USER u\r\nPASS p\r\nRETR 1\r\nSTLS\r\n", S2C: "+OK ready\r\n+OK\r\n+OK\r\n+OK 20 octets\r\n+OK fake\r\n..\r\n.\r\n-ERR not now\r\n",
		State: protocols.Plaintext, Reason: "STLS refused: -ERR not now"},
	{Name: "awaiting-reply", C2S: "STLS\r\n", S2C: "+OK ready\r\n", State: protocols.NeedMore},
	{Name: "awaiting-capa-end", C2S: "CAPA\r\nSTLS\r\n", S2C: "+OK ready\r\n+OK\r\nSTLS\r\n", State: protocols.Plaintext},
	{Name: "client-goes-on-in-plaintext",
		C2S: "STLS\r\nUSER u\r\n", S2C: "+OK ready\r\n+OK go\r\n",
		State: protocols.Plaintext, Reason: "STLS accepted but the client went on in plaintext"},
	{Name: "no-stls", C2S: "USER u\r\n", S2C: "+OK ready\r\n+OK\r\n", State: protocols.Plaintext, Reason: "no STLS yet"},
	{Name: "err-greeting", C2S: "QUIT\r\n", S2C: "-ERR [SYS/TEMP] busy\r\n", State: protocols.Plaintext, Reason: "server refused the connection"},
	{Name: "greeting-only", S2C: "+OK ready\r\n", State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: "+O", State: protocols.NeedMore},
	{Name: "partial-command", C2S: "CA", S2C: "+OK ready\r\n", State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "okay-is-not-ok", S2C: "+OKAY\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "imap", C2S: "a1 CAPABILITY\r\n", S2C: "* OK IMAP4rev1 ready\r\n", State: protocols.NotThis},
	{Name: "xmpp", C2S: "<?xml version='1.0'?><stream:stream to='x'>", S2C: "<?xml version='1.0'?>", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a pipelined dialogue that
// never reaches STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "CAPA\r\n", "+OK ready\r\n", "NOOP\r\n", "+OK\r\n")
}
