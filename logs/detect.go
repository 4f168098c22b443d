package logs

import (
	"bytes"
	"fmt"
)

// detect tells a file's format from its first bytes (as many whole lines
// as head holds). Access logs have no signature of their own: they need
// --log-format, and hint says so when the lines look like one.
func (r *Reader) detect(head []byte) (k Kind, hint string, ok bool) {
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 && len(head) == r.cfg.MaxLineBytes {
		head = head[:i] // a whole number of lines
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	var sys syslogParser
	looksHTTP := false
	for n := 0; len(head) > 0 && n < 1000; n++ {
		var line []byte
		line, head, _ = nextField(head, '\n')
		line = bytes.TrimSuffix(line, []byte("\r"))
		switch {
		case bytes.HasPrefix(line, []byte("#Software: Microsoft Exchange")),
			bytes.HasPrefix(line, []byte("#Log-type: SMTP")),
			bytes.HasPrefix(line, []byte("#Fields: date-time,connector-id")):
			return KindExchange, "", true
		case bytes.HasPrefix(line, []byte("#Software: Microsoft Internet Information Services")),
			bytes.HasPrefix(line, []byte("#Fields: date time ")):
			return KindIIS, "", true
		}
		if l, ok := sys.parse(line, &r.env); ok {
			switch {
			case bytes.HasPrefix(l.prog, postfixPrefix), bytes.Equal(l.prog, []byte("dovecot")), bytes.HasSuffix(l.prog, loginSuffix):
				return KindMaillog, "", true
			case bytes.Equal(l.prog, []byte("haproxy")):
				return KindAuto, fmt.Sprintf("it looks like an HAProxy log: give its log-format, e.g. --log-format 'haproxy:%s'", examplePattern[KindHAProxy]), false
			}
		}
		if bytes.Contains(line, []byte(`" 200 `)) || bytes.Contains(line, []byte(" HTTP/1.")) {
			looksHTTP = true
		}
	}
	if looksHTTP {
		return KindAuto, fmt.Sprintf("it looks like a web access log: give the server's log format, e.g. --log-format 'nginx:%s' or 'apache:%s'", examplePattern[KindNginx], examplePattern[KindApache]), false
	}
	return KindAuto, "give --log-format (exchange, iis, maillog, nginx:FORMAT, apache:FORMAT, haproxy:FORMAT)", false
}
