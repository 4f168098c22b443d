package proxyproto

import (
	"bytes"
	"hash/crc32"
	"net/netip"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// castagnoli is the CRC32c table (§2.2.3: RFC 4960 Appendix B).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Parse reads the PROXY protocol header at the start of b and returns it
// with its length in bytes (the proxied protocol starts at b[n:]).
// A strict prefix of a header is ErrNeedMore, bytes that are no PROXY
// header ErrNotProxy, a header that breaks the specification
// ErrMalformed. The header owns its memory: b may be reused.
func Parse(b []byte) (h *Header, n int, err error) {
	switch {
	case hasPrefixOrIsPrefix(b, v2Signature):
		if len(b) < len(v2Signature) {
			return nil, 0, ErrNeedMore
		}
		return parseV2(b)
	case hasPrefixOrIsPrefix(b, v1Prefix):
		if len(b) < len(v1Prefix) {
			return nil, 0, ErrNeedMore
		}
		return parseV1(b)
	}
	return nil, 0, ErrNotProxy
}

// hasPrefixOrIsPrefix reports whether b starts with p, or is a non-empty
// strict prefix of p.
func hasPrefixOrIsPrefix(b []byte, p string) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) < len(p) {
		return string(b) == p[:len(b)]
	}
	return string(b[:len(p)]) == p
}

// Maybe reports whether b could still be, or is, the start of a PROXY
// header: it is empty, a strict prefix of one of the two signatures, or
// starts with one.
func Maybe(b []byte) bool {
	return len(b) == 0 || hasPrefixOrIsPrefix(b, v2Signature) || hasPrefixOrIsPrefix(b, v1Prefix)
}

// parseV1 reads a text header (§2.1): "PROXY", one space, TCP4, TCP6 or
// UNKNOWN, and for TCP4/TCP6 the source and destination addresses and
// ports separated by single spaces, then CRLF, at most 107 bytes in all.
func parseV1(b []byte) (*Header, int, error) {
	end := -1
	for i := 0; i < len(b) && i < v1MaxLen && end < 0; i++ {
		switch b[i] {
		case '\r':
			switch {
			case i+1 >= v1MaxLen:
				return nil, 0, malformed("v1: no CRLF in the first %d bytes", v1MaxLen)
			case i+1 == len(b):
				return nil, 0, ErrNeedMore
			case b[i+1] != '\n':
				return nil, 0, malformed("v1: CR without LF")
			}
			end = i
		case '\n':
			// §2.1: a single CR or LF must not end the line.
			return nil, 0, malformed("v1: LF without CR")
		}
	}
	if end < 0 {
		if len(b) < v1MaxLen {
			return nil, 0, ErrNeedMore
		}
		return nil, 0, malformed("v1: no CRLF in the first %d bytes", v1MaxLen)
	}
	line := b[len(v1Prefix):end]
	n := end + 2
	family, rest, _ := bytes.Cut(line, []byte(" "))
	h := &Header{Version: V1}
	switch string(family) {
	case "UNKNOWN":
		// §2.1: the rest of the line is ignored; the real connection's
		// endpoints apply.
		h.Command, h.Transport = CommandLocal, Unspec
		return h, n, nil
	case "TCP4":
		h.Transport = TCP4
	case "TCP6":
		h.Transport = TCP6
	default:
		return nil, 0, malformed("v1: unknown protocol %q", family)
	}
	h.Command = CommandProxy
	var f [4][]byte
	for i := range f {
		var ok bool
		f[i], rest, ok = bytes.Cut(rest, []byte(" "))
		if ok != (i < 3) {
			return nil, 0, malformed("v1: want 4 fields after %s", h.Transport)
		}
	}
	src, err1 := v1Addr(f[0], h.Transport)
	dst, err2 := v1Addr(f[1], h.Transport)
	sp, err3 := v1Port(f[2])
	dp, err4 := v1Port(f[3])
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return nil, 0, err
		}
	}
	h.Source, h.Destination = netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
	return h, n, nil
}

