package quic

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Roles of the two ends of a connection.
const (
	Client = 0
	Server = 1
)

// DefaultMaxCrypto is the CRYPTO data a Tracker keeps per direction of a
// connection when given no cap: room for ClientHellos far larger than
// browsers send (a post-quantum key share and a pre_shared_key make about
// 2 KiB).
const DefaultMaxCrypto = 64 << 10

// DefaultMaxConns is how many connections a Tracker follows at once when
// given no cap.
const DefaultMaxConns = 16

// Conn is what a Tracker learnt about one QUIC connection from its
// Initial packets.
type Conn struct {
	// ClientSide is the side, as numbered by the caller of
	// Tracker.Datagram, that sent the client's Initial packets.
	ClientSide int
	// Version is the version of the client's first Initial packet.
	// ServerVersion is that of the server's first decrypted Initial, 0
	// until one came; it differs after compatible version negotiation
	// (RFC 9369 §4.1).
	Version, ServerVersion Version
	// ODCID is the Destination Connection ID of the client's first
	// Initial; ClientCID and ServerCID are the Source Connection IDs the
	// client and the server chose (ServerCID nil until the server's
	// first Initial was decrypted).
	ODCID, ClientCID, ServerCID []byte
	// Retry is true when the server sent a Retry packet;
	// VersionNegotiation when it sent a Version Negotiation packet.
	Retry, VersionNegotiation bool
	// Packets counts the long header packets of each role (Client,
	// Server); Initials the Initial packets decrypted; Undecrypted the
	// Initial packets that matched the connection's IDs but did not
	// decrypt.
	Packets, Initials, Undecrypted [2]int
	// Close is set when an Initial carried a CONNECTION_CLOSE frame
	// (RFC 9000 §19.19); CloseFrom is the role that sent it.
	Close     *Frame
	CloseFrom int

	keyDCID   []byte   // the DCID the Initial keys derive from
	learnt    [][]byte // more DCIDs of the client's packets, learnt from their keys
	retrySCID []byte
	keys      []*InitialKeys
	largest   [2]int64
	streams   [2]cryptoStream
	parsed    [2]int
	err       [2]error
	ch, sh    []byte
	hrr       bool
	complete  bool
}

// ClientHello returns the client's first ClientHello handshake message,
// 4-byte header included, or nil until it is complete. A second
// ClientHello, sent after a HelloRetryRequest, is not kept.
func (c *Conn) ClientHello() []byte { return c.ch }

// ServerHello returns the server's ServerHello handshake message, 4-byte
// header included: the one after a HelloRetryRequest when there was one,
// else the HelloRetryRequest until the ServerHello is complete; nil until
// either is.
func (c *Conn) ServerHello() []byte { return c.sh }

// HelloRetryRequest reports whether the server sent a HelloRetryRequest.
func (c *Conn) HelloRetryRequest() bool { return c.hrr }

// Complete reports whether both hellos are in: the ClientHello and a
// ServerHello that is not a HelloRetryRequest. A complete connection's
// packets are counted but no longer decrypted.
func (c *Conn) Complete() bool { return c.complete }

// ReleaseHellos frees the hello messages of a complete connection, once
// the caller has taken what it needs: ClientHello and ServerHello return
// nil from then on. It does nothing before the connection is complete.
func (c *Conn) ReleaseHellos() {
	if c.complete {
		c.ch, c.sh = nil, nil
	}
}

// Gap reports whether CRYPTO data of role arrived beyond bytes that did
// not: a packet was lost (from the capture) before the hello was complete.
func (c *Conn) Gap(role int) bool { return c.streams[role&1].gap() }

// Err returns the first error met in role's Initial packets: a frame that
// does not parse, CRYPTO data over the cap, a handshake message that is
// not a hello.
func (c *Conn) Err(role int) error { return c.err[role&1] }

// CryptoLen returns how many contiguous CRYPTO bytes of role were
// received.
func (c *Conn) CryptoLen(role int) int { return len(c.streams[role&1].contiguous()) }

// keysFor returns the connection's Initial keys for version v, derived on
// first use.
func (c *Conn) keysFor(v Version) (*InitialKeys, error) {
	for _, k := range c.keys {
		if k.Version == v {
			return k, nil
		}
	}
	k, err := NewInitialKeys(v, c.keyDCID)
	if err != nil {
		return nil, err
	}
	c.keys = append(c.keys, k)
	return k, nil
}

func (c *Conn) setErr(role int, err error) {
	if c.err[role] == nil {
		c.err[role] = err
	}
}

