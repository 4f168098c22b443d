package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/internal/pgtest"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/internal/tlsclient"
	"github.com/tlsmap/tlsmap/store"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// binary builds cmd/tlsmap once per test process: the crash and
// concurrency tests run it as real processes.
func binary(t *testing.T) string {
	t.Helper()
	goBin := testenv.NeedProgram(t, "go")
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tlsmap-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "tlsmap")
		cmd := exec.Command(goBin, "build", "-o", builtBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// template is one real connection (openssl s_client against openssl
// s_server) to be written many times over, and what it is.
type template struct {
	tr     *pcaptest.Transcript
	legacy bool
}

var (
	templatesOnce sync.Once
	templatesVal  []template
)

// templates records three real handshakes once: TLS 1.0, TLS 1.1 (legacy)
// and TLS 1.3, each as openssl s_client itself reports it.
func templates(t *testing.T) []template {
	t.Helper()
	tlsclient.Need(t)
	templatesOnce.Do(func() {
		srv := realserver.StartT(t, legacyServer("template"))
		f, err := os.CreateTemp("", "tlsmap-template-*.pcap")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		cw, err := pcaptest.NewCaptureWriter(f, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := pcaptest.Record(cw, srv.Addr, netip.AddrPort{})
		if err != nil {
			t.Fatal(err)
		}
		versions := []tlsclient.Version{tlsclient.TLS10, tlsclient.TLS11, tlsclient.TLS13}
		for _, v := range versions {
			tlsclient.Connect(t, tlsclient.Options{Addr: rec.Addr, Source: clientA, Version: v, ServerName: "bulk.scenario.test"})
		}
		rec.Close()
		trs := rec.Transcripts()
		if len(trs) != len(versions) {
			t.Fatalf("%d transcripts, want %d", len(trs), len(versions))
		}
		for i, tr := range trs {
			templatesVal = append(templatesVal, template{tr: tr, legacy: versions[i] != tlsclient.TLS13})
		}
	})
	if templatesVal == nil {
		t.Fatal("no templates")
	}
	return templatesVal
}

// bulkTruth is what a bulk capture holds.
type bulkTruth struct {
	conns, legacy int64
	keys          map[string]bool // day × client × template: the evidence rows
}

// bulkCapture writes n connections made of the templates: connection i
// is template i%3 from client 127.1.0.(i%200+1) to one server, over three
// days (a third each), with times increasing; seed shifts the times (and
// so the content) of a capture.
func bulkCapture(t *testing.T, path string, n int, seed int) bulkTruth {
	t.Helper()
	tpls := templates(t)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var now time.Time
	cw, err := pcaptest.NewCaptureWriter(f, func() time.Time { now = now.Add(time.Microsecond); return now })
	if err != nil {
		t.Fatal(err)
	}
	truth := bulkTruth{keys: map[string]bool{}}
	server := netip.MustParseAddrPort("127.0.0.1:8443")
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(-3*24*time.Hour + 8*time.Hour + time.Duration(seed)*time.Second)
	for i := range n {
		day := i * 3 / n
		now = base.Add(time.Duration(day)*24*time.Hour + time.Duration(i)*2*time.Millisecond)
		tp := tpls[i%len(tpls)]
		client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, 0, byte(i%200 + 1)}), uint16(20000+i/200))
		cw.WriteTranscript(tp.tr, client, server, uint32(i)*7919)
		truth.conns++
		if tp.legacy {
			truth.legacy++
		}
		truth.keys[fmt.Sprint(day, client.Addr(), i%len(tpls))] = true
	}
	if err := cw.Err(); err != nil {
		t.Fatal(err)
	}
	return truth
}

// evidenceSnapshot is the evidence table as a sorted list of rows.
func evidenceSnapshot(t *testing.T, dsn string) (rows []string, conns, legacy int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err := st.DB().QueryContext(ctx, `SELECT day, client, server, version, cipher, offered, sni, ja3, ja4, legacy, connections, first_seen, last_seen FROM evidence`)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for q.Next() {
		var (
			day, version, cipher, leg, n, first, last int64
			client, server, offered, sni, ja3, ja4    string
		)
		if err := q.Scan(&day, &client, &server, &version, &cipher, &offered, &sni, &ja3, &ja4, &leg, &n, &first, &last); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, fmt.Sprint(day, client, server, version, cipher, offered, sni, ja3, ja4, leg, n, first, last))
		conns += n
		if leg != 0 {
			legacy += n
		}
	}
	sort.Strings(rows)
	return rows, conns, legacy
}

