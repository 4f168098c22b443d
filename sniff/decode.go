package sniff

import (
	"errors"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Link types that pcap files use for raw IP besides LinkTypeRaw (101):
// DLT_RAW is 12 on most systems and 14 on OpenBSD.
const (
	linkTypeRawDLT12 layers.LinkType = 12
	linkTypeRawDLT14 layers.LinkType = 14
)

// ethernetTypeERSPAN3 is the GRE protocol type of ERSPAN Type III
// (draft-foschiano-erspan-03 §4.3).
const ethernetTypeERSPAN3 layers.EthernetType = 0x22eb

// layerTypeERSPAN3 is our own layer type for ERSPAN Type III, which
// gopacket does not decode.
var layerTypeERSPAN3 = gopacket.RegisterLayerType(0x7e53, gopacket.LayerTypeMetadata{
	Name:    "tlsmap-ERSPANIII",
	Decoder: gopacket.DecodeFunc(func([]byte, gopacket.PacketBuilder) error { return errERSPAN3Decoder }),
})

var errERSPAN3Decoder = errors.New("sniff: ERSPAN III decodes only through DecodingLayerParser")

// greLayer is gopacket's GRE that also hands ERSPAN Type III on.
type greLayer struct{ layers.GRE }

func (g *greLayer) NextLayerType() gopacket.LayerType {
	if g.Protocol == ethernetTypeERSPAN3 {
		return layerTypeERSPAN3
	}
	return g.GRE.NextLayerType()
}

// erspan3 decodes an ERSPAN Type III header (draft-foschiano-erspan-03
// §4.3): 12 bytes — version (2) and VLAN, CoS/BSO/T/session, a 32-bit
// timestamp, SGT, P, FT (frame type: 0 Ethernet, 2 IP), hardware id, D,
// Gra and O — and, when O is set, an 8-byte platform-specific
// subheader.
type erspan3 struct {
	contents  []byte
	payload   []byte
	frameType uint8
}

func (e *erspan3) LayerType() gopacket.LayerType     { return layerTypeERSPAN3 }
func (e *erspan3) CanDecode() gopacket.LayerClass    { return layerTypeERSPAN3 }
func (e *erspan3) LayerContents() []byte             { return e.contents }
func (e *erspan3) LayerPayload() []byte              { return e.payload }
func (e *erspan3) NextLayerType() gopacket.LayerType { return e.next() }

func (e *erspan3) next() gopacket.LayerType {
	switch e.frameType {
	case 0:
		return layers.LayerTypeEthernet
	case 2:
		if len(e.payload) > 0 {
			switch e.payload[0] >> 4 {
			case 4:
				return layers.LayerTypeIPv4
			case 6:
				return layers.LayerTypeIPv6
			}
		}
	}
	return gopacket.LayerTypeZero
}

var errERSPAN3 = errors.New("sniff: bad ERSPAN III header")

func (e *erspan3) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 12 || data[0]>>4 != 2 {
		df.SetTruncated()
		return errERSPAN3
	}
	n := 12
	e.frameType = data[11] >> 2 & 0x1f
	if data[11]&1 != 0 { // O: platform-specific subheader follows
		n += 8
		if len(data) < n {
			df.SetTruncated()
			return errERSPAN3
		}
	}
	e.contents, e.payload = data[:n], data[n:]
	return nil
}

// pkt is one decoded TCP segment or UDP datagram. Payload aliases the
// packet data (or the fragment buffer): copy what is kept.
type pkt struct {
	src, dst   netip.Addr
	sport      uint16
	dport      uint16
	seq, ack   uint32
	syn, ackF  bool
	fin, rst   bool
	payload    []byte
	fragmented bool
	// cut is how many bytes of the segment's payload the capture did not
	// keep (its IP length says more than the snaplen let through): they
	// follow payload on the wire.
	cut int
}

// decodeResult says what decode made of a packet.
type decodeResult uint8

const (
	decTCP      decodeResult = iota // p holds a TCP segment
	decUDP                          // p holds a UDP datagram (ports, payload)
	decSkip                         // not decoded: decoder.skip says why
	decFragment                     // an IP fragment, held until its datagram is whole
)

