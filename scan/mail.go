package scan

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tlsmap/tlsmap/protocols/imap"
	"github.com/tlsmap/tlsmap/protocols/pop3"
	"github.com/tlsmap/tlsmap/protocols/smtp"
)

// Errors of the mail dialogues, wrapped (with the protocol's own error) by
// the StagePreamble errors of the upgraders MailUpgraders returns. A scan
// whose first probe fails with one of them reports the endpoint with a
// clear reason (Result.Error) instead of the raw dialogue error.
var (
	// ErrNoSTARTTLS: the server did not advertise STARTTLS (STLS) and
	// MailOptions.StartTLSAnyway was not set.
	ErrNoSTARTTLS = errors.New("scan: STARTTLS not advertised")
	// ErrSTARTTLSRefused: the server answered STARTTLS (STLS) with an
	// error.
	ErrSTARTTLSRefused = errors.New("scan: STARTTLS refused")
)

// Politeness towards a server that asks to be left alone (ErrThrottled):
// each throttled probe waits, then tries again, at most throttleRetries
// times; the wait doubles from throttleBackoff up to throttleMaxBackoff
// and is shared by every probe of the endpoint.
var (
	throttleRetries    = 3
	throttleBackoff    = time.Second
	throttleMaxBackoff = 4 * time.Second
)

// MailOptions configure MailUpgraders.
type MailOptions struct {
	// Helo is the SMTP EHLO/HELO name (default smtp.DefaultHelo).
	Helo string
	// StartTLSAnyway sends STARTTLS (STLS) even when it was not
	// advertised.
	StartTLSAnyway bool
	// Timeout bounds one dialogue (0: the protocol package's default; the
	// NetDialer's own Timeout bounds the dial and the dialogue together).
	Timeout time.Duration
	// Record, when set, is called with the dialogue of every successful
	// upgrade, and of every one that completed but will not upgrade
	// (STARTTLS not advertised or refused) (from the scan's goroutines: it must be safe for concurrent
	// use). ScanTarget keeps the first of each endpoint in
	// Result.Dialogue whether or not Record is set.
	Record func(Target, *Dialogue)
}

// MailUpgraders returns the STARTTLS dialogues of SMTP (smtp and
// submission targets), IMAP and POP3, for NetDialer.Upgraders. The
// implicit-TLS forms (smtps, imaps, pop3s) need none. Each probe of a scan
// is a fresh connection running the whole dialogue.
//
// A server's request to come back later wraps ErrThrottled (the scan backs
// off and retries), STARTTLS not advertised wraps ErrNoSTARTTLS, a refusal
// ErrSTARTTLSRefused; the protocol package's *Error stays in the chain.
func MailUpgraders(opts MailOptions) map[Protocol]Upgrader {
	// record keeps the dialogue of an upgrade that succeeded, or that
	// completed but will not upgrade (STARTTLS not advertised or
	// refused): what the server said is a finding either way.
	record := func(ctx context.Context, t Target, err error, d *Dialogue) {
		if err != nil && !errors.Is(err, ErrNoSTARTTLS) && !errors.Is(err, ErrSTARTTLSRefused) {
			return
		}
		if s, ok := ctx.Value(dialogueKey{}).(*dialogueSlot); ok {
			s.set(d)
		}
		if opts.Record != nil {
			opts.Record(t, d)
		}
	}
	smtpUp := func(ctx context.Context, conn net.Conn, t Target) error {
		info, err := smtp.Upgrade(ctx, conn, smtp.Options{Helo: opts.Helo, Timeout: opts.Timeout, StartTLSAnyway: opts.StartTLSAnyway})
		var pe *smtp.Error
		reply := ""
		if errors.As(err, &pe) {
			reply = pe.Reply
		}
		err = mailError(err, reply, smtp.ErrThrottled, smtp.ErrNoSTARTTLS, smtp.ErrSTARTTLSRefused)
		if info != nil {
			record(ctx, t, err, &Dialogue{Protocol: "smtp", Banner: info.Banner, Software: info.Software,
				Capabilities: info.Capabilities, STARTTLSAdvertised: info.STARTTLSAdvertised, PlaintextAuth: info.PlaintextAuth})
		}
		return err
	}
	return map[Protocol]Upgrader{
		ProtoSMTP:       smtpUp,
		ProtoSubmission: smtpUp,
		ProtoIMAP: func(ctx context.Context, conn net.Conn, t Target) error {
			info, err := imap.Upgrade(ctx, conn, imap.Options{Timeout: opts.Timeout, StartTLSAnyway: opts.StartTLSAnyway})
			var pe *imap.Error
			reply := ""
			if errors.As(err, &pe) {
				reply = pe.Reply
			}
			err = mailError(err, reply, imap.ErrThrottled, imap.ErrNoSTARTTLS, imap.ErrSTARTTLSRefused)
			if info != nil {
				record(ctx, t, err, &Dialogue{Protocol: "imap", Banner: info.Banner, Software: info.Software,
					Capabilities: info.Capabilities, STARTTLSAdvertised: info.STARTTLSAdvertised, PlaintextAuth: info.PlaintextAuth})
			}
			return err
		},
		ProtoPOP3: func(ctx context.Context, conn net.Conn, t Target) error {
			info, err := pop3.Upgrade(ctx, conn, pop3.Options{Timeout: opts.Timeout, StartTLSAnyway: opts.StartTLSAnyway})
			var pe *pop3.Error
			reply := ""
			if errors.As(err, &pe) {
				reply = pe.Reply
			}
			err = mailError(err, reply, pop3.ErrThrottled, pop3.ErrNoSTARTTLS, pop3.ErrSTARTTLSRefused)
			if info != nil {
				record(ctx, t, err, &Dialogue{Protocol: "pop3", Banner: info.Banner, Software: info.Software,
					Capabilities: info.Capabilities, STARTTLSAdvertised: info.STARTTLSAdvertised, PlaintextAuth: info.PlaintextAuth})
			}
			return err
		},
	}
}

