package sniff

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// TestOutcomes builds one capture with connections of every outcome and
// requires each to be counted exactly there.
func TestOutcomes(t *testing.T) {
	ch, sh := testHellos(t, 0)
	port := uint16(30000)
	mk := func(srvPort uint16) *conv {
		port++
		return newConv(t, "eth", netip.AddrPortFrom(cliAP.Addr(), port), netip.AddrPortFrom(srvAP.Addr(), srvPort))
	}
	var pkts [][]byte
	cuts := map[int]int{} // packet index → bytes cut off
	add := func(c *conv) { pkts = append(pkts, c.pkts...) }

	// TLS from the first byte, twice.
	for i := 0; i < 2; i++ {
		c := mk(443)
		c.handshake()
		c.send(true, ch, 1400)
		c.send(false, sh, 1400)
		c.send(true, ccsRecord, 1400)
		add(c)
	}
	// SMTP STARTTLS.
	c := mk(25)
	c.handshake()
	c.send(false, []byte("220 mx ESMTP\r\n"), 1400)
	c.send(true, []byte("EHLO x\r\n"), 1400)
	c.send(false, []byte("250-mx\r\n250 STARTTLS\r\n"), 1400)
	c.send(true, []byte("STARTTLS\r\n"), 1400)
	c.send(false, []byte("220 go ahead\r\n"), 1400)
	c.send(true, ch, 1400)
	c.send(false, sh, 1400)
	c.send(true, ccsRecord, 1400)
	add(c)
	// IMAP that never upgrades.
	c = mk(143)
	c.handshake()
	c.send(false, []byte("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"), 1400)
	c.send(true, []byte("a1 LOGIN u p\r\n"), 1400)
	c.send(false, []byte("a1 OK done\r\n"), 1400)
	add(c)
	// Unknown payload, twice on 8080 and once on 9000.
	for _, p := range []uint16{8080, 8080, 9000} {
		c = mk(p)
		c.handshake()
		c.send(true, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 1400)
		c.send(false, []byte("HTTP/1.1 200 OK\r\n\r\n"), 1400)
		add(c)
	}
	// No payload.
	c = mk(443)
	c.handshake()
	c.add(true, c.cseq, "FA", nil)
	c.add(false, c.sseq, "FA", nil)
	add(c)
	// Mid-stream: application data, no SYN.
	c = mk(443)
	c.send(false, []byte{23, 3, 3, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 1400)
	c.send(true, []byte{23, 3, 3, 0, 3, 1, 2, 3}, 1400)
	add(c)
	// A ClientHello cut by the snaplen.
	c = mk(443)
	c.handshake()
	c.send(true, ch, 1400)
	cuts[len(pkts)+3] = len(c.pkts[3]) - 60
	add(c)
	// A ClientHello whose first segment was lost, the second held.
	c = mk(443)
	c.handshake()
	c.send(true, ch, 30)
	c.pkts = append(c.pkts[:3], c.pkts[4:]...)
	add(c)
	// A connection ending inside its ClientHello.
	c = mk(443)
	c.handshake()
	c.send(true, ch[:50], 1400)
	c.add(true, c.cseq, "FA", nil)
	c.add(false, c.sseq, "FA", nil)
	add(c)

	s := New(Config{Recognizers: DefaultRecognizers()}, nil)
	ts := time.Unix(1700000000, 0)
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if n := cuts[i]; n > 0 {
			p = p[:len(p)-n]
			ci.CaptureLength = len(p)
		}
		s.Packet(p, ci, layers.LinkTypeEthernet)
	}
	s.Flush()
	got := s.Stats().TCP
	want := TCPOutcomes{
		Total: 12, TLS: 2, TLSAfter: map[string]uint64{"smtp": 1}, Plaintext: map[string]uint64{"imap": 1},
		Unknown: 3, UnknownPorts: map[uint16]uint64{8080: 2, 9000: 1}, NoPayload: 1, MidStream: 1,
		Truncated: 3, TruncatedBy: map[string]uint64{"snaplen": 1, "gap": 1, "incomplete": 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("outcomes\n got %+v\nwant %+v", got, want)
	}
	if st := s.Stats(); st.TCP.Total != st.FlowsTotal {
		t.Errorf("%d outcomes for %d connections", st.TCP.Total, st.FlowsTotal)
	}
}

// TestOutcomesPartitionPublic: on every public capture, each connection
// tracked ends in exactly one outcome.
func TestOutcomesPartitionPublic(t *testing.T) {
	pub, caps := publicCaptures(t)
	for _, rel := range caps {
		_, st := sniffFile(t, pub+"/"+rel, Config{Recognizers: DefaultRecognizers()})
		o := st.TCP
		sum := o.TLS + o.TLSAfterPrefix + o.Unknown + o.NoPayload + o.MidStream + o.Truncated + o.Evicted
		for _, m := range []map[string]uint64{o.TLSAfter, o.Plaintext} {
			for _, n := range m {
				sum += n
			}
		}
		var ports uint64
		for _, n := range o.UnknownPorts {
			ports += n
		}
		if sum != o.Total || o.Total != st.FlowsTotal || ports != o.Unknown {
			t.Errorf("%s: outcomes sum to %d, total %d, %d connections; unknown %d by port %d", rel, sum, o.Total, st.FlowsTotal, o.Unknown, ports)
		}
	}
}

// TestReorderedHellos: connections joined mid-stream (no SYN) whose
// ClientHello's two segments were captured in reverse order, and no
// ServerHello: each hello is put back together and reported.
func TestReorderedHellos(t *testing.T) {
	ch, _ := testHellos(t, 200)
	var pkts [][]byte
	for i := 0; i < 100; i++ {
		c := newConv(t, "eth", netip.AddrPortFrom(cliAP.Addr(), uint16(20000+i)), srvAP)
		c.send(true, ch, len(ch)/2+1)
		pkts = append(pkts, c.pkts[1], c.pkts[0])
	}
	flows, s := run(t, Config{Recognizers: DefaultRecognizers()}, layers.LinkTypeEthernet, pkts)
	n := 0
	for _, f := range flows {
		if f.HasClientHello() && f.SNI == "example.test" {
			n++
		}
	}
	if o := s.Stats().TCP; n != 100 || o.TLS != 100 {
		t.Errorf("%d of 100 hellos reported; outcomes %+v", n, o)
	}
}
