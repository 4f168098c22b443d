// Package sniff finds TLS handshakes in captured traffic: it reads pcap
// and pcapng files (pcapfile.go: a damaged record is skipped to the next
// good one and counted), decodes packets (Ethernet, 802.1Q/QinQ, SLL,
// SLL2, raw IP, loopback, PPP, PPPoE, MPLS, GRE, ERSPAN, VXLAN, IP-in-IP
// and IPv6-in-IPv4; IPv4 and IPv6 with fragments), reassembles the first
// bytes of each TCP connection, recognises TLS on any port by content (or
// after a plaintext exchange a protocols.Recognizer knows — STARTTLS, a
// proxy's tunnel — or, failing those, after any plaintext prefix:
// search.go), decodes the ClientHello and ServerHello, and hands one Flow
// per connection to a Handler. UDP flows are recognised as QUIC by content, on any port: the
// Initial packets of each QUIC connection are decrypted (protocols/quic)
// and its hellos reported the same way, with Protocol "quic" (quic.go).
//
// A connection stops being buffered as soon as its hellos are parsed (or
// it is clear they will not be): from then on a packet costs a table
// lookup and counters. Memory is bounded by Config.MaxFlows,
// Config.MaxBuffer per direction and Config.MaxMemory overall, whatever
// the size of the capture.
//
// Nothing is dropped without a trace: every frame not decoded is counted
// by reason, every connection ends in one counted outcome, and
// Stats.Gaps says what could have hidden a handshake (coverage.go).
//
// A Sniffer is not safe for concurrent use.
package sniff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"runtime"
	"slices"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/tlsmap/tlsmap/protocols"
)

// Config configures a Sniffer. Zero values select the defaults.
type Config struct {
	// Recognizers find STARTTLS exchanges in plaintext flows (smtp.Recognize,
	// imap.Recognize, pop3.Recognize …). TLS from a stream's first byte is
	// recognised without them.
	Recognizers []protocols.Recognizer
	// MaxFlows caps the connections tracked at once (default 262144); when
	// full, the least recently seen is emitted and dropped
	// (Stats.FlowsTooMany).
	MaxFlows int
	// IdleTimeout emits and drops a connection that saw no packet for this
	// long, in packet time (default 2 minutes).
	IdleTimeout time.Duration
	// MaxBuffer caps the bytes of each direction examined (default 64 KiB);
	// it is also the largest handshake message decoded.
	MaxBuffer int
	// MaxMemory caps the stream bytes buffered over all connections
	// (default 256 MiB); a connection that would exceed it stops buffering.
	MaxMemory int
	// Filter, when set, keeps only the connections it matches.
	Filter *Filter
	// EmitEarly calls the Handler as soon as a connection's hellos are
	// parsed (or it is known not to be TLS) instead of when it ends; its
	// Packets, Bytes and LastSeen then stop there.
	EmitEarly bool
	// ProxyProtocol recognises a PROXY protocol header (version 1 or 2)
	// at the start of a client's stream, on any port: the flow's Client
	// is then the client the header names, Via the balancer that sent it,
	// and the header's TLS report (PP2_TYPE_SSL) is kept in Flow.Proxy.
	// A client can send such a header itself: the attribution is the
	// header's claim, which a server that accepts PROXY only from its
	// balancers would have checked.
	ProxyProtocol bool
	// HTTPForwarded reads the request heads of plaintext HTTP/1
	// connections (a TLS-terminating balancer forwarding to a backend):
	// X-Forwarded-For and Forwarded name the client of each request,
	// TLSHeader (when set, "X-SSL-Protocol") the TLS version the balancer
	// negotiated with it (Flow.Requests).
	HTTPForwarded bool
	TLSHeader     string
	// AllFlows emits connections that carried neither TLS nor a recognised
	// protocol too (Protocol "").
	AllFlows bool
	// PrefixWindow is how many bytes of each direction of a connection no
	// recogniser claimed are searched for a TLS hello after the plaintext
	// (default DefaultPrefixWindow; negative: no search).
	PrefixWindow int
	// DecodeInline keeps Run's reading and decoding on the caller's
	// goroutine where they could have one of their own (pipeline.go):
	// for a caller whose own work needs the other core, and for a test
	// that compares the two ways.
	DecodeInline bool
}

