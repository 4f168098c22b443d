package prototest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/protocols"
)

var updateCorpus = flag.Bool("update-fuzz-corpus", false,
	"rewrite testdata/fuzz/FuzzRecognize from the recognition cases and the public captures")

// CorpusDir holds a protocol package's FuzzRecognize seeds.
var CorpusDir = filepath.Join("testdata", "fuzz", "FuzzRecognize")

// Hello is the start of a ClientHello record, and ServerHello of a
// ServerHello record, as they follow a STARTTLS exchange.
const (
	Hello       = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	ServerHello = "\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03"
)

// Case is a dialogue with its expected recognition.
type Case struct {
	Name     string
	C2S, S2C string
	TLS      bool // append Hello and ServerHello: Upgraded offsets are then len(C2S), len(S2C)
	State    protocols.State
	Reason   string // prefix of the Reason, when not empty
}

// streams returns the case's byte streams.
func (c Case) streams() ([]byte, []byte) {
	c2s, s2c := c.C2S, c.S2C
	if c.TLS {
		c2s, s2c = c2s+Hello, s2c+ServerHello
	}
	return []byte(c2s), []byte(s2c)
}

// Recognizer describes a protocol's Recognize for the recognition checks.
type Recognizer struct {
	Protocol *protocols.Protocol // its Recognize is tested
	Cases    []Case
	// LineBased: the plaintext dialogue is made of lines, so Upgraded
	// offsets always follow a LF. A binary protocol leaves it false.
	LineBased bool
	// Captures: the public captures (internal/mailserver.MailCaptures)
	// hold flows of this protocol. Either way every other public flow
	// must never be claimed.
	Captures bool
}

// Test runs the recognition cases and the public captures as subtests,
// and with -update-fuzz-corpus rewrites the seed corpus.
func (r Recognizer) Test(t *testing.T) {
	t.Run("cases", r.TestCases)
	t.Run("public-captures", r.TestPublicCaptures)
	if *updateCorpus {
		t.Run("corpus", r.WriteCorpus)
	}
}

// TestCases checks Recognize on every case.
func (r Recognizer) TestCases(t *testing.T) {
	for _, tc := range r.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			c2s, s2c := tc.streams()
			got := r.Protocol.Recognize(c2s, s2c)
			if got.State != tc.State || got.Protocol != r.Protocol.Name {
				t.Fatalf("%v %q (%s), want %v", got.State, got.Protocol, got.Reason, tc.State)
			}
			if tc.State == protocols.Upgraded && (got.ClientOffset != len(tc.C2S) || got.ServerOffset != len(tc.S2C)) {
				t.Errorf("offsets %d/%d, want %d/%d", got.ClientOffset, got.ServerOffset, len(tc.C2S), len(tc.S2C))
			}
			if !strings.HasPrefix(got.Reason, tc.Reason) {
				t.Errorf("Reason %q, want %q…", got.Reason, tc.Reason)
			}
			r.Check(t, c2s, s2c)
		})
	}
}

// TestPublicCaptures runs Recognize over every TCP flow of the public
// captures (testdata/public), whole and frame by frame; see
// mailserver.CheckRecognizer for what is asserted.
func (r Recognizer) TestPublicCaptures(t *testing.T) {
	check := mailserver.CheckRecognizer
	if !r.Captures {
		// No public capture holds the protocol: it must claim none.
		check = mailserver.CheckNotClaimed
	}
	for _, line := range check(t, r.Protocol.Name, r.Protocol.Recognize) {
		t.Logf("CAPTURES %s | %s", r.Protocol.Name, line)
	}
}

