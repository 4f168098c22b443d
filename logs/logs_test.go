package logs

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
)

// fixedNow is the clock the tests give syslog's year inference.
var fixedNow = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

// read runs a Reader over named contents, in order, and returns what it
// emitted (copied) and its stats.
func read(t *testing.T, cfg Config, files ...string) ([]evidence.Observation, Stats) {
	t.Helper()
	var out []evidence.Observation
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return fixedNow }
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	r := NewReader(cfg, func(o *evidence.Observation) { out = append(out, *o) })
	for i := 0; i+1 < len(files); i += 2 {
		if err := r.Read(context.Background(), strings.NewReader(files[i+1]), files[i]); err != nil {
			t.Fatalf("Read(%s): %v", files[i], err)
		}
	}
	r.Close()
	return out, r.Stats()
}

// readFile reads testdata files.
func readFile(t *testing.T, cfg Config, names ...string) ([]evidence.Observation, Stats) {
	t.Helper()
	var args []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, n, string(b))
	}
	return read(t, cfg, args...)
}

// line renders an observation for comparison: source, client (via,
// balancer), server, protocol, class/version, cipher, user, agent,
// direction.
func line(o evidence.Observation) string {
	var b strings.Builder
	client := o.Client.String()
	if !o.Client.IsValid() {
		client = "name:" + o.ClientName
	}
	fmt.Fprintf(&b, "%s %s", o.Source, client)
	if o.Via.IsValid() {
		fmt.Fprintf(&b, " via %s", o.Via)
	}
	if o.Balancer {
		b.WriteString(" (balancer)")
	}
	server := "-"
	if o.Server.IsValid() {
		server = o.Server.String()
	}
	if o.ServerName != "" {
		server += "/" + o.ServerName
	}
	fmt.Fprintf(&b, " → %s %s %s", server, o.Protocol, o.Class())
	if o.Version != 0 {
		fmt.Fprintf(&b, " %s", o.Version)
	}
	if !o.Cipher.IsZero() {
		fmt.Fprintf(&b, " [%s]", o.Cipher)
	}
	if o.User != "" {
		fmt.Fprintf(&b, " user=%s", o.User)
	}
	if o.UserAgent != "" {
		fmt.Fprintf(&b, " ua=%q", o.UserAgent)
	}
	if o.Outbound {
		b.WriteString(" outbound")
	}
	return b.String()
}

func lines(obs []evidence.Observation) []string {
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = line(o)
	}
	return out
}

func wantLines(t *testing.T, obs []evidence.Observation, want ...string) {
	t.Helper()
	got := lines(obs)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("observations:\n  got:\n    %s\n  want:\n    %s", strings.Join(got, "\n    "), strings.Join(want, "\n    "))
	}
}

func TestExchangeReceive(t *testing.T) {
	obs, st := readFile(t, Config{}, "exchange-receive.log")
	wantLines(t, obs,
		"exchange 192.0.2.102 → 10.0.0.241:25/MX01 smtp legacy TLSv1.0 [CALG_AES_256 CALG_SHA1 CALG_ECDH_EPHEM]",
		"exchange 198.51.100.9 → 10.0.0.241:25/MX01 smtp plaintext",
		"exchange 2001:db8:1::7 → [2001:db8::25]:25/MX01 smtp modern TLSv1.2 [CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM]",
		"exchange 10.0.0.5 → 10.0.0.241:25/MX01 smtp legacy TLSv1.1 [CALG_3DES CALG_SHA1 CALG_RSA_KEYX]",
	)
	if obs[0].ClientName != "scanner.legacy.example" || obs[2].ClientName != "mail.partner.example" {
		t.Errorf("EHLO names: %q, %q", obs[0].ClientName, obs[2].ClientName)
	}
	if st.Malformed != 1 || st.Reasons[0].Line != 27 {
		t.Errorf("malformed: %d %+v", st.Malformed, st.Reasons)
	}
	if st.Incomplete != 1 {
		t.Errorf("incomplete: %d, want 1 (a disconnect without its session)", st.Incomplete)
	}
	if want := time.Date(2026, 2, 22, 13, 50, 37, 600e6, time.UTC); !obs[0].Time.Equal(want) {
		t.Errorf("time %v, want %v", obs[0].Time, want)
	}
}

