// Package prototest is the one test harness of the protocol packages
// (protocols/smtp, imap, pop3 and those to come): each package's tests
// describe their protocol (its scripted fake servers, its recognition
// cases) and call the table-driven checks here, so that every protocol is
// held to the same failure modes and the same Recognize invariants. It is
// imported by _test.go files only.
//
//   - Upgrade runs the upgrade failure-mode table (not advertised,
//     refused, a delayed greeting, a tarpit, an endless reply, a huge
//     line, a connection closed mid-dialogue, throttling, an alert after
//     the go-ahead) and the context checks against scripted fake servers.
//   - Recognizer runs the recognition cases, the public captures, the
//     fuzz target with its invariants and the seed-corpus writer.
package prototest

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
)

// Upgrade describes a protocol's Upgrade for the failure-mode table.
type Upgrade struct {
	Protocol *protocols.Protocol // its Upgrade is tested
	// Server is the protocol's scripted fake server behaving as a mode
	// (fakemail.SMTP …); it must implement every mode of Fails and
	// fakemail.Normal, NoSTARTTLS (STARTTLS accepted when asked anyway),
	// DelayGreeting and AlertAfterSTARTTLS.
	Server func(fakemail.Mode) fakemail.Handler
	// Goodbye is the line the client must send before giving up on a
	// dialogue that will not upgrade ("QUIT", "a3 LOGOUT"); "" when the
	// protocol has none.
	Goodbye string
	// MaxLine and MaxLines are the protocol's default bounds: what a
	// dialogue may read is checked against them.
	MaxLine, MaxLines int
	// Fails says where the dialogue must fail in each failure mode: every
	// one of RequiredFailures, and optionally fakemail.RefuseBad and
	// fakemail.NoEHLO.
	Fails map[fakemail.Mode]Failure
	// NoAnyway, when set, says why Options.StartTLSAnyway cannot change
	// the outcome: the server's answer to the request is the only
	// advertisement (PostgreSQL's 'N', RDP's negotiation failure), so the
	// no-starttls-anyway row fails as no-starttls does.
	NoAnyway string

	// Normal is the Dialogue Upgrade must return from Server(Normal)
	// given NormalOptions, and Said the lines the client must have sent
	// to it, in order.
	Normal        protocols.Dialogue
	NormalOptions protocols.Options
	Said          []string
}

// Test runs every check of the harness as subtests: the failure modes,
// an alert after the go-ahead, the context, the dialogue learnt, and
// Capabilities when the protocol has it.
func (u Upgrade) Test(t *testing.T) {
	t.Run("failure-modes", u.TestFailureModes)
	t.Run("alert-fails-tls", u.TestAlertFailsTLS)
	t.Run("context", u.TestContext)
	t.Run("dialogue", u.TestDialogue)
	if u.Protocol.Capabilities != nil {
		t.Run("capabilities", u.TestCapabilities)
	}
}

// sameDialogue compares what a dialogue learnt with what it should have.
func sameDialogue(got *protocols.Dialogue, want protocols.Dialogue) bool {
	return got != nil && got.Protocol == want.Protocol && got.Banner == want.Banner && got.Software == want.Software &&
		slices.Equal(got.Capabilities, want.Capabilities) && got.STARTTLSAdvertised == want.STARTTLSAdvertised &&
		slices.Equal(got.PlaintextAuth, want.PlaintextAuth) && slices.Equal(got.AuthMechanisms, want.AuthMechanisms) &&
		maps.Equal(got.Attributes, want.Attributes)
}

