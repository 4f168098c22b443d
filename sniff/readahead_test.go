package sniff

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// TestAheadReaderLikeBufio: every sequence of Peeks and Discards gives
// what bufio.Reader gives over the same bytes — the same bytes and the
// same errors, at the end of the input, past the longest Peek, and after
// a read error — whatever the chunk size, the slices of a Peek staying
// valid across a Discard.
func TestAheadReaderLikeBufio(t *testing.T) {
	readErr := errors.New("disk on fire")
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 9))
		data := make([]byte, r.IntN(5000))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		const max = 64
		chunk := 1 + r.IntN(100)
		var src func() io.Reader
		switch seed % 3 {
		case 0:
			src = func() io.Reader { return bytes.NewReader(data) }
		case 1: // one byte a read
			src = func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) }
		case 2: // the data, then an error
			src = func() io.Reader { return io.MultiReader(bytes.NewReader(data), iotest.ErrReader(readErr)) }
		}
		want := bufio.NewReaderSize(src(), max)
		got := newAheadReaderSize(src(), max, chunk, 1+r.IntN(4))
		for op := 0; op < 400; op++ {
			n := r.IntN(max + 8)
			if r.IntN(2) == 0 {
				wb, werr := want.Peek(n)
				gb, gerr := got.Peek(n)
				wb = bytes.Clone(wb) // bufio's slice may change at its next read
				if !bytes.Equal(wb, gb) || !errors.Is(gerr, werr) && !(gerr == nil && werr == nil) {
					t.Fatalf("seed %d op %d: Peek(%d) = %d bytes, %v; bufio %d bytes, %v", seed, op, n, len(gb), gerr, len(wb), werr)
				}
				kept := bytes.Clone(gb)
				wn, werr := want.Discard(min(n, len(wb)))
				gn, gerr := got.Discard(min(n, len(gb)))
				if wn != gn || !errors.Is(gerr, werr) && !(gerr == nil && werr == nil) {
					t.Fatalf("seed %d op %d: Discard = %d, %v; bufio %d, %v", seed, op, gn, gerr, wn, werr)
				}
				if !bytes.Equal(kept, gb) {
					t.Fatalf("seed %d op %d: a Discard changed the last Peek's bytes", seed, op)
				}
				continue
			}
			wn, werr := want.Discard(n)
			gn, gerr := got.Discard(n)
			if wn != gn || !errors.Is(gerr, werr) && !(gerr == nil && werr == nil) {
				t.Fatalf("seed %d op %d: Discard(%d) = %d, %v; bufio %d, %v", seed, op, n, gn, gerr, wn, werr)
			}
		}
		got.Close()
	}
}

// TestAheadReaderClose: closing a reader whose goroutine waits on a
// source that never answers returns at once.
func TestAheadReaderClose(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	a := newAheadReader(pr, readBuffer)
	a.Close()
	a.Close()
}

// TestAheadReaderShortPeekAllocates: a long Peek near the end of a short
// input copies what there is, not the length asked (the resync of a
// damaged capture peeks a record's claimed length at every step; a
// regression made FuzzCaptureFile 400 times slower).
func TestAheadReaderShortPeekAllocates(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 100)
	allocs := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a := newAheadReaderSize(bytes.NewReader(data), readBuffer, 16, 4)
			for range 10 {
				if got, err := a.Peek(readBuffer); len(got) != len(data) || !errors.Is(err, io.EOF) {
					b.Fatalf("Peek: %d bytes, %v", len(got), err)
				}
			}
			a.Close()
		}
	})
	if per := allocs.AllocedBytesPerOp(); per > 64<<10 {
		t.Errorf("%d bytes allocated for 10 Peeks of a 100-byte input", per)
	}
}
