// Package socks recognises TLS carried through a SOCKS proxy: SOCKS4,
// its 4a extension (a host name instead of an address) and SOCKS5 (RFC
// 1928, with the username/password method of RFC 1929). The client asks
// the proxy to connect to a destination, the proxy grants it, and from
// then on the connection carries the client's TLS with that destination.
// It is sniff's only: the Protocols have Recognize alone (no scheme, no
// Upgrade). Each version is its own Protocol, so that a flow is labelled
// with the one it spoke.
//
// SOCKS4 and 4a have no RFC; their reference is "SOCKS: A protocol for
// TCP proxy across firewalls" (Ying-Da Lee, NEC) and "SOCKS 4A: A Simple
// Extension to SOCKS 4 Protocol", cited below as SOCKS4 and SOCKS4A.
package socks

import (
	"net/netip"
	"strconv"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Names of the three protocols.
const (
	Name4  = "socks4"
	Name4a = "socks4a"
	Name5  = "socks5"
)

// The Protocols, for the registry.
var (
	Protocol4  = &protocols.Protocol{Name: Name4, ClientFirst: true, Recognize: Recognize4}
	Protocol4a = &protocols.Protocol{Name: Name4a, ClientFirst: true, Recognize: Recognize4a}
	Protocol5  = &protocols.Protocol{Name: Name5, ClientFirst: true, Recognize: Recognize5}
)

// maxName bounds a SOCKS4 USERID and a SOCKS4A host name (the protocol
// sets none; proxies allow a few hundred bytes).
const maxName = 1024

// verdict is what a message's bytes say so far.
type verdict uint8

const (
	ok verdict = iota
	more
	bad
)

// read applies a chain of cryptobyte reads: ok when all succeeded, more
// when the input ran out (the message may still arrive whole).
func read(s *cryptobyte.String, reads ...func(*cryptobyte.String) bool) verdict {
	for _, r := range reads {
		if !r(s) {
			return more
		}
	}
	return ok
}

func u8(v *uint8) func(*cryptobyte.String) bool {
	return func(s *cryptobyte.String) bool { return s.ReadUint8(v) }
}

func u16(v *uint16) func(*cryptobyte.String) bool {
	return func(s *cryptobyte.String) bool { return s.ReadUint16(v) }
}

func bytesN(v *[]byte, n int) func(*cryptobyte.String) bool {
	return func(s *cryptobyte.String) bool { return s.ReadBytes(v, n) }
}

// cstring reads a NUL-terminated string of at most maxName bytes.
func cstring(s *cryptobyte.String, v *[]byte) verdict {
	for i, c := range *s {
		if c == 0 {
			*v = (*s)[:i]
			s.Skip(i + 1)
			return ok
		}
		if i >= maxName {
			return bad
		}
	}
	if len(*s) > maxName {
		return bad
	}
	return more
}

// request4 is a SOCKS4 CONNECT request.
type request4 struct {
	port uint16
	ip   [4]byte
	host []byte // SOCKS4A: the destination's name
	end  int
}

// readRequest4 reads a SOCKS4 request (SOCKS4 "CONNECT": VN 4, CD 1 or 2,
// DSTPORT, DSTIP, USERID, NUL). SOCKS4A: a DSTIP of 0.0.0.x with x not 0
// says a host name follows the USERID's NUL, itself NUL-terminated.
func readRequest4(b []byte) (request4, verdict) {
	s := cryptobyte.String(b)
	var vn, cd uint8
	var r request4
	var ip []byte
	if v := read(&s, u8(&vn), u8(&cd)); v != ok || vn != 4 {
		return r, worse(v, vn != 4 && len(b) > 0)
	}
	if cd != 1 && cd != 2 {
		return r, bad
	}
	if v := read(&s, u16(&r.port), bytesN(&ip, 4)); v != ok {
		return r, v
	}
	copy(r.ip[:], ip)
	var user []byte
	if v := cstring(&s, &user); v != ok {
		return r, v
	}
	if ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0 {
		if v := cstring(&s, &r.host); v != ok {
			return r, v
		}
		if len(r.host) == 0 {
			return r, bad
		}
	}
	if cd != 1 {
		// BIND (CD 2) waits for a connection from the destination: not
		// a client's tunnel.
		return r, bad
	}
	r.end = len(b) - len(s)
	return r, ok
}

// worse is bad when isBad, else v (the input may be short).
func worse(v verdict, isBad bool) verdict {
	if isBad {
		return bad
	}
	return v
}

// reply4 reads a SOCKS4 reply (VN 0, CD 90 granted or 91–93 rejected,
// DSTPORT, DSTIP: 8 bytes). Some proxies answer VN 4; accepted.
func reply4(b []byte) (cd uint8, v verdict) {
	s := cryptobyte.String(b)
	var vn uint8
	var rest []byte
	if v := read(&s, u8(&vn), u8(&cd), bytesN(&rest, 6)); v != ok {
		if len(b) >= 1 && vn != 0 && vn != 4 || len(b) >= 2 && (cd < 90 || cd > 93) {
			return 0, bad
		}
		return 0, v
	}
	if vn != 0 && vn != 4 || cd < 90 || cd > 93 {
		return 0, bad
	}
	return cd, ok
}

// Recognize4 recognises a SOCKS4 tunnel to an IPv4 address.
func Recognize4(c2s, s2c []byte) protocols.Recognition { return recognize4(Name4, false, c2s, s2c) }

// Recognize4a recognises a SOCKS4A tunnel to a host name.
func Recognize4a(c2s, s2c []byte) protocols.Recognition { return recognize4(Name4a, true, c2s, s2c) }

func recognize4(name string, wantHost bool, c2s, s2c []byte) protocols.Recognition {
	req, v := readRequest4(c2s)
	switch {
	case v == bad:
		return plaintext.NotThis(name, "client does not send a SOCKS4 CONNECT")
	case v == more:
		return protocols.Recognition{Protocol: name, State: protocols.NeedMore}
	case (req.host != nil) != wantHost:
		return plaintext.NotThis(name, "the other SOCKS4 flavour")
	}
	cd, v := reply4(s2c)
	switch v {
	case bad:
		return plaintext.NotThis(name, "proxy does not answer SOCKS4")
	case more:
		return protocols.Recognition{Protocol: name, State: protocols.NeedMore}
	}
	target := netip.AddrPortFrom(netip.AddrFrom4(req.ip), req.port).String()
	if wantHost {
		target = hostPort(req.host, req.port)
	}
	if cd != 90 {
		// SOCKS4: 91 rejected or failed, 92 no identd, 93 identd mismatch.
		return protocols.Recognition{Protocol: name, State: protocols.Plaintext, Reason: "request refused: code " + strconv.Itoa(int(cd))}
	}
	r := plaintext.Upgraded(name, "CONNECT", c2s, s2c, req.end, 8)
	r.Target = target
	return r
}

// hostPort is "host:port" of a host name (sanitised; an IPv6 literal in
// brackets).
func hostPort(host []byte, port uint16) string {
	h := plaintext.Sanitize(host)
	if a, err := netip.ParseAddr(h); err == nil && a.Is6() {
		return netip.AddrPortFrom(a, port).String()
	}
	return h + ":" + strconv.Itoa(int(port))
}

// SOCKS5 method codes (RFC 1928 §3).
const (
	methodNone     = 0x00
	methodGSSAPI   = 0x01
	methodPassword = 0x02
	methodRefused  = 0xff
)

// Recognize5 recognises a SOCKS5 tunnel (RFC 1928): the method
// negotiation (§3), a username/password sub-negotiation when chosen (RFC
// 1929 §2), the CONNECT request (§4) and its reply (§6). The proxy must
// choose a method the client offered. A refused method, failed
// authentication or refused request leaves the flow Plaintext with the
// reason; GSSAPI (RFC 1961) is not followed.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize5(c2s, s2c []byte) protocols.Recognition {
	need := protocols.Recognition{Protocol: Name5, State: protocols.NeedMore}
	plain := func(reason string) protocols.Recognition {
		return protocols.Recognition{Protocol: Name5, State: protocols.Plaintext, Reason: reason}
	}
	c, s := cryptobyte.String(c2s), cryptobyte.String(s2c)

	// §3: VER 5, NMETHODS, METHODS; the answer VER 5, METHOD.
	var ver, n, method uint8
	var methods []byte
	if v := read(&c, u8(&ver)); v != ok {
		return need
	}
	if ver != 5 {
		return plaintext.NotThis(Name5, "client does not send a SOCKS5 greeting")
	}
	if v := read(&c, u8(&n)); v != ok {
		return need
	}
	if n == 0 {
		return plaintext.NotThis(Name5, "SOCKS5 greeting without methods")
	}
	if v := read(&c, bytesN(&methods, int(n))); v != ok {
		return need
	}
	if v := read(&s, u8(&ver)); v != ok {
		return need
	}
	if ver != 5 {
		return plaintext.NotThis(Name5, "proxy does not answer SOCKS5")
	}
	if v := read(&s, u8(&method)); v != ok {
		return need
	}
	offered := false
	for _, m := range methods {
		offered = offered || m == method
	}
	switch {
	case method == methodRefused:
		return plain("no acceptable authentication method")
	case !offered:
		return plaintext.NotThis(Name5, "proxy chose a method the client did not offer")
	case method == methodPassword:
		// RFC 1929 §2: VER 1, ULEN, UNAME, PLEN, PASSWD; the answer VER
		// 1, STATUS (0 is success).
		var sub, ulen, plen, status uint8
		var user, pass []byte
		if v := read(&c, u8(&sub)); v != ok {
			return need
		}
		if sub != 1 {
			return plain("username/password negotiation of version " + strconv.Itoa(int(sub)))
		}
		// (Each length is read before the bytes it counts.)
		if v := read(&c, u8(&ulen)); v != ok {
			return need
		}
		if v := read(&c, bytesN(&user, int(ulen)), u8(&plen)); v != ok {
			return need
		}
		if v := read(&c, bytesN(&pass, int(plen))); v != ok {
			return need
		}
		if v := read(&s, u8(&sub), u8(&status)); v != ok {
			return need
		}
		if status != 0 {
			return plain("authentication failed")
		}
	case method != methodNone:
		return plain("authentication method 0x" + strconv.FormatUint(uint64(method), 16) + " not followed")
	}

	// §4: VER 5, CMD, RSV 0, ATYP, DST.ADDR, DST.PORT.
	var cmd, rsv uint8
	var target string
	if v := read(&c, u8(&ver)); v != ok {
		return need
	}
	if ver != 5 {
		return plain("no SOCKS5 request after the negotiation")
	}
	if v := read(&c, u8(&cmd), u8(&rsv)); v != ok {
		return need
	}
	switch v := readAddr(&c, &target); {
	case v == more:
		return need
	case v == bad || rsv != 0:
		return plain("malformed SOCKS5 request")
	}
	co := len(c2s) - len(c)

	// §6: VER 5, REP, RSV, ATYP, BND.ADDR, BND.PORT.
	var rep uint8
	var bound string
	if v := read(&s, u8(&ver), u8(&rep), u8(&rsv)); v != ok {
		return need
	}
	if ver != 5 {
		return plain("no SOCKS5 reply to the request")
	}
	switch v := readAddr(&s, &bound); v {
	case more:
		return need
	case bad:
		return plain("malformed SOCKS5 reply")
	}
	so := len(s2c) - len(s)
	if cmd != 1 {
		// BIND and UDP ASSOCIATE: no tunnel of the client's stream.
		return plain("request " + strconv.Itoa(int(cmd)) + " is not CONNECT")
	}
	if rep != 0 {
		return plain("request refused: " + replyName(rep))
	}
	r := plaintext.Upgraded(Name5, "CONNECT", c2s, s2c, co, so)
	r.Target = target
	return r
}