// v1Addr reads an address in its canonical form (§2.1: IPv4 as four
// decimal numbers without leading zeroes, IPv6 in hex groups with at most
// one "::"), of the family t names.
func v1Addr(b []byte, t Transport) (netip.Addr, error) {
	a, err := netip.ParseAddr(string(b))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, malformed("v1: bad address %q", b)
	}
	if (t == TCP4) != a.Is4() {
		return netip.Addr{}, malformed("v1: address %q is not of family %s", b, t)
	}
	return a, nil
}

// v1Port reads a port: decimal, 0 to 65535, no leading zeroes (§2.1).
func v1Port(b []byte) (uint16, error) {
	if len(b) == 0 || len(b) > 5 || (b[0] == '0' && len(b) > 1) {
		return 0, malformed("v1: bad port %q", b)
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, malformed("v1: bad port %q", b)
		}
	}
	p, err := strconv.ParseUint(string(b), 10, 16)
	if err != nil {
		return 0, malformed("v1: bad port %q", b)
	}
	return uint16(p), nil
}

// parseV2 reads a binary header (§2.2): the signature, the version and
// command byte, the family and transport byte, a 16-bit length and that
// many bytes of addresses and TLVs.
func parseV2(b []byte) (*Header, int, error) {
	s := cryptobyte.String(b)
	var verCmd, fam uint8
	var body cryptobyte.String
	if !s.Skip(len(v2Signature)) || !s.ReadUint8(&verCmd) || !s.ReadUint8(&fam) {
		return nil, 0, ErrNeedMore
	}
	// §2.2: the version nibble must be 2; the command LOCAL or PROXY.
	if verCmd>>4 != 2 {
		return nil, 0, malformed("v2: version %d", verCmd>>4)
	}
	cmd := Command(verCmd & 0x0f)
	if cmd != CommandLocal && cmd != CommandProxy {
		return nil, 0, malformed("v2: command 0x%x", uint8(cmd))
	}
	t := Transport(fam)
	switch t {
	case Unspec, TCP4, UDP4, TCP6, UDP6, UnixStream, UnixDgram:
	default:
		return nil, 0, malformed("v2: family and transport 0x%02x", fam)
	}
	if !s.ReadUint16LengthPrefixed(&body) {
		return nil, 0, ErrNeedMore // the length, or the bytes it counts, are still to come
	}
	n := len(b) - len(s)
	hdr := b[:n]
	h := &Header{Version: V2, Command: cmd, Transport: t}

	// §2.2: addresses in network byte order — source, destination, then
	// the ports. LOCAL discards them (but the length still counts them).
	var addrs cryptobyte.String
	if !body.ReadBytes((*[]byte)(&addrs), t.addrLen()) {
		return nil, 0, malformed("v2: %d address bytes for %s, want %d", len(body), t, t.addrLen())
	}
	if cmd == CommandProxy {
		readAddrs(h, addrs)
	}

	// §2.2: type-length-value vectors fill the rest.
	seen := map[uint8]bool{}
	for !body.Empty() {
		pos := n - len(body)
		var typ uint8
		var val cryptobyte.String
		if !body.ReadUint8(&typ) || !body.ReadUint16LengthPrefixed(&val) {
			return nil, 0, malformed("v2: truncated TLV at byte %d", pos)
		}
		if typ != TypeNoop && typ < TypeMinCustom {
			if seen[typ] {
				return nil, 0, malformed("v2: TLV 0x%02x twice", typ)
			}
			seen[typ] = true
		}
		switch typ {
		case TypeALPN: // §2.2.1
			h.ALPN = bytes.Clone(val)
		case TypeAuthority: // §2.2.2
			h.Authority = string(val)
		case TypeCRC32C: // §2.2.3: the checksum of the header with this field zeroed
			if len(val) != 4 {
				return nil, 0, malformed("v2: CRC32C of %d bytes", len(val))
			}
			if err := checkCRC(hdr, pos+3); err != nil {
				return nil, 0, err
			}
			h.CRC32C = true
		case TypeNoop: // §2.2.4: ignored
		case TypeUniqueID: // §2.2.5: up to 128 bytes
			if len(val) > MaxUniqueID {
				return nil, 0, malformed("v2: unique id of %d bytes (at most %d)", len(val), MaxUniqueID)
			}
			h.UniqueID = bytes.Clone(val)
		case TypeSSL: // §2.2.6
			ssl, err := parseSSL(val)
			if err != nil {
				return nil, 0, err
			}
			h.SSL = ssl
		case TypeNetNS: // §2.2.7
			h.NetNS = string(val)
		default: // custom, experimental, future or unassigned (§2.2.8)
			h.Other = append(h.Other, TLV{Type: typ, Value: bytes.Clone(val)})
		}
	}
	return h, n, nil
}

