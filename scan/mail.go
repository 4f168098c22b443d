package scan

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Politeness towards a server that asks to be left alone (protocols.ErrThrottled):
// each throttled probe waits, then tries again, at most throttleRetries
// times; the wait doubles from throttleBackoff up to throttleMaxBackoff
// and is shared by every probe of the endpoint.
var (
	throttleRetries    = 3
	throttleBackoff    = time.Second
	throttleMaxBackoff = 4 * time.Second
)

// dialogueReason is the reason of a dialogue that will not reach TLS:
// "throttled: 421 4.7.0 Try again later", "STARTTLS not advertised (use
// --starttls-anyway)", "the server does no TLS: N" (PostgreSQL's answer)
// or "STARTTLS refused: 454 4.7.0 TLS not available";
// ok is false for any other error.
func dialogueReason(err error) (reason string, ok bool) {
	reply := ""
	var pe *protocols.Error
	if errors.As(err, &pe) {
		reply = strings.ReplaceAll(strings.TrimSpace(pe.Reply), "\n", " / ")
	}
	switch {
	case errors.Is(err, protocols.ErrThrottled):
		if reply == "" {
			return "throttled by the server", true
		}
		return "throttled: " + reply, true
	case errors.Is(err, protocols.ErrNoTLS) && reply != "":
		return "the server does no TLS: " + reply, true
	case errors.Is(err, protocols.ErrNoTLS):
		return "the server does no TLS", true
	case errors.Is(err, protocols.ErrNoSTARTTLS):
		return "STARTTLS not advertised (use --starttls-anyway)", true
	case errors.Is(err, protocols.ErrSTARTTLSRefused):
		if reply == "" {
			return "STARTTLS refused", true
		}
		return "STARTTLS refused: " + reply, true
	}
	return "", false
}

// dialReason is the reason of a probe whose connection failed: a
// dialogue's reason, otherwise the error's text.
func dialReason(err error) string {
	if r, ok := dialogueReason(err); ok {
		return r
	}
	return err.Error()
}

// dialogueKey is the context key of an endpoint's dialogueSlot.
type dialogueKey struct{}

// dialogueSlot keeps the first dialogue of an endpoint; ScanTarget puts
// one in the context its dialer sees, and NetDialer fills it. The one
// dialogue of the endpoint that runs the protocol's probe
// (protocols.Options.Probe, on a connection of its own) is the first
// Dial's to claim it, and what it learnt replaces any dialogue kept
// before it finished.
type dialogueSlot struct {
	mu      sync.Mutex
	d       *protocols.Dialogue
	claimed bool // a dialogue runs the probe
	probed  bool // d is the probing dialogue's
	// conns counts the probing dialogue's connections
	// (Handshakes.Dialogue).
	conns int
}

// probeConnected counts a connection of the probing dialogue.
func (s *dialogueSlot) probeConnected() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns++
}

// probeConns is how many connections the probing dialogue opened.
func (s *dialogueSlot) probeConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// claimProbe reports whether the caller's dialogue is the endpoint's one
// to run the probe.
func (s *dialogueSlot) claimProbe() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed {
		return false
	}
	s.claimed = true
	return true
}

// set keeps d when the slot is empty, and always when d comes from the
// probing dialogue.
func (s *dialogueSlot) set(d *protocols.Dialogue, probed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil || probed && !s.probed {
		s.d, s.probed = d, probed
	}
}

func (s *dialogueSlot) get() *protocols.Dialogue {
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
// probe could not connect: a throttling server leaves it inconclusive; a
// STARTTLS not advertised or refused is unreachable (TLS cannot be
// reached there), with a clear reason; a dialogue that failed otherwise
// (an endless reply, an overlong line, a reply that is not the protocol,
// a timeout mid-dialogue) is a dialogue error: the connection opened.
func endpointError(err error) (Status, Failure) {
	f := failureOf(StageDial, err)
	var pe *protocols.Error
	switch {
	case errors.Is(err, protocols.ErrThrottled):
		return StatusInconclusive, f
	case errors.Is(err, protocols.ErrNoSTARTTLS), errors.Is(err, protocols.ErrSTARTTLSRefused):
		return StatusUnreachable, f
	case errors.As(err, &pe):
		return StatusDialogueError, f
	}
	return StatusUnreachable, f
}