// TestExchangeSend: the sending side, both spellings of SP_PROT, a
// session still open at the end of the log (concluded by Close).
func TestExchangeSend(t *testing.T) {
	obs, st := readFile(t, Config{}, "exchange-send.log")
	wantLines(t, obs,
		"exchange 10.0.0.241 → 203.0.113.25:25 smtp legacy TLSv1.1 [CALG_AES_128 CALG_SHA1 CALG_ECDH_EPHEM] outbound",
		"exchange 2001:db8::25 → [2001:db8:99::25]:25 smtp modern TLSv1.2 [CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM] outbound",
	)
	if st.Incomplete != 1 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestExchangeBalancer: a remote endpoint that is a known balancer is
// flagged.
func TestExchangeBalancer(t *testing.T) {
	obs, _ := readFile(t, Config{Balancers: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/29")}}, "exchange-receive.log")
	if !obs[3].Balancer || obs[0].Balancer {
		t.Errorf("balancer flags: %v", lines(obs))
	}
}

func TestIIS(t *testing.T) {
	obs, st := readFile(t, Config{}, "iis.log")
	wantLines(t, obs,
		`iis 192.0.2.20 → 10.1.1.5:443/mail.example.com https legacy TLSv1.0 [CALG_AES_256 CALG_SHA1 CALG_ECDH_EPHEM] user=CORP\alice ua="Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko"`,
		`iis 2001:db8:2::9 → [2001:db8::5]:443/www.example.com https modern TLSv1.3 [CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM] ua="curl/8.5.0"`,
		`iis 192.0.2.21 → 10.1.1.5:80/www.example.com http plaintext ua="curl/7.29.0"`,
		// A forwarded request: the balancer's own TLS leg, and the client
		// behind it, whose TLS this log cannot show.
		`iis 10.9.9.9 → 10.1.1.5:443/api.example.com https modern TLSv1.2 [CALG_AES_128 CALG_SHA_256 CALG_ECDH_EPHEM] ua="okhttp/3.12.0"`,
		`iis 198.51.100.77 via 10.9.9.9 → 10.1.1.5:443/api.example.com https unknown ua="okhttp/3.12.0"`,
		`iis 198.51.100.78 via 10.9.9.9 → 10.1.1.5:80/api.example.com http unknown ua="okhttp/3.12.0"`,
		`iis 192.0.2.22 → 10.1.1.5:443/mail.example.com https legacy TLSv1.1 [CALG_3DES CALG_SHA1 CALG_RSA_KEYX] user=CORP\svc-scan ua="ExchangeServicesClient/15.0"`,
		`iis 192.0.2.24 → -/www.example.com https legacy TLSv1.1`,
	)
	if st.Malformed != 1 || !strings.Contains(st.Reasons[0].Reason, "crypt-protocol") {
		t.Errorf("malformed: %+v", st.Reasons)
	}
	if st.Unknown[unknownReason(&obs[4])] != 2 {
		t.Errorf("unknown: %v", st.Unknown)
	}
}

const postfixLog = `Dec  3 05:57:27 mx postfix/smtpd[32339]: connect from unknown[127.0.0.10]
Dec  3 05:57:27 mx postfix/smtpd[32339]: Anonymous TLS connection established from unknown[127.0.0.10]: TLSv1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)
Dec  3 05:57:27 mx postfix/smtpd[32340]: connect from client.example[2001:db8::77]
Dec  3 05:57:27 mx postfix/smtpd[32339]: disconnect from unknown[127.0.0.10] ehlo=1 starttls=1 quit=1 commands=3
Dec  3 05:57:28 mx postfix/smtpd[32340]: Anonymous TLS connection established from client.example[2001:db8::77]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256
Dec  3 05:57:28 mx postfix/smtpd[32340]: disconnect from client.example[2001:db8::77] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7
Dec  3 05:57:29 mx postfix/smtpd[32339]: connect from plain.example[192.0.2.8]
Dec  3 05:57:29 mx postfix/smtpd[32339]: disconnect from plain.example[192.0.2.8] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Dec  3 05:57:30 mx postfix/smtp[4000]: Untrusted TLS connection established to mx.partner.example[203.0.113.5]:25: TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)
Dec  3 05:57:31 mx postfix/smtpd[32339]: connect from unknown[192.0.2.9]
Dec  3 05:57:31 mx postfix/smtpd[32339]: disconnect from unknown[192.0.2.9] ehlo=1 starttls=0/1 quit=1 commands=2/3
Dec  3 05:57:32 mx postfix/submission/smtpd[5000]: connect from unknown[192.0.2.10]
Dec  3 05:57:32 mx postfix/submission/smtpd[5000]: Trusted TLS connection established from unknown[192.0.2.10]: TLSv1.1 with cipher AES128-SHA (128/128 bits)
Dec  3 05:57:33 mx systemd[1]: Started something.
Dec  3 05:57:33 mx postfix/smtpd[32339]: Anonymous TLS connection established from garbage
not a syslog line at all
`

func TestPostfix(t *testing.T) {
	obs, st := read(t, Config{}, "maillog", postfixLog)
	wantLines(t, obs,
		"postfix 127.0.0.10 → -/mx smtp legacy TLSv1.0 [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA]",
		"postfix 2001:db8::77 → -/mx smtp modern TLSv1.3 [TLS_AES_256_GCM_SHA384]",
		"postfix 192.0.2.8 → -/mx smtp plaintext",
		"postfix name:mx → 203.0.113.5:25/mx.partner.example smtp modern TLSv1.2 [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256] outbound",
		"postfix 192.0.2.9 → -/mx smtp plaintext",
		// Still open at the end: its TLS line is evidence.
		"postfix 192.0.2.10 → -/mx smtp legacy TLSv1.1 [TLS_RSA_WITH_AES_128_CBC_SHA]",
	)
	if st.Malformed != 2 {
		t.Errorf("malformed %d (%+v), want 2", st.Malformed, st.Reasons)
	}
	if obs[1].ClientName != "client.example" || obs[0].ClientName != "" {
		t.Errorf("client names %q %q", obs[0].ClientName, obs[1].ClientName)
	}
	if want := time.Date(2026, 12, 3, 5, 57, 27, 0, time.UTC); !obs[0].Time.Equal(want) {
		t.Errorf("time %v, want %v", obs[0].Time, want)
	}
}

// TestPostfixNoTLSLog: with smtpd_tls_loglevel = 0 (Postfix's default)
// a STARTTLS session is TLS of unknown version, and a session without
// STARTTLS may have been implicit TLS: unknown, never plaintext.
func TestPostfixNoTLSLog(t *testing.T) {
	const log = `Dec  3 05:57:27 mx postfix/smtpd[1]: connect from unknown[127.0.0.10]
Dec  3 05:57:27 mx postfix/smtpd[1]: disconnect from unknown[127.0.0.10] ehlo=1 starttls=1 commands=2
Dec  3 05:57:27 mx postfix/smtpd[2]: connect from unknown[127.0.0.11]
Dec  3 05:57:27 mx postfix/smtpd[2]: lost connection after CONNECT from unknown[127.0.0.11]
Dec  3 05:57:27 mx postfix/smtpd[2]: disconnect from unknown[127.0.0.11] commands=0/0
`
	obs, st := read(t, Config{}, "maillog", log)
	wantLines(t, obs,
		"postfix 127.0.0.10 → -/mx smtp unknown",
		"postfix 127.0.0.11 → -/mx smtp unknown",
	)
	if len(st.Unknown) != 2 {
		t.Errorf("unknown reasons: %v", st.Unknown)
	}
	for r := range st.Unknown {
		if !strings.Contains(r, "smtpd_tls_loglevel = 1") {
			t.Errorf("reason %q does not say what to set", r)
		}
	}
}

const dovecotLog = `Dec 03 05:57:27 imap-login: Info: Disconnected: Connection closed (disconnected before auth was ready, waited 0 secs): user=<>, rip=127.0.0.1, lip=127.0.0.1, secured, session=<zd8rb7RhrNl/AAAB>
Dec 03 05:57:27 imap-login: Info: Disconnected: Connection closed (disconnected before auth was ready, waited 0 secs): user=<>, rip=127.0.0.1, lip=127.0.0.1, TLS handshaking: Connection closed, session=<QOArb7RhNtN/AAAB>
Dec 03 05:57:27 imap-login: Info: Login: user=<bob>, method=PLAIN, rip=127.0.0.10, lip=127.0.0.1, mpid=32393, TLS, session=<EHMvb7Rh/Yl/AAAK>, TLSv1 with cipher ECDHE-RSA-AES256-SHA (256/256 bits)
Dec 03 05:57:28 pop3-login: Info: Disconnected: Aborted login by logging out (no auth attempts in 0 secs): user=<>, rip=2001:db8::9, lip=2001:db8::1, TLS, session=<JVc2b7Rh/YZ/AAAL>, TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits)
Dec 03 05:57:29 imap(bob)<1234><abc>: Info: Disconnected: Logged out in=10 out=20
Dec  3 05:57:30 mx dovecot: imap-login: Login: user=<carol>, method=PLAIN, rip=192.0.2.30, lip=192.0.2.1, mpid=9, TLS, session=<x>
Dec  3 05:57:31 mx dovecot: imap-login: Login: user=<dave>, method=PLAIN, rip=192.0.2.31, lip=192.0.2.1, mpid=9, session=<y>
Dec  3 05:57:32 mx dovecot: imap-login: Login: user=<eve>, method=PLAIN, rip=nonsense, lip=192.0.2.1, TLS
`

func TestDovecot(t *testing.T) {
	obs, st := read(t, Config{}, "dovecot.log", dovecotLog)
	wantLines(t, obs,
		"dovecot 127.0.0.1 → 127.0.0.1:0 imap plaintext",
		"dovecot 127.0.0.10 → 127.0.0.1:0 imap legacy TLSv1.0 [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA] user=bob",
		"dovecot 2001:db8::9 → [2001:db8::1]:0 pop3 modern TLSv1.3 [TLS_AES_128_GCM_SHA256]",
		// Without %k Dovecot says "TLS" and nothing more.
		"dovecot 192.0.2.30 → 192.0.2.1:0/mx imap unknown user=carol",
		"dovecot 192.0.2.31 → 192.0.2.1:0/mx imap plaintext user=dave",
	)
	if st.Malformed != 1 {
		t.Errorf("malformed %d: %+v", st.Malformed, st.Reasons)
	}
	if n := st.Unknown["dovecot: TLS logins without a version: add %k to login_log_format_elements"]; n != 1 {
		t.Errorf("unknown %v", st.Unknown)
	}
}

func TestAccessNginx(t *testing.T) {
	f, err := ParseFormat("nginx:" + `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $ssl_protocol $ssl_cipher "$http_x_forwarded_for"`)
	if err != nil {
		t.Fatal(err)
	}
	const log = `127.0.0.20 - - [03/Dec/2026:06:00:08 +0000] "GET / HTTP/1.0" 200 3 "-" "tlsmap-test/TLSv1" TLSv1 ECDHE-RSA-AES256-SHA "-"
127.0.0.1 - bob [03/Dec/2026:06:00:09 +0100] "GET / HTTP/1.0" 200 3 "-" "agent \x22quoted\x22" - - "-"
10.0.0.2 - - [03/Dec/2026:06:00:10 +0000] "GET / HTTP/1.1" 200 3 "-" "x" TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "192.0.2.50, 10.0.0.1"
[2001:db8::1] - - [03/Dec/2026:06:00:10 +0000] "GET / HTTP/1.1" 200 3 "-" "x" TLSv1.3 TLS_AES_128_GCM_SHA256 "-"
127.0.0.23 - - [03/Dec/2026:06:00:11 +0000] "GET / HTTP/1.1" 200 3 "-" "x" TLSv1.2
`
	obs, st := read(t, Config{Format: f, Balancers: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}, "access.log", log)
	wantLines(t, obs,
		`nginx 127.0.0.20 → - https legacy TLSv1.0 [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA] ua="tlsmap-test/TLSv1"`,
		`nginx 127.0.0.1 → - http plaintext user=bob ua="agent \\x22quoted\\x22"`,
		`nginx 10.0.0.2 → - https modern TLSv1.2 [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256] ua="x"`,
		`nginx 192.0.2.50 via 10.0.0.2 → - https unknown ua="x"`,
		`nginx 2001:db8::1 → - https modern TLSv1.3 [TLS_AES_128_GCM_SHA256] ua="x"`,
	)
	if st.Malformed != 1 {
		t.Errorf("malformed: %+v", st.Reasons)
	}
	if want := time.Date(2026, 12, 3, 5, 0, 9, 0, time.UTC); !obs[1].Time.Equal(want) {
		t.Errorf("time %v, want %v", obs[1].Time, want)
	}
}

// TestAccessTLSHeader: a balancer that terminates TLS and reports the
// client's version in a header it sets.
func TestAccessTLSHeader(t *testing.T) {
	f, err := ParseFormat(`nginx:$remote_addr [$time_iso8601] $ssl_protocol $http_x_forwarded_for $http_x_ssl_protocol`)
	if err != nil {
		t.Fatal(err)
	}
	const log = "10.0.0.2 [2026-12-03T06:00:10+00:00] - 192.0.2.60 TLSv1.1\n" +
		"10.0.0.2 [2026-12-03T06:00:11+00:00] - 192.0.2.61 TLSv1.3\n"
	obs, _ := read(t, Config{Format: f, TLSHeader: "X-SSL-Protocol"}, "a", log)
	wantLines(t, obs,
		"nginx 192.0.2.60 via 10.0.0.2 → - http legacy TLSv1.1",
		"nginx 192.0.2.61 via 10.0.0.2 → - http modern TLSv1.3",
	)
}

func TestAccessApache(t *testing.T) {
	f, err := ParseFormat(`apache:%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %{SSL_PROTOCOL}x %{SSL_CIPHER}x`)
	if err != nil {
		t.Fatal(err)
	}
	const log = `127.0.0.20 - - [03/Dec/2026:06:00:08 +0000] "GET / HTTP/1.0" 200 3 "-" "tlsmap-test/TLSv1" TLSv1 ECDHE-RSA-AES256-SHA
host.example - alice [03/Dec/2026:06:00:08 +0000] "GET / HTTP/1.0" 200 3 "-" "a \"quoted\" agent" TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384
127.0.0.21 - - [03/Dec/2026:06:00:08 +0000] "GET / HTTP/1.0" 200 3 "-" "curl" - -
`
	obs, st := read(t, Config{Format: f}, "a", log)
	wantLines(t, obs,
		`apache 127.0.0.20 → - https legacy TLSv1.0 [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA] ua="tlsmap-test/TLSv1"`,
		`apache name:host.example → - https modern TLSv1.2 [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384] user=alice ua="a \\\"quoted\\\" agent"`,
		`apache 127.0.0.21 → - http plaintext ua="curl"`,
	)
	if st.Malformed != 0 {
		t.Errorf("malformed: %+v", st.Reasons)
	}
}

func TestAccessHAProxy(t *testing.T) {
	f, err := ParseFormat(`haproxy:%ci:%cp [%tr] %ft %b/%s %B %sslv %sslc`)
	if err != nil {
		t.Fatal(err)
	}
	const log = `127.0.0.20:42293 [03/Dec/2026:06:00:09.101] web~ be_web/s1 125 TLSv1 ECDHE-RSA-AES256-SHA
<134>Dec  3 06:00:09 lb haproxy[777]: 127.0.0.21:39491 [03/Dec/2026:06:00:09.384] web~ be_web/s1 125 TLSv1.1 ECDHE-RSA-AES256-SHA
<134>1 2026-12-03T06:00:09.654Z lb haproxy 777 - - 127.0.0.22:41349 [03/Dec/2026:06:00:09.654] web~ be_web/s1 125 TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384
127.0.0.24:1 [03/Dec/2026:06:00:10.000] tcp be/s1 0 - -
127.0.0.1:3 [03/Dec/2026:06:00:10.000] web/1: SSL handshake failure
`
	obs, st := read(t, Config{Format: f}, "a", log)
	wantLines(t, obs,
		"haproxy 127.0.0.20 → - tls legacy TLSv1.0 [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA]",
		"haproxy 127.0.0.21 → - tls legacy TLSv1.1 [TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA]",
		"haproxy 127.0.0.22 → - tls modern TLSv1.2 [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]",
		"haproxy 127.0.0.24 → - tcp plaintext",
	)
	if st.Malformed != 1 {
		t.Errorf("malformed: %+v", st.Reasons)
	}
	if want := time.Date(2026, 12, 3, 6, 0, 9, 101e6, time.UTC); !obs[0].Time.Equal(want) {
		t.Errorf("time %v, want %v", obs[0].Time, want)
	}
}

func TestParseFormat(t *testing.T) {
	for _, bad := range []string{
		"nginx", "nginx:", "nginx:$remote_addr $status", "nginx:$ssl_protocol", "nginx:$remote_addr$ssl_protocol",
		"apache:%h %{SSL_PROTOCOL", "haproxy:%ci %[ssl_fc_protocol", "exchange:x", "bogus",
	} {
		if _, err := ParseFormat(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseFormat(%q): %v, want ErrFormat", bad, err)
		}
	}
	for in, want := range map[string]Kind{"": KindAuto, "exchange": KindExchange, "IIS": KindIIS, "postfix": KindMaillog,
		"dovecot": KindMaillog, "haproxy:%ci %sslv": KindHAProxy, "apache:%a %{SSL_PROTOCOL}x": KindApache} {
		f, err := ParseFormat(in)
		if err != nil || f.Kind != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, f, err)
		}
	}
	for _, k := range []Kind{KindNginx, KindApache, KindHAProxy} {
		if _, err := ParseFormat(k.String() + ":" + ExamplePattern(k)); err != nil {
			t.Errorf("the example %s format does not compile: %v", k, err)
		}
	}
}

// TestDetect: each format is told from its first lines; an access log
// without --log-format is an error with a hint.
func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Kind
	}{{"exchange-receive.log", KindExchange}, {"exchange-send.log", KindExchange}, {"iis.log", KindIIS}} {
		b, _ := os.ReadFile(filepath.Join("testdata", tc.file))
		r := NewReader(Config{}, nil)
		if k, _, ok := r.detect(b); !ok || k != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.file, k, ok, tc.want)
		}
	}
	r := NewReader(Config{}, nil)
	for _, s := range []string{postfixLog, dovecotLog} {
		if k, _, ok := r.detect([]byte(s)); !ok || k != KindMaillog {
			t.Errorf("maillog: %v %v", k, ok)
		}
	}
	err := r.Read(context.Background(), strings.NewReader(`127.0.0.20 - - [03/Dec/2026:06:00:08 +0000] "GET / HTTP/1.0" 200 3 "-" "x"`+"\n"), "access.log")
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "--log-format 'nginx:") {
		t.Errorf("access log without a format: %v", err)
	}
}

