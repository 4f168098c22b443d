package sniff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/tlsmap/tlsmap/protocols/quic"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"golang.org/x/crypto/cryptobyte"
)

// quicTruth is testdata/captures/quic.truth.json (scripts/make-quic-captures.sh):
// what each quic-go client reported about its own connection.
type quicTruth struct {
	Capture     string `json:"capture"`
	Connections []struct {
		capturesConn
		ALPN        string `json:"alpn"`
		QUICVersion string `json:"quic_version"`
		HRR         bool   `json:"hrr"`
		ALPNOffered int    `json:"alpn_offered"`
	} `json:"connections"`
}

// TestQUICCapture checks the QUIC capture recorded from quic-go, beyond
// what TestProjectCaptures compares: the QUIC version, the ALPN list, the
// HelloRetryRequest, the q JA4, ClientHellos too large for one Initial,
// and that every UDP flow is counted as decoded QUIC.
func TestQUICCapture(t *testing.T) {
	dir := filepath.Join("..", "testdata", "captures")
	b, err := os.ReadFile(filepath.Join(dir, "quic.truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var truth quicTruth
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	if len(truth.Connections) < 7 {
		t.Fatalf("the truth lists %d connections, want 7", len(truth.Connections))
	}
	flows, st := sniffFile(t, filepath.Join(dir, truth.Capture), Config{})
	bySNI := map[string]*Flow{}
	for _, f := range flows {
		bySNI[f.SNI] = f
	}
	for _, c := range truth.Connections {
		f := bySNI[c.SNI]
		if f == nil {
			t.Errorf("%s: no flow", c.SNI)
			continue
		}
		wantV := map[string]uint32{"v1": uint32(quic.Version1), "v2": uint32(quic.Version2)}[c.QUICVersion]
		if f.Protocol != "quic" || f.QUICVersion != wantV || f.HelloRetryRequest != c.HRR || f.Truncated != "" {
			t.Errorf("%s: protocol %q QUIC version %#x HRR %v truncated %q; want quic %s HRR %v", c.SNI, f.Protocol, f.QUICVersion, f.HelloRetryRequest, f.Truncated, c.QUICVersion, c.HRR)
		}
		if len(f.ALPN) != c.ALPNOffered || f.ALPN[0] != c.ALPN {
			t.Errorf("%s: ALPN %d offered, first %q; the client offered %d, got %q", c.SNI, len(f.ALPN), f.ALPN[0], c.ALPNOffered, c.ALPN)
		}
		if !strings.HasPrefix(f.JA4, "q13d") || f.JA3 == "" || f.JA3S == "" {
			t.Errorf("%s: JA4 %q JA3 %q JA3S %q", c.SNI, f.JA4, f.JA3, f.JA3S)
		}
		// A client Initial datagram carries at most 1,280 bytes here:
		// these hellos were reassembled from several Initial packets.
		min := map[string]int{"pq.quic.test": 1300, "big.quic.test": 3 * 1280, "hrr.quic.test": 1300, "v2.quic.test": 1300}[c.SNI]
		if len(f.ClientHello) < min {
			t.Errorf("%s: a ClientHello of %d bytes, the client's is over %d", c.SNI, len(f.ClientHello), min)
		}
	}
	n := uint64(len(truth.Connections))
	if st.QUICConns != n || st.QUICFlowsDecoded != n || st.UDPFlows != n || st.UDPFlowsOther != 0 ||
		st.QUICFlowsNoClientInitial != 0 || len(st.QUICFlowsUndecryptable) != 0 {
		t.Errorf("stats: %+v", st)
	}
}

// udpFrame builds an Ethernet/IP/UDP frame.
func udpFrame(t testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	t.Helper()
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	var ip gopacket.NetworkLayer
	et := layers.EthernetTypeIPv4
	if src.Addr().Is4() {
		ip4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		ip = ip4
	} else {
		ip = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: net.IP(src.Addr().AsSlice()), DstIP: net.IP(dst.Addr().AsSlice())}
		et = layers.EthernetTypeIPv6
	}
	udp.SetNetworkLayerForChecksum(ip)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: et}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip.(gopacket.SerializableLayer), udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// quicPeer builds the Initial packets of one test connection.
type quicPeer struct {
	t          testing.TB
	v          quic.Version
	keys       *quic.InitialKeys
	odcid      []byte
	ccid, scid []byte
	pn         [2]uint64
}

func newQUICPeer(t testing.TB, v quic.Version, odcid []byte) *quicPeer {
	k, err := quic.NewInitialKeys(v, odcid)
	if err != nil {
		t.Fatal(err)
	}
	return &quicPeer{t: t, v: v, keys: k, odcid: odcid, ccid: []byte{1, 2, 3, 4}, scid: []byte{9, 8, 7, 6, 5}}
}

func cryptoFrame(off int, data []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(0x06)
	b.AddUint32(uint32(off) | 0x80000000) // 4-byte varints (RFC 9000 §16)
	b.AddUint32(uint32(len(data)) | 0x80000000)
	b.AddBytes(data)
	return b.BytesOrPanic()
}

// client returns a client Initial carrying CRYPTO data [off, off+len),
// padded to a 1,200-byte datagram.
func (p *quicPeer) client(off int, data []byte) []byte {
	payload := cryptoFrame(off, data)
	payload = append(payload, make([]byte, max(0, 1200-60-len(payload)))...)
	// RFC 9000 §7.2: the client addresses the server by the original
	// DCID until it receives the server's first packet.
	dcid := p.odcid
	if p.pn[1] > 0 {
		dcid = p.scid
	}
	out, err := p.keys.Client.AppendInitial(nil, quic.InitialPacket{Version: p.v, DCID: dcid, SCID: p.ccid, PN: p.pn[0], Payload: payload})
	if err != nil {
		p.t.Fatal(err)
	}
	p.pn[0]++
	return out
}

func (p *quicPeer) server(data []byte) []byte {
	out, err := p.keys.Server.AppendInitial(nil, quic.InitialPacket{Version: p.v, DCID: p.ccid, SCID: p.scid, PN: p.pn[1], Payload: cryptoFrame(0, data)})
	if err != nil {
		p.t.Fatal(err)
	}
	p.pn[1]++
	return out
}

// quicHellos returns a ClientHello with an X25519MLKEM768 share (too
// large for one Initial) and a TLS 1.3 ServerHello, as handshake messages.
func quicHellos(t testing.TB, sni string) (ch, sh []byte) {
	t.Helper()
	r := rand.NewChaCha8([32]byte{7})
	pq, err := tls.FakeKeyShare(tls.GroupX25519MLKEM768, 1216, r)
	if err != nil {
		t.Fatal(err)
	}
	m := &tls.ClientHello{
		Version: tls.VersionTLS12, Random: make([]byte, 32), CipherSuites: []uint16{0x1301, 0x1302},
		Extensions: []tls.Extension{
			tls.ServerNameExtension(sni), tls.ALPNExtension("h3"),
			tls.SupportedGroupsExtension(tls.GroupX25519MLKEM768), tls.SignatureAlgorithmsExtension(0x0403),
			tls.KeyShareExtension(pq), tls.SupportedVersionsExtension(0x0304),
		},
	}
	if ch, err = m.Marshal(); err != nil {
		t.Fatal(err)
	}
	s := &tls.ServerHello{Version: tls.VersionTLS12, Random: make([]byte, 32), CipherSuite: 0x1302,
		Extensions: []tls.Extension{tls.ServerHelloSupportedVersion(tls.VersionTLS13), tls.ServerHelloKeyShare(tls.GroupX25519MLKEM768, make([]byte, 1120))}}
	if sh, err = s.Marshal(); err != nil {
		t.Fatal(err)
	}
	return ch, sh
}

var (
	qcli = netip.MustParseAddrPort("10.0.0.1:50000")
	qsrv = netip.MustParseAddrPort("10.0.0.2:8443") // QUIC recognised on any port
)

// TestQUICSynthetic: a ClientHello over two Initial packets that arrive
// in reverse order, the server's Initial, then 1-RTT short header
// packets; beside it a DNS exchange, a Google QUIC flow, a flow of an
// unknown version, and a server Initial whose client Initial is missing.
// Each UDP flow is counted once, where it belongs.
func TestQUICSynthetic(t *testing.T) {
	ch, sh := quicHellos(t, "synthetic.quic.test")
	p := newQUICPeer(t, quic.Version1, []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11})
	first, second := p.client(0, ch[:900]), p.client(900, ch[900:])
	var pkts [][]byte
	pkts = append(pkts, udpFrame(t, qcli, qsrv, second), udpFrame(t, qcli, qsrv, first), udpFrame(t, qsrv, qcli, p.server(sh)))
	for range 3 {
		pkts = append(pkts, udpFrame(t, qcli, qsrv, append([]byte{0x41}, make([]byte, 60)...)))
	}
	// DNS: a query and a response, one with the high bit of the ID set
	// (it looks like a long header).
	dnsC, dnsS := netip.MustParseAddrPort("10.0.0.1:5353"), netip.MustParseAddrPort("10.0.0.53:53")
	pkts = append(pkts, udpFrame(t, dnsC, dnsS, []byte{0xc2, 0x3f, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}),
		udpFrame(t, dnsS, dnsC, append([]byte{0xc2, 0x3f, 0x81, 0x80, 0, 1, 0, 1}, make([]byte, 1300)...)))
	// Google QUIC Q050 and an unknown version.
	long := func(v uint32) []byte {
		b := cryptobyte.NewBuilder(nil)
		b.AddUint8(0xc3)
		b.AddUint32(v)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 2, 3, 4, 5, 6, 7, 8}) })
		b.AddUint8(0)
		b.AddBytes(make([]byte, 1250))
		return b.BytesOrPanic()
	}
	pkts = append(pkts, udpFrame(t, netip.MustParseAddrPort("10.0.0.3:40001"), qsrv, long(0x51303530)),
		udpFrame(t, netip.MustParseAddrPort("10.0.0.3:40002"), qsrv, long(0x12345678)))
	// A server Initial of a connection whose client Initial is not in
	// the capture.
	lost := newQUICPeer(t, quic.Version1, []byte{5, 5, 5, 5, 5, 5, 5, 5})
	pkts = append(pkts, udpFrame(t, qsrv, netip.MustParseAddrPort("10.0.0.4:40003"), lost.server(sh)))

	flows, s := run(t, Config{}, layers.LinkTypeEthernet, pkts)
	if len(flows) != 1 {
		t.Fatalf("%d flows, want 1", len(flows))
	}
	f := flows[0]
	if f.Protocol != "quic" || f.Client != qcli || f.Server != qsrv || f.SNI != "synthetic.quic.test" ||
		!bytes.Equal(f.ClientHello, ch) || f.Version != tls.VersionTLS13 || f.Cipher != 0x1302 ||
		f.QUICVersion != 1 || f.Truncated != "" || f.Packets != 6 || !strings.HasPrefix(f.JA4, "q13d0206h3_") {
		t.Fatalf("flow %+v", f)
	}
	if want := tls.JA4(mustCH(t, ch), tls.JA4QUIC); f.JA4 != want {
		t.Errorf("JA4 %s, want %s", f.JA4, want)
	}
	st := s.Stats()
	if st.UDPFlows != 5 || st.QUICFlowsDecoded != 1 || st.UDPFlowsOther != 1 || st.QUICFlowsNoClientInitial != 1 ||
		st.QUICFlowsUndecryptable[0x51303530] != 1 || st.QUICFlowsUndecryptable[0x12345678] != 1 || st.QUICConns != 1 || st.UDP != uint64(len(pkts)) {
		t.Errorf("stats %+v", st)
	}
	if st.Buffered != 0 || st.UDPFlowsActive != 0 {
		t.Errorf("left after Flush: %d bytes, %d UDP flows", st.Buffered, st.UDPFlowsActive)
	}
}

