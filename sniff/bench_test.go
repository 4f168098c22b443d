package sniff

import (
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
func benchCapture(b *testing.B, conns, bulk int) (pkts [][]byte, total int) {
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
