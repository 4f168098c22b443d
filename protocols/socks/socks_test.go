package socks

import (
	"path/filepath"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// Messages as curl and dante send them.
const (
	greet5     = "\x05\x02\x00\x01"                           // two methods: none, GSSAPI
	choseNone  = "\x05\x00"                                   // method none
	connect5   = "\x05\x01\x00\x03\x0elegacy.example\x01\xbb" // CONNECT legacy.example:443
	connect5v4 = "\x05\x01\x00\x01\x0a\x00\x00\x09\x20\xfb"   // CONNECT 10.0.0.9:8443
	connect5v6 = "\x05\x01\x00\x04" + "\x20\x01\x0d\xb8" + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" + "\x01\xbb"
	granted5   = "\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40"      // succeeded, bound 127.0.0.1:40000
	connect4   = "\x04\x01\x01\xbb\x0a\x00\x00\x09" + "user\x00" // CONNECT 10.0.0.9:443
	connect4a  = "\x04\x01\x01\xbb\x00\x00\x00\x01" + "\x00legacy.example\x00"
	granted4   = "\x00\x5a\x00\x00\x00\x00\x00\x00"
)

var recognizer5 = prototest.Recognizer{Protocol: Protocol5, Cases: []prototest.Case{
	{Name: "curl-dante-domain", C2S: greet5 + connect5, S2C: choseNone + granted5, TLS: true, State: protocols.Upgraded},
	{Name: "ipv4", C2S: greet5 + connect5v4, S2C: choseNone + granted5, TLS: true, State: protocols.Upgraded},
	{Name: "ipv6", C2S: "\x05\x01\x00" + connect5v6, S2C: choseNone + granted5, TLS: true, State: protocols.Upgraded},
	{Name: "password", C2S: "\x05\x02\x00\x02" + "\x01\x04user\x04pass" + connect5, S2C: "\x05\x02" + "\x01\x00" + granted5, TLS: true, State: protocols.Upgraded},
	{Name: "password-failed", C2S: "\x05\x01\x02" + "\x01\x04user\x03bad", S2C: "\x05\x02" + "\x01\x01", State: protocols.Plaintext, Reason: "authentication failed"},
	{Name: "no-method", C2S: greet5, S2C: "\x05\xff", State: protocols.Plaintext, Reason: "no acceptable authentication method"},
	{Name: "refused", C2S: greet5 + connect5, S2C: choseNone + "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", State: protocols.Plaintext, Reason: "request refused: connection refused"},
	{Name: "udp-associate", C2S: greet5 + "\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00", S2C: choseNone + granted5, State: protocols.Plaintext, Reason: "request 3 is not CONNECT"},
	{Name: "gssapi", C2S: "\x05\x01\x01", S2C: "\x05\x01", State: protocols.Plaintext, Reason: "authentication method 0x1 not followed"},
	{Name: "tunnel-of-http", C2S: greet5 + connect5 + "GET / HTTP/1.1\r\n", S2C: choseNone + granted5, State: protocols.Plaintext, Reason: "CONNECT accepted but the client went on in plaintext"},
	{Name: "awaiting-reply", C2S: greet5 + connect5, S2C: choseNone + "\x05\x00\x00\x01\x7f", State: protocols.NeedMore},
	{Name: "awaiting-choice", C2S: greet5, State: protocols.NeedMore},
	{Name: "partial-greeting", C2S: "\x05\x02\x00", State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "method-not-offered", C2S: "\x05\x01\x00", S2C: "\x05\x02", State: protocols.NotThis},
	{Name: "no-methods", C2S: "\x05\x00", State: protocols.NotThis},
	{Name: "server-not-socks", C2S: greet5, S2C: "HTTP/1.1 400 Bad Request\r\n", State: protocols.NotThis},
	{Name: "socks4", C2S: connect4, S2C: granted4, State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\n\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
}}

var recognizer4 = prototest.Recognizer{Protocol: Protocol4, Cases: []prototest.Case{
	{Name: "curl", C2S: connect4, S2C: granted4, TLS: true, State: protocols.Upgraded},
	{Name: "empty-userid-vn4-reply", C2S: "\x04\x01\x20\xfb\x0a\x00\x00\x09\x00", S2C: "\x04\x5a\x20\xfb\x0a\x00\x00\x09", TLS: true, State: protocols.Upgraded},
	{Name: "rejected", C2S: connect4, S2C: "\x00\x5b\x00\x00\x00\x00\x00\x00", State: protocols.Plaintext, Reason: "request refused: code 91"},
	{Name: "awaiting-reply", C2S: connect4, S2C: "\x00\x5a\x00", State: protocols.NeedMore},
	{Name: "partial-userid", C2S: "\x04\x01\x01\xbb\x0a\x00\x00\x09us", State: protocols.NeedMore},
	{Name: "bind", C2S: "\x04\x02\x01\xbb\x0a\x00\x00\x09\x00", State: protocols.NotThis},
	{Name: "socks4a", C2S: connect4a, S2C: granted4, State: protocols.NotThis},
	{Name: "bad-reply", C2S: connect4, S2C: "\x00\x10\x00\x00\x00\x00\x00\x00", State: protocols.NotThis},
	{Name: "socks5", C2S: greet5, S2C: choseNone, State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "empty", State: protocols.NeedMore},
}}

var recognizer4a = prototest.Recognizer{Protocol: Protocol4a, Cases: []prototest.Case{
	{Name: "curl-socks4a", C2S: connect4a, S2C: granted4, TLS: true, State: protocols.Upgraded},
	{Name: "partial-host", C2S: "\x04\x01\x01\xbb\x00\x00\x00\x01\x00legacy", State: protocols.NeedMore},
	{Name: "empty-host", C2S: "\x04\x01\x01\xbb\x00\x00\x00\x01\x00\x00", State: protocols.NotThis},
	{Name: "socks4", C2S: connect4, S2C: granted4, State: protocols.NotThis},
	{Name: "empty", State: protocols.NeedMore},
}}

func TestRecognize5(t *testing.T)  { recognizer5.TestCases(t) }
func TestRecognize4(t *testing.T)  { recognizer4.TestCases(t) }
func TestRecognize4a(t *testing.T) { recognizer4a.TestCases(t) }

// TestFuzzCorpus writes the one seed corpus of FuzzRecognize from the
// cases of all three versions (-update-fuzz-corpus).
func TestFuzzCorpus(t *testing.T) {
	all := prototest.Recognizer{Protocol: Protocol5}
	for _, r := range []prototest.Recognizer{recognizer5, recognizer4, recognizer4a} {
		for _, c := range r.Cases {
			c.Name = r.Protocol.Name + "-" + c.Name
			all.Cases = append(all.Cases, c)
		}
	}
	all.WriteCorpus(t)
}

// FuzzRecognize checks the invariants of all three recognisers on each
// input (the seeds: every case of the three).
func FuzzRecognize(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(prototest.CorpusDir, "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("%s has no seeds (%v); rewrite them with -update-fuzz-corpus", prototest.CorpusDir, err)
	}
	f.Fuzz(func(t *testing.T, c2s, s2c []byte) {
		for _, r := range []prototest.Recognizer{recognizer5, recognizer4, recognizer4a} {
			r.Check(t, c2s, s2c)
		}
	})
}

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		rec      protocols.Recognizer
		c2s, s2c string
		want     string
	}{
		{Recognize5, greet5 + connect5, choseNone + granted5, "legacy.example:443"},
		{Recognize5, greet5 + connect5v4, choseNone + granted5, "10.0.0.9:8443"},
		{Recognize5, "\x05\x01\x00" + connect5v6, choseNone + granted5, "[2001:db8::1]:443"},
		{Recognize4, connect4, granted4, "10.0.0.9:443"},
		{Recognize4a, connect4a, granted4, "legacy.example:443"},
	} {
		got := tc.rec([]byte(tc.c2s), []byte(tc.s2c+prototest.ServerHello))
		if got.State != protocols.Upgraded || got.Target != tc.want {
			t.Errorf("%s: %v %q (%s), want Upgraded %q", got.Protocol, got.State, got.Target, got.Reason, tc.want)
		}
	}
}
