package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/internal/tlsclient"
	"github.com/tlsmap/tlsmap/internal/webserver"
)

// TestLogsDamagedFile: a file that cannot be read to its end is reported
// with a warning, the others are read, and the exit code is 1 — the
// report covers less than the input.
func TestLogsDamagedFile(t *testing.T) {
	dir := t.TempDir()
	line := "Dec  3 05:57:27 mx postfix/smtpd[1]: Anonymous TLS connection established from unknown[127.0.0.10]: TLSv1 with cipher AES128-SHA (128/128 bits)\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for range 5000 {
		zw.Write([]byte(line))
	}
	zw.Close()
	damaged := filepath.Join(dir, "mail.log.1.gz")
	whole := filepath.Join(dir, "mail.log")
	os.WriteFile(damaged, gz.Bytes()[:gz.Len()*2/3], 0o644)
	os.WriteFile(whole, []byte(strings.Replace(line, "127.0.0.10", "127.0.0.11", 1)), 0o644)
	var stdout, stderr bytes.Buffer
	code := run([]string{"logs", whole, damaged}, nil, &stdout, &stderr)
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
	if !strings.Contains(stderr.String(), "warning: logs: "+damaged) {
		t.Errorf("stderr: %s", stderr.String())
	}
	for _, want := range []string{"127.0.0.10 ", "127.0.0.11 ", "Not read:       " + damaged} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
}

// TestLogsRealServers runs tlsmap logs on the logs of real servers —
// nginx, and Dovecot with %k — after real clients pinned to TLS 1.0 … 1.3
// connected from distinct loopback addresses: its evidence records name
// exactly those clients, each with the version it reported itself.
func TestLogsRealServers(t *testing.T) {
	tlsclient.Need(t)
	ng := webserver.StartNginx(t, webserver.NginxOptions{})
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{
		LoginLogFormatElements: "user=<%u> method=%m rip=%r lip=%l mpid=%e %c session=<%{session}> %k"})
	want := map[string]string{}
	for i, v := range tlsclient.Versions {
		web := fmt.Sprintf("127.0.0.%d", 150+i)
		r := tlsclient.Connect(t, tlsclient.Options{Addr: ng.HTTPS, Source: web, Version: v, Send: "GET / HTTP/1.0\r\n\r\n"})
		want["nginx "+web] = r.Version
		mail := fmt.Sprintf("127.0.0.%d", 160+i)
		r = tlsclient.Connect(t, tlsclient.Options{Addr: dc.IMAPS, Source: mail, Version: v, Send: "a LOGOUT\r\n"})
		want["dovecot "+mail] = r.Version
	}
	webserver.WaitLines(t, ng.AccessLog, 4)
	dovecotLog := filepath.Join(dc.Dir, "dovecot.log")
	var got map[string]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = map[string]string{}
		for _, args := range [][]string{
			{"logs", "--format", "jsonl", "--log-format", "nginx:" + webserver.NginxFormat, ng.AccessLog},
			{"logs", "--format", "jsonl", dovecotLog},
		} {
			var stdout, stderr bytes.Buffer
			if code := run(args, nil, &stdout, &stderr); code != exitOK {
				t.Fatalf("tlsmap %v: exit %d\n%s", args, code, stderr.String())
			}
			for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				if rec["schema"] != "tlsmap.evidence/1" || rec["client"] == "127.0.0.1" {
					continue // the totals, and the harness's own checks that the servers were up
				}
				got[rec["source"].(string)+" "+rec["client"].(string)] = strings.Replace(rec["version"].(string), "TLSv1.0", "TLSv1", 1)
			}
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond) // Dovecot writes its log after the connection
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tlsmap logs:\n  %v\nthe clients reported:\n  %v", got, want)
	}
}
