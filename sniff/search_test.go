package sniff

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// prefixConv is a connection whose client sends c2s and server s2c, each
// in segments of mss bytes, alternating, after a handshake (none when
// midStream).
func prefixConv(t testing.TB, c2s, s2c []byte, mss int, midStream bool) [][]byte {
	c := newConv(t, "eth", cliAP, srvAP)
	if !midStream {
		c.handshake()
	}
	for len(c2s) > 0 || len(s2c) > 0 {
		n := min(mss, len(c2s))
		c.send(true, c2s[:n], mss)
		c2s = c2s[n:]
		n = min(mss, len(s2c))
		c.send(false, s2c[:n], mss)
		s2c = s2c[n:]
	}
	return c.pkts
}

func TestPrefixSearch(t *testing.T) {
	ch, sh := testHellos(t, 0)
	ircC := "CAP LS 302\r\nNICK tlsmap\r\nUSER tlsmap 0 * :t\r\nSTARTTLS\r\n"
	ircS := ":irc.test NOTICE * :*** Looking up your hostname...\r\n:irc.test 670 tlsmap :STARTTLS successful, proceed with TLS handshake\r\n"
	fake := []byte{0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03} // a hello header, then text
	for _, tc := range []struct {
		name      string
		c2s, s2c  []byte
		mss       int
		midStream bool
		cfg       Config
		want      string // the flow's protocol, "" for no TLS flow
		prefix    string
	}{
		{name: "irc starttls", c2s: append([]byte(ircC), ch...), s2c: append([]byte(ircS), sh...), mss: 1400,
			want: ProtocolTLSAfterPrefix, prefix: `CAP LS 302\r\nNICK tlsmap\r\nUSER tl`},
		{name: "byte by byte", c2s: append([]byte(ircC), ch...), s2c: append([]byte(ircS), sh...), mss: 1,
			want: ProtocolTLSAfterPrefix, prefix: `CAP LS 302\r\nNICK tlsmap\r\nUSER tl`},
		{name: "binary prefix with a false start", c2s: append(append([]byte("\x00\x00\x00\x08\x04\xd2\x16/"), fake...), append([]byte("padding"), ch...)...),
			s2c: append([]byte("S"), sh...), mss: 7, want: ProtocolTLSAfterPrefix, prefix: `\x00\x00\x00\x08\x04\xd2\x16/\x16\x03\x01\x00@\x01\x00\x00<\x03\x03padding`},
		{name: "mid-stream", c2s: append([]byte("more of the request\r\n"), ch...), s2c: append([]byte("* OK\r\n"), sh...), mss: 100, midStream: true,
			want: ProtocolTLSAfterPrefix, prefix: `more of the request\r\n`},
		{name: "hello beyond the window", c2s: append(bytes.Repeat([]byte("x"), 5000), ch...), s2c: sh, mss: 1400, cfg: Config{PrefixWindow: 4096}},
		{name: "search off", c2s: append([]byte(ircC), ch...), s2c: append([]byte(ircS), sh...), mss: 1400, cfg: Config{PrefixWindow: -1}},
		{name: "named recogniser wins", c2s: append([]byte("EHLO x\r\nSTARTTLS\r\n"), ch...), s2c: append([]byte("220 mx ESMTP\r\n250 STARTTLS\r\n220 go\r\n"), sh...), mss: 1400,
			cfg: Config{Recognizers: DefaultRecognizers()}, want: "smtp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkts := prefixConv(t, tc.c2s, tc.s2c, tc.mss, tc.midStream)
			flows, s := run(t, tc.cfg, layers.LinkTypeEthernet, pkts)
			var got []*Flow
			for _, f := range flows {
				if f.HasClientHello() {
					got = append(got, f)
				}
			}
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("found %s, want nothing", got[0].Protocol)
				}
				if o := s.Stats().TCP; o.Unknown != 1 {
					t.Errorf("outcomes %+v, want one unknown", o)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d flows with a hello, want 1", len(got))
			}
			f := got[0]
			if f.Protocol != tc.want || f.Prefix != tc.prefix || f.Client != cliAP || f.SNI != "example.test" || f.Version != 0x0302 || f.Cipher != 0xc013 {
				t.Errorf("flow %s %s->%s sni %q version %04x cipher %04x prefix %q truncated %q; want %s, prefix %q",
					f.Protocol, f.Client, f.Server, f.SNI, f.Version, f.Cipher, f.Prefix, f.Truncated, tc.want, tc.prefix)
			}
			if o := s.Stats().TCP; tc.want == ProtocolTLSAfterPrefix && o.TLSAfterPrefix != 1 {
				t.Errorf("outcomes %+v, want one TLS after a prefix", o)
			}
			if b := s.Stats().Buffered; b != 0 {
				t.Errorf("%d bytes still buffered", b)
			}
		})
	}
}

// TestPrefixSearchBounded: a bulk flow of random bytes (0x16 bytes and
// hello-looking headers among them) is searched only up to the window,
// buffering next to nothing meanwhile, and ends as unknown payload.
func TestPrefixSearchBounded(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	bulk := make([]byte, 4<<20)
	for i := range bulk {
		bulk[i] = byte(r.Uint32())
	}
	for i := 0; i+11 < len(bulk); i += 997 {
		copy(bulk[i:], []byte{0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03})
	}
	bulk[0] = 'x'
	pkts := prefixConv(t, bulk[:100000], bulk, 1448, false)
	s := New(Config{}, nil)
	maxBuf := 0
	ts := time.Unix(1700000000, 0)
	for i, p := range pkts {
		s.Packet(p, gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p), Length: len(p)}, layers.LinkTypeEthernet)
		if b := s.Stats().Buffered; b > maxBuf {
			maxBuf = b
		}
		if i == len(pkts)/2 {
			if st := s.Stats(); st.FlowsActive != 1 || st.Buffered != 0 {
				t.Fatalf("half way: %d flows, %d bytes buffered; want 1 flow done with its search", st.FlowsActive, st.Buffered)
			}
		}
	}
	s.Flush()
	if o := s.Stats().TCP; o.Unknown != 1 {
		t.Errorf("outcomes %+v, want one unknown", o)
	}
	// The detect buffer before the search, and one open candidate.
	if maxBuf > 2*DefaultMaxBuffer {
		t.Errorf("buffered up to %d bytes", maxBuf)
	}
}

