package sniff

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

var (
	cliAP = netip.MustParseAddrPort("10.0.0.1:40000")
	srvAP = netip.MustParseAddrPort("10.0.0.2:443")
	cli6  = netip.MustParseAddrPort("[2001:db8::1]:40000")
	srv6  = netip.MustParseAddrPort("[2001:db8::2]:8443")
)

// testHellos returns a ClientHello record stream (padded to size bytes of
// extensions so it spans segments) and a ServerHello record.
func testHellos(t testing.TB, pad int) (ch, sh []byte) {
	t.Helper()
	m := &tls.ClientHello{
		Version:      tls.VersionTLS12,
		Random:       make([]byte, 32),
		CipherSuites: []uint16{0xc02f, 0x002f},
		Extensions: []tls.Extension{
			tls.ServerNameExtension("example.test"),
			tls.SupportedVersionsExtension(0x0302, 0x0301),
		},
		CompressionMethods: []uint8{0},
	}
	if pad > 0 {
		m.Extensions = append(m.Extensions, tls.PaddingExtension(pad))
	}
	ch, err := m.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	s := &tls.ServerHello{Version: 0x0302, Random: make([]byte, 32), CipherSuite: 0xc013}
	msg, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sh = tls.AppendRecord(nil, tls.ContentHandshake, 0x0302, msg)
	// The client's change_cipher_spec ends the handshake for the sniffer.
	return ch, sh
}

var ccsRecord = []byte{20, 3, 2, 0, 1, 1}

// tcpFrame builds one packet: encapsulation enc around IP/TCP.
func tcpFrame(t testing.TB, enc string, src, dst netip.AddrPort, seq, ack uint32, flags string, payload []byte) ([]byte, layers.LinkType) {
	t.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Ack: ack, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		case 'P':
			tcp.PSH = true
		}
	}
	var ip gopacket.SerializableLayer
	et := layers.EthernetTypeIPv4
	if src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
		et = layers.EthernetTypeIPv6
	}
	inner := []gopacket.SerializableLayer{ip, tcp, gopacket.Payload(payload)}
	mac1, mac2 := net.HardwareAddr{0, 1, 2, 3, 4, 5}, net.HardwareAddr{0, 1, 2, 3, 4, 6}
	eth := func(t layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: t}
	}
	outerIP := func(proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
	}
	var ls []gopacket.SerializableLayer
	lt := layers.LinkTypeEthernet
	switch enc {
	case "eth":
		ls = append([]gopacket.SerializableLayer{eth(et)}, inner...)
	case "vlan":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 7, Type: et}}, inner...)
	case "qinq":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 7, Type: layers.EthernetTypeDot1Q}, &layers.Dot1Q{VLANIdentifier: 8, Type: et}}, inner...)
	case "sll":
		lt = layers.LinkTypeLinuxSLL
		h := make([]byte, 16) // packet type, ARPHRD, address length, address, protocol
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], 6)
		copy(h[6:], mac1)
		binary.BigEndian.PutUint16(h[14:], uint16(et))
		ls = append([]gopacket.SerializableLayer{gopacket.Payload(h)}, inner...)
	case "sll2":
		lt = layers.LinkTypeLinuxSLL2
		h := make([]byte, 20) // protocol, reserved, ifindex, ARPHRD, packet type, address length, address
		binary.BigEndian.PutUint16(h[0:], uint16(et))
		binary.BigEndian.PutUint32(h[4:], 2)
		binary.BigEndian.PutUint16(h[8:], 1)
		h[11] = 6
		copy(h[12:], mac1)
		ls = append([]gopacket.SerializableLayer{gopacket.Payload(h)}, inner...)
	case "raw":
		lt = layers.LinkTypeRaw
		ls = inner
	case "null":
		lt = layers.LinkTypeNull
		fam := layers.ProtocolFamilyIPv4
		if et == layers.EthernetTypeIPv6 {
			fam = layers.ProtocolFamilyIPv6BSD
		}
		ls = append([]gopacket.SerializableLayer{&layers.Loopback{Family: fam}}, inner...)
	case "gre":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(layers.IPProtocolGRE), &layers.GRE{Protocol: et}}, inner...)
	case "gre-teb":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeTransparentEthernetBridging}, eth(et)}, inner...)
	case "erspan1":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeERSPAN}, eth(et)}, inner...)
	case "erspan2":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeERSPAN, SeqPresent: true, Seq: 1}, &layers.ERSPANII{Version: 1, SessionID: 3}, eth(et)}, inner...)
	case "erspan3":
		hdr := make([]byte, 20)
		hdr[0] = 2 << 4
		hdr[11] = 1 // O: subheader present, FT 0 (Ethernet)
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(layers.IPProtocolGRE), &layers.GRE{Protocol: ethernetTypeERSPAN3, SeqPresent: true, Seq: 1}, gopacket.Payload(hdr), eth(et)}, inner...)
	case "pppoe":
		ppp := layers.PPPTypeIPv4
		if et == layers.EthernetTypeIPv6 {
			ppp = layers.PPPTypeIPv6
		}
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 0x1234}, &layers.PPP{PPPType: ppp}}, inner...)
	case "pppoe-vlan":
		ppp := layers.PPPTypeIPv4
		if et == layers.EthernetTypeIPv6 {
			ppp = layers.PPPTypeIPv6
		}
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 9, Type: layers.EthernetTypePPPoESession}, &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodeSession, SessionId: 7}, &layers.PPP{PPPType: ppp}}, inner...)
	case "ppp":
		lt = layers.LinkTypePPP
		ppp := layers.PPPTypeIPv4
		if et == layers.EthernetTypeIPv6 {
			ppp = layers.PPPTypeIPv6
		}
		ls = append([]gopacket.SerializableLayer{&layers.PPP{PPPType: ppp, HasPPTPHeader: true}}, inner...)
	case "mpls":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 100, TTL: 64}, &layers.MPLS{Label: 200, StackBottom: true, TTL: 64}}, inner...)
	case "mpls-pw":
		// An Ethernet pseudowire with a control word (RFC 4448, RFC 4385).
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeMPLSUnicast), &layers.MPLS{Label: 16, TTL: 64}, &layers.MPLS{Label: 17, StackBottom: true, TTL: 64}, gopacket.Payload([]byte{0, 0, 0, 1}), eth(et)}, inner...)
	case "gre-mpls":
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(layers.IPProtocolGRE), &layers.GRE{Protocol: layers.EthernetTypeMPLSUnicast}, &layers.MPLS{Label: 300, StackBottom: true, TTL: 9}}, inner...)
	case "ipip":
		// IP-in-IP (RFC 2003) and IPv6-in-IPv4 (RFC 4213 §3.5).
		proto := layers.IPProtocolIPv4
		if et == layers.EthernetTypeIPv6 {
			proto = layers.IPProtocolIPv6
		}
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), outerIP(proto)}, inner...)
	case "ipip6":
		// IPv4 or IPv6 in IPv6 (RFC 2473).
		proto := layers.IPProtocolIPv4
		if et == layers.EthernetTypeIPv6 {
			proto = layers.IPProtocolIPv6
		}
		o6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.ParseIP("2001:db8:ffff::1"), DstIP: net.ParseIP("2001:db8:ffff::2")}
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6), o6}, inner...)
	case "vxlan":
		oip := outerIP(layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: 50000, DstPort: 4789}
		udp.SetNetworkLayerForChecksum(oip)
		ls = append([]gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4), oip, udp, &layers.VXLAN{ValidIDFlag: true, VNI: 42}, eth(et)}, inner...)
	default:
		t.Fatalf("unknown encapsulation %q", enc)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("%s: %v", enc, err)
	}
	return append([]byte(nil), buf.Bytes()...), lt
}

