package sniff

// Readers of the two capture file formats: pcap (the libpcap format,
// draft-ietf-opsawg-pcap) and pcapng (draft-ietf-opsawg-pcapng). They are
// ours rather than pcapgo's so that damage costs only the damaged part: a
// record or block that cannot be framed is skipped to the next one that
// can (a bounded search), and what was skipped is reported. They read
// zero-copy from a buffered reader: the data of a packet is valid until
// the next call.
//
// Both formats are little- or big-endian as the writer's machine was
// (the magic number says which), so the fields are read with
// encoding/binary in that byte order; cryptobyte reads big-endian only.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Limits of the readers.
const (
	// maxRecord is the largest packet accepted (libpcap's and
	// Wireshark's maximum snapshot length).
	maxRecord = 1 << 18
	// maxBlock is the largest pcapng block accepted.
	maxBlock = 16 << 20
	// maxResync is how far past a damaged record the readers look for
	// the next good one before giving up on the file.
	maxResync = 16 << 20
	// maxEmptyRun is how many records of zero captured bytes in a row
	// are believed; more are taken for damage (a file of zeros inflates
	// to billions of them).
	maxEmptyRun = 4096
	// readBuffer is the buffered reader's size: a record that fits is
	// read without a copy.
	readBuffer = 1 << 20
)

// ErrCorruptBlock reports a damaged record or block that the reader
// skipped: the packets before and after it are read, the skipped bytes
// are lost. The source may be called again.
var ErrCorruptBlock = errors.New("corrupt block skipped")

// ErrCorruptCapture reports damage the reader could not get past: the
// packets before it were read, the rest of the file was not.
var ErrCorruptCapture = errors.New("corrupt capture")

// captureReader reads one capture file.
type captureReader interface {
	next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error)
}

// fileReader is what both formats share: the buffered input, the offset
// of its next byte, and the run of empty records.
type fileReader struct {
	br       peeker
	off      int64
	emptyRun int
}

// peek returns the next n bytes (n <= readBuffer) without consuming
// them; at the end of the input it returns what is left and
// io.ErrUnexpectedEOF (io.EOF when nothing is left).
func (r *fileReader) peek(n int) ([]byte, error) {
	b, err := r.br.Peek(n)
	if err == nil {
		return b, nil
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if errors.Is(err, io.EOF) {
		return b, io.ErrUnexpectedEOF
	}
	return b, err
}

// consume moves past n bytes that peek returned.
func (r *fileReader) consume(n int) {
	r.br.Discard(n)
	r.off += int64(n)
}

// empty counts a record of caplen bytes and reports whether the run of
// empty records has grown past belief.
func (r *fileReader) empty(caplen int) bool {
	if caplen > 0 {
		r.emptyRun = 0
		return false
	}
	r.emptyRun++
	return r.emptyRun > maxEmptyRun
}

// resync looks for the next good record from the offset at (where the
// damage is), one step at a time, at most maxResync bytes ahead; ok says
// whether the bytes at the reader's position start a good record. It
// returns the error to report: ErrCorruptBlock when one was found (the
// reader is positioned on it), ErrCorruptCapture when none was, or, when
// the damage was a record running past the end of the input (eof) and no
// good record follows it, ErrTruncatedCapture.
func (r *fileReader) resync(name, what string, step int, eof bool, ok func() bool) error {
	at := r.off
	for r.off-at < maxResync {
		if _, err := r.br.Discard(step); err != nil {
			r.off += int64(step)
			if eof {
				return fmt.Errorf("%s: %w: the file ends inside a record (the packets before it were read)", name, ErrTruncatedCapture)
			}
			return fmt.Errorf("%s: %w: %s at offset %d, and no good one in the %d bytes to the end of the file", name, ErrCorruptCapture, what, at, r.off-at)
		}
		r.off += int64(step)
		if ok() {
			return fmt.Errorf("%s: %w: %s at offset %d; skipped %d bytes to the next good one", name, ErrCorruptBlock, what, at, r.off-at)
		}
	}
	return fmt.Errorf("%s: %w: %s at offset %d, and no good one in the next %d bytes: the rest of the file is not read", name, ErrCorruptCapture, what, at, r.off-at)
}

// pcapReader reads the pcap format: a 24-byte file header, then records
// of a 16-byte header (seconds, fraction, captured and original length)
// and the captured bytes.
type pcapReader struct {
	fileReader
	name    string
	bo      binary.ByteOrder
	nano    bool
	snaplen int
	lt      layers.LinkType
	lastSec int64 // of the last good record, for resynchronising
	seen    bool
}

// pcap magic numbers (draft-ietf-opsawg-pcap §4).
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
)

