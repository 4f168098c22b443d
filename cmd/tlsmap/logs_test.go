package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
