package sniff

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// serialize builds a frame from layers (lengths and checksums fixed).
func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// TestNotDecodedReasons feeds frames that carry no TCP or UDP and requires
// each to be counted under its reason, and every packet to be counted
// exactly once.
func TestNotDecodedReasons(t *testing.T) {
	mac1, mac2 := net.HardwareAddr{0, 1, 2, 3, 4, 5}, net.HardwareAddr{0, 1, 2, 3, 4, 6}
	eth := func(et layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: et}
	}
	ip4 := func(proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
	}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	tcpHdr := func() []byte {
		ip := ip4(layers.IPProtocolTCP)
		tcp := &layers.TCP{SrcPort: 1, DstPort: 2, Window: 1}
		tcp.SetNetworkLayerForChecksum(ip)
		return serialize(t, eth(layers.EthernetTypeIPv4), ip, tcp, gopacket.Payload(make([]byte, 100)))
	}()
	udpFrame := func() []byte {
		ip := ip4(layers.IPProtocolUDP)
		udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
		udp.SetNetworkLayerForChecksum(ip)
		return serialize(t, eth(layers.EthernetTypeIPv4), ip, udp, gopacket.Payload("dns?"))
	}()
	badIHL := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), gopacket.Payload(make([]byte, 40)))
	badIHL[14] = 0x43 // IHL 3: less than the 20-byte minimum
	cases := []struct {
		name  string
		lt    layers.LinkType
		frame []byte
		cut   int // bytes the capture did not keep
		want  string
	}{
		{"ARP", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeARP), gopacket.Payload(make([]byte, 28))), 0, "ethertype 0x0806 (ARP)"},
		{"LLDP", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeLinkLayerDiscovery), gopacket.Payload(make([]byte, 30))), 0, "ethertype 0x88cc (LinkLayerDiscovery)"},
		{"802.3 STP", layers.LinkTypeEthernet, append(serialize(t, &layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeLLC, Length: 38}), append([]byte{0x42, 0x42, 0x03}, make([]byte, 35)...)...), 0, "802.3 LLC frame"},
		{"ICMP", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4), gopacket.Payload(make([]byte, 8))), 0, "IP protocol 1 (ICMPv4)"},
		{"ICMPv6", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv6), ip6, gopacket.Payload(make([]byte, 8))), 0, "IP protocol 58 (ICMPv6)"},
		{"ESP in PPPoE", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1}, &layers.PPP{PPPType: layers.PPPTypeIPv4}, ip4(layers.IPProtocolESP), gopacket.Payload(make([]byte, 16))), 0, "IP protocol 50 (IPSecESP)"},
		{"PPPoE discovery", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypePPPoEDiscovery), &layers.PPPoE{Version: 1, Type: 1, Code: layers.PPPoECodePADI}, gopacket.Payload([]byte{1, 1, 0, 0})), 0, "ethertype 0x8863 (PPPoEDiscovery)"},
		{"PPP LCP", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypePPPoESession), &layers.PPPoE{Version: 1, Type: 1}, &layers.PPP{PPPType: 0xc021}, gopacket.Payload(make([]byte, 10))), 0, "PPP protocol 0xc021 (LCP)"},
		// (Built by hand: gopacket pads a short Ethernet frame to 60 bytes.)
		{"MPLS without payload", layers.LinkTypeEthernet, append(append(append([]byte{}, mac2...), mac1...), 0x88, 0x47, 0, 0, 0x31, 64), 0, "MPLS label stack without payload"},
		{"GRE of an unknown type", layers.LinkTypeEthernet, serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolGRE), &layers.GRE{Protocol: 0x88b5}, gopacket.Payload("x")), 0, "GRE protocol 0x88b5"},
		{"unknown link type", layers.LinkType(147), []byte("user-defined frame"), 0, "link type 147"},
		{"loopback family", layers.LinkTypeNull, []byte{7, 0, 0, 0, 1, 2, 3, 4}, 0, "loopback address family 7"},
		{"malformed IPv4", layers.LinkTypeEthernet, badIHL, 0, "malformed IPv4 header"},
		{"TCP header cut by snaplen", layers.LinkTypeEthernet, tcpHdr[:14+20+10], len(tcpHdr) - 44, "TCP header cut by snaplen"},
		{"IP header cut by snaplen", layers.LinkTypeEthernet, tcpHdr[:14+20], len(tcpHdr) - 34, "TCP header cut by snaplen"},
		{"empty record", layers.LinkTypeEthernet, nil, 0, "empty record"},
	}
	s := New(Config{}, nil)
	ts := time.Unix(1700000000, 0)
	want := map[string]uint64{}
	for _, c := range cases {
		s.Packet(c.frame, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(c.frame), Length: len(c.frame) + c.cut}, c.lt)
		want[c.want]++
		st := s.Stats()
		got := map[string]uint64{}
		for k, n := range st.NotDecoded {
			got[k.String()] += n
		}
		if got[c.want] != want[c.want] {
			t.Errorf("%s: counted %v, want %q", c.name, got, c.want)
		}
	}
	s.Packet(udpFrame, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(udpFrame), Length: len(udpFrame)}, layers.LinkTypeEthernet)
	st := s.Stats()
	var sum uint64
	for _, n := range st.NotDecoded {
		sum += n
	}
	if st.UDP != 1 || sum != uint64(len(cases)) || st.Packets != sum+st.UDP+st.Decoded+st.Fragments {
		t.Errorf("packets %d: %d not decoded, %d UDP, %d TCP, %d fragments; want %d, 1, 0, 0", st.Packets, sum, st.UDP, st.Decoded, st.Fragments, len(cases))
	}
	if st.DecodeErrors != 5 {
		t.Errorf("%d decode errors, want 5 (link type, malformed, two cut, empty)", st.DecodeErrors)
	}
}

// TestSnaplenCutHello cuts the ClientHello's segment at 60 bytes, as
// tcpdump -s 60 does: the flow must say that its client stream was cut by
// the snaplen, not look complete.
func TestSnaplenCutHello(t *testing.T) {
	ch, sh := testHellos(t, 0)
	c := newConv(t, "eth", cliAP, srvAP)
	c.handshake()
	c.send(true, ch, 1400)
	c.send(false, sh, 1400)
	c.send(true, ccsRecord, 1400)
	var flows []*Flow
	s := New(Config{}, func(f *Flow) { flows = append(flows, f) })
	ts := time.Unix(1700000000, 0)
	for i, p := range c.pkts {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if i == 3 { // the ClientHello
			ci.CaptureLength = 60
			p = p[:60]
		}
		s.Packet(p, ci, layers.LinkTypeEthernet)
	}
	s.Flush()
	if len(flows) != 1 {
		t.Fatalf("%d flows, want 1", len(flows))
	}
	f := flows[0]
	if f.HasClientHello() || !strings.Contains(f.Truncated, "client stream cut by snaplen") {
		t.Errorf("hello parsed %v, truncated %q; want no hello and the snaplen named", f.HasClientHello(), f.Truncated)
	}
	if f.Version != 0x0302 {
		t.Errorf("the ServerHello was captured whole: version %s, want TLSv1.1", f.Version)
	}
}
