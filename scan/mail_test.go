package scan_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// dialerFunc is a scan.Dialer made of a function.
type dialerFunc func(ctx context.Context, t scan.Target) (net.Conn, error)

func (f dialerFunc) Dial(ctx context.Context, t scan.Target) (net.Conn, error) { return f(ctx, t) }

// mailFake is one protocol's canned fake server and its target scheme.
type mailFake struct {
	name    string
	proto   scan.Protocol
	handler func(fakemail.Mode) fakemail.Handler
}

var mailFakes = []mailFake{
	{"smtp", scan.ProtoSMTP, fakemail.SMTP},
	{"imap", scan.ProtoIMAP, fakemail.IMAP},
	{"pop3", scan.ProtoPOP3, fakemail.POP3},
}

// scanMail scans a fake server of protocol f in mode m, versions only.
// nd's Timeout is set here; the rest (dialogue options, Record) is the
// caller's.
func scanMail(t *testing.T, f mailFake, m fakemail.Mode, nd scan.NetDialer) *scan.Result {
	t.Helper()
	srv := fakemail.Start(t, f.handler(m))
	target, err := scan.ParseTarget(string(f.proto)+"://"+srv.Addr, scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nd.Timeout = 5 * time.Second
	return scan.ScanTarget(ctx, target, scan.Options{
		Timeout:      5 * time.Second,
		VersionsOnly: true,
		SkipGroups:   true,
		SkipCert:     true,
		Versions:     []tls.Version{tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13},
		Dialer:       &nd,
	})
}

// TestMailDialogue: a STARTTLS scan through the registered dialogues
// records the first dialogue in the Result (and calls Record for each).
func TestMailDialogue(t *testing.T) {
	want := map[string]protocols.Dialogue{
		"smtp": {Protocol: "smtp", Banner: "fake.test ESMTP FakeMail\npleased to meet you", STARTTLSAdvertised: true,
			Capabilities: []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN", "8BITMIME"}, PlaintextAuth: []string{"PLAIN", "LOGIN"}},
		"imap": {Protocol: "imap", Banner: "FakeIMAP ready", STARTTLSAdvertised: true,
			Capabilities: []string{"IMAP4rev1", "SASL-IR", "ID", "STARTTLS", "AUTH=PLAIN"}, PlaintextAuth: []string{"LOGIN", "PLAIN"}},
		"pop3": {Protocol: "pop3", Banner: "FakePOP3 ready <1.2@fake.test>", STARTTLSAdvertised: true,
			Capabilities: []string{"TOP", "UIDL", "USER", "SASL PLAIN LOGIN", "STLS"}, PlaintextAuth: []string{"USER", "PLAIN", "LOGIN"}},
	}
	for _, f := range mailFakes {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			records := 0
			res := scanMail(t, f, fakemail.Normal, scan.NetDialer{Record: func(scan.Target, *protocols.Dialogue) {
				mu.Lock()
				records++
				mu.Unlock()
			}})
			if res.Status != scan.StatusOK {
				t.Fatalf("status %s (%s)", res.Status, res.Error)
			}
			for _, v := range []tls.Version{tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13} {
				if vr := res.Version(v); vr == nil || vr.Outcome != scan.Accepted {
					t.Errorf("%s: %+v, want accepted", tls.Version(v).String(), vr)
				}
			}
			d := res.Dialogue
			if d == nil {
				t.Fatal("no dialogue in the result")
			}
			w := want[f.name]
			if d.Protocol != w.Protocol || d.Banner != w.Banner || d.STARTTLSAdvertised != w.STARTTLSAdvertised ||
				!slices.Equal(d.Capabilities, w.Capabilities) || !slices.Equal(d.PlaintextAuth, w.PlaintextAuth) {
				t.Errorf("dialogue\n got %+v\nwant %+v", *d, w)
			}
			if records != res.Handshakes.Total {
				t.Errorf("Record called %d times for %d connections", records, res.Handshakes.Total)
			}
		})
	}
}

