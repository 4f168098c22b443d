package logs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is a log format.
type Kind uint8

// Log formats.
const (
	// KindAuto detects the format of each file from its first lines.
	KindAuto Kind = iota
	// KindExchange: Exchange SMTP protocol logs (Receive and Send
	// connectors), CSV under a "#Fields:" header.
	KindExchange
	// KindIIS: IIS W3C logs with the crypt-protocol, crypt-cipher,
	// crypt-hash and crypt-keyexchange custom fields.
	KindIIS
	// KindMaillog: syslog files of mail servers — Postfix smtpd and smtp
	// lines and Dovecot login lines, one file or apart (Debian's
	// /var/log/mail.log holds both). Dovecot's own log_path files too.
	KindMaillog
	// KindNginx, KindApache and KindHAProxy: access logs in the format
	// the server was configured with (Format.Pattern).
	KindNginx
	KindApache
	KindHAProxy
)

var kindNames = [...]string{
	KindAuto:     "auto",
	KindExchange: "exchange",
	KindIIS:      "iis",
	KindMaillog:  "maillog",
	KindNginx:    "nginx",
	KindApache:   "apache",
	KindHAProxy:  "haproxy",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Format is a log format: a kind and, for access logs, the server's own
// format string.
type Format struct {
	Kind    Kind
	Pattern string // nginx log_format, Apache LogFormat, HAProxy log-format
}

func (f Format) String() string {
	if f.Pattern != "" {
		return f.Kind.String() + ":" + f.Pattern
	}
	return f.Kind.String()
}

// ErrFormat is wrapped by every error of ParseFormat and by a file
// whose format cannot be told.
var ErrFormat = errors.New("logs: unknown log format")

// ParseFormat reads --log-format: "auto", "exchange", "iis", "maillog"
// (also "postfix", "dovecot", "syslog"), or "nginx:FORMAT",
// "apache:FORMAT", "haproxy:FORMAT" with the server's own format string
// (nginx's log_format, Apache's LogFormat, HAProxy's log-format), which
// is compiled and checked here.
func ParseFormat(s string) (Format, error) {
	name, pattern, hasPattern := strings.Cut(s, ":")
	var k Kind
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto":
		k = KindAuto
	case "exchange":
		k = KindExchange
	case "iis", "w3c":
		k = KindIIS
	case "maillog", "postfix", "dovecot", "syslog":
		k = KindMaillog
	case "nginx":
		k = KindNginx
	case "apache", "httpd", "apache2":
		k = KindApache
	case "haproxy":
		k = KindHAProxy
	default:
		return Format{}, fmt.Errorf("%w %q (want auto, exchange, iis, maillog, nginx:FORMAT, apache:FORMAT or haproxy:FORMAT)", ErrFormat, name)
	}
	f := Format{Kind: k, Pattern: pattern}
	switch k {
	case KindNginx, KindApache, KindHAProxy:
		if !hasPattern || strings.TrimSpace(pattern) == "" {
			return Format{}, fmt.Errorf("%w: %s needs its format string: --log-format '%s:%s'", ErrFormat, k, k, examplePattern[k])
		}
		if _, err := compileAccess(k, pattern, ""); err != nil {
			return Format{}, err
		}
	default:
		if hasPattern {
			return Format{}, fmt.Errorf("%w: %s takes no format string", ErrFormat, k)
		}
	}
	return f, nil
}

// examplePattern is, per access-log kind, a format with the fields tlsmap
// needs, for hints and docs.
var examplePattern = map[Kind]string{
	KindNginx:   `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $ssl_protocol $ssl_cipher`,
	KindApache:  `%a %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %{SSL_PROTOCOL}x %{SSL_CIPHER}x`,
	KindHAProxy: `%ci:%cp [%tr] %ft %b/%s %ST %B %sslv %sslc`,
}

// ExamplePattern returns a format string for k with the fields tlsmap
// reads ("" for kinds without one).
func ExamplePattern(k Kind) string { return examplePattern[k] }