// readAddrs fills h's endpoints from the address block (§2.2 union
// proxy_addr), whose length the caller checked.
func readAddrs(h *Header, s cryptobyte.String) {
	switch h.Transport {
	case TCP4, UDP4, TCP6, UDP6:
		size := 4
		if h.Transport == TCP6 || h.Transport == UDP6 {
			size = 16
		}
		var src, dst []byte
		var sp, dp uint16
		s.ReadBytes(&src, size)
		s.ReadBytes(&dst, size)
		s.ReadUint16(&sp)
		s.ReadUint16(&dp)
		sa, _ := netip.AddrFromSlice(src)
		da, _ := netip.AddrFromSlice(dst)
		h.Source, h.Destination = netip.AddrPortFrom(sa, sp), netip.AddrPortFrom(da, dp)
	case UnixStream, UnixDgram:
		var src, dst []byte
		s.ReadBytes(&src, 108)
		s.ReadBytes(&dst, 108)
		h.SourcePath, h.DestinationPath = cString(src), cString(dst)
	}
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// checkCRC verifies the CRC32c whose 4 bytes start at off in hdr (§2.2.3:
// computed over the whole header with those bytes zeroed).
func checkCRC(hdr []byte, off int) error {
	want := uint32(hdr[off])<<24 | uint32(hdr[off+1])<<16 | uint32(hdr[off+2])<<8 | uint32(hdr[off+3])
	c := crc32.Update(0, castagnoli, hdr[:off])
	c = crc32.Update(c, castagnoli, []byte{0, 0, 0, 0})
	c = crc32.Update(c, castagnoli, hdr[off+4:])
	if c != want {
		return malformed("v2: CRC32C 0x%08x, computed 0x%08x", want, c)
	}
	return nil
}

// parseSSL reads the value of a PP2_TYPE_SSL TLV (§2.2.6): the client
// flags, the 32-bit verify result and sub-TLVs.
func parseSSL(s cryptobyte.String) (*SSL, error) {
	ssl := &SSL{}
	if !s.ReadUint8(&ssl.Client) || !s.ReadUint32(&ssl.Verify) {
		return nil, malformed("v2: SSL TLV of %d bytes", len(s))
	}
	seen := map[uint8]bool{}
	for !s.Empty() {
		var typ uint8
		var val cryptobyte.String
		if !s.ReadUint8(&typ) || !s.ReadUint16LengthPrefixed(&val) {
			return nil, malformed("v2: truncated SSL sub-TLV")
		}
		if seen[typ] {
			return nil, malformed("v2: SSL sub-TLV 0x%02x twice", typ)
		}
		seen[typ] = true
		switch typ {
		case SubtypeSSLVersion:
			ssl.Version = string(val)
		case SubtypeSSLCN:
			ssl.CN = string(val)
		case SubtypeSSLCipher:
			ssl.Cipher = string(val)
		case SubtypeSSLSigAlg:
			ssl.SigAlg = string(val)
		case SubtypeSSLKeyAlg:
			ssl.KeyAlg = string(val)
		}
	}
	return ssl, nil
}
