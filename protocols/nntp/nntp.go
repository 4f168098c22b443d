// Package nntp speaks the plaintext part of NNTP (RFC 3977) up to
// STARTTLS (RFC 4642), in both directions of tlsmap:
//
//   - Upgrade (scan) reads the greeting (200 or 201), asks for the
//     capabilities with CAPABILITIES (RFC 3977 §5.2; a refusal leaves them
//     unknown), switches a mode-switching server to reading with MODE
//     READER when only that offers STARTTLS, sends STARTTLS and returns
//     with the connection positioned at the first byte of the TLS
//     handshake.
//   - Capabilities reads the greeting and CAPABILITIES over an
//     implicit-TLS connection (NNTPS, port 563, RFC 8143).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// Responses are parsed as RFC 3977 §3.2 writes them (a three-digit status
// code, then text; a multi-line data block after the codes that have one,
// ended by a "." line, RFC 3977 §3.1.1), with a bound on the length of a
// line and on the number of lines of a block; the whole dialogue runs
// under the caller's context and a deadline.
package nntp

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "nntp"

// Protocol is NNTP's entry in the protocols registry: nntp (STARTTLS,
// port 119, RFC 4642) and nntps (implicit TLS, 563, RFC 8143).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "nntp", Port: 119, Form: protocols.STARTTLS},  // RFC 4642 §2
		{Name: "nntps", Port: 563, Form: protocols.Implicit}, // RFC 8143
	},
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included; RFC 3977 §3.1 allows 512 for a response's first line
	DefaultMaxLines = 256  // lines of the capability list
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// StageModeReader is the stage of MODE READER (RFC 3977 §5.3), sent to
// a mode-switching server whose capabilities offer no STARTTLS before
// it, for protocols.Error.Stage; CAPABILITIES is
// protocols.StageCapability and STARTTLS protocols.StageSTARTTLS.
const StageModeReader = "mode-reader"

// Attributes of the Dialogue.
const (
	// AttrPosting is "true" when the greeting was 200 (posting allowed),
	// "false" for 201 (RFC 3977 §5.1.1).
	AttrPosting = "posting"
	// AttrCapabilities is "listed" when CAPABILITIES answered 101,
	// otherwise the refusal ("500 …", a server older than RFC 3977): then
	// whether STARTTLS is offered is not known, and it is asked for.
	AttrCapabilities = "capabilities"
	// AttrModeReader is the answer to MODE READER ("200 …") when the
	// dialogue sent it (absent otherwise).
	AttrModeReader = "mode-reader"
	// AttrAuthinfo is the AUTHINFO capability as listed before TLS
	// ("AUTHINFO USER SASL", or "AUTHINFO" alone: authentication exists
	// but no variant is usable yet, RFC 4643 §2.1); absent when the
	// server lists none.
	AttrAuthinfo = "authinfo"
)