// Default limits.
const (
	DefaultMaxFlows    = 1 << 18
	DefaultIdleTimeout = 2 * time.Minute
	DefaultMaxBuffer   = 64 << 10
	DefaultMaxMemory   = 256 << 20
)

// Filter selects connections by endpoint. A connection matches when
// (Hosts and Nets both empty, or either endpoint's address is in Hosts or
// in one of Nets) and (Ports empty, or either endpoint's port is in
// Ports).
type Filter struct {
	Hosts []netip.Addr
	Nets  []netip.Prefix
	Ports []uint16
}

// Match reports whether a connection between a and b passes the filter.
func (f *Filter) Match(a, b netip.AddrPort) bool {
	if len(f.Ports) > 0 && !slices.Contains(f.Ports, a.Port()) && !slices.Contains(f.Ports, b.Port()) {
		return false
	}
	if len(f.Hosts) == 0 && len(f.Nets) == 0 {
		return true
	}
	return f.matchAddr(a.Addr()) || f.matchAddr(b.Addr())
}

func (f *Filter) matchAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, h := range f.Hosts {
		if h.Unmap() == a {
			return true
		}
	}
	for _, n := range f.Nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Sniffer turns packets into flows.
type Sniffer struct {
	cfg      Config
	handler  Handler
	dec      *decoder
	tab      table
	udp      udpTable
	st       Stats
	now      int64 // latest packet time, Unix ns
	idle     int64
	buffered int // stream bytes held, all connections
	window   int // the prefix search's window; <= 0: off
}

// New returns a Sniffer that calls handler for every flow.
func New(cfg Config, handler Handler) *Sniffer {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxBuffer <= 0 {
		cfg.MaxBuffer = DefaultMaxBuffer
	}
	if cfg.MaxMemory <= 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	if cfg.PrefixWindow == 0 {
		cfg.PrefixWindow = DefaultPrefixWindow
	}
	if handler == nil {
		handler = func(*Flow) {}
	}
	s := &Sniffer{cfg: cfg, handler: handler, dec: newDecoder(), idle: int64(cfg.IdleTimeout), window: cfg.PrefixWindow}
	s.tab.init(cfg.MaxFlows)
	return s
}

// Stats returns the counters so far.
func (s *Sniffer) Stats() Stats {
	st := s.st
	st.NotDecoded = maps.Clone(s.st.NotDecoded)
	st.TCP = s.st.TCP.clone()
	st.Reassembled, st.FragsDropped = s.dec.frags.reassembled, s.dec.frags.dropped
	st.FlowsActive = len(s.tab.m)
	st.Buffered = s.buffered
	st.Warnings = slices.Clone(s.st.Warnings)
	st.QUICFlowsUndecryptable = maps.Clone(s.st.QUICFlowsUndecryptable)
	st.UDPFlowsActive = len(s.udp.m)
	return st
}

// Packet processes one captured packet of link type lt. data may be
// reused by the caller after Packet returns.
func (s *Sniffer) Packet(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) {
	now := ci.Timestamp.UnixNano()
	var p pkt
	res := s.dec.decode(data, lt, now, ci.CaptureLength < ci.Length, &p)
	s.decoded(len(data), now, res, s.dec.skip, &p)
}