// TestCompressedAndRotated: gzip and plain files, read in order, with a
// Postfix session spanning the rotation.
func TestCompressedAndRotated(t *testing.T) {
	first, second, _ := strings.Cut(postfixLog, "Dec  3 05:57:27 mx postfix/smtpd[32339]: disconnect")
	second = "Dec  3 05:57:27 mx postfix/smtpd[32339]: disconnect" + second
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(first))
	zw.Close()
	obs, st := read(t, Config{}, "mail.log.1.gz", gz.String(), "mail.log", second)
	all, _ := read(t, Config{}, "mail.log", postfixLog)
	if strings.Join(lines(obs), "\n") != strings.Join(lines(all), "\n") {
		t.Errorf("split and gzipped:\n%s\nwhole:\n%s", strings.Join(lines(obs), "\n"), strings.Join(lines(all), "\n"))
	}
	if len(st.Files) != 2 || st.Files[0].Format != "maillog" || st.Lines != int64(strings.Count(postfixLog, "\n")) {
		t.Errorf("stats %+v", st)
	}
}

func TestTimeFilter(t *testing.T) {
	since := time.Date(2026, 12, 3, 5, 57, 28, 0, time.UTC)
	until := time.Date(2026, 12, 3, 5, 57, 31, 0, time.UTC)
	obs, st := read(t, Config{Since: since, Until: until}, "maillog", postfixLog)
	for _, o := range obs {
		if o.Time.Before(since) || !o.Time.Before(until) {
			t.Errorf("kept %v", line(o))
		}
	}
	if len(obs) != 2 || st.Filtered != 4 {
		t.Errorf("kept %d, filtered %d: %v", len(obs), st.Filtered, lines(obs))
	}
	// Lines without a time cannot be placed in the range.
	f, _ := ParseFormat("nginx:$remote_addr $ssl_protocol")
	obs, st = read(t, Config{Format: f, Since: since}, "a", "192.0.2.1 TLSv1\n")
	if len(obs) != 0 || st.Undated != 1 {
		t.Errorf("undated: %d kept, %+v", len(obs), st)
	}
}

