package https

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
)

func TestUpgradeIsANoOp(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	if _, err := Upgrade(context.Background(), client, Options{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Upgrade(ctx, client, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestRecognizeNeverClaims(t *testing.T) {
	for _, in := range [][2]string{
		{"", ""},
		{"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", ""},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\n"},
	} {
		if r := Recognize([]byte(in[0]), []byte(in[1])); r.State != protocols.NotThis {
			t.Errorf("Recognize(%q, %q) = %v", in[0], in[1], r.State)
		}
	}
}
