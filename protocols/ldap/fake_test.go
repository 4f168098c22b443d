package ldap

import (
	"time"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// fakeServer is a scripted LDAP server behaving as m, for the shared
// failure-mode table: it answers the root DSE search, a simple bind
// (always invalidCredentials) and StartTLS, and records what the client
// asked as lines ("search", "bind NAME", "extended OID", "unbind").
func fakeServer(m fakemail.Mode) fakemail.Handler {
	return func(c *fakemail.Conn) {
		first := true
		// send writes a response as the mode wants the first one; false
		// when the script must stop.
		send := func(b []byte) bool {
			if first {
				first = false
				switch m {
				case fakemail.DelayGreeting:
					time.Sleep(fakemail.GreetingDelay)
				case fakemail.Tarpit:
					_ = c.Trickle(string(b), fakemail.TarpitInterval)
					return false
				case fakemail.LongLine:
					c.LongLine("\x30\x83\x10\x00\x00", fakemail.LongLineSize)
					return false
				}
			}
			return c.Send(string(b)) == nil
		}
		for {
			b, err := readMessage(c.Reader(), 1<<20)
			if err != nil {
				return
			}
			req, ok := parseMessage(b)
			if !ok {
				return
			}
			if m == fakemail.Throttle {
				_ = c.Send(string(response(0, tagExtendedResponse, codeBusy, "too many connections", OIDNoticeOfDisconnection)))
				return
			}
			switch req.op {
			case tagSearchRequest:
				c.Record("search")
				switch m {
				case fakemail.CloseMid:
					return
				case fakemail.Endless:
					_ = c.Send(string(searchRef(req.id, "ldap://x")))
					c.Repeat(string(searchRef(req.id, "ldap://x")))
					return
				}
				ext := []string{OIDStartTLS, "1.3.6.1.4.1.4203.1.11.3"}
				if m == fakemail.NoSTARTTLS {
					ext = ext[1:]
				}
				e := entry(req.id, "", []attribute{
					{"namingContexts", []string{"dc=fake,dc=test"}},
					{"supportedLDAPVersion", []string{"3"}},
					{"supportedExtension", ext},
					{"supportedSASLMechanisms", []string{"DIGEST-MD5", "PLAIN"}},
					{"vendorName", []string{"FakeLDAP Project"}},
					{"vendorVersion", []string{"1.0"}},
				})
				if !send(append(e, response(req.id, tagSearchResDone, codeSuccess, "", "")...)) {
					return
				}
			case tagBindRequest:
				var s cryptobyte.String = req.body
				var v, name cryptobyte.String
				readTagged(&s, 0x02, &v)
				readTagged(&s, 0x04, &name)
				c.Record("bind " + string(name))
				if !send(response(req.id, tagBindResponse, codeInvalidCredentials, "", "")) {
					return
				}
			case tagExtendedRequest:
				oid, _ := parseExtendedRequestName(req.body)
				c.Record("extended " + oid)
				switch {
				case oid != OIDStartTLS:
					send(response(req.id, tagExtendedResponse, codeProtocolError, "unsupported extended operation", ""))
				case m == fakemail.Refuse:
					send(response(req.id, tagExtendedResponse, codeUnavailable, "TLS not configured", ""))
				case m == fakemail.RefuseBad:
					send(response(req.id, tagExtendedResponse, codeProtocolError, "unsupported extended operation", ""))
				case m == fakemail.AlertAfterSTARTTLS:
					_ = c.Send(string(response(req.id, tagExtendedResponse, codeSuccess, "", OIDStartTLS)) + string(fakemail.Alert))
					return
				default:
					if send(response(req.id, tagExtendedResponse, codeSuccess, "", OIDStartTLS)) {
						_ = c.ServeTLS()
					}
					return
				}
			case tagUnbindRequest:
				c.Record("unbind")
				return
			default:
				return
			}
		}
	}
}

// response builds an LDAPResult-shaped response; name is an
// ExtendedResponse's responseName ("" for none).
func response(id int64, op uint8, code int64, diag, name string) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(op), func(b *cryptobyte.Builder) {
			b.AddASN1Enum(code)
			b.AddASN1OctetString(nil)
			b.AddASN1OctetString([]byte(diag))
			if name != "" {
				b.AddASN1(asn1.Tag(tagResponseName), func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
			}
		})
	})
}

// entry builds a SearchResultEntry.
func entry(id int64, dn string, attrs []attribute) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(tagSearchResEntry), func(b *cryptobyte.Builder) {
			b.AddASN1OctetString([]byte(dn))
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, a := range attrs {
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1OctetString([]byte(a.name))
						b.AddASN1(asn1.SET, func(b *cryptobyte.Builder) {
							for _, v := range a.values {
								b.AddASN1OctetString([]byte(v))
							}
						})
					})
				}
			})
		})
	})
}

// searchRef builds a SearchResultReference.
func searchRef(id int64, uri string) []byte {
	return envelope(id, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.Tag(tagSearchResRef), func(b *cryptobyte.Builder) { b.AddASN1OctetString([]byte(uri)) })
	})
}
