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
// ClientHello message (or SSLv2 CLIENT-HELLO body).
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
			return bytes.Clone(ev.Message)
		}
		if ev.Kind == tls.EventSSLv2 && len(ev.Message) > 0 && ev.Message[0] == tls.SSLv2MsgClientHello {
			return bytes.Clone(ev.Message)
		}
	}
}

// TestCrosscheckPcaptest compares, for every public capture, the
// (client, server, ClientHello) triples of implicit-TLS connections the
// sniffer finds with those internal/pcaptest's independent reader and
// reassembler plus the codec find.
func TestCrosscheckPcaptest(t *testing.T) {
	pub, caps := publicCaptures(t)
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
				if ch := firstClientHello(st.Data); ch != nil {
					cl, sv := c.Client, c.Server
					if d == int(pcaptest.ServerToClient) {
						cl, sv = sv, cl
					}
					want[fmt.Sprintf("%s %s %x", cl, sv, ch)] = true
					break
				}
			}
		}
		flows, _ := sniffFile(t, filepath.Join(pub, rel), Config{})
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
				t.Errorf("%s: pcaptest finds %.80s…, the sniffer does not", rel, k)
			}
		}
		for k := range got {
			if !want[k] {
				t.Errorf("%s: the sniffer finds %.80s…, pcaptest does not", rel, k)
			}
		}
		total += len(want)
	}
	t.Logf("%d ClientHellos agree across %d captures", total, len(caps))
}
