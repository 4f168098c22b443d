package pcaptest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	cli4 = netip.MustParseAddrPort("10.0.0.1:40000")
	srv4 = netip.MustParseAddrPort("10.0.0.2:443")
	cli6 = netip.MustParseAddrPort("[2001:db8::1]:40000")
	srv6 = netip.MustParseAddrPort("[2001:db8::2]:443")
)

// seg describes one synthetic TCP segment.
type seg struct {
	src, dst netip.AddrPort
	seq      uint32
	syn, ack bool
	fin, rst bool
	payload  string
}

// ipPacket serialises seg as an IPv4 or IPv6 packet (by the address family)
// and returns it with its EtherType.
func ipPacket(t *testing.T, s seg) ([]byte, layers.EthernetType) {
	t.Helper()
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(s.src.Port()),
		DstPort: layers.TCPPort(s.dst.Port()),
		Seq:     s.seq,
		SYN:     s.syn, ACK: s.ack, FIN: s.fin, RST: s.rst,
		Window: 65535,
	}
	var ip gopacket.SerializableLayer
	et := layers.EthernetTypeIPv4
	if s.src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: s.src.Addr().AsSlice(), DstIP: s.dst.Addr().AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip4); err != nil {
			t.Fatal(err)
		}
		ip = ip4
	} else {
		et = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: s.src.Addr().AsSlice(), DstIP: s.dst.Addr().AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip6); err != nil {
			t.Fatal(err)
		}
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, tcp, gopacket.Payload(s.payload)); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes()), et
}

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

// frame wraps a segment in the link layer of lt; vlan adds an 802.1Q tag
// to Ethernet.
func frame(t *testing.T, lt layers.LinkType, vlan bool, s seg) []byte {
	t.Helper()
	ip, et := ipPacket(t, s)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true}
	var err error
	switch lt {
	case layers.LinkTypeEthernet:
		if vlan {
			err = gopacket.SerializeLayers(buf, opts,
				&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
				&layers.Dot1Q{VLANIdentifier: 42, Type: et}, gopacket.Payload(ip))
		} else {
			err = gopacket.SerializeLayers(buf, opts,
				&layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: et}, gopacket.Payload(ip))
		}
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		fam := layers.ProtocolFamilyIPv4
		if et == layers.EthernetTypeIPv6 {
			fam = layers.ProtocolFamilyIPv6Linux
		}
		err = gopacket.SerializeLayers(buf, opts, &layers.Loopback{Family: fam}, gopacket.Payload(ip))
	case layers.LinkTypeLinuxSLL:
		// gopacket cannot serialise SLL: packet type, ARPHRD_ETHER,
		// address length, 8 address bytes, protocol.
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[0:], 4) // outgoing
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], macA)
		binary.BigEndian.PutUint16(h[14:], uint16(et))
		return append(h, ip...)
	case layers.LinkTypeLinuxSLL2:
		// protocol, reserved, ifindex, ARPHRD_ETHER, packet type,
		// address length, 8 address bytes.
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], uint16(et))
		binary.BigEndian.PutUint32(h[4:], 3)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[10], h[11] = 4, 6
		copy(h[12:], macA)
		return append(h, ip...)
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return ip
	default:
		t.Fatalf("no framing for %v", lt)
	}
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

func packets(t *testing.T, lt layers.LinkType, vlan bool, segs ...seg) []Packet {
	t.Helper()
	var out []Packet
	for i, s := range segs {
		out = append(out, Packet{Frame: i + 1, LinkType: lt, Data: frame(t, lt, vlan, s),
			Time: time.Unix(1700000000, int64(i)*1000).UTC()})
	}
	return out
}

