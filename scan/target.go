package scan

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tlsmap/tlsmap/protocols"
	_ "github.com/tlsmap/tlsmap/protocols/all" // the protocols scan knows
)

// Protocol is a target's URL scheme: how the connection reaches its TLS
// handshake, at once (implicit TLS) or after a plaintext STARTTLS
// dialogue. Every scheme but ProtoTLS is a scheme of a protocol in the
// protocols registry (protocols.ForScheme), which says its port and form.
type Protocol string

// ProtoTLS is implicit TLS of an unknown application: the scheme "tls",
// and the protocol of a bare target on a port no registered protocol has.
const ProtoTLS Protocol = "tls"

// Schemes of the registered protocols, named for callers that build
// targets in code; the registry is what ParseTarget and the dialer read.
const (
	ProtoHTTPS      Protocol = "https"      // implicit TLS, HTTP, port 443
	ProtoSMTP       Protocol = "smtp"       // SMTP with STARTTLS (RFC 3207), port 25
	ProtoSubmission Protocol = "submission" // SMTP submission with STARTTLS (RFC 6409), port 587
	ProtoSMTPS      Protocol = "smtps"      // SMTP submission over implicit TLS (RFC 8314), port 465
	ProtoIMAP       Protocol = "imap"       // IMAP with STARTTLS (RFC 3501), port 143
	ProtoIMAPS      Protocol = "imaps"      // IMAP over implicit TLS (RFC 8314), port 993
	ProtoPOP3       Protocol = "pop3"       // POP3 with STLS (RFC 2595), port 110
	ProtoPOP3S      Protocol = "pop3s"      // POP3 over implicit TLS (RFC 8314), port 995
)

// String returns the protocol's URL scheme.
func (p Protocol) String() string { return string(p) }

// scheme returns the registered protocol of the scheme and its port and
// form.
func (p Protocol) scheme() (*protocols.Protocol, protocols.Scheme, bool) {
	return protocols.ForScheme(string(p))
}

// STARTTLS reports whether the scheme upgrades a plaintext connection to
// TLS (smtp, submission, imap, pop3) rather than starting with a handshake.
func (p Protocol) STARTTLS() bool {
	_, s, ok := p.scheme()
	return ok && s.Form == protocols.STARTTLS
}

// DefaultPort returns the scheme's well-known port, or 0 for a scheme that
// is not registered. ProtoTLS defaults to 443.
func (p Protocol) DefaultPort() uint16 {
	if p == ProtoTLS {
		return 443
	}
	_, s, _ := p.scheme()
	return s.Port
}

// ALPN returns the ALPN protocols the scheme's hellos offer (the
// registry's Scheme.ALPN: "postgresql" for postgres-direct), nil for
// none.
func (p Protocol) ALPN() []string {
	_, s, _ := p.scheme()
	return s.ALPN
}

func (p Protocol) valid() bool { return p.DefaultPort() != 0 }

// ProtocolForPort guesses the protocol of a target given only a port: the
// scheme whose well-known port it is (25 smtp and 587 submission, both
// STARTTLS; 443 https …), and implicit TLS for any other.
func ProtocolForPort(port uint16) Protocol {
	if _, s, ok := protocols.ForPort(port); ok {
		return Protocol(s.Name)
	}
	return ProtoTLS
}

// STARTTLSProtocols returns the registered STARTTLS schemes, in
// registration order (smtp, submission, imap, pop3).
func STARTTLSProtocols() []Protocol {
	var ps []Protocol
	for _, s := range protocols.Schemes() {
		if s.Form == protocols.STARTTLS {
			ps = append(ps, Protocol(s.Name))
		}
	}
	return ps
}

// orList joins names for a message: "smtp, submission, imap or pop3".
func orList[S ~string](names []S) string {
	var b strings.Builder
	for i, n := range names {
		switch {
		case i == 0:
		case i == len(names)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(n))
	}
	return b.String()
}

// ErrBadTarget is wrapped by every error ParseTarget returns; test for it
// with errors.Is. The wrapping error names the input and what is wrong.
var ErrBadTarget = errors.New("scan: bad target")

// Target is one endpoint to scan, as parsed from the command line or a
// target list. It holds no resolved addresses: ParseTarget does no DNS.
type Target struct {
	Input    string   // as the user wrote it
	Host     string   // name for SNI and reports ("" for an IP literal); lower case, no trailing dot
	Addr     string   // host name or IP literal to dial, without brackets; an IPv6 zone stays attached ("fe80::1%eth0")
	Port     uint16   // never 0 in a parsed Target
	Protocol Protocol // how the connection reaches its handshake
	// Name is the host name as written when a target list resolved it
	// and Addr holds one of its addresses (scan/targets); "" otherwise.
	// String names the target by it.
	Name string
}

