package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// Content fingerprints: how a source is known (sources.content). A file
// up to wholeLimit bytes is hashed whole; a larger one by samples — its
// size, its first and last MiB and 64 blocks of 64 KiB spread evenly
// between — so that knowing a 500 MB capture costs a few milliseconds,
// not a second pass as long as the sniffer's own (what a full SHA-256
// cost: as much CPU as reading the capture). Two different captures do
// not share their first MiB (their packets' times and contents), so the
// samples tell files apart; a file changed only outside every sample
// would be taken for the one stored before (and sniff would say so on
// stderr).
const (
	wholeLimit  = 8 << 20
	sampleEdge  = 1 << 20
	sampleBlock = 64 << 10
	sampleCount = 64
	streamHead  = 4 << 20
)

// FileContent returns the content fingerprint and size of a file:
// "sha256:HEX" of the whole file, or "sha256-sampled:HEX" of its samples.
func FileContent(path string) (content string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("store: %w", err)
	}
	size = fi.Size()
	h := sha256.New()
	if size <= wholeLimit {
		if _, err := io.Copy(h, f); err != nil {
			return "", 0, fmt.Errorf("store: %s: %w", path, err)
		}
		return "sha256:" + hex.EncodeToString(h.Sum(nil)), size, nil
	}
	h.Write([]byte("tlsmap content samples v1"))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(size))
	h.Write(n[:])
	read := func(off, length int64) error {
		_, err := io.Copy(h, io.NewSectionReader(f, off, length))
		return err
	}
	if err := read(0, sampleEdge); err != nil {
		return "", 0, fmt.Errorf("store: %s: %w", path, err)
	}
	span := size - 2*sampleEdge - sampleBlock
	for i := int64(0); i < sampleCount; i++ {
		if err := read(sampleEdge+span*i/(sampleCount-1), sampleBlock); err != nil {
			return "", 0, fmt.Errorf("store: %s: %w", path, err)
		}
	}
	if err := read(size-sampleEdge, sampleEdge); err != nil {
		return "", 0, fmt.Errorf("store: %s: %w", path, err)
	}
	return "sha256-sampled:" + hex.EncodeToString(h.Sum(nil)), size, nil
}

// StreamContent fingerprints a stream as it is read (an io.Writer for an
// io.TeeReader): its length and its first 4 MiB.
type StreamContent struct {
	head []byte
	n    int64
}

// Write implements io.Writer.
func (s *StreamContent) Write(p []byte) (int, error) {
	if room := streamHead - len(s.head); room > 0 {
		s.head = append(s.head, p[:min(len(p), room)]...)
	}
	s.n += int64(len(p))
	return len(p), nil
}

// Content returns "sha256-head:HEX", and the stream's length.
func (s *StreamContent) Content() (string, int64) {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(s.n))
	h.Write(n[:])
	h.Write(s.head)
	return "sha256-head:" + hex.EncodeToString(h.Sum(nil)), s.n
}
