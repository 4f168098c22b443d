package mailserver

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
)

// CheckRecognize asserts what every protocols.Recognizer guarantees on any
// input, for the FuzzRecognize targets of protocols/smtp, imap and pop3:
// no modification of its inputs, the same answer twice, a recognition
// labelled name, offsets only when Upgraded, within the streams and right
// after a line end, and an Upgraded answer that depends only on the bytes
// before its offsets.
func CheckRecognize(t testing.TB, rec protocols.Recognizer, name string, c2s, s2c []byte) {
	t.Helper()
	cc, sc := bytes.Clone(c2s), bytes.Clone(s2c)
	r := rec(c2s, s2c)
	if !bytes.Equal(c2s, cc) || !bytes.Equal(s2c, sc) {
		t.Fatal("Recognize modified its input")
	}
	if r2 := rec(c2s, s2c); r2 != r {
		t.Fatalf("not deterministic: %+v then %+v", r, r2)
	}
	if r.Protocol != name || r.State > protocols.Upgraded {
		t.Fatalf("bad recognition %+v", r)
	}
	if r.State != protocols.Upgraded {
		if r.ClientOffset != 0 || r.ServerOffset != 0 {
			t.Fatalf("offsets without Upgraded: %+v", r)
		}
		return
	}
	co, so := r.ClientOffset, r.ServerOffset
	if co <= 0 || co > len(c2s) || so <= 0 || so > len(s2c) {
		t.Fatalf("offsets %d/%d out of %d/%d", co, so, len(c2s), len(s2c))
	}
	if c2s[co-1] != '\n' || s2c[so-1] != '\n' {
		t.Fatalf("offsets %d/%d are not after a line end", co, so)
	}
	if p := rec(c2s[:co], s2c[:so]); p != r {
		t.Fatalf("the plaintext prefixes alone give %+v, the whole streams %+v", p, r)
	}
}

// WriteRecognizeSeed writes one seed file, in Go's fuzz corpus format,
// for a fuzz target taking (c2s, s2c []byte).
func WriteRecognizeSeed(t testing.TB, dir, name string, c2s, s2c []byte) {
	t.Helper()
	body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(c2s)) + ")\n[]byte(" + strconv.Quote(string(s2c)) + ")\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
