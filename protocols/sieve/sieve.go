// Package sieve speaks the plaintext part of ManageSieve (RFC 5804) up to
// STARTTLS (RFC 5804 §2.2), in both directions of tlsmap:
//
//   - Upgrade (scan) reads the server's capability greeting (RFC 5804
//     §1.7), sends STARTTLS and returns with the connection positioned at
//     the first byte of the TLS handshake.
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// Responses are parsed as RFC 5804 §4 writes them: lines of quoted strings
// and literals ({n} / {n+}), ended by an OK, NO or BYE line, with a bound
// on the length of a line and on the number of lines of a response; the
// whole dialogue runs under the caller's context and a deadline.
package sieve

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "sieve"

// Protocol is ManageSieve's entry in the protocols registry: sieve
// (STARTTLS, port 4190, RFC 5804 §1.8).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "sieve", Port: 4190, Form: protocols.STARTTLS}, // RFC 5804 §2.2
	},
	Upgrade:   Upgrade,
	Recognize: Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included; also the longest literal
	DefaultMaxLines = 256  // lines of one response (the capability list)
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}
