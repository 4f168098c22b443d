package logs

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// access reads web and proxy access logs in the format the server was
// configured with: nginx's log_format ($variables), Apache's LogFormat
// (%directives) or HAProxy's log-format (%fields). The format string is
// compiled into literals and fields; a line is matched left to right, each
// field ending where the next literal begins. Fields tlsmap does not read
// are matched and skipped.
type access struct {
	kind   Kind
	elems  []accessElem
	http   bool // the format logs HTTP requests (HAProxy: %r, %ST …)
	hasAny [nAccessFields]bool
	sys    syslogParser
	vals   [nAccessFields][]byte
	escape bool // values escape '"' with '\' (Apache)
}

// accessField is what a field of the format holds.
type accessField uint8

const (
	afSkip       accessField = iota
	afClient                 // the client's address (or host name)
	afClientPort             // its port
	afPeer                   // the connection's own peer, when afClient is a forwarded-for address
	afProxy                  // the source address of a PROXY protocol header
	afServer                 // the server's address
	afServerPort             // its port
	afTimeCLF                // "01/Mar/2026:12:00:00 +0000", Apache's in brackets
	afTimeISO                // "2026-03-01T12:00:00+00:00"
	afTimeEpoch              // "1772366400.123"
	afUser                   // the authenticated user
	afUA                     // User-Agent
	afHost                   // the host asked for (Host, SNI, server name)
	afProtocol               // the TLS version ("-" on plain HTTP)
	afCipher                 // the TLS cipher
	afXFF                    // X-Forwarded-For
	afForwarded              // Forwarded
	afTLSHeader              // Config.TLSHeader
	nAccessFields
)

// accessElem is a literal or a field of a compiled format.
type accessElem struct {
	literal string
	lit     []byte // literal, for matching
	field   accessField
	isField bool
}

// compileAccess compiles a format string of kind k; tlsHeader is
// Config.TLSHeader.
func compileAccess(k Kind, pattern, tlsHeader string) (*access, error) {
	a := &access{kind: k, escape: k == KindApache}
	var err error
	switch k {
	case KindNginx:
		err = a.compileNginx(pattern, tlsHeader)
	case KindApache:
		err = a.compileApache(pattern, tlsHeader)
	case KindHAProxy:
		err = a.compileHAProxy(pattern, tlsHeader)
	default:
		return nil, fmt.Errorf("%w: %s has no format string", ErrFormat, k)
	}
	if err != nil {
		return nil, err
	}
	// Merge adjacent literals; refuse two fields with nothing between.
	var out []accessElem
	for _, e := range a.elems {
		if n := len(out); n > 0 && !e.isField && !out[n-1].isField {
			out[n-1].literal += e.literal
			continue
		}
		if n := len(out); n > 0 && e.isField && out[n-1].isField {
			return nil, fmt.Errorf("%w: %s format %q: two fields with nothing between them cannot be told apart", ErrFormat, k, pattern)
		}
		if !e.isField && e.literal == "" {
			continue
		}
		e.lit = []byte(e.literal)
		out = append(out, e)
		if e.isField {
			a.hasAny[e.field] = true
		}
	}
	a.elems = out
	if !a.hasAny[afClient] && !a.hasAny[afProxy] {
		return nil, fmt.Errorf("%w: %s format %q logs no client address (%s)", ErrFormat, k, pattern, clientHint[k])
	}
	if !a.hasAny[afProtocol] && !a.hasAny[afTLSHeader] {
		return nil, fmt.Errorf("%w: %s format %q logs no TLS version (%s)", ErrFormat, k, pattern, protocolHint[k])
	}
	return a, nil
}

var clientHint = map[Kind]string{KindNginx: "$remote_addr", KindApache: "%a or %h", KindHAProxy: "%ci"}
var protocolHint = map[Kind]string{KindNginx: "$ssl_protocol", KindApache: "%{SSL_PROTOCOL}x", KindHAProxy: "%sslv"}

func (a *access) lit(s string) { a.elems = append(a.elems, accessElem{literal: s}) }
func (a *access) field(f accessField) {
	a.elems = append(a.elems, accessElem{field: f, isField: true})
}

// headerVar is nginx's variable name for a request header:
// "X-SSL-Protocol" → "http_x_ssl_protocol".
func headerVar(h string) string {
	return "http_" + strings.ToLower(strings.ReplaceAll(h, "-", "_"))
}

