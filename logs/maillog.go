package logs

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// maillog reads syslog files of mail servers: Postfix and Dovecot lines
// (other programs' lines are skipped).
type maillog struct {
	sys syslogParser
	// smtpd processes between "connect from" and "disconnect from", by
	// host and pid; order is their arrival, for eviction.
	procs map[procKey]*smtpdSession
	order []procKey
	max   int
	// tlsLogged holds the hosts whose smtpd logged a TLS line: their
	// sessions without one were plaintext (smtpd_tls_loglevel ≥ 1).
	tlsLogged map[string]bool
	free      []*smtpdSession // concluded sessions, for reuse
}

type procKey struct {
	host string // interned
	pid  int
}

// key is the line's process.
func (m *maillog) key(l *syslogLine, e *env) procKey {
	pid, _ := atoi(l.pid)
	return procKey{e.str(l.host), pid}
}

// smtpdSession is one client connection of a Postfix smtpd process.
type smtpdSession struct {
	time       time.Time
	client     netip.Addr
	clientName string
	host       string
	prog       string
	tls        bool
	version    tls.Version
	cipher     evidence.Cipher
	connected  bool // the "connect from" line was seen
}

func newMaillog(max int) *maillog {
	return &maillog{procs: map[procKey]*smtpdSession{}, max: max, tlsLogged: map[string]bool{}}
}

var (
	postfixPrefix = []byte("postfix")
	tlsEstablish  = []byte("TLS connection established ")
	connectFrom   = []byte("connect from ")
	disconnFrom   = []byte("disconnect from ")
	withCipher    = []byte(" with cipher ")
	loginSuffix   = []byte("-login")
)

func (m *maillog) line(b []byte, e *env) string {
	l, ok := m.sys.parse(b, e)
	if !ok {
		return "not a syslog line"
	}
	switch {
	case bytes.HasPrefix(l.prog, postfixPrefix):
		return m.postfix(&l, e)
	case bytes.HasSuffix(l.prog, loginSuffix):
		// Dovecot's own log_path: "imap-login: Info: Login: …".
		return m.dovecot(l.prog, &l, trimLevel(l.msg), e)
	case bytes.Equal(l.prog, []byte("dovecot")):
		// Through syslog: "dovecot: imap-login: Login: …".
		svc, rest, ok := nextField(l.msg, ':')
		if !ok || !bytes.HasSuffix(svc, loginSuffix) {
			return "" // another Dovecot process's line
		}
		return m.dovecot(svc, &l, trimLevel(bytes.TrimPrefix(rest, []byte(" "))), e)
	}
	return "" // another program's line
}

// trimLevel drops Dovecot's "Info: " level prefix.
func trimLevel(b []byte) []byte {
	for _, lvl := range [][]byte{[]byte("Info: "), []byte("Warning: "), []byte("Error: "), []byte("Debug: ")} {
		if bytes.HasPrefix(b, lvl) {
			return b[len(lvl):]
		}
	}
	return b
}

