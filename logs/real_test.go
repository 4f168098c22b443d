package logs_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/internal/tlsclient"
	"github.com/tlsmap/tlsmap/internal/webserver"
	"github.com/tlsmap/tlsmap/logs"
)

// The real-server tests start each server with a configuration of its
// own that logs TLS, connect real clients (openssl s_client) pinned to
// TLS 1.0, 1.1, 1.2 and 1.3 from distinct loopback addresses, and check
// that what tlsmap reads from the server's log is exactly what the
// clients themselves reported: the same clients, each with its version
// and cipher.

// truth is what one client connection reported.
type truth struct {
	client  string // source address
	version string // OpenSSL's name, "TLSv1" for TLS 1.0
	cipher  string
}

// connectAll runs one client per version from base+i (127.0.0.base+i),
// with extra options from opts, and returns what each reported.
func connectAll(t *testing.T, base int, opts tlsclient.Options) []truth {
	t.Helper()
	var out []truth
	for i, v := range tlsclient.Versions {
		o := opts
		o.Version = v
		o.Source = fmt.Sprintf("127.0.0.%d", base+i)
		r := tlsclient.Connect(t, o)
		out = append(out, truth{o.Source, r.Version, r.Cipher})
	}
	return out
}

// readLog runs tlsmap's log reader over one file and returns every
// observation (copied) and the stats.
func readLog(t *testing.T, cfg logs.Config, path string) ([]evidence.Observation, logs.Stats) {
	t.Helper()
	var obs []evidence.Observation
	r := logs.NewReader(cfg, func(o *evidence.Observation) { obs = append(obs, *o) })
	if err := r.ReadFile(context.Background(), path); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	r.Close()
	return obs, r.Stats()
}

// versionName is OpenSSL's name of an observation's version.
func versionName(o evidence.Observation) string {
	s := o.Version.String()
	if s == "TLSv1.0" {
		return "TLSv1"
	}
	return s
}

// checkExactly compares the TLS observations from the clients under test
// (addresses other than 127.0.0.1, which the harnesses use to see that a
// server is up) with the clients' own reports.
func checkExactly(t *testing.T, obs []evidence.Observation, want []truth, src evidence.Source) {
	t.Helper()
	var got []string
	for _, o := range obs {
		if o.Client.String() == "127.0.0.1" && !o.Via.IsValid() {
			continue
		}
		if o.Source != src {
			t.Errorf("source %v, want %v", o.Source, src)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s", o.Client, o.Class(), versionName(o), o.Cipher))
	}
	var wantS []string
	for _, w := range want {
		c := evidence.LookupCipher(w.cipher)
		if !c.Known {
			t.Fatalf("the registry does not know the client's cipher %q", w.cipher)
		}
		class := "modern"
		if w.version == "TLSv1" || w.version == "TLSv1.1" {
			class = "legacy"
		}
		wantS = append(wantS, fmt.Sprintf("%s %s %s %s", w.client, class, w.version, c))
	}
	slices.Sort(got)
	slices.Sort(wantS)
	if !slices.Equal(got, wantS) {
		t.Errorf("from the log:\n  %s\nthe clients reported:\n  %s", strings.Join(got, "\n  "), strings.Join(wantS, "\n  "))
	}
}

func TestRealPostfix(t *testing.T) {
	t.Parallel()
	tlsclient.Need(t)
	pf := mailserver.StartPostfix(t, mailserver.PostfixOptions{TLSLogLevel: 1})
	want := connectAll(t, 30, tlsclient.Options{Addr: pf.SMTP, StartTLS: "smtp", Send: "QUIT\r\n"})
	want = append(want, connectAll(t, 34, tlsclient.Options{Addr: pf.SMTPS, Send: "QUIT\r\n"})...)
	log := filepath.Join(pf.Dir, "maillog")
	webserver.WaitLines(t, log, 8*3) // connect, TLS, disconnect per client at least
	waitFor(t, func() bool {
		obs, _ := readLog(t, logs.Config{}, log)
		return countFrom(obs, "127.0.0.3") >= 8
	})
	obs, st := readLog(t, logs.Config{}, log)
	checkExactly(t, obs, want, evidence.SourcePostfix)
	if st.Malformed != 0 {
		t.Errorf("malformed lines: %+v\n%s", st.Reasons, pf.Log())
	}
}

func TestRealDovecot(t *testing.T) {
	t.Parallel()
	tlsclient.Need(t)
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: true,
		LoginLogFormatElements: "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}> %k"})
	want := connectAll(t, 40, tlsclient.Options{Addr: dc.IMAPS, Send: "a LOGIN bob tlsmap-test\r\na LOGOUT\r\n"})
	want = append(want, connectAll(t, 44, tlsclient.Options{Addr: dc.IMAP, StartTLS: "imap", Send: "a LOGOUT\r\n"})...)
	log := filepath.Join(dc.Dir, "dovecot.log")
	waitFor(t, func() bool {
		obs, _ := readLog(t, logs.Config{}, log)
		return countFrom(obs, "127.0.0.4") >= 8
	})
	obs, st := readLog(t, logs.Config{}, log)
	checkExactly(t, obs, want, evidence.SourceDovecot)
	if st.Malformed != 0 {
		t.Errorf("malformed lines: %+v", st.Reasons)
	}
	// A LOGIN pipelined with LOGOUT may be aborted before it is
	// authenticated; the ones that completed carry the user.
	users := 0
	for _, o := range obs {
		switch o.User {
		case "bob":
			users++
		case "":
		default:
			t.Errorf("user %q", o.User)
		}
	}
	if users == 0 {
		t.Errorf("no login of bob; log:\n%s", dc.Log())
	}
}