// TestMainStoreCrash kills a real tlsmap sniff storing into SQLite with
// SIGKILL part-way; the store opens, the report runs, and the same command
// again leaves the store as one whole run does.
func TestMainStoreCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tlsmap and writes a 40 MB capture")
	}
	bin := binary(t)
	dir := t.TempDir()
	capture := filepath.Join(dir, "bulk.pcap")
	truth := bulkCapture(t, capture, 20000, 0)
	dsn := filepath.Join(dir, "crash.db")

	// The sniff, killed once a few batches are committed.
	cmd := exec.Command(bin, "sniff", "-r", capture, "--store", dsn, "--store-batch", "50", "--format", "jsonl")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var committed int64
	deadline := time.Now().Add(60 * time.Second)
	for {
		committed = storedRecords(dsn)
		if committed >= 500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the sniff was not killed mid-way (%v; %d records committed): make the capture bigger", err, committed)
	}
	left := storedRecords(dsn)
	if left <= 0 || left >= truth.conns {
		t.Fatalf("%d of %d records stored at the kill: not mid-way", left, truth.conns)
	}
	t.Logf("killed with %d of %d records committed", left, truth.conns)

	// The store opens and the report runs, saying the source is not
	// complete.
	out := mustRun(t, exitOK, "report", "--store", dsn, "--since", "7d")
	if !strings.Contains(out, "1 of them not read to their end") || !strings.Contains(out, "capture "+capture+" (running)") {
		t.Errorf("report after the kill:\n%s", out)
	}

	// Again: it goes on after what was committed, to one whole run's rows.
	want := resumeToWholeRun(t, bin, dir, capture, dsn, []string{"sniff", "-r", capture, "--store", dsn, "--store-batch", "50", "--format", "jsonl"}, left, truth, "the kill")
	// And a third run of the same file adds nothing.
	mustRunBin(t, bin, "sniff", "-r", capture, "--store", dsn, "--format", "jsonl")
	if third, _, _ := evidenceSnapshot(t, dsn); strings.Join(third, "\n") != strings.Join(want, "\n") {
		t.Errorf("a third run changed the store")
	}
}

// storedRecords reads the records committed of the store's one source
// (0 while there is none), as another process would.
func storedRecords(path string) int64 {
	if _, err := os.Stat(path); err != nil {
		return 0
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(1000)&mode=ro")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int64
	if db.QueryRow(`SELECT COALESCE(MAX(records), 0) FROM sources`).Scan(&n) != nil {
		return 0
	}
	return n
}

func mustRunBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("tlsmap %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// TestMainStoreConcurrent runs three tlsmap sniff processes and a scan
// sharded over two processes, all into one PostgreSQL at once: every
// count arrives exactly, and the shards' results make one run.
func TestMainStoreConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tlsmap and runs five processes")
	}
	bin := binary(t)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	var (
		captures []string
		want     bulkTruth
	)
	want.keys = map[string]bool{}
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("sensor%d.pcap", i))
		tr := bulkCapture(t, path, 3000, i)
		captures = append(captures, path)
		want.conns += tr.conns
		want.legacy += tr.legacy
		for k := range tr.keys {
			want.keys[k] = true // the same keys in every capture: the writers' upserts meet
		}
	}
	var endpoints []string
	for i := range 4 {
		cfg := legacyServer(fmt.Sprintf("sweep-%d", i))
		if i%2 == 1 {
			cfg = modernServer(fmt.Sprintf("sweep-%d", i))
		}
		endpoints = append(endpoints, realserver.StartT(t, cfg).Addr)
	}
	// The schema is made before the writers start, as a deployment does
	// (every writer would also migrate it safely; see the store tests).
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	var cmds []*exec.Cmd
	outs := make([]*bytes.Buffer, 0, 5)
	for _, c := range captures {
		cmds = append(cmds, exec.Command(bin, "sniff", "-r", c, "--store", dsn, "--store-batch", "200", "--format", "jsonl"))
	}
	for shard := 1; shard <= 2; shard++ {
		args := append([]string{"scan", "--store", dsn, "--store-run", "sweep", "--shard", fmt.Sprintf("%d/2", shard),
			"--versions-only", "--no-cert", "--no-groups", "--format", "jsonl"}, endpoints...)
		cmds = append(cmds, exec.Command(bin, args...))
	}
	for _, c := range cmds {
		var b bytes.Buffer
		c.Stdout, c.Stderr = &b, &b
		outs = append(outs, &b)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(c.Args, " "), err, outs[i])
		}
	}
	rows, conns, legacy := evidenceSnapshot(t, dsn)
	if conns != want.conns || legacy != want.legacy || len(rows) != len(want.keys) {
		t.Errorf("%d connections (%d legacy) in %d rows; want %d (%d) in %d", conns, legacy, len(rows), want.conns, want.legacy, len(want.keys))
	}
	st, err = store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.RunNamed(context.Background(), "sweep")
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs named sweep: %v %v", runs, err)
	}
	total := 0
	for _, r := range runs {
		total += r.Endpoints
		if r.State != store.RunComplete {
			t.Errorf("run %d (%s): %s", r.ID, r.Shard, r.State)
		}
	}
	results, err := st.LatestScans(context.Background(), time.Time{}, "sweep")
	if err != nil || total != len(endpoints) || len(results) != len(endpoints) {
		t.Errorf("the shards stored %d results, %d endpoints (%v), want %d", total, len(results), err, len(endpoints))
	}
	srcs, err := st.Sources(context.Background())
	if err != nil || len(srcs) != 3 {
		t.Fatalf("sources: %v %v", srcs, err)
	}
	for _, s := range srcs {
		if s.State != store.StateComplete || s.Records != 3000 {
			t.Errorf("source %s: %s, %d records", s.Name, s.State, s.Records)
		}
	}
}

