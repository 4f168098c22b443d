package sieve

import (
	"strings"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// fakeCaps is the fake server's capability list (RFC 5804 §1.7).
func fakeCaps(starttls bool) string {
	s := "\"IMPLEMENTATION\" \"FakeSieve\"\r\n\"SASL\" \"PLAIN LOGIN\"\r\n\"SIEVE\" {17}\r\nfileinto reject x\r\n"
	if starttls {
		s += "\"STARTTLS\"\r\n"
	}
	return s + "\"VERSION\" \"1.0\"\r\n"
}

// fakeServer is a scripted ManageSieve server (RFC 5804) behaving as m,
// for the shared failure-mode table.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		if m == fakemail.Throttle {
			_ = c.Send("BYE (TRYLATER) \"Too many connections\"\r\n")
			return
		}
		greeting := fakeCaps(m != fakemail.NoSTARTTLS) + "OK \"FakeSieve ready.\"\r\n"
		switch m {
		case fakemail.DelayGreeting:
			if !pause() || c.Send(greeting) != nil {
				return
			}
		case fakemail.Tarpit:
			_ = c.Trickle(greeting, fakemail.TarpitInterval)
			return
		case fakemail.LongLine:
			c.LongLine("\"IMPLEMENTATION\" \"", fakemail.LongLineSize)
			return
		case fakemail.Endless:
			_ = c.Send("\"IMPLEMENTATION\" \"FakeSieve\"\r\n")
			c.Repeat("\"X-ENDLESS\"\r\n")
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
			case "STARTTLS":
				switch m {
				case fakemail.CloseMid:
					return
				case fakemail.Refuse:
					_ = c.Send("NO (TRYLATER) \"TLS unavailable for now.\"\r\n")
				case fakemail.RefuseBad:
					_ = c.Send("NO \"TLS not configured.\"\r\n")
				case fakemail.AlertAfterSTARTTLS:
					_ = c.Send("OK \"Begin TLS negotiation now.\"\r\n" + string(fakemail.Alert))
					return
				default:
					if c.Send("OK \"Begin TLS negotiation now.\"\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "LOGOUT":
				_ = c.Send("OK \"Logout completed.\"\r\n")
				return
			default:
				_ = c.Send("NO \"Unknown command.\"\r\n")
			}
		}
	}
}
