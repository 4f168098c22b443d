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
	"errors"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
	"strings"
	"time"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "imap"

// Defaults of Options.
const (
	DefaultTimeout  = 15 * time.Second
	DefaultMaxLine  = 4096 // bytes of one response, literals included
	DefaultMaxLines = 256  // untagged responses before a tagged one
)

// Options tune Upgrade and Capabilities. The zero value is usable.
type Options struct {
	// Timeout bounds the whole dialogue (default DefaultTimeout); an
	// earlier deadline of the context wins.
	Timeout time.Duration
	// MaxLine is the longest response accepted, in bytes, CRLF and
	// literals included (default DefaultMaxLine). A longer one is an
	// error; it is never buffered.
	MaxLine int
	// MaxLines is the most untagged responses accepted before the tagged
	// completion of a command (default DefaultMaxLines).
	MaxLines int
	// StartTLSAnyway sends STARTTLS even when the capabilities do not list
	// it (or the greeting was PREAUTH).
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
	// Greeting is the greeting's status: "OK", "PREAUTH" or "BYE".
	Greeting string
	// Banner is the greeting's human-readable text, after any response
	// code ("Dovecot (Debian) ready.").
	Banner string
	// Software is the server software guessed from the banner
	// ("Dovecot", "Courier", "Cyrus", "Microsoft Exchange" …), or "".
	Software string
	// Capabilities as listed by the server, in its order and case.
	Capabilities []string
	// STARTTLSAdvertised is true when the capabilities list STARTTLS.
	STARTTLSAdvertised bool
	// LoginDisabled is true when the capabilities list LOGINDISABLED
	// (RFC 3501 §7.2.1): no LOGIN before TLS.
	LoginDisabled bool
	// AuthMechanisms are the SASL mechanisms of the AUTH= capabilities,
	// upper case.
	AuthMechanisms []string
	// PlaintextAuth is how a client may authenticate before TLS: "LOGIN"
	// (the command) unless LOGINDISABLED, then the AuthMechanisms not
	// already listed (AUTH=LOGIN folds into LOGIN). A finding, since the
	// credentials cross the network in clear. Empty after Capabilities,
	// whose dialogue runs over TLS.
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
	// ErrNoSTARTTLS: the capabilities do not list STARTTLS, or the
	// greeting was PREAUTH (STARTTLS is only valid before authentication,
	// RFC 3501 §6.2.1), and Options.StartTLSAnyway was not set.
	ErrNoSTARTTLS = errors.New("imap: STARTTLS not advertised")
	// ErrSTARTTLSRefused: the server answered STARTTLS with NO or BAD.
	ErrSTARTTLSRefused = errors.New("imap: STARTTLS refused")
	// ErrThrottled: the server said BYE (on connect, or instead of an
	// answer). The scanner backs off and retries; Temporary is true.
	ErrThrottled = errors.New("imap: throttled")
	// ErrUnexpectedReply: a well-formed response that makes no sense at
	// its stage (a tagged greeting, a continuation request …).
	ErrUnexpectedReply = errors.New("imap: unexpected response")
	// ErrMalformed: a response that does not parse as IMAP.
	ErrMalformed = errors.New("imap: malformed response")
	// ErrLineTooLong: a response longer than Options.MaxLine.
	ErrLineTooLong = errors.New("imap: response too long")
	// ErrTooManyLines: more than Options.MaxLines untagged responses
	// before the tagged one.
	ErrTooManyLines = errors.New("imap: too many untagged responses")
)

// Error is the error of a failed dialogue: the stage it failed at, the
// server's response when there was one, and the cause.
type Error struct {
	Stage string // StageGreeting, StageCapability, StageSTARTTLS
	// Reply is the server's response that ended the dialogue ("a2 NO TLS
	// not available"); empty for I/O errors.
	Reply string
	// Temporary is true when the server asked to come back later (BYE,
	// a NO with the [UNAVAILABLE] code of RFC 5530).
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	msg := "imap: " + e.Stage + ": " + strings.TrimPrefix(e.Err.Error(), "imap: ")
	if e.Reply != "" {
		msg += ": " + plaintext.QuoteReply(e.Reply)
	}
	return msg
}

// Unwrap returns the cause: a sentinel of this package, a context error,
// or an I/O error (os.ErrDeadlineExceeded, io.EOF …).
func (e *Error) Unwrap() error { return e.Err }