func TestLongLine(t *testing.T) {
	log := "Dec  3 05:57:27 mx postfix/smtpd[1]: " + strings.Repeat("x", 300) + "\n" + postfixLog
	obs, st := read(t, Config{MaxLineBytes: 256}, "maillog", log)
	all, _ := read(t, Config{}, "maillog", postfixLog)
	if len(obs) != len(all) || st.Malformed != 3 || !strings.Contains(st.Reasons[0].Reason, "longer than 256") {
		t.Errorf("%d observations, %+v", len(obs), st.Reasons)
	}
}

func TestReadFileMissing(t *testing.T) {
	r := NewReader(Config{}, func(*evidence.Observation) {})
	if err := r.ReadFile(context.Background(), filepath.Join(t.TempDir(), "nope.log")); err == nil {
		t.Error("a missing file is no error")
	}
}

func TestOrderRotated(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"/var/log/mail.log", "/var/log/mail.log.1", "/var/log/mail.log.10.gz", "/var/log/mail.log.2.gz"},
			[]string{"/var/log/mail.log.10.gz", "/var/log/mail.log.2.gz", "/var/log/mail.log.1", "/var/log/mail.log"}},
		{[]string{"access.log", "access.log-20260302.gz", "access.log-20260301.gz", "other.log"},
			[]string{"access.log-20260301.gz", "access.log-20260302.gz", "access.log", "other.log"}},
		{[]string{"b.log", "a.log.1", "-", "a.log"}, []string{"b.log", "a.log.1", "a.log", "-"}},
		{[]string{"x/mail.log.1", "y/mail.log"}, []string{"x/mail.log.1", "y/mail.log"}},
	} {
		if got := OrderRotated(tc.in); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("OrderRotated(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestProbe(t *testing.T) {
	r := NewReader(Config{}, nil)
	f, err := r.Probe(filepath.Join("testdata", "iis.log"))
	if err != nil || f.Kind != KindIIS {
		t.Errorf("Probe(iis.log) = %v, %v", f, err)
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(postfixLog))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "mail.log.1.gz"), gz.Bytes(), 0o644)
	if f, err := r.Probe(filepath.Join(dir, "mail.log.1.gz")); err != nil || f.Kind != KindMaillog {
		t.Errorf("Probe(gz) = %v, %v", f, err)
	}
	os.WriteFile(filepath.Join(dir, "x.log"), []byte("hello\n"), 0o644)
	if _, err := r.Probe(filepath.Join(dir, "x.log")); !errors.Is(err, ErrFormat) {
		t.Errorf("Probe(unknown): %v", err)
	}
}

