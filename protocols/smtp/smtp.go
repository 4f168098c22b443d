// Package smtp speaks the plaintext part of SMTP (RFC 5321) up to STARTTLS
// (RFC 3207), in both directions of tlsmap:
//
//   - Upgrade (scan) reads the greeting, sends EHLO (HELO when EHLO is
//     refused) and STARTTLS, and returns with the connection positioned
//     at the first byte of the TLS handshake.
//   - Capabilities reads the greeting and the EHLO reply over an implicit
//     TLS connection (SMTPS, port 465, RFC 8314).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// Replies are parsed line by line with a bound on the length of a line
// and on the number of lines of a reply; the whole dialogue runs under the
// caller's context and a deadline.
package smtp

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "smtp"

// Protocol is SMTP's entry in the protocols registry: smtp (STARTTLS, port
// 25), submission (STARTTLS, 587) and smtps (implicit TLS, 465).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "smtp", Port: 25, Form: protocols.STARTTLS},        // RFC 3207
		{Name: "submission", Port: 587, Form: protocols.STARTTLS}, // RFC 6409
		{Name: "smtps", Port: 465, Form: protocols.Implicit},      // RFC 8314
	},
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	// DefaultHelo is the EHLO name when Options.ClientName is empty. RFC
	// 5321 §4.1.1.1 wants a domain or an address literal; ".invalid" (RFC
	// 2606) is reserved and can never be a real host.
	DefaultHelo     = "tlsmap.invalid"
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included; RFC 5321 §4.5.3.1.5 allows 512
	DefaultMaxLines = 256  // lines of one multi-line reply
)

var defaults = protocols.Options{ClientName: DefaultHelo, Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// StageEHLO is the stage of EHLO (and the HELO fallback), for
// protocols.Error.Stage; the others are protocols.StageGreeting and
// protocols.StageSTARTTLS.
const StageEHLO = "ehlo"

// Attribute of the Dialogue: "esmtp" is "true" when the server accepted
// EHLO, "false" after the HELO fallback (no extensions, so no STARTTLS).
const AttrESMTP = "esmtp"