// FuzzPrefixSearch: for any client stream that does not start like TLS,
// and any segment size, the sniffer's ClientHello is the first one that
// decodes at any offset of the window (firstClientHelloIn, the slow
// obvious search), or none when there is none.
func FuzzPrefixSearch(f *testing.F) {
	requireSeeds(f, "FuzzPrefixSearch")
	_, sh := testHellos(f, 0)
	f.Fuzz(func(t *testing.T, c2s []byte, mss uint8) {
		if len(c2s) == 0 {
			return
		}
		c2s = append([]byte{'A'}, c2s...) // not a TLS start: the search decides
		m := int(mss)%64 + 1
		flows, s := run(t, Config{}, layers.LinkTypeEthernet, prefixConv(t, c2s, append([]byte("OK\r\n"), sh...), m, false))
		want := firstClientHelloIn(c2s, DefaultPrefixWindow)
		var got []byte
		for _, fl := range flows {
			got = fl.ClientHello
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("sniffer %x, search %x", got, want)
		}
		if b := s.Stats().Buffered; b != 0 {
			t.Fatalf("%d bytes buffered after Flush", b)
		}
	})
}

// TestWritePrefixSeeds writes the FuzzPrefixSearch seeds
// (SNIFF_WRITE_SEEDS=1).
func TestWritePrefixSeeds(t *testing.T) {
	if os.Getenv("SNIFF_WRITE_SEEDS") == "" {
		t.Skip("set SNIFF_WRITE_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	ch, _ := testHellos(t, 0)
	big, _ := testHellos(t, 3000)
	dir := filepath.Join("testdata", "fuzz", "FuzzPrefixSearch")
	os.MkdirAll(dir, 0o755)
	for i, s := range []struct {
		c2s []byte
		mss int
	}{
		{append([]byte("CAP LS\r\nSTARTTLS\r\n"), ch...), 63},
		{append([]byte("\x00\x00\x00\x08\x04\xd2\x16/"), ch...), 3},
		{append([]byte("\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03xx"), ch...), 10},
		{append([]byte(strings.Repeat("<stream:features/>", 20)), big...), 40},
		{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 20},
		{ch[:len(ch)-5], 1},
	} {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nbyte(%d)\n", s.c2s, s.mss)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProxyTunnels: TLS through an HTTP CONNECT or SOCKS tunnel is
// labelled with the proxy's protocol and names the destination; the
// client is the tunnel's client, the server the proxy.
func TestProxyTunnels(t *testing.T) {
	ch, sh := testHellos(t, 0)
	for _, tc := range []struct {
		proto, target string
		c2s, s2c      string
	}{
		{"http-connect", "example.test:443", "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n", "HTTP/1.1 200 Connection established\r\n\r\n"},
		{"socks5", "example.test:443", "\x05\x01\x00" + "\x05\x01\x00\x03\x0cexample.test\x01\xbb", "\x05\x00" + "\x05\x00\x00\x01\x7f\x00\x00\x01\x9c\x40"},
		{"socks4", "192.0.2.7:443", "\x04\x01\x01\xbb\xc0\x00\x02\x07\x00", "\x00\x5a\x00\x00\x00\x00\x00\x00"},
		{"socks4a", "example.test:443", "\x04\x01\x01\xbb\x00\x00\x00\x01u\x00example.test\x00", "\x00\x5a\x00\x00\x00\x00\x00\x00"},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			pkts := prefixConv(t, append([]byte(tc.c2s), ch...), append([]byte(tc.s2c), sh...), 1400, false)
			flows, s := run(t, Config{Recognizers: DefaultRecognizers()}, layers.LinkTypeEthernet, pkts)
			if len(flows) != 1 {
				t.Fatalf("%d flows", len(flows))
			}
			f := flows[0]
			if f.Protocol != tc.proto || f.ProxyTarget != tc.target || f.StartTLS || f.Client != cliAP || f.Server != srvAP || f.Version != 0x0302 || f.SNI != "example.test" {
				t.Errorf("flow %s target %q starttls %v %s->%s version %04x sni %q", f.Protocol, f.ProxyTarget, f.StartTLS, f.Client, f.Server, f.Version, f.SNI)
			}
			if o := s.Stats().TCP; o.TLSAfter[tc.proto] != 1 {
				t.Errorf("outcomes %+v", o)
			}
		})
	}
}

// TestNoPublicTunnels: no flow of the public captures (none goes through
// a proxy) is taken for a tunnel.
func TestNoPublicTunnels(t *testing.T) {
	pub, caps := publicCaptures(t)
	for _, rel := range caps {
		flows, _ := sniffFile(t, filepath.Join(pub, rel), Config{Recognizers: DefaultRecognizers(), AllFlows: true})
		for _, f := range flows {
			if f.ProxyTarget != "" || strings.HasPrefix(f.Protocol, "socks") || f.Protocol == "http-connect" {
				t.Errorf("%s: %s->%s taken for %s to %q", rel, f.Client, f.Server, f.Protocol, f.ProxyTarget)
			}
		}
	}
}
