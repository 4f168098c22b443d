package postgres

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

const (
	ssl     = "\x00\x00\x00\x08\x04\xd2\x16\x2f"
	gss     = "\x00\x00\x00\x08\x04\xd2\x16\x30"
	startup = "\x00\x00\x00\x2a\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00\x00"
)

// recognizer holds PostgreSQL's recognition cases for the shared checks;
// they also seed FuzzRecognize (go test -run TestRecognize
// -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, Captures: true, Cases: []prototest.Case{
	{Name: "basic", C2S: ssl, S2C: "S", TLS: true, State: protocols.Upgraded},
	{Name: "gssenc-refused-then-ssl", C2S: gss + ssl, S2C: "NS", TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: ssl + startup, S2C: "N", State: protocols.Plaintext, Reason: "SSLRequest refused: N"},
	{Name: "error", C2S: ssl, S2C: tooManyClients, State: protocols.Plaintext, Reason: "SSLRequest answered with an ErrorResponse"},
	{Name: "gssenc-accepted", C2S: gss, S2C: "G", State: protocols.Plaintext, Reason: "GSSAPI encryption, not TLS"},
	{Name: "startup-in-clear", C2S: startup, S2C: "R\x00\x00\x00\x08\x00\x00\x00\x00", State: protocols.Plaintext, Reason: "no SSLRequest: a StartupMessage in clear"},
	{Name: "gssenc-refused-then-startup", C2S: gss + startup, S2C: "N", State: protocols.Plaintext, Reason: "a StartupMessage in clear after"},
	{Name: "cancel", C2S: "\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x30\x39\x12\x34\x56\x78", State: protocols.Plaintext, Reason: "a CancelRequest"},
	{Name: "awaiting-answer", C2S: ssl, State: protocols.NeedMore},
	{Name: "partial-request", C2S: ssl[:5], State: protocols.NeedMore},
	{Name: "partial-startup", C2S: startup[:6], State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "client-goes-on-in-plaintext", C2S: ssl + startup, S2C: "S", State: protocols.Plaintext, Reason: "SSLRequest accepted but the client went on in plaintext"},
	{Name: "server-speaks-first", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "mysql-greeting", S2C: "\x4a\x00\x00\x00\x0a8.0.36\x00", State: protocols.NotThis},
	{Name: "odd-answer", C2S: ssl, S2C: "H", State: protocols.NotThis},
	{Name: "smtp-client", C2S: "EHLO x\r\n", S2C: "220 mx\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "ldap-starttls", C2S: "\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037", State: protocols.NotThis},
	{Name: "rdp-x224", C2S: "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00", State: protocols.NotThis},
	{Name: "huge-startup-length", C2S: "\x00\x00\x30\x00\x00\x03\x00\x00", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a GSSENCRequest refused and an
// SSLRequest accepted, the longest exchange it reads.
func BenchmarkRecognize(b *testing.B) {
	c2s, s2c := []byte(gss+ssl+prototest.Hello), []byte("NS"+prototest.ServerHello)
	b.SetBytes(int64(len(c2s) + len(s2c)))
	for b.Loop() {
		Recognize(c2s, s2c)
	}
}
