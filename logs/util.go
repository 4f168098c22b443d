package logs

import (
	"bytes"
	"net/netip"
	"time"
)

// parseAddr reads an IP address (IPv4 without allocating; IPv6, in
// brackets or not, with a zone dropped). ok is false for anything else,
// "-" and "unknown" included.
func parseAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	if len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']' {
		b = b[1 : len(b)-1]
	}
	if bytes.IndexByte(b, ':') < 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	if i := bytes.IndexByte(b, '%'); i >= 0 {
		b = b[:i]
	}
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// parseIPv4 reads a dotted-quad IPv4 address (no leading zeroes beyond a
// lone "0").
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	n := 0
	for i := 0; i < 4; i++ {
		if i > 0 {
			if n >= len(b) || b[n] != '.' {
				return netip.Addr{}, false
			}
			n++
		}
		v, digits := 0, 0
		for n < len(b) && b[n] >= '0' && b[n] <= '9' && digits < 4 {
			v = v*10 + int(b[n]-'0')
			n++
			digits++
		}
		if digits == 0 || digits > 3 || v > 255 || (digits > 1 && b[n-digits] == '0') {
			return netip.Addr{}, false
		}
		ip[i] = byte(v)
	}
	if n != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// parseAddrPort reads "1.2.3.4:25", "[2001:db8::1]:25", or an address
// without a port (port 0).
func parseAddrPort(b []byte) (netip.AddrPort, bool) {
	if a, ok := parseAddr(b); ok {
		return netip.AddrPortFrom(a, 0), true
	}
	i := bytes.LastIndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, false
	}
	host, port := b[:i], b[i+1:]
	p, ok := atoi(port)
	if !ok || p > 65535 {
		return netip.AddrPort{}, false
	}
	if bytes.IndexByte(host, ':') >= 0 && !(len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']') {
		return netip.AddrPort{}, false // "2001:db8::1:25" is ambiguous
	}
	a, ok := parseAddr(host)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(p)), true
}

// atoi reads a non-negative decimal number of at most 9 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// hexUint reads a hexadecimal number of at most 8 digits, with or without
// "0x".
func hexUint(b []byte) (uint32, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var n uint32
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | uint32(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | uint32(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

// digits reads exactly len(b) decimal digits.
func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// monthKeys are "jan" … "dec" packed in 24 bits, in month order.
var monthKeys = func() [12]uint32 {
	var k [12]uint32
	for i, m := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		k[i] = uint32(m[0])<<16 | uint32(m[1])<<8 | uint32(m[2])
	}
	return k
}()

// monthOf maps "Jan" … "Dec" (any case) to its month.
func monthOf(b []byte) (time.Month, bool) {
	if len(b) != 3 {
		return 0, false
	}
	key := uint32(b[0]|0x20)<<16 | uint32(b[1]|0x20)<<8 | uint32(b[2]|0x20)
	for i, k := range monthKeys {
		if k == key {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// parseISOTime reads an ISO 8601 / RFC 3339 time as logs write it:
// "2026-03-01T12:00:00Z", with a fraction of any length, a zone "Z",
// "+01:00" or "+0100", or none (then loc), and "T" or a space between date
// and time. It returns the time and the bytes it used.
func parseISOTime(b []byte, loc *time.Location) (time.Time, int, bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, 0, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	s, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	n := 19
	ns := 0
	if n < len(b) && (b[n] == '.' || b[n] == ',') {
		n++
		start := n
		scale := 100000000
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			if scale > 0 {
				ns += int(b[n]-'0') * scale
				scale /= 10
			}
			n++
		}
		if n == start {
			return time.Time{}, 0, false
		}
	}
	zone := loc
	switch {
	case n < len(b) && b[n] == 'Z':
		zone = time.UTC
		n++
	case n < len(b) && (b[n] == '+' || b[n] == '-'):
		sign := 1
		if b[n] == '-' {
			sign = -1
		}
		var zh, zm int
		var ok bool
		switch {
		case n+6 <= len(b) && b[n+3] == ':':
			zh, ok = digits(b[n+1 : n+3])
			if ok {
				zm, ok = digits(b[n+4 : n+6])
			}
			n += 6
		case n+5 <= len(b):
			zh, ok = digits(b[n+1 : n+3])
			if ok {
				zm, ok = digits(b[n+3 : n+5])
			}
			n += 5
		}
		if !ok || zh > 23 || zm > 59 {
			return time.Time{}, 0, false
		}
		zone = fixedZone(sign * (zh*3600 + zm*60))
	}
	return time.Date(y, time.Month(mo), d, h, mi, s, ns, zone), n, true
}

// zones caches the fixed zones of UTC offsets.
var zones = map[int]*time.Location{}

func fixedZone(offset int) *time.Location {
	if offset == 0 {
		return time.UTC
	}
	if z, ok := zones[offset]; ok {
		return z
	}
	z := time.FixedZone("", offset)
	if len(zones) < 64 {
		zones[offset] = z
	}
	return z
}

// parseCLFTime reads the Common Log Format time nginx's $time_local,
// Apache's %t (without its brackets) and HAProxy's %T write,
// "01/Mar/2026:12:00:00 +0000", and HAProxy's %t/%tr without a zone,
// "01/Mar/2026:12:00:00.123" (then loc).
func parseCLFTime(b []byte, loc *time.Location) (time.Time, bool) {
	if len(b) < 20 || b[2] != '/' || b[6] != '/' || b[11] != ':' || b[14] != ':' || b[17] != ':' {
		return time.Time{}, false
	}
	d, ok1 := digits(b[0:2])
	mo, ok2 := monthOf(b[3:6])
	y, ok3 := digits(b[7:11])
	h, ok4 := digits(b[12:14])
	mi, ok5 := digits(b[15:17])
	s, ok6 := digits(b[18:20])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	rest := b[20:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			ns += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		rest = rest[i:]
	}
	zone := loc
	if len(rest) == 6 && rest[0] == ' ' && (rest[1] == '+' || rest[1] == '-') {
		zh, ok1 := digits(rest[2:4])
		zm, ok2 := digits(rest[4:6])
		if !ok1 || !ok2 {
			return time.Time{}, false
		}
		off := zh*3600 + zm*60
		if rest[1] == '-' {
			off = -off
		}
		zone = fixedZone(off)
	} else if len(rest) != 0 {
		return time.Time{}, false
	}
	return time.Date(y, mo, d, h, mi, s, ns, zone), true
}

// nextField splits b at the first sep: the field before it and the rest
// after it (rest is nil when sep does not occur).
func nextField(b []byte, sep byte) (field, rest []byte, ok bool) {
	i := bytes.IndexByte(b, sep)
	if i < 0 {
		return b, nil, false
	}
	return b[:i], b[i+1:], true
}

// dash is "" for "-", b otherwise: logs write "-" for an empty value.
func dash(b []byte) []byte {
	if len(b) == 1 && b[0] == '-' {
		return nil
	}
	return b
}

// portProtocol names the application protocol of a server port.
func portProtocol(port uint16) string {
	switch port {
	case 443, 8443:
		return "https"
	case 25, 465, 587:
		return "smtp"
	case 143, 993:
		return "imap"
	case 110, 995:
		return "pop3"
	}
	return ""
}
