package sniff

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
)

// GapKind is a kind of blind spot: something the sniffer saw but could
// not read that could hide a TLS handshake.
type GapKind uint8

// Kinds of gaps, in the order Gaps lists them.
const (
	// GapNotDecoded: frames that did not decode, or of a link type,
	// EtherType or IP protocol not decoded that could carry TLS
	// (harmless ones — ARP, LLDP, ICMP, PPP control … — are not gaps).
	GapNotDecoded GapKind = iota + 1
	// GapFragments: fragmented IP datagrams given up before they were
	// whole.
	GapFragments
	// GapMidStream: TCP connections the capture joined after their
	// hellos (no SYN, no hello seen).
	GapMidStream
	// GapTruncated: TCP connections whose hellos lost bytes (snaplen,
	// a gap, a malformed stream, a limit) or ended inside a hello.
	GapTruncated
	// GapEvicted: TCP connections dropped for room before their hellos.
	GapEvicted
	// GapQUICUndecryptable: UDP flows of a QUIC version whose Initial
	// packets tlsmap cannot decrypt.
	GapQUICUndecryptable
	// GapQUICNoInitial: QUIC flows without a client Initial that
	// decrypted.
	GapQUICNoInitial
	// GapQUICMemory: QUIC datagrams not decrypted for the memory budget.
	GapQUICMemory
	// GapUDPEvicted: UDP flows ended for room.
	GapUDPEvicted
	// GapTruncatedFile: capture files that end inside a record.
	GapTruncatedFile
	// GapCorruptBlock: damaged records or blocks skipped.
	GapCorruptBlock
	// GapCorruptFile: files whose rest was lost to damage.
	GapCorruptFile
	// GapKernelDrops: packets the kernel dropped during a live capture
	// (added by the caller, which reads the kernel's counters).
	GapKernelDrops
)

func (k GapKind) String() string {
	switch k {
	case GapNotDecoded:
		return "not-decoded"
	case GapFragments:
		return "fragments-dropped"
	case GapMidStream:
		return "mid-stream"
	case GapTruncated:
		return "truncated"
	case GapEvicted:
		return "evicted"
	case GapQUICUndecryptable:
		return "quic-undecryptable"
	case GapQUICNoInitial:
		return "quic-no-client-initial"
	case GapQUICMemory:
		return "quic-memory-budget"
	case GapUDPEvicted:
		return "udp-evicted"
	case GapTruncatedFile:
		return "truncated-file"
	case GapCorruptBlock:
		return "corrupt-block"
	case GapCorruptFile:
		return "corrupt-file"
	case GapKernelDrops:
		return "kernel-drops"
	}
	return "gap(?)"
}

// Gap is one blind spot of a run: its kind, how many (frames,
// connections, flows, files … as the kind says) and, where the kind has
// them, the counts by reason ("link type 147", "snaplen", "0x51303530").
type Gap struct {
	Kind  GapKind
	Count uint64
	By    map[string]uint64
}

// Gaps lists what could hide a TLS handshake from these statistics, the
// kinds in order, nothing when nothing could: the difference between "no
// legacy client" and "no legacy client that tlsmap could see".
func (st Stats) Gaps() []Gap {
	var gs []Gap
	add := func(k GapKind, n uint64, by map[string]uint64) {
		if n > 0 {
			gs = append(gs, Gap{Kind: k, Count: n, By: by})
		}
	}
	var nd uint64
	var ndBy map[string]uint64
	for k, n := range st.NotDecoded {
		if k.Harmless() {
			continue
		}
		nd += n
		if ndBy == nil {
			ndBy = map[string]uint64{}
		}
		ndBy[k.String()] += n
	}
	add(GapNotDecoded, nd, ndBy)
	add(GapFragments, st.FragsDropped, nil)
	add(GapMidStream, st.TCP.MidStream, nil)
	add(GapTruncated, st.TCP.Truncated, st.TCP.TruncatedBy)
	add(GapEvicted, st.TCP.Evicted, nil)
	var qu uint64
	var quBy map[string]uint64
	for v, n := range st.QUICFlowsUndecryptable {
		qu += n
		if quBy == nil {
			quBy = map[string]uint64{}
		}
		quBy[fmt.Sprintf("0x%08x", uint32(v))] += n
	}
	add(GapQUICUndecryptable, qu, quBy)
	add(GapQUICNoInitial, st.QUICFlowsNoClientInitial, nil)
	add(GapQUICMemory, st.QUICMemoryCap, nil)
	add(GapUDPEvicted, st.UDPFlowsTooMany, nil)
	add(GapTruncatedFile, st.Truncated, nil)
	add(GapCorruptBlock, st.CorruptBlocks, nil)
	add(GapCorruptFile, st.CorruptFiles, nil)
	return gs
}

// Harmless reports whether frames skipped for this reason cannot carry
// TLS: link-layer control (ARP, RARP, LLDP, 802.1X, 802.3 LLC such as
// spanning tree, PPPoE discovery, PPP's own control protocols) and IP
// protocols of control (ICMP, ICMPv6, IGMP, OSPF, VRRP/CARP, PIM, IPv6
// no-next-header). Everything else — a link type not decoded, an
// EtherType or IP protocol that may encapsulate IP (MACsec, ESP, SCTP …),
// a malformed or cut header — could hide a handshake.
func (k Skip) Harmless() bool {
	switch k.Kind {
	case SkipEtherType:
		switch layers.EthernetType(k.Code) {
		case 0, layers.EthernetTypeARP, 0x8035, layers.EthernetTypeLinkLayerDiscovery, layers.EthernetTypeEAPOL,
			layers.EthernetTypePPPoEDiscovery, layers.EthernetTypeCiscoDiscovery, 0x9000:
			return true
		}
	case SkipPPP:
		switch k.Code {
		case 0xc021, 0xc023, 0xc223, 0x8021, 0x8057, 0x80fd, 0x80fb:
			return true
		}
	case SkipIPProtocol:
		switch layers.IPProtocol(k.Code) {
		case layers.IPProtocolICMPv4, layers.IPProtocolICMPv6, layers.IPProtocolIGMP, layers.IPProtocolNoNextHeader, 89, 103, 112:
			return true
		}
	}
	return false
}