// DialogueError is the error of a mail dialogue that a scan reports by
// kind: Kind is ErrThrottled, ErrNoSTARTTLS or ErrSTARTTLSRefused, Reply
// the server's reply, Err the protocol package's error.
type DialogueError struct {
	Kind  error
	Reply string
	Err   error
}

func (e *DialogueError) Error() string { return e.Err.Error() }

// Unwrap returns Kind and Err, so that errors.Is matches both the scan's
// sentinel and the protocol's.
func (e *DialogueError) Unwrap() []error { return []error{e.Kind, e.Err} }

// Reason is the one-line reason a result gives for the error:
// "throttled: 421 4.7.0 Try again later", "STARTTLS not advertised (use
// --starttls-anyway)", "STARTTLS refused: 454 4.7.0 TLS not available".
func (e *DialogueError) Reason() string {
	reply := strings.ReplaceAll(strings.TrimSpace(e.Reply), "\n", " / ")
	switch e.Kind {
	case ErrThrottled:
		if reply == "" {
			return "throttled by the server"
		}
		return "throttled: " + reply
	case ErrNoSTARTTLS:
		return "STARTTLS not advertised (use --starttls-anyway)"
	case ErrSTARTTLSRefused:
		if reply == "" {
			return "STARTTLS refused"
		}
		return "STARTTLS refused: " + reply
	}
	return e.Err.Error()
}

// mailError classifies a protocol dialogue's error; other errors are
// returned as they are.
func mailError(err error, reply string, throttled, noSTARTTLS, refused error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, throttled):
		return &DialogueError{Kind: ErrThrottled, Reply: reply, Err: err}
	case errors.Is(err, noSTARTTLS):
		return &DialogueError{Kind: ErrNoSTARTTLS, Reply: reply, Err: err}
	case errors.Is(err, refused):
		return &DialogueError{Kind: ErrSTARTTLSRefused, Reply: reply, Err: err}
	}
	return err
}

// dialReason is the reason of a probe whose connection failed: a mail
// dialogue's Reason, otherwise the error's text.
func dialReason(err error) string {
	var de *DialogueError
	if errors.As(err, &de) {
		return de.Reason()
	}
	return err.Error()
}

// dialogueKey is the context key of an endpoint's dialogueSlot.
type dialogueKey struct{}

// dialogueSlot keeps the first dialogue of an endpoint; ScanTarget puts
// one in the context its dialer sees, and the mail upgraders fill it.
type dialogueSlot struct {
	mu sync.Mutex
	d  *Dialogue
}

func (s *dialogueSlot) set(d *Dialogue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		s.d = d
	}
}

func (s *dialogueSlot) get() *Dialogue {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.d
}

// throttled waits out the endpoint's backoff after a throttled probe:
// every probe of the endpoint waits until the backoff has passed. It
// returns false when ctx ends first.
func (e *endpoint) throttled(ctx context.Context) bool {
	e.mu.Lock()
	d := throttleBackoff << e.throttles
	if d > throttleMaxBackoff || d <= 0 {
		d = throttleMaxBackoff
	}
	e.throttles++
	until := time.Now().Add(d)
	if until.After(e.throttleUntil) {
		e.throttleUntil = until
	}
	e.mu.Unlock()
	return e.waitThrottle(ctx)
}

// waitThrottle sleeps until the endpoint's backoff has passed; false when
// ctx ended first.
func (e *endpoint) waitThrottle(ctx context.Context) bool {
	e.mu.Lock()
	wait := time.Until(e.throttleUntil)
	e.mu.Unlock()
	if wait <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// endpointError is the status and failure of an endpoint whose first
// probe could not connect: a throttling server leaves it inconclusive, a
// STARTTLS not advertised or refused unreachable with a clear reason.
func endpointError(err error) (Status, Failure) {
	f := failureOf(StageDial, err)
	var de *DialogueError
	if errors.As(err, &de) && de.Kind == ErrThrottled {
		return StatusInconclusive, f
	}
	return StatusUnreachable, f
}