// TestDialogue: Upgrade against Server(Normal) learns Normal, having said
// Said, and a TLS handshake follows.
func (u Upgrade) TestDialogue(t *testing.T) {
	srv := fakemail.Start(t, u.Server(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	d, err := u.Protocol.Upgrade(context.Background(), conn, u.NormalOptions)
	if err != nil {
		t.Fatal(err)
	}
	if !sameDialogue(d, u.Normal) {
		t.Errorf("dialogue\n got %+v\nwant %+v", d, u.Normal)
	}
	// The handshake also waits for the server to have read the last
	// request, which a dialogue may send without waiting for an answer
	// (MySQL's SSL request).
	if _, err := fakemail.TLSHandshake(conn); err != nil {
		t.Fatalf("TLS handshake after Upgrade: %v", err)
	}
	if l := srv.Lines(); !slices.Equal(l, u.Said) {
		t.Errorf("client said %q, want %q", l, u.Said)
	}
}

// TestCapabilities: Capabilities (here over the fake server's plaintext)
// learns what Upgrade does but for the authentication offered in clear,
// and says goodbye.
func (u Upgrade) TestCapabilities(t *testing.T) {
	srv := fakemail.Start(t, u.Server(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	d, err := u.Protocol.Capabilities(context.Background(), conn, u.NormalOptions)
	if err != nil {
		t.Fatal(err)
	}
	want := u.Normal
	want.PlaintextAuth = nil
	if !sameDialogue(d, want) {
		t.Errorf("dialogue\n got %+v\nwant %+v", d, want)
	}
	if l := srv.Lines(); u.Goodbye != "" && !slices.Contains(l, u.Goodbye) {
		t.Errorf("client said %q, without %q", l, u.Goodbye)
	}
}

// Failure is where and how a dialogue fails in one mode.
type Failure struct {
	Stage     string // protocols.Error.Stage
	Temporary bool   // protocols.Error.Temporary (always true for Throttle)
	// Err, when set, is the sentinel the error matches instead of the
	// mode's usual one: a protocol whose answers are single sized
	// messages reads an endless reply as one too long
	// (protocols.ErrLineTooLong), not as too many lines.
	Err error
	// Absent, when set, says why the protocol cannot fail this way (RDP
	// has no throttling reply): the mode's row is left out, with this
	// reason in the log.
	Absent string
}

// RequiredFailures are the failure modes every protocol's fake server and
// Fails must cover.
var RequiredFailures = []fakemail.Mode{
	fakemail.NoSTARTTLS, fakemail.Refuse, fakemail.DelayGreeting, fakemail.Tarpit,
	fakemail.Endless, fakemail.LongLine, fakemail.CloseMid, fakemail.Throttle,
}

// sentinels are the error each failure mode must match.
var sentinels = map[fakemail.Mode]error{
	fakemail.NoSTARTTLS:    protocols.ErrNoSTARTTLS,
	fakemail.NoEHLO:        protocols.ErrNoSTARTTLS,
	fakemail.Refuse:        protocols.ErrSTARTTLSRefused,
	fakemail.RefuseBad:     protocols.ErrSTARTTLSRefused,
	fakemail.DelayGreeting: os.ErrDeadlineExceeded,
	fakemail.Tarpit:        os.ErrDeadlineExceeded,
	fakemail.Endless:       protocols.ErrTooManyLines,
	fakemail.LongLine:      protocols.ErrLineTooLong,
	fakemail.CloseMid:      io.EOF,
	fakemail.Throttle:      protocols.ErrThrottled,
}

// classify names the sentinel an Upgrade error matches, for the log.
func classify(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{protocols.ErrNoSTARTTLS, "ErrNoSTARTTLS"}, {protocols.ErrSTARTTLSRefused, "ErrSTARTTLSRefused"},
		{protocols.ErrThrottled, "ErrThrottled"}, {protocols.ErrUnexpectedReply, "ErrUnexpectedReply"},
		{protocols.ErrMalformed, "ErrMalformed"}, {protocols.ErrLineTooLong, "ErrLineTooLong"},
		{protocols.ErrTooManyLines, "ErrTooManyLines"}, {os.ErrDeadlineExceeded, "timeout"},
		{context.Canceled, "context.Canceled"}, {io.EOF, "closed (io.EOF)"},
		{io.ErrUnexpectedEOF, "closed (io.ErrUnexpectedEOF)"},
	} {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	if err == nil {
		return "upgraded"
	}
	return "other"
}

// slack is what a loaded test machine may add to an expected duration.
const slack = 2500 * time.Millisecond

// row is one line of the failure-mode table.
type row struct {
	name     string
	mode     fakemail.Mode
	opts     protocols.Options
	fail     bool // false: Upgrade succeeds and TLS follows
	min, max time.Duration
}

// rows builds the table for u, failing t when u leaves a required mode
// out.
func (u Upgrade) rows(t *testing.T) []row {
	for _, m := range RequiredFailures {
		if _, ok := u.Fails[m]; !ok {
			t.Fatalf("%s: Fails has no entry for the required mode %v", u.Protocol.Name, m)
		}
	}
	rows := []row{
		{name: "normal", mode: fakemail.Normal, max: time.Second},
		{name: "no-starttls", mode: fakemail.NoSTARTTLS, fail: true, max: time.Second},
		{name: "no-starttls-anyway", mode: fakemail.NoSTARTTLS, opts: protocols.Options{StartTLSAnyway: true}, fail: u.NoAnyway != "", max: time.Second},
		{name: "refuse", mode: fakemail.Refuse, fail: true, max: time.Second},
		{name: "greeting-delayed-3s", mode: fakemail.DelayGreeting, opts: protocols.Options{Timeout: 5 * time.Second}, min: 3 * time.Second, max: 4 * time.Second},
		{name: "greeting-delayed-3s-timeout-1s", mode: fakemail.DelayGreeting, opts: protocols.Options{Timeout: time.Second}, fail: true, min: time.Second, max: 1500 * time.Millisecond},
		{name: "tarpit", mode: fakemail.Tarpit, opts: protocols.Options{Timeout: 2 * time.Second}, fail: true, min: 2 * time.Second, max: 2500 * time.Millisecond},
		{name: "endless-reply", mode: fakemail.Endless, fail: true, max: time.Second},
		{name: "1MB-line", mode: fakemail.LongLine, fail: true, max: time.Second},
		{name: "closed-mid-dialogue", mode: fakemail.CloseMid, fail: true, max: time.Second},
		{name: "throttled-on-connect", mode: fakemail.Throttle, fail: true, max: time.Second},
		{name: "alert-after-starttls", mode: fakemail.AlertAfterSTARTTLS, max: time.Second},
	}
	for _, m := range []fakemail.Mode{fakemail.RefuseBad, fakemail.NoEHLO} {
		if _, ok := u.Fails[m]; ok {
			rows = append(rows, row{name: m.String(), mode: m, fail: true, max: time.Second})
		}
	}
	if u.NoAnyway != "" {
		t.Logf("%s: StartTLSAnyway changes nothing: %s", u.Protocol.Name, u.NoAnyway)
	}
	return slices.DeleteFunc(rows, func(r row) bool {
		if why := u.Fails[r.mode].Absent; why != "" {
			t.Logf("%s: no %s row: %s", u.Protocol.Name, r.name, why)
			return true
		}
		return false
	})
}

// TestFailureModes runs Upgrade against the protocol's fake server in
// every mode, in parallel, and checks the outcome (success followed by a
// TLS handshake, or the mode's sentinel at the stage Fails names), the
// time taken, that the reads stayed bounded and that the client said
// goodbye to a dialogue it gave up.
func (u Upgrade) TestFailureModes(t *testing.T) {
	for _, tc := range u.rows(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakemail.Start(t, u.Server(tc.mode))
			conn := fakemail.Dial(t, srv.Addr)
			start := time.Now()
			d, err := u.Protocol.Upgrade(context.Background(), conn, tc.opts)
			took := time.Since(start)
			t.Logf("FAILURE-TABLE %s | %-30s | %-20s | %-90s | %7v | read %d B", u.Protocol.Name, tc.name, classify(err), errString(err), took.Round(time.Millisecond), conn.BytesRead())
			// The lower bound allows for the server's clock starting at
			// accept; the upper one for a loaded machine.
			if took < tc.min-100*time.Millisecond || took > tc.max+slack {
				t.Errorf("took %v, want %v to %v", took, tc.min, tc.max+slack)
			}
			if d == nil || d.Protocol != u.Protocol.Name {
				t.Fatalf("Dialogue %+v, want one of %s", d, u.Protocol.Name)
			}
			// A reply is bounded by MaxLine, a run of lines by MaxLines;
			// a line here is under 64 bytes.
			want, exp := sentinels[tc.mode], u.Fails[tc.mode]
			if exp.Err != nil {
				want = exp.Err
			}
			bound := int64(u.MaxLine + 512)
			if tc.mode == fakemail.Endless && want == protocols.ErrTooManyLines {
				bound = int64(u.MaxLines) * 64
			}
			if n := conn.BytesRead(); n > bound {
				t.Errorf("read %d bytes; the dialogue must stay bounded", n)
			}
			if !tc.fail {
				if err != nil {
					t.Fatalf("Upgrade: %v", err)
				}
				if tc.mode == fakemail.AlertAfterSTARTTLS {
					fakemail.CheckAlert(t, conn)
					return
				}
				if _, err := fakemail.TLSHandshake(conn); err != nil {
					t.Fatalf("TLS handshake after Upgrade: %v", err)
				}
				return
			}
			var e *protocols.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *protocols.Error", err, err)
			}
			if !errors.Is(err, want) {
				t.Errorf("error %v does not match %v", err, want)
			}
			temporary := exp.Temporary || tc.mode == fakemail.Throttle
			if e.Protocol != u.Protocol.Name || e.Stage != exp.Stage || e.Temporary != temporary {
				t.Errorf("Protocol %q Stage %q Temporary %v, want %q %q %v", e.Protocol, e.Stage, e.Temporary, u.Protocol.Name, exp.Stage, temporary)
			}
			if errors.Is(want, protocols.ErrNoSTARTTLS) || errors.Is(want, protocols.ErrSTARTTLSRefused) {
				if u.Goodbye != "" && !slices.Contains(srv.Lines(), u.Goodbye) {
					t.Errorf("client did not say %q: %q", u.Goodbye, srv.Lines())
				}
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return "-"
	}
	return err.Error()
}

// TestAlertFailsTLS: after an upgrade answered by a TLS alert, a TLS
// handshake on the connection fails (the alert was left unread).
func (u Upgrade) TestAlertFailsTLS(t *testing.T) {
	srv := fakemail.Start(t, u.Server(fakemail.AlertAfterSTARTTLS))
	conn := fakemail.Dial(t, srv.Addr)
	if _, err := u.Protocol.Upgrade(context.Background(), conn, protocols.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fakemail.TLSHandshake(conn); err == nil {
		t.Fatal("TLS handshake succeeded against an alert")
	}
}

// TestContext: cancelling the context ends a dialogue with a tarpit at
// once, and the context's deadline ends it in time, whatever
// Options.Timeout says.
func (u Upgrade) TestContext(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		srv := fakemail.Start(t, u.Server(fakemail.Tarpit))
		conn := fakemail.Dial(t, srv.Addr)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, err := u.Protocol.Upgrade(ctx, conn, protocols.Options{Timeout: time.Minute})
		if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
			t.Fatalf("err %v after %v, want context.Canceled within a second", err, time.Since(start))
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		srv := fakemail.Start(t, u.Server(fakemail.Tarpit))
		conn := fakemail.Dial(t, srv.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := u.Protocol.Upgrade(ctx, conn, protocols.Options{Timeout: time.Minute})
		if err == nil || time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("err %v after %v, want a failure at the context's deadline", err, time.Since(start))
		}
	})
}

// Scripted serves one connection with a fixed byte string, then reads
// until the client goes away, and returns a connection to it.
func Scripted(t *testing.T, s string) *fakemail.CountingConn {
	srv := fakemail.Start(t, func(c *fakemail.Conn) {
		_ = c.Send(s)
		for {
			if _, err := c.Line(); err != nil {
				return
			}
		}
	})
	return fakemail.Dial(t, srv.Addr)
}