func newPcapReader(br peeker, name string) (*pcapReader, error) {
	r := &pcapReader{fileReader: fileReader{br: br}, name: name}
	h, err := r.peek(24)
	if err != nil {
		return nil, fmt.Errorf("sniff: %s: not a capture file: short pcap header", name)
	}
	switch {
	case binary.LittleEndian.Uint32(h) == pcapMagicMicro:
		r.bo = binary.LittleEndian
	case binary.BigEndian.Uint32(h) == pcapMagicMicro:
		r.bo = binary.BigEndian
	case binary.LittleEndian.Uint32(h) == pcapMagicNano:
		r.bo, r.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h) == pcapMagicNano:
		r.bo, r.nano = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("sniff: %s: not a capture file (neither pcap nor pcapng)", name)
	}
	// §4: major 2, minor 4; SnapLen; LinkType in the low 16 bits of the
	// last word (the high bits hold the FCS length).
	if major := r.bo.Uint16(h[4:]); major != 2 {
		return nil, fmt.Errorf("sniff: %s: pcap version %d.%d is not supported", name, major, r.bo.Uint16(h[6:]))
	}
	r.snaplen = int(r.bo.Uint32(h[16:]))
	r.lt = layers.LinkType(r.bo.Uint32(h[20:]) & 0xffff)
	r.consume(24)
	return r, nil
}

// header checks a record header: the lengths fit and the fraction is a
// fraction. It returns the captured length, or -1.
func (r *pcapReader) header(h []byte) (sec int64, frac uint32, caplen, origlen int) {
	sec = int64(r.bo.Uint32(h[0:]))
	frac = r.bo.Uint32(h[4:])
	caplen, origlen = int(r.bo.Uint32(h[8:])), int(r.bo.Uint32(h[12:]))
	limit := uint32(1e6)
	if r.nano {
		limit = 1e9
	}
	if frac >= limit || caplen > maxRecord || caplen > origlen || origlen > maxBlock {
		return sec, frac, -1, origlen
	}
	return sec, frac, caplen, origlen
}

func (r *pcapReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	var ci gopacket.CaptureInfo
	h, err := r.peek(16)
	if err != nil {
		return nil, ci, 0, err
	}
	sec, frac, caplen, origlen := r.header(h)
	if caplen < 0 {
		return nil, ci, 0, r.skip(false, false, fmt.Sprintf("bad record header (captured %d, original %d bytes)", r.bo.Uint32(h[8:]), origlen))
	}
	rec, err := r.peek(16 + caplen)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The file ends inside the record: cut short, unless the length
		// was damaged and good records follow.
		return nil, ci, 0, r.skip(false, true, "record running past the end of the file")
	}
	if err != nil {
		return nil, ci, 0, err
	}
	if r.empty(caplen) {
		return nil, ci, 0, r.skip(true, false, fmt.Sprintf("%d empty records in a row", maxEmptyRun))
	}
	r.consume(16 + caplen)
	ns := int64(frac) * 1000
	if r.nano {
		ns = int64(frac)
	}
	r.lastSec, r.seen = sec, true
	ci = gopacket.CaptureInfo{Timestamp: time.Unix(sec, ns).UTC(), CaptureLength: caplen, Length: origlen}
	return rec[16 : 16+caplen], ci, r.lt, nil
}

// skip resynchronises after a bad record: the next good one has a
// plausible header, a time near the last good record's, and is followed
// by another plausible header or by the end of the file.
func (r *pcapReader) skip(needData, eof bool, what string) error {
	plausible := func(h []byte) (int, bool) {
		sec, _, caplen, _ := r.header(h)
		if caplen < 0 || needData && caplen == 0 {
			return 0, false
		}
		if r.seen && (sec < r.lastSec-86400 || sec > r.lastSec+366*86400) {
			return 0, false
		}
		return caplen, true
	}
	err := r.resync(r.name, what, 1, eof, func() bool {
		h, err := r.br.Peek(16)
		if err != nil {
			return false
		}
		caplen, ok := plausible(h)
		if !ok {
			return false
		}
		b, err := r.br.Peek(32 + caplen)
		if len(b) == 16+caplen && errors.Is(err, io.EOF) {
			return true // the file's last record
		}
		if err != nil {
			return false
		}
		_, ok = plausible(b[16+caplen:])
		return ok
	})
	r.emptyRun = 0
	return err
}

