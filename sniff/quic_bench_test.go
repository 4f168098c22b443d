package sniff

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/tlsmap/tlsmap/protocols/quic"
)

// quicBenchCapture builds an in-memory QUIC capture: conns connections,
// each a post-quantum ClientHello over two Initials, the server's Initial,
// then bulk 1-RTT short header packets of 1,200 bytes, interleaved
// round-robin.
func quicBenchCapture(b testing.TB, conns, bulk int) (pkts [][]byte, total int) {
	ch, sh := quicHellos(b, "bench.quic.test")
	short := append([]byte{0x41}, make([]byte, 1199)...)
	var per [][][]byte
	for i := range conns {
		odcid := binary.BigEndian.AppendUint64(nil, uint64(i)|1<<63)
		p := newQUICPeer(b, quic.Version1, odcid)
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), uint16(40000+i))
		ps := [][]byte{udpFrame(b, cli, qsrv, p.client(0, ch[:900])), udpFrame(b, cli, qsrv, p.client(900, ch[900:])),
			udpFrame(b, qsrv, cli, p.server(sh))}
		for j := range bulk {
			if j%4 == 0 {
				ps = append(ps, udpFrame(b, cli, qsrv, short[:60]))
			} else {
				ps = append(ps, udpFrame(b, qsrv, cli, short))
			}
		}
		per = append(per, ps)
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

// BenchmarkSniffQUIC replays a QUIC capture (200 connections, 100 1-RTT
// packets each) through a fresh Sniffer per iteration; MB/s is frame bytes
// per second, ns/packet the cost of an average packet.
func BenchmarkSniffQUIC(b *testing.B) {
	pkts, total := quicBenchCapture(b, 200, 100)
	ts := time.Unix(1700000000, 0)
	cis := make([]gopacket.CaptureInfo, len(pkts))
	for i, p := range pkts {
		cis[i] = gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p), Length: len(p)}
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		flows := 0
		s := New(Config{}, func(f *Flow) {
			if f.Version != 0 {
				flows++
			}
		})
		for i, p := range pkts {
			s.Packet(p, cis[i], layers.LinkTypeEthernet)
		}
		s.Flush()
		if flows != 200 {
			b.Fatalf("%d complete QUIC flows, want 200", flows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkts)), "ns/packet")
}

// BenchmarkSniffQUICInitial: the packets that cost most, a connection's
// Initials (key derivation, decryption, reassembly, the hellos parsed)
// and nothing else.
func BenchmarkSniffQUICInitial(b *testing.B) {
	pkts, _ := quicBenchCapture(b, 500, 0)
	ts := time.Unix(1700000000, 0)
	b.ReportAllocs()
	for b.Loop() {
		s := New(Config{}, func(*Flow) {})
		for i, p := range pkts {
			s.Packet(p, gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(p), Length: len(p)}, layers.LinkTypeEthernet)
		}
		s.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pkts)), "ns/packet")
}
