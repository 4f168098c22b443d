package httpconnect

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

const (
	connect = "CONNECT legacy.example:443 HTTP/1.1\r\nHost: legacy.example:443\r\nUser-Agent: curl/7.88.1\r\nProxy-Connection: Keep-Alive\r\n\r\n"
	ok      = "HTTP/1.1 200 Connection established\r\n\r\n"
)

// recognizer holds the CONNECT recognition cases for the shared checks;
// they also seed FuzzRecognize (go test -run TestFuzzCorpus
// -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, LineBased: true, Cases: []prototest.Case{
	{Name: "curl-squid", C2S: connect, S2C: ok, TLS: true, State: protocols.Upgraded},
	{Name: "tinyproxy-http10", C2S: "CONNECT 10.0.0.9:8443 HTTP/1.0\r\n\r\n",
		S2C: "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n", TLS: true, State: protocols.Upgraded},
	{Name: "ipv6-target-bare-lf", C2S: "CONNECT [2001:db8::1]:443 HTTP/1.1\nHost: [2001:db8::1]:443\n\n",
		S2C: "HTTP/1.1 200 OK\n\n", TLS: true, State: protocols.Upgraded},
	{Name: "auth-then-connect", C2S: connect + "CONNECT legacy.example:443 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\r\n",
		S2C: "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 5\r\n\r\nnope!" + ok,
		TLS: true, State: protocols.Upgraded},
	{Name: "auth-chunked-then-connect", C2S: connect + connect,
		S2C: "HTTP/1.1 407 Proxy Authentication Required\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nnope!\r\n0\r\n\r\n" + ok,
		TLS: true, State: protocols.Upgraded},
	{Name: "interim-response", C2S: connect, S2C: "HTTP/1.1 100 Continue\r\n\r\n" + ok, TLS: true, State: protocols.Upgraded},
	{Name: "hello-pipelined-before-200", C2S: connect + prototest.Hello, S2C: "", State: protocols.NeedMore},
	{Name: "refused", C2S: connect, S2C: "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
		State: protocols.Plaintext, Reason: "CONNECT refused: HTTP/1.1 403 Forbidden"},
	{Name: "refused-body-to-close", C2S: connect, S2C: "HTTP/1.0 502 Bad Gateway\r\n\r\n<html>",
		State: protocols.Plaintext, Reason: "CONNECT refused: HTTP/1.0 502 Bad Gateway"},
	{Name: "refused-then-get", C2S: connect + "GET / HTTP/1.1\r\n\r\n", S2C: "HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n",
		State: protocols.Plaintext, Reason: "CONNECT refused: HTTP/1.1 407 Auth; the client went on without CONNECT"},
	{Name: "tunnel-of-ssh", C2S: connect + "SSH-2.0-OpenSSH_9.2\r\n", S2C: ok,
		State: protocols.Plaintext, Reason: "CONNECT accepted but the client went on in plaintext"},
	{Name: "partial-request", C2S: "CONNECT legacy.example:443 HTTP/1.1\r\nHost: leg", S2C: "", State: protocols.NeedMore},
	{Name: "partial-method", C2S: "CONN", State: protocols.NeedMore},
	{Name: "awaiting-response", C2S: connect, S2C: "HTTP/1.1 200 Connection est", State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "get", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", S2C: "HTTP/1.1 200 OK\r\n", State: protocols.NotThis},
	{Name: "absolute-form-get", C2S: "GET http://x/ HTTP/1.1\r\n\r\n", State: protocols.NotThis},
	{Name: "lower-case-method", C2S: "connect x:443 HTTP/1.1\r\n\r\n", State: protocols.NotThis},
	{Name: "no-port", C2S: "CONNECT legacy.example HTTP/1.1\r\n\r\n", State: protocols.NotThis},
	{Name: "http2-version", C2S: "CONNECT x:443 HTTP/2.0\r\n\r\n", State: protocols.NotThis},
	{Name: "not-http-answer", C2S: connect, S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "socks5", C2S: "\x05\x01\x00", S2C: "\x05\x00", State: protocols.NotThis},
}}

func TestRecognize(t *testing.T)  { recognizer.TestCases(t) }
func TestFuzzCorpus(t *testing.T) { recognizer.WriteCorpus(t) }
func FuzzRecognize(f *testing.F)  { recognizer.Fuzz(f) }
func BenchmarkRecognize(b *testing.B) {
	refused := "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
	recognizer.Benchmark(b, connect, refused, connect, refused)
}

// TestTarget: the destination is the accepted request's, sanitised.
func TestTarget(t *testing.T) {
	for _, tc := range []struct{ c2s, s2c, want string }{
		{connect, ok + prototest.ServerHello, "legacy.example:443"},
		{"CONNECT a:1 HTTP/1.1\r\n\r\nCONNECT b:2 HTTP/1.1\r\n\r\n", "HTTP/1.1 407 x\r\nContent-Length: 0\r\n\r\n" + ok, "b:2"},
		{connect + "SSH-2.0-x\r\n", ok, "legacy.example:443"},
	} {
		if got := Recognize([]byte(tc.c2s), []byte(tc.s2c)); got.Target != tc.want {
			t.Errorf("%q: target %q (%v %s), want %q", tc.c2s, got.Target, got.State, got.Reason, tc.want)
		}
	}
}
