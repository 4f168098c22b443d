package pcaptest

import (
	"fmt"
	"net/netip"
)

// Dir is the direction of a stream within a connection.
type Dir int

// Directions.
const (
	ClientToServer Dir = 0
	ServerToClient Dir = 1
)

func (d Dir) String() string {
	if d == ClientToServer {
		return "client→server"
	}
	return "server→client"
}

// Conn is one TCP connection.
type Conn struct {
	// Index numbers connections from 0 in the order of their first packet,
	// as tshark numbers tcp.stream. A SYN that reuses the 4-tuple of a
	// connection that already had a SYN or a FIN/RST starts a new one.
	Index int
	// Client sent the SYN (or received the SYN-ACK); when the handshake
	// was not captured, the source of the connection's first packet.
	Client, Server        netip.AddrPort
	FirstFrame, LastFrame int
	Streams               [2]*Stream // indexed by Dir
}

// Stream is one direction of a connection, reassembled.
type Stream struct {
	// Data is the byte stream from the initial sequence number up to the
	// first byte that was never captured.
	Data []byte
	// Frames[i] is the frame whose payload delivered Data[i]. When a byte
	// was captured more than once (retransmission, overlap), the first
	// copy in capture order wins, as in most TCP stacks.
	Frames []int
	// Ready[i] is the frame after which all of Data[:i+1] had been
	// captured: the largest frame number in Frames[:i+1]. For in-order
	// captures it equals Frames[i]; after reordering it is the frame that
	// filled the last hole. It is the frame tshark reports for a PDU that
	// ends at byte i (tshark names the frame of the last segment of a
	// reassembled PDU).
	Ready []int
	// Hole is true when bytes beyond len(Data) were captured but some byte
	// at or after len(Data) was not: the stream stops at the hole.
	Hole bool
	// Repeated counts payload bytes captured again after their first copy.
	Repeated int
	// Segments counts the data-carrying segments of this direction.
	Segments int
}

// Chunk is a run of stream bytes that became readable, in order, at the
// same frame.
type Chunk struct {
	Offset int
	Data   []byte
	Frame  int
}

// Chunks splits the stream into the runs of bytes that became readable at
// the same frame (runs of equal Ready values), in stream order. Feeding
// them one by one to a push decoder and attributing what it emits after
// each chunk to that chunk's frame reproduces tshark's frame attribution.
func (s *Stream) Chunks() []Chunk {
	var out []Chunk
	for i := 0; i < len(s.Data); {
		j := i + 1
		for j < len(s.Data) && s.Ready[j] == s.Ready[i] {
			j++
		}
		out = append(out, Chunk{Offset: i, Data: s.Data[i:j], Frame: s.Ready[i]})
		i = j
	}
	return out
}

// Capture is a decoded capture file.
type Capture struct {
	Path      string
	Packets   int
	TCP       int // TCP segments
	UDP       int // UDP datagrams (QUIC and the rest; not reassembled)
	Fragments int // IP fragments (not reassembled)
	Other     int // packets that are neither TCP nor UDP
	Conns     []*Conn
}

// maxStream bounds a stream's length, so that a wild sequence number cannot
// make the reassembler allocate gigabytes.
const maxStream = 64 << 20

type connKey struct{ a, b netip.AddrPort }

func keyOf(s Segment) connKey {
	if s.Src.Compare(s.Dst) < 0 {
		return connKey{s.Src, s.Dst}
	}
	return connKey{s.Dst, s.Src}
}

type dirState struct {
	syn  bool
	isn  uint32
	segs []Segment
}

type connState struct {
	conn   *Conn
	dirs   [2]dirState
	closed bool // a FIN or RST was seen
}