// compileNginx reads an nginx log_format: $name or ${name} variables,
// the rest literal.
func (a *access) compileNginx(p, tlsHeader string) error {
	vars := map[string]accessField{
		"remote_addr": afClient, "remote_port": afClientPort, "realip_remote_addr": afPeer,
		"proxy_protocol_addr": afProxy, "server_addr": afServer, "server_port": afServerPort,
		"time_local": afTimeCLF, "time_iso8601": afTimeISO, "msec": afTimeEpoch,
		"remote_user": afUser, "http_user_agent": afUA,
		"host": afHost, "http_host": afHost, "server_name": afHost, "ssl_server_name": afHost,
		"ssl_protocol": afProtocol, "ssl_cipher": afCipher,
		"http_x_forwarded_for": afXFF, "http_forwarded": afForwarded,
	}
	if tlsHeader != "" {
		vars[headerVar(tlsHeader)] = afTLSHeader
	}
	var lit strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '$' {
			lit.WriteByte(p[i])
			i++
			continue
		}
		var name string
		if i+1 < len(p) && p[i+1] == '{' {
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				return fmt.Errorf("%w: nginx format: unclosed ${", ErrFormat)
			}
			name, i = p[i+2:i+end], i+end+1
		} else {
			j := i + 1
			for j < len(p) && (isAlnum(p[j]) || p[j] == '_') {
				j++
			}
			if j == i+1 {
				lit.WriteByte('$')
				i++
				continue
			}
			name, i = p[i+1:j], j
		}
		a.lit(lit.String())
		lit.Reset()
		a.field(vars[name])
	}
	a.lit(lit.String())
	return nil
}

// compileApache reads an Apache LogFormat: %[<>][conditions][{arg}]X
// directives, "%%" a percent sign, and the config file's \" and \\
// escapes undone.
func (a *access) compileApache(p, tlsHeader string) error {
	p = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\t`, "\t").Replace(p)
	var lit strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '%' {
			lit.WriteByte(p[i])
			i++
			continue
		}
		i++
		if i < len(p) && p[i] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		for i < len(p) && (p[i] == '<' || p[i] == '>' || p[i] == '!' || p[i] == ',' || (p[i] >= '0' && p[i] <= '9')) {
			i++
		}
		arg := ""
		if i < len(p) && p[i] == '{' {
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				return fmt.Errorf("%w: apache format: unclosed %%{", ErrFormat)
			}
			arg, i = p[i+1:i+end], i+end+1
		}
		if i >= len(p) {
			return fmt.Errorf("%w: apache format: %% at the end", ErrFormat)
		}
		d := p[i]
		i++
		f := afSkip
		switch d {
		case 'a':
			f = afClient
			if arg == "c" {
				f = afPeer
			}
		case 'h':
			f = afClient
			if arg == "c" {
				f = afPeer
			}
		case 'A':
			f = afServer
		case 'p':
			if arg == "" || arg == "canonical" || arg == "local" {
				f = afServerPort
			} else if arg == "remote" {
				f = afClientPort
			}
		case 't':
			if arg == "" {
				f = afTimeCLF
			} else if arg == "sec" {
				f = afTimeEpoch
			}
		case 'u':
			f = afUser
		case 'v', 'V':
			f = afHost
		case 'i':
			switch strings.ToLower(arg) {
			case "user-agent":
				f = afUA
			case "host":
				f = afHost
			case "x-forwarded-for":
				f = afXFF
			case "forwarded":
				f = afForwarded
			default:
				if tlsHeader != "" && strings.EqualFold(arg, tlsHeader) {
					f = afTLSHeader
				}
			}
		case 'x', 'e':
			switch arg {
			case "SSL_PROTOCOL":
				f = afProtocol
			case "SSL_CIPHER":
				f = afCipher
			case "SSL_TLS_SNI":
				f = afHost
			}
		}
		a.lit(lit.String())
		lit.Reset()
		a.field(f)
	}
	a.lit(lit.String())
	return nil
}

// compileHAProxy reads an HAProxy log-format: %[{flags}]name or
// %[{flags}][sample,converters], "%%" a percent sign, "\ " a space; the
// +Q flag quotes a value.
func (a *access) compileHAProxy(p, tlsHeader string) error {
	p = strings.NewReplacer(`\ `, " ", `\"`, `"`, `\#`, "#").Replace(p)
	names := map[string]accessField{
		"ci": afClient, "cp": afClientPort, "fi": afServer, "fp": afServerPort,
		"t": afTimeCLF, "tr": afTimeCLF, "T": afTimeCLF, "Tl": afTimeCLF, "trg": afTimeCLF, "trl": afTimeCLF,
		"Ts": afTimeEpoch, "sslv": afProtocol, "sslc": afCipher,
	}
	samples := map[string]accessField{
		"src": afClient, "src_port": afClientPort, "dst": afServer, "dst_port": afServerPort,
		"ssl_fc_protocol": afProtocol, "ssl_fc_cipher": afCipher, "ssl_fc_sni": afHost,
		"req.hdr(host)": afHost, "req.hdr(x-forwarded-for)": afXFF, "req.hdr(forwarded)": afForwarded,
		"req.hdr(user-agent)": afUA, "req.fhdr(user-agent)": afUA,
	}
	if tlsHeader != "" {
		samples["req.hdr("+strings.ToLower(tlsHeader)+")"] = afTLSHeader
	}
	httpOnly := map[string]bool{"r": true, "HM": true, "HU": true, "HP": true, "HV": true, "ST": true, "hr": true, "hrl": true, "CC": true, "CS": true}
	var lit strings.Builder
	for i := 0; i < len(p); {
		if p[i] != '%' {
			lit.WriteByte(p[i])
			i++
			continue
		}
		i++
		if i < len(p) && p[i] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		quoted := false
		if i < len(p) && p[i] == '{' {
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				return fmt.Errorf("%w: haproxy format: unclosed %%{", ErrFormat)
			}
			quoted = strings.Contains(p[i+1:i+end], "+Q")
			i += end + 1
		}
		f := afSkip
		switch {
		case i < len(p) && p[i] == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return fmt.Errorf("%w: haproxy format: unclosed %%[", ErrFormat)
			}
			expr := strings.ToLower(p[i+1 : i+end])
			if c := strings.IndexByte(expr, ','); c >= 0 {
				expr = expr[:c] // converters change the value's form
			}
			f = samples[expr]
			i += end + 1
		default:
			j := i
			for j < len(p) && isAlpha(p[j]) {
				j++
			}
			if j == i {
				return fmt.Errorf("%w: haproxy format: %% without a field name", ErrFormat)
			}
			name := p[i:j]
			f = names[name]
			if httpOnly[name] {
				a.http = true
			}
			i = j
		}
		if quoted {
			lit.WriteByte('"')
		}
		a.lit(lit.String())
		lit.Reset()
		a.field(f)
		if quoted {
			lit.WriteByte('"')
		}
	}
	a.lit(lit.String())
	return nil
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }

