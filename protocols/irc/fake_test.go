package irc

import (
	"strings"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// fakeCaps is the fake server's reply to CAP LS 302, on two lines (IRCv3
// capability negotiation: "*" before the last parameter announces more).
func fakeCaps(starttls bool) string {
	s := ":fake.test CAP * LS * :account-notify away-notify cap-notify multi-prefix\r\n" +
		":fake.test CAP * LS :sasl=PLAIN,EXTERNAL sts=port=6697"
	if starttls {
		s += " tls"
	}
	return s + " userhost-in-names\r\n"
}

// fakeServer is a scripted IRC server (RFC 2812, the IRCv3 tls
// extension) behaving as m, for the shared failure-mode table. It greets
// with a NOTICE, as InspIRCd does, and answers CAP LS and STARTTLS.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		const greeting = ":fake.test NOTICE * :*** Looking up your hostname...\r\n"
		switch m {
		case fakemail.Throttle:
			// InspIRCd's connect throttle: ERROR, then the link closes
			// (once the client's first line is in, so that it reads the
			// ERROR rather than a reset).
			_ = c.Send("ERROR :Closing link: (unknown@127.0.0.1) [Throttled: Reconnecting too fast]\r\n")
			_, _ = c.Line()
			return
		case fakemail.DelayGreeting:
			if !pause() || c.Send(greeting) != nil {
				return
			}
		case fakemail.Tarpit:
			_ = c.Trickle(greeting, fakemail.TarpitInterval)
			return
		case fakemail.LongLine:
			c.LongLine(":fake.test NOTICE * :", fakemail.LongLineSize)
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
			case "CAP LS 302":
				switch m {
				case fakemail.CloseMid:
					return
				case fakemail.Endless:
					c.Repeat(":fake.test CAP * LS * :x-endless\r\n")
					return
				}
				_ = c.Send(fakeCaps(m != fakemail.NoSTARTTLS))
			case "STARTTLS":
				switch m {
				case fakemail.Refuse:
					_ = c.Send(":fake.test 691 * :STARTTLS failure\r\n")
				case fakemail.RefuseBad:
					_ = c.Send(":fake.test 421 * STARTTLS :Unknown command\r\n")
				case fakemail.AlertAfterSTARTTLS:
					_ = c.Send(":fake.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n" + string(fakemail.Alert))
					return
				default:
					if c.Send(":fake.test 670 * :STARTTLS successful, go ahead with TLS handshake\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "QUIT":
				_ = c.Send("ERROR :Closing link: (unknown@127.0.0.1) [Client exited]\r\n")
				return
			default:
				_ = c.Send(":fake.test 421 * " + strings.Fields(line + " x")[0] + " :Unknown command\r\n")
			}
		}
	}
}
