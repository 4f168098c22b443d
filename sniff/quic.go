package sniff

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/quic"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// QUIC over UDP. Every UDP flow (a pair of endpoints, any port) is
// tracked in its own table; one that carries QUIC long header packets
// (recognised by content) gets a quic.Tracker, which decrypts the Initial
// packets of each connection in it and hands out the hellos. Each QUIC
// connection becomes one Flow with Protocol "quic", emitted when its UDP
// flow ends (idle, evicted, flushed), or as soon as its hellos are in with
// Config.EmitEarly. Every UDP flow is counted once, when it ends, in
// Stats: QUIC decoded, QUIC not decryptable (by version, or because no
// client Initial was seen), or other.

// udpKind is what a UDP flow turned out to carry.
type udpKind uint8

const (
	udpOther    udpKind = iota // no QUIC long header seen
	udpQUIC                    // long headers of a QUIC version (Tracker set)
	udpOpaqueV                 // long headers of a QUIC-like version the package cannot decrypt
	udpUnknownV                // a 1200-byte long header of an unknown version: likely QUIC
)

// udpFlow is one UDP flow in the UDP table.
type udpFlow struct {
	key        flowKey
	prev, next *udpFlow // LRU list, most recently seen first

	addr        [2]netip.AddrPort // side 0 sent the first datagram seen
	first, last int64
	datagrams   uint64
	buffered    int  // the Tracker's reassembly bytes, counted in Sniffer.buffered
	capped      bool // a datagram was not decrypted: Config.MaxMemory reached
	kind        udpKind
	version     quic.Version // of the first long header that could not be decrypted
	tr          *quic.Tracker
	conns       []*quicConn // in the order the Tracker created them
}

// quicConn is the sniffer's record of one QUIC connection.
type quicConn struct {
	c           *quic.Conn
	first, last int64
	packets     uint64
	bytes       uint64
	emitted     bool
	// hellos is the flow as the hellos filled it, built when the
	// connection completed (the Tracker's copies are then released);
	// notes what they lacked.
	hellos *Flow
	notes  []string
}

// udpTable is the UDP flow table: a map and an LRU list, like table.
type udpTable struct {
	m          map[flowKey]*udpFlow
	head, tail *udpFlow
	// last is the flow of the latest datagram: bulk transfers come in
	// runs of one flow's datagrams, which then skip the map.
	last *udpFlow
}

func (t *udpTable) pushFront(u *udpFlow) {
	u.prev, u.next = nil, t.head
	if t.head != nil {
		t.head.prev = u
	}
	t.head = u
	if t.tail == nil {
		t.tail = u
	}
}

func (t *udpTable) unlink(u *udpFlow) {
	if u.prev != nil {
		u.prev.next = u.next
	} else {
		t.head = u.next
	}
	if u.next != nil {
		u.next.prev = u.prev
	} else {
		t.tail = u.prev
	}
	u.prev, u.next = nil, nil
}

// quicMinDatagram is the size below which no client sends its first
// Initial (RFC 9000 §14.1: "at least the smallest allowed maximum datagram
// size of 1200 bytes"); an unknown version counts as likely QUIC only
// from that size.
const quicMinDatagram = 1200

// quicLike reports whether a long header of version v belongs to the QUIC
// family though the package cannot decrypt it: IETF drafts, Google QUIC,
// the versions reserved to force version negotiation, Facebook's mvfst
// (0xfaceb00N).
func quicLike(v quic.Version) bool {
	return v.IsDraft() || v.IsGoogle() || v.IsReserved() || v&0xfffffff0 == 0xfaceb000
}