// decoded handles a packet of n bytes at time now that the decoder made
// res of (skip: why, for decSkip): everything Packet does after the
// decoding, which is all that touches the flow tables and the counters.
func (s *Sniffer) decoded(n int, now int64, res decodeResult, skip Skip, p *pkt) {
	s.st.Packets++
	s.st.Bytes += uint64(n)
	if now > s.now {
		s.now = now
	}
	switch res {
	case decSkip:
		s.notDecoded(skip)
		return
	case decFragment:
		s.st.Fragments++
		return
	case decUDP:
		s.st.UDP++
		if s.cfg.Filter != nil && !s.cfg.Filter.Match(netip.AddrPortFrom(p.src, p.sport), netip.AddrPortFrom(p.dst, p.dport)) {
			s.st.Filtered++
			return
		}
		s.expireUDP()
		s.datagram(p, now)
		return
	}
	s.st.Decoded++
	if s.cfg.Filter != nil && !s.cfg.Filter.Match(netip.AddrPortFrom(p.src, p.sport), netip.AddrPortFrom(p.dst, p.dport)) {
		s.st.Filtered++
		return
	}
	s.expire()
	s.segment(p, now)
}

// notDecoded counts a frame that yielded no TCP segment or UDP datagram.
func (s *Sniffer) notDecoded(why Skip) {
	if s.st.NotDecoded == nil {
		s.st.NotDecoded = map[Skip]uint64{}
	}
	if _, ok := s.st.NotDecoded[why]; !ok && len(s.st.NotDecoded) >= maxSkipReasons {
		why = Skip{Kind: SkipOther}
	}
	s.st.NotDecoded[why]++
	if why.Kind == SkipLinkType && s.st.NotDecoded[why] == 1 {
		s.warn(fmt.Sprintf("%s is not decoded: its frames are counted, not read", why))
	}
	switch why.Kind {
	case SkipMalformed, SkipCut, SkipEmpty, SkipLinkType:
		s.st.DecodeErrors++
	}
}

// segment handles one decoded TCP segment.
func (s *Sniffer) segment(p *pkt, now int64) {
	key, _ := makeKey(p.src, p.dst, p.sport, p.dport)
	c := s.tab.m[key]
	if c != nil && p.syn && !p.ackF && (c.rst || c.dir[0].fin || c.dir[1].fin || (c.synSeen && p.seq != c.isn)) {
		// Port reuse: a new connection on the same 4-tuple.
		s.end(c)
		c = nil
	}
	if c == nil {
		if !p.syn && len(p.payload) == 0 && p.cut == 0 {
			return // a stray ACK, FIN or RST of a connection we do not track
		}
		c = s.newConn(key, p, now)
	} else {
		s.tab.touch(c)
	}
	c.last = now
	c.packets++
	c.bytes += uint64(len(p.payload) + p.cut)
	side := 0
	if p.sport != c.addr[0].Port() || p.src != c.addr[0].Addr() {
		side = 1
	}
	if c.mode != modeDone {
		s.track(c, side, p)
	}
	if p.rst {
		c.rst = true
		s.end(c)
		return
	}
	if p.fin {
		c.dir[side].fin = true
		if c.dir[1-side].fin {
			s.end(c)
		}
	}
}

// track feeds a segment of a connection that is still buffering.
func (s *Sniffer) track(c *conn, side int, p *pkt) {
	h := &c.dir[side]
	seq := p.seq
	if p.syn {
		if !p.ackF {
			c.synSeen, c.isn = true, p.seq
			c.setClient(side, 1)
		} else if c.clientWhy < 1 {
			c.setClient(1-side, 1)
		}
		if !h.started {
			h.started, h.synSeen, h.next = true, true, p.seq+1
		}
		if p.ackF {
			if o := &c.dir[1-side]; !o.started {
				o.started, o.synSeen, o.next = true, true, p.ack
			}
		}
		seq++ // data on a SYN (TCP Fast Open) follows the SYN's number
	}
	if len(p.payload) > 0 || p.cut > 0 {
		c.segment(s, side, seq, p.payload, p.cut)
		c.checkDone(s)
	}
}

