package postgres

import (
	"io"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// errorMessage is a protocol-3 ErrorResponse with the fields given, in
// order (type byte, value).
func errorMessage(fields ...string) string {
	body := ""
	for i := 0; i+1 < len(fields); i += 2 {
		body += fields[i] + fields[i+1] + "\x00"
	}
	body += "\x00"
	n := len(body) + 4
	return "E" + string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + body
}

var (
	tooManyClients = errorMessage("S", "FATAL", "V", "FATAL", "C", "53300", "M", "sorry, too many clients already")
	unsupported    = errorMessage("S", "FATAL", "C", "08P01", "M", "unsupported frontend protocol 1234.5679: server supports 1.0 to 2.0")
)

// fakeServer is a scripted PostgreSQL server behaving as m, for the
// shared failure-mode table: it reads the client's SSLRequest (recorded
// as the line "SSLRequest", anything else as "other") and answers as the
// mode wants.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		req := make([]byte, 8)
		if _, err := io.ReadFull(c.Reader(), req); err != nil {
			return
		}
		if string(req) != string(sslRequest) {
			c.Record("other")
			return
		}
		c.Record("SSLRequest")
		switch m {
		case fakemail.NoSTARTTLS, fakemail.NoEHLO:
			// The server has no TLS; the client closes (or sends its
			// StartupMessage in clear).
			_ = c.Send("N")
			_, _ = io.Copy(io.Discard, c.Reader())
			return
		case fakemail.Refuse, fakemail.RefuseBad:
			_ = c.Send(unsupported)
			return
		case fakemail.DelayGreeting:
			time.Sleep(fakemail.GreetingDelay)
		case fakemail.Tarpit:
			_ = c.Trickle(tooManyClients, fakemail.TarpitInterval)
			return
		case fakemail.Endless:
			// A protocol-2 error whose text never ends.
			_ = c.Send("E")
			c.Repeat("FATAL: endless ")
			return
		case fakemail.LongLine:
			c.LongLine("E\x00\x10\x00\x04", fakemail.LongLineSize)
			return
		case fakemail.CloseMid:
			return
		case fakemail.Throttle:
			_ = c.Send(tooManyClients)
			return
		case fakemail.AlertAfterSTARTTLS:
			_ = c.Send("S" + string(fakemail.Alert))
			return
		}
		if c.Send("S") == nil {
			_ = c.ServeTLS()
		}
	}
}