// conv builds a conversation's packets.
type conv struct {
	t        testing.TB
	enc      string
	cli, srv netip.AddrPort
	cseq     uint32
	sseq     uint32
	pkts     [][]byte
	lt       layers.LinkType
}

func newConv(t testing.TB, enc string, cli, srv netip.AddrPort) *conv {
	return &conv{t: t, enc: enc, cli: cli, srv: srv, cseq: 1000, sseq: 5000}
}

func (c *conv) add(fromClient bool, seq uint32, flags string, payload []byte) {
	src, dst, ack := c.cli, c.srv, c.sseq
	if !fromClient {
		src, dst, ack = c.srv, c.cli, c.cseq
	}
	p, lt := tcpFrame(c.t, c.enc, src, dst, seq, ack, flags, payload)
	c.pkts = append(c.pkts, p)
	c.lt = lt
}

func (c *conv) handshake() {
	c.add(true, c.cseq, "S", nil)
	c.add(false, c.sseq, "SA", nil)
	c.cseq++
	c.sseq++
	c.add(true, c.cseq, "A", nil)
}

// send adds data from one side in segments of at most mss bytes.
func (c *conv) send(fromClient bool, data []byte, mss int) {
	for len(data) > 0 {
		n := min(mss, len(data))
		if fromClient {
			c.add(true, c.cseq, "PA", data[:n])
			c.cseq += uint32(n)
		} else {
			c.add(false, c.sseq, "PA", data[:n])
			c.sseq += uint32(n)
		}
		data = data[n:]
	}
}

func run(t testing.TB, cfg Config, lt layers.LinkType, pkts [][]byte) ([]*Flow, *Sniffer) {
	var flows []*Flow
	s := New(cfg, func(f *Flow) { flows = append(flows, f) })
	ts := time.Unix(1700000000, 0)
	for i, p := range pkts {
		s.Packet(p, gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}, lt)
	}
	s.Flush()
	return flows, s
}

