package logs

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// exchange reads Exchange's SMTP protocol logs (Receive and Send
// connectors): a "#Fields:" header names the comma-separated columns,
// by default date-time, connector-id, session-id, sequence-number,
// local-endpoint, remote-endpoint, event, data, context. The lines of a
// session share its session-id; events are "+" connect, "-" disconnect,
// ">" sent, "<" received and "*" information, where Schannel's result is
// logged: "TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using
// bulk encryption algorithm CALG_AES_256 with strength 256 bits, MAC hash
// algorithm CALG_SHA_384 with strength 384 bits and key exchange
// algorithm CALG_ECDHE with strength 256 bits". A session becomes one
// observation at its disconnect line.
type exchange struct {
	col      [nExCols]int // column of each field, -1 when absent
	maxCol   int
	send     bool // "#Log-type: SMTP Send Protocol Log"
	sessions map[string]*exSession
	order    []string
	max      int
	fields   [][]byte
}

// The columns exchange reads.
const (
	exDateTime = iota
	exConnector
	exSessionID
	exLocal
	exRemote
	exEvent
	exData
	exContext
	nExCols
)

var exColNames = [nExCols]string{"date-time", "connector-id", "session-id", "local-endpoint", "remote-endpoint", "event", "data", "context"}

// exSession is one SMTP session.
type exSession struct {
	time       time.Time
	server     string // the connector's server, from connector-id
	local      netip.AddrPort
	remote     netip.AddrPort
	ehlo       string
	connected  bool
	starttls   bool
	tls        bool
	version    tls.Version
	outbound   bool
	sideKnown  bool
	cipherText string
}

func newExchange(max int) *exchange {
	x := &exchange{sessions: map[string]*exSession{}, max: max}
	x.setColumns([]byte("date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context"))
	return x
}

// setColumns reads a "#Fields:" list.
func (x *exchange) setColumns(list []byte) {
	for i := range x.col {
		x.col[i] = -1
	}
	x.maxCol = 0
	for i, name := range bytes.Split(list, []byte(",")) {
		name = bytes.TrimSpace(name)
		for c, want := range exColNames {
			if string(name) == want {
				x.col[c] = i
				x.maxCol = max(x.maxCol, i)
			}
		}
	}
}

var tlsProtocolWord = []byte("TLS protocol ")

func (x *exchange) line(b []byte, e *env) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] == '#' {
		switch {
		case bytes.HasPrefix(b, []byte("#Fields:")):
			x.setColumns(bytes.TrimSpace(b[len("#Fields:"):]))
			if x.col[exSessionID] < 0 || x.col[exEvent] < 0 {
				return "exchange: #Fields without session-id and event"
			}
		case bytes.HasPrefix(b, []byte("#Log-type:")):
			x.send = bytes.Contains(b, []byte("Send"))
		}
		return ""
	}
	f := splitCSV(b, x.fields[:0])
	x.fields = f
	if len(f) <= x.maxCol {
		return "exchange: fewer columns than #Fields names"
	}
	get := func(c int) []byte {
		if x.col[c] < 0 {
			return nil
		}
		return f[x.col[c]]
	}
	id := get(exSessionID)
	if len(id) == 0 {
		return "exchange: no session-id"
	}
	ev := get(exEvent)
	if len(ev) != 1 {
		return "exchange: bad event"
	}
	t, n, ok := parseISOTime(get(exDateTime), time.UTC)
	if !ok || n != len(get(exDateTime)) {
		return "exchange: bad date-time"
	}
	s := x.sessions[string(id)]
	if s == nil {
		if ev[0] == '-' {
			e.r.st.Incomplete++ // a session that began before the log
			return ""
		}
		if len(x.sessions) >= x.max {
			x.evictOldest(e)
		}
		s = &exSession{time: t, outbound: x.send}
		key := string(id)
		x.sessions[key] = s
		x.order = append(x.order, key)
		if conn := get(exConnector); len(conn) > 0 {
			srv := conn
			if i := bytes.IndexByte(conn, '\\'); i > 0 {
				srv = conn[:i]
			}
			s.server = e.str(srv)
		}
	}
	if !s.local.IsValid() {
		if ap, ok := parseAddrPort(get(exLocal)); ok {
			s.local = ap
		}
	}
	if !s.remote.IsValid() {
		if ap, ok := parseAddrPort(get(exRemote)); ok {
			s.remote = ap
		}
	}
	data, ctx := get(exData), get(exContext)
	switch ev[0] {
	case '+':
		s.connected = true
	case '<', '>':
		cmd := data
		if (ev[0] == '<') != s.outbound {
			// The client's commands: "EHLO name", "STARTTLS".
			switch {
			case hasPrefixFold(cmd, "EHLO ") || hasPrefixFold(cmd, "HELO "):
				if ev[0] == '<' {
					s.ehlo = e.str(bytes.TrimSpace(cmd[5:]))
				}
			case hasPrefixFold(cmd, "STARTTLS"):
				s.starttls = true
			}
		}
	case '*':
		text := ctx
		if !bytes.Contains(text, tlsProtocolWord) {
			text = data
		}
		if i := bytes.Index(text, tlsProtocolWord); i >= 0 && bytes.Contains(text, []byte("negotiation succeeded")) {
			if reason := x.tlsLine(s, text[i+len(tlsProtocolWord):]); reason != "" {
				return reason
			}
		}
	case '-':
		x.emit(string(id), s, e)
	}
	return ""
}

