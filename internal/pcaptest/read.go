// Package pcaptest is test support for code that reads TLS off the wire: it
// reads pcap, pcapng and gzip-compressed captures, decodes the link, network
// and TCP layers, reassembles each TCP connection into two ordered byte
// streams that remember which frame delivered every byte, and loads the
// tshark field dumps committed under testdata/public/tshark-crosscheck.
//
// It is deliberately independent of the sniffer: the reassembler here is a
// small seq-ordered one (first copy of a byte wins, the stream stops at the
// first hole), so that tests of the real sniff path compare two
// implementations instead of one with itself. It favours being obviously
// correct over speed and must never be imported by non-test code.
package pcaptest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one captured frame.
type Packet struct {
	// Frame is the 1-based position of the packet in the file, counting
	// only packet blocks: the number tshark prints as frame.number.
	Frame    int
	Time     time.Time
	LinkType layers.LinkType
	Data     []byte // the link-layer frame as captured (owned by the Packet)
}

// pcapng section header block type, written little- or big-endian.
var pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

// ReadPackets reads every packet of a pcap or pcapng file, either of them
// optionally gzip-compressed (both gopacket readers unwrap gzip).
func ReadPackets(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pcaptest: %w", err)
	}
	defer f.Close()
	pkts, err := readPackets(f)
	if err != nil {
		return nil, fmt.Errorf("pcaptest: %s: %w", path, err)
	}
	return pkts, nil
}

func readPackets(r io.Reader) ([]Packet, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("reading magic: %w", err)
	}
	if head[0] == 0x1f && head[1] == 0x8b {
		// gzip: the format is chosen by the magic of the decompressed
		// bytes. (Both gopacket readers also unwrap gzip, but one of them
		// has to be picked first.)
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer gz.Close()
		return readPackets(gz)
	}
	var next func() ([]byte, gopacket.CaptureInfo, error)
	var linkOf func(ci gopacket.CaptureInfo) layers.LinkType
	if bytes.Equal(head, pcapngMagic) {
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		next = ng.ReadPacketData
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			if len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					return lt
				}
			}
			return ng.LinkType()
		}
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcap: %w", err)
		}
		next = pr.ReadPacketData
		lt := pr.LinkType()
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return lt }
	}
	var pkts []Packet
	for {
		data, ci, err := next()
		if errors.Is(err, io.EOF) {
			return pkts, nil
		}
		if err != nil {
			return pkts, fmt.Errorf("frame %d: %w", len(pkts)+1, err)
		}
		pkts = append(pkts, Packet{
			Frame:    len(pkts) + 1,
			Time:     ci.Timestamp,
			LinkType: linkOf(ci),
			Data:     bytes.Clone(data),
		})
	}
}