func wantTLS11(t *testing.T, flows []*Flow, cli, srv netip.AddrPort) {
	t.Helper()
	if len(flows) != 1 {
		t.Fatalf("got %d flows, want 1", len(flows))
	}
	f := flows[0]
	if f.Client != cli || f.Server != srv || f.SNI != "example.test" || f.Version != 0x0302 || f.Cipher != 0xc013 {
		t.Fatalf("flow %s->%s sni %q version %s cipher %04x truncated %q", f.Client, f.Server, f.SNI, f.Version, f.Cipher, f.Truncated)
	}
	if len(f.OfferedVersions) != 3 || f.OfferedVersions[0] != 0x0303 || f.OfferedVersions[2] != 0x0301 {
		t.Errorf("offered %s", f.OfferedVersions)
	}
}

// encapsulations are the tcpFrame encapsulations the sniffer decodes.
var encapsulations = []string{"eth", "vlan", "qinq", "sll", "sll2", "raw", "null", "gre", "gre-teb", "erspan1", "erspan2", "erspan3", "vxlan",
	"pppoe", "pppoe-vlan", "ppp", "mpls", "mpls-pw", "gre-mpls", "ipip", "ipip6"}

func TestEncapsulations(t *testing.T) {
	for _, enc := range encapsulations {
		for _, v6 := range []bool{false, true} {
			cli, srv := cliAP, srvAP
			if v6 {
				cli, srv = cli6, srv6
			}
			t.Run(enc+map[bool]string{false: "/ipv4", true: "/ipv6"}[v6], func(t *testing.T) {
				ch, sh := testHellos(t, 3000)
				c := newConv(t, enc, cli, srv)
				c.handshake()
				c.send(true, ch, 1400)
				c.send(false, sh, 1400)
				c.send(true, ccsRecord, 1400)
				flows, s := run(t, Config{}, c.lt, c.pkts)
				wantTLS11(t, flows, cli, srv)
				if st := s.Stats(); st.DecodeErrors != 0 || len(st.NotDecoded) != 0 || st.Decoded != uint64(len(c.pkts)) {
					t.Errorf("%d packets, %d TCP segments decoded; not decoded: %v", len(c.pkts), st.Decoded, st.NotDecoded)
				}
			})
		}
	}
}

func TestReassemblyOrders(t *testing.T) {
	ch, sh := testHellos(t, 3000)
	base := func(mss int) *conv {
		c := newConv(t, "eth", cliAP, srvAP)
		c.handshake()
		c.send(true, ch, mss)
		return c
	}
	cases := map[string]func() [][]byte{
		"three segments in order": func() [][]byte {
			c := base(1200)
			c.send(false, sh, 1400)
			return c.pkts
		},
		"reordered": func() [][]byte {
			c := base(1200)
			c.send(false, sh, 1400)
			p := c.pkts
			p[3], p[5] = p[5], p[3]
			return p
		},
		"duplicated": func() [][]byte {
			c := base(1200)
			c.send(false, sh, 1400)
			p := append([][]byte{}, c.pkts[:4]...)
			p = append(p, c.pkts[3], c.pkts[3])
			return append(p, c.pkts[4:]...)
		},
		"overlapping": func() [][]byte {
			c := newConv(t, "eth", cliAP, srvAP)
			c.handshake()
			c.add(true, c.cseq, "PA", ch[:1000])
			c.add(true, c.cseq+500, "PA", ch[500:2000]) // overlaps the first
			c.add(true, c.cseq+1500, "PA", ch[1500:])
			c.cseq += uint32(len(ch))
			c.send(false, sh, 1400)
			return c.pkts
		},
		"hello on the handshake-completing ACK": func() [][]byte {
			c := newConv(t, "eth", cliAP, srvAP)
			c.add(true, c.cseq, "S", nil)
			c.add(false, c.sseq, "SA", nil)
			c.cseq++
			c.sseq++
			c.send(true, ch, 9000)
			c.send(false, sh, 1400)
			return c.pkts
		},
		"mid-connection, server first in capture order": func() [][]byte {
			c := base(9000)
			c.send(false, sh, 1400)
			p := c.pkts[3:] // no SYN, SYN-ACK, ACK
			p[0], p[1] = p[1], p[0]
			return p
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			flows, _ := run(t, Config{}, layers.LinkTypeEthernet, mk())
			wantTLS11(t, flows, cliAP, srvAP)
		})
	}
}

