package sniff

import (
	"bytes"
	"errors"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// feed writes bytes to a direction's TLS decoder and handles its events.
func (c *conn) feed(s *Sniffer, side int, p []byte) {
	h := &c.dir[side]
	if h.done {
		return
	}
	if h.dec.d == nil {
		h.dec.d = tls.NewDecoder(s.cfg.MaxBuffer)
	}
	_, werr := h.dec.d.Write(p)
	for {
		ev, err := h.dec.d.Next()
		if err != nil {
			if !errors.Is(err, tls.ErrNeedMore) {
				if werr == nil {
					werr = err
				}
			}
			break
		}
		c.event(s, side, &ev)
		if h.done || c.mode != modeTLS {
			return
		}
	}
	if werr != nil && !errors.Is(werr, tls.ErrNeedMore) {
		if c.shDone {
			// Past the hellos (a certificate chain over the cap, say):
			// nothing we need is lost.
			c.stopSide(s, side)
			c.checkDone(s)
			return
		}
		c.lose(side, lostMalformed, s.sideName(c, side, "malformed ", " stream: "+trimErr(werr)))
		c.stopSide(s, side)
	}
	c.checkDone(s)
}

func trimErr(err error) string {
	return strings.TrimPrefix(err.Error(), "tls: ")
}

// event handles one decoded TLS event of a direction.
func (c *conn) event(s *Sniffer, side int, ev *tls.Event) {
	f := c.flowRec()
	switch ev.Kind {
	case tls.EventHandshake:
		switch ev.HandshakeType {
		case tls.TypeClientHello:
			if f.ClientHello != nil {
				return // a second ClientHello (after a HelloRetryRequest)
			}
			ch, err := tls.ParseClientHello(ev.Message)
			c.clientHello(s, side, "ClientHello", ev.Message, ch, err)
		case tls.TypeServerHello:
			sh, err := tls.ParseServerHello(ev.Message)
			if err != nil {
				c.lose(side, lostMalformed, s.sideName(c, side, "unparsable ServerHello in ", " stream: "+trimErr(err)))
				return
			}
			if c.clientWhy < 2 {
				c.setClient(1-side, 2)
			}
			if sh.HelloRetryRequest {
				f.HelloRetryRequest = true
				return
			}
			f.Version = sh.NegotiatedVersion()
			f.Cipher = sh.CipherSuite
			f.JA3SFull, f.JA3S = ja3s(sh)
			c.shDone = true
			c.shEnd = [2]int{c.dir[0].delivered, c.dir[1].delivered}
		case tls.TypeHelloRetryRequestDraft:
			// TLS 1.3 drafts up to 21: a message of its own.
			if _, err := tls.ParseDraftHelloRetryRequest(ev.Message); err != nil {
				c.note(s.sideName(c, side, "unparsable HelloRetryRequest in ", " stream: "+trimErr(err)))
				return
			}
			if c.clientWhy < 2 {
				c.setClient(1-side, 2)
			}
			f.HelloRetryRequest = true
		default:
			if c.shDone && side == c.client && ev.HandshakeType != tls.TypeClientHello {
				// The client continues the handshake (Certificate,
				// ClientKeyExchange): it accepted the server's hello.
				c.clientCCS = c.clientCCS || ev.HandshakeType == tls.TypeFinished
			}
		}
	case tls.EventAlert:
		if f.Alert == nil {
			a := ev.Alert
			f.Alert = &a
			c.alertSide = side
		}
		if ev.Alert.Level == tls.AlertLevelFatal {
			c.finish(s)
		}
	case tls.EventChangeCipherSpec, tls.EventEncrypted:
		if c.shDone && side == c.client {
			c.clientCCS = true
		}
	case tls.EventSSLv2:
		if len(ev.Message) == 0 {
			return
		}
		switch ev.Message[0] {
		case tls.SSLv2MsgClientHello:
			if f.ClientHello != nil {
				return
			}
			ch, err := tls.ParseSSLv2ClientHello(ev.Message)
			c.clientHello(s, side, "SSLv2 CLIENT-HELLO", ev.Message, ch, err)
		case tls.SSLv2MsgServerHello:
			if _, err := tls.ParseSSLv2ServerHello(ev.Message); err != nil {
				c.lose(side, lostMalformed, s.sideName(c, side, "unparsable SSLv2 SERVER-HELLO in ", " stream: "+trimErr(err)))
				return
			}
			if c.clientWhy < 2 {
				c.setClient(1-side, 2)
			}
			f.Version = tls.VersionSSL20
			c.shDone = true
			c.finish(s)
		}
	}
}

// clientHello records the client's hello (what: "ClientHello", "SSLv2
// CLIENT-HELLO") as parsed from msg, or notes why it did not parse.
func (c *conn) clientHello(s *Sniffer, side int, what string, msg []byte, ch *tls.ClientHello, err error) {
	if err != nil {
		c.lose(side, lostMalformed, s.sideName(c, side, "unparsable "+what+" in ", " stream: "+trimErr(err)))
		return
	}
	c.setClient(side, 2)
	fillClientHello(c.flowRec(), ch, bytes.Clone(msg), tls.JA4TCP)
	c.chEnd = c.dir[side].delivered
}
