package sniff

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// PacketSource yields captured packets, in capture order. ReadPacket
// returns the next packet, its capture info and link type; data may be
// reused by the source on the next call (zero copy). At the end it
// returns io.EOF. A source may also report damage and be called again:
// an error wrapping ErrTruncatedCapture (the input ended mid-record),
// ErrCorruptBlock (a damaged record was skipped, reading goes on after
// it) or ErrCorruptCapture (damage the source could not get past: the
// rest of that input is lost). Sources: FileSource (pcap, pcapng, gzip,
// stdin, several files in order); the live capture in live.go.
type PacketSource interface {
	ReadPacket() (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, err error)
}

// KeepingSource is a PacketSource that can keep the bytes of the
// packets it returns valid past the next ReadPacket, so that one
// goroutine can read and decode packets while another tracks flows
// (Sniffer.Run does so). Its methods are called from the goroutine that
// calls ReadPacket.
type KeepingSource interface {
	PacketSource
	// KeepPackets turns keeping on and reports whether the source can
	// keep; when it cannot, nothing changes.
	KeepPackets() bool
	// Kept returns the buffers the source has read past since the last
	// call: no packet read after the call lies in them. The packets read
	// before it stay valid until the buffers are given to Return.
	Kept() [][]byte
	// Return gives back buffers Kept returned, once nothing uses the
	// packets that lie in them; the source may then read into them.
	Return(bufs [][]byte)
}

// ErrTruncatedCapture reports a capture that ends in the middle of a
// record: the packets before are good, the rest is missing.
var ErrTruncatedCapture = errors.New("truncated capture")

// ErrNotCapture is wrapped by the error of a capture file that is
// missing, a directory, or not a pcap or pcapng file (OpenFiles, and
// FileSource.ReadPacket when it reaches such a file).
var ErrNotCapture = errors.New("sniff: not a readable capture")

// notCapture marks err as ErrNotCapture without changing its text.
type notCapture struct{ error }

func (e notCapture) Unwrap() []error { return []error{e.error, ErrNotCapture} }

// FileSource reads pcap and pcapng files (either possibly gzip-compressed,
// told apart by their magic numbers) one after the other; the name "-" is
// standard input. A file ending mid-record (ErrTruncatedCapture) ends
// that file only: the next ReadPacket goes on with the next file.
type FileSource struct {
	names []string
	stdin io.Reader
	cur   string
	f     io.Closer
	r     captureReader
	ahead *aheadReader // the current file's read-ahead
	keep  bool         // KeepPackets was called

	size int64        // sum of the regular files' sizes; 0 when unknown
	n    atomic.Int64 // bytes read from the files so far
}

