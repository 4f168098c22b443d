package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func TestContent(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	content := func(p string) string {
		c, _, err := FileContent(p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// Small files: the SHA-256 of the whole.
	small := []byte("a small capture")
	sum := sha256.Sum256(small)
	if got := content(write("small", small)); got != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("small file: %s", got)
	}
	// Large files: the samples tell apart files that differ in their
	// first MiB, their last MiB, a sampled block, or their size.
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 20<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	base := content(write("big", big))
	if base[:15] != "sha256-sampled:" || content(write("copy", bytes.Clone(big))) != base {
		t.Errorf("big file: %s, and its copy", base)
	}
	for _, off := range []int{10, len(big) - 10, 1<<20 + 3} {
		b := bytes.Clone(big)
		b[off] ^= 1
		if content(write("changed", b)) == base {
			t.Errorf("a change at %d is not seen", off)
		}
	}
	if content(write("longer", append(bytes.Clone(big), 0))) == base {
		t.Error("one more byte is not seen")
	}
	if _, _, err := FileContent(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file has a content")
	}

	// A stream: its length and its first 4 MiB, however it was read.
	var s1, s2 StreamContent
	io.Copy(&s1, bytes.NewReader(big))
	io.CopyBuffer(&s2, io.LimitReader(bytes.NewReader(big), int64(len(big))), make([]byte, 777))
	c1, n1 := s1.Content()
	c2, n2 := s2.Content()
	if c1 != c2 || n1 != int64(len(big)) || n2 != n1 || c1[:12] != "sha256-head:" {
		t.Errorf("streams: %s %d, %s %d", c1, n1, c2, n2)
	}
}
