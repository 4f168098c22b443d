// Package capgen makes the project's derived and hostile test captures
// from the real ones that scripts/make-captures.sh records: the same TLS
// packets inside PPPoE and MPLS (which tshark decodes the same way), a
// mixed capture for the coverage accounting, and the damaged files the
// sniffer must account for (an unknown link type, a flood of zero
// records, a corrupt pcapng block, hellos captured out of order). Its
// output is deterministic: the same inputs give the same files, which a
// test checks against the committed ones. It is test tooling, used by
// scripts/make-captures.sh through cmd/capgen.
package capgen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Frame is one captured packet.
type Frame struct {
	Data []byte
	CI   gopacket.CaptureInfo
}

// ReadPcap reads every frame of a pcap file of Ethernet frames.
func ReadPcap(path string) ([]Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capgen: %w", err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("capgen: %s: %w", path, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("capgen: %s: link type %v, want Ethernet", path, r.LinkType())
	}
	var out []Frame
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("capgen: %s: %w", path, err)
		}
		out = append(out, Frame{Data: data, CI: ci})
	}
}

// epoch is the time of the first frame of a generated capture; frames
// follow 1 ms apart.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// retime gives frames consecutive times from epoch.
func retime(fs []Frame) {
	for i := range fs {
		fs[i].CI.Timestamp = epoch.Add(time.Duration(i) * time.Millisecond)
	}
}

// etherType is the EtherType of an Ethernet frame (no VLAN tag).
func etherType(f []byte) uint16 {
	if len(f) < 14 {
		return 0
	}
	return binary.BigEndian.Uint16(f[12:])
}

// Encapsulations Encap writes.
const (
	PPPoE = "pppoe" // a PPPoE session (RFC 2516 §5.5) carrying PPP (RFC 1661)
	MPLS  = "mpls"  // a two-label MPLS stack (RFC 3032)
)

// Encap puts the IP packet of every IPv4 or IPv6 Ethernet frame inside
// the encapsulation: MAC addresses kept, the EtherType replaced by
// PPPoE's or MPLS's, their headers before the IP header. Other frames
// are kept as they are.
func Encap(fs []Frame, mode string) ([]Frame, error) {
	out := make([]Frame, 0, len(fs))
	for _, f := range fs {
		et := etherType(f.Data)
		if et != 0x0800 && et != 0x86dd {
			out = append(out, f)
			continue
		}
		ip := f.Data[14:]
		var hdr []byte
		switch mode {
		case PPPoE:
			// RFC 2516 §4: VER 1, TYPE 1, CODE 0 (session data),
			// SESSION_ID, LENGTH (of the PPP frame); PPP protocol 0x0021
			// (IPv4) or 0x0057 (IPv6).
			proto := uint16(0x0021)
			if et == 0x86dd {
				proto = 0x0057
			}
			hdr = binary.BigEndian.AppendUint16([]byte{0x88, 0x64, 0x11, 0x00, 0x12, 0x34}, uint16(2+len(ip)))
			hdr = binary.BigEndian.AppendUint16(hdr, proto)
		case MPLS:
			// RFC 3032 §2.1: label 16, then label 1000 with the
			// bottom-of-stack bit; TTL 64.
			hdr = []byte{0x88, 0x47}
			hdr = binary.BigEndian.AppendUint32(hdr, 16<<12|64)
			hdr = binary.BigEndian.AppendUint32(hdr, 1000<<12|1<<8|64)
		default:
			return nil, fmt.Errorf("capgen: unknown encapsulation %q", mode)
		}
		d := append(append(append([]byte{}, f.Data[:12]...), hdr...), ip...)
		ci := f.CI
		ci.CaptureLength = len(d)
		ci.Length += len(d) - len(f.Data)
		out = append(out, Frame{Data: d, CI: ci})
	}
	return out, nil
}