// readAddr reads ATYP, the address and the port (RFC 1928 §5: 1 IPv4, 3
// a domain name with a length byte, 4 IPv6).
func readAddr(s *cryptobyte.String, target *string) verdict {
	var atyp, n uint8
	var addr []byte
	var port uint16
	if v := read(s, u8(&atyp)); v != ok {
		return v
	}
	switch atyp {
	case 1:
		if v := read(s, bytesN(&addr, 4), u16(&port)); v != ok {
			return v
		}
		*target = netip.AddrPortFrom(netip.AddrFrom4([4]byte(addr)), port).String()
	case 4:
		if v := read(s, bytesN(&addr, 16), u16(&port)); v != ok {
			return v
		}
		*target = netip.AddrPortFrom(netip.AddrFrom16([16]byte(addr)), port).String()
	case 3:
		if v := read(s, u8(&n)); v != ok {
			return v
		}
		if v := read(s, bytesN(&addr, int(n)), u16(&port)); v != ok {
			return v
		}
		if n == 0 {
			return bad
		}
		*target = hostPort(addr, port)
	default:
		return bad
	}
	return ok
}

// replyName names a SOCKS5 reply code (RFC 1928 §6).
func replyName(rep uint8) string {
	switch rep {
	case 1:
		return "general SOCKS server failure"
	case 2:
		return "connection not allowed by ruleset"
	case 3:
		return "network unreachable"
	case 4:
		return "host unreachable"
	case 5:
		return "connection refused"
	case 6:
		return "TTL expired"
	case 7:
		return "command not supported"
	case 8:
		return "address type not supported"
	}
	return "code " + strconv.Itoa(int(rep))
}
