package sniff

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenFiles: bad names fail up front with ErrNotCapture; a later file
// that is no capture fails when reached, its error prefixed once; the
// bytes read add up to the files' sizes.
func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("These are notes, not a capture.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	capture := filepath.Join("..", "testdata", "captures", "curl.pcap")
	for _, names := range [][]string{{filepath.Join(dir, "missing.pcap")}, {dir}, {"-", "-"}, {notes}, {notes, capture}} {
		if _, err := OpenFiles(strings.NewReader(""), names...); !errors.Is(err, ErrNotCapture) {
			t.Errorf("OpenFiles(%q): %v, want ErrNotCapture", names, err)
		}
	}

	src, err := OpenFiles(nil, capture, capture)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(capture)
	if err != nil {
		t.Fatal(err)
	}
	if src.Size() != 2*fi.Size() {
		t.Errorf("Size %d, want %d", src.Size(), 2*fi.Size())
	}
	var n int
	s := New(Config{}, func(*Flow) { n++ })
	if err := s.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if src.BytesRead() != src.Size() {
		t.Errorf("read %d bytes of %d", src.BytesRead(), src.Size())
	}

	src, err = OpenFiles(nil, capture, notes)
	if err != nil {
		t.Fatal(err)
	}
	err = New(Config{}, func(*Flow) {}).Run(context.Background(), src)
	if !errors.Is(err, ErrNotCapture) || strings.Count(err.Error(), "sniff:") != 1 || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("second file not a capture: %v", err)
	}
	if _, _, _, err := src.ReadPacket(); err != io.EOF {
		t.Errorf("after the bad file: %v, want io.EOF", err)
	}
}
