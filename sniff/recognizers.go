package sniff

import (
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/imap"
	"github.com/tlsmap/tlsmap/protocols/pop3"
	"github.com/tlsmap/tlsmap/protocols/smtp"
)

// DefaultRecognizers returns the STARTTLS recognisers tlsmap knows: SMTP,
// IMAP and POP3. Config.Recognizers takes them; a nil list recognises TLS
// only where it starts at a connection's first byte.
func DefaultRecognizers() []protocols.Recognizer {
	return []protocols.Recognizer{smtp.Recognize, imap.Recognize, pop3.Recognize}
}
