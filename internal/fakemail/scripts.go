package fakemail

import (
	"strings"
	"time"
)

// Mode is the behaviour of a canned fake server.
type Mode uint8

// The canned behaviours.
const (
	// Normal advertises STARTTLS, accepts it and completes a TLS
	// handshake.
	Normal Mode = iota
	// NoSTARTTLS advertises no STARTTLS but accepts it when asked anyway.
	NoSTARTTLS
	// Refuse answers STARTTLS with an error: SMTP 454, IMAP NO, POP3 -ERR.
	Refuse
	// RefuseBad answers STARTTLS with IMAP BAD (SMTP 502, POP3 -ERR).
	RefuseBad
	// DelayGreeting waits GreetingDelay before the greeting, then behaves
	// as Normal.
	DelayGreeting
	// Tarpit sends the greeting one byte every TarpitInterval.
	Tarpit
	// Endless answers the capability request (EHLO, CAPABILITY, CAPA)
	// with continuation lines forever.
	Endless
	// LongLine sends a greeting line of LongLineSize bytes.
	LongLine
	// CloseMid closes the connection after reading the capability
	// request, without answering.
	CloseMid
	// Throttle turns the client away on connect: SMTP 421, IMAP * BYE,
	// POP3 -ERR [SYS/TEMP].
	Throttle
	// AlertAfterSTARTTLS accepts STARTTLS and sends a TLS alert record
	// in the same write as the go-ahead.
	AlertAfterSTARTTLS
	// NoEHLO refuses EHLO with 500 and accepts HELO (SMTP only; the
	// others behave as NoSTARTTLS).
	NoEHLO
)

var modeNames = [...]string{"normal", "no-starttls", "refuse", "refuse-bad", "delay-greeting", "tarpit",
	"endless", "long-line", "close-mid", "throttle", "alert-after-starttls", "no-ehlo"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode(?)"
}

// Timing and sizes of the canned behaviours.
const (
	GreetingDelay  = 3 * time.Second
	TarpitInterval = time.Second
	LongLineSize   = 1 << 20
)

// greet sends the greeting as the mode wants it; false when the script
// must stop.
func greet(c *Conn, m Mode, greeting string) bool {
	switch m {
	case DelayGreeting:
		time.Sleep(GreetingDelay)
	case Tarpit:
		_ = c.Trickle(greeting, TarpitInterval)
		return false
	case LongLine:
		c.LongLine(greeting[:4], LongLineSize)
		return false
	}
	return c.Send(greeting) == nil
}

// SMTP is a fake SMTP server (RFC 5321, RFC 3207) behaving as m.
func SMTP(m Mode) Handler {
	return func(c *Conn) {
		if m == Throttle {
			_ = c.Send("421 4.7.0 fake.test Too many connections, try again later\r\n")
			return
		}
		if !greet(c, m, "220-fake.test ESMTP FakeMail\r\n220 pleased to meet you\r\n") {
			return
		}
		for {
			line, err := c.Line()
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.ToUpper(line), " ")
			switch verb {
			case "EHLO":
				switch m {
				case CloseMid:
					return
				case Endless:
					_ = c.Send("250-fake.test\r\n")
					c.Repeat("250-X-ENDLESS\r\n")
					return
				case NoEHLO:
					_ = c.Send("500 5.5.1 command unrecognized\r\n")
					continue
				}
				ext := "250-fake.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
				if m != NoSTARTTLS {
					ext += "250-STARTTLS\r\n"
				}
				_ = c.Send(ext + "250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
			case "HELO":
				_ = c.Send("250 fake.test\r\n")
			case "STARTTLS":
				switch m {
				case Refuse:
					_ = c.Send("454 4.7.0 TLS not available due to local problem\r\n")
				case RefuseBad:
					_ = c.Send("502 5.5.1 command not implemented\r\n")
				case AlertAfterSTARTTLS:
					_ = c.Send("220 2.0.0 Ready to start TLS\r\n" + string(Alert))
					return
				default:
					if c.Send("220 2.0.0 Ready to start TLS\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "QUIT":
				_ = c.Send("221 2.0.0 Bye\r\n")
				return
			default:
				_ = c.Send("502 5.5.2 command not recognized\r\n")
			}
		}
	}
}

// IMAP is a fake IMAP server (RFC 3501, RFC 9051) behaving as m. Its
// greeting carries no capabilities, so the client must ask.
func IMAP(m Mode) Handler {
	return func(c *Conn) {
		if m == Throttle {
			_ = c.Send("* BYE [UNAVAILABLE] Too many connections, try again later\r\n")
			return
		}
		if !greet(c, m, "* OK FakeIMAP ready\r\n") {
			return
		}
		for {
			line, err := c.Line()
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(line, " ")
			cmd, _, _ = strings.Cut(strings.ToUpper(cmd), " ")
			switch cmd {
			case "CAPABILITY":
				switch m {
				case CloseMid:
					return
				case Endless:
					c.Repeat("* CAPABILITY IMAP4rev1 X-ENDLESS\r\n")
					return
				}
				caps := "IMAP4rev1 SASL-IR ID"
				if m != NoSTARTTLS && m != NoEHLO {
					caps += " STARTTLS"
				}
				_ = c.Send("* CAPABILITY " + caps + " AUTH=PLAIN\r\n" + tag + " OK Pre-login capabilities listed\r\n")
			case "STARTTLS":
				switch m {
				case Refuse:
					_ = c.Send(tag + " NO [UNAVAILABLE] TLS not available\r\n")
				case RefuseBad:
					_ = c.Send(tag + " BAD Unknown command\r\n")
				case AlertAfterSTARTTLS:
					_ = c.Send(tag + " OK Begin TLS negotiation now\r\n" + string(Alert))
					return
				default:
					if c.Send(tag+" OK Begin TLS negotiation now\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "LOGOUT":
				_ = c.Send("* BYE Logging out\r\n" + tag + " OK Logout completed\r\n")
				return
			default:
				_ = c.Send(tag + " BAD Unknown command\r\n")
			}
		}
	}
}

// POP3 is a fake POP3 server (RFC 1939, RFC 2449, RFC 2595) behaving as m.
func POP3(m Mode) Handler {
	return func(c *Conn) {
		if m == Throttle {
			_ = c.Send("-ERR [SYS/TEMP] Too many connections, try again later\r\n")
			return
		}
		if !greet(c, m, "+OK FakePOP3 ready <1.2@fake.test>\r\n") {
			return
		}
		for {
			line, err := c.Line()
			if err != nil {
				return
			}
			cmd, _, _ := strings.Cut(strings.ToUpper(line), " ")
			switch cmd {
			case "CAPA":
				switch m {
				case CloseMid:
					return
				case Endless:
					_ = c.Send("+OK\r\n")
					c.Repeat("X-ENDLESS\r\n")
					return
				}
				caps := "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN\r\n"
				if m != NoSTARTTLS && m != NoEHLO {
					caps += "STLS\r\n"
				}
				_ = c.Send(caps + ".\r\n")
			case "STLS":
				switch m {
				case Refuse, RefuseBad:
					_ = c.Send("-ERR TLS not available\r\n")
				case AlertAfterSTARTTLS:
					_ = c.Send("+OK Begin TLS negotiation\r\n" + string(Alert))
					return
				default:
					if c.Send("+OK Begin TLS negotiation\r\n") == nil {
						_ = c.ServeTLS()
					}
					return
				}
			case "QUIT":
				_ = c.Send("+OK bye\r\n")
				return
			default:
				_ = c.Send("-ERR unknown command\r\n")
			}
		}
	}
}
