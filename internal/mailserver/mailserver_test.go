package mailserver

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

var versions = []struct {
	v    uint16
	name string
}{
	{tls.VersionTLS10, "TLS 1.0"}, {tls.VersionTLS11, "TLS 1.1"}, {tls.VersionTLS12, "TLS 1.2"}, {tls.VersionTLS13, "TLS 1.3"},
}

// TestServers starts Dovecot and Postfix (authenticating through Dovecot),
// checks every plaintext port's greeting and that every implicit-TLS port
// accepts TLS 1.0 to 1.3.
func TestServers(t *testing.T) {
	d := StartDovecot(t, DovecotOptions{PlaintextAuth: true})
	p := StartPostfix(t, PostfixOptions{SASL: d})

	for addr, want := range map[string]string{
		p.SMTP:         "220 " + Banner,
		p.SMTPAuthOnly: "220 " + Banner,
		d.IMAP:         "* OK [CAPABILITY ",
		d.POP3:         "+OK " + DovecotBanner,
	} {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.HasPrefix(line, want) {
			t.Errorf("%s greets %q (%v), want %q…", addr, line, err, want)
		}
	}

	for name, addr := range map[string]string{"smtps": p.SMTPS, "imaps": d.IMAPS, "pop3s": d.POP3S} {
		for _, v := range versions {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
				&tls.Config{InsecureSkipVerify: true, MinVersion: v.v, MaxVersion: v.v})
			if err != nil {
				t.Errorf("%s %s: %v\n%s\n%s", name, v.name, err, p.Log(), d.Log())
				continue
			}
			if got := c.ConnectionState().Version; got != v.v {
				t.Errorf("%s: negotiated %x, want %x", name, got, v.v)
			}
			c.Close()
		}
	}
}
