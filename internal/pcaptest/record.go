package pcaptest

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// CaptureWriter writes TCP connections as Ethernet/IPv4 (or IPv6)
// frames into a pcap file, with the times a clock gives: a capture of real
// traffic made without a capture privilege, at any simulated date. It is
// safe for concurrent use.
type CaptureWriter struct {
	mu    sync.Mutex
	w     *pcapgo.Writer
	clock func() time.Time
	err   error
}

// NewCaptureWriter starts a pcap (Ethernet link type) on w; clock gives
// each frame's time.
func NewCaptureWriter(w io.Writer, clock func() time.Time) (*CaptureWriter, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &CaptureWriter{w: pw, clock: clock}, nil
}

// Err returns the first write error.
func (cw *CaptureWriter) Err() error {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return cw.err
}

// tcpConn is one recorded connection's state: the next sequence number
// of each direction.
type tcpConn struct {
	cw             *CaptureWriter
	client, server netip.AddrPort
	seq            [2]uint32 // 0: client → server, 1: server → client
}

const mss = 1400

// frame writes one segment of direction dir.
func (c *tcpConn) frame(dir int, flags func(*layers.TCP), payload []byte) {
	c.cw.mu.Lock()
	defer c.cw.mu.Unlock()
	if c.cw.err != nil {
		return
	}
	src, dst := c.client, c.server
	if dir == 1 {
		src, dst = dst, src
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: c.seq[dir], Ack: c.seq[1-dir], ACK: true, Window: 65535}
	flags(tcp)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	var ip gopacket.SerializableLayer
	if src.Addr().Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip4)
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		tcp.SetNetworkLayerForChecksum(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload))
	if err == nil {
		data := buf.Bytes()
		err = c.cw.w.WritePacket(gopacket.CaptureInfo{Timestamp: c.cw.clock(), CaptureLength: len(data), Length: len(data)}, data)
	}
	if err != nil {
		c.cw.err = err
	}
	n := uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		n++
	}
	c.seq[dir] += n
}

// Piece is one direction's bytes of a connection, as read at once.
type Piece struct {
	FromServer bool
	Data       []byte
}

// Transcript is what one relayed connection carried, in order.
type Transcript struct {
	Client, Server netip.AddrPort
	Pieces         []Piece
}

// WriteTranscript writes a connection carrying tr's pieces between
// client and server: handshake, data, FINs, with the writer's clock; isn
// is the client's initial sequence number.
func (cw *CaptureWriter) WriteTranscript(tr *Transcript, client, server netip.AddrPort, isn uint32) {
	tc := &tcpConn{cw: cw, client: client, server: server, seq: [2]uint32{isn, isn + 1<<19}}
	tc.frame(0, func(t *layers.TCP) { t.SYN, t.ACK = true, false }, nil)
	tc.frame(1, func(t *layers.TCP) { t.SYN = true }, nil)
	tc.frame(0, func(*layers.TCP) {}, nil)
	for _, sg := range tr.Pieces {
		dir := 0
		if sg.FromServer {
			dir = 1
		}
		for off := 0; off < len(sg.Data); off += mss {
			tc.frame(dir, func(t *layers.TCP) { t.PSH = true }, sg.Data[off:min(len(sg.Data), off+mss)])
		}
	}
	tc.frame(0, func(t *layers.TCP) { t.FIN = true }, nil)
	tc.frame(1, func(t *layers.TCP) { t.FIN = true }, nil)
	tc.frame(0, func(*layers.TCP) {}, nil)
}

// Recorder is a TCP relay on a loopback port that records what it relays
// into a CaptureWriter, as if captured between the client and the server:
// the frames carry the client's own address and port and the server's
// address (ServerAs). It dials the backend from the client's address, so
// the server (and its logs) see the real client too.
type Recorder struct {
	Addr     string         // where clients connect
	ServerAs netip.AddrPort // the server's address in the frames

	backend string
	cw      *CaptureWriter
	ln      net.Listener
	wg      sync.WaitGroup
	mu      sync.Mutex
	isn     uint32
	trs     []*Transcript
}

// Transcripts returns what the connections relayed so far carried, in
// the order they ended.
func (r *Recorder) Transcripts() []*Transcript {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.trs)
}

// Record starts a Recorder for backend on a free 127.0.0.1 port; frames
// name the server serverAs (the zero value: the backend's address).
func Record(cw *CaptureWriter, backend string, serverAs netip.AddrPort) (*Recorder, error) {
	if !serverAs.IsValid() {
		ap, err := netip.ParseAddrPort(backend)
		if err != nil {
			return nil, err
		}
		serverAs = ap
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Recorder{Addr: ln.Addr().String(), ServerAs: serverAs, backend: backend, cw: cw, ln: ln, isn: 1000}
	r.wg.Add(1)
	go r.serve()
	return r, nil
}

// Close stops accepting and waits for the relayed connections to end.
func (r *Recorder) Close() error {
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

func (r *Recorder) serve() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.relay(c)
		}()
	}
}

func (r *Recorder) relay(c net.Conn) {
	defer c.Close()
	client := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: client.Addr().AsSlice()}}
	s, err := d.Dial("tcp", r.backend)
	if err != nil {
		return
	}
	defer s.Close()
	r.mu.Lock()
	isn := r.isn
	r.isn += 1 << 20
	r.mu.Unlock()
	tc := &tcpConn{cw: r.cw, client: client, server: r.ServerAs, seq: [2]uint32{isn, isn + 1<<19}}
	tr := &Transcript{Client: client, Server: r.ServerAs}
	var trMu sync.Mutex
	defer func() {
		r.mu.Lock()
		r.trs = append(r.trs, tr)
		r.mu.Unlock()
	}()
	tc.frame(0, func(t *layers.TCP) { t.SYN, t.ACK = true, false }, nil)
	tc.frame(1, func(t *layers.TCP) { t.SYN = true }, nil)
	tc.frame(0, func(*layers.TCP) {}, nil)

	var (
		wg   sync.WaitGroup
		once sync.Once
	)
	pipe := func(dir int, dst, src net.Conn) {
		defer wg.Done()
		// Once one direction ends, the other gets a few seconds more.
		defer once.Do(func() {
			limit := time.Now().Add(5 * time.Second)
			c.SetDeadline(limit)
			s.SetDeadline(limit)
		})
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				trMu.Lock()
				tr.Pieces = append(tr.Pieces, Piece{FromServer: dir == 1, Data: slices.Clone(buf[:n])})
				trMu.Unlock()
			}
			for off := 0; off < n; off += mss {
				end := min(n, off+mss)
				tc.frame(dir, func(t *layers.TCP) { t.PSH = true }, buf[off:end])
			}
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					err = werr
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					tc.frame(dir, func(t *layers.TCP) { t.RST = true }, nil)
				} else {
					tc.frame(dir, func(t *layers.TCP) { t.FIN = true }, nil)
				}
				// Half-close toward dst, so the other direction can end.
				if cw, ok := dst.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
				return
			}
		}
	}
	wg.Add(2)
	go pipe(0, s, c)
	go pipe(1, c, s)
	wg.Wait()
}