// postfix reads smtpd's connect, TLS and disconnect lines and smtp's TLS
// lines (Postfix's TLS_README, "Server-side TLS activity logging").
func (m *maillog) postfix(l *syslogLine, e *env) string {
	daemon := l.prog
	if i := bytes.LastIndexByte(daemon, '/'); i >= 0 {
		daemon = daemon[i+1:]
	}
	msg := l.msg
	if i := bytes.Index(msg, tlsEstablish); i >= 0 && i < 16 {
		// "[Anonymous|Untrusted|Trusted|Verified] TLS connection
		// established (from|to) NAME[ADDR](:PORT): VERSION with cipher
		// CIPHER (BITS/BITS bits)…"
		rest := msg[i+len(tlsEstablish):]
		var out bool
		switch {
		case bytes.HasPrefix(rest, []byte("from ")):
			rest = rest[5:]
		case bytes.HasPrefix(rest, []byte("to ")):
			rest, out = rest[3:], true
		default:
			return "postfix: TLS line without from/to"
		}
		name, addr, port, rest, ok := postfixPeer(rest)
		if !ok || !bytes.HasPrefix(rest, []byte(": ")) {
			return "postfix: TLS line without NAME[ADDR]"
		}
		ver, cipher, ok := tlsSummary(rest[2:], e)
		if !ok {
			return "postfix: TLS line without a version"
		}
		if out {
			// smtp, the client: the logging host connected out.
			o := e.newObs(evidence.SourcePostfix)
			o.Time, o.Outbound, o.Protocol, o.Transport = l.time, true, "smtp", evidence.TransportTLS
			o.ClientName = e.str(l.host)
			o.Server, o.ServerName = netip.AddrPortFrom(addr, port), e.str(name)
			o.Version, o.Cipher = ver, cipher
			e.emit(o)
			return ""
		}
		m.tlsLogged[e.str(l.host)] = true
		if old := m.procs[m.key(l, e)]; old != nil && old.tls {
			// A second TLS line on the process: the first connection
			// ended without its disconnect line.
			e.r.st.Incomplete++
			m.conclude(l, e)
		}
		s := m.session(l, e)
		s.client, s.clientName = addr, e.str(name)
		if s.time.IsZero() {
			s.time = l.time
		}
		s.tls, s.version, s.cipher = true, ver, cipher
		if !bytes.Equal(daemon, []byte("smtpd")) {
			// tlsproxy (for postscreen) and others: no connect and
			// disconnect lines around it.
			m.conclude(l, e)
		}
		return ""
	}
	if !bytes.Equal(daemon, []byte("smtpd")) {
		return ""
	}
	switch {
	case bytes.HasPrefix(msg, connectFrom):
		name, addr, _, _, ok := postfixPeer(msg[len(connectFrom):])
		if !ok {
			return "postfix: connect line without NAME[ADDR]"
		}
		if old := m.procs[m.key(l, e)]; old != nil {
			// A new connection on a process whose last one ended
			// unseen: its TLS line, if any, is evidence.
			e.r.st.Incomplete++
			if old.tls {
				m.conclude(l, e)
			} else {
				m.drop(l, e)
			}
		}
		s := m.session(l, e)
		s.time, s.client, s.clientName, s.connected = l.time, addr, e.str(name), true
	case bytes.HasPrefix(msg, disconnFrom):
		s := m.procs[m.key(l, e)]
		if s == nil {
			e.r.st.Incomplete++ // its connect was before the log began
			return ""
		}
		if !s.tls {
			// No TLS line. With smtpd_tls_loglevel = 0 (Postfix's
			// default) there is none even when TLS was used: the
			// command counts of the disconnect line still show
			// STARTTLS ("starttls=1"), implicit TLS (smtps) shows
			// nothing. Only a host that logs TLS lines for other
			// sessions is known to have had a plaintext one here.
			t := evidence.TransportPlaintext
			switch {
			case startTLSCount(msg) > 0:
				t = evidence.TransportTLS // version unknown
			case !m.tlsLogged[s.host]:
				t = evidence.TransportUnknown
			}
			m.emitSession(s, t, e)
			m.drop(l, e)
			return ""
		}
		m.conclude(l, e)
	}
	return ""
}

// postfixPeer reads "NAME[ADDR]" and an optional ":PORT".
func postfixPeer(b []byte) (name []byte, addr netip.Addr, port uint16, rest []byte, ok bool) {
	open := bytes.IndexByte(b, '[')
	end := bytes.IndexByte(b, ']')
	if open <= 0 || end < open {
		return nil, netip.Addr{}, 0, nil, false
	}
	addr, ok = parseAddr(b[open+1 : end])
	if !ok {
		return nil, netip.Addr{}, 0, nil, false
	}
	name, rest = b[:open], b[end+1:]
	if len(rest) > 1 && rest[0] == ':' && rest[1] >= '0' && rest[1] <= '9' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		p, pok := atoi(rest[1:i])
		if pok && p <= 65535 {
			port = uint16(p)
			rest = rest[i:]
		}
	}
	return name, addr, port, rest, true
}

// tlsSummary reads OpenSSL's summary as Postfix and Dovecot log it:
// "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)…".
func tlsSummary(b []byte, e *env) (tls.Version, evidence.Cipher, bool) {
	i := bytes.Index(b, withCipher)
	if i < 0 {
		return 0, evidence.Cipher{}, false
	}
	v, ok := e.version(b[:i])
	if !ok {
		return 0, evidence.Cipher{}, false
	}
	c := b[i+len(withCipher):]
	if j := bytes.IndexByte(c, ' '); j >= 0 {
		c = c[:j]
	}
	return v, e.cipher(c), true
}

// session returns the smtpd session of the line's process, new if need
// be.
func (m *maillog) session(l *syslogLine, e *env) *smtpdSession {
	k := m.key(l, e)
	if s := m.procs[k]; s != nil {
		return s
	}
	if len(m.procs) >= m.max {
		m.evictOldest(e)
	}
	var s *smtpdSession
	if n := len(m.free); n > 0 {
		s, m.free = m.free[n-1], m.free[:n-1]
		*s = smtpdSession{host: e.str(l.host), prog: e.str(l.prog)}
	} else {
		s = &smtpdSession{host: e.str(l.host), prog: e.str(l.prog)}
	}
	m.procs[k] = s
	m.order = append(m.order, k)
	return s
}

// evictOldest concludes the longest-open session to make room.
func (m *maillog) evictOldest(e *env) {
	for len(m.order) > 0 {
		k := m.order[0]
		m.order = m.order[1:]
		if s := m.procs[k]; s != nil {
			e.r.st.Incomplete++
			if s.tls {
				m.emitSession(s, evidence.TransportTLS, e)
			}
			delete(m.procs, k)
			return
		}
	}
}

// conclude emits the line's process's session and forgets it.
func (m *maillog) conclude(l *syslogLine, e *env) {
	if s := m.procs[m.key(l, e)]; s != nil {
		m.emitSession(s, evidence.TransportTLS, e)
	}
	m.drop(l, e)
}

