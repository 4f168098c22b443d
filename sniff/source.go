package sniff

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// PacketSource yields captured packets, in capture order. ReadPacket
// returns the next packet, its capture info and link type; data may be
// reused by the source on the next call (zero copy). At the end it
// returns io.EOF. A source whose input ends mid-record returns an error
// wrapping ErrTruncatedCapture, and may be called again (to continue with
// further input, or to return io.EOF). Sources: FileSource (pcap, pcapng,
// gzip, stdin, several files in order); the live capture in live.go.
type PacketSource interface {
	ReadPacket() (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, err error)
}

// ErrTruncatedCapture reports a capture that ends in the middle of a
// record: the packets before are good, the rest is missing.
var ErrTruncatedCapture = errors.New("truncated capture")

// FileSource reads pcap and pcapng files (either possibly gzip-compressed,
// told apart by their magic numbers) one after the other; the name "-" is
// standard input.
type FileSource struct {
	names []string
	cur   string
	f     io.Closer
	read  func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
}

// OpenFiles returns a source over the named files, read in order. Each
// file is opened when reading reaches it; an unreadable or unrecognised
// file is an error from ReadPacket.
func OpenFiles(names ...string) *FileSource {
	return &FileSource{names: names}
}

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
		if s.read == nil {
			if len(s.names) == 0 {
				return nil, gopacket.CaptureInfo{}, 0, io.EOF
			}
			if err := s.open(s.names[0]); err != nil {
				s.names = s.names[1:]
				return nil, gopacket.CaptureInfo{}, 0, err
			}
			s.names = s.names[1:]
		}
		data, ci, lt, err := s.read()
		if err == nil {
			return data, ci, lt, nil
		}
		name := s.cur
		s.Close()
		if errors.Is(err, io.EOF) {
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ci, 0, fmt.Errorf("%s: %w", name, ErrTruncatedCapture)
		}
		// A corrupt record: what came before is kept, the rest of the
		// file cannot be framed.
		return nil, ci, 0, fmt.Errorf("%s: %w: %v", name, ErrTruncatedCapture, err)
	}
}

// Close closes the current file.
func (s *FileSource) Close() error {
	s.read = nil
	if s.f != nil {
		err := s.f.Close()
		s.f = nil
		return err
	}
	return nil
}

func (s *FileSource) open(name string) error {
	s.cur = name
	var r io.Reader
	if name == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("sniff: %w", err)
		}
		s.f = f
		r = f
	}
	if err := s.start(r); err != nil {
		s.Close()
		return err
	}
	return nil
}

// start picks the reader by magic number.
func (s *FileSource) start(r io.Reader) error {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(4)
	if err != nil {
		return fmt.Errorf("sniff: %s: not a capture file: %w", s.cur, err)
	}
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("sniff: %s: %w", s.cur, err)
		}
		br = bufio.NewReaderSize(zr, 1<<20)
		if magic, err = br.Peek(4); err != nil {
			return fmt.Errorf("sniff: %s: not a capture file: %w", s.cur, err)
		}
	}
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return fmt.Errorf("sniff: %s: %w", s.cur, err)
		}
		var lts []layers.LinkType
		s.read = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
			data, ci, err := ng.ZeroCopyReadPacketData()
			if err != nil {
				return nil, ci, 0, err
			}
			i := ci.InterfaceIndex
			if i >= len(lts) || len(lts) != ng.NInterfaces() {
				lts = lts[:0]
				for j := 0; j < ng.NInterfaces(); j++ {
					iface, _ := ng.Interface(j)
					lts = append(lts, iface.LinkType)
				}
			}
			lt := ng.LinkType()
			if i >= 0 && i < len(lts) {
				lt = lts[i]
			}
			return data, ci, lt, nil
		}
		return nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return fmt.Errorf("sniff: %s: %w", s.cur, err)
	}
	lt := pr.LinkType()
	s.read = func() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
		data, ci, err := pr.ZeroCopyReadPacketData()
		return data, ci, lt, err
	}
	return nil
}
