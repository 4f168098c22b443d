package mysql

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

var (
	sslReq    = string(sslRequest(greeting{protocol: protocolV10, caps: fakeCaps}))
	noSSLCaps = packet(0, greetingPayload("8.0.36", fakeCaps&^capSSL, 0, "caching_sha2_password"))
	// login is the start of a HandshakeResponse41 without CLIENT_SSL.
	login = packet(1, "\x85\xa6\x3f\x00\x00\x00\x00\x01\x2d"+string(make([]byte, 23))+"root\x00\x00")
)

// recognizer holds MySQL's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, Captures: true, Cases: []prototest.Case{
	{Name: "basic", C2S: sslReq, S2C: fakeGreeting, TLS: true, State: protocols.Upgraded},
	{Name: "mariadb", C2S: string(sslRequest(greeting{protocol: protocolV10, caps: fakeCaps &^ capLongPassword})),
		S2C: packet(0, greetingPayload("5.5.5-10.11.6-MariaDB-0+deb12u1", fakeCaps&^capLongPassword, 0x1d, "mysql_native_password")),
		TLS: true, State: protocols.Upgraded},
	{Name: "mysql-4.0", C2S: string(sslRequest(greeting{protocol: protocolV10, caps: capLongPassword | capSSL})),
		S2C: packet(0, "\x0a4.0.27-log\x00\x01\x00\x00\x00abcdefgh\x00\x01\x08"), TLS: true, State: protocols.Upgraded},
	{Name: "login-in-clear", C2S: login, S2C: fakeGreeting, State: protocols.Plaintext, Reason: "the client did not ask for TLS"},
	{Name: "no-client-ssl", C2S: login, S2C: noSSLCaps, State: protocols.Plaintext, Reason: "the server offers no TLS (no CLIENT_SSL)"},
	{Name: "too-many-connections", S2C: packet(0, errPayload(1040, "Too many connections")), State: protocols.Plaintext, Reason: "greeting ERR 1040 Too many connections"},
	{Name: "client-goes-on-in-plaintext", C2S: sslReq + "\x00\x00\x00\x02", S2C: fakeGreeting, State: protocols.Plaintext, Reason: "SSL request accepted but the client went on in plaintext"},
	{Name: "greeting-only", S2C: fakeGreeting, State: protocols.NeedMore},
	{Name: "partial-greeting", S2C: fakeGreeting[:20], State: protocols.NeedMore},
	{Name: "partial-header", S2C: fakeGreeting[:2], State: protocols.NeedMore},
	{Name: "partial-request", C2S: sslReq[:10], S2C: fakeGreeting, State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "client-first", C2S: "\x00\x00\x00\x08\x04\xd2\x16\x2f", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "imap", S2C: "* OK IMAP4rev1\r\n", State: protocols.NotThis},
	{Name: "ssl-bit-in-a-login", C2S: packet(1, "\x85\xae\x3f\x00\x00\x00\x00\x01\x2d"+string(make([]byte, 23))+"root\x00\x00"), S2C: fakeGreeting, State: protocols.NotThis},
	{Name: "second-packet-number", S2C: packet(1, greetingPayload("8.0.36", fakeCaps, 0, "x")), State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "tls-server", S2C: prototest.ServerHello, State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a greeting and an SSL
// request, the whole exchange it reads.
func BenchmarkRecognize(b *testing.B) {
	c2s, s2c := []byte(sslReq+prototest.Hello), []byte(fakeGreeting+prototest.ServerHello)
	b.SetBytes(int64(len(c2s) + len(s2c)))
	for b.Loop() {
		Recognize(c2s, s2c)
	}
}

// greetingSeeds seed FuzzParseGreeting: greetings and ERR packets.
var greetingSeeds = prototest.ParserSeeds{Target: "FuzzParseGreeting", Seeds: map[string][]byte{
	"mysql8":     []byte(fakeGreeting[4:]),
	"mariadb":    []byte(greetingPayload("5.5.5-10.11.6-MariaDB-0+deb12u1", fakeCaps&^capLongPassword, 0x1d, "mysql_native_password")),
	"mysql-4.0":  []byte("\x0a4.0.27-log\x00\x01\x00\x00\x00abcdefgh\x00\x01\x08"),
	"protocol-9": []byte("\x093.20.32a\x00\x01\x00\x00\x00scramble\x00"),
	"err-1040":   []byte(errPayload(1040, "Too many connections")),
	"err-state":  []byte("\xff\xb3\x04#42000User has exceeded"),
	"no-ssl":     []byte(noSSLCaps[4:]),
}}

func TestParseGreetingCorpus(t *testing.T) { greetingSeeds.TestCorpus(t) }

// FuzzParseGreeting: the greeting and ERR parsers never panic, and a
// parsed greeting's request is a well-formed packet numbered 1.
func FuzzParseGreeting(f *testing.F) {
	greetingSeeds.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, ok := parseErr(b); ok {
			_ = e.String()
		}
		g, ok := parseGreeting(b)
		if !ok {
			return
		}
		req := sslRequest(g)
		n, seq, ok := parseHeader(req)
		if !ok || seq != 1 || int(n) != len(req)-headerLen {
			t.Fatalf("request % x for %+v", req, g)
		}
		_ = capabilityNames(g.caps)
	})
}
