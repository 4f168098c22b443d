package sniff

import (
	"bufio"
	"errors"
	"io"
)

// peeker is what the capture readers read through: bufio.Reader's Peek
// and Discard, with its contract (a slice Peek returns stays valid until
// the next Peek; Discard does not invalidate it).
type peeker interface {
	Peek(n int) ([]byte, error)
	Discard(n int) (int, error)
}

// Read-ahead: chunks of aheadChunk bytes, aheadChunks of them in flight.
// A chunk is written on one core and decoded on the other: 4 × 256 KiB
// stay in the caches where 4 × 1 MiB did not once a store's writer
// shared them (sniff -r of the 696 MB bench capture: the read system
// calls' copy took half again as long with --store-flows at 1 MiB; at
// 256 KiB the plain sniff was 4% faster, --store 10%, --store-flows 12%;
// 64 KiB was slower than both, 128 KiB like 256).
const (
	aheadChunk  = 256 << 10
	aheadChunks = 4
	aheadFirst  = 16 << 10 // the first chunk; each next one twice as long, up to aheadChunk
)

// aheadReader reads its source on a goroutine of its own, up to
// aheadChunks chunks ahead of the consumer, so that the reading (the read
// system calls' copy out of the page cache, or a gzip stream's
// decompression) runs on another core than the decoding. A record is
// returned from the chunk it lies in, without a copy; only one that
// straddles two chunks is copied, into a buffer of its own.
type aheadReader struct {
	chunks chan aheadChunkData // filled chunks, in order; closed after the last
	free   chan []byte         // chunks the consumer is done with
	stop   chan struct{}

	segs    [][]byte // the unread bytes, in order: views of chunks, or a joined copy first
	owners  [][]byte // owners[i] is the chunk segs[i] lies in (nil for a joined copy)
	err     error    // the source's error after the last segment (io.EOF at its end)
	retired [][]byte // chunks no segment uses: given back at the next Peek
	pinned  []byte   // the chunk the last Peek's slice lies in (nil: a joined copy)
	max     int      // the longest Peek (bufio's buffer size)
	closed  bool

	// Keeping (setKeep): a chunk read past is not given back to the
	// reading goroutine but put in kept, for the consumer to give back
	// once nothing uses the records it returned from it (Kept,
	// giveBack); the reading goroutine makes a new chunk when none is
	// free.
	keeping bool          // the consumer's side
	keepOn  chan struct{} // closed when keeping starts: the reading goroutine's side
	kept    [][]byte
}

type aheadChunkData struct {
	buf []byte // a whole chunk; buf[:n] holds data
	n   int
	err error
}

// The read-ahead's sizes in use: variables, so that a test can make the
// chunks tiny (every record straddling, every chunk kept and recycled).
var readAheadChunk, readAheadChunks = aheadChunk, aheadChunks

// newAheadReader starts reading r ahead; longest is the longest Peek.
func newAheadReader(r io.Reader, longest int) *aheadReader {
	return newAheadReaderSize(r, longest, readAheadChunk, readAheadChunks)
}

