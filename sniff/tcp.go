package sniff

// TCP reassembly.
//
// We reassemble with our own per-direction reassembler instead of
// gopacket's reassembly package. The sniffer needs only the first few KB
// of each direction (the plaintext prelude and the hellos), after which
// a flow stops buffering and a packet costs a map lookup and counters.
// reassembly.Assembler keeps per-connection page caches and a
// StreamFactory/Stream pair, and walks every segment of every flow through
// its ScatterGather machinery whether or not we still care. Measured
// (BenchmarkSniffCapture: 200 connections, 1500-byte frames, handshakes
// plus 500 bulk frames each): decode + table + this reassembler cost
// ~200 ns and 0.05 allocations per packet (7.3 GB/s on one core); the
// header decode alone is ~113 ns (BenchmarkDecode). An Assembler-based
// variant was not benchmarked (time); it would still need the same
// stop-buffering logic on top. Ours does exactly what the hellos need:
// SYN-based (or first-segment-based, mid-connection) stream starts,
// in-order delivery of out-of-order, retransmitted and overlapping
// segments (the first copy of a byte wins), bounded pending data, and gap
// detection.

import (
	"bytes"
	"slices"
)

// maxPendingSegs bounds the out-of-order segments held per direction.
const maxPendingSegs = 64

// gapPatience is how many further segments of a direction may arrive
// while a hole stays unfilled before the hole is declared lost.
const gapPatience = 32

type segment struct {
	seq  uint32
	data []byte
	cut  int // bytes after data that the capture did not keep
}

// half is one direction of a connection.
type half struct {
	started bool   // next is meaningful
	synSeen bool   // the stream start is known from a SYN or SYN-ACK
	next    uint32 // sequence number of the next byte to deliver
	pending []segment
	pendBuf int // bytes in pending
	waited  int // segments seen since the oldest hole opened
	fin     bool

	delivered int // bytes delivered in order so far
	proxyLen  int // bytes of a PROXY protocol header stripped from buf
	tlsStart  int // stream offset where TLS decoding began (after a prefix)
	pieces    int // deliveries while recognising (detect mode)
	scan      helloScan
	buf       []byte // the stream prefix while the flow is being recognised
	dec       decoderState
	done      bool // nothing more of this direction is wanted
	gap       bool
}

// seqDiff returns a-b in sequence space.
func seqDiff(a, b uint32) int { return int(int32(a - b)) }

// segment handles one segment's payload for direction side of c; cut
// bytes followed payload on the wire but were not captured (snaplen).
func (c *conn) segment(s *Sniffer, side int, seq uint32, payload []byte, cut int) {
	h := &c.dir[side]
	if h.done || len(payload)+cut == 0 {
		return
	}
	if !h.started {
		// No SYN seen: the capture began mid-connection (or missed the
		// SYN). The stream starts here.
		h.started = true
		h.next = seq
	}
	d := seqDiff(seq, h.next)
	if d > 0 {
		c.hold(s, side, seq, payload, cut)
		return
	}
	if d < 0 && c.prepend(s, side, seq, payload) {
		return
	}
	c.take(s, side, payload, cut, -d)
	c.drain(s, side)
}

// prepend handles a segment that came after the one the stream was
// started at (no SYN seen) but holds bytes before it: reordered, or
// retransmitted late. While the direction is still being recognised and
// everything it delivered is buffered, the bytes before its start are put
// in front: a hello whose first segment came second is then whole. It
// reports whether it did.
func (c *conn) prepend(s *Sniffer, side int, seq uint32, payload []byte) bool {
	h := &c.dir[side]
	if h.synSeen || c.mode != modeDetect || h.delivered != len(h.buf) || h.proxyLen != 0 || len(h.pending) > 0 {
		return false
	}
	start := h.next - uint32(h.delivered)
	before := seqDiff(start, seq) // bytes of payload before the start
	if before <= 0 || before > len(payload) || h.delivered+before > s.cfg.MaxBuffer || s.buffered+before > s.cfg.MaxMemory {
		return false
	}
	buf := make([]byte, 0, before+len(h.buf))
	buf = append(append(buf, payload[:before]...), h.buf...)
	s.buffered += before
	h.buf, h.delivered = buf, h.delivered+before
	h.pieces++
	c.detect(s)
	return true
}

// take delivers a segment that starts skip bytes before the next byte
// wanted (those were delivered already), and then accounts for its cut
// bytes: a hole the capture made.
func (c *conn) take(s *Sniffer, side int, payload []byte, cut, skip int) {
	h := &c.dir[side]
	if skip >= len(payload)+cut {
		return // retransmission of delivered data
	}
	if skip < len(payload) {
		p := payload[skip:]
		h.next += uint32(len(p))
		c.deliver(s, side, p)
		skip = 0
	} else {
		skip -= len(payload)
	}
	if cut -= skip; cut > 0 {
		h.next += uint32(cut)
		c.cutSide(s, side)
	}
}

// cutSide stops a direction whose bytes the capture cut off (snaplen):
// a hello cannot be decoded across the hole. When the direction's hello
// was not complete yet, the flow says so.
func (c *conn) cutSide(s *Sniffer, side int) {
	h := &c.dir[side]
	if h.done {
		return
	}
	if !c.sideComplete(side) {
		c.lose(side, lostSnaplen, s.sideName(c, side, "", " stream cut by snaplen"))
	}
	c.stopSide(s, side)
	c.checkDone(s)
}