// crypto handles the decrypted payload of an Initial packet of role.
func (c *Conn) crypto(role int, payload []byte) {
	err := ParseFrames(payload, func(f Frame) bool {
		switch f.Type {
		case FrameCrypto:
			if err := c.streams[role].add(f.Offset, f.Data); err != nil {
				c.setErr(role, err)
			}
		case FrameConnectionClose, FrameApplicationClose:
			if c.Close == nil {
				cl := f
				cl.Reason = bytes.Clone(f.Reason)
				c.Close, c.CloseFrom = &cl, role
			}
		}
		return true
	})
	if err != nil {
		c.setErr(role, err)
	}
	c.messages(role)
}

// messages takes the complete handshake messages (RFC 8446 §4: msg_type,
// uint24 length, body) off the contiguous CRYPTO data of role.
func (c *Conn) messages(role int) {
	data := c.streams[role].contiguous()
	for c.err[role] == nil {
		s := cryptobyte.String(data[c.parsed[role]:])
		var typ uint8
		var body []byte
		var n uint32
		if !s.ReadUint8(&typ) || !s.ReadUint24(&n) || !s.ReadBytes(&body, int(n)) {
			return
		}
		msg := data[c.parsed[role] : c.parsed[role]+4+int(n)]
		c.parsed[role] += len(msg)
		switch {
		case role == Client && tls.HandshakeType(typ) == tls.TypeClientHello:
			if c.ch == nil {
				c.ch = bytes.Clone(msg)
			}
		case role == Server && tls.HandshakeType(typ) == tls.TypeServerHello:
			if c.sh == nil || bytes.Equal(shRandom(c.sh), []byte(tls.HelloRetryRequestRandom)) {
				c.sh = bytes.Clone(msg)
				c.hrr = c.hrr || bytes.Equal(shRandom(msg), []byte(tls.HelloRetryRequestRandom))
			}
		default:
			// RFC 9001 §4: Initial packets carry only the ClientHello and
			// the ServerHello (and HelloRetryRequest).
			c.setErr(role, perr("CRYPTO", "handshake message "+tls.HandshakeType(typ).String()+" in an Initial packet", ErrMalformed))
		}
	}
}

// isComplete reports whether both hellos are in: the ClientHello and a
// ServerHello that is not a HelloRetryRequest.
func (c *Conn) isComplete() bool {
	return c.ch != nil && c.sh != nil && !bytes.Equal(shRandom(c.sh), []byte(tls.HelloRetryRequestRandom))
}

// shRandom returns the random of a ServerHello message (RFC 8446 §4.1.3:
// after the 4-byte header and the 2-byte legacy_version), or nil.
func shRandom(msg []byte) []byte {
	s := cryptobyte.String(msg)
	var random []byte
	if !s.Skip(4+2) || !s.ReadBytes(&random, 32) {
		return nil
	}
	return random
}

// release frees the reassembly buffers of a complete connection. Its
// keys go once the client sends a Handshake packet (Datagram).
func (c *Conn) release() {
	c.streams[Client].release()
	c.streams[Server].release()
}

// maxLearnt bounds Conn.learnt.
const maxLearnt = 4

// learn records dcid as one of the client's destination IDs.
func (c *Conn) learn(dcid []byte) {
	for _, l := range c.learnt {
		if bytes.Equal(l, dcid) {
			return
		}
	}
	if len(c.learnt) < maxLearnt {
		c.learnt = append(c.learnt, bytes.Clone(dcid))
	}
}

// Tracker follows the QUIC connections carried by one UDP flow (one pair
// of addresses and ports, whose two ends the caller numbers 0 and 1). A
// client's Initial packet starts a connection; the connection IDs in
// later packets tie them to it (RFC 9000 §5.1): the client addresses the
// server by the original Destination Connection ID and then by the one
// the server chose, the server addresses the client by the client's
// Source Connection ID. A zero Tracker is ready to use.
type Tracker struct {
	// MaxCrypto caps the CRYPTO data kept per direction of a
	// connection (0: DefaultMaxCrypto); MaxConns the connections followed
	// at once (0: DefaultMaxConns).
	MaxCrypto, MaxConns int

	conns []*Conn
	buf   []byte // the decryption buffer, from bufPool during Datagram
}

// Result is what one datagram brought.
type Result struct {
	// Conn is the connection the datagram's packets belong to, nil when
	// none could be tied to one.
	Conn *Conn
	// Completed is true when this datagram made Conn complete.
	Completed bool
	// Dropped is a connection the Tracker stopped following to make room
	// for a new one (the oldest), nil when none was.
	Dropped *Conn
	// Long counts the datagram's long header packets; Version is the
	// version of the first one.
	Long    int
	Version Version
	// Unsupported is true when a long header is of a version whose
	// Initial packets the package cannot decrypt (Version.Known false).
	Unsupported bool
	// Undecryptable counts Initial packets of a known version that no key
	// opened and that started no connection: the client's first Initial
	// was not seen (capture started later, or lost), or the packet is
	// corrupt.
	Undecryptable int
	// Err is the first malformed header in the datagram, nil when there
	// was none.
	Err error
}

