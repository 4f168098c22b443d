package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
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
		{name: "no-starttls", mode: fakemail.NoSTARTTLS, want: ErrNoSTARTTLS, stage: StageEHLO, quit: true, max: time.Second},
		{name: "no-starttls-anyway", mode: fakemail.NoSTARTTLS, opts: Options{StartTLSAnyway: true}, max: time.Second},
		{name: "no-ehlo", mode: fakemail.NoEHLO, want: ErrNoSTARTTLS, stage: StageEHLO, quit: true, max: time.Second},
		{name: "refuse-454", mode: fakemail.Refuse, want: ErrSTARTTLSRefused, stage: StageSTARTTLS, temporary: true, quit: true, max: time.Second},
		{name: "refuse-502", mode: fakemail.RefuseBad, want: ErrSTARTTLSRefused, stage: StageSTARTTLS, quit: true, max: time.Second},
		{name: "greeting-delayed-3s", mode: fakemail.DelayGreeting, opts: Options{Timeout: 5 * time.Second}, min: 3 * time.Second, max: 4 * time.Second},
		{name: "greeting-delayed-3s-timeout-1s", mode: fakemail.DelayGreeting, opts: Options{Timeout: time.Second}, want: os.ErrDeadlineExceeded, stage: StageGreeting, min: time.Second, max: 1500 * time.Millisecond},
		{name: "tarpit", mode: fakemail.Tarpit, opts: Options{Timeout: 2 * time.Second}, want: os.ErrDeadlineExceeded, stage: StageGreeting, min: 2 * time.Second, max: 2500 * time.Millisecond},
		{name: "endless-multiline", mode: fakemail.Endless, want: ErrTooManyLines, stage: StageEHLO, max: time.Second},
		{name: "1MB-line", mode: fakemail.LongLine, want: ErrLineTooLong, stage: StageGreeting, max: time.Second},
		{name: "closed-mid-dialogue", mode: fakemail.CloseMid, want: io.EOF, stage: StageEHLO, max: time.Second},
		{name: "421-on-connect", mode: fakemail.Throttle, want: ErrThrottled, stage: StageGreeting, temporary: true, max: time.Second},
		{name: "alert-after-starttls", mode: fakemail.AlertAfterSTARTTLS, max: time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := fakemail.Start(t, fakemail.SMTP(tc.mode))
			conn := fakemail.Dial(t, srv.Addr)
			start := time.Now()
			info, err := Upgrade(context.Background(), conn, tc.opts)
			took := time.Since(start)
			t.Logf("FAILURE-TABLE smtp | %-30s | %-20s | %-90s | %7v | read %d B", tc.name, classify(err), errString(err), took.Round(time.Millisecond), conn.BytesRead())
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
	srv := fakemail.Start(t, fakemail.SMTP(fakemail.AlertAfterSTARTTLS))
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

func TestUpgradeInfo(t *testing.T) {
	srv := fakemail.Start(t, fakemail.SMTP(fakemail.Normal))
	conn := fakemail.Dial(t, srv.Addr)
	info, err := Upgrade(context.Background(), conn, Options{Helo: "scanner.example"})
	if err != nil {
		t.Fatal(err)
	}
	if info.Banner != "fake.test ESMTP FakeMail\npleased to meet you" {
		t.Errorf("Banner %q", info.Banner)
	}
	if !info.STARTTLSAdvertised || !info.Extended {
		t.Errorf("STARTTLSAdvertised %v Extended %v", info.STARTTLSAdvertised, info.Extended)
	}
	if !slices.Equal(info.PlaintextAuth, []string{"PLAIN", "LOGIN"}) {
		t.Errorf("PlaintextAuth %q", info.PlaintextAuth)
	}
	want := []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"}
	if !slices.Equal(info.Capabilities, want) {
		t.Errorf("Capabilities %q, want %q", info.Capabilities, want)
	}
	if l := srv.Lines(); len(l) < 2 || l[0] != "EHLO scanner.example" || l[1] != "STARTTLS" {
		t.Errorf("client said %q", l)
	}
}

func TestUpgradeContext(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		srv := fakemail.Start(t, fakemail.SMTP(fakemail.Tarpit))
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
		srv := fakemail.Start(t, fakemail.SMTP(fakemail.Tarpit))
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

func TestCapabilitiesOverTLS(t *testing.T) {
	// The fake server speaks plaintext; Capabilities only needs a conn.
	srv := fakemail.Start(t, fakemail.SMTP(fakemail.Normal))
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

func TestReadReply(t *testing.T) {
	cases := []struct {
		in   string
		code int
		text []string
		err  error
	}{
		{"220 ok\r\n", 220, []string{"ok"}, nil},
		{"220\r\n", 220, []string{""}, nil},
		{"250-a\r\n250-b\r\n250 c\r\n", 250, []string{"a", "b", "c"}, nil},
		{"250-a\n250 b\n", 250, []string{"a", "b"}, nil},
		{"250-a\r\n250 \r\n", 250, []string{"a", ""}, nil},
		{"220-x\r\n221 y\r\n", 221, []string{"x", "y"}, nil},
		{"HTTP/1.1 400\r\n", 0, nil, ErrMalformed},
		{"250x\r\n", 0, nil, ErrMalformed},
		{"250-a\r\n", 250, []string{"a"}, io.EOF},
		{"250-a\r\n250", 250, []string{"a"}, io.ErrUnexpectedEOF},
		{"250-a\r\n250-b\r\n250-c\r\n", 250, []string{"a", "b", "c"}, ErrTooManyLines},
		{"250 " + string(bytes.Repeat([]byte("a"), 100)) + "\r\n", 0, nil, ErrLineTooLong},
	}
	for _, tc := range cases {
		lr := plaintext.NewLineReader(bytes.NewReader([]byte(tc.in)), 64, ErrLineTooLong)
		r, err := readReply(lr, 3)
		if !errors.Is(err, tc.err) {
			t.Errorf("%q: err %v, want %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (r.code != tc.code || !slices.Equal(r.text, tc.text)) {
			t.Errorf("%q: %d %q, want %d %q", tc.in, r.code, r.text, tc.code, tc.text)
		}
	}
}

func TestGuessSoftware(t *testing.T) {
	for banner, want := range map[string]string{
		"mx.example ESMTP Postfix (Debian/GNU)":                            "Postfix",
		"mail.example ESMTP Exim 4.96 Mon, 01 Jan 2024":                    "Exim",
		"EX01.corp Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2024":  "Microsoft Exchange",
		"mx.google.com ESMTP s4si9696358qcc.63 - gsmtp":                    "Google",
		"mail.example ESMTP Sendmail 8.15.2/8.15.2; Mon, 1 Jan 2024":       "Sendmail",
		"maximum.example ESMTP ready":                                      "",
		"firewall.unx.ca ESMTP Postfix":                                    "Postfix",
		"smtp.example ESMTP OpenSMTPD":                                     "OpenSMTPD",
		"mx.example.org ESMTP Haraka/3.0.2 ready":                          "Haraka",
		"mail.example.com Microsoft Exchange Internet Mail Service 5.5.26": "Microsoft Exchange",
	} {
		if got := guessSoftware(banner); got != want {
			t.Errorf("guessSoftware(%q) = %q, want %q", banner, got, want)
		}
	}
}
