package sniff

import (
	"net/netip"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Modes of a connection.
const (
	modeDetect = iota // buffering the prefixes, looking for TLS or STARTTLS
	modeSearch        // no recogniser claimed it: searching for a hello (search.go)
	modeTLS           // TLS decoders fed from the TLS start
	modeDone          // hellos parsed (or not TLS): counting only
	modeHTTP          // reading a plaintext HTTP client's request heads (Config.HTTPForwarded)
)

// afterHelloBudget is how many bytes a direction may deliver after the
// ServerHello while the sniffer waits for a client alert or the client's
// change_cipher_spec; clientOnlyBudget how many the client may send after
// its hello while the server stays silent.
const (
	afterHelloBudget = 16 << 10
	clientOnlyBudget = 4 << 10
)

// conn is the state of one TCP connection in the flow table.
type conn struct {
	key        flowKey
	prev, next *conn // LRU list, most recently seen first

	addr      [2]netip.AddrPort // side 0 sent the first packet seen
	first     int64             // packet times, Unix ns
	last      int64
	packets   uint64
	bytes     uint64
	dir       [2]half
	mode      int
	client    int  // side that is the client, -1 unknown
	clientWhy int8 // how client was decided: 0 guess, 1 SYN, 2 hello
	synSeen   bool // a SYN (without ACK) was seen
	isn       uint32
	rst       bool
	emitted   bool

	flow      *Flow // built as hellos are parsed; nil until TLS or a protocol
	tlsSeen   bool
	protocol  string
	starttls  bool
	alertSide int
	notes     []string
	shDone    bool // a ServerHello (not HRR) or SSLv2 SERVER-HELLO was parsed
	chEnd     int  // client bytes delivered when its hello was parsed
	shEnd     [2]int
	clientCCS bool

	lost        int        // lostSnaplen … : bytes a hello needed were not seen
	afterPrefix bool       // TLS found after an unknown plaintext prefix
	pfx         *[2][]byte // each side's first bytes, once searched (search.go)
	target      string     // a proxy tunnel's destination (Recognition.Target)

	proxyChecked bool           // the streams' starts were checked for a PROXY protocol header
	proxy        *ProxyHeader   // the header, when one named a client
	proxySource  netip.AddrPort // its source: the client behind the balancer

	http *httpScan // modeHTTP: the client's requests
}

// decoderState is one direction's TLS decoder, created on demand.
type decoderState struct {
	d *tls.Decoder
}

func (ds *decoderState) release() { ds.d = nil }

func (c *conn) note(s string) {
	for _, n := range c.notes {
		if n == s {
			return
		}
	}
	c.notes = append(c.notes, s)
}

// sideName builds "gap in client stream"-style notes.
func (s *Sniffer) sideName(c *conn, side int, pre, post string) string {
	name := "first-speaker"
	switch {
	case c.client == side:
		name = "client"
	case c.client >= 0:
		name = "server"
	case side == 1:
		name = "second-speaker"
	}
	return pre + name + post
}

func (c *conn) flowRec() *Flow {
	if c.flow == nil {
		c.flow = &Flow{}
	}
	return c.flow
}

// setClient records which side is the client.
func (c *conn) setClient(side int, why int8) {
	if c.client >= 0 && c.clientWhy >= why {
		return
	}
	c.client, c.clientWhy = side, why
}

// checkDone stops buffering once the hellos are parsed, or once it is
// clear they will not be.
func (c *conn) checkDone(s *Sniffer) {
	if c.mode == modeDone {
		return
	}
	if c.dir[0].done && c.dir[1].done {
		c.finish(s)
		return
	}
	f := c.flow
	if f == nil {
		return
	}
	if c.shDone {
		// TLS 1.3, a draft (0x7FNN) or any newer code point: the rest
		// is encrypted.
		if f.Version >= tls.VersionTLS13 || c.clientCCS {
			c.finish(s)
			return
		}
		for side := 0; side < 2; side++ {
			if c.dir[side].delivered-c.shEnd[side] > afterHelloBudget {
				c.finish(s)
				return
			}
		}
		return
	}
	if f.ClientHello != nil && c.client >= 0 && c.dir[1-c.client].delivered == 0 &&
		c.dir[c.client].delivered-c.chEnd > clientOnlyBudget {
		c.note("no ServerHello: server silent")
		c.finish(s)
	}
}

// finish stops all buffering of the connection.
func (c *conn) finish(s *Sniffer) {
	if c.mode == modeDone {
		return
	}
	c.mode = modeDone
	if c.http != nil && len(c.http.carry) > 0 {
		s.buffered -= len(c.http.carry)
		c.http.carry = nil
	}
	for side := 0; side < 2; side++ {
		if !c.dir[side].done {
			c.stopSide(s, side)
		}
	}
	if s.cfg.EmitEarly && c.reportable(s) {
		s.emit(c)
	}
}

// reportable reports whether the connection is handed to the handler.
func (c *conn) reportable(s *Sniffer) bool {
	return c.tlsSeen || c.protocol != "" || c.proxy != nil || s.cfg.AllFlows
}