func newAheadReaderSize(r io.Reader, longest, chunk, chunks int) *aheadReader {
	a := &aheadReader{stop: make(chan struct{}), keepOn: make(chan struct{}), max: longest}
	// Two chunks at least: the one the last Peek's slice lies in, and
	// the next.
	chunks = max(chunks, 2)
	a.chunks, a.free = make(chan aheadChunkData, chunks), make(chan []byte, chunks)
	go func() {
		defer close(a.chunks)
		// The chunks are made as they are needed and grow from
		// aheadFirst to chunk: a small capture costs no megabytes.
		size, made := min(aheadFirst, chunk), 0
		for {
			var buf []byte
			if made < chunks {
				buf, made = make([]byte, size), made+1
			} else {
				select {
				case buf = <-a.free:
				case <-a.keepOn:
					select {
					case buf = <-a.free:
					default:
						buf = make([]byte, size) // the free ones are kept
					}
				case <-a.stop:
					return
				}
			}
			if len(buf) < size {
				buf = make([]byte, size)
			}
			size = min(2*size, chunk)
			n, err := io.ReadFull(r, buf)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			select {
			case a.chunks <- aheadChunkData{buf: buf, n: n, err: err}:
			case <-a.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return a
}

// Close stops the reading goroutine. It does not wait for it: the
// goroutine may be in a read of the source (a pipe on standard input),
// which ends when the source is closed or has data; it then exits
// without touching anything the consumer uses.
func (a *aheadReader) Close() {
	if a.closed {
		return
	}
	a.closed = true
	close(a.stop)
}

// pull appends the next chunk to segs; false when the source has ended
// (a.err set).
func (a *aheadReader) pull() bool {
	if a.err != nil {
		return false
	}
	c, ok := <-a.chunks
	if !ok {
		a.err = io.EOF
		return false
	}
	if c.n > 0 {
		a.segs = append(a.segs, c.buf[:c.n])
		a.owners = append(a.owners, c.buf)
	} else {
		a.giveBack(c.buf) // no record lies in it
	}
	if c.err != nil {
		a.err = c.err
	}
	return c.n > 0 || a.err == nil
}

// Peek returns the next n bytes without consuming them, as
// bufio.Reader.Peek does: fewer, with the source's error, at its end;
// bufio.ErrBufferFull when n is longer than the longest Peek.
func (a *aheadReader) Peek(n int) ([]byte, error) {
	// The slice of the last Peek is no longer used: the chunks no
	// segment needs go back to the reading goroutine.
	a.release()
	if n < 0 {
		return nil, bufio.ErrNegativeCount
	}
	full := false
	if n > a.max {
		n, full = a.max, true
	}
	for len(a.segs) == 0 || len(a.segs[0]) < n {
		if len(a.segs) > 1 {
			a.join(n)
			a.release()
			continue
		}
		if !a.pull() {
			break
		}
	}
	var b []byte
	a.pinned = nil
	if len(a.segs) > 0 {
		b, a.pinned = a.segs[0], a.owners[0]
	}
	switch {
	case len(b) >= n && full:
		return b[:n], bufio.ErrBufferFull
	case len(b) >= n:
		return b[:n], nil
	case full:
		return b, bufio.ErrBufferFull
	}
	return b, a.err
}

// release gives the retired chunks back to the reading goroutine (or,
// keeping, to kept).
func (a *aheadReader) release() {
	for _, c := range a.retired {
		a.done(c)
	}
	a.retired = a.retired[:0]
}

// done is called for a chunk the consumer has read past: it goes back
// to the reading goroutine, or, keeping, to kept.
func (a *aheadReader) done(c []byte) {
	if a.keeping {
		a.kept = append(a.kept, c)
		return
	}
	a.free <- c
}

// setKeep turns keeping on: from now on the records Peek returns stay
// valid after the next Peek, until the chunks they lie in are given
// back (Kept, giveBack).
func (a *aheadReader) setKeep() {
	if !a.keeping {
		a.keeping = true
		close(a.keepOn)
	}
}

// Kept returns the chunks read past since its last call (keeping): no
// record returned after the call lies in them.
func (a *aheadReader) Kept() [][]byte {
	k := a.kept
	a.kept = nil
	return k
}

// giveBack gives a chunk back to the reading goroutine, unless it has
// enough free ones (a chunk of a file closed since is one more).
func (a *aheadReader) giveBack(c []byte) {
	select {
	case a.free <- c:
	default:
	}
}

// join makes segs[0] hold the next n bytes, or as many as segs hold: a
// copy of the segments it spans, the chunks wholly copied retired.
func (a *aheadReader) join(n int) {
	held := 0
	for _, s := range a.segs {
		held += len(s)
	}
	buf := make([]byte, 0, min(n, held))
	for len(buf) < n && len(a.segs) > 0 {
		s := a.segs[0]
		take := min(len(s), n-len(buf))
		buf = append(buf, s[:take]...)
		if take == len(s) {
			a.drop()
		} else {
			a.segs[0] = s[take:]
		}
	}
	a.segs = append([][]byte{buf}, a.segs...)
	a.owners = append([][]byte{nil}, a.owners...)
}

// drop removes segs[0], retiring its chunk; a chunk the last Peek's
// slice does not lie in goes back to the reading goroutine at once.
func (a *aheadReader) drop() {
	switch o := a.owners[0]; {
	case o == nil:
	case a.pinned != nil && &o[0] == &a.pinned[0]:
		a.retired = append(a.retired, o)
		a.pinned = nil
	default:
		a.done(o)
	}
	a.segs, a.owners = a.segs[1:], a.owners[1:]
}

// Discard skips the next n bytes, as bufio.Reader.Discard does: it
// returns how many it skipped, and the source's error when fewer than n.
// The slice of the last Peek stays valid.
func (a *aheadReader) Discard(n int) (int, error) {
	if n < 0 {
		return 0, bufio.ErrNegativeCount
	}
	done := 0
	for done < n {
		if len(a.segs) == 0 && !a.pull() {
			return done, a.err
		}
		if len(a.segs) == 0 {
			continue
		}
		s := a.segs[0]
		take := min(len(s), n-done)
		done += take
		if take == len(s) {
			a.drop()
		} else {
			a.segs[0] = s[take:]
		}
	}
	return done, nil
}