// fragment splits an Ethernet/IPv4 frame into IPv4 fragments of at most
// size payload bytes (a multiple of 8).
func fragment(t *testing.T, frame []byte, size int) [][]byte {
	ipHdr := frame[14 : 14+20]
	payload := frame[14+20:]
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		f := append([]byte(nil), frame[:14+20]...)
		f = append(f, payload[off:end]...)
		h := f[14:]
		binary.BigEndian.PutUint16(h[2:], uint16(20+end-off))
		binary.BigEndian.PutUint16(h[4:], 77)
		fo := uint16(off / 8)
		if end < len(payload) {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], fo)
		h[10], h[11] = 0, 0
		_ = ipHdr
		out = append(out, f)
	}
	return out
}

func TestIPv4Fragments(t *testing.T) {
	ch, sh := testHellos(t, 0)
	c := newConv(t, "eth", cliAP, srvAP)
	c.handshake()
	c.send(true, ch, 9000)
	c.send(false, sh, 1400)
	frags := fragment(t, c.pkts[3], 64)
	// Out of order: last first.
	for i, j := 0, len(frags)-1; i < j; i, j = i+1, j-1 {
		frags[i], frags[j] = frags[j], frags[i]
	}
	pkts := append(append(append([][]byte{}, c.pkts[:3]...), frags...), c.pkts[4:]...)
	flows, s := run(t, Config{}, layers.LinkTypeEthernet, pkts)
	wantTLS11(t, flows, cliAP, srvAP)
	if st := s.Stats(); st.Reassembled != 1 {
		t.Errorf("reassembled %d datagrams, want 1", st.Reassembled)
	}
}

func TestPortReuseAndEviction(t *testing.T) {
	ch, sh := testHellos(t, 0)
	var pkts [][]byte
	for i := 0; i < 2; i++ { // the same 4-tuple twice, FIN-closed in between
		c := newConv(t, "eth", cliAP, srvAP)
		c.cseq += uint32(i) * 100000
		c.handshake()
		c.send(true, ch, 1400)
		c.send(false, sh, 1400)
		c.add(true, c.cseq, "FA", nil)
		c.add(false, c.sseq, "FA", nil)
		pkts = append(pkts, c.pkts...)
	}
	flows, _ := run(t, Config{}, layers.LinkTypeEthernet, pkts)
	if len(flows) != 2 {
		t.Fatalf("port reuse: %d flows, want 2", len(flows))
	}

	// Table full: 10 connections, room for 4.
	pkts = nil
	for i := 0; i < 10; i++ {
		cli := netip.AddrPortFrom(cliAP.Addr(), uint16(30000+i))
		c := newConv(t, "eth", cli, srvAP)
		c.handshake()
		c.send(true, ch, 1400)
		pkts = append(pkts, c.pkts...)
	}
	flows, s := run(t, Config{MaxFlows: 4}, layers.LinkTypeEthernet, pkts)
	if st := s.Stats(); len(flows) != 10 || st.FlowsTooMany != 6 {
		t.Errorf("table full: %d flows, %d evicted; want 10 and 6", len(flows), st.FlowsTooMany)
	}

	// Idle: packets 1 ms apart, timeout shorter than a connection's gap.
	pkts = nil
	for i := 0; i < 3; i++ {
		cli := netip.AddrPortFrom(cliAP.Addr(), uint16(31000+i))
		c := newConv(t, "eth", cli, srvAP)
		c.handshake()
		c.send(true, ch, 1400)
		pkts = append(pkts, c.pkts...)
	}
	flows, s = run(t, Config{IdleTimeout: 2 * time.Millisecond}, layers.LinkTypeEthernet, pkts)
	if st := s.Stats(); len(flows) != 3 || st.FlowsEvicted < 2 {
		t.Errorf("idle: %d flows, %d idle-evicted", len(flows), st.FlowsEvicted)
	}
}

func TestBufferCap(t *testing.T) {
	// A non-TLS flow is dropped from buffering at once; a TLS hello larger
	// than MaxBuffer is cut with a note.
	c := newConv(t, "eth", cliAP, srvAP)
	c.handshake()
	c.send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1400)
	flows, s := run(t, Config{}, layers.LinkTypeEthernet, c.pkts)
	if len(flows) != 0 || s.Stats().FlowsTotal != 1 {
		t.Errorf("plain HTTP: %d flows reported", len(flows))
	}
	ch, _ := testHellos(t, 8000)
	c = newConv(t, "eth", cliAP, srvAP)
	c.handshake()
	c.send(true, ch, 1400)
	flows, s = run(t, Config{MaxBuffer: 4096}, layers.LinkTypeEthernet, c.pkts)
	if len(flows) != 1 || flows[0].ClientHello != nil || flows[0].Truncated == "" {
		t.Fatalf("capped: %+v", flows)
	}
	if b := s.Stats().Buffered; b != 0 {
		t.Errorf("%d bytes still buffered after Flush", b)
	}
}
