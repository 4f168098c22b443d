// Package pop3 speaks the plaintext part of POP3 (RFC 1939) up to STLS
// (RFC 2595 §4), in both directions of tlsmap:
//
//   - Upgrade (scan) reads the +OK greeting, asks for the capabilities with
//     CAPA (RFC 2449; -ERR tolerated), sends STLS and returns with the
//     connection positioned at the first byte of the TLS handshake.
//   - Capabilities reads the greeting and CAPA over an implicit TLS
//     connection (POP3S, port 995, RFC 8314).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
package pop3

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "pop3"

// Protocol is POP3's entry in the protocols registry: pop3 (STLS, port
// 110) and pop3s (implicit TLS, 995).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "pop3", Port: 110, Form: protocols.STARTTLS},  // RFC 2595 §4
		{Name: "pop3s", Port: 995, Form: protocols.Implicit}, // RFC 8314
	},
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included; RFC 2449 §4 allows 512
	DefaultMaxLines = 256  // lines of the CAPA list
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// AttrAPOP, an attribute of the Dialogue, is "true" when the greeting
// carries an APOP timestamp ("<…@…>", RFC 1939 §7).
const AttrAPOP = "apop"
