package smtp

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// recognizer holds SMTP's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Captures: true, Cases: []prototest.Case{
	{Name: "basic",
		C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n220 2.0.0 go ahead\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "multi-line-greeting-lf-only",
		C2S: "ehlo x\nstarttls\n", S2C: "220-mx ESMTP\n220 welcome\n250 mx\n220 go\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "refused-then-retried",
		C2S: "EHLO x\r\nSTARTTLS\r\nSTARTTLS\r\n", S2C: "220 mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n220 go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "refused",
		C2S: "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n", S2C: "220 mx\r\n250 STARTTLS\r\n454 4.7.0 TLS not available\r\n250 ok\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS refused: 454 4.7.0 TLS not available"},
	{Name: "pipelined-data-body-says-starttls",
		C2S: "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSTARTTLS\r\n220 fake\r\n.\r\nSTARTTLS\r\n",
		S2C: "220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n354 go on\r\n250 queued\r\n220 go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "bdat-chunk-says-starttls",
		C2S: "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 10 LAST\r\nSTARTTLS\r\nSTARTTLS\r\n",
		S2C: "220 mx\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n250 queued\r\n220 go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "auth-login-before-starttls",
		C2S: "EHLO x\r\nAUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\nSTARTTLS\r\n",
		S2C: "220 mx\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 ok\r\n220 go\r\n",
		TLS: true, State: protocols.Upgraded},
	{Name: "awaiting-reply", C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx\r\n250 STARTTLS\r\n", State: protocols.NeedMore},
	{Name: "awaiting-reply-end", C2S: "EHLO x\r\nSTARTTLS\r\n", S2C: "220 mx\r\n250 STARTTLS\r\n220-go\r\n", State: protocols.NeedMore},
	{Name: "client-goes-on-in-plaintext",
		C2S: "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n", S2C: "220 mx\r\n250 STARTTLS\r\n220 go\r\n",
		State: protocols.Plaintext, Reason: "STARTTLS accepted but the client went on in plaintext"},
	{Name: "no-starttls", C2S: "EHLO x\r\nMAIL FROM:<a@b>\r\n", S2C: "220 mx\r\n250 mx\r\n250 ok\r\n", State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "greeting-554", C2S: "QUIT\r\n", S2C: "554 5.7.1 go away\r\n221 bye\r\n", State: protocols.Plaintext, Reason: "greeting 554 5.7.1 go away"},
	{Name: "greeting-only", S2C: "220 mx ESMTP\r\n", State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: "22", State: protocols.NeedMore},
	{Name: "partial-ehlo", C2S: "EH", S2C: "220 mx\r\n", State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "ftp", C2S: "USER anonymous\r\n", S2C: "220 ProFTPD Server ready\r\n", State: protocols.NotThis},
	{Name: "ftp-auth-tls", C2S: "AUTH TLS\r\n", S2C: "220 FTP\r\n234 go\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "imap", C2S: "a1 CAPABILITY\r\n", S2C: "* OK IMAP4rev1 ready\r\n", State: protocols.NotThis},
	{Name: "pop3", C2S: "CAPA\r\n", S2C: "+OK POP3 ready\r\n", State: protocols.NotThis},
	{Name: "xmpp", C2S: "<?xml version='1.0'?><stream:stream to='x'>", S2C: "<?xml version='1.0'?>", State: protocols.NotThis},
	{Name: "nntp", C2S: "CAPABILITIES\r\n", S2C: "200 news.example InterNetNews NNRP server INN 2.7.1 ready\r\n", State: protocols.NotThis},
	{Name: "nntp-greeting-alone", S2C: "201 leafnode ready\r\n", State: protocols.NotThis},
	{Name: "nntp-partial-greeting", S2C: "20", State: protocols.NotThis},
	{Name: "binary-greeting", S2C: "\x00\x01\x02\x03", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a pipelined dialogue that
// never reaches STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, "EHLO x\r\n", "220 mx\r\n", "NOOP\r\n", "250 ok\r\n")
}