// TestMailProbeDialogueCounted: with the protocol's probe dialogue on
// (as tlsmap scan runs it), its connection of its own is counted in
// Handshakes (Dialogue and Total): the server accepts exactly Total
// connections.
func TestMailProbeDialogueCounted(t *testing.T) {
	for _, f := range mailFakes {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			srv := fakemail.Start(t, f.handler(fakemail.Normal))
			target, err := scan.ParseTarget(string(f.proto)+"://"+srv.Addr, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			nd := scan.NetDialer{Timeout: 5 * time.Second}
			nd.Dialogue.Probe = true
			res := scan.ScanTarget(context.Background(), target, scan.Options{
				Timeout: 5 * time.Second, VersionsOnly: true, SkipGroups: true, SkipCert: true,
				Versions: []tls.Version{tls.VersionTLS12}, Dialer: &nd,
			})
			if res.Status != scan.StatusOK {
				t.Fatalf("status %s (%s)", res.Status, res.Error)
			}
			h := res.Handshakes
			if h.Dialogue != 1 || h.Total != srv.Accepted() {
				t.Errorf("handshakes %+v; the server accepted %d connections", h, srv.Accepted())
			}
		})
	}
}

// TestMailThrottled: a server that turns every connection away (421,
// * BYE, -ERR [SYS/TEMP]) leaves the endpoint inconclusive with the
// server's reply after the backoff and retries; nothing is "rejected".
// The server is in memory and the scan runs in a synctest bubble, so the
// backoff's waits (1 s, 2 s, 4 s) pass on the fake clock, exactly.
func TestMailThrottled(t *testing.T) {
	want := map[string]string{
		"smtp": "throttled: 421 4.7.0 fake.test Too many connections, try again later",
		"imap": "throttled: * BYE [UNAVAILABLE] Too many connections, try again later",
		"pop3": "throttled: -ERR [SYS/TEMP] Too many connections, try again later",
	}
	for _, f := range mailFakes {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				srv := fakemail.StartPipe(t, f.handler(fakemail.Throttle))
				target, err := scan.ParseTarget(string(f.proto)+"://"+srv.Addr, scan.TargetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var mu sync.Mutex
				var dials []time.Time
				d := dialerFunc(func(ctx context.Context, tg scan.Target) (net.Conn, error) {
					mu.Lock()
					dials = append(dials, time.Now())
					mu.Unlock()
					nd := scan.NetDialer{Timeout: 5 * time.Second, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
						return srv.Dial(ctx)
					}}
					return nd.Dial(ctx, tg)
				})
				start := time.Now()
				res := scan.ScanTarget(t.Context(), target, scan.Options{
					Timeout: 5 * time.Second, VersionsOnly: true, SkipGroups: true, SkipCert: true,
					Dialer: d,
				})
				elapsed := time.Since(start)
				if res.Status != scan.StatusInconclusive || res.Error != (scan.Failure{Stage: scan.StagePreamble, Reason: want[f.name]}) {
					t.Errorf("status %s (%q), want inconclusive (%q)", res.Status, res.Error, want[f.name])
				}
				for _, v := range res.Versions {
					if v.Outcome == scan.Rejected {
						t.Errorf("%s rejected (%s) by a throttling server", v.Name(), v.Reason)
					}
				}
				// Backed off: every probe waits the endpoint's backoff,
				// which doubles from 1 s to at most 4 s per throttled
				// attempt, and never a flood.
				mu.Lock()
				defer mu.Unlock()
				if n := len(dials); n < 4 || n > 40 {
					t.Errorf("%d dialogues, want the retries of a few probes", n)
				}
				if span := dials[len(dials)-1].Sub(dials[0]); span < 3*time.Second {
					t.Errorf("attempts spread over %v: no backoff", span)
				}
				if elapsed > 30*time.Second {
					t.Errorf("took %v, want a bounded backoff", elapsed)
				}
				t.Logf("%s: %d dialogues in %v: %s", f.name, len(dials), elapsed, res.Error)
			})
		})
	}
}

