package sniff

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// TestDraftHelloRetryRequestFlow: a TLS 1.3 draft-18 server answers with
// its own HelloRetryRequest message (type 6), then a ServerHello.
func TestDraftHelloRetryRequestFlow(t *testing.T) {
	ch, _ := testHellos(t, 0)
	hrr, err := tls.MarshalDraftHelloRetryRequest(&tls.ServerHello{Version: 0x7f12,
		Extensions: []tls.Extension{{Type: 40, Data: []byte{0, 0x1d}}}})
	if err != nil {
		t.Fatal(err)
	}
	sh, err := (&tls.ServerHello{Version: 0x7f12, Random: make([]byte, 32), CipherSuite: 0x1301,
		Extensions: []tls.Extension{{Type: 40, Data: append([]byte{0, 0x1d, 0, 32}, make([]byte, 32)...)}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c := newConv(t, "eth", cliAP, srvAP)
	c.handshake()
	c.send(true, ch, 1400)
	c.send(false, tls.AppendRecord(nil, tls.ContentHandshake, 0x0301, hrr), 1400)
	c.send(true, ch, 1400)
	c.send(false, tls.AppendRecord(nil, tls.ContentHandshake, 0x0301, sh), 1400)
	flows, _ := run(t, Config{}, c.lt, c.pkts)
	if len(flows) != 1 || !flows[0].HelloRetryRequest || flows[0].Version != 0x7f12 || flows[0].Cipher != 0x1301 || flows[0].Truncated != "" {
		t.Fatalf("%+v", flows[0])
	}
}
