package scan

import (
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

func serverHello(t *testing.T, v tls.Version, suite uint16, exts ...tls.Extension) []byte {
	t.Helper()
	sh := &tls.ServerHello{Version: v, Random: make([]byte, 32), CipherSuite: suite, Extensions: exts}
	b, err := sh.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHelloAnswer(t *testing.T) {
	req := probeReq{version: tls.VersionTLS11, offered: []uint16{0xC013, 0x002F}}
	tests := []struct {
		msg    []byte
		kind   answerKind
		reason string
	}{
		{serverHello(t, tls.VersionTLS11, 0x002F), ansHello, ""},
		{serverHello(t, tls.VersionTLS10, 0x002F), ansLower, "server answered TLSv1.0 to a TLSv1.1 hello"},
		{serverHello(t, tls.VersionTLS12, 0x002F), ansHigher, "server answered TLSv1.2 to a TLSv1.1 hello"},
		{serverHello(t, tls.VersionTLS11, 0x0005), ansUnoffered, "server chose 0x0005 which was not offered"},
		{[]byte{2, 0, 0, 1, 3}, ansMalformed, ""},
	}
	for _, tt := range tests {
		a := helloAnswer(tt.msg, req)
		if a.kind != tt.kind || tt.reason != "" && a.reason != tt.reason {
			t.Errorf("kind %d %q, want %d %q", a.kind, a.reason, tt.kind, tt.reason)
		}
	}
	hrr := &tls.ServerHello{Version: tls.VersionTLS12, Random: []byte(tls.HelloRetryRequestRandom), CipherSuite: 0x1301,
		Extensions: []tls.Extension{tls.ServerHelloSupportedVersion(tls.VersionTLS13), tls.HRRKeyShare(tls.GroupX25519)}}
	b, _ := hrr.Marshal()
	a := helloAnswer(b, probeReq{version: tls.VersionTLS13, offered: []uint16{0x1301}})
	if a.kind != ansHello || !a.hrr || a.group != tls.GroupX25519 || a.outcome() != Accepted {
		t.Errorf("HRR: %+v", a)
	}
}
