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
	"errors"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
	"strings"
	"time"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "smtp"

// Defaults of Options.
const (
	// DefaultHelo is the EHLO name when Options.Helo is empty. RFC 5321
	// §4.1.1.1 wants a domain or an address literal; ".invalid" (RFC 2606)
	// is reserved and can never be a real host.
	DefaultHelo     = "tlsmap.invalid"
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes, CRLF included; RFC 5321 §4.5.3.1.5 allows 512
	DefaultMaxLines = 256  // lines of one multi-line reply
)

// Options tune Upgrade and Capabilities. The zero value is usable.
type Options struct {
	// Helo is the name sent with EHLO and HELO (default DefaultHelo).
	Helo string
	// Timeout bounds the whole dialogue (default DefaultTimeout); an
	// earlier deadline of the context wins.
	Timeout time.Duration
	// MaxLine is the longest reply line accepted, in bytes (default
	// DefaultMaxLine). A longer line is an error; it is never buffered.
	MaxLine int
	// MaxLines is the most lines one reply may have (default
	// DefaultMaxLines).
	MaxLines int
	// StartTLSAnyway sends STARTTLS even when EHLO did not advertise it.
	StartTLSAnyway bool
}

func (o Options) withDefaults() Options {
	if o.Helo == "" {
		o.Helo = DefaultHelo
	}
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
	// Banner is the text of the 220 greeting, without the reply codes; the
	// lines of a multi-line greeting are joined with "\n".
	Banner string
	// Software is the server software guessed from the banner and the
	// EHLO reply ("Postfix", "Exim", "Microsoft Exchange", …), or "".
	Software string
	// Extended is true when the server accepted EHLO, false after the
	// HELO fallback (no extensions, so no STARTTLS).
	Extended bool
	// Capabilities are the EHLO keywords with their parameters, as sent
	// ("SIZE 35882577", "STARTTLS", "AUTH PLAIN LOGIN").
	Capabilities []string
	// STARTTLSAdvertised is true when EHLO listed STARTTLS.
	STARTTLSAdvertised bool
	// AuthMechanisms are the SASL mechanisms of the AUTH extension (RFC
	// 4954), upper case.
	AuthMechanisms []string
	// PlaintextAuth are the AuthMechanisms offered before TLS: a finding,
	// since the credentials then cross the network in clear. Empty after
	// Capabilities, whose dialogue runs over TLS.
	PlaintextAuth []string
}

// Stages of the dialogue, for Error.Stage.
const (
	StageConnect    = "connect"
	StageGreeting   = "greeting"
	StageEHLO       = "ehlo"
	StageCapability = "capability"
	StageSTARTTLS   = "starttls"
)

// Sentinel errors, matched with errors.Is on an *Error.
var (
	// ErrNoSTARTTLS: EHLO did not advertise STARTTLS (and
	// Options.StartTLSAnyway was not set).
	ErrNoSTARTTLS = errors.New("smtp: STARTTLS not advertised")
	// ErrSTARTTLSRefused: the server answered STARTTLS with an error
	// reply (454, 5xx).
	ErrSTARTTLSRefused = errors.New("smtp: STARTTLS refused")
	// ErrThrottled: the server is shedding load (421 at any stage, RFC
	// 5321 §3.8; 4xx instead of the greeting). The scanner backs off and
	// retries; the Error's Temporary is true.
	ErrThrottled = errors.New("smtp: throttled")
	// ErrUnexpectedReply: a reply code that makes no sense at its stage
	// (a 554 greeting, a 5xx to HELO …).
	ErrUnexpectedReply = errors.New("smtp: unexpected reply")
	// ErrMalformed: a reply line that is not "ddd", "ddd-text" or "ddd text".
	ErrMalformed = errors.New("smtp: malformed reply")
	// ErrLineTooLong: a reply line longer than Options.MaxLine.
	ErrLineTooLong = errors.New("smtp: reply line too long")
	// ErrTooManyLines: a multi-line reply longer than Options.MaxLines.
	ErrTooManyLines = errors.New("smtp: too many reply lines")
)

// Error is the error of a failed dialogue: the stage it failed at, the
// server's reply when there was one, and the cause.
type Error struct {
	Stage string // StageGreeting, StageEHLO, StageSTARTTLS …
	// Reply is the server's reply that ended the dialogue ("454 4.7.0 TLS
	// not available"), lines joined with "\n"; empty for I/O errors.
	Reply string
	// Temporary is true when the server asked to come back later (421,
	// 4xx greeting, 454): retrying later may succeed.
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	msg := "smtp: " + e.Stage + ": " + strings.TrimPrefix(e.Err.Error(), "smtp: ")
	if e.Reply != "" {
		msg += ": " + plaintext.QuoteReply(e.Reply)
	}
	return msg
}

// Unwrap returns the cause: a sentinel of this package, a context error,
// or an I/O error (os.ErrDeadlineExceeded, io.EOF …).
func (e *Error) Unwrap() error { return e.Err }
