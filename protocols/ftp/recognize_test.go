package ftp

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// recognizer holds FTP's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Cases: []prototest.Case{
	{Name: "basic", C2S: "AUTH TLS\r\n", S2C: "220 (vsFTPd 3.0.3)\r\n234 Proceed with negotiation.\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "feat-then-auth",
		C2S: "FEAT\r\nAUTH TLS\r\n", S2C: "220-FTP\r\n welcome\r\n220 ready\r\n211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n234 go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "curl", C2S: "AUTH SSL\r\nAUTH TLS\r\n", S2C: "220 x\r\n500 AUTH SSL not understood\r\n234 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "service-ready-later", C2S: "auth tls\n", S2C: "120 in 1 minute\n220 now\n234 go\n", TLS: true, State: protocols.Upgraded},
	{Name: "user-then-auth", C2S: "USER bob\r\nAUTH TLS\r\n", S2C: "220 x\r\n331 password\r\n234 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: "AUTH TLS\r\nUSER bob\r\n", S2C: "220 x\r\n534 no TLS here\r\n331 password\r\n",
		State: protocols.Plaintext, Reason: "AUTH TLS refused: 534 no TLS here"},
	{Name: "no-auth", C2S: "USER anonymous\r\nPASS x\r\n", S2C: "220 x\r\n331 password\r\n230 logged in\r\n", State: protocols.Plaintext, Reason: "no AUTH TLS yet"},
	{Name: "greeting-421", C2S: "QUIT\r\n", S2C: "421 too many users\r\n", State: protocols.Plaintext, Reason: "greeting 421 too many users"},
	{Name: "client-goes-on-in-plaintext", C2S: "AUTH TLS\r\nUSER x\r\n", S2C: "220 x\r\n234 go\r\n",
		State: protocols.Plaintext, Reason: "AUTH TLS accepted but the client went on in plaintext"},
	{Name: "awaiting-reply", C2S: "FEAT\r\nAUTH TLS\r\n", S2C: "220 x\r\n211 none\r\n", State: protocols.NeedMore},
	{Name: "awaiting-multiline-end", C2S: "AUTH TLS\r\n", S2C: "220 x\r\n234-go\r\n", State: protocols.NeedMore},
	{Name: "greeting-only", S2C: "220 x\r\n", State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: "22", State: protocols.NeedMore},
	{Name: "partial-command", C2S: "AU", S2C: "220 x\r\n", State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "smtp", C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx ESMTP\r\n250 STARTTLS\r\n220 go\r\n", State: protocols.NotThis},
	{Name: "smtp-helo", C2S: "HELO x\r\n", S2C: "220 mx\r\n", State: protocols.NotThis},
	{Name: "pop3", C2S: "CAPA\r\n", S2C: "+OK POP3\r\n", State: protocols.NotThis},
	{Name: "imap", C2S: "a1 CAPABILITY\r\n", S2C: "* OK IMAP4rev1\r\n", State: protocols.NotThis},
	{Name: "nntp", C2S: "CAPABILITIES\r\n", S2C: "200 news.example InterNetNews server ready\r\n", State: protocols.NotThis},
	{Name: "irc", C2S: "NICK x\r\n", S2C: ":irc.example NOTICE * :*** Looking up your hostname\r\n", State: protocols.NotThis},
	{Name: "sieve", C2S: "STARTTLS\r\n", S2C: "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "ldap", C2S: "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a dialogue that never reaches
// AUTH TLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "USER x\r\n", "220 x\r\n", "NOOP\r\n", "200 ok\r\n")
}
