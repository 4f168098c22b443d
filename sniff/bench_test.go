package sniff

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// BenchmarkDecode measures the header decoder alone on a 1500-byte
// Ethernet/IPv4/TCP frame.
func BenchmarkDecode(b *testing.B) {
	frame, _ := tcpFrame(b, "eth", cliAP, srvAP, 1, 1, "PA", make([]byte, 1448))
	d := newDecoder()
	var p pkt
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if d.decode(frame, layers.LinkTypeEthernet, 0, false, &p) != decTCP {
			b.Fatal("not TCP")
		}
	}
}

// benchCapture builds an in-memory capture: conns connections, each a
// handshake (TLS 1.1 hellos) followed by bulk application data in
// 1500-byte frames, interleaved round-robin as on a busy link.
func benchCapture(b testing.TB, conns, bulk int) (pkts [][]byte, total int) {
	ch, sh := testHellos(b, 0)
	app := make([]byte, 1448)
	app[0], app[1], app[2], app[3], app[4] = 23, 3, 2, 0x05, 0xa3
	var per [][][]byte
	for i := 0; i < conns; i++ {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), uint16(40000+i))
		c := newConv(b, "eth", cli, srvAP)
		c.handshake()
		c.send(true, ch, 1448)
		c.send(false, sh, 1448)
		c.send(true, ccsRecord, 1448)
		for j := 0; j < bulk; j++ {
			c.send(false, app, 1448)
		}
		per = append(per, c.pkts)
	}
	for j := 0; ; j++ {
		any := false
		for _, ps := range per {
			if j < len(ps) {
				pkts = append(pkts, ps[j])
				total += len(ps[j])
				any = true
			}
		}
		if !any {
			return pkts, total
		}
	}
}

// BenchmarkSniffCapture replays the capture through a fresh Sniffer per
// iteration: MB/s is frame bytes per second.
func BenchmarkSniffCapture(b *testing.B) {
	pkts, total := benchCapture(b, 200, 500)
	ts := time.Unix(1700000000, 0)
	cis := make([]gopacket.CaptureInfo, len(pkts))
	for i, p := range pkts {
		cis[i] = gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p), Length: len(p)}
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	flows := 0
	for b.Loop() {
		s := New(Config{}, func(*Flow) { flows++ })
		for i, p := range pkts {
			s.Packet(p, cis[i], layers.LinkTypeEthernet)
		}
		s.Flush()
	}
	b.ReportMetric(float64(len(pkts))*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(len(pkts)*b.N), "ns/packet")
}

// benchPlain is like benchCapture with plaintext of no known protocol
// (random bytes, 0x16 among them) instead of TLS: the flows the prefix
// search scans up to its window.
func benchPlain(b *testing.B, conns, bulk int) (pkts [][]byte, total int) {
	r := rand.New(rand.NewPCG(7, 8))
	data := make([]byte, 1448)
	var per [][][]byte
	for i := 0; i < conns; i++ {
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), uint16(40000+i))
		c := newConv(b, "eth", cli, netip.MustParseAddrPort("10.0.0.2:8080"))
		c.handshake()
		c.send(true, []byte("GET /big HTTP/1.1\r\nHost: x\r\n\r\n"), 1448)
		for j := 0; j < bulk; j++ {
			for k := range data {
				data[k] = byte(r.Uint32())
			}
			c.send(false, data, 1448)
		}
		per = append(per, c.pkts)
	}
	for j := 0; ; j++ {
		any := false
		for _, ps := range per {
			if j < len(ps) {
				pkts = append(pkts, ps[j])
				total += len(ps[j])
				any = true
			}
		}
		if !any {
			return pkts, total
		}
	}
}

// BenchmarkPrefixSearch replays 200 bulk plaintext flows with the prefix
// search on (the default) and off: the difference is its cost.
func BenchmarkPrefixSearch(b *testing.B) {
	pkts, total := benchPlain(b, 200, 500)
	ts := time.Unix(1700000000, 0)
	cis := make([]gopacket.CaptureInfo, len(pkts))
	for i, p := range pkts {
		cis[i] = gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p), Length: len(p)}
	}
	for _, bc := range []struct {
		name   string
		window int
	}{{"on", 0}, {"off", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				s := New(Config{PrefixWindow: bc.window, Recognizers: DefaultRecognizers()}, nil)
				for i, p := range pkts {
					s.Packet(p, cis[i], layers.LinkTypeEthernet)
				}
				s.Flush()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(len(pkts)*b.N), "ns/packet")
		})
	}
}

// BenchmarkHelloScan measures the prefix search alone: one window of
// random bytes (0x16 about every 256th) scanned in 1448-byte segments.
func BenchmarkHelloScan(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	data := make([]byte, DefaultPrefixWindow)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var sc helloScan
		for p := data; len(p) > 0; p = p[min(len(p), 1448):] {
			if _, over := sc.write(p[:min(len(p), 1448)], DefaultPrefixWindow, DefaultMaxBuffer); over {
				break
			}
		}
	}
}
