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

// pkt is one decoded TCP segment. Payload aliases the packet data (or the
// fragment buffer): copy what is kept.
type pkt struct {
	src, dst   netip.Addr
	sport      uint16
	dport      uint16
	seq, ack   uint32
	syn, ackF  bool
	fin, rst   bool
	payload    []byte
	fragmented bool
}

// decodeResult says what decode made of a packet.
type decodeResult uint8

const (
	decTCP      decodeResult = iota // p holds a TCP segment
	decNonTCP                       // a valid packet, but not TCP
	decError                        // malformed or unsupported link layer
	decFragment                     // an IP fragment, held until its datagram is whole
)

// decoder decodes link, tunnel, network and TCP headers with gopacket's
// DecodingLayerParser over preallocated layers: one parser per first
// layer, all sharing the same layer values, so a packet costs no
// allocation. Tunnels (GRE, ERSPAN I/II/III, VXLAN) decode through the same
// layers: the innermost IP and TCP headers win, which is what a mirror
// port's traffic needs.
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

	pEth, pSLL, pSLL2, pLo, pIP4, pIP6 *gopacket.DecodingLayerParser
	decoded                            []gopacket.LayerType

	frags fragTable
}

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 16)}
	d.frags.init()
	all := []gopacket.DecodingLayer{
		&d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo, &d.ip4, &d.ip6,
		&d.ip6ext, &d.ip6frag, // the fragment header overrides the skipper
		&d.tcp, &d.udp, &d.gre, &d.vxlan, &d.erspan2, &d.erspan3,
	}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		return p
	}
	d.pEth = mk(layers.LayerTypeEthernet)
	d.pSLL = mk(layers.LayerTypeLinuxSLL)
	d.pSLL2 = mk(layers.LayerTypeLinuxSLL2)
	d.pLo = mk(layers.LayerTypeLoopback)
	d.pIP4 = mk(layers.LayerTypeIPv4)
	d.pIP6 = mk(layers.LayerTypeIPv6)
	return d
}

// parser picks the parser for a link type.
func (d *decoder) parser(lt layers.LinkType, data []byte) *gopacket.DecodingLayerParser {
	switch lt {
	case layers.LinkTypeEthernet:
		return d.pEth
	case layers.LinkTypeLinuxSLL:
		return d.pSLL
	case layers.LinkTypeLinuxSLL2:
		return d.pSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.pLo
	case layers.LinkTypeIPv4:
		return d.pIP4
	case layers.LinkTypeIPv6:
		return d.pIP6
	case layers.LinkTypeRaw, linkTypeRawDLT12, linkTypeRawDLT14:
		if len(data) > 0 {
			switch data[0] >> 4 {
			case 4:
				return d.pIP4
			case 6:
				return d.pIP6
			}
		}
	}
	return nil
}

// decode decodes one packet. now is the packet time in Unix nanoseconds
// (for the fragment table's timeouts).
func (d *decoder) decode(data []byte, lt layers.LinkType, now int64, p *pkt) decodeResult {
	parser := d.parser(lt, data)
	if parser == nil {
		return decError
	}
	err := parser.DecodeLayers(data, &d.decoded)
	// Find the innermost network layer and whether TCP follows it.
	var net gopacket.LayerType
	tcp := false
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4, layers.LayerTypeIPv6:
			net, tcp = t, false
		case layers.LayerTypeIPv6Fragment:
			net = t
		case layers.LayerTypeTCP:
			tcp = true
		}
	}
	if err != nil && !tcp {
		if net == 0 {
			return decError
		}
		// A network layer decoded but what follows did not: not TCP we
		// can use.
		return decNonTCP
	}
	if tcp {
		if err != nil {
			return decError
		}
		d.fill(net, p)
		return decTCP
	}
	switch net {
	case layers.LayerTypeIPv4:
		if d.ip4.Flags&layers.IPv4MoreFragments == 0 && d.ip4.FragOffset == 0 {
			return decNonTCP
		}
		if d.ip4.Protocol != layers.IPProtocolTCP {
			return decNonTCP
		}
		src, dst := netip.AddrFrom4([4]byte(d.ip4.SrcIP)), netip.AddrFrom4([4]byte(d.ip4.DstIP))
		k := fragKey{src: src, dst: dst, id: uint32(d.ip4.Id), proto: uint8(d.ip4.Protocol)}
		whole, ok := d.frags.add(k, int(d.ip4.FragOffset)*8, d.ip4.Flags&layers.IPv4MoreFragments != 0, d.ip4.Payload, now)
		if !ok {
			return decFragment
		}
		return d.fragTCP(whole, src, dst, p)
	case layers.LayerTypeIPv6Fragment:
		f := &d.ip6frag
		if f.FragmentOffset == 0 && !f.MoreFragments {
			return decNonTCP // atomic fragment of something not TCP
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
		if d.frags.lastProto != uint8(layers.IPProtocolTCP) {
			return decNonTCP
		}
		return d.fragTCP(whole, src, dst, p)
	}
	if net == 0 && err != nil {
		return decError
	}
	return decNonTCP
}

// fragTCP decodes the TCP segment of a reassembled datagram.
func (d *decoder) fragTCP(whole []byte, src, dst netip.Addr, p *pkt) decodeResult {
	if err := d.tcp.DecodeFromBytes(whole, gopacket.NilDecodeFeedback); err != nil {
		return decError
	}
	d.fillTCP(p)
	p.src, p.dst, p.fragmented = src, dst, true
	return decTCP
}

func (d *decoder) fill(net gopacket.LayerType, p *pkt) {
	if net == layers.LayerTypeIPv4 {
		p.src, p.dst = netip.AddrFrom4([4]byte(d.ip4.SrcIP)), netip.AddrFrom4([4]byte(d.ip4.DstIP))
	} else {
		p.src, p.dst = netip.AddrFrom16([16]byte(d.ip6.SrcIP)), netip.AddrFrom16([16]byte(d.ip6.DstIP))
	}
	d.fillTCP(p)
	p.fragmented = false
}

func (d *decoder) fillTCP(p *pkt) {
	t := &d.tcp
	p.sport, p.dport = uint16(t.SrcPort), uint16(t.DstPort)
	p.seq, p.ack = t.Seq, t.Ack
	p.syn, p.ackF, p.fin, p.rst = t.SYN, t.ACK, t.FIN, t.RST
	p.payload = t.Payload
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