// pcapng block types (draft-ietf-opsawg-pcapng §10.1).
const (
	ngSHB = 0x0a0d0d0a // Section Header Block
	ngIDB = 0x00000001 // Interface Description Block
	ngPB  = 0x00000002 // Packet Block (obsolete)
	ngSPB = 0x00000003 // Simple Packet Block
	ngNRB = 0x00000004 // Name Resolution Block
	ngISB = 0x00000005 // Interface Statistics Block
	ngEPB = 0x00000006 // Enhanced Packet Block
	ngDSB = 0x0000000a // Decryption Secrets Block
	ngCB  = 0x00000bad // Custom Block
	ngCBn = 0x40000bad // Custom Block, not to be copied
	ngJEB = 0x00000009 // systemd Journal Export Block

	ngByteOrderMagic = 0x1a2b3c4d
)

// ngInterface is what an IDB says about its packets.
type ngInterface struct {
	lt      layers.LinkType
	snaplen int
	// Timestamps are in units of 1/unitsPerSec s (if_tsresol), plus
	// offset seconds (if_tsoffset).
	unitsPerSec uint64
	offset      int64
}

// ngReader reads pcapng: blocks of type, length, body, length again.
type ngReader struct {
	fileReader
	name   string
	bo     binary.ByteOrder
	ifaces []ngInterface
}

func newNgReader(br peeker, name string) (*ngReader, error) {
	r := &ngReader{fileReader: fileReader{br: br}, name: name}
	b, err := r.peek(12)
	if err != nil || binary.BigEndian.Uint32(b) != ngSHB {
		return nil, fmt.Errorf("sniff: %s: not a capture file: short pcapng header", name)
	}
	if r.byteOrder(b[8:12]) == nil {
		return nil, fmt.Errorf("sniff: %s: not a capture file: bad pcapng byte-order magic", name)
	}
	return r, nil
}

// byteOrder is the byte order a Section Header Block's magic says, or
// nil.
func (r *ngReader) byteOrder(magic []byte) binary.ByteOrder {
	switch {
	case binary.LittleEndian.Uint32(magic) == ngByteOrderMagic:
		return binary.LittleEndian
	case binary.BigEndian.Uint32(magic) == ngByteOrderMagic:
		return binary.BigEndian
	}
	return nil
}

// block checks the block at the reader's position (§3.1: type, total
// length, body, the same total length; the length a multiple of 4, at
// least 12). It returns the block's bytes, or why it is bad (why ""
// and err set when the input ended).
func (r *ngReader) block() (typ uint32, b []byte, why string, err error) {
	h, err := r.peek(12)
	if err != nil && len(h) < 8 {
		return 0, nil, "", err
	}
	bo := r.bo
	typ = binary.LittleEndian.Uint32(h) // SHB's type reads the same either way
	if typ == ngSHB {
		if len(h) < 12 {
			return 0, nil, "", io.ErrUnexpectedEOF
		}
		if bo = r.byteOrder(h[8:12]); bo == nil {
			return typ, nil, "bad section header byte-order magic", nil
		}
	} else if bo == nil {
		return typ, nil, "block before the section header", nil
	} else {
		typ = bo.Uint32(h)
	}
	n := bo.Uint32(h[4:])
	if n < 12 || n%4 != 0 || n > maxBlock {
		return typ, nil, fmt.Sprintf("bad block length %d", n), nil
	}
	if n > readBuffer {
		if typ == ngSHB {
			return typ, nil, fmt.Sprintf("section header of %d bytes", n), nil
		}
		return typ, nil, "", errBigBlock
	}
	b, err = r.peek(int(n))
	if err != nil {
		return typ, b, "", err
	}
	if bo.Uint32(b[n-4:]) != n {
		return typ, nil, fmt.Sprintf("block length %d at its start, %d at its end", n, bo.Uint32(b[n-4:])), nil
	}
	if typ == ngSHB {
		r.bo = bo
	}
	return typ, b, "", nil
}

