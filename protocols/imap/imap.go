// Package imap speaks the plaintext part of IMAP (RFC 3501, RFC 9051) up
// to STARTTLS, in both directions of tlsmap:
//
//   - Upgrade (scan) reads the greeting, asks for the capabilities (unless
//     the greeting carried them), sends a tagged STARTTLS and returns with
//     the connection positioned at the first byte of the TLS handshake.
//   - Capabilities reads the greeting and the capabilities over an
//     implicit TLS connection (IMAPS, port 993, RFC 8314).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// Responses are parsed with github.com/emersion/go-imap (v1): its wire
// Reader and ReadResp turn each response into a status or data response.
// go-imap's clients (v1 and v2) both do the TLS handshake themselves with
// crypto/tls, which a scanner sending its own ClientHellos cannot use, so
// this package reads the lines itself (bounded, and never past the tagged
// OK to STARTTLS) and writes its four commands itself.
package imap

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "imap"

// Protocol is IMAP's entry in the protocols registry: imap (STARTTLS,
// port 143) and imaps (implicit TLS, 993).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "imap", Port: 143, Form: protocols.STARTTLS},  // RFC 3501 §6.2.1
		{Name: "imaps", Port: 993, Form: protocols.Implicit}, // RFC 8314
	},
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes of one response, literals included
	DefaultMaxLines = 256  // untagged responses before a tagged one
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// Attributes of the Dialogue: "greeting" is the greeting's status ("OK",
// "PREAUTH" or "BYE"); "logindisabled" is "true" when the capabilities
// list LOGINDISABLED (RFC 3501 §7.2.1: no LOGIN before TLS).
const (
	AttrGreeting      = "greeting"
	AttrLoginDisabled = "logindisabled"
)
