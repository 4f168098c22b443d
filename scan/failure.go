package scan

import (
	"context"
	"errors"
	"net"
	"os"
)

// Stage is a step of reaching an endpoint's TLS, named by StageError and
// Failure.
type Stage string

// The stages, in the order a connection goes through them.
const (
	StageResolve   Stage = "resolve"   // looking up the host name
	StageDial      Stage = "dial"      // opening the TCP connection
	StagePreamble  Stage = "preamble"  // the plaintext dialogue before TLS (STARTTLS)
	StageHello     Stage = "hello"     // the ClientHello probes and their answers
	StageHandshake Stage = "handshake" // the certificate handshake (both libraries, when both ran)
	StageVerify    Stage = "verify"    // no chain to report, or no roots to verify it against
)

// String returns the stage's name.
func (s Stage) String() string { return string(s) }

// StageError is an error with the stage it happened in: the errors of
// Dialer.Dial (StageDial, StagePreamble), of the name lookup
// (StageResolve) and of FetchCertificate (StageDial, StageHandshake,
// StageVerify). Unwrap gives the cause: a context error when ctx was
// cancelled or a timeout ran out, otherwise the cause's own error.
type StageError struct {
	Stage Stage
	Err   error
}

func (e *StageError) Error() string { return "scan: " + string(e.Stage) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *StageError) Unwrap() error { return e.Err }

// Failure is why an endpoint's Status is not StatusOK (Result.Error): the
// stage that failed and the reason, one line for people, without the
// package prefixes and addresses of Go's wrapped errors ("dial",
// "connection refused"). The zero Failure is no failure.
type Failure struct {
	// Stage is where it failed; "" when no stage did (the scan was
	// cancelled).
	Stage  Stage
	Reason string // "connection refused", "no such host", ReasonCancelled …
}

// String returns "stage: reason", or the reason alone when there is no
// stage ("cancelled"); "" for no failure.
func (f Failure) String() string {
	if f.Stage == "" {
		return f.Reason
	}
	return string(f.Stage) + ": " + f.Reason
}

// IsZero reports whether f is no failure.
func (f Failure) IsZero() bool { return f == Failure{} }

// failureOf is the Failure of err: the stage of its StageError (stage
// when it has none) and its reason.
func failureOf(stage Stage, err error) Failure {
	var se *StageError
	if errors.As(err, &se) {
		stage, err = se.Stage, se.Err
	}
	return Failure{Stage: stage, Reason: reasonOf(err)}
}

// reasonOf is the reason of an error as a result gives it: a mail
// dialogue's Reason, "cancelled", "timed out", or the innermost cause of
// a net error ("connection refused", "no such host") without the
// operation and addresses Go's net package wraps it in.
func reasonOf(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	var sys *os.SyscallError
	var ne net.Error
	if r, ok := dialogueReason(err); ok {
		return r
	}
	switch {
	case errors.Is(err, context.Canceled):
		return ReasonCancelled
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		return dns.Err
	case errors.As(err, &sys):
		return sys.Err.Error()
	case errors.As(err, &op) && op.Err != nil:
		return op.Err.Error()
	}
	return err.Error()
}
