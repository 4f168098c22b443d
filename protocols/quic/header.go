package quic

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// PacketType is the type of a long header packet.
type PacketType uint8

// Long header packet types (RFC 9000 §17.2, Table 5; RFC 9369 §3.2 numbers
// them differently on the wire). PacketUnknown is a long header of a
// version whose layout the package does not know.
const (
	PacketUnknown PacketType = iota
	PacketInitial
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation
)

func (t PacketType) String() string {
	switch t {
	case PacketInitial:
		return "Initial"
	case Packet0RTT:
		return "0-RTT"
	case PacketHandshake:
		return "Handshake"
	case PacketRetry:
		return "Retry"
	case PacketVersionNegotiation:
		return "Version Negotiation"
	}
	return fmt.Sprintf("packet_type(%d)", uint8(t))
}

// MaxCIDLen is the longest connection ID of QUIC version 1 and 2
// (RFC 9000 §17.2: "MUST NOT exceed 20 bytes"). Other versions may use up
// to 255 bytes (RFC 8999 §5.1).
const MaxCIDLen = 20

// Header is a parsed long header (RFC 9000 §17.2). Byte slices alias the
// input.
type Header struct {
	Type    PacketType
	Version Version
	DCID    []byte
	SCID    []byte
	// Token is the Initial packet's token (RFC 9000 §17.2.2) or the Retry
	// packet's Retry Token (§17.2.5), without its integrity tag.
	Token []byte
	// PNOffset is, for Initial, 0-RTT and Handshake packets, the offset
	// of the (protected) Packet Number field from the start of the packet.
	PNOffset int
	// Len is the length of the whole packet, header included: up to the
	// end of its Length field's span for Initial, 0-RTT and Handshake
	// packets, the rest of the datagram for the others (RFC 9000 §12.2:
	// only packets with a Length field can be followed by another).
	Len int
}

// IsLongHeader reports whether a packet starting with byte b0 has a long
// header (RFC 8999 §5.1: the most significant bit is 1).
func IsLongHeader(b0 byte) bool { return b0&0x80 != 0 }

// ParseLongHeader parses the long header at the start of b, the rest of a
// UDP datagram. The version-independent part (RFC 8999 §5.1) is read for
// any version; the type-specific part only for versions whose layout is
// known (Version.Known), others give PacketUnknown spanning the rest of b.
// A short header (the first bit 0) is ErrMalformed.
func ParseLongHeader(b []byte) (Header, error) {
	const what = "long header"
	var h Header
	s := cryptobyte.String(b)
	var b0 uint8
	var version uint32
	var dcid, scid cryptobyte.String
	// RFC 8999 §5.1: Header Form (1) = 1, Version-Specific Bits (7),
	// Version (32), Destination Connection ID Length (8), Destination
	// Connection ID (0..2040), Source Connection ID Length (8), Source
	// Connection ID (0..2040).
	if !s.ReadUint8(&b0) {
		return h, perr(what, "first byte", ErrTruncated)
	}
	if !IsLongHeader(b0) {
		return h, perr(what, "header form", ErrMalformed)
	}
	if !s.ReadUint32(&version) {
		return h, perr(what, "version", ErrTruncated)
	}
	h.Version = Version(version)
	if !s.ReadUint8LengthPrefixed(&dcid) {
		return h, perr(what, "destination connection id", ErrTruncated)
	}
	if !s.ReadUint8LengthPrefixed(&scid) {
		return h, perr(what, "source connection id", ErrTruncated)
	}
	h.DCID, h.SCID = dcid, scid
	if h.Version == VersionNegotiation {
		// RFC 9000 §17.2.1: Supported Version (32) ... up to the end of
		// the datagram.
		h.Type = PacketVersionNegotiation
		if len(s)%4 != 0 {
			return h, perr(what, "supported versions", ErrMalformed)
		}
		h.Len = len(b)
		return h, nil
	}
	p, ok := paramsOf(h.Version)
	if !ok {
		h.Len = len(b)
		return h, nil
	}
	if len(dcid) > MaxCIDLen || len(scid) > MaxCIDLen {
		return h, perr(what, "connection id length", ErrMalformed)
	}
	// RFC 9000 §17.2: Fixed Bit (1) = 1 — except where the peer
	// advertised grease_quic_bit (RFC 9287 §3), so it is not checked.
	h.Type = p.packetType((b0 >> 4) & 0x03)
	switch h.Type {
	case PacketRetry:
		// RFC 9000 §17.2.5: Retry Token (..), Retry Integrity Tag (128).
		if len(s) < 16 {
			return h, perr(what, "retry integrity tag", ErrTruncated)
		}
		h.Token = s[:len(s)-16]
		h.Len = len(b)
		return h, nil
	case PacketInitial:
		// RFC 9000 §17.2.2: Token Length (i), Token (..).
		var n uint64
		if !readVarint(&s, &n) {
			return h, perr(what, "token length", ErrTruncated)
		}
		if n > uint64(len(s)) {
			return h, perr(what, "token", ErrTruncated)
		}
		var token []byte
		s.ReadBytes(&token, int(n))
		h.Token = token
	}
	// RFC 9000 §17.2.2, §17.2.3, §17.2.4: Length (i), then Packet Number
	// (8..32) and the payload, Length bytes in all.
	var length uint64
	if !readVarint(&s, &length) {
		return h, perr(what, "length", ErrTruncated)
	}
	h.PNOffset = len(b) - len(s)
	if length > uint64(len(s)) {
		return h, perr(what, "length", ErrTruncated)
	}
	h.Len = h.PNOffset + int(length)
	return h, nil
}

// readVarint reads a variable-length integer (RFC 9000 §16): the two most
// significant bits of the first byte give the length, 1, 2, 4 or 8 bytes.
// On failure s is unchanged.
func readVarint(s *cryptobyte.String, v *uint64) bool {
	if len(*s) == 0 {
		return false
	}
	n := 1 << ((*s)[0] >> 6)
	var raw []byte
	if !s.ReadBytes(&raw, n) {
		return false
	}
	x := uint64(raw[0] & 0x3f)
	for _, c := range raw[1:] {
		x = x<<8 | uint64(c)
	}
	*v = x
	return true
}

// addVarint writes v as a variable-length integer (RFC 9000 §16) in its
// shortest form, or in n bytes when n is 2, 4 or 8 and v fits.
func addVarint(b *cryptobyte.Builder, v uint64, n int) {
	if n == 0 {
		switch {
		case v < 1<<6:
			n = 1
		case v < 1<<14:
			n = 2
		case v < 1<<30:
			n = 4
		default:
			n = 8
		}
	}
	switch n {
	case 1:
		b.AddUint8(uint8(v))
	case 2:
		b.AddUint16(uint16(v) | 0x4000)
	case 4:
		b.AddUint32(uint32(v) | 0x80000000)
	default:
		b.AddUint64(v | 0xc000000000000000)
	}
}
