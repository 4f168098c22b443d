package sniff

import (
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/crypto/cryptobyte"
)

// Encapsulations gopacket has no DecodingLayer for: PPPoE session frames,
// PPP, and MPLS label stacks. Each decodes in place (no allocation) and
// hands on to the layer its header names; what it cannot hand on is left
// for the decoder to count (decoder.skipReason).

// pppoeLayer decodes a PPPoE header (RFC 2516 §4: VER, TYPE, CODE,
// SESSION_ID, LENGTH). A session frame (CODE 0x00, §5.5) carries one PPP
// frame; a discovery frame (PADI, PADO …) carries tags and ends decoding.
type pppoeLayer struct {
	contents, payload []byte
	code              uint8
}

var errPPPoE = errors.New("sniff: bad PPPoE header")

func (l *pppoeLayer) LayerType() gopacket.LayerType  { return layers.LayerTypePPPoE }
func (l *pppoeLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }
func (l *pppoeLayer) LayerContents() []byte          { return l.contents }
func (l *pppoeLayer) LayerPayload() []byte           { return l.payload }

func (l *pppoeLayer) NextLayerType() gopacket.LayerType {
	if l.code != 0 {
		return gopacket.LayerTypeZero
	}
	return layers.LayerTypePPP
}

func (l *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(data)
	var verType, code uint8
	var session, length uint16
	// RFC 2516 §4: VER and TYPE are both 1.
	if !s.ReadUint8(&verType) || !s.ReadUint8(&code) || !s.ReadUint16(&session) || !s.ReadUint16(&length) {
		df.SetTruncated()
		return errPPPoE
	}
	if verType != 0x11 {
		return errPPPoE
	}
	n := len(data) - len(s)
	end := n + int(length)
	if end > len(data) {
		// The frame was cut (snaplen): decode what is there.
		df.SetTruncated()
		end = len(data)
	}
	l.contents, l.payload, l.code = data[:n], data[n:end], code
	return nil
}

// pppLayer decodes a PPP frame's protocol field (RFC 1661 §2: one or two
// bytes, the last one odd), after the HDLC-like address and control bytes
// 0xFF 0x03 when present (RFC 1662 §3.1, link types PPP and PPP_HDLC).
type pppLayer struct {
	contents, payload []byte
	proto             uint16
}

var errPPP = errors.New("sniff: bad PPP header")

// PPP protocol numbers (RFC 1332, RFC 5072, RFC 3032 §5).
const (
	pppIPv4          = 0x0021
	pppIPv6          = 0x0057
	pppMPLSUnicast   = 0x0281
	pppMPLSMulticast = 0x0283
)

func (l *pppLayer) LayerType() gopacket.LayerType  { return layers.LayerTypePPP }
func (l *pppLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPP }
func (l *pppLayer) LayerContents() []byte          { return l.contents }
func (l *pppLayer) LayerPayload() []byte           { return l.payload }

func (l *pppLayer) NextLayerType() gopacket.LayerType {
	switch l.proto {
	case pppIPv4:
		return layers.LayerTypeIPv4
	case pppIPv6:
		return layers.LayerTypeIPv6
	case pppMPLSUnicast, pppMPLSMulticast:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypeZero
}

func (l *pppLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(data)
	// RFC 1662 §3.1: All-Stations address 0xFF, Unnumbered Information
	// control 0x03 (absent with address-and-control-field compression).
	if len(s) >= 2 && s[0] == 0xff && s[1] == 0x03 {
		s.Skip(2)
	}
	var b uint8
	if !s.ReadUint8(&b) {
		df.SetTruncated()
		return errPPP
	}
	proto := uint16(b)
	if b&1 == 0 { // RFC 1661 §2: a two-byte field (no protocol-field compression)
		if !s.ReadUint8(&b) {
			df.SetTruncated()
			return errPPP
		}
		if b&1 == 0 {
			return errPPP
		}
		proto = proto<<8 | uint16(b)
	}
	n := len(data) - len(s)
	l.contents, l.payload, l.proto = data[:n], data[n:], proto
	return nil
}

// mplsLayer decodes a whole MPLS label stack (RFC 3032 §2.1: label 20
// bits, traffic class 3, bottom of stack 1, TTL 8; entries repeat until
// the bottom-of-stack bit). MPLS does not say what it carries; as routers
// and Wireshark do, the first nibble after the stack tells: 4 IPv4, 6
// IPv6, 0 a pseudowire control word (RFC 4385 §3) before an Ethernet frame
// (RFC 4448), anything else an Ethernet frame without control word.
type mplsLayer struct {
	contents, payload []byte
	next              gopacket.LayerType
	labels            int
}

var errMPLS = errors.New("sniff: bad MPLS label stack")

func (l *mplsLayer) LayerType() gopacket.LayerType     { return layers.LayerTypeMPLS }
func (l *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (l *mplsLayer) LayerContents() []byte             { return l.contents }
func (l *mplsLayer) LayerPayload() []byte              { return l.payload }
func (l *mplsLayer) NextLayerType() gopacket.LayerType { return l.next }

func (l *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	s := cryptobyte.String(data)
	l.labels = 0
	for {
		var entry uint32
		if !s.ReadUint32(&entry) {
			df.SetTruncated()
			return errMPLS
		}
		l.labels++
		if entry&0x100 != 0 { // S: bottom of stack
			break
		}
	}
	l.next = gopacket.LayerTypeZero
	if len(s) > 0 {
		switch s[0] >> 4 {
		case 4:
			l.next = layers.LayerTypeIPv4
		case 6:
			l.next = layers.LayerTypeIPv6
		case 0:
			// RFC 4385 §3: the control word is 4 bytes, first nibble 0.
			if !s.Skip(4) {
				df.SetTruncated()
				return errMPLS
			}
			l.next = layers.LayerTypeEthernet
		default:
			l.next = layers.LayerTypeEthernet
		}
	}
	n := len(data) - len(s)
	l.contents, l.payload = data[:n], data[n:]
	return nil
}
