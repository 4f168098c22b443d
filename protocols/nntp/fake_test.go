package nntp

import (
	"strings"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// fakeCaps is the fake server's capability list (RFC 3977 §5.2), as a
// 101 response.
func fakeCaps(starttls bool) string {
	s := "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION FakeNews 1.0\r\nAUTHINFO USER SASL\r\nSASL PLAIN\r\nREADER\r\n"
	if starttls {
		s += "STARTTLS\r\n"
	}
	return s + "LIST ACTIVE NEWSGROUPS\r\n.\r\n"
}

// fakeServer is a scripted NNTP server (RFC 3977, RFC 4642) behaving as
// m, for the shared failure-mode table.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		const greeting = "200 news.fake.test FakeNews ready (posting ok)\r\n"
		switch m {
		case fakemail.Throttle:
			_ = c.Send("400 news.fake.test: too many connections, try later\r\n")
			return
		case fakemail.DelayGreeting:
			if !pause() || c.Send(greeting) != nil {
				return
			}
		case fakemail.Tarpit:
			_ = c.Trickle(greeting, fakemail.TarpitInterval)
			return
		case fakemail.LongLine:
			c.LongLine("200 ", fakemail.LongLineSize)
			return
		default:
			if c.Send(greeting) != nil {
				return
			}
		}
		for {
			line, err := c.Line()
			if err != nil {
				return
			}
			switch strings.ToUpper(strings.TrimSpace(line)) {
			case "CAPABILITIES":
				switch m {
				case fakemail.CloseMid:
					return
				case fakemail.Endless:
					_ = c.Send("101 Capability list:\r\nVERSION 2\r\n")
					c.Repeat("X-ENDLESS\r\n")
					return
				}
				_ = c.Send(fakeCaps(m != fakemail.NoSTARTTLS))
			case "STARTTLS":
				switch m {
				case fakemail.Refuse:
					_ = c.Send("580 Can not initiate TLS negotiation\r\n")
				case fakemail.RefuseBad:
					_ = c.Send("502 Already authenticated\r\n")
				case fakemail.AlertAfterSTARTTLS:
					_ = c.Send("382 Continue with TLS negotiation\r\n" + string(fakemail.Alert))
					return
				default:
					if c.Send("382 Continue with TLS negotiation\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "QUIT":
				_ = c.Send("205 Bye!\r\n")
				return
			default:
				_ = c.Send("500 What?\r\n")
			}
		}
	}
}
