package sniff

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

// runBoth sniffs names once with the decoding on a goroutine of its own
// (the pipeline of Run over a FileSource) and once on the caller's, and
// returns both.
func runBoth(t *testing.T, names ...string) (pipe, seq []*Flow, pst, sst Stats) {
	t.Helper()
	run := func(sequential bool) ([]*Flow, Stats) {
		return sniffFiles(t, Config{Recognizers: DefaultRecognizers(), DecodeInline: sequential}, names...)
	}
	pipe, pst = run(false)
	seq, sst = run(true)
	return pipe, seq, pst, sst
}

// TestPipelineLikeSequential requires the pipelined Run to report what
// the sequential one does — the same flows in the same order, the same
// counters — over every capture of the project (the recorded ones, the
// public ones, the hostile ones), damaged copies of them and several
// files in one source, with the read-ahead's usual chunks and with tiny
// ones (every record straddling two chunks, the chunks kept by the
// batches in flight and recycled thousands of times: a chunk given back
// before its packets were handled is overwritten under them, which the
// comparison, and -race, see).
func TestPipelineLikeSequential(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("TLSMAP-SKIP: one CPU: Run does not pipeline")
	}
	var caps []string
	for _, g := range []string{"captures/*.pcap", "hostile/*"} {
		m, err := filepath.Glob(filepath.Join("..", "testdata", g))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range m {
			// The zero bomb takes seconds a run (gunzipping); TestZeroBombs
			// has it.
			if filepath.Base(c) != "zeros.pcap.gz" {
				caps = append(caps, c)
			}
		}
	}
	pub, public := publicCaptures(t)
	for _, c := range public {
		caps = append(caps, filepath.Join(pub, c))
	}
	if len(caps) < 70 {
		t.Fatalf("found %d captures, want the project's and the 56 public ones", len(caps))
	}
	// Damaged copies: one cut in the middle of a record, one with
	// garbage over a stretch of records.
	dir := t.TempDir()
	whole, err := os.ReadFile(filepath.Join("..", "testdata", "captures", "openssl.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	garbled := filepath.Join(dir, "garbled.pcap")
	bad := append([]byte(nil), whole...)
	for i := len(bad) / 3; i < len(bad)/3+300; i++ {
		bad[i] = 0xff
	}
	if err := os.WriteFile(cut, whole[:len(whole)*2/3+7], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbled, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	// Many interleaved connections, every seventh long frame sent in
	// IPv4 fragments (the decoding goroutine's reassembly).
	pkts, _ := benchCapture(t, 300, 20)
	var framed [][]byte
	for i, p := range pkts {
		if i%7 == 0 && len(p) > 600 {
			framed = append(framed, fragment(t, p, 256)...)
			continue
		}
		framed = append(framed, p)
	}
	many := filepath.Join(dir, "many.pcap")
	if err := os.WriteFile(many, writePcap(t, framed), 0o644); err != nil {
		t.Fatal(err)
	}
	caps = append(caps, cut, garbled, many)

	sizes := []struct {
		name          string
		chunk, chunks int
	}{{"usual chunks", aheadChunk, aheadChunks}, {"tiny chunks", 512, 2}}
	for _, sz := range sizes {
		t.Run(sz.name, func(t *testing.T) {
			defer func(c, n int) { readAheadChunk, readAheadChunks = c, n }(readAheadChunk, readAheadChunks)
			readAheadChunk, readAheadChunks = sz.chunk, sz.chunks
			var packets, reassembled uint64
			check := func(label string, names ...string) {
				pipe, seq, pst, sst := runBoth(t, names...)
				if !reflect.DeepEqual(pipe, seq) {
					t.Errorf("%s: the pipelined run reported %d flows, the sequential %d, not the same", label, len(pipe), len(seq))
				}
				if !reflect.DeepEqual(pst, sst) {
					t.Errorf("%s: counters differ:\npipelined  %+v\nsequential %+v", label, pst, sst)
				}
				packets, reassembled = packets+sst.Packets, reassembled+sst.Reassembled
			}
			for _, c := range caps {
				check(filepath.Base(c), c)
			}
			// Several files in one source: the chunks of a file closed
			// while its packets are in flight.
			check("three files in one source", caps[0], cut, caps[1])
			if packets < 15000 || reassembled < 100 {
				t.Errorf("%d packets and %d reassembled datagrams compared, want the captures' many thousands and the fragmented ones", packets, reassembled)
			}
		})
	}
}

// TestPipelineStops checks that a pipelined Run returns ctx's error when
// ctx is done mid-file, with its decoding goroutine gone, and leaves the
// source as a sequential Run does: readable on.
func TestPipelineStops(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("TLSMAP-SKIP: one CPU: Run does not pipeline")
	}
	defer func(c, n int) { readAheadChunk, readAheadChunks = c, n }(readAheadChunk, readAheadChunks)
	readAheadChunk, readAheadChunks = 512, 2
	pkts, _ := benchCapture(t, 300, 20)
	name := filepath.Join(t.TempDir(), "many.pcap")
	if err := os.WriteFile(name, writePcap(t, pkts), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	flows := 0
	s := New(Config{EmitEarly: true}, func(*Flow) {
		if flows++; flows == 3 {
			cancel()
		}
	})
	src, err := OpenFiles(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	before := runtime.NumGoroutine()
	err = s.Run(ctx, src)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Run, %d before: the decoding one is left running", n, before)
	}
	read := s.Stats().Packets
	if read == 0 {
		t.Fatalf("no packet handled before the third flow")
	}
	// The source reads on where the pipeline stopped (the packets it had
	// decoded ahead are gone with it, as a sequential Run's unread ones
	// are not: the count only grows).
	s2 := New(Config{}, nil)
	if err := s2.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if s2.Stats().Packets == 0 || read+s2.Stats().Packets > uint64(len(pkts)) {
		t.Errorf("%d packets handled before the stop and %d after, of %d", read, s2.Stats().Packets, len(pkts))
	}
}
