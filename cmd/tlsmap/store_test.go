package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/internal/pgtest"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/internal/tlsclient"
	"github.com/tlsmap/tlsmap/internal/webserver"
)

// tlsmap runs the command in this process.
func tlsmapRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// mustRun runs tlsmap and requires exit code want.
func mustRun(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, errs, code := tlsmapRun(t, args...)
	if code != want {
		t.Fatalf("tlsmap %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

// Client addresses of the scenario (Linux routes 127.0.0.0/8 to lo).
const (
	clientA = "127.0.0.21" // openssl s_client pinned to TLS 1.0, through the recorded path
	clientB = "127.0.0.22" // openssl s_client pinned to TLS 1.1, straight to nginx: only its log sees it
	clientC = "127.0.0.23" // openssl s_client with TLS 1.2 and 1.3
)

// scenario is the servers, captures and log the store tests share.
type scenario struct {
	e1, e3, e4 *realserver.Server
	e2         *webserver.Nginx
	e2Addr     string
	captures   []string // one a day
	log        string   // nginx's access log
	logSince   time.Time
	days       []time.Time
	until      string
}

const httpGet = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"

// legacyServer accepts TLS 1.0 to 1.3; modernServer TLS 1.2 and 1.3.
func legacyServer(name string) realserver.Config {
	return realserver.Config{Name: name, Software: realserver.OpenSSL, Key: realserver.RSA2048,
		Args: []string{"-min_protocol", "TLSv1", "-cipher", "DEFAULT:@SECLEVEL=0"}}
}

func modernServer(name string) realserver.Config {
	return realserver.Config{Name: name, Software: realserver.OpenSSL, Key: realserver.RSA2048,
		Args: []string{"-min_protocol", "TLSv1.2"}}
}

// newScenario starts four real servers — e1 openssl s_server accepting
// TLS 1.0–1.3, e2 nginx accepting TLS 1.0–1.3 with an access log, e3 like
// e1, e4 openssl s_server accepting TLS 1.2–1.3 only — and records real
// clients (openssl s_client) over four simulated days through recording
// relays, one capture a day with that day's times. Then client B talks to
// e2 directly: only nginx's log sees it.
//
// The truth, from the clients' own reports: e1 saw only the modern client
// (ready); e2 had client A on TLS 1.0 (capture) and client B on TLS 1.1
// (log): blocked by two; e3 saw nothing (no evidence); e4 refused client
// A's TLS 1.0 (done).
func newScenario(t *testing.T) *scenario {
	t.Helper()
	tlsclient.Need(t)
	sc := &scenario{}
	sc.e1 = realserver.StartT(t, legacyServer("e1-legacy"))
	sc.e3 = realserver.StartT(t, legacyServer("e3-legacy"))
	sc.e4 = realserver.StartT(t, modernServer("e4-modern"))
	sc.e2 = webserver.StartNginx(t, webserver.NginxOptions{LogFormat: webserver.NginxFormat + " $server_addr $server_port"})
	sc.e2Addr = sc.e2.HTTPS

	dir := t.TempDir()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	type conn struct {
		from    string
		to      string // e1 e2 e4
		version tlsclient.Version
		refused bool
	}
	plan := [][]conn{
		{{clientA, "e2", tlsclient.TLS10, false}, {clientA, "e2", tlsclient.TLS10, false}, {clientC, "e1", tlsclient.TLS13, false},
			{clientC, "e2", tlsclient.TLS12, false}, {clientC, "e4", tlsclient.TLS13, false}},
		{{clientA, "e2", tlsclient.TLS10, false}, {clientA, "e4", tlsclient.TLS10, true}, {clientC, "e1", tlsclient.TLS12, false}},
		{{clientC, "e2", tlsclient.TLS13, false}, {clientC, "e1", tlsclient.TLS13, false}},
		{{clientA, "e2", tlsclient.TLS10, false}},
	}
	backends := map[string]string{"e1": sc.e1.Addr, "e2": sc.e2Addr, "e4": sc.e4.Addr}
	for i, day := range plan {
		base := today.Add(time.Duration(i-len(plan))*24*time.Hour + 9*time.Hour + time.Duration(i)*time.Minute)
		sc.days = append(sc.days, base)
		start := time.Now()
		path := filepath.Join(dir, fmt.Sprintf("day%d.pcap", i+1))
		file, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		cw, err := pcaptest.NewCaptureWriter(file, func() time.Time { return base.Add(time.Since(start)) })
		if err != nil {
			t.Fatal(err)
		}
		recs := map[string]*pcaptest.Recorder{}
		for name, addr := range backends {
			if recs[name], err = pcaptest.Record(cw, addr, netip.AddrPort{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range day {
			_, err := tlsclient.Run(tlsclient.Options{Addr: recs[c.to].Addr, Source: c.from, Version: c.version,
				ServerName: c.to + ".scenario.test", Send: httpGet})
			if (err != nil) != c.refused {
				t.Fatalf("day %d: %s → %s %s: %v (refusal expected: %v)", i+1, c.from, c.to, c.version.Name(), err, c.refused)
			}
		}
		for _, r := range recs {
			r.Close()
		}
		if err := cw.Err(); err != nil {
			t.Fatal(err)
		}
		file.Close()
		sc.captures = append(sc.captures, path)
	}

	// Client B, straight to nginx, after everything else nginx logged
	// (its log has second resolution: start on a new second).
	sc.logSince = time.Now().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(sc.logSince))
	for range 2 {
		tlsclient.Connect(t, tlsclient.Options{Addr: sc.e2Addr, Source: clientB, Version: tlsclient.TLS11,
			ServerName: "e2.scenario.test", Send: httpGet})
	}
	webserver.WaitLines(t, sc.e2.AccessLog, 1)
	sc.log = sc.e2.AccessLog
	sc.until = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	return sc
}

func (sc *scenario) endpoints() []string {
	return []string{sc.e1.Addr, sc.e2Addr, sc.e3.Addr, sc.e4.Addr}
}

// scan scans the four endpoints into dsn as run name.
func (sc *scenario) scan(t *testing.T, dsn, name string) {
	t.Helper()
	args := append([]string{"scan", "--store", dsn, "--store-run", name, "--versions-only", "--no-cert", "--no-groups",
		"--format", "jsonl", "--timeout", "3s"}, sc.endpoints()...)
	mustRun(t, scanExitPass, args...)
}

// storeEvidence sniffs the captures and reads the log into dsn.
func (sc *scenario) storeEvidence(t *testing.T, dsn string) {
	t.Helper()
	args := []string{"sniff", "--store", dsn, "--store-batch", "3"}
	for _, c := range sc.captures {
		args = append(args, "-r", c)
	}
	mustRun(t, exitOK, args...)
	mustRun(t, exitOK, "logs", "--store", dsn, "--store-batch", "1", "--log-format", "nginx:"+webserver.NginxFormat+" $server_addr $server_port",
		"--since", sc.logSince.Format(time.RFC3339), sc.log)
}

// records parses JSON Lines into objects, keyed by schema.
func records(t *testing.T, jsonl string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out[m["schema"].(string)] = append(out[m["schema"].(string)], m)
	}
	return out
}

// normalized drops what differs between two scans of the same servers
// into two stores: when they ran.
func normalized(t *testing.T, jsonl string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if s, ok := m["scan"].(map[string]any); ok {
			delete(s, "scanned_at")
		}
		delete(m, "a_until") // a diff's runs' times
		delete(m, "b_until")
		out, _ := json.Marshal(m)
		b.Write(out)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestMainStoreScenario(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the scenario's nginx needs root (CI runs as root)")
	}
	sc := newScenario(t)
	stores := []struct{ name, dsn string }{
		{"sqlite", filepath.Join(t.TempDir(), "tlsmap.db")},
		{"postgres", pgtest.DSN(t)},
	}
	reports := map[string]string{}
	for _, s := range stores {
		sc.scan(t, s.dsn, "before")
		sc.storeEvidence(t, s.dsn)
		reports[s.name] = mustRun(t, exitOK, "report", "--store", s.dsn, "--until", sc.until, "--format", "jsonl")
	}
	recs := records(t, reports["sqlite"])
	byEp := map[string]map[string]any{}
	for _, r := range recs["tlsmap.report/1"] {
		byEp[r["endpoint"].(string)] = r
	}
	want := []struct {
		ep, verdict string
		blockedBy   int
		clients     []string
	}{
		{sc.e1.Addr, "ready", 0, nil},
		{sc.e2Addr, "blocked", 2, []string{clientA, clientB}},
		{sc.e3.Addr, "no-evidence", 0, nil},
		{sc.e4.Addr, "done", 0, []string{clientA}},
	}
	for _, w := range want {
		r := byEp[w.ep]
		if r == nil {
			t.Errorf("%s: not in the report", w.ep)
			continue
		}
		var clients []string
		for _, c := range r["clients"].([]any) {
			clients = append(clients, c.(map[string]any)["client"].(string))
		}
		slices.Sort(clients)
		if r["verdict"] != w.verdict || int(r["blocked_by"].(float64)) != w.blockedBy || !slices.Equal(clients, w.clients) {
			t.Errorf("%s: %v blocked by %v, clients %v; want %s by %d, %v (%s)", w.ep, r["verdict"], r["blocked_by"], clients,
				w.verdict, w.blockedBy, w.clients, r["why"])
		}
	}
	if len(byEp) != 4 {
		t.Errorf("%d endpoints in the report, want 4", len(byEp))
	}
	// e2's clients: A in the captures (4 connections, TLS 1.0), B in the
	// log (2, TLS 1.1).
	for _, c := range byEp[sc.e2Addr]["clients"].([]any) {
		c := c.(map[string]any)
		switch c["client"] {
		case clientA:
			if c["connections"] != 4.0 || fmt.Sprint(c["evidence"]) != "[capture]" || fmt.Sprint(c["negotiated"]) != "map[TLSv1.0:4]" {
				t.Errorf("e2 client A: %v", c)
			}
		case clientB:
			if c["connections"] != 2.0 || fmt.Sprint(c["evidence"]) != "[log]" || fmt.Sprint(c["negotiated"]) != "map[TLSv1.1:2]" {
				t.Errorf("e2 client B: %v", c)
			}
		}
	}
	// The trend: e2's legacy connections on the days they happened.
	days := map[string]float64{}
	for _, d := range recs["tlsmap.report.day/1"] {
		days[d["day"].(string)] = d["legacy"].(float64)
	}
	wantDays := map[string]float64{sc.days[0].Format(time.DateOnly): 2, sc.days[1].Format(time.DateOnly): 2,
		sc.days[3].Format(time.DateOnly): 1, time.Now().UTC().Format(time.DateOnly): 2}
	for d, n := range wantDays {
		if days[d] != n {
			t.Errorf("trend %s: %v legacy connections, want %v (all: %v)", d, days[d], n, days)
		}
	}
	if got, want := normalized(t, reports["postgres"]), normalized(t, reports["sqlite"]); got != want {
		t.Errorf("the same scenario, another report:\npostgres:\n%s\nsqlite:\n%s", got, want)
	}
	checkHTML(t, stores[0].dsn, sc.until, map[string]string{sc.e1.Addr: "ready", sc.e2Addr: "blocked", sc.e3.Addr: "no-evidence", sc.e4.Addr: "done"})

	// Storing the same captures again adds nothing.
	for _, s := range stores {
		before := reports[s.name]
		sc.storeEvidence(t, s.dsn)
		if again := mustRun(t, exitOK, "report", "--store", s.dsn, "--until", sc.until, "--format", "jsonl"); normalized(t, again) != normalized(t, before) {
			t.Errorf("%s: storing the same files again changed the report", s.name)
		}
	}

	// e1 is reconfigured to refuse legacy TLS (progress), e4 to accept it
	// again (a regression): the diff names both and exits 1.
	sc.e1.Close()
	sc.e4.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e1, err := realserver.StartAt(ctx, modernServer("e1-reconfigured"), t.TempDir(), sc.e1.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer e1.Close()
	e4, err := realserver.StartAt(ctx, legacyServer("e4-reconfigured"), t.TempDir(), sc.e4.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer e4.Close()
	diffs := map[string]string{}
	for _, s := range stores {
		sc.scan(t, s.dsn, "after")
		diffs[s.name] = mustRun(t, reportExitRegressed, "report", "--store", s.dsn, "--diff", "before", "after", "--format", "jsonl")
		table := mustRun(t, reportExitRegressed, "report", "--store", s.dsn, "--diff", "before", "after")
		if !strings.Contains(table, "REGRESSION: started accepting legacy TLS (1)\n  "+sc.e4.Addr+"  now accepts TLSv1.0, TLSv1.1") ||
			!strings.Contains(table, "Stopped accepting legacy TLS (1)\n  "+sc.e1.Addr) {
			t.Errorf("%s: diff table:\n%s", s.name, table)
		}
	}
	changes := map[string][]string{}
	for _, r := range records(t, diffs["sqlite"])["tlsmap.report.diff/1"] {
		changes[r["change"].(string)] = append(changes[r["change"].(string)], r["endpoint"].(string))
	}
	if fmt.Sprint(changes) != fmt.Sprint(map[string][]string{"started-accepting-legacy": {sc.e4.Addr}, "stopped-accepting-legacy": {sc.e1.Addr}}) {
		t.Errorf("diff changes: %v\n%s", changes, diffs["sqlite"])
	}
	if normalized(t, diffs["sqlite"]) != normalized(t, diffs["postgres"]) {
		t.Errorf("diffs differ:\nsqlite:\n%s\npostgres:\n%s", diffs["sqlite"], diffs["postgres"])
	}
	// A run name that does not exist is a usage error.
	mustRun(t, reportExitUsage, "report", "--store", stores[0].dsn, "--diff", "before", "no-such-run")
}

// checkHTML renders the report of dsn with --format html in headless
// Chromium: no console message, the readiness table with every endpoint,
// the charts drawn; the screenshot is kept (its path is logged) for a
// person to look at.
func checkHTML(t *testing.T, dsn, until string, endpoints map[string]string) {
	t.Helper()
	chromium := testenv.NeedProgram(t, "chromium")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	html := mustRun(t, exitOK, "report", "--store", dsn, "--until", until, "--format", "html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "http://") && !strings.Contains(html, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("the page is not self-contained")
	}
	chrome := func(args ...string) (string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
			"--window-size=1280,4400", "--hide-scrollbars"}, args...)
		cmd := exec.CommandContext(ctx, chromium, append(args, "file://"+page)...)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
		}
		return out.String(), errb.String()
	}
	dom, logs := chrome("--dump-dom")
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Uncaught") || strings.Contains(line, "Failed to load resource") {
			t.Errorf("console: %s", line)
		}
	}
	for ep, verdict := range endpoints {
		row := regexp.MustCompile(`<tr data-verdict="` + regexp.QuoteMeta(verdict) + `"><td><a href="#[^"]+" class="mono">` + regexp.QuoteMeta(ep))
		if !row.MatchString(dom) {
			t.Errorf("the rendered readiness table has no %s row for %s", verdict, ep)
		}
	}
	for _, id := range []string{`<table id="readiness">`, `<svg class="chart" id="trend-chart"`, `<svg class="chart" id="verdict-chart"`, `<table id="clients">`, `<table id="sources">`} {
		if !strings.Contains(dom, id) {
			t.Errorf("the rendered page has no %s", id)
		}
	}
	if n := strings.Count(dom, `<rect class="bar"`); n < 31 {
		t.Errorf("%d bars drawn, want a 31-day trend and one per endpoint", n)
	}
	art := filepath.Join(os.TempDir(), "tlsmap-artifacts")
	os.MkdirAll(art, 0o755)
	shot := filepath.Join(art, "report.png")
	_, logs = chrome("--screenshot=" + shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Errorf("no screenshot: %v\n%s", err, logs)
	}
	copyFile(t, page, filepath.Join(art, "report.html"))
	t.Logf("the rendered report: %s (page: %s)", shot, filepath.Join(art, "report.html"))
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o644)
	}
	if err != nil {
		t.Error(err)
	}
}