// WritePcap writes Ethernet frames (or frames of link type lt) as pcap.
func WritePcap(w io.Writer, lt layers.LinkType, fs []Frame) error {
	pw := pcapgo.NewWriterNanos(w)
	if err := pw.WriteFileHeader(262144, lt); err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	for _, f := range fs {
		if err := pw.WritePacket(f.CI, f.Data); err != nil {
			return fmt.Errorf("capgen: %w", err)
		}
	}
	return nil
}

// writePcapng writes frames of two interfaces: fs[i] on interface
// ifaces[i] (0 or 1), both Ethernet.
func writePcapng(w io.Writer, fs []Frame, ifaces []int) error {
	nw, err := pcapgo.NewNgWriterInterface(w, pcapgo.NgInterface{Name: "span0", LinkType: layers.LinkTypeEthernet, SnapLength: 262144},
		pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "tlsmap capgen"}})
	if err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	if _, err := nw.AddInterface(pcapgo.NgInterface{Name: "span1", LinkType: layers.LinkTypeEthernet, SnapLength: 262144}); err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	for i, f := range fs {
		ci := f.CI
		ci.InterfaceIndex = ifaces[i]
		if err := nw.WritePacket(ci, f.Data); err != nil {
			return fmt.Errorf("capgen: %w", err)
		}
	}
	return nw.Flush()
}

// tcpPayload returns the TCP payload of an Ethernet/IP frame and its
// offset in the frame, or nil.
func tcpPayload(f []byte) ([]byte, int) {
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.NoCopy)
	t, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok || len(t.Payload) == 0 {
		return nil, 0
	}
	return t.Payload, len(f) - len(t.Payload)
}

// isClientHello reports whether a TCP payload starts a TLS handshake
// record holding a ClientHello.
func isClientHello(p []byte) bool {
	return len(p) > 5 && p[0] == 0x16 && p[1] == 3 && p[5] == 1
}

// Counts of the coverage capture, for its tests: what Coverage put in.
type Counts struct {
	Frames         int // every frame
	PPPoEFrames    int // TLS frames inside PPPoE (the TLS capture's IP frames)
	CutHelloFrames int // 1: the ClientHello frame cut by the snaplen
	PlainFrames    int // the non-TLS TCP connection's frames
	QUICFrames     int // the QUIC connection's frames
	Discovery      int // PPPoE discovery and LCP frames (harmless, not decoded)
}

// Coverage builds the coverage capture (pcapng, two interfaces): the
// TLS capture's frames inside PPPoE with the ClientHello of its first
// connection cut at cutAt bytes as a snaplen would, a PPPoE discovery
// frame (PADI) and an LCP Configure-Request, a plain HTTP connection on
// port 80 that never turns to TLS, and the first UDP flow of the QUIC
// capture on the second interface.
func Coverage(w io.Writer, tlsFrames, quicFrames []Frame, cutAt int) (Counts, error) {
	var c Counts
	var fs []Frame
	var ifaces []int
	add := func(f Frame, iface int) {
		if f.CI.CaptureLength == 0 {
			f.CI.CaptureLength, f.CI.Length = len(f.Data), len(f.Data)
		}
		fs = append(fs, f)
		ifaces = append(ifaces, iface)
	}
	mac1, mac2 := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}
	// RFC 2516 §5.1 PADI: code 0x09, session 0, a Service-Name tag.
	padi := append(append(append([]byte{}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}...), mac1...), 0x88, 0x63, 0x11, 0x09, 0, 0, 0, 4, 0x01, 0x01, 0, 0)
	add(Frame{Data: padi}, 0)
	// RFC 1661 §5.1 Configure-Request (code 1, id 1, length 4) in PPP
	// protocol 0xc021 (LCP), in the PPPoE session.
	lcp := append(append(append([]byte{}, mac2...), mac1...), 0x88, 0x64, 0x11, 0x00, 0x12, 0x34, 0, 6, 0xc0, 0x21, 1, 1, 0, 4)
	add(Frame{Data: lcp}, 0)
	c.Discovery = 2

	enc, err := Encap(tlsFrames, PPPoE)
	if err != nil {
		return c, err
	}
	cut := false
	for i, f := range enc {
		if etherType(tlsFrames[i].Data) == 0x0800 || etherType(tlsFrames[i].Data) == 0x86dd {
			c.PPPoEFrames++
		}
		if p, _ := tcpPayload(tlsFrames[i].Data); !cut && isClientHello(p) {
			cut = true
			c.CutHelloFrames = 1
			f.Data = f.Data[:cutAt]
			f.CI.CaptureLength = cutAt
		}
		add(f, 0)
	}
	if !cut {
		return c, errors.New("capgen: no ClientHello in the TLS capture")
	}

	plain, err := plainConn()
	if err != nil {
		return c, err
	}
	for _, f := range plain {
		add(f, 0)
	}
	c.PlainFrames = len(plain)

	var tuple string
	for _, f := range quicFrames {
		p := gopacket.NewPacket(f.Data, layers.LayerTypeEthernet, gopacket.NoCopy)
		u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok || p.NetworkLayer() == nil {
			continue
		}
		a, b := p.NetworkLayer().NetworkFlow().Endpoints()
		k1 := fmt.Sprint(a, u.SrcPort, b, u.DstPort)
		k2 := fmt.Sprint(b, u.DstPort, a, u.SrcPort)
		if tuple == "" {
			tuple = k1
		}
		if k1 == tuple || k2 == tuple {
			add(f, 1)
			c.QUICFrames++
		}
	}
	if c.QUICFrames == 0 {
		return c, errors.New("capgen: no UDP in the QUIC capture")
	}
	retime(fs)
	c.Frames = len(fs)
	return c, writePcapng(w, fs, ifaces)
}

