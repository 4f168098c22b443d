package sniff

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Modes of a connection.
const (
	modeDetect = iota // buffering the prefixes, looking for TLS or STARTTLS
	modeTLS           // TLS decoders fed from the TLS start
	modeDone          // hellos parsed (or not TLS): counting only
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

// detect looks at the buffered prefixes: TLS from the first byte, or a
// plaintext protocol that upgrades.
func (c *conn) detect(s *Sniffer) {
	a, b := c.dir[0].buf, c.dir[1].buf
	if tls.LooksLikeTLS(a) || tls.LooksLikeSSLv2(a) || tls.LooksLikeTLS(b) || tls.LooksLikeSSLv2(b) {
		c.startTLS(s, 0, 0, "")
		return
	}
	if (len(a) > 0 || len(b) > 0) && tls.MaybeTLS(a) && tls.MaybeTLS(b) {
		// Both could still turn into TLS: wait for more bytes.
		return
	}
	// Recognisers, in the known orientation, else both.
	orients := [2]int{0, 1}
	n := 2
	if c.client >= 0 && c.clientWhy > 0 {
		orients[0], n = c.client, 1
	} else if c.client == 1 {
		orients = [2]int{1, 0}
	}
	all := true // every recogniser said NotThis
	for _, r := range s.cfg.Recognizers {
		for i := 0; i < n; i++ {
			cl := orients[i]
			rec := r(c.dir[cl].buf, c.dir[1-cl].buf)
			switch rec.State {
			case protocols.Upgraded:
				c.setClient(cl, 1)
				c.protocol, c.starttls = rec.Protocol, true
				off := [2]int{}
				off[cl], off[1-cl] = rec.ClientOffset, rec.ServerOffset
				c.startTLS(s, off[0], off[1], rec.Protocol)
				return
			case protocols.Plaintext:
				c.protocol = rec.Protocol
				all = false
				if c.clientWhy == 0 {
					c.setClient(cl, 0)
				}
			case protocols.NeedMore:
				all = false
			}
		}
	}
	if all {
		c.finish(s)
	}
}

// startTLS switches to TLS decoding at the given offsets of the buffered
// prefixes.
func (c *conn) startTLS(s *Sniffer, off0, off1 int, proto string) {
	c.mode = modeTLS
	c.tlsSeen = true
	c.flowRec()
	offs := [2]int{off0, off1}
	for side := 0; side < 2; side++ {
		h := &c.dir[side]
		buf := h.buf
		s.buffered -= len(buf)
		h.buf = nil
		if h.done {
			continue
		}
		if offs[side] < 0 || offs[side] > len(buf) {
			offs[side] = len(buf)
		}
		if p := buf[offs[side]:]; len(p) > 0 {
			c.feed(s, side, p)
		}
		if c.mode != modeTLS {
			return
		}
	}
}

// feed writes bytes to a direction's TLS decoder and handles its events.
func (c *conn) feed(s *Sniffer, side int, p []byte) {
	h := &c.dir[side]
	if h.done {
		return
	}
	if h.dec.d == nil {
		h.dec.d = tls.NewDecoder(s.cfg.MaxBuffer)
	}
	_, werr := h.dec.d.Write(p)
	for {
		ev, err := h.dec.d.Next()
		if err != nil {
			if !errors.Is(err, tls.ErrNeedMore) {
				if werr == nil {
					werr = err
				}
			}
			break
		}
		c.event(s, side, &ev)
		if h.done || c.mode != modeTLS {
			return
		}
	}
	if werr != nil && !errors.Is(werr, tls.ErrNeedMore) {
		if c.shDone {
			// Past the hellos (a certificate chain over the cap, say):
			// nothing we need is lost.
			c.stopSide(s, side)
			c.checkDone(s)
			return
		}
		c.note(s.sideName(c, side, "malformed ", " stream: "+trimErr(werr)))
		c.stopSide(s, side)
	}
	c.checkDone(s)
}

func trimErr(err error) string {
	return strings.TrimPrefix(err.Error(), "tls: ")
}

// event handles one decoded TLS event of a direction.
func (c *conn) event(s *Sniffer, side int, ev *tls.Event) {
	f := c.flowRec()
	h := &c.dir[side]
	switch ev.Kind {
	case tls.EventHandshake:
		switch ev.HandshakeType {
		case tls.TypeClientHello:
			if f.ClientHello != nil {
				return // a second ClientHello (after a HelloRetryRequest)
			}
			ch, err := tls.ParseClientHello(ev.Message)
			if err != nil {
				c.note(s.sideName(c, side, "unparsable ClientHello in ", " stream: "+trimErr(err)))
				return
			}
			c.setClient(side, 2)
			fillClientHello(f, ch, bytes.Clone(ev.Message))
			c.chEnd = h.delivered
		case tls.TypeServerHello:
			sh, err := tls.ParseServerHello(ev.Message)
			if err != nil {
				c.note(s.sideName(c, side, "unparsable ServerHello in ", " stream: "+trimErr(err)))
				return
			}
			if c.clientWhy < 2 {
				c.setClient(1-side, 2)
			}
			if sh.HelloRetryRequest {
				f.HelloRetryRequest = true
				return
			}
			f.Version = uint16(sh.NegotiatedVersion())
			f.Cipher = sh.CipherSuite
			f.JA3SFull, f.JA3S = ja3s(sh)
			c.shDone = true
			c.shEnd = [2]int{c.dir[0].delivered, c.dir[1].delivered}
		default:
			if c.shDone && side == c.client && ev.HandshakeType != tls.TypeClientHello {
				// The client continues the handshake (Certificate,
				// ClientKeyExchange): it accepted the server's hello.
				c.clientCCS = c.clientCCS || ev.HandshakeType == tls.TypeFinished
			}
		}
	case tls.EventAlert:
		if f.Alert == nil {
			a := ev.Alert
			f.Alert = &a
			c.alertSide = side
		}
		if ev.Alert.Level == tls.AlertLevelFatal {
			c.finish(s)
		}
	case tls.EventChangeCipherSpec, tls.EventEncrypted:
		if c.shDone && side == c.client {
			c.clientCCS = true
		}
	case tls.EventSSLv2:
		if len(ev.Message) == 0 {
			return
		}
		switch ev.Message[0] {
		case tls.SSLv2MsgClientHello:
			if f.ClientHello != nil {
				return
			}
			ch, err := tls.ParseSSLv2ClientHello(ev.Message)
			if err != nil {
				c.note(s.sideName(c, side, "unparsable SSLv2 CLIENT-HELLO in ", " stream: "+trimErr(err)))
				return
			}
			c.setClient(side, 2)
			fillClientHello(f, ch, bytes.Clone(ev.Message))
			c.chEnd = h.delivered
		case tls.SSLv2MsgServerHello:
			if _, err := tls.ParseSSLv2ServerHello(ev.Message); err != nil {
				c.note(s.sideName(c, side, "unparsable SSLv2 SERVER-HELLO in ", " stream: "+trimErr(err)))
				return
			}
			if c.clientWhy < 2 {
				c.setClient(1-side, 2)
			}
			f.Version = uint16(tls.VersionSSL20)
			c.shDone = true
			c.finish(s)
		}
	}
}

// fillClientHello copies the client's offer into f.
func fillClientHello(f *Flow, ch *tls.ClientHello, raw []byte) {
	f.ClientHello = raw
	f.SNI = ch.ServerName
	f.ALPN = ch.ALPN
	f.SSLv2 = ch.SSLv2
	f.CipherSuites = ch.CipherSuites
	f.Groups = ch.SupportedGroups
	f.SignatureAlgorithms = ch.SignatureAlgorithms
	f.KeyShareGroups = ch.KeyShareGroups
	f.OfferedVersions = offeredVersions(ch)
	f.JA3Full, f.JA3 = ja3(ch)
	f.JA4 = ja4(ch)
}

// offeredVersions is legacy_version plus supported_versions, GREASE
// removed, deduplicated, newest first.
func offeredVersions(ch *tls.ClientHello) []uint16 {
	vs := make([]uint16, 0, 1+len(ch.SupportedVersions))
	add := func(v uint16) {
		if tls.IsGREASE(v) {
			return
		}
		for _, w := range vs {
			if w == v {
				return
			}
		}
		vs = append(vs, v)
	}
	add(uint16(ch.Version))
	for _, v := range ch.SupportedVersions {
		add(v)
	}
	// Newest first: TLS 1.3, its drafts, TLS 1.2 … (tls.Version.Rank).
	slices.SortStableFunc(vs, func(a, b uint16) int { return tls.Version(b).Compare(tls.Version(a)) })
	return vs
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
		if f.Version >= uint16(tls.VersionTLS13) || c.clientCCS {
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
	return c.tlsSeen || c.protocol != "" || s.cfg.AllFlows
}

// buildFlow completes the Flow record of a connection.
func (c *conn) buildFlow(s *Sniffer) *Flow {
	f := c.flowRec()
	cl := c.client
	if cl < 0 {
		cl = 0
		// Guess: the side on the well-known (lower, < 1024) port is the
		// server.
		if c.addr[0].Port() < 1024 && c.addr[1].Port() >= 1024 {
			cl = 1
		}
	}
	f.Client, f.Server = c.addr[cl], c.addr[1-cl]
	if f.Alert != nil {
		if c.alertSide == cl {
			f.AlertFrom = "client"
		} else {
			f.AlertFrom = "server"
		}
	}
	f.StartTLS = c.starttls
	f.Protocol = c.protocol
	if c.tlsSeen && !c.starttls {
		f.Protocol = portProtocol(f.Server.Port())
	}
	f.FirstSeen, f.LastSeen = unixTime(c.first), unixTime(c.last)
	f.Packets, f.Bytes = c.packets, c.bytes
	notes := c.notes
	if !c.synSeen && !c.dir[0].synSeen && !c.dir[1].synSeen && f.ClientHello == nil {
		notes = append([]string{"capture started mid-connection"}, notes...)
	}
	for side := 0; side < 2; side++ {
		if len(c.dir[side].pending) > 0 {
			notes = append(notes, s.sideName(c, side, "gap in ", " stream"))
		}
	}
	f.Truncated = strings.Join(notes, "; ")
	return f
}

// portProtocol names the application protocol of implicit TLS by the
// server's port.
func portProtocol(port uint16) string {
	switch port {
	case 443:
		return "https"
	case 465:
		return "smtp"
	case 993:
		return "imap"
	case 995:
		return "pop3"
	}
	return "tls"
}