// TestRealDovecotWithoutK: Dovecot's default login_log_format_elements
// say "TLS" and nothing more: each client is reported as TLS of unknown
// version, with the line to add — never as modern.
func TestRealDovecotWithoutK(t *testing.T) {
	t.Parallel()
	tlsclient.Need(t)
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{PlaintextAuth: true})
	connectAll(t, 48, tlsclient.Options{Addr: dc.IMAPS, Send: "a LOGOUT\r\n"})
	log := filepath.Join(dc.Dir, "dovecot.log")
	waitFor(t, func() bool {
		obs, _ := readLog(t, logs.Config{}, log)
		return countFrom(obs, "127.0.0.") >= 4
	})
	obs, st := readLog(t, logs.Config{}, log)
	n := 0
	for _, o := range obs {
		if o.Client.String() == "127.0.0.1" {
			continue
		}
		n++
		if o.Class() != evidence.ClassUnknown || o.Transport != evidence.TransportTLS {
			t.Errorf("%s: class %v transport %v, want unknown TLS", o.Client, o.Class(), o.Transport)
		}
	}
	if n != 4 {
		t.Errorf("%d clients, want 4", n)
	}
	if st.Unknown["dovecot: TLS logins without a version: add %k to login_log_format_elements"] != 4 {
		t.Errorf("unknown: %v", st.Unknown)
	}
}

const httpRequest = "GET / HTTP/1.0\r\nHost: localhost\r\nUser-Agent: tlsmap-test\r\n\r\n"

func TestRealNginx(t *testing.T) {
	t.Parallel()
	tlsclient.Need(t)
	ng := webserver.StartNginx(t, webserver.NginxOptions{})
	want := connectAll(t, 50, tlsclient.Options{Addr: ng.HTTPS, Send: httpRequest})
	webserver.WaitLines(t, ng.AccessLog, 4)
	f, err := logs.ParseFormat("nginx:" + webserver.NginxFormat)
	if err != nil {
		t.Fatal(err)
	}
	obs, st := readLog(t, logs.Config{Format: f}, ng.AccessLog)
	checkExactly(t, obs, want, evidence.SourceNginx)
	for _, o := range obs {
		if o.UserAgent != "tlsmap-test" || o.Protocol != "https" {
			t.Errorf("%s: user agent %q, protocol %q", o.Client, o.UserAgent, o.Protocol)
		}
	}
	if st.Malformed != 0 {
		t.Errorf("malformed: %+v", st.Reasons)
	}
}

func TestRealApache(t *testing.T) {
	t.Parallel()
	tlsclient.Need(t)
	ap := webserver.StartApache(t, webserver.ApacheOptions{})
	want := connectAll(t, 60, tlsclient.Options{Addr: ap.HTTPS, Send: httpRequest})
	webserver.WaitLines(t, ap.AccessLog, 4)
	f, err := logs.ParseFormat("apache:" + webserver.ApacheFormat)
	if err != nil {
		t.Fatal(err)
	}
	obs, st := readLog(t, logs.Config{Format: f}, ap.AccessLog)
	checkExactly(t, obs, want, evidence.SourceApache)
	if st.Malformed != 0 {
		t.Errorf("malformed: %+v", st.Reasons)
	}
}

func TestRealHAProxy(t *testing.T) {
	t.Parallel()
	tlsclient.Need(t)
	ng := webserver.StartNginx(t, webserver.NginxOptions{})
	hp := webserver.StartHAProxy(t, webserver.HAProxyOptions{Frontends: []webserver.Frontend{
		{Name: "web", Mode: "http", TLS: true, Backend: ng.HTTP},
	}})
	want := connectAll(t, 70, tlsclient.Options{Addr: hp.Addrs["web"], Send: httpRequest})
	webserver.WaitLines(t, hp.Log, 4)
	f, err := logs.ParseFormat("haproxy:" + webserver.HAProxyFormat)
	if err != nil {
		t.Fatal(err)
	}
	obs, st := readLog(t, logs.Config{Format: f}, hp.Log)
	checkExactly(t, obs, want, evidence.SourceHAProxy)
	if st.Malformed != 0 {
		t.Errorf("malformed: %+v", st.Reasons)
	}
	// Behind it, nginx saw only the balancer, in plaintext.
	nf, _ := logs.ParseFormat("nginx:" + webserver.NginxFormat)
	webserver.WaitLines(t, ng.AccessLog, 4)
	back, _ := readLog(t, logs.Config{Format: nf}, ng.AccessLog)
	for _, o := range back {
		if o.Client.String() != "127.0.0.1" || o.Class() != evidence.ClassPlaintext {
			t.Errorf("nginx behind HAProxy: %s %v", o.Client, o.Class())
		}
	}
}

// countFrom counts the observations whose client address starts with
// prefix.
func countFrom(obs []evidence.Observation, prefix string) int {
	n := 0
	for _, o := range obs {
		if strings.HasPrefix(o.Client.String(), prefix) {
			n++
		}
	}
	return n
}

// waitFor polls cond for a few seconds: servers write their logs after
// answering.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a loaded machine writes late
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the server's log did not show every client in time")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