// String returns the canonical "scheme://host:port" form of t, which
// ParseTarget reads back to the same Target (but for Input, and for Addr
// when Name is set: the host is then Name, the name as written). IPv6
// literals are bracketed; an IPv6 zone is written "%25zone" as RFC 6874
// asks.
func (t Target) String() string { return string(t.AppendCanonical(nil)) }

// AppendCanonical appends t.String() to b, without allocating when b has
// room (scan/targets hashes it for every target of a sweep).
func (t Target) AppendCanonical(b []byte) []byte {
	p := t.Protocol
	if p == "" {
		p = ProtoTLS
	}
	b = append(b, p...)
	b = append(b, "://"...)
	addr := t.Addr
	if t.Name != "" {
		addr = t.Name
	}
	if !strings.Contains(addr, ":") {
		b = append(b, addr...)
	} else if i := strings.IndexByte(addr, '%'); i >= 0 {
		b = append(append(append(append(b, '['), addr[:i]...), "%25"...), addr[i+1:]...)
		b = append(b, ']')
	} else {
		b = append(append(append(b, '['), addr...), ']')
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(t.Port), 10)
}

// DialAddress returns the "host:port" string to pass to a dialer.
func (t Target) DialAddress() string {
	return net.JoinHostPort(t.Addr, strconv.Itoa(int(t.Port)))
}

// TargetOptions adjusts how ParseTarget fills in what the input leaves out.
type TargetOptions struct {
	// DefaultPort is the port of a target written without one. Zero means
	// the protocol's well-known port (443 for a bare host).
	DefaultPort uint16
	// STARTTLS, when set (--starttls smtp|submission|imap|pop3 …), is the
	// protocol of every target written without a scheme, whatever its port.
	// A scheme in the input wins over it. ProtoAuto (--starttls auto) has
	// the protocol found by ScanTarget; such targets need a port.
	STARTTLS Protocol
}

// ParseTarget parses one target. Accepted forms:
//
//	host                     example.com, mail.example.com.
//	host:port                example.com:8443
//	IPv4[:port]              192.0.2.1, 192.0.2.1:8443
//	[IPv6][:port]            [2001:db8::1]:443, [2001:db8::1]
//	IPv6                     2001:db8::1 (bare, so never with a port)
//	scheme://host[:port][/…] https://example.com/ignored/path
//
// The schemes are "tls" and those of the registered protocols (https,
// smtp, submission, smtps, imap, imaps, pop3, pop3s). A URL's path, query and fragment are ignored;
// credentials (user@) are refused.
//
// Without a scheme, the protocol is opts.STARTTLS when set, otherwise
// ProtocolForPort of the port. Without a port, the port is
// opts.DefaultPort when set, otherwise the protocol's default (a bare host
// is https on 443).
//
// Host names are lowered and checked against the DNS label rules (labels
// of 1–63 letters, digits, hyphens — not first or last — and, as real
// names use them, underscores; at most 253 characters), not resolved.
// Non-ASCII names must be given in their IDNA (xn--) form. An IP literal
// gives Host "" and Addr the canonical literal; the unspecified addresses
// are refused.
//
// IPv6 zones: "fe80::1%eth0" is accepted bare (no port) or bracketed
// ("[fe80::1%eth0]:443"); in a URL the RFC 6874 form "[fe80::1%25eth0]" is
// read too. A zone is letters, digits, '.', '_' and '-' (an interface name
// or index). "fe80::1%eth0:443" is refused: a port after an IPv6 literal
// needs brackets. A bare IPv6 literal ending in a group that looks like a
// port ("2001:db8::1:443") is read as an address, never as address+port.
func ParseTarget(s string, opts TargetOptions) (Target, error) {
	t, reason := parseTarget(s, opts)
	if reason != "" {
		return Target{}, fmt.Errorf("%w %q: %s", ErrBadTarget, s, reason)
	}
	return t, nil
}

