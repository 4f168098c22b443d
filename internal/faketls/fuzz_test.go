package faketls

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// FuzzServer sends arbitrary bytes to a server that speaks every version
// and checks that it never crashes and answers only with a well-formed
// first message: a ServerHello, an alert or an SSLv2 message — or nothing.
func FuzzServer(f *testing.F) {
	cfg := Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: {rsaRC4MD5, rsaAES128SHA},
			tls.VersionTLS10: {rsaAES128SHA, 0xC013, 0x0033},
			tls.VersionTLS12: {ecdheRSAAES128GCM, dheAES128GCM, rsaAES128SHA},
			tls.VersionTLS13: {tls13AES128, tls13ChaCha},
		},
		SSLv2Kinds:  []uint32{sslv2RC4128MD5, sslv2DES192EDE3},
		FFDHE:       []uint16{tls.GroupFFDHE2048},
		DHPrimeBits: 1024,
		ALPN:        []string{"h2"},
		Timeout:     time.Second,
		Rand:        testRand(3),
	}
	s := Start(f, cfg)

	seeds := [][]byte{
		wire(f, hello(tls.VersionTLS12, ecdheRSAAES128GCM, rsaAES128SHA)),
		wire(f, hello(tls.VersionTLS10, 0x0033)),
		wire(f, hello(tls.VersionSSL30, rsaRC4MD5)),
		wire(f, hello13(f, []uint16{tls13AES128}, []uint16{groupX25519})),
		{0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00},
		{0x80},
	}
	for _, v := range []tls.Version{tls.VersionSSL20, tls.VersionTLS10} {
		b, err := tls.BuildSSLv2ClientHello(v, []uint32{sslv2RC4128MD5, uint32(rsaAES128SHA)}, nil, bytes.Repeat([]byte{1}, 16))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, b := range seeds {
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(in); err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatal(err)
		}
		_ = c.(*net.TCPConn).CloseWrite()
		out, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read: %v", err)
		}
		if len(out) == 0 {
			return
		}
		ev, err := tls.ReadEvent(bytes.NewReader(out), tls.NewDecoder(0), nil)
		if err != nil {
			t.Fatalf("answer %x does not decode: %v", out, err)
		}
		switch {
		case ev.Kind == tls.EventAlert:
		case ev.Kind == tls.EventHandshake && ev.HandshakeType == tls.TypeServerHello:
			if _, err := tls.ParseServerHello(ev.Message); err != nil {
				t.Fatalf("ServerHello: %v", err)
			}
		case ev.Kind == tls.EventSSLv2:
			_, herr := tls.ParseSSLv2ServerHello(ev.Message)
			_, eerr := tls.ParseSSLv2Error(ev.Message)
			if herr != nil && eerr != nil {
				t.Fatalf("SSLv2 answer %x: %v / %v", ev.Message, herr, eerr)
			}
		default:
			t.Fatalf("first answer is %v %v", ev.Kind, ev.HandshakeType)
		}
	})
}
