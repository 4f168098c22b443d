package sniff

import (
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/protocols/quic"
)

// flowKey identifies a connection regardless of direction: the two
// endpoints in a canonical order.
type flowKey struct {
	a, b netip.Addr
	pa   uint16
	pb   uint16
}

// makeKey returns the key of a segment and whether its source is the
// key's first endpoint.
func makeKey(src, dst netip.Addr, sport, dport uint16) (flowKey, bool) {
	c := src.Compare(dst)
	if c < 0 || c == 0 && sport <= dport {
		return flowKey{src, dst, sport, dport}, true
	}
	return flowKey{dst, src, dport, sport}, false
}

// Stats are the sniffer's counters.
type Stats struct {
	Packets uint64 // packets given to Packet
	Bytes   uint64 // their captured bytes
	// Every packet counts once in Decoded, UDP, Fragments or NotDecoded;
	// a reassembled datagram counts in Decoded or UDP by its last
	// fragment.
	Decoded   uint64 // TCP segments decoded
	UDP       uint64 // UDP datagrams decoded
	Fragments uint64 // IP fragments held for reassembly
	// NotDecoded counts the frames that yielded neither TCP nor UDP, by
	// reason (link type, EtherType, IP protocol, malformed or cut header
	// …); DecodeErrors the part of them that is malformed, cut, empty or
	// of a link type not decoded.
	NotDecoded   map[Skip]uint64
	DecodeErrors uint64
	Filtered     uint64 // TCP segments and UDP datagrams the filter dropped
	Reassembled  uint64 // IP datagrams reassembled from fragments
	FragsDropped uint64 // fragmented datagrams given up (timeout, table full, inconsistent)

	// TCP counts the connections ended so far by outcome (Flush ends
	// the rest).
	TCP TCPOutcomes

	FlowsTotal   uint64 // connections tracked
	FlowsTLS     uint64 // of which carried TLS
	FlowsEvicted uint64 // connections emitted because they were idle
	FlowsTooMany uint64 // connections evicted because the table was full
	FlowsActive  int    // connections in the table now
	Buffered     int    // bytes held in stream buffers now

	// Truncated counts capture files that ended mid-record,
	// CorruptBlocks the damaged records or blocks skipped, CorruptFiles
	// the files whose rest was lost to damage. Warnings describes them
	// and other problems of the input (at most 32; MoreWarnings counts
	// the rest).
	Truncated     uint64
	CorruptBlocks uint64
	CorruptFiles  uint64
	Warnings      []string
	MoreWarnings  uint64

	// UDP flows (pairs of endpoints, any port), each counted once when it
	// ends (idle, evicted or flushed) in exactly one of QUICFlowsDecoded,
	// QUICFlowsUndecryptable, QUICFlowsNoClientInitial and UDPFlowsOther.
	UDPFlows uint64
	// QUICFlowsDecoded: at least one QUIC connection's client Initial
	// packets were decrypted.
	QUICFlowsDecoded uint64
	// QUICFlowsUndecryptable: QUIC long headers of a version whose
	// Initial protection tlsmap does not know (Google QUIC, IETF drafts
	// before 23, an unknown version in a datagram of at least 1,200
	// bytes), by version; versions beyond 64 are counted under 0.
	QUICFlowsUndecryptable map[quic.Version]uint64
	// QUICFlowsNoClientInitial: long headers of a known QUIC version, but
	// no client Initial that decrypted (the capture began after it, or
	// lost it): the handshake cannot be seen.
	QUICFlowsNoClientInitial uint64
	// UDPFlowsOther: no QUIC long header (DNS, 1-RTT QUIC whose handshake
	// the capture missed, other protocols).
	UDPFlowsOther uint64
	// QUICConns counts the QUIC connections reported (one Flow each).
	QUICConns uint64
	// UDPFlowsTooMany counts UDP flows ended because the table was full;
	// UDPFlowsActive is the UDP table's size now.
	UDPFlowsTooMany uint64
	UDPFlowsActive  int
	// QUICMemoryCap counts QUIC datagrams not decrypted because
	// Config.MaxMemory was reached.
	QUICMemoryCap uint64
}

// table is the flow table: a map plus an intrusive LRU list (most
// recently seen at head), so idle expiry and eviction of the oldest are
// O(1) per connection.
type table struct {
	m          map[flowKey]*conn
	head, tail *conn
}

// init makes the map. It starts small whatever the cap (a map grows in
// steps, without a pause): 65,536 entries made up front cost 9 MB of RSS
// and their clearing at start-up even for a capture of ten connections,
// or of UDP only.
func (t *table) init(hint int) { t.m = make(map[flowKey]*conn, min(hint, 1<<10)) }

func (t *table) pushFront(c *conn) {
	c.prev, c.next = nil, t.head
	if t.head != nil {
		t.head.prev = c
	}
	t.head = c
	if t.tail == nil {
		t.tail = c
	}
}

func (t *table) unlink(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		t.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		t.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

func (t *table) touch(c *conn) {
	if t.head == c {
		return
	}
	t.unlink(c)
	t.pushFront(c)
}

func (t *table) remove(c *conn) {
	t.unlink(c)
	delete(t.m, c.key)
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
