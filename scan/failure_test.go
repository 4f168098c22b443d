package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
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
		{StageDial, &StageError{Stage: StagePreamble, Err: &protocols.Error{Protocol: "postgres", Stage: "starttls", Reply: "N", Err: protocols.ErrNoTLS}},
			Failure{StagePreamble, "the server does no TLS: N"}},
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

// TestCertErrorIsAFailure: a certificate handshake that fails is reported
// as a Failure, stage and reason, without the package prefixes of Go's
// wrapped errors; a certificate handshake that cannot connect is a dial
// failure.
func TestCertErrorIsAFailure(t *testing.T) {
	srv := gateServer(t)
	opts := testOptions(tls.VersionTLS12)
	opts.SkipCert = false
	r := ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	t.Logf("cert error %+v", r.CertError)
	// faketls signs its ServerKeyExchange with a key of its own: both
	// libraries refuse it after the chain arrived.
	if r.Status != StatusOK || r.Cert == nil || r.CertError.Stage != StageHandshake ||
		!strings.HasPrefix(r.CertError.Reason, LibraryZcrypto+": ") && !strings.HasPrefix(r.CertError.Reason, LibraryCryptoTLS+": ") ||
		strings.Contains(r.CertError.Reason, "scan:") {
		t.Errorf("status %s, cert %v, cert error %q; want ok, the chain, a handshake failure", r.Status, r.Cert != nil, r.CertError)
	}

	var calls atomic.Int32
	opts.Dialer = dialFunc(func(ctx context.Context, tg Target) (net.Conn, error) {
		if calls.Add(1) > 1 { // the version probe connects, the certificate handshake does not
			return nil, &StageError{Stage: StageDial, Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
		}
		return (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
	})
	r = ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	if want := (Failure{Stage: StageDial, Reason: "connection refused"}); r.CertError != want {
		t.Errorf("cert error %+v, want %+v", r.CertError, want)
	}
}

// dialFunc is a Dialer made of a function.
type dialFunc func(ctx context.Context, t Target) (net.Conn, error)

func (f dialFunc) Dial(ctx context.Context, t Target) (net.Conn, error) { return f(ctx, t) }