func mustCH(t testing.TB, msg []byte) *tls.ClientHello {
	ch, err := tls.ParseClientHello(msg)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestQUICIncomplete: a ClientHello whose second Initial was lost, and
// one without a ServerHello, are reported with the reason; EmitEarly
// hands a complete connection over at once; the port filter applies to
// UDP too.
func TestQUICIncomplete(t *testing.T) {
	ch, sh := quicHellos(t, "lost.quic.test")
	p := newQUICPeer(t, quic.Version1, []byte{1, 1, 1, 1, 1, 1, 1, 1})
	pkts := [][]byte{udpFrame(t, qcli, qsrv, p.client(0, ch[:900]))}
	flows, _ := run(t, Config{}, layers.LinkTypeEthernet, pkts)
	if len(flows) != 1 || flows[0].ClientHello != nil || !strings.Contains(flows[0].Truncated, "ClientHello incomplete") ||
		!strings.Contains(flows[0].Truncated, "no ServerHello") {
		t.Fatalf("%+v", flows)
	}
	p = newQUICPeer(t, quic.Version1, []byte{2, 2, 2, 2, 2, 2, 2, 2})
	pkts = [][]byte{udpFrame(t, qcli, qsrv, p.client(900, ch[900:])), udpFrame(t, qcli, qsrv, p.client(0, ch[:900]))}
	flows, _ = run(t, Config{}, layers.LinkTypeEthernet, pkts)
	if len(flows) != 1 || flows[0].SNI != "lost.quic.test" || flows[0].Truncated != "no ServerHello" || flows[0].Version != 0 {
		t.Fatalf("%+v", flows[0])
	}

	p = newQUICPeer(t, quic.Version2, []byte{3, 3, 3, 3, 3, 3, 3, 3})
	pkts = [][]byte{udpFrame(t, qcli, qsrv, p.client(0, ch[:900])), udpFrame(t, qcli, qsrv, p.client(900, ch[900:])),
		udpFrame(t, qsrv, qcli, p.server(sh))}
	var got []*Flow
	s := New(Config{EmitEarly: true}, func(f *Flow) { got = append(got, f) })
	ts := time.Unix(1700000000, 0)
	for i, b := range pkts {
		s.Packet(b, gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(b), Length: len(b)}, layers.LinkTypeEthernet)
	}
	if len(got) != 1 || got[0].QUICVersion != uint32(quic.Version2) || got[0].Version != tls.VersionTLS13 {
		t.Fatalf("EmitEarly: %d flows before Flush", len(got))
	}
	s.Flush()
	if len(got) != 1 {
		t.Fatalf("emitted twice")
	}

	flows, s = run(t, Config{Filter: &Filter{Ports: []uint16{443}}}, layers.LinkTypeEthernet, pkts)
	if st := s.Stats(); len(flows) != 0 || st.Filtered != 3 || st.UDPFlows != 0 {
		t.Fatalf("filter: %d flows, stats %+v", len(flows), st)
	}
}