// errBigBlock marks a block larger than the read buffer: never a packet
// of ours (packets are at most maxRecord bytes), it is skipped unread.
var errBigBlock = errors.New("sniff: block larger than the buffer")

func (r *ngReader) next() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	for {
		typ, b, why, err := r.block()
		if errors.Is(err, errBigBlock) {
			if err := r.skipBig(typ); err != nil {
				return nil, gopacket.CaptureInfo{}, 0, err
			}
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// The file ends inside the block: cut short, unless its
			// length was damaged and good blocks follow.
			return nil, gopacket.CaptureInfo{}, 0, r.skip(false, true, "block running past the end of the file")
		}
		if err != nil {
			return nil, gopacket.CaptureInfo{}, 0, err
		}
		if why != "" {
			return nil, gopacket.CaptureInfo{}, 0, r.skip(false, false, why)
		}
		data, ci, lt, isPacket, why := r.parse(typ, b)
		if why != "" {
			return nil, gopacket.CaptureInfo{}, 0, r.skip(false, false, why)
		}
		if isPacket && r.empty(len(data)) {
			return nil, gopacket.CaptureInfo{}, 0, r.skip(true, false, fmt.Sprintf("%d empty packets in a row", maxEmptyRun))
		}
		r.consume(len(b))
		if isPacket {
			return data, ci, lt, nil
		}
	}
}

// skipBig reads past a block larger than the read buffer and checks its
// trailing length. A packet block that large is damage; other blocks
// (name resolution, secrets, custom) are not needed.
func (r *ngReader) skipBig(typ uint32) error {
	h, _ := r.peek(8)
	n := int(r.bo.Uint32(h[4:]))
	if typ == ngEPB || typ == ngPB || typ == ngSPB {
		return r.skip(false, false, fmt.Sprintf("packet block of %d bytes", n))
	}
	at := r.off
	if _, err := r.br.Discard(n - 4); err != nil {
		return fmt.Errorf("%s: %w: the file ends inside a record (the packets before it were read)", r.name, ErrTruncatedCapture)
	}
	r.off += int64(n - 4)
	t, err := r.peek(4)
	if err != nil {
		return fmt.Errorf("%s: %w: the file ends inside a record (the packets before it were read)", r.name, ErrTruncatedCapture)
	}
	if int(r.bo.Uint32(t)) != n {
		return r.skip(false, false, fmt.Sprintf("block length %d at its start (offset %d), %d at its end", n, at, r.bo.Uint32(t)))
	}
	r.consume(4)
	return nil
}

