package sniff

import (
	"github.com/tlsmap/tlsmap/protocols"
	_ "github.com/tlsmap/tlsmap/protocols/all" // the protocols sniff knows
)

// DefaultRecognizers returns the STARTTLS recognisers of every protocol in
// the protocols registry (SMTP, IMAP, POP3 …), in registration order.
// Config.Recognizers takes them; a nil list recognises TLS only where it
// starts at a connection's first byte.
func DefaultRecognizers() []protocols.Recognizer {
	var rs []protocols.Recognizer
	for _, p := range protocols.All() {
		if p.Recognize != nil {
			rs = append(rs, p.Recognize)
		}
	}
	return rs
}

// portProtocol names the application protocol of a flow that is TLS from
// its first byte by the server's port: the registered protocol with an
// implicit-TLS scheme on that port (443 https, 465 smtp, 993 imap, 995
// pop3), "tls" for any other.
func portProtocol(port uint16) string {
	if p, s, ok := protocols.ForPort(port); ok && s.Form == protocols.Implicit {
		return p.Name
	}
	return "tls"
}