// tlsLine reads "SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk
// encryption algorithm X with strength N bits, MAC hash algorithm Y …
// and key exchange algorithm Z …".
func (x *exchange) tlsLine(s *exSession, b []byte) string {
	name, rest, _ := nextField(b, ' ')
	p, ok := spProtByName(string(name))
	if !ok {
		return "exchange: unknown SP_PROT value"
	}
	s.tls, s.version = true, p.version
	s.outbound, s.sideKnown = !p.server, true
	alg := func(label string) string {
		i := bytes.Index(rest, []byte(label))
		if i < 0 {
			return ""
		}
		v, _, _ := nextField(rest[i+len(label):], ' ')
		return string(bytes.TrimRight(v, ","))
	}
	s.cipherText = schannelCipher(alg("bulk encryption algorithm "), alg("MAC hash algorithm "), alg("key exchange algorithm "))
	return ""
}

// emit concludes a session.
func (x *exchange) emit(id string, s *exSession, e *env) {
	delete(x.sessions, id)
	if !s.connected && !s.tls {
		e.r.st.Incomplete++ // its beginning, and perhaps its TLS line, were before the log
		return
	}
	o := e.newObs(evidence.SourceExchange)
	o.Time, o.Protocol = s.time, "smtp"
	switch {
	case s.tls:
		o.Transport, o.Version = evidence.TransportTLS, s.version
		if s.cipherText != "" {
			o.Cipher = evidence.TextCipher(s.cipherText)
		}
	case s.starttls:
		o.Transport = evidence.TransportTLS // STARTTLS accepted, no TLS line: version unknown
	default:
		o.Transport = evidence.TransportPlaintext
	}
	o.Outbound = s.outbound
	client, server := s.remote, s.local
	if s.outbound {
		client, server = s.local, s.remote
		o.ClientName = s.server
	} else {
		o.ClientName, o.ServerName = s.ehlo, s.server
	}
	o.Client, o.Server = client.Addr(), server
	e.emit(o)
	if len(x.order) > 2*x.max {
		keep := x.order[:0]
		for _, k := range x.order {
			if x.sessions[k] != nil {
				keep = append(keep, k)
			}
		}
		x.order = keep
	}
}

func (x *exchange) evictOldest(e *env) {
	for len(x.order) > 0 {
		k := x.order[0]
		x.order = x.order[1:]
		if s := x.sessions[k]; s != nil {
			e.r.st.Incomplete++
			x.emitOpen(k, s, e)
			return
		}
	}
}

// emitOpen concludes a session without its disconnect line: one with a
// TLS line is evidence; one without may still have been going to start
// TLS, so it is only counted.
func (x *exchange) emitOpen(k string, s *exSession, e *env) {
	if s.tls {
		x.emit(k, s, e)
		return
	}
	delete(x.sessions, k)
}

func (x *exchange) flush(e *env) {
	for _, k := range x.order {
		if s := x.sessions[k]; s != nil {
			e.r.st.Incomplete++
			x.emitOpen(k, s, e)
		}
	}
	x.order = x.order[:0]
}

// hasPrefixFold reports whether b starts with the ASCII prefix p, any
// case.
func hasPrefixFold(b []byte, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := b[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}

// splitCSV splits a CSV line (RFC 4180: fields separated by ',', a quoted
// field may hold ',' and '""') into out; quoted fields lose their outer
// quotes (their doubled quotes stay doubled).
func splitCSV(b []byte, out [][]byte) [][]byte {
	for {
		if len(b) > 0 && b[0] == '"' {
			i := 1
			for i < len(b) {
				if b[i] == '"' {
					if i+1 < len(b) && b[i+1] == '"' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			out = append(out, b[1:min(i, len(b))])
			if i+1 >= len(b) {
				return out
			}
			b = b[i+1:]
			if b[0] == ',' {
				b = b[1:]
				if len(b) == 0 {
					return append(out, nil)
				}
			}
			continue
		}
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return append(out, b)
		}
		out = append(out, b[:i])
		b = b[i+1:]
	}
}