// parse decodes a block's body. It returns a packet (isPacket), nothing
// for the blocks that carry none, or why the block is bad.
func (r *ngReader) parse(typ uint32, b []byte) (data []byte, ci gopacket.CaptureInfo, lt layers.LinkType, isPacket bool, why string) {
	body := b[8 : len(b)-4]
	bo := r.bo
	switch typ {
	case ngSHB:
		// §4.1: byte-order magic, major version 1, minor, section length,
		// options. A new section starts over with no interfaces.
		if len(body) < 16 || bo.Uint16(body[4:]) != 1 {
			return nil, ci, 0, false, "section header of an unknown version"
		}
		r.ifaces = r.ifaces[:0]
	case ngIDB:
		// §4.2: LinkType, reserved, SnapLen, options.
		if len(body) < 8 {
			return nil, ci, 0, false, "short interface description"
		}
		iface := ngInterface{lt: layers.LinkType(bo.Uint16(body)), snaplen: int(bo.Uint32(body[4:])), unitsPerSec: 1e6}
		r.options(body[8:], func(code uint16, v []byte) {
			switch {
			case code == 9 && len(v) == 1: // if_tsresol (§4.2)
				iface.unitsPerSec = tsUnits(v[0])
			case code == 14 && len(v) == 8: // if_tsoffset
				iface.offset = int64(bo.Uint64(v))
			}
		})
		if iface.unitsPerSec == 0 {
			return nil, ci, 0, false, "unusable timestamp resolution"
		}
		if len(r.ifaces) >= 1<<16 {
			return nil, ci, 0, false, "too many interfaces"
		}
		r.ifaces = append(r.ifaces, iface)
	case ngEPB, ngPB:
		// §4.3 EPB: Interface ID (32 bits), Timestamp (upper, lower),
		// Captured Packet Length, Original Packet Length, data padded
		// to 32 bits, options. The obsolete Packet Block (Appendix A)
		// has a 16-bit Interface ID and a 16-bit drops count instead.
		if len(body) < 20 {
			return nil, ci, 0, false, "short packet block"
		}
		id := int(bo.Uint32(body))
		if typ == ngPB {
			id = int(bo.Uint16(body))
		}
		caplen, origlen := int(bo.Uint32(body[12:])), int(bo.Uint32(body[16:]))
		if id >= len(r.ifaces) {
			return nil, ci, 0, false, fmt.Sprintf("packet of interface %d, which was not described", id)
		}
		if caplen > len(body)-20 || caplen > maxRecord {
			return nil, ci, 0, false, fmt.Sprintf("packet of %d bytes in a block of %d", caplen, len(b))
		}
		iface := &r.ifaces[id]
		ts := uint64(bo.Uint32(body[4:]))<<32 | uint64(bo.Uint32(body[8:]))
		ci = gopacket.CaptureInfo{Timestamp: iface.time(ts), CaptureLength: caplen, Length: max(origlen, caplen), InterfaceIndex: id}
		return body[20 : 20+caplen], ci, iface.lt, true, ""
	case ngSPB:
		// §4.4: Original Packet Length, then the packet, cut to the
		// interface's SnapLen; interface 0, no timestamp.
		if len(r.ifaces) == 0 {
			return nil, ci, 0, false, "simple packet block before any interface description"
		}
		if len(body) < 4 {
			return nil, ci, 0, false, "short simple packet block"
		}
		origlen := int(bo.Uint32(body))
		caplen := min(origlen, len(body)-4)
		if s := r.ifaces[0].snaplen; s > 0 {
			caplen = min(caplen, s)
		}
		caplen = min(caplen, maxRecord)
		ci = gopacket.CaptureInfo{CaptureLength: caplen, Length: max(origlen, caplen)}
		return body[4 : 4+caplen], ci, r.ifaces[0].lt, true, ""
	}
	// NRB, ISB, DSB, custom and unknown blocks carry no packet.
	return nil, ci, 0, false, ""
}

// options walks a pcapng options list (§3.5: code, length, value padded
// to 32 bits; code 0 ends it).
func (r *ngReader) options(b []byte, f func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, n := r.bo.Uint16(b), int(r.bo.Uint16(b[2:]))
		if code == 0 || 4+n > len(b) {
			return
		}
		f(code, b[4:4+n])
		b = b[min(len(b), 4+(n+3)&^3):]
	}
}

// tsUnits is the number of timestamp units per second of an if_tsresol
// value (§4.2: the high bit picks base 2, else base 10); 0 when it
// overflows.
func tsUnits(v uint8) uint64 {
	e := uint64(v & 0x7f)
	if v&0x80 != 0 {
		if e > 63 {
			return 0
		}
		return 1 << e
	}
	if e > 19 {
		return 0
	}
	u := uint64(1)
	for ; e > 0; e-- {
		u *= 10
	}
	return u
}

// time converts a timestamp in the interface's units.
func (iface *ngInterface) time(ts uint64) time.Time {
	sec := ts / iface.unitsPerSec
	frac := ts % iface.unitsPerSec
	ns := frac * 1e9 / iface.unitsPerSec
	if iface.unitsPerSec > 1e9 {
		ns = frac / (iface.unitsPerSec / 1e9)
	}
	return time.Unix(int64(sec)+iface.offset, int64(ns)).UTC()
}

// skip resynchronises after a bad block: the next good one is at a
// 32-bit boundary and passes the same checks, a packet block naming a
// described interface.
func (r *ngReader) skip(needData, eof bool, what string) error {
	err := r.resync(r.name, what, 4, eof, func() bool {
		typ, b, why, err := r.block()
		if err != nil || why != "" {
			// (A block larger than the buffer cannot have its trailing
			// length checked: not good enough to resume at.)
			return false
		}
		switch typ {
		case ngSHB, ngIDB, ngNRB, ngISB, ngDSB, ngCB, ngCBn, ngJEB:
			return !needData
		case ngEPB, ngPB, ngSPB:
			saved := len(r.ifaces)
			data, _, _, isPacket, why := r.parse(typ, b)
			r.ifaces = r.ifaces[:saved]
			return why == "" && isPacket && (!needData || len(data) > 0)
		}
		return false
	})
	r.emptyRun = 0
	return err
}