// TestMainStoreInterrupted stops a real tlsmap sniff storing flows and
// their records into SQLite with SIGINT part-way: what it says it stored
// is what the store holds, records and evidence alike (the flows reported
// before the signal are stored, off the sniffer's goroutine, and none of
// those the stop flushes out early), and the same command again goes on
// after them to what one whole run stores.
func TestMainStoreInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tlsmap and writes a 40 MB capture")
	}
	bin := binary(t)
	dir := t.TempDir()
	capture := filepath.Join(dir, "bulk.pcap")
	truth := bulkCapture(t, capture, 20000, 1)
	dsn := filepath.Join(dir, "int.db")
	args := []string{"sniff", "-r", capture, "--store", dsn, "--store-flows", "--store-batch", "50", "--format", "jsonl"}

	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for storedRecords(dsn) < 500 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	var said int64
	if _, err := fmt.Sscanf(stderr.String()[strings.Index(stderr.String(), "bulk.pcap: ")+len("bulk.pcap: "):], "%d records stored before the interruption", &said); err != nil {
		t.Fatalf("the sniff did not say what it stored at the interruption (%v):\n%s", err, stderr.String())
	}
	if said <= 0 || said >= truth.conns {
		t.Fatalf("%d of %d records stored at the interruption: not mid-way", said, truth.conns)
	}
	if n := storedRecords(dsn); n != said {
		t.Errorf("the source holds %d records; the sniff said %d", n, said)
	}
	if n := flowRecords(t, dsn); n != said {
		t.Errorf("%d flow records stored; the sniff said %d", n, said)
	}
	if _, conns, _ := evidenceSnapshot(t, dsn); conns != said {
		t.Errorf("the evidence counts %d connections; the sniff said %d records", conns, said)
	}

	resumeToWholeRun(t, bin, dir, capture, dsn, args, said, truth, "the interruption")
	if n := flowRecords(t, dsn); n != truth.conns {
		t.Errorf("%d flow records after the second run, want %d", n, truth.conns)
	}
}

// resumeToWholeRun runs args again on a store an earlier run of capture
// left with stored records: the run says it goes on after them, and the
// store ends with truth's counts and exactly the evidence of one whole
// run into a fresh store (which it returns). after names what stopped the
// earlier run, for the messages.
func resumeToWholeRun(t *testing.T, bin, dir, capture, dsn string, args []string, stored int64, truth bulkTruth, after string) []string {
	t.Helper()
	var stderr bytes.Buffer
	again := exec.Command(bin, args...)
	again.Stderr = &stderr
	if err := again.Run(); err != nil {
		t.Fatalf("second run: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), fmt.Sprintf("an earlier run stored its first %d records; going on after them", stored)) {
		t.Errorf("second run's stderr:\n%s", stderr.String())
	}
	got, conns, legacy := evidenceSnapshot(t, dsn)
	if conns != truth.conns || legacy != truth.legacy || len(got) != len(truth.keys) {
		t.Errorf("after %s and a second run: %d connections (%d legacy) in %d rows; want %d (%d) in %d",
			after, conns, legacy, len(got), truth.conns, truth.legacy, len(truth.keys))
	}
	// One whole run into a fresh store: the same rows (a flow an
	// interruption flushed out early, had it been stored, would differ in
	// its times).
	ref := filepath.Join(dir, "ref.db")
	mustRunBin(t, bin, "sniff", "-r", capture, "--store", ref, "--format", "jsonl")
	want, _, _ := evidenceSnapshot(t, ref)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after %s and a second run the evidence differs from one whole run's", after)
	}
	return want
}

// flowRecords counts the flows table's records.
func flowRecords(t *testing.T, dsn string) int64 {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var n int64
	if err := st.DB().QueryRow(`SELECT COUNT(*) FROM flows`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
