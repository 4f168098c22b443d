package xmpp

import (
	"errors"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// The fake server's stream header and features.
const (
	fakeHeader   = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1234' from='fake.test' version='1.0'>"
	fakeFeatures = "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" +
		"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
		"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://www.process-one.net/en/ejabberd/' ver='x'/></stream:features>"
	fakeNoTLS = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
		"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://www.process-one.net/en/ejabberd/' ver='x'/></stream:features>"
	proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
)

// fakeServer is a scripted XMPP client-stream server (RFC 6120) behaving
// as m, for the shared failure-mode table. It records what the client
// said as lines: "stream to=DOMAIN", "starttls", "</stream:stream>".
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		for {
			tag, err := readTag(c)
			if err != nil {
				return
			}
			switch {
			case strings.HasPrefix(tag, "<?xml"):
			case strings.HasPrefix(tag, "<stream:stream"):
				to := tag[strings.Index(tag, "to='")+4:]
				c.Record("stream to=" + to[:strings.IndexByte(to, '\'')])
				switch m {
				case fakemail.CloseMid:
					return
				case fakemail.Throttle:
					_ = c.Send(fakeHeader + "<stream:error><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
						"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>too many connections</text></stream:error></stream:stream>")
					return
				case fakemail.DelayGreeting:
					time.Sleep(fakemail.GreetingDelay)
				case fakemail.Tarpit:
					_ = c.Trickle(fakeHeader+fakeFeatures, fakemail.TarpitInterval)
					return
				case fakemail.LongLine:
					c.LongLine(fakeHeader[:len(fakeHeader)-len("version='1.0'>")]+"x='", fakemail.LongLineSize)
					return
				case fakemail.Endless:
					_ = c.Send(fakeHeader + "<stream:features>")
					c.Repeat("<x/>")
					return
				}
				features := fakeFeatures
				if m == fakemail.NoSTARTTLS {
					features = fakeNoTLS
				}
				if c.Send(fakeHeader+features) != nil {
					return
				}
			case strings.HasPrefix(tag, "<starttls"):
				c.Record("starttls")
				switch m {
				case fakemail.Refuse:
					// RFC 6120 §5.4.2.2; the client closes its stream too.
					_ = c.Send("<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>")
					continue
				case fakemail.AlertAfterSTARTTLS:
					_ = c.Send(proceed + string(fakemail.Alert))
					return
				}
				if c.Send(proceed) == nil {
					_ = c.ServeTLS()
				}
				return
			case tag == "</stream:stream>":
				c.Record(tag)
				_ = c.Send("</stream:stream>")
				return
			default:
				return
			}
		}
	}
}

// readTag reads the client's next tag, to its '>'.
func readTag(c *fakemail.Conn) (string, error) {
	var b []byte
	for len(b) < 4096 {
		ch, err := c.Reader().ReadByte()
		if err != nil {
			return "", err
		}
		b = append(b, ch)
		if ch == '>' {
			return strings.TrimSpace(string(b)), nil
		}
	}
	return "", errors.ErrUnsupported
}
