package quic

import (
	"golang.org/x/crypto/cryptobyte"
)

// sampleLen is the size of the header protection sample (RFC 9001 §5.4.2).
const sampleLen = 16

// Opened is a decrypted packet.
type Opened struct {
	// PN is the full packet number (RFC 9000 §17.1, Appendix A.3).
	PN uint64
	// Payload is the plaintext: the frames. It aliases the buffer given
	// to Open.
	Payload []byte
}

// Open removes the header protection (RFC 9001 §5.4) and the packet
// protection (§5.3) of the packet pkt[:h.Len] whose long header h was
// parsed from it, with keys k. largest is the largest packet number
// already received in the packet's number space, or -1, to expand a
// truncated packet number (RFC 9000 §17.1). pkt is not modified: the
// packet is copied into buf (grown when too small), which the returned
// payload aliases. A packet that does not authenticate is ErrDecrypt.
func (k *Keys) Open(buf, pkt []byte, h *Header, largest int64) (Opened, []byte, error) {
	const what = "packet"
	if h.Len > len(pkt) || h.PNOffset <= 0 || h.PNOffset > h.Len {
		return Opened{}, buf, perr(what, "length", ErrTruncated)
	}
	pkt = pkt[:h.Len]
	// RFC 9001 §5.4.2: the sample starts 4 bytes after the start of the
	// Packet Number field, as if it were 4 bytes long.
	if h.PNOffset+4+sampleLen > len(pkt) {
		return Opened{}, buf, perr(what, "header protection sample", ErrTruncated)
	}
	// buf holds the packet, then 16 bytes for the mask and 12 for the
	// nonce: kept there, not on the stack, they need no allocation when
	// passed to the cipher interfaces.
	need := len(pkt) + 16 + 12
	if cap(buf) < need {
		buf = make([]byte, need, need+need/2)
	}
	buf = buf[:need]
	copy(buf, pkt)
	mask, nonce := buf[len(pkt):len(pkt)+16], buf[len(pkt)+16:need]
	buf = buf[:len(pkt)]
	k.hp.Encrypt(mask, buf[h.PNOffset+4:h.PNOffset+4+sampleLen])
	// RFC 9001 §5.4.1: for long headers the four least significant bits
	// of the first byte are protected; the two lowest give the packet
	// number length minus one.
	buf[0] ^= mask[0] & 0x0f
	pnLen := int(buf[0]&0x03) + 1
	var truncated uint64
	for i := range pnLen {
		buf[h.PNOffset+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(buf[h.PNOffset+i])
	}
	pn := decodePacketNumber(largest, truncated, pnLen*8)
	hdrLen := h.PNOffset + pnLen
	if len(buf)-hdrLen < k.aead.Overhead() {
		return Opened{}, buf, perr(what, "authentication tag", ErrTruncated)
	}
	k.putNonce(nonce, pn)
	ct := buf[hdrLen:]
	pt, err := k.aead.Open(ct[:0], nonce, ct, buf[:hdrLen])
	if err != nil {
		return Opened{}, buf, perr(what, "AEAD", ErrDecrypt)
	}
	return Opened{PN: pn, Payload: pt}, buf, nil
}

// decodePacketNumber expands a packet number of pnBits bits
// (RFC 9000 Appendix A.3): the value closest to largest+1.
func decodePacketNumber(largest int64, truncated uint64, pnBits int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << pnBits
	hwin := win / 2
	candidate := (expected &^ (win - 1)) | truncated
	switch {
	case candidate+hwin <= expected && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// InitialPacket describes an Initial packet to build with AppendInitial.
type InitialPacket struct {
	Version    Version
	DCID, SCID []byte
	Token      []byte
	PN         uint64
	// PNLen is the length of the encoded packet number, 1 to 4 bytes; 0
	// means 4.
	PNLen int
	// Payload is the frames; AppendInitial adds PADDING frames when the
	// payload is too short for the header protection sample.
	Payload []byte
}

// AppendInitial appends the Initial packet p to dst, protected with k
// (RFC 9001 §5.3, §5.4), and returns the result. The Length field takes 2
// bytes (4 when the packet is larger than 16,383 bytes), as in RFC 9001
// Appendix A. For tests and fake peers: it writes exactly what it is
// given.
func (k *Keys) AppendInitial(dst []byte, p InitialPacket) ([]byte, error) {
	const what = "Initial"
	vp, ok := paramsOf(p.Version)
	if !ok {
		return nil, perr(what, p.Version.String(), ErrUnsupportedVersion)
	}
	pnLen := p.PNLen
	if pnLen == 0 {
		pnLen = 4
	}
	if pnLen < 1 || pnLen > 4 || len(p.DCID) > MaxCIDLen || len(p.SCID) > MaxCIDLen {
		return nil, perr(what, "header", ErrMalformed)
	}
	payload := p.Payload
	// RFC 9001 §5.4.2: the packet number and payload together must hold
	// at least 4 bytes before the sample; pad with PADDING frames (0x00).
	if pad := 4 - pnLen - len(payload); pad > 0 {
		payload = append(append([]byte(nil), payload...), make([]byte, pad)...)
	}
	length := pnLen + len(payload) + k.aead.Overhead()
	lenBytes := 2
	if length >= 1<<14 {
		lenBytes = 4
	}
	b := cryptobyte.NewBuilder(nil)
	// RFC 9000 §17.2.2: 0b11 (long header, fixed bit), Long Packet Type,
	// Reserved Bits (2) = 0, Packet Number Length (2).
	b.AddUint8(0xc0 | vp.typeBits(PacketInitial)<<4 | uint8(pnLen-1))
	b.AddUint32(uint32(p.Version))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(p.DCID) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(p.SCID) })
	addVarint(b, uint64(len(p.Token)), 0)
	b.AddBytes(p.Token)
	addVarint(b, uint64(length), lenBytes)
	for i := pnLen - 1; i >= 0; i-- {
		b.AddUint8(uint8(p.PN >> (8 * i)))
	}
	hdr, err := b.Bytes()
	if err != nil {
		return nil, perr(what, "header", ErrTooLarge)
	}
	pnOffset := len(hdr) - pnLen
	start := len(dst)
	dst = append(dst, hdr...)
	var nonce [12]byte
	k.putNonce(nonce[:], p.PN)
	dst = k.aead.Seal(dst, nonce[:], payload, dst[start:])
	pkt := dst[start:]
	mask := k.mask(pkt[pnOffset+4 : pnOffset+4+sampleLen])
	pkt[0] ^= mask[0] & 0x0f
	for i := range pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
	}
	return dst, nil
}
