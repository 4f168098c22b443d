package protocols

import (
	"errors"
	"strings"
)

// Stages of a dialogue shared by the protocols, for Error.Stage; a
// protocol may name others ("ehlo").
const (
	StageGreeting   = "greeting"   // the server's first words
	StageCapability = "capability" // asking what the server offers
	StageSTARTTLS   = "starttls"   // asking to switch to TLS
)

// Sentinel errors of every dialogue, matched with errors.Is on an *Error.
var (
	// ErrNoSTARTTLS: the server did not offer the switch to TLS (and
	// Options.StartTLSAnyway was not set).
	ErrNoSTARTTLS = errors.New("protocols: STARTTLS not advertised")
	// ErrNoTLS: the server said it does no TLS at all, in an answer
	// that is final (PostgreSQL's 'N' to an SSLRequest, RDP's
	// SSL_NOT_ALLOWED_BY_SERVER): asking anyway cannot help. It matches
	// ErrNoSTARTTLS too.
	ErrNoTLS error = &narrower{"protocols: the server does no TLS", ErrNoSTARTTLS}
	// ErrSTARTTLSRefused: the server answered the request to switch to
	// TLS with an error.
	ErrSTARTTLSRefused = errors.New("protocols: STARTTLS refused")
	// ErrThrottled: the server is shedding load and asks to come back
	// later (SMTP 421, IMAP BYE, POP3 -ERR [SYS/TEMP] …). A scanner backs
	// off and retries; the Error's Temporary is true.
	ErrThrottled = errors.New("protocols: throttled")
	// ErrUnexpectedReply: a well-formed reply that makes no sense at its
	// stage.
	ErrUnexpectedReply = errors.New("protocols: unexpected reply")
	// ErrUnknownDomain: the server speaks the protocol but does not
	// serve the name the dialogue gave it (XMPP's host-unknown stream
	// error to the stream's to=): the dialogue needs the service's own
	// domain (Options.Domain, --xmpp-domain). It matches
	// ErrUnexpectedReply too.
	ErrUnknownDomain error = &narrower{"protocols: the server does not serve the domain asked for", ErrUnexpectedReply}
	// ErrMalformed: a reply that does not parse as the protocol.
	ErrMalformed = errors.New("protocols: malformed reply")
	// ErrLineTooLong: a reply longer than Options.MaxLine.
	ErrLineTooLong = errors.New("protocols: reply too long")
	// ErrTooManyLines: an answer of more than Options.MaxLines lines or
	// replies.
	ErrTooManyLines = errors.New("protocols: too many reply lines")
)

// Error is the error of a failed dialogue: the protocol, the stage it
// failed at, the server's reply when there was one, and the cause.
type Error struct {
	Protocol string // the Protocol's Name
	Stage    string // StageGreeting, StageCapability, StageSTARTTLS, or the protocol's own
	// Reply is the server's reply that ended the dialogue ("454 4.7.0 TLS
	// not available"), lines joined with "\n"; empty for I/O errors.
	Reply string
	// Temporary is true when the server asked to come back later:
	// retrying later may succeed.
	Temporary bool
	Err       error
}

func (e *Error) Error() string {
	msg := e.Protocol + ": " + e.Stage + ": " + strings.TrimPrefix(e.Err.Error(), "protocols: ")
	if e.Reply != "" {
		msg += ": " + QuoteReply(e.Reply)
	}
	return msg
}

// Unwrap returns the cause: a sentinel of this package, a context error,
// or an I/O error (os.ErrDeadlineExceeded, io.EOF …).
func (e *Error) Unwrap() error { return e.Err }

// QuoteReply shortens a server reply for a message and keeps control
// characters out of logs.
func QuoteReply(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// narrower is a sentinel that is a case of a broader one: errors.Is
// matches both.
type narrower struct {
	msg   string
	broad error
}

func (n *narrower) Error() string { return n.msg }
func (n *narrower) Unwrap() error { return n.broad }
