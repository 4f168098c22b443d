package demo

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
)

// The mail servers speak just enough of their protocol for tlsmap's
// upgraders (protocols/smtp, imap, pop3) and for a mail client's first
// steps: greeting, capabilities, STARTTLS/STLS, QUIT/LOGOUT. Nothing is
// delivered or stored.

// maxLine bounds a command line, CRLF included (RFC 5321 §4.5.3.1.4 allows
// 512 for SMTP; IMAP and POP3 commands here are shorter still).
const maxLine = 1024

var errLineTooLong = errors.New("demo: command line too long")

// lineConn reads CRLF-terminated command lines and writes replies.
type lineConn struct {
	c  net.Conn
	br *bufio.Reader
}

func newLineConn(c net.Conn) *lineConn {
	return &lineConn{c: c, br: bufio.NewReaderSize(c, maxLine)}
}

// readLine returns the next line without its line end.
func (l *lineConn) readLine() (string, error) {
	line, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", errLineTooLong
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// write sends each line with CRLF, in one write.
func (l *lineConn) write(lines ...string) error {
	var b strings.Builder
	for _, s := range lines {
		b.WriteString(s)
		b.WriteString("\r\n")
	}
	_, err := io.WriteString(l.c, b.String())
	return err
}

// startTLS runs the server handshake on the plain connection once the
// client was told to go ahead. Bytes already buffered after the command
// would be plaintext injected into the TLS session (CVE-2011-0411): the
// connection is dropped instead.
func (l *lineConn) startTLS(cfg *tls.Config) (*lineConn, bool) {
	if l.br.Buffered() > 0 {
		return nil, false
	}
	tc := tls.Server(l.c, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, false
	}
	return newLineConn(tc), true
}

// verb splits a command line into its upper-cased verb and the rest.
func verb(line string) (string, string) {
	v, rest, _ := strings.Cut(line, " ")
	return strings.ToUpper(v), rest
}

// serveSMTP is an ESMTP server with STARTTLS (RFC 3207) that advertises
// AUTH PLAIN LOGIN before TLS too, as many legacy servers do.
func serveSMTP(c net.Conn, host string, cfg *tls.Config) {
	l := newLineConn(c)
	defer func() { l.c.Close() }() // after STARTTLS: close_notify first
	secure := false
	if l.write("220 "+host+" ESMTP tlsmap demo") != nil {
		return
	}
	for {
		line, err := l.readLine()
		if err != nil {
			if errors.Is(err, errLineTooLong) {
				_ = l.write("500 5.5.2 Line too long")
			}
			return
		}
		v, _ := verb(line)
		switch v {
		case "EHLO":
			ext := []string{host + " at your service"}
			if !secure {
				ext = append(ext, "STARTTLS")
			}
			ext = append(ext, "AUTH PLAIN LOGIN", "8BITMIME", "SIZE 10485760")
			reply := make([]string, len(ext))
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply[i] = "250" + sep + e
			}
			err = l.write(reply...)
		case "HELO":
			err = l.write("250 " + host)
		case "STARTTLS":
			if secure {
				err = l.write("503 5.5.1 TLS already active")
				break
			}
			if err := l.write("220 2.0.0 Ready to start TLS"); err != nil {
				return
			}
			tl, ok := l.startTLS(cfg)
			if !ok {
				return
			}
			l, secure = tl, true
		case "NOOP", "RSET":
			err = l.write("250 2.0.0 OK")
		case "AUTH":
			err = l.write("535 5.7.8 Authentication credentials invalid (demo server: no accounts)")
		case "QUIT":
			_ = l.write("221 2.0.0 Bye")
			return
		default:
			err = l.write("502 5.5.2 Command not recognized")
		}
		if err != nil {
			return
		}
	}
}

// serveIMAPS is IMAP over implicit TLS (RFC 8314 §3.3): the handshake
// first, then the greeting.
func serveIMAPS(c net.Conn, host string, cfg *tls.Config) {
	tc := tls.Server(c, cfg)
	if tc.Handshake() != nil {
		return
	}
	defer tc.Close()
	l := newLineConn(tc)
	const caps = "IMAP4rev1 AUTH=PLAIN"
	if l.write("* OK [CAPABILITY "+caps+"] "+host+" tlsmap demo IMAP ready") != nil {
		return
	}
	for {
		line, err := l.readLine()
		if err != nil {
			return
		}
		tag, cmd := verb(line)
		v, _ := verb(cmd)
		switch v {
		case "CAPABILITY":
			err = l.write("* CAPABILITY "+caps, tag+" OK CAPABILITY completed")
		case "NOOP":
			err = l.write(tag + " OK NOOP completed")
		case "LOGOUT":
			_ = l.write("* BYE "+host+" logging out", tag+" OK LOGOUT completed")
			return
		default:
			err = l.write(tag + " BAD command unknown or arguments invalid")
		}
		if err != nil {
			return
		}
	}
}

// servePOP3 is a POP3 server with STLS (RFC 2595 §4) and CAPA (RFC 2449).
func servePOP3(c net.Conn, host string, cfg *tls.Config) {
	l := newLineConn(c)
	defer func() { l.c.Close() }() // after STLS: close_notify first
	secure := false
	if l.write("+OK "+host+" tlsmap demo POP3 ready") != nil {
		return
	}
	for {
		line, err := l.readLine()
		if err != nil {
			return
		}
		v, _ := verb(line)
		switch v {
		case "CAPA":
			reply := []string{"+OK Capability list follows", "USER"}
			if !secure {
				reply = append(reply, "STLS")
			}
			err = l.write(append(reply, "SASL PLAIN", "IMPLEMENTATION tlsmap-demo", ".")...)
		case "STLS":
			if secure {
				err = l.write("-ERR TLS already active")
				break
			}
			if err := l.write("+OK Begin TLS negotiation"); err != nil {
				return
			}
			tl, ok := l.startTLS(cfg)
			if !ok {
				return
			}
			l, secure = tl, true
		case "USER", "PASS", "AUTH":
			err = l.write("-ERR [AUTH] demo server: no mailboxes")
		case "NOOP":
			err = l.write("+OK")
		case "QUIT":
			_ = l.write("+OK " + host + " signing off")
			return
		default:
			err = l.write("-ERR unknown command")
		}
		if err != nil {
			return
		}
	}
}
