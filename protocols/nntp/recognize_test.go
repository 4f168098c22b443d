package nntp

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

const (
	innGreeting = "200 news.example InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n"
	innCaps     = "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nAUTHINFO SASL\r\nREADER\r\nSTARTTLS\r\n.\r\n"
)

// recognizer holds NNTP's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Cases: []prototest.Case{
	{Name: "basic", C2S: "STARTTLS\r\n", S2C: innGreeting + "382 Begin TLS negotiation now\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "capabilities-then-starttls", C2S: "CAPABILITIES\r\nstarttls\n", S2C: innGreeting + innCaps + "382 go\n", TLS: true, State: protocols.Upgraded},
	{Name: "posting-prohibited", C2S: "CAPABILITIES\r\nSTARTTLS\r\n", S2C: "201 leafnode ready\r\n" + innCaps + "382 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "mode-reader-list-group", C2S: "MODE READER\r\nLIST\r\nLISTGROUP local.test\r\nGROUP local.test\r\nSTARTTLS\r\n",
		S2C: "200 transit\r\n200 reader\r\n215 list follows\r\nlocal.test 2 1 y\r\n.\r\n211 2 1 2 local.test\r\n1\r\n2\r\n.\r\n" +
			"211 2 1 2 local.test\r\n382 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "post-then-starttls", C2S: "POST\r\nFrom: a@b\r\nSubject: x\r\n\r\n..dot\r\n.\r\nSTARTTLS\r\n",
		S2C: innGreeting + "340 send article\r\n240 article posted\r\n382 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "takethis-then-starttls", C2S: "TAKETHIS <a@b>\r\nPath: x\r\n\r\nbody\r\n.\r\nSTARTTLS\r\n",
		S2C: innGreeting + "239 <a@b>\r\n382 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: "STARTTLS\r\nQUIT\r\n", S2C: innGreeting + "580 Can not initiate TLS negotiation\r\n205 bye\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS refused: 580 Can not initiate TLS negotiation"},
	{Name: "refused-then-again", C2S: "STARTTLS\r\nSTARTTLS\r\n", S2C: innGreeting + "580 no\r\n382 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "no-starttls", C2S: "AUTHINFO USER joe\r\nAUTHINFO PASS secret\r\n", S2C: innGreeting + "381 more\r\n281 ok\r\n",
		State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "compress", C2S: "COMPRESS DEFLATE\r\n\x78\x9c", S2C: innGreeting + "206 Compression active\r\n\x78\x9c",
		State: protocols.Plaintext, Reason: "COMPRESS accepted"},
	{Name: "greeting-400", C2S: "QUIT\r\n", S2C: "400 NNTP server unavailable.  Try later!\r\n", State: protocols.Plaintext,
		Reason: "greeting 400 NNTP server unavailable"},
	{Name: "client-goes-on-in-plaintext", C2S: "STARTTLS\r\nQUIT\r\n", S2C: innGreeting + "382 go\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS accepted but the client went on in plaintext"},
	{Name: "awaiting-reply", C2S: "CAPABILITIES\r\nSTARTTLS\r\n", S2C: innGreeting + innCaps, State: protocols.NeedMore},
	{Name: "awaiting-capabilities", C2S: "CAPABILITIES\r\nSTARTTLS\r\n", S2C: innGreeting + "101 caps\r\nVERSION 2\r\n", State: protocols.Plaintext},
	{Name: "greeting-only", S2C: innGreeting, State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: "20", State: protocols.NeedMore},
	{Name: "partial-command", C2S: "CAPAB", S2C: innGreeting, State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "ftp", C2S: "AUTH TLS\r\n", S2C: "220 (vsFTPd 3.0.3)\r\n234 go\r\n", State: protocols.NotThis},
	{Name: "ftp-200-reply", C2S: "TYPE I\r\n", S2C: "200 Switching to Binary mode.\r\n", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx ESMTP\r\n250 STARTTLS\r\n220 go\r\n", State: protocols.NotThis},
	{Name: "pop3", C2S: "STLS\r\n", S2C: "+OK POP3\r\n", State: protocols.NotThis},
	{Name: "imap", C2S: "a1 STARTTLS\r\n", S2C: "* OK IMAP4rev1\r\n", State: protocols.NotThis},
	{Name: "sieve", C2S: "STARTTLS\r\n", S2C: "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n", State: protocols.NotThis},
	{Name: "irc", C2S: "NICK x\r\n", S2C: ":irc.example NOTICE * :*** Looking up your hostname\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "http-post", C2S: "POST /RT HTTP/1.1\r\nHost: x\r\n", State: protocols.NotThis},
	{Name: "http-head-partial", C2S: "HEAD /ind", State: protocols.NotThis},
	{Name: "http-head-proxy", C2S: "HEAD http://x/ HTTP/1.0\r\n", S2C: "HTTP/1.0 200 OK\r\n", State: protocols.NotThis},
	{Name: "head-article", C2S: "HEAD <a@b>\r\nSTARTTLS\r\n", S2C: innGreeting + "221 0 <a@b>\r\nPath: x\r\n.\r\n382 go\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "ldap", C2S: "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a dialogue that never reaches
// STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "CAPABILITIES\r\n", innGreeting+innCaps, "DATE\r\n", "111 20240101000000\r\n")
}