// WriteCorpus rewrites the seed corpus with -update-fuzz-corpus: every
// case, and the first KiB of both streams of every public flow expected
// to be this protocol's STARTTLS.
func (r Recognizer) WriteCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-fuzz-corpus to rewrite the seeds")
	}
	if err := os.RemoveAll(CorpusDir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(CorpusDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range r.Cases {
		c2s, s2c := tc.streams()
		writeSeed(t, tc.Name, c2s, s2c)
	}
	if !r.Captures {
		return
	}
	for _, f := range mailserver.PublicFlows(t) {
		if f.Want == r.Protocol.Name {
			writeSeed(t, fmt.Sprintf("capture-%s-%d", filepath.Base(filepath.Dir(f.Capture))+"-"+filepath.Base(f.Capture), f.Index),
				f.C2S[:min(len(f.C2S), 1024)], f.S2C[:min(len(f.S2C), 1024)])
		}
	}
}

// writeSeed writes one seed file, in Go's fuzz corpus format, for a fuzz
// target taking (c2s, s2c []byte).
func writeSeed(t testing.TB, name string, c2s, s2c []byte) {
	t.Helper()
	body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(c2s)) + ")\n[]byte(" + strconv.Quote(string(s2c)) + ")\n"
	if err := os.WriteFile(filepath.Join(CorpusDir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Fuzz is the body of a FuzzRecognize target: Recognize on arbitrary
// streams, no panic, and the invariants of Check. It fails when the
// committed seed folder is empty.
func (r Recognizer) Fuzz(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(CorpusDir, "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("%s has no seeds (%v); rewrite them with -update-fuzz-corpus", CorpusDir, err)
	}
	f.Fuzz(func(t *testing.T, c2s, s2c []byte) {
		r.Check(t, c2s, s2c)
	})
}

// Check asserts what every protocols.Recognizer guarantees on any input:
// no modification of its inputs, the same answer twice, a recognition
// labelled with the protocol's name, offsets only when Upgraded and
// within the streams (right after a line end, for a line-based protocol),
// and an Upgraded answer that depends only on the bytes before its
// offsets.
func (r Recognizer) Check(t testing.TB, c2s, s2c []byte) {
	t.Helper()
	rec, name := r.Protocol.Recognize, r.Protocol.Name
	cc, sc := bytes.Clone(c2s), bytes.Clone(s2c)
	got := rec(c2s, s2c)
	if !bytes.Equal(c2s, cc) || !bytes.Equal(s2c, sc) {
		t.Fatal("Recognize modified its input")
	}
	if again := rec(c2s, s2c); again != got {
		t.Fatalf("not deterministic: %+v then %+v", got, again)
	}
	if got.Protocol != name || got.State > protocols.Upgraded {
		t.Fatalf("bad recognition %+v", got)
	}
	if got.State != protocols.Upgraded {
		if got.ClientOffset != 0 || got.ServerOffset != 0 {
			t.Fatalf("offsets without Upgraded: %+v", got)
		}
		return
	}
	co, so := got.ClientOffset, got.ServerOffset
	if co <= 0 || co > len(c2s) || so <= 0 || so > len(s2c) {
		t.Fatalf("offsets %d/%d out of %d/%d", co, so, len(c2s), len(s2c))
	}
	if r.LineBased && (c2s[co-1] != '\n' || s2c[so-1] != '\n') {
		t.Fatalf("offsets %d/%d are not after a line end", co, so)
	}
	if p := rec(c2s[:co], s2c[:so]); p != got {
		t.Fatalf("the plaintext prefixes alone give %+v, the whole streams %+v", p, got)
	}
}

// Benchmark measures Recognize on both directions filled to the sniffer's
// cap: open and answer once, then request and reply again and again (a
// pipelined dialogue that never reaches STARTTLS, the most work one call
// can be given).
func (r Recognizer) Benchmark(b *testing.B, open, answer, request, reply string) {
	c2s, s2c := []byte(open), []byte(answer)
	for len(c2s) < mailserver.SniffCap || len(s2c) < mailserver.SniffCap {
		c2s = append(c2s, request...)
		s2c = append(s2c, reply...)
	}
	c2s, s2c = c2s[:mailserver.SniffCap], s2c[:mailserver.SniffCap]
	b.SetBytes(int64(len(c2s) + len(s2c)))
	for b.Loop() {
		r.Protocol.Recognize(c2s, s2c)
	}
}

// ParserSeeds is the seed corpus of a fuzz target taking one []byte (a
// protocol's message parser): with -update-fuzz-corpus, TestCorpus
// rewrites testdata/fuzz/<Target> from Seeds; Require, at the start of
// the fuzz target, fails it when that folder is empty.
type ParserSeeds struct {
	Target string // "FuzzParseGreeting"
	Seeds  map[string][]byte
}

func (p ParserSeeds) dir() string { return filepath.Join("testdata", "fuzz", p.Target) }

// TestCorpus rewrites the seeds with -update-fuzz-corpus and skips
// otherwise.
func (p ParserSeeds) TestCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-fuzz-corpus to rewrite the seeds")
	}
	if err := os.RemoveAll(p.dir()); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(p.dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range p.Seeds {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(p.dir(), name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Require fails the fuzz target when its committed seed folder is empty.
func (p ParserSeeds) Require(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(p.dir(), "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("%s has no seeds (%v); rewrite them with -update-fuzz-corpus", p.dir(), err)
	}
}
