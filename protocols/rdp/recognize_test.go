package rdp

import (
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// requestWith is a Connection Request with a cookie line and, when
// correlation is set, RDP Correlation Info, as mstsc sends them.
func requestWith(cookie string, requested uint32, correlation bool) string {
	var x cryptobyte.Builder
	x.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(tpduCR)
		b.AddUint16(0)
		b.AddUint16(0)
		b.AddUint8(0)
		b.AddBytes([]byte(cookie + "\r\n"))
		b.AddUint8(typeNegReq)
		b.AddUint8(0)
		addUint16LE(b, 8)
		addUint32LE(b, requested)
		if correlation {
			b.AddUint8(typeCorrelationInfo)
			b.AddUint8(0)
			addUint16LE(b, 36)
			b.AddBytes(make([]byte, 32))
		}
	})
	return string(tpkt(x.BytesOrPanic()))
}

var (
	ask     = string(connectionRequest(protocolSSL | protocolHybrid))
	askRDP  = string(connectionRequest(protocolRDP))
	noNeg   = string(tpkt([]byte{6, tpduCR, 0, 0, 0, 0, 0}))
	mstsc   = requestWith("Cookie: mstshash=alice", protocolSSL|protocolHybrid|protocolHybridEx, true)
	hybrid  = confirmPDU(typeNegRsp, 0x1f, protocolHybrid)
	hybridX = confirmPDU(typeNegRsp, 0x1f, protocolHybridEx)
)

// recognizer holds RDP's recognition cases for the shared checks; they
// also seed FuzzRecognize (go test -run TestRecognize -update-fuzz-corpus).
var recognizer = prototest.Recognizer{Protocol: Protocol, Cases: []prototest.Case{
	{Name: "basic", C2S: ask, S2C: selectSSL, TLS: true, State: protocols.Upgraded},
	{Name: "mstsc-cookie-correlation-hybrid-ex", C2S: mstsc, S2C: hybridX, TLS: true, State: protocols.Upgraded},
	{Name: "hybrid", C2S: ask, S2C: hybrid, TLS: true, State: protocols.Upgraded},
	{Name: "client-asks-rdp-only", C2S: askRDP, S2C: selectRDP, State: protocols.Plaintext, Reason: "standard RDP security: the client asked"},
	{Name: "client-without-negotiation", C2S: noNeg, S2C: legacy, State: protocols.Plaintext, Reason: "standard RDP security: the client asked"},
	{Name: "server-without-negotiation", C2S: ask, S2C: legacy, State: protocols.Plaintext, Reason: "standard RDP security: no negotiation response"},
	{Name: "server-selects-rdp", C2S: ask, S2C: selectRDP, State: protocols.Plaintext, Reason: "standard RDP security selected"},
	{Name: "failure", C2S: ask, S2C: certNotThere, State: protocols.Plaintext, Reason: "negotiation failure SSL_CERT_NOT_ON_SERVER"},
	{Name: "disconnect", C2S: ask, S2C: disconnect, State: protocols.Plaintext, Reason: "the server disconnected"},
	{Name: "client-goes-on-in-plaintext", C2S: ask + "\x03\x00\x01\xa2\x02\xf0\x80", S2C: selectSSL, State: protocols.Plaintext, Reason: "the negotiation accepted but the client went on in plaintext"},
	{Name: "awaiting-confirm", C2S: ask, State: protocols.NeedMore},
	{Name: "partial-confirm", C2S: ask, S2C: selectSSL[:7], State: protocols.NeedMore},
	{Name: "partial-request", C2S: ask[:10], State: protocols.NeedMore},
	{Name: "partial-header", C2S: ask[:3], State: protocols.NeedMore},
	{Name: "empty", State: protocols.NeedMore},
	{Name: "server-first", S2C: "220 mx ESMTP\r\n", State: protocols.NotThis},
	{Name: "server-before-request", C2S: ask[:5], S2C: selectSSL, State: protocols.NotThis},
	{Name: "tls", C2S: prototest.Hello, State: protocols.NotThis},
	{Name: "postgres", C2S: "\x00\x00\x00\x08\x04\xd2\x16\x2f", S2C: "S", State: protocols.NotThis},
	{Name: "smtp", C2S: "EHLO x\r\n", S2C: "220 mx\r\n", State: protocols.NotThis},
	{Name: "tpkt-not-x224", C2S: string(tpkt([]byte{2, 0xf0, 0x80})), State: protocols.NotThis},
	{Name: "huge-tpkt", C2S: "\x03\x00\xff\xff", State: protocols.NotThis},
	{Name: "confirm-from-the-client", C2S: selectSSL, State: protocols.NotThis},
}}

func TestRecognize(t *testing.T) { recognizer.Test(t) }
func FuzzRecognize(f *testing.F) { recognizer.Fuzz(f) }

// BenchmarkRecognize measures Recognize on mstsc's request and a HYBRID_EX
// confirm, the longest exchange it reads.
func BenchmarkRecognize(b *testing.B) {
	c2s, s2c := []byte(mstsc+prototest.Hello), []byte(hybridX+prototest.ServerHello)
	b.SetBytes(int64(len(c2s) + len(s2c)))
	for b.Loop() {
		Recognize(c2s, s2c)
	}
}

// pduSeeds seed FuzzParsePDU: the TPDUs of the negotiation, both ways.
var pduSeeds = prototest.ParserSeeds{Target: "FuzzParsePDU", Seeds: map[string][]byte{
	"request":       []byte(ask[tpktHeader:]),
	"request-rdp":   []byte(askRDP[tpktHeader:]),
	"mstsc":         []byte(mstsc[tpktHeader:]),
	"no-neg":        []byte(noNeg[tpktHeader:]),
	"confirm-ssl":   []byte(selectSSL[tpktHeader:]),
	"confirm-rdp":   []byte(selectRDP[tpktHeader:]),
	"legacy":        []byte(legacy[tpktHeader:]),
	"failure":       []byte(certNotThere[tpktHeader:]),
	"disconnect":    []byte(disconnect[tpktHeader:]),
	"hybrid-ex":     []byte(hybridX[tpktHeader:]),
	"bad-neg-lengh": {14, tpduCC, 0, 0, 0, 0, 0, typeNegRsp, 0, 9, 0, 1, 0, 0, 0},
}}

func TestParsePDUCorpus(t *testing.T) { pduSeeds.TestCorpus(t) }

// FuzzParsePDU: the Connection Request and Confirm parsers never panic,
// and what they accept keeps its shape: a confirm with a negotiation has
// exactly the 8-byte structure after the 7-byte header.
func FuzzParsePDU(f *testing.F) {
	pduSeeds.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, ok := parseConfirm(b); ok && c.code == tpduCC && c.negotiated && len(b) != 15 {
			t.Fatalf("negotiation in a %d-byte confirm % x", len(b), b)
		}
		if r, ok := parseRequest(b); ok && r.negotiated && r.cookie == "" && len(b) != 15 && len(b) != 51 {
			t.Fatalf("negotiation in a %d-byte request % x", len(b), b)
		}
		_, _ = parseTPKT(b)
	})
}
