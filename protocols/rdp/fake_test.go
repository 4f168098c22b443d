package rdp

import (
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// confirmPDU is a Connection Confirm TPKT with a negotiation structure
// of type typ (0: none) carrying value.
func confirmPDU(typ, flags uint8, value uint32) string {
	var x cryptobyte.Builder
	x.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(tpduCC)
		b.AddUint16(0)
		b.AddUint16(0x1234)
		b.AddUint8(0)
		if typ != 0 {
			b.AddUint8(typ)
			b.AddUint8(flags)
			addUint16LE(b, 8)
			addUint32LE(b, value)
		}
	})
	return string(tpkt(x.BytesOrPanic()))
}

var (
	selectSSL    = confirmPDU(typeNegRsp, 0x1f, protocolSSL)
	selectRDP    = confirmPDU(typeNegRsp, 0x01, protocolRDP)
	legacy       = confirmPDU(0, 0, 0)
	certNotThere = confirmPDU(typeNegFailure, 0, failSSLCertNotOnServer)
	sslRequired  = confirmPDU(typeNegFailure, 0, failSSLRequired)
	disconnect   = string(tpkt([]byte{6, tpduDR, 0, 0, 0x12, 0x34, 0}))
)

// readRequest reads one TPKT from the client and records its request as
// "request 0x%08x" ("other" when it is none).
func readRequest(c *fakemail.Conn) (request, bool) {
	hdr := make([]byte, tpktHeader)
	if _, err := io.ReadFull(c.Reader(), hdr); err != nil {
		return request{}, false
	}
	n, ok := parseTPKT(hdr)
	if !ok {
		c.Record("other")
		return request{}, false
	}
	body := make([]byte, n-tpktHeader)
	if _, err := io.ReadFull(c.Reader(), body); err != nil {
		return request{}, false
	}
	r, ok := parseRequest(body)
	if !ok || !r.negotiated {
		c.Record("other")
		return r, false
	}
	c.Record(fmt.Sprintf("request 0x%08x", r.requested))
	return r, true
}

// fakeServer is a scripted RDP server behaving as m, for the shared
// failure-mode table: it reads the Connection Request and confirms as
// the mode wants; a request for standard RDP security only (the probe's)
// is confirmed with PROTOCOL_RDP in every mode.
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		req, ok := readRequest(c)
		if !ok {
			return
		}
		if req.requested == protocolRDP {
			_ = c.Send(selectRDP)
			return
		}
		switch m {
		case fakemail.NoSTARTTLS, fakemail.NoEHLO:
			_ = c.Send(legacy)
			return
		case fakemail.Refuse:
			_ = c.Send(certNotThere)
			return
		case fakemail.RefuseBad:
			_ = c.Send(disconnect)
			return
		case fakemail.DelayGreeting:
			time.Sleep(fakemail.GreetingDelay)
		case fakemail.Tarpit:
			_ = c.Trickle(selectSSL, fakemail.TarpitInterval)
			return
		case fakemail.Endless:
			c.Repeat("\x03\x00\xff\xff")
			return
		case fakemail.LongLine:
			c.LongLine("\x03\x00\xff\xff", fakemail.LongLineSize)
			return
		case fakemail.CloseMid:
			return
		case fakemail.AlertAfterSTARTTLS:
			_ = c.Send(selectSSL + string(fakemail.Alert))
			return
		}
		if c.Send(selectSSL) == nil {
			_ = c.ServeTLS()
		}
	}
}