// ReadTCP reads a capture and reassembles its TCP connections.
func ReadTCP(path string) (*Capture, error) {
	pkts, err := ReadPackets(path)
	if err != nil {
		return nil, err
	}
	c, err := Assemble(pkts)
	if err != nil {
		return nil, fmt.Errorf("pcaptest: %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// Assemble decodes packets and reassembles their TCP connections. A packet
// that cannot be decoded is an error: captures used by tests are expected
// to be clean, and a silent skip would hide a decoding bug.
func Assemble(pkts []Packet) (*Capture, error) {
	c := &Capture{Packets: len(pkts)}
	table := make(map[connKey]*connState)
	var states []*connState
	for _, p := range pkts {
		seg, tr, err := DecodeTCP(p)
		if err != nil {
			return nil, err
		}
		switch tr {
		case TransportUDP:
			c.UDP++
			continue
		case TransportFragment:
			c.Fragments++
			continue
		case TransportOther:
			c.Other++
			continue
		}
		c.TCP++
		k := keyOf(seg)
		cs := table[k]
		if cs != nil && startsNewConn(cs, seg) {
			cs = nil
		}
		if cs == nil {
			client, server := seg.Src, seg.Dst
			if seg.SYN && seg.ACK {
				client, server = seg.Dst, seg.Src
			}
			cs = &connState{conn: &Conn{
				Index:      len(states),
				Client:     client,
				Server:     server,
				FirstFrame: seg.Frame,
			}}
			table[k] = cs
			states = append(states, cs)
		}
		cs.conn.LastFrame = seg.Frame
		d := ClientToServer
		if seg.Src != cs.conn.Client {
			d = ServerToClient
		}
		ds := &cs.dirs[d]
		if seg.SYN {
			ds.syn, ds.isn = true, seg.Seq
			seg.Seq++ // data in a SYN starts after the SYN's sequence number
		}
		if seg.FIN || seg.RST {
			cs.closed = true
		}
		if len(seg.Payload) > 0 && !seg.RST {
			ds.segs = append(ds.segs, seg)
		}
	}
	for _, cs := range states {
		for d := range cs.dirs {
			cs.conn.Streams[d] = reassemble(&cs.dirs[d])
		}
		c.Conns = append(c.Conns, cs.conn)
	}
	return c, nil
}

// startsNewConn reports whether seg, which matches the 4-tuple of cs, opens
// a new connection: a SYN without ACK that is not a retransmission of the
// SYN already seen, arriving after a handshake or a close.
func startsNewConn(cs *connState, seg Segment) bool {
	if !seg.SYN || seg.ACK {
		return false
	}
	if seg.Src == cs.conn.Client {
		c2s := cs.dirs[ClientToServer]
		if c2s.syn && c2s.isn == seg.Seq {
			return false // retransmitted SYN
		}
		return c2s.syn || cs.closed
	}
	// The former server connects back from the same port pair.
	return cs.closed
}

func reassemble(ds *dirState) *Stream {
	s := &Stream{Segments: len(ds.segs)}
	if len(ds.segs) == 0 {
		return s
	}
	base := ds.isn + 1
	if !ds.syn {
		// No SYN: the stream starts at the lowest sequence number seen,
		// compared modulo 2^32 relative to the first segment.
		first := ds.segs[0].Seq
		var lowest int32
		for _, sg := range ds.segs {
			if d := int32(sg.Seq - first); d < lowest {
				lowest = d
			}
		}
		base = first + uint32(lowest)
	}
	type placed struct {
		off int
		sg  *Segment
	}
	var ps []placed
	end := 0
	for i := range ds.segs {
		sg := &ds.segs[i]
		off := int64(int32(sg.Seq - base))
		if off < 0 || off+int64(len(sg.Payload)) > maxStream {
			// Before the stream start (keep-alive probes carry one byte
			// at ISN-1) or absurdly far: not part of the stream.
			continue
		}
		ps = append(ps, placed{int(off), sg})
		end = max(end, int(off)+len(sg.Payload))
	}
	data := make([]byte, end)
	frames := make([]int, end) // 0: not captured (frame numbers start at 1)
	for _, p := range ps {
		for i, b := range p.sg.Payload {
			if frames[p.off+i] != 0 {
				s.Repeated++
				continue
			}
			data[p.off+i] = b
			frames[p.off+i] = p.sg.Frame
		}
	}
	n := 0
	for n < end && frames[n] != 0 {
		n++
	}
	s.Hole = n < end
	s.Data, s.Frames = data[:n:n], frames[:n:n]
	s.Ready = make([]int, n)
	ready := 0
	for i, f := range s.Frames {
		ready = max(ready, f)
		s.Ready[i] = ready
	}
	return s
}