// datagram handles one decoded UDP datagram.
func (s *Sniffer) datagram(p *pkt, now int64) {
	if s.udp.m == nil {
		s.udp.m = make(map[flowKey]*udpFlow)
	}
	key, _ := makeKey(p.src, p.dst, p.sport, p.dport)
	u := s.udp.last
	if u == nil || u.key != key {
		u = s.udp.m[key]
	}
	if u == nil {
		if len(s.udp.m) >= s.cfg.MaxFlows && s.udp.tail != nil {
			s.st.UDPFlowsTooMany++
			s.endUDP(s.udp.tail)
		}
		u = &udpFlow{key: key, first: now}
		u.addr[0] = netip.AddrPortFrom(p.src, p.sport)
		u.addr[1] = netip.AddrPortFrom(p.dst, p.dport)
		s.udp.m[key] = u
		s.udp.pushFront(u)
	} else if s.udp.head != u {
		s.udp.unlink(u)
		s.udp.pushFront(u)
	}
	s.udp.last = u
	u.last = now
	u.datagrams++
	side := 0
	if p.sport != u.addr[0].Port() || p.src != u.addr[0].Addr() {
		side = 1
	}
	b := p.payload
	if len(b) == 0 || !quic.IsLongHeader(b[0]) {
		if u.tr != nil {
			// A short header packet: 1-RTT data of a connection.
			s.quicCount(u, nil, len(b), now)
		}
		return
	}
	if u.tr == nil {
		h, err := quic.ParseLongHeader(b)
		switch {
		case err == nil && (h.Version.Known() || h.Version == quic.VersionNegotiation):
			u.kind = udpQUIC
			u.tr = &quic.Tracker{MaxCrypto: s.cfg.MaxBuffer}
		case len(b) >= 5 && quicLike(h.Version):
			u.kind, u.version = udpOpaqueV, h.Version
			return
		case err == nil && u.datagrams == 1 && len(b) >= quicMinDatagram && b[0]&0x40 != 0 &&
			len(h.DCID) <= quic.MaxCIDLen && len(h.SCID) <= quic.MaxCIDLen:
			// The flow's first datagram, as large as a client's first
			// Initial must be, with a long header: QUIC of a version not
			// known here, most likely.
			u.kind, u.version = udpUnknownV, h.Version
			return
		default:
			return
		}
	}
	if s.buffered >= s.cfg.MaxMemory {
		// Memory cap: the datagram is counted, not decrypted.
		s.st.QUICMemoryCap++
		u.capped = true
		s.quicCount(u, nil, len(b), now)
		return
	}
	r := u.tr.Datagram(side, b)
	if nb := u.tr.Buffered(); nb != u.buffered {
		s.buffered += nb - u.buffered
		u.buffered = nb
	}
	if r.Dropped != nil {
		s.emitQUIC(u, s.quicConnOf(u, r.Dropped, now), "evicted: QUIC connection table of the UDP flow full")
	}
	if r.Unsupported && u.version == 0 {
		u.version = r.Version
	}
	q := s.quicCount(u, r.Conn, len(b), now)
	if q != nil && r.Completed {
		// Keep the parsed hellos, not the messages twice over.
		q.hellos, q.notes = helloFlow(r.Conn)
		r.Conn.ReleaseHellos()
		if s.cfg.EmitEarly {
			s.emitQUIC(u, q, "")
		}
	}
}

// quicConnOf returns the sniffer's record of c, creating it.
func (s *Sniffer) quicConnOf(u *udpFlow, c *quic.Conn, now int64) *quicConn {
	for _, q := range u.conns {
		if q.c == c {
			return q
		}
	}
	q := &quicConn{c: c, first: now}
	u.conns = append(u.conns, q)
	return q
}

// quicCount adds a datagram to the connection it belongs to; with c nil
// (a short header, which names its connection only by an ID the capture
// may not have shown), to the flow's newest connection.
func (s *Sniffer) quicCount(u *udpFlow, c *quic.Conn, n int, now int64) *quicConn {
	var q *quicConn
	switch {
	case c != nil:
		q = s.quicConnOf(u, c, now)
	case len(u.conns) > 0:
		q = u.conns[len(u.conns)-1]
	default:
		return nil
	}
	if !q.emitted {
		q.last = now
		q.packets++
		q.bytes += uint64(n)
	}
	return q
}

// expireUDP ends the UDP flows idle for longer than the timeout.
func (s *Sniffer) expireUDP() {
	for u := s.udp.tail; u != nil && s.now-u.last > s.idle; u = s.udp.tail {
		s.endUDP(u)
	}
}

// endUDP emits a UDP flow's QUIC connections, counts the flow and drops it.
func (s *Sniffer) endUDP(u *udpFlow) {
	decoded := false
	for _, q := range u.conns {
		s.emitQUIC(u, q, "")
		decoded = true
	}
	s.st.UDPFlows++
	switch {
	case decoded:
		s.st.QUICFlowsDecoded++
	case u.kind == udpQUIC && u.version != 0:
		s.countOpaque(u.version)
	case u.kind == udpQUIC:
		// Long headers of a version we decrypt, but no client Initial
		// opened: the capture started after it, or lost it.
		s.st.QUICFlowsNoClientInitial++
	case u.kind == udpOpaqueV || u.kind == udpUnknownV:
		s.countOpaque(u.version)
	default:
		s.st.UDPFlowsOther++
	}
	s.buffered -= u.buffered
	s.udp.unlink(u)
	delete(s.udp.m, u.key)
	if s.udp.last == u {
		s.udp.last = nil
	}
}

// maxQUICVersions bounds Stats.QUICFlowsUndecryptable: versions beyond
// it are counted under 0.
const maxQUICVersions = 64