// decoder decodes link, tunnel, network and TCP/UDP headers with
// gopacket's DecodingLayerParser over preallocated layers: one parser per
// first layer, all sharing the same layer values, so a packet costs no
// allocation. Tunnels and encapsulations (802.1Q/QinQ, PPPoE, MPLS, GRE,
// ERSPAN I/II/III, VXLAN, IP-in-IP, IPv6-in-IPv4) decode through the same
// layers: the innermost IP and TCP headers win, which is what a mirror
// port's traffic needs. A packet that yields neither TCP nor UDP is
// counted by the reason decoding stopped (skip).
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	lo      layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	ip6ext  layers.IPv6ExtensionSkipper
	ip6frag layers.IPv6Fragment
	tcp     layers.TCP
	udp     layers.UDP
	gre     greLayer
	vxlan   layers.VXLAN
	erspan2 layers.ERSPANII
	erspan3 erspan3
	pppoe   pppoeLayer
	ppp     pppLayer
	mpls    mplsLayer

	pEth, pSLL, pSLL2, pLo, pIP4, pIP6, pPPP, pPPPoE parser
	decoded                                          []gopacket.LayerType
	// byType finds the layer of a decoded type (for the skip reasons).
	byType map[gopacket.LayerType]gopacket.DecodingLayer

	skip  Skip // why the last decSkip packet was not decoded
	frags fragTable
}

// parser is a DecodingLayerParser and the layer it starts with.
type parser struct {
	*gopacket.DecodingLayerParser
	first gopacket.LayerType
}

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 16), byType: map[gopacket.LayerType]gopacket.DecodingLayer{}}
	d.frags.init()
	all := []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo, &d.ip4, &d.ip6,
		&d.ip6ext, &d.ip6frag, // the fragment header overrides the skipper
		&d.tcp, &d.udp, &d.gre, &d.vxlan, &d.erspan2, &d.erspan3,
		&d.pppoe, &d.ppp, &d.mpls,
	}
	for _, l := range all {
		for _, t := range l.CanDecode().LayerTypes() {
			d.byType[t] = l
		}
	}
	mk := func(first gopacket.LayerType) parser {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		return parser{p, first}
	}
	d.pEth = mk(layers.LayerTypeEthernet)
	d.pSLL = mk(layers.LayerTypeLinuxSLL)
	d.pSLL2 = mk(layers.LayerTypeLinuxSLL2)
	d.pLo = mk(layers.LayerTypeLoopback)
	d.pIP4 = mk(layers.LayerTypeIPv4)
	d.pIP6 = mk(layers.LayerTypeIPv6)
	d.pPPP = mk(layers.LayerTypePPP)
	d.pPPPoE = mk(layers.LayerTypePPPoE)
	return d
}

// parser picks the parser for a link type; nil when the link type is not
// decoded.
func (d *decoder) parser(lt layers.LinkType, data []byte) *parser {
	switch lt {
	case layers.LinkTypeEthernet:
		return &d.pEth
	case layers.LinkTypeLinuxSLL:
		return &d.pSLL
	case layers.LinkTypeLinuxSLL2:
		return &d.pSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return &d.pLo
	case layers.LinkTypeIPv4:
		return &d.pIP4
	case layers.LinkTypeIPv6:
		return &d.pIP6
	case layers.LinkTypePPP, layers.LinkTypePPP_HDLC:
		return &d.pPPP
	case layers.LinkTypePPPEthernet:
		return &d.pPPPoE
	case layers.LinkTypeRaw, linkTypeRawDLT12, linkTypeRawDLT14:
		if len(data) > 0 && data[0]>>4 == 6 {
			return &d.pIP6
		}
		return &d.pIP4 // not IPv4 either: the IPv4 header is malformed
	}
	return nil
}

