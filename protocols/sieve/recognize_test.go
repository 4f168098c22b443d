package sieve

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

const dovecotGreeting = "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SASL\" \"PLAIN LOGIN\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"Dovecot ready.\"\r\n"

// recognizer holds ManageSieve's recognition cases for the shared checks;
// they also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Cases: []prototest.Case{
	{Name: "basic", C2S: "STARTTLS\r\n", S2C: dovecotGreeting + "OK \"Begin TLS negotiation now.\"\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "capability-then-starttls", C2S: "CAPABILITY\r\nstarttls\n",
		S2C: dovecotGreeting + dovecotGreeting + "OK\n", TLS: true, State: protocols.Upgraded},
	{Name: "literal", C2S: "STARTTLS\r\n", S2C: "\"IMPLEMENTATION\" {5}\r\nCyrus\r\n\"STARTTLS\"\r\nOK\r\nOK\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: "STARTTLS\r\nLOGOUT\r\n", S2C: dovecotGreeting + "NO \"TLS not configured\"\r\nOK \"bye\"\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS refused: NO \"TLS not configured\""},
	{Name: "no-starttls", C2S: "AUTHENTICATE \"PLAIN\" \"AGEAYg==\"\r\n", S2C: dovecotGreeting + "OK \"Logged in.\"\r\n",
		State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "greeting-bye", C2S: "LOGOUT\r\n", S2C: "BYE (TRYLATER) \"busy\"\r\n", State: protocols.Plaintext, Reason: "greeting BYE (TRYLATER) \"busy\""},
	{Name: "client-goes-on-in-plaintext", C2S: "STARTTLS\r\nLOGOUT\r\n", S2C: dovecotGreeting + "OK\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS accepted but the client went on in plaintext"},
	{Name: "awaiting-reply", C2S: "CAPABILITY\r\nSTARTTLS\r\n", S2C: dovecotGreeting + dovecotGreeting, State: protocols.NeedMore},
	{Name: "awaiting-literal", C2S: "STARTTLS\r\n", S2C: "\"IMPLEMENTATION\" {50}\r\nCyr", State: protocols.NeedMore},
	{Name: "greeting-only", S2C: dovecotGreeting, State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: "\"IMPL", State: protocols.NeedMore},
	{Name: "partial-command", C2S: "START", S2C: dovecotGreeting, State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "ftp", C2S: "AUTH TLS\r\n", S2C: "220 (vsFTPd 3.0.3)\r\n234 go\r\n", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx ESMTP\r\n250 STARTTLS\r\n220 go\r\n", State: protocols.NotThis},
	{Name: "pop3", C2S: "STLS\r\n", S2C: "+OK POP3\r\n", State: protocols.NotThis},
	{Name: "imap", C2S: "a1 STARTTLS\r\n", S2C: "* OK IMAP4rev1\r\n", State: protocols.NotThis},
	{Name: "irc", C2S: "NICK x\r\n", S2C: ":irc.example NOTICE * :*** Looking up your hostname\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "ldap", C2S: "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a dialogue that never reaches
// STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "CAPABILITY\r\n", dovecotGreeting, "NOOP\r\n", "OK \"NOOP completed.\"\r\n")
}
