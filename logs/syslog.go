package logs

import (
	"bytes"
	"time"
)

// syslogLine is a syslog line split into its header and message.
type syslogLine struct {
	time time.Time
	host []byte // "" when the line has none (Dovecot's own log_path)
	prog []byte // "postfix/smtpd", "dovecot", "imap-login", "haproxy"
	pid  []byte
	msg  []byte
}

// syslogParser splits syslog lines, remembering the last timestamp it
// decoded (consecutive lines mostly share one).
type syslogParser struct {
	lastTS   []byte
	lastTime time.Time
}

// parse splits one line as rsyslog, syslog-ng, journald's exports,
// Postfix's postlogd and Dovecot's log_path write it:
//
//	Mar  1 12:00:00 host prog[pid]: msg              (RFC 3164 as files hold it; the year inferred)
//	2026-03-01T12:00:00.123456+01:00 host prog[pid]: msg   (rsyslog's high-precision, journalctl -o short-iso)
//	<22>1 2026-03-01T12:00:00Z host prog pid msgid - msg   (RFC 5424)
//	Mar 01 12:00:00 imap-login: Info: msg            (Dovecot's own log, no host)
func (p *syslogParser) parse(b []byte, e *env) (syslogLine, bool) {
	var l syslogLine
	if len(b) > 0 && b[0] == '<' {
		i := bytes.IndexByte(b, '>')
		if i < 2 || i > 4 {
			return l, false
		}
		b = b[i+1:]
		if len(b) > 2 && b[0] == '1' && b[1] == ' ' {
			return p.parse5424(b[2:], e)
		}
	}
	var n int
	var ok bool
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		l.time, n, ok = parseISOTime(b, e.loc())
	} else {
		l.time, n, ok = p.bsdTime(b, e)
	}
	if !ok || n >= len(b) || b[n] != ' ' {
		return l, false
	}
	b = b[n+1:]
	tok, rest, found := nextField(b, ' ')
	if !found {
		return l, false
	}
	if len(tok) > 0 && tok[len(tok)-1] == ':' {
		// No host: "imap-login: Info: …".
		l.prog, l.pid = splitPid(tok[:len(tok)-1])
		l.msg = rest
		return l, len(l.prog) > 0
	}
	l.host = tok
	tok, rest, found = nextField(rest, ' ')
	if !found {
		// "host prog: " with an empty message, or no message at all.
		if len(tok) > 0 && tok[len(tok)-1] == ':' {
			l.prog, l.pid = splitPid(tok[:len(tok)-1])
			return l, len(l.prog) > 0
		}
		return l, false
	}
	if len(tok) == 0 || tok[len(tok)-1] != ':' {
		return l, false
	}
	l.prog, l.pid = splitPid(tok[:len(tok)-1])
	l.msg = rest
	return l, len(l.prog) > 0
}

// parse5424 reads what follows "<PRI>1 " (RFC 5424 §6): TIMESTAMP
// HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG, "-" for a nil
// value.
func (p *syslogParser) parse5424(b []byte, e *env) (syslogLine, bool) {
	var l syslogLine
	var f [5][]byte
	rest := b
	for i := range f {
		var ok bool
		f[i], rest, ok = nextField(rest, ' ')
		if !ok {
			return l, false
		}
	}
	t, n, ok := parseISOTime(f[0], e.loc())
	if !ok || n != len(f[0]) {
		return l, false
	}
	l.time, l.host, l.prog, l.pid = t, dash(f[1]), dash(f[2]), dash(f[3])
	// Structured data: "-" or one or more "[…]" elements.
	switch {
	case len(rest) > 0 && rest[0] == '-':
		rest = rest[1:]
	case len(rest) > 0 && rest[0] == '[':
		for len(rest) > 0 && rest[0] == '[' {
			end := sdEnd(rest)
			if end < 0 {
				return l, false
			}
			rest = rest[end+1:]
		}
	default:
		return l, false
	}
	l.msg = bytes.TrimPrefix(rest, []byte(" "))
	return l, len(l.prog) > 0
}

// sdEnd returns the index of the "]" closing the structured-data element
// b starts with (RFC 5424 §6.3: inside PARAM-VALUE, '"', '\' and ']' are
// escaped with '\').
func sdEnd(b []byte) int {
	inQuote := false
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ']':
			if !inQuote {
				return i
			}
		}
	}
	return -1
}

// splitPid splits "prog[123]" into "prog" and "123".
func splitPid(tok []byte) (prog, pid []byte) {
	if i := bytes.IndexByte(tok, '['); i > 0 && tok[len(tok)-1] == ']' {
		return tok[:i], tok[i+1 : len(tok)-1]
	}
	return tok, nil
}

// bsdTime reads "Mmm dd hh:mm:ss" (the day space- or zero-padded,
// perhaps a fraction after the seconds) in the configured zone, in the
// current year — or the previous one when that would put it more than two
// days in the future (a December line read in January).
func (p *syslogParser) bsdTime(b []byte, e *env) (time.Time, int, bool) {
	if len(b) < 15 || b[3] != ' ' || b[6] != ' ' || b[9] != ':' || b[12] != ':' {
		return time.Time{}, 0, false
	}
	n := 15
	if n < len(b) && b[n] == '.' {
		n++
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			n++
		}
	}
	ts := b[:n]
	if bytes.Equal(ts, p.lastTS) {
		return p.lastTime, n, true
	}
	mo, ok := monthOf(b[0:3])
	if !ok {
		return time.Time{}, 0, false
	}
	dayb := b[4:6]
	if dayb[0] == ' ' {
		dayb = dayb[1:]
	}
	d, ok1 := digits(dayb)
	h, ok2 := digits(b[7:9])
	mi, ok3 := digits(b[10:12])
	s, ok4 := digits(b[13:15])
	if !(ok1 && ok2 && ok3 && ok4) || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, 0, false
	}
	ns := 0
	if n > 16 {
		scale := 100000000
		for _, c := range b[16:n] {
			ns += int(c-'0') * scale
			scale /= 10
		}
	}
	now := e.now().In(e.loc())
	t := time.Date(now.Year(), mo, d, h, mi, s, ns, e.loc())
	if t.After(now.Add(48 * time.Hour)) {
		t = time.Date(now.Year()-1, mo, d, h, mi, s, ns, e.loc())
	}
	p.lastTS = append(p.lastTS[:0], ts...)
	p.lastTime = t
	return t, n, true
}