// TestTruncatedGzip: a gzip stream cut short is an error after the lines
// before the cut were read.
func TestTruncatedGzip(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := 0; i < 2000; i++ {
		zw.Write([]byte(postfixLog))
	}
	zw.Close()
	cut := gz.Bytes()[:gz.Len()/2]
	var n int
	r := NewReader(Config{Now: func() time.Time { return fixedNow }}, func(*evidence.Observation) { n++ })
	err := r.Read(context.Background(), bytes.NewReader(cut), "mail.log.2.gz")
	st := r.Stats()
	if err == nil || st.Files[0].Err == "" {
		t.Fatalf("a cut gzip stream read without error (%d lines)", st.Lines)
	}
	if st.Lines < 1000 || n == 0 {
		t.Errorf("%d lines, %d observations before the cut", st.Lines, n)
	}
}

// TestPostfixMissingLines: connections whose connect or disconnect line
// is missing (a log starting mid-session, syslog losing lines) still
// count once each.
func TestPostfixMissingLines(t *testing.T) {
	const log = `Dec  3 05:57:27 mx postfix/smtpd[7]: Anonymous TLS connection established from unknown[192.0.2.1]: TLSv1 with cipher AES128-SHA (128/128 bits)
Dec  3 05:57:28 mx postfix/smtpd[7]: Anonymous TLS connection established from unknown[192.0.2.2]: TLSv1.2 with cipher AES128-SHA (128/128 bits)
Dec  3 05:57:29 mx postfix/smtpd[7]: connect from unknown[192.0.2.3]
Dec  3 05:57:29 mx postfix/smtpd[7]: Anonymous TLS connection established from unknown[192.0.2.3]: TLSv1.1 with cipher AES128-SHA (128/128 bits)
Dec  3 05:57:30 mx postfix/smtpd[7]: disconnect from unknown[192.0.2.3] ehlo=1 starttls=1 commands=2
`
	obs, st := read(t, Config{}, "maillog", log)
	wantLines(t, obs,
		"postfix 192.0.2.1 → -/mx smtp legacy TLSv1.0 [TLS_RSA_WITH_AES_128_CBC_SHA]",
		"postfix 192.0.2.2 → -/mx smtp modern TLSv1.2 [TLS_RSA_WITH_AES_128_CBC_SHA]",
		"postfix 192.0.2.3 → -/mx smtp legacy TLSv1.1 [TLS_RSA_WITH_AES_128_CBC_SHA]",
	)
	if st.Incomplete != 2 {
		t.Errorf("incomplete %d, want 2", st.Incomplete)
	}
}
