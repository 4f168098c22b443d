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
	"errors"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
	"strings"
	"time"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "pop3"

// Defaults of Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included; RFC 2449 §4 allows 512
	DefaultMaxLines = 256  // lines of the CAPA list
)

// Options tune Upgrade and Capabilities. The zero value is usable.
type Options struct {
	// Timeout bounds the whole dialogue (default DefaultTimeout); an
	// earlier deadline of the context wins.
	Timeout time.Duration
	// MaxLine is the longest response line accepted, in bytes (default
	// DefaultMaxLine). A longer line is an error; it is never buffered.
	MaxLine int
	// MaxLines is the most lines of a multi-line response (default
	// DefaultMaxLines).
	MaxLines int
	// StartTLSAnyway sends STLS even when CAPA did not list it (or CAPA
	// failed).
	StartTLSAnyway bool
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.MaxLines <= 0 {
		o.MaxLines = DefaultMaxLines
	}
	return o
}

// Info is what the plaintext dialogue revealed.
type Info struct {
	// Banner is the greeting's text after "+OK ".
	Banner string
	// Software is the server software guessed from the banner
	// ("Dovecot", "Courier", "Cyrus", "Microsoft Exchange" …), or "".
	Software string
	// APOP is true when the greeting carries an APOP timestamp
	// ("<…@…>", RFC 1939 §7).
	APOP bool
	// Capabilities are the lines of the CAPA response, as sent ("USER",
	// "SASL PLAIN LOGIN", "STLS"); empty when CAPA failed.
	Capabilities []string
	// STARTTLSAdvertised is true when CAPA listed STLS.
	STARTTLSAdvertised bool
	// AuthMechanisms are the SASL mechanisms of the SASL capability (RFC
	// 2449 §6.3), upper case.
	AuthMechanisms []string
	// PlaintextAuth is how a client may authenticate before TLS: "USER"
	// when CAPA lists it (USER/PASS, RFC 1939 §7), then the
	// AuthMechanisms. A finding, since the credentials cross the network
	// in clear. Empty after Capabilities, whose dialogue runs over TLS.
	PlaintextAuth []string
}

// Stages of the dialogue, for Error.Stage.
const (
	StageConnect    = "connect" // for callers that report their dial failures as an *Error
	StageGreeting   = "greeting"
	StageCapability = "capability"
	StageSTARTTLS   = "starttls"
)

// Sentinel errors, matched with errors.Is on an *Error.
var (
	// ErrNoSTARTTLS: CAPA did not list STLS (or failed), and
	// Options.StartTLSAnyway was not set.
	ErrNoSTARTTLS = errors.New("pop3: STLS not advertised")
	// ErrSTARTTLSRefused: the server answered STLS with -ERR.
	ErrSTARTTLSRefused = errors.New("pop3: STLS refused")
	// ErrThrottled: the server turned the connection away: -ERR instead
	// of the greeting, or -ERR [IN-USE] / [SYS/TEMP] (RFC 2449 §8, RFC
	// 3206) at any stage. The scanner backs off and retries.
	ErrThrottled = errors.New("pop3: throttled")
	// ErrUnexpectedReply: a well-formed response that makes no sense at
	// its stage (-ERR [SYS/PERM] instead of a greeting).
	ErrUnexpectedReply = errors.New("pop3: unexpected response")
	// ErrMalformed: a line that starts with neither "+OK" nor "-ERR".
	ErrMalformed = errors.New("pop3: malformed response")
	// ErrLineTooLong: a response line longer than Options.MaxLine.
	ErrLineTooLong = errors.New("pop3: response line too long")
	// ErrTooManyLines: a multi-line response longer than Options.MaxLines.
	ErrTooManyLines = errors.New("pop3: too many response lines")
)

// Error is the error of a failed dialogue: the stage it failed at, the
// server's response when there was one, and the cause.
type Error struct {
	Stage string // StageGreeting, StageCapability, StageSTARTTLS
	// Reply is the server's response that ended the dialogue ("-ERR TLS not
	// available"); empty for I/O errors.
	Reply string
	// Temporary is true when the server asked to come back later: -ERR
	// with [IN-USE] or [SYS/TEMP] (RFC 2449 §8, RFC 3206).
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	msg := "pop3: " + e.Stage + ": " + strings.TrimPrefix(e.Err.Error(), "pop3: ")
	if e.Reply != "" {
		msg += ": " + plaintext.QuoteReply(e.Reply)
	}
	return msg
}

// Unwrap returns the cause: a sentinel of this package, a context error,
// or an I/O error (os.ErrDeadlineExceeded, io.EOF …).
func (e *Error) Unwrap() error { return e.Err }
