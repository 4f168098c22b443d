package ldap

import (
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

var (
	okStartTLS = string(response(1, tagExtendedResponse, 0, "", OIDStartTLS))
	search     = string(searchRootDSE(1))
	searchDone = string(entry(1, "", []attribute{{"supportedExtension", []string{OIDStartTLS}}})) + string(response(1, tagSearchResDone, 0, "", ""))
)

// recognizer holds LDAP's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, Captures: true, Cases: []prototest.Case{
	{Name: "basic", C2S: string(startTLS(1)), S2C: okStartTLS, TLS: true, State: protocols.Upgraded},
	{Name: "no-response-name", C2S: string(startTLS(1)), S2C: string(response(1, tagExtendedResponse, 0, "", "")), TLS: true, State: protocols.Upgraded},
	{Name: "rootdse-bind-then-starttls",
		C2S: search + string(simpleBind(2, "cn=x", "y")) + string(startTLS(3)),
		S2C: searchDone + string(response(2, tagBindResponse, codeInvalidCredentials, "", "")) + string(response(3, tagExtendedResponse, 0, "", OIDStartTLS)),
		TLS: true, State: protocols.Upgraded},
	{Name: "refused-then-retried",
		C2S: string(startTLS(1)) + string(startTLS(2)),
		S2C: string(response(1, tagExtendedResponse, codeUnavailable, "TLS not configured", "")) + string(response(2, tagExtendedResponse, 0, "", "")),
		TLS: true, State: protocols.Upgraded},
	{Name: "active-directory-long-lengths",
		C2S: longForm(startTLS(1)), S2C: longForm(response(1, tagExtendedResponse, 0, "", "")),
		TLS: true, State: protocols.Upgraded},
	{Name: "refused", C2S: string(startTLS(1)) + search, S2C: string(response(1, tagExtendedResponse, codeUnavailable, "TLS not configured", "")),
		State: protocols.Plaintext, Reason: "StartTLS refused: unavailable: TLS not configured"},
	{Name: "notice-of-disconnection", C2S: string(startTLS(1)), S2C: string(response(0, tagExtendedResponse, codeUnavailable, "shutting down", OIDNoticeOfDisconnection)),
		State: protocols.Plaintext, Reason: "notice of disconnection: unavailable: shutting down"},
	{Name: "client-goes-on-in-plaintext", C2S: string(startTLS(1)) + search, S2C: okStartTLS,
		State: protocols.Plaintext, Reason: "StartTLS accepted but the client went on in plaintext"},
	{Name: "no-starttls", C2S: search, S2C: searchDone, State: protocols.Plaintext, Reason: "no StartTLS yet"},
	{Name: "other-extended-operation", C2S: "\x30\x1e\x02\x01\x01\x77\x19\x80\x17" + "1.3.6.1.4.1.4203.1.11.3", S2C: string(response(1, tagExtendedResponse, 0, "", "")),
		State: protocols.Plaintext, Reason: "no StartTLS yet"},
	{Name: "awaiting-response", C2S: search + string(startTLS(2)), S2C: searchDone, State: protocols.NeedMore},
	{Name: "partial-response", C2S: string(startTLS(1)), S2C: okStartTLS[:7], State: protocols.NeedMore},
	{Name: "partial-request", C2S: string(startTLS(1))[:9], State: protocols.NeedMore},
	{Name: "request-only", C2S: search, State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "ldaps", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "tls-server-first-bytes", C2S: "\x30", S2C: prototest.ServerHello, State: protocols.NotThis},
	{Name: "http", C2S: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "xmpp", C2S: "<?xml version='1.0'?><stream:stream to='x'>", State: protocols.NotThis},
	{Name: "pgsql-sslrequest", C2S: "\x00\x00\x00\x08\x04\xd2\x16\x2f", S2C: "S", State: protocols.NotThis},
	{Name: "mysql-greeting", S2C: "\x4a\x00\x00\x00\x0a5.7.0\x00", State: protocols.NotThis},
	{Name: "response-from-the-client", C2S: okStartTLS, State: protocols.NotThis},
	{Name: "indefinite-length", C2S: "\x30\x80\x02\x01\x01", State: protocols.NotThis},
	{Name: "sequence-of-junk", C2S: "\x30\x06\x01\x01\x00\x04\x01\x00", State: protocols.NotThis},
}}

// longForm re-encodes a message the way Active Directory writes it: the
// length of every constructed element in the four-byte long form.
func longForm(b []byte) string {
	var out []byte
	s := cryptobyte.String(b)
	for !s.Empty() {
		var tag uint8
		var body cryptobyte.String
		if !readElement(&s, &tag, &body) {
			panic("longForm: not BER")
		}
		if tag&0x20 == 0 {
			out = append(out, tag, byte(len(body)))
			out = append(out, body...)
			continue
		}
		inner := longForm(body)
		n := len(inner)
		out = append(out, tag, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		out = append(out, inner...)
	}
	return string(out)
}

func TestRecognize(t *testing.T) { recognizer.Test(t) }

// TestParseMessageCorpus rewrites FuzzParseMessage's seeds with
// -update-fuzz-corpus: the messages of the dialogue, in both length forms.
func TestParseMessageCorpus(t *testing.T) {
	if f := flag.Lookup("update-fuzz-corpus"); f == nil || f.Value.String() != "true" {
		t.Skip("run with -update-fuzz-corpus to rewrite the seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseMessage")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"search":       searchRootDSE(1),
		"bind":         simpleBind(2, probeRDN+",dc=x", probePassword),
		"starttls":     startTLS(3),
		"unbind":       unbind(4),
		"entry":        entry(1, "", []attribute{{"supportedExtension", []string{OIDStartTLS}}, {"vendorName", []string{"x"}}}),
		"done":         response(1, tagSearchResDone, codeSuccess, "", ""),
		"bind-result":  response(2, tagBindResponse, codeInvalidCredentials, "", ""),
		"extended":     response(3, tagExtendedResponse, codeSuccess, "", OIDStartTLS),
		"notice":       response(0, tagExtendedResponse, codeUnavailable, "bye", OIDNoticeOfDisconnection),
		"reference":    searchRef(1, "ldap://x"),
		"long-entry":   []byte(longForm(entry(1, "", []attribute{{"a", []string{"b"}}}))),
		"long-request": []byte(longForm(startTLS(1))),
	} {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on a dialogue that never reaches
// StartTLS, filling both directions to the sniffer's cap.
func BenchmarkRecognize(b *testing.B) {
	recognizer.Benchmark(b, search, searchDone, string(searchRootDSE(2)), string(response(2, tagSearchResDone, 0, "", "")))
}

// FuzzParseMessage feeds arbitrary bytes to the BER parsers of the
// dialogue: no panic, and whatever parses as a message re-parses from the
// bytes its frame says it has. Seeds are testdata/fuzz/FuzzParseMessage;
// an empty folder fails.
func FuzzParseMessage(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseMessage", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/FuzzParseMessage (%v)", err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := parseMessage(b)
		if n, complete := frame(b); ok && (!complete || n != len(b)) && len(b) <= maxWireMessage {
			t.Fatalf("parsed a message of %d bytes that frame sees as %d (complete %v)", len(b), n, complete)
		}
		if !ok {
			return
		}
		_, _ = parseResult(m)
		_, _, _ = parseEntry(m.body)
		_, _ = parseExtendedRequestName(m.body)
	})
}
