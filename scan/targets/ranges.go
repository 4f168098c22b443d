package targets

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/scan"
)

// Range is an expanded target expression: a CIDR block or an address
// range, with an optional port and scheme.
type Range struct {
	Input       string
	First, Last netip.Addr // inclusive, same family, First <= Last
	// Bits is the prefix length of a CIDR block, -1 for a range: a block
	// has network and broadcast addresses, a range does not know them.
	Bits     int
	Port     uint16        // 0: the -p ports or the default
	Protocol scan.Protocol // "": by port
}

// Size returns the number of addresses of r (at most MaxRangeAddresses).
func (r Range) Size() uint64 {
	return sub(toU128(r.Last), toU128(r.First)).lo + 1
}

// edge reports whether a is the network or broadcast address of r's IPv4
// block (shorter than /31), or the subnet-router anycast address (the
// first) of its IPv6 block (shorter than /127).
func (r Range) edge(a netip.Addr) bool {
	switch {
	case r.Bits < 0:
		return false
	case r.First.Is4():
		return r.Bits < 31 && (a == r.First || a == r.Last)
	default:
		return r.Bits < 127 && a == r.First
	}
}

// ParseRange parses a CIDR block or an address range (see Stream).
// isRange is false, with a nil error, when s is not range syntax (then it
// may be a single target for ParseTarget).
func ParseRange(s string, opts scan.TargetOptions) (r Range, isRange bool, err error) {
	r = Range{Input: s, Bits: -1}
	body := s
	if i := strings.Index(s, "://"); i >= 0 {
		p := scan.Protocol(strings.ToLower(s[:i]))
		body = s[i+3:]
		if p.DefaultPort() == 0 || !looksLikeRange(body) {
			return Range{}, false, nil // scan.ParseTarget says what is wrong
		}
		r.Protocol = p
	} else if !looksLikeRange(body) {
		return Range{}, false, nil
	}
	fail := func(format string, args ...any) (Range, bool, error) {
		return Range{}, true, fmt.Errorf("%w %q: %s", scan.ErrBadTarget, s, fmt.Sprintf(format, args...))
	}

	// The port: [v6 range]:port, or v4 range:port.
	portStr := ""
	switch {
	case strings.HasPrefix(body, "["):
		end := strings.IndexByte(body, ']')
		if end < 0 {
			return fail("missing ']'")
		}
		rest := body[end+1:]
		body = body[1:end]
		if rest != "" {
			if rest[0] != ':' {
				return fail("unexpected %q after ']' (want :port)", rest)
			}
			portStr = rest[1:]
			if portStr == "" {
				return fail("missing port after ':'")
			}
		}
	case !strings.Contains(body, "::") && strings.Count(body, ":") == 1:
		i := strings.IndexByte(body, ':')
		body, portStr = body[:i], body[i+1:]
		if portStr == "" {
			return fail("missing port after ':'")
		}
	}
	if portStr != "" {
		port, err := scan.ParsePort(portStr)
		if err != nil {
			return fail("%s", err)
		}
		r.Port = port
	}
	if r.Port == 0 && r.Protocol != "" {
		r.Port = r.Protocol.DefaultPort()
	}
	if r.Protocol == "" && opts.STARTTLS != "" {
		r.Protocol = opts.STARTTLS
	}
	if r.Port == 0 && opts.DefaultPort != 0 {
		r.Port = opts.DefaultPort
	}
	if r.Protocol == "" && r.Port != 0 {
		r.Protocol = scan.ProtocolForPort(r.Port)
	}

	if i := strings.IndexByte(body, '/'); i >= 0 {
		pfx, err := netip.ParsePrefix(body)
		if err != nil {
			return fail("invalid CIDR block %q", body)
		}
		if pfx.Addr().Zone() != "" {
			return fail("a CIDR block has no IPv6 zone")
		}
		pfx = pfx.Masked()
		r.First, r.Bits = pfx.Addr(), pfx.Bits()
		r.Last = lastOf(pfx)
	} else {
		i := strings.IndexByte(body, '-')
		first, err := netip.ParseAddr(body[:i])
		if err != nil || first.Zone() != "" {
			return fail("invalid first address %q of the range", body[:i])
		}
		lastStr := body[i+1:]
		var last netip.Addr
		if first.Is4() && lastStr != "" && !strings.ContainsAny(lastStr, ".:") {
			// 10.0.0.1-50: the last octet.
			n, err := strconv.ParseUint(lastStr, 10, 8)
			if err != nil {
				return fail("invalid last octet %q of the range (0-255)", lastStr)
			}
			b := first.As4()
			b[3] = byte(n)
			last = netip.AddrFrom4(b)
		} else if last, err = netip.ParseAddr(lastStr); err != nil || last.Zone() != "" {
			return fail("invalid last address %q of the range", lastStr)
		}
		if first.Is4() != last.Is4() {
			return fail("the range mixes IPv4 and IPv6")
		}
		if last.Less(first) {
			return fail("the range ends (%s) before it starts (%s)", last, first)
		}
		r.First, r.Last = first, last
	}
	if span := sub(toU128(r.Last), toU128(r.First)); span.hi != 0 || span.lo >= MaxRangeAddresses {
		return fail("more than 2^32 addresses (split it, or narrow an IPv6 block to /96 or longer)")
	}
	return r, true, nil
}

// looksLikeRange reports whether s (without scheme) is range syntax: a
// '/' (CIDR) or a '-' after an IP literal.
func looksLikeRange(s string) bool {
	t := strings.TrimPrefix(s, "[")
	if i := strings.IndexByte(t, '/'); i >= 0 {
		// A URL path ("10.0.0.1/index.html") is not a prefix length.
		rest := t[i+1:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || (j < len(rest) && rest[j] != ':' && rest[j] != ']') {
			return false
		}
		_, err := netip.ParseAddr(t[:i])
		return err == nil
	}
	if i := strings.IndexByte(t, '-'); i >= 0 {
		_, err := netip.ParseAddr(t[:i])
		return err == nil
	}
	return false
}

// lastOf returns the last address of a masked prefix.
func lastOf(p netip.Prefix) netip.Addr {
	x := toU128(p.Addr())
	hostBits := 128 - p.Bits()
	if p.Addr().Is4() {
		hostBits = 32 - p.Bits()
	}
	return fromU128(x.or(ones(hostBits)), p.Addr().Is4())
}
