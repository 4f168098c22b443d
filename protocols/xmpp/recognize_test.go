package xmpp

import (
	"path/filepath"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

const (
	clientOpen = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='x' version='1.0'>"
	serverOpen = "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' to='x' version='1.0'>"
	startTLS   = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	features   = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"
)

var (
	clientHeader = fakeHeader
	serverHeader = "<?xml version='1.0'?><stream:stream xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:server' from='x' version='1.0'>"
)

// recognizer holds the client streams' recognition cases, serverRecognizer
// the server-to-server ones, for the shared checks; both seed the one
// FuzzRecognize (go test -run TestFuzzCorpus -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Client, Captures: true, Cases: []prototest.Case{
	{Name: "basic", C2S: clientOpen + startTLS, S2C: clientHeader + features + proceed, TLS: true, State: protocols.Upgraded},
	{Name: "zeek-style-no-declaration",
		C2S: "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='x' version='1.0'>\n" + startTLS,
		S2C: clientHeader + features + proceed, TLS: true, State: protocols.Upgraded},
	{Name: "end-tags-and-whitespace", C2S: clientOpen + " <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'></starttls>",
		S2C: clientHeader + "\n" + features + " <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'></proceed>", TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: clientOpen + startTLS, S2C: clientHeader + features + "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>",
		State: protocols.Plaintext, Reason: "STARTTLS refused"},
	{Name: "stream-error", C2S: clientOpen + startTLS, S2C: clientHeader + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
		State: protocols.Plaintext, Reason: "stream error"},
	{Name: "no-starttls", C2S: clientOpen + "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>",
		S2C:   clientHeader + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>",
		State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "client-goes-on-in-plaintext", C2S: clientOpen + startTLS + "<iq/>", S2C: clientHeader + features + proceed,
		State: protocols.Plaintext, Reason: "STARTTLS accepted but the client went on in plaintext"},
	{Name: "awaiting-proceed", C2S: clientOpen + startTLS, S2C: clientHeader + features, State: protocols.NeedMore},
	{Name: "partial-proceed", C2S: clientOpen + startTLS, S2C: clientHeader + features + proceed[:10], State: protocols.NeedMore},
	{Name: "partial-starttls", C2S: clientOpen + startTLS[:12], S2C: clientHeader + features + proceed, State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "partial-header", C2S: clientOpen[:30], State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "server-stream", C2S: serverOpen + startTLS, S2C: serverHeader + features + proceed, State: protocols.NotThis},
	{Name: "component-stream", C2S: "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='x'>", State: protocols.NotThis},
	{Name: "html", C2S: "<html><body>", State: protocols.NotThis},
	{Name: "doctype", C2S: "<!DOCTYPE html>", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\n", State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "ldap", C2S: "\x30\x1d\x02\x01\x01\x77", State: protocols.NotThis},
}}

var serverRecognizer = prototest.Recognizer{Protocol: Server, Cases: []prototest.Case{
	{Name: "basic", C2S: serverOpen + startTLS, S2C: serverHeader + "<stream:features><dialback xmlns='urn:xmpp:features:dialback'/>" + features[len("<stream:features>"):] + proceed,
		TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: serverOpen + startTLS, S2C: serverHeader + features + "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
		State: protocols.Plaintext, Reason: "STARTTLS refused"},
	{Name: "dialback-without-tls", C2S: serverOpen + "<db:result from='a' to='x'>key</db:result>", S2C: serverHeader + "<stream:features/>",
		State: protocols.Plaintext, Reason: "no STARTTLS yet"},
	{Name: "awaiting-proceed", C2S: serverOpen + startTLS, S2C: serverHeader, State: protocols.NeedMore},
	{Name: "client-stream", C2S: clientOpen + startTLS, S2C: clientHeader + features + proceed, State: protocols.NotThis},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) {
	t.Run("cases", recognizer.TestCases)
	t.Run("public-captures", recognizer.TestPublicCaptures)
}

func TestRecognizeServer(t *testing.T) {
	t.Run("cases", serverRecognizer.TestCases)
	t.Run("public-captures", serverRecognizer.TestPublicCaptures)
}

// TestFuzzCorpus writes the one seed corpus of FuzzRecognize from the
// cases of both kinds and the public capture (-update-fuzz-corpus).
func TestFuzzCorpus(t *testing.T) {
	all := prototest.Recognizer{Protocol: Client, Captures: true}
	for _, r := range []prototest.Recognizer{recognizer, serverRecognizer} {
		for _, c := range r.Cases {
			c.Name = r.Protocol.Name + "-" + c.Name
			all.Cases = append(all.Cases, c)
		}
	}
	all.WriteCorpus(t)
}

// FuzzRecognize checks the invariants of both recognisers on each input
// (the seeds: every case of both, and the public capture).
func FuzzRecognize(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(prototest.CorpusDir, "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("%s has no seeds (%v); rewrite them with -update-fuzz-corpus", prototest.CorpusDir, err)
	}
	f.Fuzz(func(t *testing.T, c2s, s2c []byte) {
		recognizer.Check(t, c2s, s2c)
		serverRecognizer.Check(t, c2s, s2c)
	})
}

// BenchmarkRecognize measures Recognize on a stream that never reaches
// STARTTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, clientOpen, clientHeader, "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", "<iq type='result' id='1'/>")
}