// Buffered returns the bytes the Tracker holds for reassembly, all
// connections.
func (t *Tracker) Buffered() int {
	n := 0
	for _, c := range t.conns {
		n += cap(c.streams[Client].buf) + cap(c.streams[Server].buf)
	}
	return n
}

// Conns returns the connections the Tracker follows, oldest first.
func (t *Tracker) Conns() []*Conn { return t.conns }

// Datagram reads one UDP datagram payload sent by side (0 or 1): each
// coalesced long header packet in it (RFC 9000 §12.2) up to the first
// short header packet, which cannot be read.
func (t *Tracker) Datagram(side int, b []byte) Result {
	var r Result
	side &= 1
	var done *Conn // a complete connection whose client sent a Handshake packet
	t.buf = getBuf()
	defer func() {
		if done != nil {
			// RFC 9001 §4.9.1: a client discards its Initial keys when
			// it first sends a Handshake packet: no Initial of this
			// connection comes after this datagram.
			done.keys = nil
		}
		// The decryption buffer goes back to the pool after every
		// datagram: nothing refers to its bytes once it is handled.
		putBuf(t.buf)
		t.buf = nil
	}()
	for len(b) > 0 && IsLongHeader(b[0]) {
		h, err := ParseLongHeader(b)
		if err != nil {
			r.Err = err
			return r
		}
		if r.Long == 0 {
			r.Version = h.Version
		}
		r.Long++
		pkt := b[:h.Len]
		b = b[h.Len:]
		switch h.Type {
		case PacketUnknown:
			r.Unsupported = true
		case PacketVersionNegotiation:
			if c, role := t.lookup(side, h.DCID); c != nil && role == Server {
				c.VersionNegotiation = true
				c.Packets[Server]++
				r.Conn = c
			}
		case PacketRetry:
			if c, role := t.lookup(side, h.DCID); c != nil && role == Server {
				c.Retry = true
				c.retrySCID = bytes.Clone(h.SCID)
				c.Packets[Server]++
				r.Conn = c
			}
		case PacketInitial:
			t.initial(side, &h, pkt, &r)
		default:
			c, role := t.lookup(side, h.DCID)
			if c == nil && r.Conn != nil {
				// RFC 9000 §12.2: the packets coalesced in one datagram
				// have the same connection ID, so the same connection.
				c, role = r.Conn, Client
				if side != c.ClientSide {
					role = Server
				}
			}
			if c == nil {
				break
			}
			c.Packets[role]++
			r.Conn = c
			if h.Type == PacketHandshake && role == Client && c.complete {
				done = c
			}
		}
	}
	return r
}

// lookup finds the connection a packet from side with destination dcid
// belongs to, newest first, and the sender's role in it.
func (t *Tracker) lookup(side int, dcid []byte) (*Conn, int) {
	for i := len(t.conns) - 1; i >= 0; i-- {
		c := t.conns[i]
		if side == c.ClientSide {
			if bytes.Equal(dcid, c.ODCID) || bytes.Equal(dcid, c.keyDCID) ||
				(c.ServerCID != nil && bytes.Equal(dcid, c.ServerCID)) ||
				(c.retrySCID != nil && bytes.Equal(dcid, c.retrySCID)) {
				return c, Client
			}
			for _, l := range c.learnt {
				if bytes.Equal(dcid, l) {
					return c, Client
				}
			}
		} else if bytes.Equal(dcid, c.ClientCID) {
			return c, Server
		}
	}
	return nil, 0
}

