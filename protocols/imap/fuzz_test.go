package imap

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tlsmap/tlsmap/internal/mailserver"
)

var updateCorpus = flag.Bool("update-fuzz-corpus", false,
	"rewrite testdata/fuzz/FuzzRecognize from recognizeCases and the public captures")

// corpusDir holds FuzzRecognize's committed seeds.
var corpusDir = filepath.Join("testdata", "fuzz", "FuzzRecognize")

// TestFuzzCorpus rewrites the seed corpus with -update-fuzz-corpus: every
// case of recognizeCases, and the first KiB of both streams of every
// public flow expected to be imap STARTTLS.
func TestFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-fuzz-corpus to rewrite the seeds")
	}
	if err := os.RemoveAll(corpusDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(corpusDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, c2s, s2c []byte) { mailserver.WriteRecognizeSeed(t, corpusDir, name, c2s, s2c) }
	for _, tc := range recognizeCases {
		c2s, s2c := tc.c2s, tc.s2c
		if tc.tls {
			c2s, s2c = c2s+hello, s2c+serverHello
		}
		write(tc.name, []byte(c2s), []byte(s2c))
	}
	for _, f := range mailserver.PublicFlows(t) {
		if f.Want == Name {
			write(fmt.Sprintf("capture-%s-%d", filepath.Base(filepath.Dir(f.Capture))+"-"+filepath.Base(f.Capture), f.Index),
				f.C2S[:min(len(f.C2S), 1024)], f.S2C[:min(len(f.S2C), 1024)])
		}
	}
}

// FuzzRecognize checks Recognize on arbitrary streams: no panic, and the
// invariants of mailserver.CheckRecognize.
func FuzzRecognize(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(corpusDir, "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("%s has no seeds (%v); rewrite them with -update-fuzz-corpus", corpusDir, err)
	}
	f.Fuzz(func(t *testing.T, c2s, s2c []byte) {
		mailserver.CheckRecognize(t, Recognize, Name, c2s, s2c)
	})
}

// BenchmarkRecognize measures Recognize on both directions filled to the
// sniffer's cap with a pipelined dialogue that never reaches STARTTLS: the
// most work one call can be given.
func BenchmarkRecognize(b *testing.B) {
	c2s := []byte("a0 CAPABILITY\r\n")
	s2c := []byte("* OK ready\r\n")
	for len(c2s) < mailserver.SniffCap {
		c2s = append(c2s, "a1 NOOP\r\n"...)
		s2c = append(s2c, "a1 OK\r\n"...)
	}
	c2s, s2c = c2s[:mailserver.SniffCap], s2c[:mailserver.SniffCap]
	b.SetBytes(int64(len(c2s) + len(s2c)))
	for b.Loop() {
		Recognize(c2s, s2c)
	}
}
