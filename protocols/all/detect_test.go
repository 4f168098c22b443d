package all_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
)

// dialTo dials addr.
func dialTo(addr string) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// ftpLike greets with greeting and speaks enough FTP for its dialogue to
// reach AUTH TLS, and answers anything else 500 (an FTP server's answer
// to EHLO).
func ftpLike(greeting string) fakemail.Handler {
	return func(c *fakemail.Conn) {
		_ = c.Send(greeting)
		for {
			line, err := c.Line()
			if err != nil {
				return
			}
			switch strings.ToUpper(line) {
			case "FEAT":
				_ = c.Send("211-Features:\r\n AUTH TLS\r\n211 End\r\n")
			case "AUTH TLS":
				_ = c.Send("234 Proceed with negotiation.\r\n")
				_ = c.ServeTLS()
				return
			case "QUIT":
				_ = c.Send("221 Goodbye.\r\n")
				return
			default:
				_ = c.Send("500 Unknown command.\r\n")
			}
		}
	}
}

// nntpLike greets as INN's nnrpd does and answers anything with 500;
// Detect needs its greeting only.
func nntpLike(c *fakemail.Conn) {
	_ = c.Send("200 news.example InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n")
	for {
		if _, err := c.Line(); err != nil || c.Send("500 What?\r\n") != nil {
			return
		}
	}
}

// ircLike greets as InspIRCd does, with a NOTICE before any word of the
// client, and answers anything with 421; Detect needs its greeting only.
func ircLike(greeting string) fakemail.Handler {
	return func(c *fakemail.Conn) {
		_ = c.Send(greeting)
		for {
			if _, err := c.Line(); err != nil || c.Send(":irc.example.net 421 * X :Unknown command\r\n") != nil {
				return
			}
		}
	}
}

// silentIRC says nothing until the client does, as InspIRCd without host
// name lookups: it lists the tls capability and accepts STARTTLS.
func silentIRC(c *fakemail.Conn) {
	for {
		line, err := c.Line()
		if err != nil {
			return
		}
		reply := ":irc.example.net 421 * X :Unknown command\r\n"
		switch {
		case strings.HasPrefix(line, "CAP LS"):
			reply = ":irc.example.net CAP * LS :multi-prefix tls\r\n"
		case strings.HasPrefix(line, "STARTTLS"):
			reply = ":irc.example.net 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"
		}
		if c.Send(reply) != nil {
			return
		}
	}
}

// silent accepts and says nothing until the client does; then answers
// the PostgreSQL SSLRequest with S.
func silentPostgres(c *fakemail.Conn) {
	b := make([]byte, 8)
	// Only an SSLRequest (length 8, code 80877103), as a real server: it
	// refuses anything else (another protocol's request) at once.
	if _, err := io.ReadFull(c.Reader(), b); err == nil && string(b) == "\x00\x00\x00\x08\x04\xd2\x16\x2f" {
		c.Record("request")
		if c.Send("S") == nil {
			_ = c.ServeTLS()
		}
	}
}