// parseTarget does the work of ParseTarget, returning a reason instead of
// an error so that every failure is wrapped the same way, once.
func parseTarget(s string, opts TargetOptions) (Target, string) {
	if s == "" {
		return Target{}, "empty"
	}
	if reason := checkChars(s); reason != "" {
		return Target{}, reason
	}
	if opts.STARTTLS != "" && opts.STARTTLS != ProtoAuto && !opts.STARTTLS.STARTTLS() {
		return Target{}, fmt.Sprintf("--starttls %q is not a STARTTLS protocol (want %s)", string(opts.STARTTLS), orList(STARTTLSProtocols()))
	}

	t := Target{Input: s}
	authority := s
	isURL := false
	if i := strings.Index(s, "://"); i >= 0 {
		isURL = true
		scheme := strings.ToLower(s[:i])
		if scheme == "" {
			return Target{}, "missing scheme before \"://\""
		}
		p := Protocol(scheme)
		if !p.valid() && p != ProtoAuto {
			return Target{}, fmt.Sprintf("unknown scheme %q (want one of %s)", scheme, protocolList())
		}
		t.Protocol = p
		authority = s[i+3:]
		// The authority ends at the path, query or fragment (RFC 3986,
		// section 3.2); whatever follows is ignored.
		if j := strings.IndexAny(authority, "/?#"); j >= 0 {
			authority = authority[:j]
		}
	} else if j := strings.IndexAny(s, "/?#"); j >= 0 {
		return Target{}, fmt.Sprintf("unexpected %q without a scheme (write a URL, e.g. https://host/path)", s[j])
	}
	if strings.Contains(authority, "@") {
		return Target{}, "credentials (user@) are not allowed"
	}
	if authority == "" {
		return Target{}, "missing host"
	}

	host, portStr, hasPort, isIP, reason := splitAuthority(authority, isURL)
	if reason != "" {
		return Target{}, reason
	}
	t.Addr = host
	if !isIP {
		t.Addr = strings.ToLower(host)
		t.Host = strings.TrimSuffix(t.Addr, ".")
	}

	switch {
	case hasPort:
		port, reason := parsePort(portStr)
		if reason != "" {
			return Target{}, reason
		}
		t.Port = port
	case opts.DefaultPort != 0:
		t.Port = opts.DefaultPort
	}
	if t.Protocol == "" {
		switch {
		case opts.STARTTLS != "":
			t.Protocol = opts.STARTTLS
		case t.Port != 0:
			t.Protocol = ProtocolForPort(t.Port)
		default:
			t.Protocol = ProtoHTTPS
		}
	}
	if t.Port == 0 && t.Protocol == ProtoAuto {
		return Target{}, "auto (--starttls auto) needs a port: the protocol is found from what the port answers"
	}
	if t.Port == 0 {
		t.Port = t.Protocol.DefaultPort()
	}
	return t, ""
}

// checkChars refuses whitespace, control characters and non-ASCII input,
// naming the first offender and its byte offset.
func checkChars(s string) string {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			switch {
			case b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f':
				return fmt.Sprintf("contains whitespace %q at byte %d", b, i)
			case b < 0x20 || b == 0x7f:
				return fmt.Sprintf("contains control character %q at byte %d", b, i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("contains invalid UTF-8 at byte %d", i)
		case unicode.IsSpace(r):
			return fmt.Sprintf("contains whitespace %q at byte %d", r, i)
		case unicode.IsControl(r):
			return fmt.Sprintf("contains control character %q at byte %d", r, i)
		}
		return fmt.Sprintf("contains non-ASCII %q at byte %d (give international names in their xn-- form)", r, i)
	}
	return ""
}

