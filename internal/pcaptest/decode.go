package pcaptest

import (
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Segment is the TCP part of one packet.
type Segment struct {
	Frame              int
	Src, Dst           netip.AddrPort
	Seq, Ack           uint32
	SYN, ACK, FIN, RST bool
	// Payload is the TCP payload as captured (it aliases Packet.Data).
	// When the capture was cut by a snap length it is shorter than the
	// sender's, and the reassembler sees the missing bytes as a hole.
	Payload []byte
}

// Transport classifies what DecodeTCP found in a packet.
type Transport int

// Transports.
const (
	TransportOther    Transport = iota // not IP, or IP carrying neither TCP nor UDP
	TransportTCP                       // a TCP segment: the Segment is valid
	TransportUDP                       // UDP (QUIC lives here; out of scope)
	TransportFragment                  // a non-first IPv4/IPv6 fragment, or a first one (not reassembled)
)

// decoderFor maps a capture link type to the gopacket decoder of its first
// layer. The BSD raw link types 12 and 14 are raw IP as 101 is.
func decoderFor(lt layers.LinkType) (gopacket.Decoder, error) {
	switch lt {
	case layers.LinkTypeEthernet, // 802.1Q tags are decoded below Ethernet
		layers.LinkTypeLinuxSLL,
		layers.LinkTypeLinuxSLL2,
		layers.LinkTypeNull, layers.LinkTypeLoop,
		layers.LinkTypeRaw:
		return lt, nil
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, nil
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, nil
	case 12, 14:
		return layers.LinkTypeRaw, nil
	}
	return nil, fmt.Errorf("pcaptest: unsupported link type %v (%d)", lt, int(lt))
}

// DecodeTCP decodes the link, network and transport layers of p. It returns
// the segment when the packet holds TCP over IPv4 or IPv6; the innermost IP
// header before the TCP header gives the addresses.
func DecodeTCP(p Packet) (Segment, Transport, error) {
	dec, err := decoderFor(p.LinkType)
	if err != nil {
		return Segment{}, TransportOther, err
	}
	pkt := gopacket.NewPacket(p.Data, dec, gopacket.DecodeOptions{NoCopy: true})
	var src, dst netip.Addr
	var fragment bool
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, dst = addr(l.SrcIP), addr(l.DstIP)
			fragment = l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0
		case *layers.IPv6:
			src, dst = addr(l.SrcIP), addr(l.DstIP)
			fragment = false
		case *layers.IPv6Fragment:
			fragment = true
		case *layers.UDP:
			if fragment {
				return Segment{}, TransportFragment, nil
			}
			return Segment{}, TransportUDP, nil
		case *layers.TCP:
			if fragment {
				return Segment{}, TransportFragment, nil
			}
			if !src.IsValid() {
				return Segment{}, TransportOther, fmt.Errorf("pcaptest: frame %d: TCP without an IP header", p.Frame)
			}
			return Segment{
				Frame:   p.Frame,
				Src:     netip.AddrPortFrom(src, uint16(l.SrcPort)),
				Dst:     netip.AddrPortFrom(dst, uint16(l.DstPort)),
				Seq:     l.Seq,
				Ack:     l.Ack,
				SYN:     l.SYN,
				ACK:     l.ACK,
				FIN:     l.FIN,
				RST:     l.RST,
				Payload: l.Payload,
			}, TransportTCP, nil
		}
	}
	if fragment {
		return Segment{}, TransportFragment, nil
	}
	if el := pkt.ErrorLayer(); el != nil {
		// A packet that could not be decoded (for example an IP packet
		// cut by the snap length inside the TCP header) is reported, not
		// guessed at.
		return Segment{}, TransportOther, fmt.Errorf("pcaptest: frame %d: %w", p.Frame, el.Error())
	}
	return Segment{}, TransportOther, nil
}

func addr(ip []byte) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a
}