// OpenFiles returns a source over the named captures, read in order; "-"
// is stdin. It checks every name first (it exists, is no directory, "-"
// comes at most once) and opens the first file, so that a bad name fails
// before anything is read; a later file that is no capture is an error
// of ReadPacket when reading reaches it. The errors wrap ErrNotCapture.
func OpenFiles(stdin io.Reader, names ...string) (*FileSource, error) {
	s := &FileSource{names: names, stdin: stdin}
	stdinSeen := false
	for _, n := range names {
		if n == "-" {
			if stdinSeen {
				return nil, notCapture{errors.New("sniff: standard input (-) given twice")}
			}
			stdinSeen = true
			continue
		}
		fi, err := os.Stat(n)
		if err != nil {
			return nil, notCapture{fmt.Errorf("sniff: %w", err)}
		}
		if fi.IsDir() {
			return nil, notCapture{fmt.Errorf("sniff: %s is a directory", n)}
		}
		s.size += fi.Size()
	}
	if stdinSeen {
		s.size = 0 // unknown
	}
	if len(names) > 0 {
		if err := s.next(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Size returns the total size of the files in bytes, 0 when unknown
// (stdin is one of them).
func (s *FileSource) Size() int64 { return s.size }

// BytesRead returns the bytes read from the files so far (compressed
// bytes for gzip files). It is safe to call from any goroutine.
func (s *FileSource) BytesRead() int64 { return s.n.Load() }

// NewReaderSource returns a source over one capture read from r; name is
// used in messages.
func NewReaderSource(r io.Reader, name string) (*FileSource, error) {
	s := &FileSource{cur: name}
	if err := s.start(r); err != nil {
		return nil, err
	}
	return s, nil
}

// ReadPacket implements PacketSource.
func (s *FileSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	for {
		if s.r == nil {
			if len(s.names) == 0 {
				return nil, gopacket.CaptureInfo{}, 0, io.EOF
			}
			if err := s.next(); err != nil {
				return nil, gopacket.CaptureInfo{}, 0, err
			}
		}
		data, ci, lt, err := s.r.next()
		if err == nil {
			return data, ci, lt, nil
		}
		if errors.Is(err, ErrCorruptBlock) {
			return nil, ci, 0, err // skipped; the file goes on
		}
		name := s.cur
		s.Close()
		switch {
		case errors.Is(err, io.EOF):
			continue
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, ci, 0, fmt.Errorf("%s: %w: the file ends inside a record (the packets before it were read)", name, ErrTruncatedCapture)
		case errors.Is(err, ErrTruncatedCapture), errors.Is(err, ErrCorruptCapture):
			return nil, ci, 0, err
		}
		// A read error (a damaged gzip stream, the disk): the rest of the
		// file cannot be read.
		return nil, ci, 0, fmt.Errorf("%s: %w: %v", name, ErrCorruptCapture, err)
	}
}

// KeepPackets implements KeepingSource: from now on the bytes of a
// packet lie in a read-ahead chunk that is not read into again until
// Return gives it back.
func (s *FileSource) KeepPackets() bool {
	s.keep = true
	if s.ahead != nil {
		s.ahead.setKeep()
	}
	return true
}

// Kept implements KeepingSource. The chunks of a file closed meanwhile
// are left to the garbage collector.
func (s *FileSource) Kept() [][]byte {
	if s.ahead == nil {
		return nil
	}
	return s.ahead.Kept()
}

// Return implements KeepingSource.
func (s *FileSource) Return(bufs [][]byte) {
	if s.ahead == nil {
		return
	}
	for _, b := range bufs {
		s.ahead.giveBack(b)
	}
}

// Close closes the current file.
func (s *FileSource) Close() error {
	s.r = nil
	if s.ahead != nil {
		s.ahead.Close()
		s.ahead = nil
	}
	if s.f != nil {
		err := s.f.Close()
		s.f = nil
		return err
	}
	return nil
}

// next opens the next file of names.
func (s *FileSource) next() error {
	name := s.names[0]
	s.names = s.names[1:]
	s.cur = name
	var r io.Reader = s.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return notCapture{fmt.Errorf("sniff: %w", err)}
		}
		s.f = f
		r = f
	} else if r == nil {
		r = os.Stdin
	}
	if err := s.start(&countingReader{r: r, n: &s.n}); err != nil {
		s.Close()
		return fmt.Errorf("%w (not a readable capture)", notCapture{err})
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// start picks the reader by magic number. The capture is read (and
// decompressed) ahead on a goroutine of its own (aheadReader): the
// reading runs on another core than the decoding.
func (s *FileSource) start(r io.Reader) error {
	// A small buffer for the magic: larger reads pass through it.
	head := bufio.NewReaderSize(r, 64<<10)
	magic, err := head.Peek(4)
	if err != nil {
		return fmt.Errorf("sniff: %s: not a capture file: %w", s.cur, err)
	}
	var src io.Reader = head
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(head)
		if err != nil {
			return fmt.Errorf("sniff: %s: %w", s.cur, err)
		}
		src = zr
	}
	br := newAheadReader(src, readBuffer)
	if s.keep {
		br.setKeep()
	}
	s.ahead = br
	if magic, err = br.Peek(4); err != nil {
		return fmt.Errorf("sniff: %s: not a capture file: %w", s.cur, err)
	}
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := newNgReader(br, s.cur)
		if err != nil {
			return err
		}
		s.r = ng
		return nil
	}
	pr, err := newPcapReader(br, s.cur)
	if err != nil {
		return err
	}
	s.r = pr
	return nil
}