func (s *Sniffer) newConn(key flowKey, p *pkt, now int64) *conn {
	if len(s.tab.m) >= s.cfg.MaxFlows && s.tab.tail != nil {
		old := s.tab.tail
		old.lose(-1, lostEvicted, "evicted: flow table full")
		s.st.FlowsTooMany++
		s.end(old)
	}
	c := &conn{key: key, first: now, client: -1}
	c.addr[0] = netip.AddrPortFrom(p.src, p.sport)
	c.addr[1] = netip.AddrPortFrom(p.dst, p.dport)
	s.tab.m[key] = c
	s.tab.pushFront(c)
	s.st.FlowsTotal++
	return c
}

// expire emits connections idle for longer than the timeout.
func (s *Sniffer) expire() {
	for t := s.tab.tail; t != nil && s.now-t.last > s.idle; t = s.tab.tail {
		s.st.FlowsEvicted++
		s.end(t)
	}
}

// end emits a connection (unless already emitted) and drops it.
func (s *Sniffer) end(c *conn) {
	if c.mode != modeDone {
		// Stop without the early-emit path: we emit right below.
		early := s.cfg.EmitEarly
		s.cfg.EmitEarly = false
		c.finish(s)
		s.cfg.EmitEarly = early
	}
	s.emit(c)
	s.tab.remove(c)
}

// emit hands the connection's flow to the handler, once.
func (s *Sniffer) emit(c *conn) {
	if c.emitted {
		return
	}
	c.emitted = true
	s.countOutcome(c)
	if c.tlsSeen {
		s.st.FlowsTLS++
	}
	if !c.reportable(s) {
		return
	}
	f := c.buildFlow(s)
	c.flow = nil
	s.handler(f)
}

// Flush emits every connection still in the tables and empties them.
func (s *Sniffer) Flush() {
	for c := s.tab.tail; c != nil; c = s.tab.tail {
		s.end(c)
	}
	s.flushUDP()
}

// Run reads packets from src until it is exhausted (io.EOF) or ctx is
// done, and returns nil, ctx's error or the source's error as it is.
// Damage the source reports is counted and read past:
// ErrTruncatedCapture (a file ending mid-record) in Stats.Truncated,
// ErrCorruptBlock (a damaged record skipped) in Stats.CorruptBlocks,
// ErrCorruptCapture (the rest of a file lost) in Stats.CorruptFiles, each
// described in Stats.Warnings; reading goes on (the source moves on or
// ends). Run does not Flush.
//
// With a KeepingSource (a FileSource), more than one CPU and no
// Config.DecodeInline, Run reads and decodes the packets on a goroutine
// of its own while it tracks the flows on the caller's, where the
// Handler is called, in the same order and with the same counts as one
// goroutine doing both (pipeline.go).
func (s *Sniffer) Run(ctx context.Context, src PacketSource) error {
	if ks, ok := src.(KeepingSource); ok && !s.cfg.DecodeInline && runtime.GOMAXPROCS(0) > 1 && ks.KeepPackets() {
		return s.runPipelined(ctx, ks)
	}
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		data, ci, lt, err := src.ReadPacket()
		if err != nil {
			if s.sourceError(err) {
				continue
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err // the source's own error, package-prefixed already
		}
		s.Packet(data, ci, lt)
	}
}

// sourceError counts and describes damage the source reported and read
// past (true), or reports that err ends the reading (false: io.EOF or the
// source's own error).
func (s *Sniffer) sourceError(err error) bool {
	if !readPast(err) {
		return false
	}
	switch {
	case errors.Is(err, ErrTruncatedCapture):
		s.st.Truncated++
	case errors.Is(err, ErrCorruptBlock):
		s.st.CorruptBlocks++
	default:
		s.st.CorruptFiles++
	}
	s.warn(err.Error())
	return true
}

// maxWarnings bounds Stats.Warnings; the ones beyond are counted.
const maxWarnings = 32

func (s *Sniffer) warn(w string) {
	if len(s.st.Warnings) < maxWarnings {
		s.st.Warnings = append(s.st.Warnings, w)
		return
	}
	s.st.MoreWarnings++
}
