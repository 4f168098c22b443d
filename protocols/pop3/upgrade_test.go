package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
)

// classify names the sentinel an Upgrade error matches, for the failure
// table.
func classify(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{ErrNoSTARTTLS, "ErrNoSTARTTLS"}, {ErrSTARTTLSRefused, "ErrSTARTTLSRefused"},
		{ErrThrottled, "ErrThrottled"}, {ErrUnexpectedReply, "ErrUnexpectedReply"},
		{ErrMalformed, "ErrMalformed"}, {ErrLineTooLong, "ErrLineTooLong"},
		{ErrTooManyLines, "ErrTooManyLines"}, {os.ErrDeadlineExceeded, "timeout"},
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

func TestUpgradeFailureModes(t *testing.T) {
	cases := []struct {
		name      string
		mode      fakemail.Mode
		opts      Options
		want      error // nil: Upgrade succeeds and a TLS handshake follows
		stage     string
		temporary bool
		quit      bool // the client must have said QUIT
		min, max  time.Duration
	}{
		{name: "normal", mode: fakemail.Normal, max: time.Second},
		{name: "no-stls", mode: fakemail.NoSTARTTLS, want: ErrNoSTARTTLS, stage: StageCapability, quit: true, max: time.Second},
		{name: "no-stls-anyway", mode: fakemail.NoSTARTTLS, opts: Options{StartTLSAnyway: true}, max: time.Second},
		{name: "refuse-ERR", mode: fakemail.Refuse, want: ErrSTARTTLSRefused, stage: StageSTARTTLS, quit: true, max: time.Second},
		{name: "greeting-delayed-3s", mode: fakemail.DelayGreeting, opts: Options{Timeout: 5 * time.Second}, min: 3 * time.Second, max: 4 * time.Second},
		{name: "greeting-delayed-3s-timeout-1s", mode: fakemail.DelayGreeting, opts: Options{Timeout: time.Second}, want: os.ErrDeadlineExceeded, stage: StageGreeting, min: time.Second, max: 1500 * time.Millisecond},
		{name: "tarpit", mode: fakemail.Tarpit, opts: Options{Timeout: 2 * time.Second}, want: os.ErrDeadlineExceeded, stage: StageGreeting, min: 2 * time.Second, max: 2500 * time.Millisecond},
		{name: "endless-capa", mode: fakemail.Endless, want: ErrTooManyLines, stage: StageCapability, max: time.Second},
		{name: "1MB-line", mode: fakemail.LongLine, want: ErrLineTooLong, stage: StageGreeting, max: time.Second},
		{name: "closed-mid-dialogue", mode: fakemail.CloseMid, want: io.EOF, stage: StageCapability, max: time.Second},
		{name: "ERR-SYS/TEMP-on-connect", mode: fakemail.Throttle, want: ErrThrottled, stage: StageGreeting, temporary: true, max: time.Second},
		{name: "alert-after-stls", mode: fakemail.AlertAfterSTARTTLS, max: time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakemail.Start(t, fakemail.POP3(tc.mode))
			conn := fakemail.Dial(t, srv.Addr)
			start := time.Now()
			info, err := Upgrade(context.Background(), conn, tc.opts)
			took := time.Since(start)
			t.Logf("FAILURE-TABLE pop3 | %-30s | %-20s | %-90s | %7v | read %d B", tc.name, classify(err), errString(err), took.Round(time.Millisecond), conn.BytesRead())
			// The lower bound allows for the server's clock starting at
			// accept; the upper one for a loaded machine.
			if took < tc.min-100*time.Millisecond || took > tc.max+slack {
				t.Errorf("took %v, want %v to %v", took, tc.min, tc.max+slack)
			}
			if info == nil {
				t.Fatal("nil Info")
			}
			// A reply is bounded by MaxLine, a run of lines by MaxLines;
			// a line here is under 64 bytes.
			bound := int64(DefaultMaxLine + 512)
			if tc.mode == fakemail.Endless {
				bound = DefaultMaxLines * 64
			}
			if n := conn.BytesRead(); n > bound {
				t.Errorf("read %d bytes; the dialogue must stay bounded", n)
			}
			if tc.want == nil {
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
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not match %v", err, tc.want)
			}
			if e.Stage != tc.stage || e.Temporary != tc.temporary {
				t.Errorf("Stage %q Temporary %v, want %q %v", e.Stage, e.Temporary, tc.stage, tc.temporary)
			}
			if tc.quit && !slices.Contains(srv.Lines(), "QUIT") {
				t.Errorf("client did not say QUIT: %q", srv.Lines())
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

func TestUpgradeAlertFailsTLS(t *testing.T) {
	srv := fakemail.Start(t, fakemail.POP3(fakemail.AlertAfterSTARTTLS))
	conn := fakemail.Dial(t, srv.Addr)
	if _, err := Upgrade(context.Background(), conn, Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := fakemail.TLSHandshake(conn)
	if err == nil {
		t.Fatal("TLS handshake succeeded against an alert")
	}
	var alert tls.AlertError
	if !errors.As(err, &alert) || alert != 40 {
		t.Logf("handshake error: %v (%T)", err, err)
	}
}

func TestUpgradeContext(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		srv := fakemail.Start(t, fakemail.POP3(fakemail.Tarpit))
		conn := fakemail.Dial(t, srv.Addr)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		start := time.Now()
		_, err := Upgrade(ctx, conn, Options{Timeout: time.Minute})
		if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
			t.Fatalf("err %v after %v, want context.Canceled within a second", err, time.Since(start))
		}
	})
	t.Run("deadline", func(t *testing.T) {
		srv := fakemail.Start(t, fakemail.POP3(fakemail.Tarpit))
		conn := fakemail.Dial(t, srv.Addr)
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := Upgrade(ctx, conn, Options{Timeout: time.Minute})
		if err == nil || time.Since(start) > 1500*time.Millisecond {
			t.Fatalf("err %v after %v, want a failure at the context's deadline", err, time.Since(start))
		}
	})
}

func TestUpgradeInfo(t *testing.T) {
	srv := fakemail.Start(t, fakemail.POP3(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	info, err := Upgrade(context.Background(), conn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Banner != "FakePOP3 ready <1.2@fake.test>" || !info.APOP {
		t.Errorf("Banner %q APOP %v", info.Banner, info.APOP)
	}
	if !info.STARTTLSAdvertised {
		t.Error("STLS not seen")
	}
	if !slices.Equal(info.PlaintextAuth, []string{"USER", "PLAIN", "LOGIN"}) {
		t.Errorf("PlaintextAuth %q", info.PlaintextAuth)
	}
	want := []string{"TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "STLS"}
	if !slices.Equal(info.Capabilities, want) {
		t.Errorf("Capabilities %q, want %q", info.Capabilities, want)
	}
	if l := srv.Lines(); !slices.Equal(l, []string{"CAPA", "STLS"}) {
		t.Errorf("client said %q", l)
	}
}

func TestCapabilitiesOverTLS(t *testing.T) {
	srv := fakemail.Start(t, fakemail.POP3(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	info, err := Capabilities(context.Background(), conn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.STARTTLSAdvertised || len(info.PlaintextAuth) != 0 || len(info.AuthMechanisms) != 2 {
		t.Errorf("info %+v", info)
	}
	if l := srv.Lines(); !slices.Contains(l, "QUIT") {
		t.Errorf("client said %q", l)
	}
}

// scripted serves one connection with a fixed byte string and then reads
// until the client goes away.
func scripted(t *testing.T, s string) *fakemail.CountingConn {
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

func TestUpgradeResponses(t *testing.T) {
	cases := []struct {
		name   string
		server string
		want   error
		temp   bool
		check  func(*Info) bool
	}{
		{"capa-err-anyway", "+OK hi\r\n-ERR unknown command\r\n+OK go\r\n", nil, false,
			func(i *Info) bool { return len(i.Capabilities) == 0 && len(i.PlaintextAuth) == 0 }},
		{"stuffed-capa", "+OK hi\r\n+OK\r\n..X-DOT\r\nSTLS\r\n.\r\n+OK go\r\n", nil, false,
			func(i *Info) bool { return i.Capabilities[0] == ".X-DOT" && i.STARTTLSAdvertised }},
		{"lowercase-ok", "+ok hi\r\n+ok\r\nstls\r\n.\r\n+ok go\r\n", nil, false,
			func(i *Info) bool { return i.STARTTLSAdvertised }},
		{"in-use-greeting", "-ERR [IN-USE] mailbox locked\r\n", ErrThrottled, true, nil},
		{"err-greeting", "-ERR go away\r\n", ErrThrottled, true, nil},
		{"sys-perm-greeting", "-ERR [SYS/PERM] disabled\r\n", ErrUnexpectedReply, false, nil},
		{"stls-sys-temp", "+OK hi\r\n+OK\r\nSTLS\r\n.\r\n-ERR [SYS/TEMP] try later\r\n", ErrThrottled, true, nil},
		{"not-pop3", "* OK IMAP ready\r\n", ErrMalformed, false, nil},
		{"okay-is-not-ok", "+OKAY\r\n", ErrMalformed, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := scripted(t, tc.server)
			info, err := Upgrade(context.Background(), conn, Options{Timeout: 2 * time.Second, StartTLSAnyway: true})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Temporary != tc.temp) {
				t.Errorf("err %#v, want Temporary %v", err, tc.temp)
			}
			if tc.check != nil && !tc.check(info) {
				t.Errorf("info %+v", info)
			}
		})
	}
}