// splitAuthority splits "host", "host:port", "[v6]", "[v6]:port" or a bare
// IPv6 literal, and validates the host. host is canonical for IP literals.
func splitAuthority(a string, isURL bool) (host, port string, hasPort, isIP bool, reason string) {
	if a[0] == '[' {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", false, false, "missing ']' after IPv6 literal"
		}
		lit, rest := a[1:end], a[end+1:]
		if isURL {
			// RFC 6874: in a URI the zone separator is written "%25".
			if i := strings.IndexByte(lit, '%'); i >= 0 && strings.HasPrefix(lit[i:], "%25") {
				lit = lit[:i] + "%" + lit[i+3:]
			}
		}
		host, reason = parseIPv6(lit, true)
		if reason != "" {
			return "", "", false, false, reason
		}
		switch {
		case rest == "":
			return host, "", false, true, ""
		case rest[0] == ':':
			return host, rest[1:], true, true, ""
		default:
			return "", "", false, false, fmt.Sprintf("unexpected %q after ']' (want :port)", rest)
		}
	}
	if strings.IndexByte(a, ']') >= 0 {
		return "", "", false, false, "unexpected ']' without '['"
	}

	switch strings.Count(a, ":") {
	case 0:
		host = a
	case 1:
		i := strings.IndexByte(a, ':')
		host, port, hasPort = a[:i], a[i+1:], true
		if host == "" {
			return "", "", false, false, "missing host before ':'"
		}
	default:
		if isURL {
			if _, err := netip.ParseAddr(a); err == nil {
				return "", "", false, false, "an IPv6 literal in a URL must be in brackets: [addr]:port"
			}
			return "", "", false, false, fmt.Sprintf("too many ':' in %q (bracket IPv6 literals: [addr]:port)", a)
		}
		host, reason = parseIPv6(a, false)
		if reason != "" {
			return "", "", false, false, reason
		}
		return host, "", false, true, ""
	}

	if addr, err := netip.ParseAddr(host); err == nil {
		if addr.IsUnspecified() {
			return "", "", false, false, fmt.Sprintf("unspecified address %s is not a target", addr)
		}
		return addr.String(), port, hasPort, true, ""
	}
	if reason := checkHostname(host); reason != "" {
		return "", "", false, false, reason
	}
	return host, port, hasPort, false, ""
}

// parseIPv6 validates an IPv6 literal (with optional zone) and returns its
// canonical text.
func parseIPv6(lit string, bracketed bool) (string, string) {
	if lit == "" {
		return "", "empty IPv6 literal"
	}
	if i := strings.IndexByte(lit, '%'); i >= 0 {
		zone := lit[i+1:]
		if zone == "" {
			return "", "empty IPv6 zone after '%'"
		}
		for j := 0; j < len(zone); j++ {
			c := zone[j]
			if !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				if c == ':' && !bracketed {
					return "", fmt.Sprintf("invalid IPv6 zone %q: a port after an IPv6 literal needs brackets, e.g. [%s]:port", zone, lit[:i+1+j])
				}
				return "", fmt.Sprintf("invalid character %q in IPv6 zone %q", c, zone)
			}
		}
	}
	addr, err := netip.ParseAddr(lit)
	if err != nil {
		if bracketed {
			return "", fmt.Sprintf("invalid IPv6 literal %q", lit)
		}
		return "", fmt.Sprintf("%q is neither host:port nor an IPv6 literal (bracket IPv6 with a port: [addr]:port)", lit)
	}
	if !addr.Is6() {
		return "", fmt.Sprintf("brackets are for IPv6 literals, not %q", lit)
	}
	if addr.IsUnspecified() {
		return "", fmt.Sprintf("unspecified address %s is not a target", addr)
	}
	return addr.String(), ""
}

// checkHostname applies the DNS label rules (RFC 1035 section 2.3.4,
// RFC 1123 section 2.1), tolerating underscores as real names use them.
func checkHostname(h string) string {
	name := strings.TrimSuffix(h, ".")
	if name == "" {
		return "missing host"
	}
	if len(name) > 253 {
		return fmt.Sprintf("host name is %d characters long (at most 253)", len(name))
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return fmt.Sprintf("host name %q has an empty label", h)
		case len(l) > 63:
			return fmt.Sprintf("label %.20q… is %d characters long (at most 63)", l, len(l))
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Sprintf("label %q starts or ends with a hyphen", l)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' && c != '_' {
				return fmt.Sprintf("invalid character %q in host name %q", c, h)
			}
		}
	}
	// An all-numeric last label is no top-level domain: this was meant to
	// be an IPv4 address (RFC 1123 section 2.1; RFC 3696 section 2).
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return fmt.Sprintf("invalid IPv4 address %q", h)
	}
	return ""
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// parsePort reads a decimal port in 1–65535.
// ParsePort reads a TCP port, 1-65535, written in decimal digits only.
func ParsePort(s string) (uint16, error) {
	port, reason := parsePort(s)
	if reason != "" {
		return 0, errors.New(reason)
	}
	return port, nil
}

func parsePort(s string) (uint16, string) {
	if s == "" {
		return 0, "missing port after ':'"
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Sprintf("port %q is not a number", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Sprintf("port %s out of range 1-65535", s)
	}
	return uint16(n), ""
}

// protocolList names every scheme: tls, then the registered ones.
func protocolList() string {
	names := []string{string(ProtoTLS)}
	for _, s := range protocols.Schemes() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}
