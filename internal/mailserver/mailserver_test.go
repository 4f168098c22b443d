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

// TestGnuTLSServers starts Exim and Courier-IMAP, checks both plaintext
// ports' greetings and that every port, after STARTTLS or at once,
// accepts TLS 1.0 to 1.3.
func TestGnuTLSServers(t *testing.T) {
	e := StartExim(t, EximOptions{Priority: "NORMAL:+VERS-ALL"})
	c := StartCourier(t, CourierOptions{Priority: "NORMAL:+VERS-ALL"})
	ports := []struct {
		name, addr, greeting string
		starttls             []string // commands before the handshake; the last one's reply starts with ok
		ok                   string
	}{
		{"exim smtp", e.SMTP, "220 " + EximBanner, []string{"EHLO client.tlsmap.test", "STARTTLS"}, "220 "},
		{"exim smtps", e.SMTPS, "", nil, ""},
		{"courier imap", c.IMAP, "* OK [CAPABILITY ", []string{"a STARTTLS"}, "a OK "},
		{"courier imaps", c.IMAPS, "", nil, ""},
	}
	for _, p := range ports {
		for _, v := range versions {
			conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(conn)
			if p.greeting != "" {
				if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, p.greeting) {
					t.Fatalf("%s greets %q (%v), want %q…", p.name, line, err, p.greeting)
				}
			}
			for _, cmd := range p.starttls {
				if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
					t.Fatal(err)
				}
				var line string
				for { // to the last line of the reply
					if line, err = r.ReadString('\n'); err != nil {
						t.Fatalf("%s: %s: %v", p.name, cmd, err)
					}
					if len(line) < 4 || line[3] != '-' && line[0] != '*' {
						break
					}
				}
				if cmd == p.starttls[len(p.starttls)-1] && !strings.HasPrefix(line, p.ok) {
					t.Fatalf("%s: %s answered %q", p.name, cmd, line)
				}
			}
			tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: v.v, MaxVersion: v.v})
			if err := tc.Handshake(); err != nil {
				t.Errorf("%s %s: %v\n%s\n%s", p.name, v.name, err, e.Log(), c.Log())
			} else if got := tc.ConnectionState().Version; got != v.v {
				t.Errorf("%s: negotiated %x, want %x", p.name, got, v.v)
			}
			tc.Close()
		}
	}
}

// TestDovecotLoginModes checks what Dovecot makes of each login mode's
// configuration (doveconf), and that the default mode, a login process
// per connection, completes TLS handshakes on both implicit-TLS ports.
func TestDovecotLoginModes(t *testing.T) {
	for _, mode := range []struct {
		defaultLogin           bool
		serviceCount, minAvail string
	}{{false, "0", "2"}, {true, "1", "0"}} {
		d := StartDovecot(t, DovecotOptions{DefaultLogin: mode.defaultLogin})
		for _, svc := range []string{"imap-login", "pop3-login"} {
			for setting, want := range map[string]string{"service_count": mode.serviceCount, "process_min_avail": mode.minAvail} {
				out, err := run(d.Dir, "doveconf", "-c", d.conf, "-h", "service/"+svc+"/"+setting)
				if got := strings.TrimSpace(string(out)); err != nil || got != want {
					t.Errorf("DefaultLogin %v: %s %s = %q (%v), want %s", mode.defaultLogin, svc, setting, got, err, want)
				}
			}
		}
		if !mode.defaultLogin {
			continue
		}
		for _, addr := range []string{d.IMAPS, d.POP3S, d.IMAPS} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				t.Errorf("default login mode, %s: %v\n%s", addr, err, d.Log())
				continue
			}
			c.Close()
		}
	}
}