// TestMailNoSTARTTLS: STARTTLS not advertised gives a clear endpoint
// status; with StartTLSAnyway the scan goes ahead.
func TestMailNoSTARTTLS(t *testing.T) {
	for _, f := range mailFakes {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			res := scanMail(t, f, fakemail.NoSTARTTLS, scan.NetDialer{})
			if res.Status != scan.StatusUnreachable || res.Error != (scan.Failure{Stage: scan.StagePreamble, Reason: "STARTTLS not advertised (use --starttls-anyway)"}) {
				t.Errorf("status %s (%q), want unreachable (STARTTLS not advertised …)", res.Status, res.Error)
			}
			res = scanMail(t, f, fakemail.NoSTARTTLS, scan.NetDialer{Dialogue: protocols.Options{StartTLSAnyway: true}})
			if res.Status != scan.StatusOK || res.Dialogue == nil || res.Dialogue.STARTTLSAdvertised {
				t.Errorf("with StartTLSAnyway: status %s (%s), dialogue %+v", res.Status, res.Error, res.Dialogue)
			}
		})
	}
}

// TestMailRefused: a refused STARTTLS gives a clear endpoint status with
// the server's reply.
func TestMailRefused(t *testing.T) {
	want := map[string]string{
		"smtp": "STARTTLS refused: 454 4.7.0 TLS not available due to local problem",
		"imap": "STARTTLS refused: ",
		"pop3": "STARTTLS refused: -ERR TLS not available",
	}
	for _, f := range mailFakes {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			res := scanMail(t, f, fakemail.Refuse, scan.NetDialer{})
			if res.Status != scan.StatusUnreachable || res.Error.Stage != scan.StagePreamble || !strings.HasPrefix(res.Error.Reason, want[f.name]) {
				t.Errorf("status %s (%q), want unreachable (%q…)", res.Status, res.Error, want[f.name])
			}
			if f.name == "imap" && !strings.Contains(res.Error.Reason, "NO [UNAVAILABLE] TLS not available") {
				t.Errorf("error %q lacks the server's reply", res.Error)
			}
		})
	}
}

// TestMailAlertAfterSTARTTLS: a TLS alert right after the go-ahead is a
// refusal of the version, with the alert as the reason.
func TestMailAlertAfterSTARTTLS(t *testing.T) {
	for _, f := range mailFakes {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			res := scanMail(t, f, fakemail.AlertAfterSTARTTLS, scan.NetDialer{})
			if res.Status != scan.StatusOK {
				t.Errorf("status %s (%s), want ok", res.Status, res.Error)
			}
			for _, v := range res.Versions {
				if v.Outcome != scan.Rejected || v.Reason != "alert handshake_failure" {
					t.Errorf("%s: %s (%s), want rejected (alert handshake_failure)", v.Name(), v.Outcome, v.Reason)
				}
			}
			if res.Dialogue == nil || !res.Dialogue.STARTTLSAdvertised {
				t.Errorf("dialogue %+v", res.Dialogue)
			}
		})
	}
}

// TestMailDialogueError: a dialogue that breaks the protocol (an endless
// reply, an overlong line, a close mid-reply) opened a connection: the
// endpoint is "dialogue-error", not "unreachable".
func TestMailDialogueError(t *testing.T) {
	for _, f := range mailFakes {
		for _, m := range []fakemail.Mode{fakemail.Endless, fakemail.LongLine, fakemail.CloseMid} {
			t.Run(fmt.Sprintf("%s-%d", f.name, m), func(t *testing.T) {
				t.Parallel()
				res := scanMail(t, f, m, scan.NetDialer{})
				if res.Status != scan.StatusDialogueError || res.Error.Stage != scan.StagePreamble {
					t.Errorf("status %s (%q), want dialogue-error at the preamble", res.Status, res.Error)
				}
			})
		}
	}
}