// writeCapture writes pkts as pcap or pcapng, optionally gzipped.
func writeCapture(t *testing.T, path string, ng, gz bool, pkts []Packet) {
	t.Helper()
	var buf bytes.Buffer
	lt := pkts[0].LinkType
	if ng {
		w, err := pcapgo.NewNgWriter(&buf, lt)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}
			if err := w.WritePacket(ci, p.Data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	} else {
		w := pcapgo.NewWriter(&buf)
		if err := w.WriteFileHeader(65535, lt); err != nil {
			t.Fatal(err)
		}
		for _, p := range pkts {
			ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}
			if err := w.WritePacket(ci, p.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := buf.Bytes()
	if gz {
		var zb bytes.Buffer
		zw := gzip.NewWriter(&zb)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = zb.Bytes()
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// handshake returns a three-way handshake, client ISN 1000, server ISN 5000.
func handshake(c, s netip.AddrPort) []seg {
	return []seg{
		{src: c, dst: s, seq: 1000, syn: true},
		{src: s, dst: c, seq: 5000, syn: true, ack: true},
		{src: c, dst: s, seq: 1001, ack: true},
	}
}

func TestLinkTypesAndFileFormats(t *testing.T) {
	linkTypes := []struct {
		lt   layers.LinkType
		vlan bool
		v6   bool
	}{
		{layers.LinkTypeEthernet, false, false},
		{layers.LinkTypeEthernet, false, true},
		{layers.LinkTypeEthernet, true, false},
		{layers.LinkTypeEthernet, true, true},
		{layers.LinkTypeLinuxSLL, false, false},
		{layers.LinkTypeLinuxSLL, false, true},
		{layers.LinkTypeLinuxSLL2, false, false},
		{layers.LinkTypeRaw, false, false},
		{layers.LinkTypeRaw, false, true},
		{layers.LinkTypeIPv4, false, false},
		{layers.LinkTypeIPv6, false, true},
		{layers.LinkTypeNull, false, false},
		{layers.LinkTypeNull, false, true},
		{layers.LinkTypeLoop, false, false},
	}
	for _, l := range linkTypes {
		for _, format := range []struct {
			name    string
			ng, gz  bool
			fileExt string
		}{
			{"pcap", false, false, ".pcap"},
			{"pcapng", true, false, ".pcapng"},
			{"pcap.gz", false, true, ".pcap.gz"},
			{"pcapng.gz", true, true, ".pcapng.gz"},
		} {
			name := l.lt.String() + map[bool]string{true: "+vlan", false: ""}[l.vlan] +
				map[bool]string{true: "/v6", false: "/v4"}[l.v6] + "/" + format.name
			t.Run(name, func(t *testing.T) {
				c, s := cli4, srv4
				if l.v6 {
					c, s = cli6, srv6
				}
				segs := append(handshake(c, s),
					seg{src: c, dst: s, seq: 1001, ack: true, payload: "hello"},
					seg{src: s, dst: c, seq: 5001, ack: true, payload: "world!"})
				path := filepath.Join(t.TempDir(), "c"+format.fileExt)
				writeCapture(t, path, format.ng, format.gz, packets(t, l.lt, l.vlan, segs...))
				capt, err := ReadTCP(path)
				if err != nil {
					t.Fatal(err)
				}
				if capt.Packets != 5 || capt.TCP != 5 || len(capt.Conns) != 1 {
					t.Fatalf("packets %d, tcp %d, conns %d; want 5, 5, 1", capt.Packets, capt.TCP, len(capt.Conns))
				}
				conn := capt.Conns[0]
				if conn.Client != c || conn.Server != s {
					t.Errorf("client %v server %v, want %v %v", conn.Client, conn.Server, c, s)
				}
				checkStream(t, conn.Streams[ClientToServer], "hello", []int{4, 4, 4, 4, 4})
				checkStream(t, conn.Streams[ServerToClient], "world!", []int{5, 5, 5, 5, 5, 5})
			})
		}
	}
}

func checkStream(t *testing.T, s *Stream, data string, frames []int) {
	t.Helper()
	if string(s.Data) != data {
		t.Errorf("data %q, want %q", s.Data, data)
	}
	if !slices.Equal(s.Frames, frames) {
		t.Errorf("frames %v, want %v", s.Frames, frames)
	}
}

func TestReassembly(t *testing.T) {
	c, s := cli4, srv4
	hs := handshake(c, s)
	// A 12-byte "hello" written as three segments, ISN 1000.
	a := seg{src: c, dst: s, seq: 1001, ack: true, payload: "CLIE"}
	b := seg{src: c, dst: s, seq: 1005, ack: true, payload: "NTHE"}
	d := seg{src: c, dst: s, seq: 1009, ack: true, payload: "LLO!"}
	tests := []struct {
		name     string
		segs     []seg
		data     string
		frames   []int // per byte
		ready    []int // per byte
		chunks   []int // frame of each chunk
		hole     bool
		repeated int
	}{
		{
			name:   "in order, split over three segments",
			segs:   append(slices.Clone(hs), a, b, d),
			data:   "CLIENTHELLO!",
			frames: []int{4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6},
			ready:  []int{4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6},
			chunks: []int{4, 5, 6},
		},
		{
			name:   "out of order: the last segment first",
			segs:   append(slices.Clone(hs), d, a, b),
			data:   "CLIENTHELLO!",
			frames: []int{5, 5, 5, 5, 6, 6, 6, 6, 4, 4, 4, 4},
			ready:  []int{5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6},
			chunks: []int{5, 6},
		},
		{
			name:     "retransmission with other bytes: the first copy wins",
			segs:     append(slices.Clone(hs), a, seg{src: c, dst: s, seq: 1001, ack: true, payload: "XXXXNT"}, b, d),
			data:     "CLIENTHELLO!",
			frames:   []int{4, 4, 4, 4, 5, 5, 6, 6, 7, 7, 7, 7},
			ready:    []int{4, 4, 4, 4, 5, 5, 6, 6, 7, 7, 7, 7},
			chunks:   []int{4, 5, 6, 7},
			repeated: 4 + 2,
		},
		{
			name:   "hole: the stream stops before the missing segment",
			segs:   append(slices.Clone(hs), a, d),
			data:   "CLIE",
			frames: []int{4, 4, 4, 4},
			ready:  []int{4, 4, 4, 4},
			chunks: []int{4},
			hole:   true,
		},
		{
			name:   "no handshake captured: the lowest sequence number starts the stream",
			segs:   []seg{b, d, a},
			data:   "CLIENTHELLO!",
			frames: []int{3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2},
			ready:  []int{3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
			chunks: []int{3},
		},
		{
			name: "keep-alive probe at ISN is not stream data",
			segs: append(slices.Clone(hs), a, b, d,
				seg{src: c, dst: s, seq: 1000, ack: true, payload: "K"}),
			data:   "CLIENTHELLO!",
			frames: []int{4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6},
			ready:  []int{4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6},
			chunks: []int{4, 5, 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			capt, err := Assemble(packets(t, layers.LinkTypeEthernet, false, tt.segs...))
			if err != nil {
				t.Fatal(err)
			}
			if len(capt.Conns) != 1 {
				t.Fatalf("%d connections, want 1", len(capt.Conns))
			}
			st := capt.Conns[0].Streams[ClientToServer]
			checkStream(t, st, tt.data, tt.frames)
			if !slices.Equal(st.Ready, tt.ready) {
				t.Errorf("ready %v, want %v", st.Ready, tt.ready)
			}
			var chunkFrames []int
			var joined []byte
			for _, ch := range st.Chunks() {
				if ch.Offset != len(joined) {
					t.Errorf("chunk at %d, want %d", ch.Offset, len(joined))
				}
				joined = append(joined, ch.Data...)
				chunkFrames = append(chunkFrames, ch.Frame)
			}
			if string(joined) != tt.data || !slices.Equal(chunkFrames, tt.chunks) {
				t.Errorf("chunks %q from frames %v, want %q from %v", joined, chunkFrames, tt.data, tt.chunks)
			}
			if st.Hole != tt.hole || st.Repeated != tt.repeated {
				t.Errorf("hole %v repeated %d, want %v %d", st.Hole, st.Repeated, tt.hole, tt.repeated)
			}
		})
	}
}

func TestSequenceWrap(t *testing.T) {
	c, s := cli4, srv4
	const isn = 0xfffffffd
	capt, err := Assemble(packets(t, layers.LinkTypeEthernet, false,
		seg{src: c, dst: s, seq: isn, syn: true},
		seg{src: c, dst: s, seq: isn + 1, ack: true, payload: "ab"}, // 0xfffffffe..0xffffffff
		seg{src: c, dst: s, seq: 2, ack: true, payload: "ef"},
		seg{src: c, dst: s, seq: 0, ack: true, payload: "cd"},
	))
	if err != nil {
		t.Fatal(err)
	}
	checkStream(t, capt.Conns[0].Streams[ClientToServer], "abcdef", []int{2, 2, 4, 4, 3, 3})
}

func TestConnections(t *testing.T) {
	c, s := cli4, srv4
	c2 := netip.AddrPortFrom(c.Addr(), 40001)
	segs := []seg{
		{src: s, dst: c2, seq: 9000, ack: true, payload: "mid-stream"}, // no handshake: first source is the client
		{src: c, dst: s, seq: 1000, syn: true},
		{src: c, dst: s, seq: 1000, syn: true}, // retransmitted SYN: same connection
		{src: s, dst: c, seq: 5000, syn: true, ack: true},
		{src: c, dst: s, seq: 1001, ack: true, payload: "one"},
		{src: c, dst: s, seq: 1004, ack: true, fin: true},
		{src: c, dst: s, seq: 7000, syn: true}, // 4-tuple reused: a new connection
		{src: s, dst: c, seq: 8000, syn: true, ack: true},
		{src: c, dst: s, seq: 7001, ack: true, payload: "two"},
		{src: s, dst: c, seq: 8001, ack: true, rst: true, payload: "ignored"},
	}
	capt, err := Assemble(packets(t, layers.LinkTypeEthernet, false, segs...))
	if err != nil {
		t.Fatal(err)
	}
	if len(capt.Conns) != 3 {
		t.Fatalf("%d connections, want 3", len(capt.Conns))
	}
	want := []struct {
		client, server netip.AddrPort
		first, last    int
		c2s, s2c       string
	}{
		{s, c2, 1, 1, "mid-stream", ""},
		{c, s, 2, 6, "one", ""},
		{c, s, 7, 10, "two", ""},
	}
	for i, w := range want {
		cn := capt.Conns[i]
		if cn.Index != i || cn.Client != w.client || cn.Server != w.server || cn.FirstFrame != w.first || cn.LastFrame != w.last {
			t.Errorf("conn %d: index %d %v→%v frames %d..%d; want %v→%v frames %d..%d",
				i, cn.Index, cn.Client, cn.Server, cn.FirstFrame, cn.LastFrame, w.client, w.server, w.first, w.last)
		}
		if string(cn.Streams[ClientToServer].Data) != w.c2s || string(cn.Streams[ServerToClient].Data) != w.s2c {
			t.Errorf("conn %d: streams %q / %q, want %q / %q", i,
				cn.Streams[ClientToServer].Data, cn.Streams[ServerToClient].Data, w.c2s, w.s2c)
		}
	}
}

func TestUnsupportedLinkType(t *testing.T) {
	_, err := Assemble([]Packet{{Frame: 1, LinkType: layers.LinkTypeIEEE802_11, Data: []byte{0}}})
	if err == nil {
		t.Fatal("no error for an unsupported link type")
	}
}