// hold keeps a copy of a segment that starts after a hole.
func (c *conn) hold(s *Sniffer, side int, seq uint32, payload []byte, cut int) {
	h := &c.dir[side]
	if len(h.pending) == 0 {
		h.waited = 0
	}
	h.waited++
	if len(h.pending) >= maxPendingSegs || h.pendBuf+len(payload) > s.cfg.MaxBuffer || h.waited > gapPatience {
		c.skipGap(s, side)
		if h.done {
			return
		}
		// After the skip the segment may be deliverable.
		c.segment(s, side, seq, payload, cut)
		return
	}
	i, _ := slices.BinarySearchFunc(h.pending, seq, func(g segment, t uint32) int {
		return seqDiff(g.seq, t)
	})
	if i < len(h.pending) && h.pending[i].seq == seq && len(h.pending[i].data)+h.pending[i].cut >= len(payload)+cut {
		return // duplicate
	}
	data := bytes.Clone(payload)
	s.buffered += len(data)
	h.pendBuf += len(data)
	h.pending = slices.Insert(h.pending, i, segment{seq, data, cut})
}

// drain delivers pending segments that have become contiguous.
func (c *conn) drain(s *Sniffer, side int) {
	h := &c.dir[side]
	for len(h.pending) > 0 && !h.done {
		g := h.pending[0]
		d := seqDiff(g.seq, h.next)
		if d > 0 {
			return
		}
		h.pending = h.pending[1:]
		h.pendBuf -= len(g.data)
		s.buffered -= len(g.data)
		c.take(s, side, g.data, g.cut, -d)
	}
	if len(h.pending) == 0 {
		h.pending = nil
		h.waited = 0
	}
}

// skipGap gives up on the hole before the first pending segment: the
// bytes were not captured. What the direction delivered so far stays;
// since a hello cannot be decoded across a hole, the direction stops.
func (c *conn) skipGap(s *Sniffer, side int) {
	h := &c.dir[side]
	h.gap = true
	c.lose(side, lostGap, s.sideName(c, side, "gap in ", " stream"))
	c.stopSide(s, side)
}

// stopSide drops a direction's buffers: nothing more is wanted from it.
// Segments still held after a hole are lost: before the direction's hello
// was complete, that is a gap.
func (c *conn) stopSide(s *Sniffer, side int) {
	h := &c.dir[side]
	if len(h.pending) > 0 && !c.sideComplete(side) {
		c.lose(side, lostGap, s.sideName(c, side, "gap in ", " stream"))
	}
	h.done = true
	s.buffered -= h.pendBuf + len(h.buf) + len(h.scan.buf)
	h.pending, h.pendBuf, h.buf, h.scan = nil, 0, nil, helloScan{}
	h.dec.release()
}

// deliver passes in-order bytes of one direction to the recogniser or the
// TLS decoder.
func (c *conn) deliver(s *Sniffer, side int, p []byte) {
	h := &c.dir[side]
	h.delivered += len(p)
	if c.mode == modeHTTP {
		// The request heads are read as they pass, nothing buffered
		// beyond the one being read: no per-direction limit applies,
		// the memory budget does.
		before := len(c.http.carry)
		c.http.feed(p)
		s.buffered += len(c.http.carry) - before
		if s.buffered > s.cfg.MaxMemory {
			c.lose(-1, lostMemory, "memory budget exceeded")
			c.http.stopped = true
		}
		if c.http.stopped {
			s.buffered -= len(c.http.carry)
			c.http.carry = nil
			c.finish(s)
		}
		return
	}
	if c.mode == modeSearch || c.mode == modeTLS && h.scan.on {
		// The search bounds itself by its window.
		c.search(s, side, p)
		return
	}
	var rest []byte // beyond the cap, for the search
	if h.delivered-h.tlsStart > s.cfg.MaxBuffer {
		// Enough of this direction; keep what fits.
		over := h.delivered - h.tlsStart - s.cfg.MaxBuffer
		if over >= len(p) {
			p, rest = nil, p
		} else {
			p, rest = p[:len(p)-over], p[len(p)-over:]
		}
		defer func() {
			switch {
			case h.done:
			case c.mode == modeDetect && c.protocol == "":
				// Still undecided at the cap: search what was seen (and
				// what follows, as far as the window goes).
				c.startSearch(s)
				if c.mode == modeSearch && !h.done {
					c.search(s, side, rest)
				}
			case c.mode == modeDetect:
				// A known protocol, still in plaintext at the cap.
				c.note(s.sideName(c, side, "buffer limit reached in ", " stream"))
				c.stopSide(s, side)
				c.checkDone(s)
			case c.mode == modeTLS:
				c.lose(side, lostBuffer, s.sideName(c, side, "buffer limit reached in ", " stream"))
				c.stopSide(s, side)
				c.checkDone(s)
			}
		}()
	}
	if len(p) == 0 {
		return
	}
	switch c.mode {
	case modeDetect:
		if s.buffered+len(p) > s.cfg.MaxMemory {
			c.lose(-1, lostMemory, "memory budget exceeded")
			c.finish(s)
			return
		}
		h.buf = append(h.buf, p...)
		h.pieces++
		s.buffered += len(p)
		c.detect(s)
	case modeSearch:
		c.search(s, side, p)
	case modeTLS:
		c.feed(s, side, p)
	}
}