func (s *Sniffer) countOpaque(v quic.Version) {
	if s.st.QUICFlowsUndecryptable == nil {
		s.st.QUICFlowsUndecryptable = map[quic.Version]uint64{}
	}
	if _, ok := s.st.QUICFlowsUndecryptable[v]; !ok && len(s.st.QUICFlowsUndecryptable) >= maxQUICVersions {
		v = 0
	}
	s.st.QUICFlowsUndecryptable[v]++
}

// emitQUIC hands a QUIC connection's flow to the handler, once; note
// says why it ends early, if it does.
func (s *Sniffer) emitQUIC(u *udpFlow, q *quicConn, note string) {
	if q.emitted {
		return
	}
	q.emitted = true
	s.st.QUICConns++
	s.handler(buildQUICFlow(u, q, note))
}

// buildQUICFlow makes the Flow record of a QUIC connection.
func buildQUICFlow(u *udpFlow, q *quicConn, note string) *Flow {
	c := q.c
	f, notes := q.hellos, q.notes
	if f == nil {
		f, notes = helloFlow(c)
	}
	f.Client, f.Server = u.addr[c.ClientSide], u.addr[1-c.ClientSide]
	f.FirstSeen, f.LastSeen = unixTime(q.first), unixTime(q.last)
	f.Packets, f.Bytes = q.packets, q.bytes
	if cl := c.Close; cl != nil && f.Alert == nil {
		// RFC 9001 §4.8: a TLS alert travels as CRYPTO_ERROR 0x0100+alert.
		if a, ok := quic.CryptoErrorAlert(cl.ErrorCode); ok {
			f.Alert = &tls.Alert{Level: tls.AlertLevelFatal, Description: a}
			f.AlertFrom = map[int]string{quic.Client: "client", quic.Server: "server"}[c.CloseFrom]
		}
	}
	if u.capped && !c.Complete() {
		notes = append(notes, "buffer limit reached")
	}
	if note != "" {
		notes = append(notes, note)
	}
	f.Truncated = strings.Join(notes, "; ")
	return f
}

// helloFlow parses a QUIC connection's hellos into a Flow, and says what
// is missing.
func helloFlow(c *quic.Conn) (*Flow, []string) {
	f := &Flow{Protocol: "quic", QUICVersion: uint32(c.Version)}
	var notes []string
	if raw := c.ClientHello(); raw != nil {
		ch, err := tls.ParseClientHello(raw)
		if err != nil {
			notes = append(notes, "unparsable ClientHello in client Initial packets: "+trimErr(err))
		} else {
			// raw is the Tracker's copy, never written to and released
			// (ReleaseHellos) once the hellos are parsed: the flow takes it.
			fillClientHello(f, ch, raw, tls.JA4QUIC)
		}
	} else {
		notes = append(notes, cryptoNote(c, quic.Client, "ClientHello"))
	}
	f.HelloRetryRequest = c.HelloRetryRequest()
	switch raw := c.ServerHello(); {
	case c.Complete():
		sh, err := tls.ParseServerHello(raw)
		if err != nil {
			notes = append(notes, "unparsable ServerHello in server Initial packets: "+trimErr(err))
			break
		}
		f.Version = sh.NegotiatedVersion()
		f.Cipher = sh.CipherSuite
		f.JA3SFull, f.JA3S = ja3s(sh)
	case c.Close != nil && c.CloseFrom == quic.Server:
		// The server refused in an Initial packet: no ServerHello.
	case c.Retry && c.Initials[quic.Server] == 0:
		notes = append(notes, "no ServerHello: only a Retry from the server")
	case c.VersionNegotiation && c.Initials[quic.Server] == 0:
		notes = append(notes, "no ServerHello: the server asked for another QUIC version")
	default:
		notes = append(notes, cryptoNote(c, quic.Server, "ServerHello"))
	}
	for role, name := range []string{"client", "server"} {
		if err := c.Err(role); err != nil {
			notes = append(notes, fmt.Sprintf("malformed %s Initial packets: %s", name, strings.TrimPrefix(err.Error(), "quic: ")))
		}
	}
	return f, notes
}

// cryptoNote says why role's hello (what) is missing.
func cryptoNote(c *quic.Conn, role int, what string) string {
	name := [2]string{"client", "server"}[role]
	switch {
	case c.Gap(role):
		return fmt.Sprintf("gap in %s Initial CRYPTO data: %s incomplete", name, what)
	case c.CryptoLen(role) > 0:
		return fmt.Sprintf("%s incomplete: %d bytes of %s Initial CRYPTO data", what, c.CryptoLen(role), name)
	case c.Undecrypted[role] > 0:
		return fmt.Sprintf("no %s: %d %s Initial packets did not decrypt", what, c.Undecrypted[role], name)
	}
	return "no " + what
}

// flushUDP ends every UDP flow.
func (s *Sniffer) flushUDP() {
	for u := s.udp.tail; u != nil; u = s.udp.tail {
		s.endUDP(u)
	}
}
