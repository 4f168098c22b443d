// Package ftp speaks the plaintext part of FTP (RFC 959) up to AUTH TLS
// (RFC 4217 §4), in both directions of tlsmap:
//
//   - Upgrade (scan) reads the 220 greeting, asks for the features with
//     FEAT (RFC 2389; a refusal leaves them unknown), probes whether USER
//     is taken before TLS (Options.Probe), sends AUTH TLS and returns with
//     the connection positioned at the first byte of the TLS handshake.
//   - Capabilities reads the greeting and FEAT over an implicit-TLS
//     connection (FTPS, port 990).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// Replies are parsed as RFC 959 §4.2 writes them (a multi-line reply's
// inner lines are free text), with a bound on the length of a line and on
// the number of lines of a reply; the whole dialogue runs under the
// caller's context and a deadline.
package ftp

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "ftp"

// Protocol is FTP's entry in the protocols registry: ftp (AUTH TLS, port
// 21) and ftps (implicit TLS, 990).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "ftp", Port: 21, Form: protocols.STARTTLS},   // RFC 4217 §4
		{Name: "ftps", Port: 990, Form: protocols.Implicit}, // FTP over TLS from the first byte
	},
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included
	DefaultMaxLines = 256  // lines of one multi-line reply (FEAT's)
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// StageUser is the stage of the USER probe (Options.Probe), for
// protocols.Error.Stage; FEAT is protocols.StageCapability and AUTH TLS
// protocols.StageSTARTTLS.
const StageUser = "user"

// Attributes of the Dialogue.
const (
	// AttrFeat is "listed" when FEAT answered 211, otherwise the refusal
	// ("500 …"): then whether AUTH TLS is offered is not known.
	AttrFeat = "feat"
	// AttrUser is what the USER probe showed before TLS: "accepted (331
	// …)" when the server asked for the password of a made-up user in
	// clear, "refused (530 …)" when it wants TLS first (absent without
	// Options.Probe).
	AttrUser = "user"
)

// probeUser is the made-up user name of the USER probe; no PASS follows
// it, so no login fails.
const probeUser = "tlsmap-probe"