// TestQUICConnectionClose: a server refusing the handshake in an Initial
// with CRYPTO_ERROR 0x0128 reports a handshake_failure alert from the
// server.
func TestQUICConnectionClose(t *testing.T) {
	ch, _ := quicHellos(t, "refused.quic.test")
	p := newQUICPeer(t, quic.Version1, []byte{4, 4, 4, 4, 4, 4, 4, 4})
	closeFrame := []byte{0x1c, 0x41, 0x28, 0x06, 0x00}
	srv, err := p.keys.Server.AppendInitial(nil, quic.InitialPacket{Version: quic.Version1, DCID: p.ccid, SCID: p.scid, Payload: closeFrame})
	if err != nil {
		t.Fatal(err)
	}
	pkts := [][]byte{udpFrame(t, qcli, qsrv, p.client(0, ch[:900])), udpFrame(t, qcli, qsrv, p.client(900, ch[900:])), udpFrame(t, qsrv, qcli, srv)}
	flows, _ := run(t, Config{}, layers.LinkTypeEthernet, pkts)
	if len(flows) != 1 {
		t.Fatalf("%d flows", len(flows))
	}
	f := flows[0]
	if f.Alert == nil || f.Alert.Description != 40 || f.AlertFrom != "server" || f.Version != 0 || f.Truncated != "" {
		t.Fatalf("%+v alert %+v", f, f.Alert)
	}
}

// TestWriteQUICSeeds writes FuzzPacket seeds of QUIC datagrams
// (SNIFF_WRITE_SEEDS=1): a client Initial, its continuation and the
// server's Initial.
func TestWriteQUICSeeds(t *testing.T) {
	if os.Getenv("SNIFF_WRITE_SEEDS") == "" {
		t.Skip("set SNIFF_WRITE_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	ch, sh := quicHellos(t, "seed.quic.test")
	p := newQUICPeer(t, quic.Version1, []byte{6, 6, 6, 6, 6, 6, 6, 6})
	for i, b := range [][]byte{p.client(0, ch[:900]), p.client(900, ch[900:]), p.server(sh)} {
		src, dst := qcli, qsrv
		if i == 2 {
			src, dst = qsrv, qcli
		}
		body := fmt.Sprintf("go test fuzz v1\nbyte(0)\n[]byte(%q)\n", udpFrame(t, src, dst, b))
		if err := os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzPacket", fmt.Sprintf("quic-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