// initial handles one Initial packet.
func (t *Tracker) initial(side int, h *Header, pkt []byte, r *Result) {
	c, role := t.lookup(side, h.DCID)
	if c != nil {
		r.Conn = c
		c.Packets[role]++
		if c.Complete() {
			return
		}
		if k, err := c.keysFor(h.Version); err == nil && t.open(c, role, k, h, pkt) {
			if role == Server && c.ServerCID == nil {
				c.ServerCID = bytes.Clone(h.SCID)
			}
			if role == Server && c.ServerVersion == 0 {
				c.ServerVersion = h.Version
			}
			t.done(c, r)
			return
		}
		if role == Server || !c.Retry || !bytes.Equal(h.DCID, c.retrySCID) {
			c.Undecrypted[role]++
			return
		}
		// After a Retry the client's Initial keys derive from the Retry's
		// Source Connection ID, which the client now sends as its
		// destination (RFC 9001 §5.2).
		k, err := NewInitialKeys(h.Version, h.DCID)
		if err != nil || !t.open(c, Client, k, h, pkt) {
			c.Undecrypted[role]++
			return
		}
		c.keyDCID, c.keys = bytes.Clone(h.DCID), []*InitialKeys{k}
		t.done(c, r)
		return
	}
	// A client's Initial that starts a connection: its keys derive from
	// its own Destination Connection ID.
	k, err := NewInitialKeys(h.Version, h.DCID)
	if err != nil {
		r.Unsupported = true
		return
	}
	limit := t.MaxCrypto
	if limit <= 0 {
		limit = DefaultMaxCrypto
	}
	nc := &Conn{ClientSide: side, Version: h.Version, largest: [2]int64{-1, -1}, keys: []*InitialKeys{k}}
	nc.streams[Client].max, nc.streams[Server].max = limit, limit
	if !t.open(nc, Client, k, h, pkt) {
		// Not a new connection: an Initial of a known one addressed by a
		// connection ID the capture did not show being chosen (one the
		// server issued in an encrypted NEW_CONNECTION_ID frame, say).
		// Its keys tell.
		if c := t.byKeys(side, h, pkt, r); c != nil {
			return
		}
		r.Undecryptable++
		return
	}
	nc.ODCID, nc.ClientCID = bytes.Clone(h.DCID), bytes.Clone(h.SCID)
	nc.keyDCID = nc.ODCID
	nc.Packets[Client]++
	r.Conn = nc
	r.Dropped = t.add(nc)
	t.done(nc, r)
}

// byKeys finds the connection whose Initial keys open a packet from side
// that no connection ID tied to one, newest first, and hands the packet
// to it.
func (t *Tracker) byKeys(side int, h *Header, pkt []byte, r *Result) *Conn {
	complete := 0
	for i := len(t.conns) - 1; i >= 0; i-- {
		c := t.conns[i]
		role := Client
		if side != c.ClientSide {
			role = Server
		}
		if c.Complete() {
			// Its keys, or once released, keys derived again but not
			// kept, for the two newest complete connections only
			// (deriving costs microseconds; a flood of such packets must
			// not cost more).
			var k *InitialKeys
			var err error
			if c.keys != nil {
				k, err = c.keysFor(h.Version)
			} else {
				if complete++; complete > 2 {
					continue
				}
				k, err = NewInitialKeys(h.Version, c.keyDCID)
			}
			if err != nil {
				continue
			}
			keys := &k.Client
			if role == Server {
				keys = &k.Server
			}
			if _, t.buf, err = keys.Open(t.buf, pkt, h, c.largest[role]); err != nil {
				continue
			}
			if role == Client {
				c.learn(h.DCID)
			}
			c.Packets[role]++
			r.Conn = c
			return c
		}
		k, err := c.keysFor(h.Version)
		if err != nil {
			continue
		}
		if t.open(c, role, k, h, pkt) {
			if role == Client {
				c.learn(h.DCID)
			}
			c.Packets[role]++
			r.Conn = c
			t.done(c, r)
			return c
		}
	}
	return nil
}

// open decrypts an Initial packet of role with k and feeds its frames to
// c; it reports whether the packet decrypted.
func (t *Tracker) open(c *Conn, role int, k *InitialKeys, h *Header, pkt []byte) bool {
	keys := &k.Client
	if role == Server {
		keys = &k.Server
	}
	op, buf, err := keys.Open(t.buf, pkt, h, c.largest[role])
	t.buf = buf
	if err != nil {
		return false
	}
	c.Initials[role]++
	c.largest[role] = max(c.largest[role], int64(op.PN))
	c.crypto(role, op.Payload)
	return true
}

// done marks a connection that just became complete.
func (t *Tracker) done(c *Conn, r *Result) {
	if c.complete || !c.isComplete() {
		return
	}
	c.complete = true
	r.Completed = true
	c.release()
}

// add appends c, dropping the oldest connection when the Tracker is full;
// it returns the dropped one.
func (t *Tracker) add(c *Conn) *Conn {
	n := t.MaxConns
	if n <= 0 {
		n = DefaultMaxConns
	}
	var dropped *Conn
	if len(t.conns) >= n {
		dropped = t.conns[0]
		copy(t.conns, t.conns[1:])
		t.conns = t.conns[:len(t.conns)-1]
	}
	t.conns = append(t.conns, c)
	return dropped
}
