// Package irc speaks the plaintext part of IRC (RFC 1459, RFC 2812) up to
// STARTTLS (the IRCv3 tls extension, https://ircv3.net/specs/deprecated/tls),
// in both directions of tlsmap:
//
//   - Upgrade (scan) asks for the capabilities with CAP LS 302 (IRCv3
//     capability negotiation; RFC 2812 has none, and a server answering
//     421 or 451 leaves them unknown), sends STARTTLS when they list tls
//     (or when they are unknown) and returns with the connection
//     positioned at the first byte of the TLS handshake. It needs no
//     greeting: many servers send NOTICEs at once, some nothing until the
//     client speaks.
//   - Capabilities runs CAP LS 302 over an implicit-TLS connection
//     (ircs, port 6697).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// Messages are parsed as RFC 2812 §2.3.1 writes them (an optional prefix,
// a command or a three-digit numeric, up to 15 parameters, the last one
// after ':' possibly with spaces), with the IRCv3 message tags before
// them, with a bound on the length of a line and on the number of lines
// read while waiting for one answer; the whole dialogue runs under the
// caller's context and a deadline.
package irc

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "irc"

// Protocol is IRC's entry in the protocols registry: irc (STARTTLS, port
// 6667) and ircs (implicit TLS, 6697; RFC 7194).
//
// ClientFirst is false: most servers (UnrealIRCd, Solanum, InspIRCd
// with host name lookups …) greet at once with a NOTICE ("*** Looking up
// your hostname..."), and Detect matches a greeting against the
// server-first protocols only, so that --starttls auto names such a
// server from its first line. QuietServer is true: a server that says
// nothing until the client speaks (InspIRCd without host name lookups,
// ngIRCd) is tried with Upgrade, which needs no greeting, on a silent
// port.
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "irc", Port: 6667, Form: protocols.STARTTLS},  // IRCv3 tls extension
		{Name: "ircs", Port: 6697, Form: protocols.Implicit}, // RFC 7194
	},
	QuietServer:  true,
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxLine is RFC 1459 §2.3's 512 bytes (CRLF included) plus
	// the 8191 bytes IRCv3 message tags may add; real servers send lines
	// longer than 512 bytes.
	DefaultMaxLine = 8704
	// DefaultMaxLines bounds the lines read while waiting for one answer
	// (the CAP LS reply and its continuations, NOTICEs, PINGs).
	DefaultMaxLines = 256
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// Attributes of the Dialogue.
const (
	// AttrCapabilities is "listed" when CAP LS was answered, otherwise
	// the refusal (":srv 421 * CAP :Unknown command", a server without
	// IRCv3 capability negotiation): then whether STARTTLS is offered is
	// not known, and it is asked for.
	AttrCapabilities = "capabilities"
	// AttrServer is the server's name, from the prefix of its messages
	// (RFC 2812 §2.3.1).
	AttrServer = "server"
	// AttrSASL is the sasl capability as listed ("sasl=PLAIN,EXTERNAL",
	// or "sasl" when the server names no mechanism); absent when it lists
	// none.
	AttrSASL = "sasl"
	// AttrSTS is the value of the IRCv3 sts capability (strict transport
	// security: "port=6697,duration=…" in clear asks clients to go to TLS
	// on that port); absent when it lists none.
	AttrSTS = "sts"
)