func (m *maillog) drop(l *syslogLine, e *env) {
	k := m.key(l, e)
	if s := m.procs[k]; s != nil && len(m.free) < 64 {
		m.free = append(m.free, s)
	}
	delete(m.procs, k)
	if len(m.order) > 2*m.max {
		// Compact: keep the keys still open, in order.
		keep := m.order[:0]
		for _, k := range m.order {
			if m.procs[k] != nil {
				keep = append(keep, k)
			}
		}
		m.order = keep
	}
}

func (m *maillog) emitSession(s *smtpdSession, t evidence.Transport, e *env) {
	o := e.newObs(evidence.SourcePostfix)
	o.Time, o.Protocol, o.Transport = s.time, "smtp", t
	o.Client, o.ClientName = s.client, s.clientName
	if s.clientName == "unknown" {
		o.ClientName = ""
	}
	o.ServerName = s.host
	if t == evidence.TransportTLS {
		o.Version, o.Cipher = s.version, s.cipher
	}
	e.emit(o)
}

// flush concludes the sessions still open: those with a TLS line are
// emitted, the others (no evidence either way yet) counted.
func (m *maillog) flush(e *env) {
	for _, k := range m.order {
		s := m.procs[k]
		if s == nil {
			continue
		}
		e.r.st.Incomplete++
		if s.tls {
			m.emitSession(s, evidence.TransportTLS, e)
		}
		delete(m.procs, k)
	}
	m.order = m.order[:0]
}

// dovecot reads a login process's line: "Login: …", "Disconnected (…):
// …", "Aborted login (…): …" followed by login_log_format_elements —
// by default "user=<%u> method=%m rip=%r lip=%l mpid=%e %c
// session=<%{session}>", joined with ", ", where %c is "TLS" or "secured"
// and %k, when added, OpenSSL's summary ("TLSv1.2 with cipher …").
func (m *maillog) dovecot(svc []byte, l *syslogLine, msg []byte, e *env) string {
	i := bytes.Index(msg, []byte(": user=<"))
	if i < 0 {
		return "" // a login process's other messages
	}
	elems := msg[i+2:]
	o := e.newObs(evidence.SourceDovecot)
	o.Time = l.time
	o.Protocol = e.str(bytes.TrimSuffix(svc, loginSuffix))
	if o.Protocol == "submission" {
		o.Protocol = "smtp"
	}
	o.Transport = evidence.TransportPlaintext
	var lip netip.Addr
	var lport uint16
	failed := false
	for len(elems) > 0 {
		var el []byte
		el, elems = cutElement(elems)
		switch {
		case bytes.HasPrefix(el, []byte("user=<")):
			u := bytes.TrimSuffix(el[6:], []byte(">"))
			o.User = e.str(u)
		case bytes.HasPrefix(el, []byte("rip=")):
			a, ok := parseAddr(el[4:])
			if !ok {
				return "dovecot: bad rip"
			}
			o.Client = a
		case bytes.HasPrefix(el, []byte("lip=")):
			a, ok := parseAddr(el[4:])
			if !ok {
				return "dovecot: bad lip"
			}
			lip = a
		case bytes.HasPrefix(el, []byte("lport=")):
			if p, ok := atoi(el[6:]); ok && p <= 65535 {
				lport = uint16(p)
			}
		case bytes.Equal(el, []byte("TLS")):
			o.Transport = evidence.TransportTLS
		case bytes.HasPrefix(el, []byte("TLS handshaking")), bytes.HasPrefix(el, []byte("TLS: ")):
			failed = true
		case bytes.HasPrefix(el, []byte("TLSv")), bytes.HasPrefix(el, []byte("SSLv")):
			v, c, ok := tlsSummary(el, e)
			if ok {
				o.Transport, o.Version, o.Cipher = evidence.TransportTLS, v, c
			}
		}
	}
	if !o.Client.IsValid() {
		return "dovecot: login line without rip"
	}
	if failed && o.Version == 0 {
		return "" // the handshake failed: no connection to count
	}
	if lip.IsValid() {
		o.Server = netip.AddrPortFrom(lip, lport)
	}
	o.ServerName = e.str(l.host)
	e.emit(o)
	return ""
}

// cutElement returns the first ", "-separated element of Dovecot's
// login_log_format_elements and the rest; "<…>" values may hold ", ".
func cutElement(b []byte) (el, rest []byte) {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 && i+1 < len(b) && b[i+1] == ' ' {
				return b[:i], b[i+2:]
			}
		}
	}
	return b, nil
}

// startTLSCount reads the successful STARTTLS commands of a disconnect
// line's command counts: "starttls=1", or "starttls=0/1" (none of one
// succeeded).
func startTLSCount(msg []byte) int {
	i := bytes.Index(msg, []byte(" starttls="))
	if i < 0 {
		return 0
	}
	b := msg[i+len(" starttls="):]
	j := 0
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	n, _ := atoi(b[:j])
	return n
}
