package ftp

import (
	"strings"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// fakeServer is a scripted FTP server (RFC 959, RFC 2389, RFC 4217)
// behaving as m, for the shared failure-mode table.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		if m == fakemail.Throttle {
			_ = c.Send("421 Too many users, try again later\r\n")
			return
		}
		if !greetFTP(c, m, "220-FakeFTP ready\r\n welcome\r\n220 go on\r\n") {
			return
		}
		for {
			line, err := c.Line()
			if err != nil {
				return
			}
			verb, arg, _ := strings.Cut(line, " ")
			switch strings.ToUpper(verb) {
			case "FEAT":
				switch m {
				case fakemail.CloseMid:
					return
				case fakemail.Endless:
					_ = c.Send("211-Features:\r\n")
					c.Repeat(" X-ENDLESS\r\n")
					return
				}
				feat := "211-Features:\r\n"
				if m != fakemail.NoSTARTTLS {
					feat += " AUTH TLS\r\n"
				}
				_ = c.Send(feat + " PBSZ\r\n PROT\r\n UTF8\r\n211 End\r\n")
			case "USER":
				_ = c.Send("331 Please specify the password.\r\n")
			case "AUTH":
				switch {
				case !strings.EqualFold(arg, "TLS"):
					_ = c.Send("504 Unknown AUTH type.\r\n")
				case m == fakemail.Refuse:
					_ = c.Send("431 TLS unavailable for now.\r\n")
				case m == fakemail.RefuseBad:
					_ = c.Send("534 Policy requires no TLS.\r\n")
				case m == fakemail.AlertAfterSTARTTLS:
					_ = c.Send("234 Proceed with negotiation.\r\n" + string(fakemail.Alert))
					return
				default:
					if c.Send("234 Proceed with negotiation.\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "QUIT":
				_ = c.Send("221 Goodbye.\r\n")
				return
			default:
				_ = c.Send("500 Unknown command.\r\n")
			}
		}
	}
}

// greetFTP sends the greeting as the mode wants it; false when the
// script must stop.
func greetFTP(c *fakemail.Conn, m fakemail.Mode, greeting string) bool {
	switch m {
	case fakemail.DelayGreeting:
		return c.Send("120 Service ready in 1 minute\r\n") == nil && pause() && c.Send(greeting) == nil
	case fakemail.Tarpit:
		_ = c.Trickle(greeting, fakemail.TarpitInterval)
		return false
	case fakemail.LongLine:
		c.LongLine("220 ", fakemail.LongLineSize)
		return false
	}
	return c.Send(greeting) == nil
}