// TestDetect: the protocol of a bare host:port is found from the
// server's greeting, or, for a silent server, by trying the client-first
// protocol of its port, and the evidence says how.
func TestDetect(t *testing.T) {
	anyPort := uint16(40000)
	for _, tc := range []struct {
		name     string
		server   fakemail.Handler
		port     uint16 // 0: anyPort
		scheme   string // "": TLS from the first byte, no protocol
		evidence string // prefix
		conns    int    // -1: any
	}{
		{"smtp", fakemail.SMTP(fakemail.Normal), 0, "smtp", `greeting "220-fake.test ESMTP FakeMail" (named in it; ftp fit too)`, 1},
		{"submission-port", fakemail.SMTP(fakemail.Normal), 587, "submission", `greeting "220-fake.test ESMTP`, 1},
		{"imap", fakemail.IMAP(fakemail.Normal), 0, "imap", `greeting "* OK FakeIMAP ready"`, 1},
		{"pop3", fakemail.POP3(fakemail.Normal), 0, "pop3", `greeting "+OK FakePOP3 ready`, 1},
		{"ftp-named", ftpLike("220 (vsFTPd 3.0.3)\r\n"), 0, "ftp", `greeting "220 (vsFTPd 3.0.3)" (named in it; smtp fit too)`, 1},
		{"ftp-by-port", ftpLike("220 Service ready\r\n"), 21, "ftp", `greeting "220 Service ready" (its port; smtp fit too)`, 1},
		{"ftp-by-dialogue", ftpLike("220 Service ready\r\n"), 0, "ftp", `greeting "220 Service ready" (fits smtp, ftp; the ftp dialogue answered)`, 3},
		// NNTP greets with 200 or 201, never SMTP's or FTP's 220: one
		// candidate, whatever the wording.
		{"nntp", nntpLike, 0, "nntp", `greeting "200 news.example InterNetNews NNRP server INN 2.7.1 ready (posting ok)"`, 1},
		{"nntp-posting-prohibited", func(c *fakemail.Conn) {
			_ = c.Send("201 leafnode ready\r\n")
			_, _ = c.Line()
		}, 0, "nntp", `greeting "201 leafnode ready"`, 1},
		// IRC servers mostly greet at once with a NOTICE (irc.Protocol is
		// server-first for this); no other recogniser takes a line
		// starting with a prefix, nor RFC 1459's NOTICE AUTH.
		{"irc", ircLike(":irc.example.net NOTICE * :*** Looking up your hostname...\r\n"), 0, "irc",
			`greeting ":irc.example.net NOTICE * :*** Looking up your hostname..."`, 1},
		{"irc-notice-auth", ircLike("NOTICE AUTH :*** Looking up your hostname\r\n"), 6667, "irc",
			`greeting "NOTICE AUTH :*** Looking up your hostname"`, 1},
		{"mysql", func(c *fakemail.Conn) {
			_ = c.Send("\x4a\x00\x00\x00\x0a8.0.36\x00\x01\x00\x00\x00abcdefgh\x00\xff\xff\x2d\x02\x00\xff\xdf\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00ijklmnopqrst\x00caching_sha2_password\x00")
			_, _ = c.Reader().ReadByte()
		}, 0, "mysql", `greeting "J\x00\x00\x00\n8.0.36`, 1},
		// ManageSieve opens with its capability list (RFC 5804 §1.7), as
		// Dovecot's managesieved does; on a port no protocol has.
		{"sieve", func(c *fakemail.Conn) {
			_ = c.Send("\"IMPLEMENTATION\" \"Dovecot Pigeonhole\"\r\n\"SASL\" \"PLAIN\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\nOK \"ready.\"\r\n")
			_, _ = c.Reader().ReadByte()
		}, 0, "sieve", `greeting "\"IMPLEMENTATION\" \"Dovecot Pigeonhole\""`, 1},
		{"silent-postgres-port", silentPostgres, 5432, "postgres", "the server is silent; the postgres dialogue of port 5432 answered", 2},
		{"silent-implicit-port", func(c *fakemail.Conn) { _, _ = c.Reader().ReadByte() }, 993, "imaps", "the server is silent: TLS from the first byte, imaps by port 993", 1},
		{"silent-postgres-other-port", silentPostgres, 0, "postgres", "the server is silent; the postgres dialogue answered (port 40000 is no protocol's); irc, ldap, xmpp, xmpp-server did not", 6},
		// An IRC server that waits for the client (InspIRCd without host
		// name lookups): tried with the IRC dialogue (QuietServer), on its
		// port, and first of all on a port no protocol has.
		{"silent-irc-port", silentIRC, 6667, "irc", "the server is silent; the irc dialogue of port 6667 answered", 2},
		{"silent-irc-other-port", silentIRC, 0, "irc", "the server is silent; the irc dialogue answered (port 40000 is no protocol's)", 2},
		{"silent-unknown-port", func(c *fakemail.Conn) { _, _ = c.Reader().ReadByte() }, 0, "",
			// Every QuietServer protocol, then every client-first one
			// registered (the toy of this package's tests included), in
			// order.
			"the server is silent and port 40000 is no protocol's; no dialogue answered (irc, ldap, xmpp, xmpp-server, postgres, rdp", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakemail.Start(t, tc.server)
			port := tc.port
			if port == 0 {
				port = anyPort
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			det, err := protocols.Detect(ctx, dialTo(srv.Addr), protocols.DetectOptions{Port: port, GreetingWait: time.Second})
			if err != nil {
				t.Fatalf("%v (%+v)", err, det)
			}
			got := ""
			if det.Protocol != nil {
				got = det.Scheme.Name
			}
			if got != tc.scheme || !strings.HasPrefix(det.Evidence, tc.evidence) || tc.conns >= 0 && det.Connections != tc.conns {
				t.Errorf("%q (%d connections): %s, want %q (%d): %s…", got, det.Connections, det.Evidence, tc.scheme, tc.conns, tc.evidence)
			}
			t.Logf("DETECT %-22s | port %5d | %-10s | %d conns | %s", tc.name, port, got, det.Connections, det.Evidence)
		})
	}
}

// TestDetectFails: what Detect cannot name is an error wrapping
// ErrNotDetected, never a guess.
func TestDetectFails(t *testing.T) {
	for _, tc := range []struct {
		name     string
		server   fakemail.Handler
		port     uint16
		evidence string
	}{
		{"closes-at-once", func(c *fakemail.Conn) {}, 40000, "the server closed the connection without a word"},
		{"ssh", func(c *fakemail.Conn) {
			_ = c.Send("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
			_, _ = c.Reader().ReadByte()
		}, 40000, `greeting "SSH-2.0-OpenSSH_9.2p1 Debian-2": no protocol fits`},
		{"silent-on-rdp-port-not-rdp", func(c *fakemail.Conn) {
			b := make([]byte, 4)
			_, _ = io.ReadFull(c.Reader(), b)
		}, 3389, "the server is silent; the rdp dialogue of port 3389 failed"},
		{"220-speaking-neither", func(c *fakemail.Conn) {
			_ = c.Send("220 hello\r\n")
			for {
				if _, err := c.Line(); err != nil || c.Send("999 what\r\n") != nil {
					return
				}
			}
		}, 40000, `greeting "220 hello" fits smtp, ftp, whose dialogues all failed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakemail.Start(t, tc.server)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			det, err := protocols.Detect(ctx, dialTo(srv.Addr), protocols.DetectOptions{Port: tc.port, GreetingWait: time.Second,
				Dialogue: protocols.Options{Timeout: 2 * time.Second}})
			if !errors.Is(err, protocols.ErrNotDetected) || !strings.Contains(err.Error(), tc.evidence) {
				t.Fatalf("err %v (%+v), want ErrNotDetected: %s", err, det, tc.evidence)
			}
			t.Logf("DETECT %-26s | port %5s | %v", tc.name, strconv.Itoa(int(tc.port)), err)
		})
	}
}
