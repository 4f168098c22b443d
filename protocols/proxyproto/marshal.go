package proxyproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/netip"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// ErrMarshal is wrapped by every error of Marshal.
var ErrMarshal = errors.New("proxyproto: cannot build header")

// New returns a PROXY header of version v relaying a TCP connection from
// src to dst (TCP4 or TCP6 by the addresses' family; IPv4-mapped IPv6
// addresses count as IPv4).
func New(v Version, src, dst netip.AddrPort) *Header {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	t := TCP6
	if src.Addr().Is4() {
		t = TCP4
	}
	return &Header{Version: v, Command: CommandProxy, Transport: t, Source: src, Destination: dst}
}

// Marshal returns the header's wire form: the text line for V1, the
// binary header with its TLVs for V2 (a CRC32C TLV last when h.CRC32C is
// set). Version 1 carries no TLVs: Marshal refuses a V1 header that has
// some.
func (h *Header) Marshal() ([]byte, error) {
	switch h.Version {
	case V1:
		return h.marshalV1()
	case V2:
		return h.marshalV2()
	}
	return nil, fmt.Errorf("%w: version %d", ErrMarshal, uint8(h.Version))
}

// checkAddrs verifies that the endpoints are of the transport's family.
func (h *Header) checkAddrs() error {
	var want func(netip.Addr) bool
	switch h.Transport {
	case TCP4, UDP4:
		want = netip.Addr.Is4
	case TCP6, UDP6:
		want = func(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }
	default:
		return nil
	}
	for _, ap := range []netip.AddrPort{h.Source, h.Destination} {
		if !ap.IsValid() || !want(ap.Addr()) || ap.Addr().Zone() != "" {
			return fmt.Errorf("%w: endpoint %v is not a %s address", ErrMarshal, ap, h.Transport)
		}
	}
	return nil
}

// marshalV1 builds the text line (§2.1).
func (h *Header) marshalV1() ([]byte, error) {
	if h.hasTLVs() {
		return nil, fmt.Errorf("%w: version 1 carries no TLVs", ErrMarshal)
	}
	if h.Command == CommandLocal || h.Transport == Unspec {
		return []byte(v1Prefix + "UNKNOWN\r\n"), nil
	}
	if h.Transport != TCP4 && h.Transport != TCP6 {
		return nil, fmt.Errorf("%w: version 1 relays TCP4 and TCP6 only, not %s", ErrMarshal, h.Transport)
	}
	if err := h.checkAddrs(); err != nil {
		return nil, err
	}
	b := []byte(v1Prefix + h.Transport.String() + " ")
	b = h.Source.Addr().AppendTo(b)
	b = append(b, ' ')
	b = h.Destination.Addr().AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.Source.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(h.Destination.Port()), 10)
	return append(b, "\r\n"...), nil
}

func (h *Header) hasTLVs() bool {
	return h.ALPN != nil || h.Authority != "" || h.UniqueID != nil || h.NetNS != "" || h.CRC32C ||
		h.SSL != nil || len(h.Other) > 0
}

// marshalV2 builds the binary header (§2.2).
func (h *Header) marshalV2() ([]byte, error) {
	if h.Command != CommandLocal && h.Command != CommandProxy {
		return nil, fmt.Errorf("%w: command 0x%x", ErrMarshal, uint8(h.Command))
	}
	switch h.Transport {
	case Unspec, TCP4, UDP4, TCP6, UDP6, UnixStream, UnixDgram:
	default:
		return nil, fmt.Errorf("%w: transport 0x%02x", ErrMarshal, uint8(h.Transport))
	}
	if h.Command == CommandProxy {
		if err := h.checkAddrs(); err != nil {
			return nil, err
		}
	}
	if len(h.UniqueID) > MaxUniqueID {
		return nil, fmt.Errorf("%w: unique id of %d bytes (at most %d)", ErrMarshal, len(h.UniqueID), MaxUniqueID)
	}
	if len(h.SourcePath) > 108 || len(h.DestinationPath) > 108 {
		return nil, fmt.Errorf("%w: a unix socket path is longer than 108 bytes", ErrMarshal)
	}
	for _, o := range h.Other {
		if known(o.Type) {
			return nil, fmt.Errorf("%w: TLV 0x%02x belongs in its own field, not in Other", ErrMarshal, o.Type)
		}
	}
	var b cryptobyte.Builder
	b.AddBytes([]byte(v2Signature))
	b.AddUint8(0x20 | uint8(h.Command))
	b.AddUint8(uint8(h.Transport))
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		switch h.Transport {
		case TCP4, UDP4, TCP6, UDP6:
			if h.Command == CommandLocal {
				// §2.2: LOCAL carries no meaningful address; the block
				// of the family is there, zeroed.
				b.AddBytes(make([]byte, h.Transport.addrLen()))
				break
			}
			b.AddBytes(h.Source.Addr().AsSlice())
			b.AddBytes(h.Destination.Addr().AsSlice())
			b.AddUint16(h.Source.Port())
			b.AddUint16(h.Destination.Port())
		case UnixStream, UnixDgram:
			var path [108]byte
			if h.Command == CommandLocal {
				b.AddBytes(make([]byte, 216))
				break
			}
			copy(path[:], h.SourcePath)
			b.AddBytes(path[:])
			path = [108]byte{}
			copy(path[:], h.DestinationPath)
			b.AddBytes(path[:])
		}
		tlv := func(b *cryptobyte.Builder, typ uint8, val []byte) {
			b.AddUint8(typ)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(val) })
		}
		if h.ALPN != nil {
			tlv(b, TypeALPN, h.ALPN)
		}
		if h.Authority != "" {
			tlv(b, TypeAuthority, []byte(h.Authority))
		}
		if h.UniqueID != nil {
			tlv(b, TypeUniqueID, h.UniqueID)
		}
		if s := h.SSL; s != nil {
			b.AddUint8(TypeSSL)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(s.Client)
				b.AddUint32(s.Verify)
				for _, sub := range []struct {
					typ uint8
					val string
				}{{SubtypeSSLVersion, s.Version}, {SubtypeSSLCN, s.CN}, {SubtypeSSLCipher, s.Cipher},
					{SubtypeSSLSigAlg, s.SigAlg}, {SubtypeSSLKeyAlg, s.KeyAlg}} {
					if sub.val != "" {
						tlv(b, sub.typ, []byte(sub.val))
					}
				}
			})
		}
		if h.NetNS != "" {
			tlv(b, TypeNetNS, []byte(h.NetNS))
		}
		for _, o := range h.Other {
			tlv(b, o.Type, o.Value)
		}
		if h.CRC32C {
			tlv(b, TypeCRC32C, []byte{0, 0, 0, 0}) // filled in below
		}
	})
	out, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMarshal, err)
	}
	if h.CRC32C {
		// §2.2.3: the checksum of the whole header with its own field
		// zeroed, which it is now.
		binary.BigEndian.PutUint32(out[len(out)-4:], crc32.Checksum(out, castagnoli))
	}
	return out, nil
}

// known reports whether typ is a TLV type Header has a field for.
func known(typ uint8) bool {
	switch typ {
	case TypeALPN, TypeAuthority, TypeCRC32C, TypeUniqueID, TypeSSL, TypeNetNS:
		return true
	}
	return false
}