// match fills a.vals from b; false when b does not fit the format.
func (a *access) match(b []byte) bool {
	a.vals = [nAccessFields][]byte{}
	for i, el := range a.elems {
		if !el.isField {
			if !bytes.HasPrefix(b, el.lit) {
				return false
			}
			b = b[len(el.lit):]
			continue
		}
		var v []byte
		if i+1 == len(a.elems) {
			v, b = b, nil
		} else {
			j := a.find(b, a.elems[i+1].lit)
			if j < 0 {
				return false
			}
			v, b = b[:j], b[j:]
		}
		if el.field != afSkip {
			a.vals[el.field] = v
		}
	}
	return len(b) == 0
}

// find returns the index of lit in b; with escaping (Apache), an
// occurrence of a literal starting with '"' right after a backslash is
// part of the value.
func (a *access) find(b []byte, lit []byte) int {
	off := 0
	for {
		j := bytes.Index(b[off:], lit)
		if j < 0 {
			return -1
		}
		j += off
		if !a.escape || lit[0] != '"' || !escaped(b, j) {
			return j
		}
		off = j + 1
	}
}

// escaped reports whether b[j] follows an odd number of backslashes.
func escaped(b []byte, j int) bool {
	n := 0
	for k := j - 1; k >= 0 && b[k] == '\\'; k-- {
		n++
	}
	return n%2 == 1
}

func (a *access) source() evidence.Source {
	switch a.kind {
	case KindNginx:
		return evidence.SourceNginx
	case KindApache:
		return evidence.SourceApache
	}
	return evidence.SourceHAProxy
}

func (a *access) line(b []byte, e *env) string {
	if len(b) == 0 {
		return ""
	}
	reason := ""
	if a.match(b) {
		if reason = a.observe(e, time.Time{}); reason == "" {
			return ""
		}
	}
	// Through syslog ("haproxy[123]: …", "nginx: …"): the message is the
	// line the format describes.
	if l, ok := a.sys.parse(b, e); ok && a.match(l.msg) {
		return a.observe(e, l.time)
	}
	if reason == "" {
		reason = a.kind.String() + ": does not match the format"
	}
	return reason
}

