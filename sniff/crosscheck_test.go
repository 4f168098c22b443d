package sniff

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// firstClientHello decodes a whole stream and returns its first
// ClientHello message (or SSLv2 CLIENT-HELLO body), nil when that does not
// parse.
func firstClientHello(data []byte) []byte {
	if !tls.LooksLikeTLS(data) && !tls.LooksLikeSSLv2(data) {
		return nil
	}
	d := tls.NewDecoder(0)
	d.Write(data)
	for {
		ev, err := d.Next()
		if err != nil {
			if errors.Is(err, tls.ErrNeedMore) {
				return nil
			}
			return nil
		}
		if ev.Kind == tls.EventHandshake && ev.HandshakeType == tls.TypeClientHello {
			if _, err := tls.ParseClientHello(ev.Message); err != nil {
				return nil
			}
			return bytes.Clone(ev.Message)
		}
		if ev.Kind == tls.EventSSLv2 && len(ev.Message) > 0 && ev.Message[0] == tls.SSLv2MsgClientHello {
			if _, err := tls.ParseSSLv2ClientHello(ev.Message); err != nil {
				return nil
			}
			return bytes.Clone(ev.Message)
		}
	}
}

// firstClientHelloIn returns the stream's first ClientHello: from its
// first byte (TLS or SSLv2), else from the first handshake record within
// the first window bytes that decodes to one, found by trying every
// offset (the slow, obvious way).
func firstClientHelloIn(data []byte, window int) []byte {
	if ch := firstClientHello(data); ch != nil {
		return ch
	}
	for i := 1; i < len(data) && i < window; i++ {
		if data[i] != byte(tls.ContentHandshake) {
			continue
		}
		if ch := firstClientHello(data[i:]); ch != nil {
			return ch
		}
	}
	return nil
}

// TestCrosscheckPcaptest compares, for every public capture, the
// (client, server, ClientHello) triples the sniffer finds with those
// internal/pcaptest's independent reader and reassembler plus the codec
// find: first for TLS from a connection's first byte (no recogniser, no
// prefix search), then for the first ClientHello anywhere in a stream's
// first DefaultPrefixWindow bytes (the recognisers and the prefix search
// on: whatever finds a hello, it is that one).
func TestCrosscheckPcaptest(t *testing.T) {
	pub, caps := publicCaptures(t)
	for _, pass := range []struct {
		name  string
		cfg   Config
		hello func([]byte) []byte
	}{
		{"implicit", Config{PrefixWindow: -1}, firstClientHello},
		{"after any prefix", Config{Recognizers: DefaultRecognizers()}, func(b []byte) []byte { return firstClientHelloIn(b, DefaultPrefixWindow) }},
	} {
		total := 0
		for _, rel := range caps {
			capture, err := pcaptest.ReadTCP(filepath.Join(pub, rel))
			if err != nil {
				t.Errorf("%s: pcaptest: %v", rel, err)
				continue
			}
			want := map[string]bool{}
			for _, c := range capture.Conns {
				for d, st := range c.Streams {
					if st == nil {
						continue
					}
					if ch := pass.hello(st.Data); ch != nil {
						cl, sv := c.Client, c.Server
						if d == int(pcaptest.ServerToClient) {
							cl, sv = sv, cl
						}
						want[fmt.Sprintf("%s %s %x", cl, sv, ch)] = true
						break
					}
				}
			}
			flows, _ := sniffFile(t, filepath.Join(pub, rel), pass.cfg)
			got := map[string]bool{}
			for _, f := range flows {
				// pcaptest reassembles TCP only; QUIC flows are checked
				// against the upstream tools in TestPublicExpectations.
				if f.ClientHello != nil && f.Protocol != "quic" {
					got[fmt.Sprintf("%s %s %x", f.Client, f.Server, f.ClientHello)] = true
				}
			}
			for k := range want {
				if !got[k] {
					t.Errorf("%s: %s: pcaptest finds %.80s…, the sniffer does not", pass.name, rel, k)
				}
			}
			for k := range got {
				if !want[k] {
					t.Errorf("%s: %s: the sniffer finds %.80s…, pcaptest does not", pass.name, rel, k)
				}
			}
			total += len(want)
		}
		t.Logf("%s: %d ClientHellos agree across %d captures", pass.name, total, len(caps))
	}
}
