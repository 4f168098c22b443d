package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
)

// TestFailureOf: a failure names the stage of the StageError and the
// innermost reason, without Go's "scan: dial: dial tcp …" chain.
func TestFailureOf(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, c := range []struct {
		stage Stage
		err   error
		want  Failure
	}{
		{StageDial, &StageError{Stage: StageDial, Err: refused}, Failure{StageDial, "connection refused"}},
		{StageResolve, &StageError{Stage: StageResolve, Err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}},
			Failure{StageResolve, "no such host"}},
		{StageResolve, &StageError{Stage: StageResolve, Err: &net.DNSError{Err: "server misbehaving", Name: "x.invalid"}},
			Failure{StageResolve, "server misbehaving"}},
		{StageDial, &StageError{Stage: StageDial, Err: fmt.Errorf("dial: %w", context.DeadlineExceeded)}, Failure{StageDial, "timed out"}},
		{StageDial, &StageError{Stage: StagePreamble, Err: context.Canceled}, Failure{StagePreamble, ReasonCancelled}},
		{StageDial, &StageError{Stage: StagePreamble, Err: &protocols.Error{Protocol: "smtp", Stage: "ehlo", Err: protocols.ErrNoSTARTTLS}},
			Failure{StagePreamble, "STARTTLS not advertised (use --starttls-anyway)"}},
		{StageDial, errors.New("odd"), Failure{StageDial, "odd"}},
	} {
		if got := failureOf(c.stage, c.err); got != c.want {
			t.Errorf("failureOf(%v) = %#v, want %#v", c.err, got, c.want)
		}
	}
	if s := (Failure{StageDial, "connection refused"}).String(); s != "dial: connection refused" {
		t.Errorf("String %q", s)
	}
	if s := (Failure{Reason: ReasonCancelled}).String(); s != "cancelled" {
		t.Errorf("String %q", s)
	}
	if !(Failure{}).IsZero() || (Failure{Reason: "x"}).IsZero() {
		t.Error("IsZero")
	}
}