// decode decodes one packet. now is the packet time in Unix nanoseconds
// (for the fragment table's timeouts); cut tells that the capture kept
// fewer bytes than the frame had (snaplen).
func (d *decoder) decode(data []byte, lt layers.LinkType, now int64, cut bool, p *pkt) decodeResult {
	if len(data) == 0 {
		d.skip = Skip{Kind: SkipEmpty}
		return decSkip
	}
	ps := d.parser(lt, data)
	if ps == nil {
		d.skip = Skip{Kind: SkipLinkType, Code: uint32(lt)}
		return decSkip
	}
	if err := ps.DecodeLayers(data, &d.decoded); err != nil || len(d.decoded) == 0 {
		// The header after the last decoded one did not decode.
		failed := ps.first
		if n := len(d.decoded); n > 0 {
			failed = d.byType[d.decoded[n-1]].NextLayerType()
		}
		d.skip = d.broken(failed, cut || ps.Truncated)
		return decSkip
	}
	// The innermost network layer, and what decoding stopped at.
	var net gopacket.LayerType
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeIPv6Fragment:
			net = t
		}
	}
	last := d.decoded[len(d.decoded)-1]
	switch last {
	case layers.LayerTypeTCP:
		d.fill(net, p)
		d.fillTCP(p)
		return decTCP
	case layers.LayerTypeUDP:
		d.fill(net, p)
		d.fillUDP(p)
		return decUDP
	}
	switch {
	case last == layers.LayerTypeIPv4 && (d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0):
		if proto := d.ip4.Protocol; proto != layers.IPProtocolTCP && proto != layers.IPProtocolUDP {
			d.skip = Skip{Kind: SkipIPProtocol, Code: uint32(proto)}
			return decSkip
		}
		src, dst := netip.AddrFrom4([4]byte(d.ip4.SrcIP)), netip.AddrFrom4([4]byte(d.ip4.DstIP))
		k := fragKey{src: src, dst: dst, id: uint32(d.ip4.Id), proto: uint8(d.ip4.Protocol)}
		whole, ok := d.frags.add(k, int(d.ip4.FragOffset)*8, d.ip4.Flags&layers.IPv4MoreFragments != 0, d.ip4.Payload, now)
		if !ok {
			return decFragment
		}
		return d.fragTransport(whole, src, dst, p)
	case last == layers.LayerTypeIPv6Fragment:
		f := &d.ip6frag
		if f.FragmentOffset == 0 && !f.MoreFragments {
			// An atomic fragment (RFC 6946) of something not TCP or UDP.
			d.skip = Skip{Kind: SkipIPProtocol, Code: uint32(f.NextHeader)}
			return decSkip
		}
		src, dst := netip.AddrFrom16([16]byte(d.ip6.SrcIP)), netip.AddrFrom16([16]byte(d.ip6.DstIP))
		k := fragKey{src: src, dst: dst, id: f.Identification, v6: true}
		if f.FragmentOffset == 0 {
			d.frags.setProto(k, uint8(f.NextHeader), now)
		}
		whole, ok := d.frags.add(k, int(f.FragmentOffset)*8, f.MoreFragments, f.Payload, now)
		if !ok {
			return decFragment
		}
		return d.fragTransport(whole, src, dst, p)
	}
	d.skip = d.stopped(last, cut || ps.Truncated)
	return decSkip
}

// broken is the reason for a header of type t that did not decode.
func (d *decoder) broken(t gopacket.LayerType, cut bool) Skip {
	if cut {
		return Skip{Kind: SkipCut, Code: uint32(t)}
	}
	return Skip{Kind: SkipMalformed, Code: uint32(t)}
}

// stopped is the reason decoding ended after the layer last without a
// TCP or UDP header: what last says follows it and is not decoded, or a
// header that was wanted but had no bytes left.
func (d *decoder) stopped(last gopacket.LayerType, cut bool) Skip {
	if next := d.byType[last].NextLayerType(); d.byType[next] != nil {
		return d.broken(next, cut)
	}
	switch last {
	case layers.LayerTypeEthernet:
		return etherSkip(d.eth.EthernetType)
	case layers.LayerTypeDot1Q:
		return etherSkip(d.dot1q.Type)
	case layers.LayerTypeLinuxSLL:
		return etherSkip(d.sll.EthernetType)
	case layers.LayerTypeLinuxSLL2:
		return etherSkip(d.sll2.ProtocolType)
	case layers.LayerTypeGRE:
		return Skip{Kind: SkipGRE, Code: uint32(d.gre.Protocol)}
	case layers.LayerTypeLoopback:
		return Skip{Kind: SkipLoopback, Code: uint32(d.lo.Family)}
	case layers.LayerTypeIPv4:
		return Skip{Kind: SkipIPProtocol, Code: uint32(d.ip4.Protocol)}
	case layers.LayerTypeIPv6:
		proto := d.ip6.NextHeader
		if d.ip6.HopByHop != nil {
			proto = d.ip6.HopByHop.NextHeader
		}
		return Skip{Kind: SkipIPProtocol, Code: uint32(proto)}
	case layers.LayerTypePPPoE:
		// A discovery frame (RFC 2516 §5.1–5.5), or a session frame
		// without a PPP header.
		if d.pppoe.code != 0 {
			return etherSkip(layers.EthernetTypePPPoEDiscovery)
		}
		return d.broken(layers.LayerTypePPP, cut)
	case layers.LayerTypePPP:
		return Skip{Kind: SkipPPP, Code: uint32(d.ppp.proto)}
	case layers.LayerTypeMPLS:
		return Skip{Kind: SkipMPLSPayload}
	}
	if layers.LayerClassIPv6Extension.Contains(last) {
		return Skip{Kind: SkipIPProtocol, Code: uint32(d.ip6ext.NextHeader)}
	}
	return d.broken(last, cut)
}