// plainConn is a plain HTTP/1.1 connection on port 80: handshake, one
// request, one response, FINs.
func plainConn() ([]Frame, error) {
	cli, srv := net.IPv4(10, 9, 9, 1).To4(), net.IPv4(10, 9, 9, 2).To4()
	cseq, sseq := uint32(7000), uint32(9000)
	var out []Frame
	frame := func(fromClient bool, flags string, payload string) error {
		src, dst, sp, dp, seq, ack := cli, srv, 40080, 80, cseq, sseq
		if !fromClient {
			src, dst, sp, dp, seq, ack = srv, cli, 80, 40080, sseq, cseq
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst}
		t := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: seq, Ack: ack, Window: 65535}
		for _, f := range flags {
			switch f {
			case 'S':
				t.SYN = true
			case 'A':
				t.ACK = true
			case 'F':
				t.FIN = true
			case 'P':
				t.PSH = true
			}
		}
		t.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 9, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 9, 2}, EthernetType: layers.EthernetTypeIPv4}
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, t, gopacket.Payload(payload)); err != nil {
			return fmt.Errorf("capgen: %w", err)
		}
		d := bytes.Clone(buf.Bytes())
		out = append(out, Frame{Data: d, CI: gopacket.CaptureInfo{CaptureLength: len(d), Length: len(d)}})
		n := uint32(len(payload))
		if t.SYN || t.FIN {
			n++
		}
		if fromClient {
			cseq += n
		} else {
			sseq += n
		}
		return nil
	}
	for _, s := range []struct {
		c       bool
		flags   string
		payload string
	}{
		{true, "S", ""}, {false, "SA", ""}, {true, "A", ""},
		{true, "PA", "GET / HTTP/1.1\r\nHost: plain.test\r\n\r\n"},
		{false, "PA", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
		{true, "FA", ""}, {false, "FA", ""}, {true, "A", ""},
	} {
		if err := frame(s.c, s.flags, s.payload); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// UnknownLinkType writes the frames as a pcap of link type 147
// (LINKTYPE_USER0): valid records the sniffer cannot decode.
func UnknownLinkType(w io.Writer, fs []Frame) error {
	fs = append([]Frame(nil), fs...)
	retime(fs)
	return WritePcap(w, 147, fs)
}

// ZeroFlood writes a gzip-compressed pcap: the frames, then n bytes of
// zeros — to a reader, billions of empty records.
func ZeroFlood(w io.Writer, fs []Frame, n int) error {
	fs = append([]Frame(nil), fs...)
	retime(fs)
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return fmt.Errorf("capgen: %w", err)
	}
	if err := WritePcap(zw, layers.LinkTypeEthernet, fs); err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for ; n > 0; n -= len(zeros) {
		if _, err := zw.Write(zeros[:min(n, len(zeros))]); err != nil {
			return fmt.Errorf("capgen: %w", err)
		}
	}
	return zw.Close()
}

// CorruptBlock writes the frames as pcapng with the trailing length of
// the Enhanced Packet Block of frame k damaged: that block, and only it,
// cannot be framed.
func CorruptBlock(w io.Writer, fs []Frame, k int) error {
	fs = append([]Frame(nil), fs...)
	retime(fs)
	var b bytes.Buffer
	if err := writePcapng(&b, fs, make([]int, len(fs))); err != nil {
		return err
	}
	data := b.Bytes()
	// Walk the blocks (little-endian, as pcapgo writes): SHB, two IDBs,
	// then one EPB per frame.
	off, epb := 0, -1
	for off+8 <= len(data) {
		typ, n := binary.LittleEndian.Uint32(data[off:]), int(binary.LittleEndian.Uint32(data[off+4:]))
		if typ == 6 {
			epb++
			if epb == k {
				binary.LittleEndian.PutUint32(data[off+n-4:], uint32(n+4))
				_, err := w.Write(data)
				return err
			}
		}
		off += n
	}
	return fmt.Errorf("capgen: no packet block %d", k)
}

// Reordered writes n connections, each joined mid-stream (no SYN): a
// ClientHello of the TLS capture split in two segments captured second
// first, and no answer. The sniffer must put each hello back together.
func Reordered(w io.Writer, tlsFrames []Frame, n int) error {
	var ch []byte
	for _, f := range tlsFrames {
		if p, _ := tcpPayload(f.Data); isClientHello(p) {
			ch = bytes.Clone(p)
			break
		}
	}
	if ch == nil {
		return errors.New("capgen: no ClientHello in the TLS capture")
	}
	var fs []Frame
	half := len(ch) / 2
	for i := 0; i < n; i++ {
		cli := net.IPv4(10, 7, byte(i>>8), byte(i)).To4()
		srv := net.IPv4(10, 7, 255, 1).To4()
		mk := func(seq uint32, payload []byte) (Frame, error) {
			ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: cli, DstIP: srv}
			t := &layers.TCP{SrcPort: layers.TCPPort(30000 + i), DstPort: 443, Seq: seq, Ack: 1, ACK: true, PSH: true, Window: 65535}
			t.SetNetworkLayerForChecksum(ip)
			buf := gopacket.NewSerializeBuffer()
			eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 7, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 7, 2}, EthernetType: layers.EthernetTypeIPv4}
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, t, gopacket.Payload(payload)); err != nil {
				return Frame{}, fmt.Errorf("capgen: %w", err)
			}
			d := bytes.Clone(buf.Bytes())
			return Frame{Data: d, CI: gopacket.CaptureInfo{CaptureLength: len(d), Length: len(d)}}, nil
		}
		second, err := mk(1000+uint32(half), ch[half:])
		if err != nil {
			return err
		}
		first, err := mk(1000, ch[:half])
		if err != nil {
			return err
		}
		fs = append(fs, second, first)
	}
	retime(fs)
	return WritePcap(w, layers.LinkTypeEthernet, fs)
}

// The parameters of the committed captures.
const (
	CutAt          = 80        // the coverage capture's cut ClientHello frame, bytes kept: 6 of its TLS bytes after Ethernet, PPPoE, IPv4 and a TCP header with options
	ZeroBytes      = 256 << 20 // zeros.pcap.gz: 256 MiB of zeros after the packets (a 250 KB file)
	CorruptFrame   = 9         // corrupt.pcapng: the packet whose block is damaged (0-based)
	ReorderedConns = 100       // reordered.pcap: connections
)
