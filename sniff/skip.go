package sniff

import (
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// SkipKind says what stopped the decoding of a frame that yielded no TCP
// segment or UDP datagram.
type SkipKind uint8

// Kinds of undecoded frames. Code is, per kind, the number named.
const (
	// SkipLinkType: the capture's link type (Code) is not decoded.
	SkipLinkType SkipKind = iota + 1
	// SkipEtherType: an EtherType (Code; also the protocol of a Linux
	// SLL header) that carries no IP: ARP, LLDP, PPPoE
	// discovery, 802.3 LLC (Code 0) …
	SkipEtherType
	// SkipGRE: a GRE protocol type (Code, an EtherType) that is not
	// decoded.
	SkipGRE
	// SkipPPP: a PPP protocol (Code) that carries no IP: LCP, IPCP …
	SkipPPP
	// SkipIPProtocol: an IP protocol (Code) neither TCP nor UDP nor a
	// tunnel: ICMP, ESP, OSPF, IPv6 no-next-header …
	SkipIPProtocol
	// SkipLoopback: a BSD loopback header whose address family (Code) is
	// neither IPv4 nor IPv6.
	SkipLoopback
	// SkipMPLSPayload: an MPLS label stack with nothing after it.
	SkipMPLSPayload
	// SkipMalformed: a header (Code: its gopacket layer type) that did
	// not decode, the frame being complete.
	SkipMalformed
	// SkipCut: a header (Code: its layer type) cut short by the capture's
	// snaplen.
	SkipCut
	// SkipEmpty: a record of zero captured bytes.
	SkipEmpty
	// SkipOther: reasons beyond the first maxSkipReasons distinct ones.
	SkipOther
)

// Skip is the reason a frame was not decoded: a kind and its number.
type Skip struct {
	Kind SkipKind
	Code uint32
}

// String names the reason: "link type 147", "ethertype 0x0806 (ARP)",
// "IP protocol 1 (ICMP)", "malformed IPv4 header", "TCP header cut by
// snaplen" …
func (k Skip) String() string {
	switch k.Kind {
	case SkipLinkType:
		return withName(fmt.Sprintf("link type %d", k.Code), layers.LinkType(k.Code).String())
	case SkipEtherType:
		if k.Code == 0 {
			return "802.3 LLC frame"
		}
		return withName(fmt.Sprintf("ethertype 0x%04x", k.Code), layers.EthernetType(k.Code).String())
	case SkipGRE:
		return withName(fmt.Sprintf("GRE protocol 0x%04x", k.Code), layers.EthernetType(k.Code).String())
	case SkipPPP:
		return withName(fmt.Sprintf("PPP protocol 0x%04x", k.Code), pppName(uint16(k.Code)))
	case SkipIPProtocol:
		return withName(fmt.Sprintf("IP protocol %d", k.Code), layers.IPProtocol(k.Code).String())
	case SkipLoopback:
		return fmt.Sprintf("loopback address family %d", k.Code)
	case SkipMPLSPayload:
		return "MPLS label stack without payload"
	case SkipMalformed:
		return "malformed " + gopacket.LayerType(k.Code).String() + " header"
	case SkipCut:
		return gopacket.LayerType(k.Code).String() + " header cut by snaplen"
	case SkipEmpty:
		return "empty record"
	case SkipOther:
		return "other reasons"
	}
	return fmt.Sprintf("reason %d/%d", k.Kind, k.Code)
}

// withName appends gopacket's name of a number unless it is one of its
// "Unknown…" placeholders.
func withName(s, name string) string {
	if name == "" || len(name) >= 7 && name[:7] == "Unknown" {
		return s
	}
	return s + " (" + name + ")"
}

func pppName(p uint16) string {
	switch p {
	case 0xc021:
		return "LCP"
	case 0xc023:
		return "PAP"
	case 0xc223:
		return "CHAP"
	case 0x8021:
		return "IPCP"
	case 0x8057:
		return "IPv6CP"
	case 0x80fd:
		return "CCP"
	}
	return ""
}

// maxSkipReasons bounds the distinct reasons kept; beyond it frames are
// counted under skipOther.
const maxSkipReasons = 256