// etherSkip is the reason for an EtherType that carries nothing decoded
// (0 for an 802.3 length field, whose LLC payload is not IP).
func etherSkip(t layers.EthernetType) Skip {
	if t < 0x0600 {
		t = 0
	}
	return Skip{Kind: SkipEtherType, Code: uint32(t)}
}

// fragTransport decodes the TCP or UDP header of a reassembled datagram.
func (d *decoder) fragTransport(whole []byte, src, dst netip.Addr, p *pkt) decodeResult {
	proto := layers.IPProtocol(d.frags.lastProto)
	var r decodeResult
	switch proto {
	case layers.IPProtocolTCP:
		if err := d.tcp.DecodeFromBytes(whole, gopacket.NilDecodeFeedback); err != nil {
			d.skip = Skip{Kind: SkipMalformed, Code: uint32(layers.LayerTypeTCP)}
			return decSkip
		}
		d.fillTCP(p)
		r = decTCP
	case layers.IPProtocolUDP:
		if err := d.udp.DecodeFromBytes(whole, gopacket.NilDecodeFeedback); err != nil {
			d.skip = Skip{Kind: SkipMalformed, Code: uint32(layers.LayerTypeUDP)}
			return decSkip
		}
		d.fillUDP(p)
		r = decUDP
	default:
		d.skip = Skip{Kind: SkipIPProtocol, Code: uint32(proto)}
		return decSkip
	}
	p.src, p.dst, p.fragmented, p.cut = src, dst, true, 0
	return r
}

// fill sets the addresses of the innermost network layer, and how many
// bytes of its payload the capture cut off.
func (d *decoder) fill(net gopacket.LayerType, p *pkt) {
	p.cut = 0
	if net == layers.LayerTypeIPv4 {
		p.src, p.dst = netip.AddrFrom4([4]byte(d.ip4.SrcIP)), netip.AddrFrom4([4]byte(d.ip4.DstIP))
		if wire := int(d.ip4.Length) - int(d.ip4.IHL)*4; wire > len(d.ip4.Payload) {
			p.cut = wire - len(d.ip4.Payload)
		}
	} else {
		p.src, p.dst = netip.AddrFrom16([16]byte(d.ip6.SrcIP)), netip.AddrFrom16([16]byte(d.ip6.DstIP))
		// The payload length covers the extension headers (RFC 8200 §3);
		// 0 is a jumbogram, whose length we do not check.
		if wire := int(d.ip6.Length); wire > len(d.ip6.Payload) {
			p.cut = wire - len(d.ip6.Payload)
		}
	}
	p.fragmented = false
}

func (d *decoder) fillTCP(p *pkt) {
	t := &d.tcp
	p.sport, p.dport = uint16(t.SrcPort), uint16(t.DstPort)
	p.seq, p.ack = t.Seq, t.Ack
	p.syn, p.ackF, p.fin, p.rst = t.SYN, t.ACK, t.FIN, t.RST
	p.payload = t.Payload
}

func (d *decoder) fillUDP(p *pkt) {
	u := &d.udp
	p.sport, p.dport = uint16(u.SrcPort), uint16(u.DstPort)
	p.seq, p.ack = 0, 0
	p.syn, p.ackF, p.fin, p.rst = false, false, false, false
	p.payload = u.Payload
}

// Fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6),
// bounded: at most fragMaxDatagrams datagrams in progress, each at most
// fragMaxSize bytes, dropped fragTimeout after their first fragment
// (packet time). Overlapping fragments: the first copy of a byte wins
// (RFC 8200 says drop the datagram; for a passive observer keeping the
// first copy is the tolerant choice and matches most stacks).
const (
	fragMaxDatagrams = 1024
	fragMaxSize      = 1 << 16
	fragTimeout      = int64(30e9)
)

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type fragDatagram struct {
	first   int64
	data    []byte
	have    []fragRange // received byte ranges, unsorted, few
	total   int         // length once the last fragment is seen, else -1
	proto   uint8
	protoOK bool
}

type fragRange struct{ lo, hi int }

type fragTable struct {
	m         map[fragKey]*fragDatagram
	lastProto uint8
	// Counters for Stats.
	reassembled, dropped uint64
}

func (t *fragTable) init() { t.m = make(map[fragKey]*fragDatagram) }

func (t *fragTable) get(k fragKey, now int64) *fragDatagram {
	g := t.m[k]
	if g != nil && now-g.first > fragTimeout {
		delete(t.m, k)
		t.dropped++
		g = nil
	}
	if g == nil {
		if len(t.m) >= fragMaxDatagrams {
			t.expire(now)
			if len(t.m) >= fragMaxDatagrams {
				return nil
			}
		}
		g = &fragDatagram{first: now, total: -1}
		t.m[k] = g
	}
	return g
}

func (t *fragTable) expire(now int64) {
	for k, g := range t.m {
		if now-g.first > fragTimeout || len(t.m) >= fragMaxDatagrams {
			delete(t.m, k)
			t.dropped++
		}
	}
}

func (t *fragTable) setProto(k fragKey, proto uint8, now int64) {
	if g := t.get(k, now); g != nil {
		g.proto, g.protoOK = proto, true
	}
}

// add records one fragment; when the datagram is complete it returns its
// payload (valid until the next call) and removes it from the table.
func (t *fragTable) add(k fragKey, off int, more bool, data []byte, now int64) ([]byte, bool) {
	g := t.get(k, now)
	if g == nil {
		return nil, false
	}
	end := off + len(data)
	if end > fragMaxSize || (more && len(data)%8 != 0) || (!more && g.total >= 0 && g.total != end) {
		delete(t.m, k)
		t.dropped++
		return nil, false
	}
	if !more {
		g.total = end
	}
	if k.proto != 0 {
		g.proto, g.protoOK = k.proto, true
	}
	if len(g.data) < end {
		if cap(g.data) < end {
			nd := make([]byte, end, max(end, 2*cap(g.data)))
			copy(nd, g.data)
			g.data = nd
		} else {
			g.data = g.data[:end]
		}
	}
	// Copy only the bytes no earlier fragment supplied.
	t.copyNew(g, off, data)
	if g.total < 0 || !g.protoOK || !covered(g.have, g.total) {
		return nil, false
	}
	delete(t.m, k)
	t.reassembled++
	t.lastProto = g.proto
	return g.data[:g.total], true
}

func (t *fragTable) copyNew(g *fragDatagram, off int, data []byte) {
	lo, hi := off, off+len(data)
	// Walk the byte range, skipping parts already held.
	for lo < hi {
		next := hi
		skip := false
		for _, r := range g.have {
			if lo >= r.lo && lo < r.hi {
				lo = min(r.hi, hi)
				skip = true
				break
			}
			if r.lo > lo && r.lo < next {
				next = r.lo
			}
		}
		if skip {
			continue
		}
		copy(g.data[lo:next], data[lo-off:next-off])
		g.have = append(g.have, fragRange{lo, next})
		lo = next
	}
}

// covered reports whether the ranges cover [0, n).
func covered(rs []fragRange, n int) bool {
	pos := 0
	for pos < n {
		adv := false
		for _, r := range rs {
			if r.lo <= pos && r.hi > pos {
				pos = r.hi
				adv = true
			}
		}
		if !adv {
			return false
		}
	}
	return true
}