// observe turns the matched values into observations and emits them;
// nothing is emitted when it returns a reason. sysTime is the syslog
// header's time, used when the format logs none.
func (a *access) observe(e *env, sysTime time.Time) string {
	v := &a.vals
	o := e.newObs(a.source())
	switch {
	case len(v[afTimeCLF]) > 0:
		t := bytes.TrimSuffix(bytes.TrimPrefix(v[afTimeCLF], []byte("[")), []byte("]"))
		tm, ok := parseCLFTime(t, e.loc())
		if !ok {
			return a.kind.String() + ": bad time"
		}
		o.Time = tm
	case len(v[afTimeISO]) > 0:
		tm, n, ok := parseISOTime(v[afTimeISO], e.loc())
		if !ok || n != len(v[afTimeISO]) {
			return a.kind.String() + ": bad time"
		}
		o.Time = tm
	case len(dash(v[afTimeEpoch])) > 0:
		tm, ok := epochTime(v[afTimeEpoch])
		if !ok {
			return a.kind.String() + ": bad time"
		}
		o.Time = tm
	default:
		o.Time = sysTime
	}
	peer, peerOK := parseAddr(v[afClient])
	if !peerOK && a.hasAny[afClient] {
		if name := dash(v[afClient]); len(name) > 0 && a.kind == KindApache && isHostName(name) {
			o.ClientName = e.str(name) // %h with HostnameLookups on
		} else if !a.hasAny[afProxy] {
			return a.kind.String() + ": bad client address"
		}
	}
	if sa, ok := parseAddr(v[afServer]); ok {
		port := 0
		if sp := dash(v[afServerPort]); len(sp) > 0 {
			port, ok = atoi(sp)
			if !ok || port > 65535 {
				return a.kind.String() + ": bad server port"
			}
		}
		o.Server = netip.AddrPortFrom(sa, uint16(port))
	}
	o.ServerName = e.str(dash(v[afHost]))
	o.User = e.str(dash(v[afUser]))
	o.UserAgent = e.str(dash(v[afUA]))
	o.Transport = evidence.TransportPlaintext
	if p := dash(v[afProtocol]); len(p) > 0 {
		o.Transport = evidence.TransportTLS
		o.Version, _ = e.version(p) // an unknown name stays TLS of unknown version
		o.Cipher = e.cipher(dash(v[afCipher]))
	}
	o.Protocol = a.protocol(o)
	var hdrVersion tls.Version
	hdrTLS := false
	if h := dash(v[afTLSHeader]); len(h) > 0 {
		hdrTLS = true
		hdrVersion, _ = e.version(h)
	}
	if proxy, ok := parseAddr(dash(v[afProxy])); ok {
		// A PROXY header named the client: the balancer passed its TLS
		// through, so the TLS facts are the client's own.
		o.Client = proxy
		if peerOK && peer != proxy {
			o.Via = peer
		}
		e.emit(o)
		return ""
	}
	if !peerOK {
		e.emit(o)
		return ""
	}
	client := netip.Addr{}
	if pa, ok := parseAddr(v[afPeer]); ok && pa != peer {
		// The realip module or mod_remoteip already put the forwarded
		// client in afClient; afPeer is the balancer.
		client, peer = peer, pa
	} else {
		client, _ = forwardedFor(dash(v[afXFF]), dash(v[afForwarded]), peer, e)
	}
	attribute(o, peer, client, hdrVersion, hdrTLS, e)
	return ""
}

// isHostName reports whether b could be a DNS name (letters, digits,
// '-', '.').
func isHostName(b []byte) bool {
	for _, c := range b {
		if !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return len(b) > 0
}

// protocol names the application protocol of a line.
func (a *access) protocol(o *evidence.Observation) string {
	tlsUsed := o.Transport == evidence.TransportTLS
	if a.kind == KindHAProxy && !a.http {
		if p := portProtocol(o.Server.Port()); p != "" {
			return p
		}
		if tlsUsed {
			return "tls"
		}
		return "tcp"
	}
	if tlsUsed {
		return "https"
	}
	return "http"
}

// epochTime reads "1772366400" or "1772366400.123".
func epochTime(b []byte) (time.Time, bool) {
	sec, frac, _ := bytes.Cut(b, []byte("."))
	if len(sec) == 0 || len(sec) > 12 {
		return time.Time{}, false
	}
	var s int64
	for _, c := range sec {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		s = s*10 + int64(c-'0')
	}
	ns := 0
	scale := 100000000
	for _, c := range frac {
		if c < '0' || c > '9' {
			return time.Time{}, false
		}
		ns += int(c-'0') * scale
		scale /= 10
	}
	return time.Unix(s, int64(ns)).UTC(), true
}

func (a *access) flush(*env) {}
