package irc

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

const (
	inspNotice = ":irc.example.net NOTICE * :*** Looking up your hostname...\r\n"
	inspCaps   = ":irc.example.net CAP * LS * :account-notify away-notify cap-notify multi-prefix\r\n" +
		":irc.example.net CAP * LS :sasl=PLAIN,EXTERNAL tls userhost-in-names\r\n"
	ok670 = ":irc.example.net 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"
)

// recognizer holds IRC's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Cases: []prototest.Case{
	// openssl s_client -starttls irc: STARTTLS at once, NOTICEs skipped.
	{Name: "basic", C2S: "STARTTLS\r\n", S2C: inspNotice + ok670, TLS: true, State: protocols.Upgraded},
	{Name: "cap-then-starttls", C2S: "CAP LS 302\r\nSTARTTLS\r\n", S2C: inspNotice + inspCaps + ok670, TLS: true, State: protocols.Upgraded},
	// The server says nothing before the client.
	{Name: "server-silent-first", C2S: "CAP LS 302\r\nstarttls\n", S2C: ":quiet.test CAP * LS :tls\r\n:quiet.test 670 * :go\n",
		TLS: true, State: protocols.Upgraded},
	// NOTICEs (with formatting characters) and a PING between
	// STARTTLS and its answer; the client's PONG before STARTTLS.
	{Name: "noise-between", C2S: "CAP LS 302\r\nPONG :12345\r\nSTARTTLS\r\n",
		S2C: "NOTICE AUTH :*** Processing connection\r\nPING :12345\r\n" + inspCaps +
			":irc.example.net NOTICE * :*** \x02Found\x02 your \x0304hostname\r\n" + ok670, TLS: true, State: protocols.Upgraded},
	{Name: "tags", C2S: "STARTTLS\r\n", S2C: "@time=2024-01-01T00:00:00.000Z :irc.example.net NOTICE * :hi\r\n" + ok670,
		TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: "STARTTLS\r\nQUIT\r\n", S2C: inspNotice + ":irc.example.net 691 * :STARTTLS failure\r\nERROR :Closing link\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS refused: :irc.example.net 691 * :STARTTLS failure"},
	{Name: "unknown-command", C2S: "STARTTLS\r\nNICK joe\r\n", S2C: inspNotice + ":irc.example.net 421 * STARTTLS :Unknown command\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS refused: :irc.example.net 421 * STARTTLS :Unknown command"},
	{Name: "refused-then-again", C2S: "STARTTLS\r\nSTARTTLS\r\n", S2C: inspNotice + ":irc.example.net 691 * :no\r\n" + ok670,
		TLS: true, State: protocols.Upgraded},
	{Name: "no-starttls", C2S: "NICK joe\r\nUSER joe 0 * :Joe\r\n", S2C: inspNotice + ":irc.example.net 001 joe :Welcome\r\n",
		State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "server-link", C2S: "PASS secret TS 6 :42X\r\nCAPAB :QS EX\r\nSERVER hub.example 1 :Hub\r\n",
		S2C: "PASS secret TS 6 :42Y\r\nCAPAB :QS EX\r\nSERVER leaf.example 1 :Leaf\r\n", State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "throttled", C2S: "CAP LS 302\r\n", S2C: "ERROR :Closing link: (unknown@192.0.2.1) [Throttled: Reconnecting too fast]\r\n",
		State: protocols.Plaintext, Reason: "the server closed the link: ERROR :Closing link"},
	{Name: "client-goes-on-in-plaintext", C2S: "STARTTLS\r\nNICK joe\r\n", S2C: inspNotice + ok670,
		State: protocols.Plaintext, Reason: "STARTTLS accepted but the client went on in plaintext"},
	{Name: "unanswered-client-goes-on", C2S: "STARTTLS\r\nNICK joe\r\n", S2C: inspNotice,
		State: protocols.Plaintext, Reason: "STARTTLS unanswered"},
	{Name: "awaiting-reply", C2S: "CAP LS 302\r\nSTARTTLS\r\n", S2C: inspNotice + inspCaps, State: protocols.NeedMore},
	{Name: "awaiting-reply-hello-sent", C2S: "STARTTLS\r\n" + prototest.Hello, S2C: inspNotice, State: protocols.NeedMore},
	{Name: "greeting-only", S2C: inspNotice, State: protocols.NeedMore},
	{Name: "client-only", C2S: "CAP LS 302\r\n", State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: ":irc.exam", State: protocols.NeedMore},
	{Name: "partial-notice-auth", S2C: "NOTI", State: protocols.NeedMore},
	{Name: "partial-command", C2S: "CA", S2C: inspNotice, State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	// Other protocols.
	{Name: "ftp", C2S: "AUTH TLS\r\n", S2C: "220 (vsFTPd 3.0.3)\r\n234 go\r\n", State: protocols.NotThis},
	{Name: "ftp-user", C2S: "USER anonymous\r\n", S2C: "220 (vsFTPd 3.0.3)\r\n", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx ESMTP\r\n250 STARTTLS\r\n220 go\r\n", State: protocols.NotThis},
	{Name: "smtp-client-first-line", C2S: "EHLO x\r\n", State: protocols.NotThis},
	{Name: "pop3", C2S: "STLS\r\n", S2C: "+OK POP3\r\n", State: protocols.NotThis},
	{Name: "pop3-user", C2S: "USER joe\r\n", S2C: "+OK POP3\r\n", State: protocols.NotThis},
	{Name: "imap", C2S: "a1 STARTTLS\r\n", S2C: "* OK IMAP4rev1\r\n", State: protocols.NotThis},
	{Name: "nntp", C2S: "STARTTLS\r\n", S2C: "200 news.example InterNetNews NNRP server INN 2.7.1 ready\r\n382 go\r\n", State: protocols.NotThis},
	{Name: "sieve", C2S: "STARTTLS\r\n", S2C: "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n", State: protocols.NotThis},
	{Name: "xmpp", C2S: "<?xml version='1.0'?><stream:stream to='x' xmlns='jabber:client'>",
		S2C: "<?xml version='1.0'?><stream:stream from='x'>", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "ssh", C2S: "SSH-2.0-OpenSSH_9.6\r\n", S2C: "SSH-2.0-OpenSSH_9.2p1\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "ldap", C2S: "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
	// The directions swapped (the sniffer tries both).
	{Name: "swapped", C2S: inspNotice + ok670, S2C: "STARTTLS\r\n", State: protocols.NotThis},
	{Name: "numeric-without-prefix", C2S: "STARTTLS\r\n", S2C: "670 * :go\r\n", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a dialogue that never reaches
// STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "CAP LS 302\r\n", inspNotice+inspCaps, "PING :x\r\n", ":irc.example.net PONG irc.example.net :x\r\n")
}
