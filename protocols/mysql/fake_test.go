package mysql

import (
	"io"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// packet frames a payload with its header.
func packet(seq uint8, payload string) string {
	n := len(payload)
	return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}) + payload
}

// greetingPayload is a HandshakeV10 payload: version, capability flags
// (lower and upper words), auth plugin; extended capabilities when caps
// lacks capLongPassword (MariaDB).
func greetingPayload(version string, caps uint32, ext uint32, plugin string) string {
	b := "\x0a" + version + "\x00" + "\x2a\x00\x00\x00" + "abcdefgh" + "\x00"
	b += string([]byte{byte(caps), byte(caps >> 8)})
	b += "\x2d" + "\x02\x00" + string([]byte{byte(caps >> 16), byte(caps >> 24)})
	b += "\x15" + "\x00\x00\x00\x00\x00\x00" + string([]byte{byte(ext), byte(ext >> 8), byte(ext >> 16), byte(ext >> 24)})
	b += "ijklmnopqrst\x00"
	if caps&capPluginAuth != 0 {
		b += plugin + "\x00"
	}
	return b
}

// errPayload is an ERR packet's payload without a SQL state, as a server
// sends one before the handshake.
func errPayload(code uint16, msg string) string {
	return "\xff" + string([]byte{byte(code), byte(code >> 8)}) + msg
}

// Capabilities of the fake server: MySQL 8's usual set.
const fakeCaps = 0xdfffffff &^ capSSLVerifyServerCrt

var fakeGreeting = packet(0, greetingPayload("8.0.36-fake", fakeCaps, 0, "caching_sha2_password"))

// fakeServer is a scripted MySQL server behaving as m, for the shared
// failure-mode table: it greets, reads the client's first packet
// (recorded as "SSLRequest" when it is one, "other" otherwise) and
// answers as the mode wants.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		greeting := fakeGreeting
		switch m {
		case fakemail.NoSTARTTLS, fakemail.NoEHLO:
			greeting = packet(0, greetingPayload("8.0.36-fake", fakeCaps&^capSSL, 0, "caching_sha2_password"))
		case fakemail.Throttle:
			_ = c.Send(packet(0, errPayload(1040, "Too many connections")))
			return
		case fakemail.DelayGreeting:
			time.Sleep(fakemail.GreetingDelay)
		case fakemail.Tarpit:
			_ = c.Trickle(greeting, fakemail.TarpitInterval)
			return
		case fakemail.Endless:
			// A greeting of the longest payload a packet holds, continued
			// by further packets, endlessly.
			_ = c.Send("\xff\xff\xff\x00\x0a")
			c.Repeat("8.0.36-endless ")
			return
		case fakemail.LongLine:
			c.LongLine("\x00\x00\x10\x00\x0a", fakemail.LongLineSize)
			return
		case fakemail.CloseMid:
			return
		}
		if c.Send(greeting) != nil {
			return
		}
		hdr := make([]byte, 4)
		if _, err := io.ReadFull(c.Reader(), hdr); err != nil {
			return
		}
		body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
		if _, err := io.ReadFull(c.Reader(), body); err != nil {
			return
		}
		caps, _ := clientCaps(body, true)
		if hdr[3] != 1 || len(body) != 32 || caps&capSSL == 0 {
			c.Record("other")
			return
		}
		c.Record("SSLRequest")
		if m == fakemail.AlertAfterSTARTTLS {
			_ = c.Send(string(fakemail.Alert))
			return
		}
		_ = c.ServeTLS()
	}
}
