package quic

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// A test connection: a client and a server that build real Initial
// packets around real hellos.

var (
	testODCID     = []byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}
	testClientCID = []byte{0xc1, 0xc2, 0xc3, 0xc4}
	testServerCID = []byte{0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e, 0x5e}
)

// bigClientHello returns a ClientHello with an X25519MLKEM768 key share
// (1,216 bytes of key_exchange) and an X25519 one, as Go 1.26 and current
// browsers send: too large for one Initial packet.
func bigClientHello(t testing.TB, sni string) []byte {
	t.Helper()
	r := rand.NewChaCha8([32]byte{1})
	pq, err := tls.FakeKeyShare(tls.GroupX25519MLKEM768, 1216, r)
	if err != nil {
		t.Fatal(err)
	}
	x, err := tls.FakeKeyShare(tls.GroupX25519, 32, r)
	if err != nil {
		t.Fatal(err)
	}
	ch := &tls.ClientHello{
		Version:      tls.VersionTLS12,
		Random:       bytes.Repeat([]byte{7}, 32),
		CipherSuites: []uint16{0x1301, 0x1302, 0x1303},
		Extensions: []tls.Extension{
			tls.ServerNameExtension(sni),
			tls.SupportedGroupsExtension(tls.GroupX25519MLKEM768, tls.GroupX25519, tls.GroupP256),
			tls.SignatureAlgorithmsExtension(0x0403, 0x0804, 0x0401),
			tls.ALPNExtension("h3"),
			tls.KeyShareExtension(pq, x),
			tls.SupportedVersionsExtension(0x0304),
			tls.PSKKeyExchangeModesExtension(1),
			tls.RawExtension(0x39, []byte{0x01, 0x02, 0x40, 0x64}), // quic_transport_parameters (RFC 9001 §8.2)
		},
	}
	b, err := ch.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testServerHello(t testing.TB, hrr bool) []byte {
	t.Helper()
	random := bytes.Repeat([]byte{9}, 32)
	exts := []tls.Extension{tls.ServerHelloSupportedVersion(tls.VersionTLS13), tls.ServerHelloKeyShare(tls.GroupX25519, bytes.Repeat([]byte{3}, 32))}
	if hrr {
		random = []byte(tls.HelloRetryRequestRandom)
		exts = []tls.Extension{tls.ServerHelloSupportedVersion(tls.VersionTLS13), tls.HRRKeyShare(tls.GroupX25519)}
	}
	sh := &tls.ServerHello{Version: tls.VersionTLS12, Random: random, CipherSuite: 0x1302, Extensions: exts}
	b, err := sh.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cryptoFrame returns a CRYPTO frame (RFC 9000 §19.6).
func cryptoFrame(off uint64, data []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	addVarint(b, FrameCrypto, 0)
	addVarint(b, off, 0)
	addVarint(b, uint64(len(data)), 0)
	b.AddBytes(data)
	return b.BytesOrPanic()
}

// ackFrame returns an ACK frame with one extra range and, when ecn, ECN
// counts (RFC 9000 §19.3).
func ackFrame(ecn bool) []byte {
	b := cryptobyte.NewBuilder(nil)
	typ := FrameACK
	if ecn {
		typ = FrameACKECN
	}
	addVarint(b, typ, 0)
	addVarint(b, 70, 0)    // largest acknowledged
	addVarint(b, 1000, 0)  // ack delay
	addVarint(b, 1, 0)     // range count
	addVarint(b, 3, 0)     // first range
	addVarint(b, 2, 0)     // gap
	addVarint(b, 20000, 0) // range length
	if ecn {
		addVarint(b, 1, 0)
		addVarint(b, 2, 0)
		addVarint(b, 1<<40, 0)
	}
	return b.BytesOrPanic()
}

func pad(p []byte, n int) []byte {
	if len(p) < n {
		p = append(p, make([]byte, n-len(p))...)
	}
	return p
}

type testConn struct {
	t       testing.TB
	version Version // client's
	keys    *InitialKeys
	pn      [2]uint64
}

func newTestConn(t testing.TB, v Version) *testConn {
	k, err := NewInitialKeys(v, testODCID)
	if err != nil {
		t.Fatal(err)
	}
	return &testConn{t: t, version: v, keys: k}
}

// client returns a client Initial carrying frames, padded to 1200 bytes
// as RFC 9000 §14.1 requires; dcid nil means the original DCID.
func (c *testConn) client(dcid []byte, frames ...[]byte) []byte {
	if dcid == nil {
		dcid = testODCID
	}
	payload := pad(bytes.Join(frames, nil), 1200-60)
	out, err := c.keys.Client.AppendInitial(nil, InitialPacket{Version: c.version, DCID: dcid, SCID: testClientCID, PN: c.pn[0], Payload: payload})
	if err != nil {
		c.t.Fatal(err)
	}
	c.pn[0]++
	return out
}

func (c *testConn) server(keys *InitialKeys, v Version, frames ...[]byte) []byte {
	if keys == nil {
		keys = c.keys
	}
	if v == 0 {
		v = c.version
	}
	out, err := keys.Server.AppendInitial(nil, InitialPacket{Version: v, DCID: testClientCID, SCID: testServerCID, PN: c.pn[1], PNLen: 2, Payload: bytes.Join(frames, nil)})
	if err != nil {
		c.t.Fatal(err)
	}
	c.pn[1]++
	return out
}

// handshakePacket returns a long header Handshake packet (RFC 9000
// §17.2.4) with an opaque payload, as coalesced after a server Initial.
func handshakePacket(v Version, dcid, scid []byte, n int) []byte {
	p, _ := paramsOf(v)
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(0xc0 | p.typeBits(PacketHandshake)<<4 | 0x01)
	b.AddUint32(uint32(v))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(dcid) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(scid) })
	addVarint(b, uint64(n), 2)
	b.AddBytes(bytes.Repeat([]byte{0xaa}, n))
	return b.BytesOrPanic()
}

// split cuts msg into n pieces of about equal size, as (offset, data)
// CRYPTO frames.
func split(msg []byte, n int) [][]byte {
	var out [][]byte
	step := (len(msg) + n - 1) / n
	for off := 0; off < len(msg); off += step {
		out = append(out, cryptoFrame(uint64(off), msg[off:min(off+step, len(msg))]))
	}
	return out
}

func mustComplete(t *testing.T, c *Conn, ch, sh []byte) {
	t.Helper()
	if !bytes.Equal(c.ClientHello(), ch) {
		t.Fatalf("ClientHello: got %d bytes, want %d", len(c.ClientHello()), len(ch))
	}
	if !bytes.Equal(c.ServerHello(), sh) {
		t.Fatalf("ServerHello: got %x, want %x", c.ServerHello(), sh)
	}
	if !c.Complete() {
		t.Fatal("not complete")
	}
	if _, err := tls.ParseClientHello(c.ClientHello()); err != nil {
		t.Fatal(err)
	}
}

// TestMultiPacketClientHello sends a post-quantum ClientHello over three
// Initial packets in every order, with a retransmission, a PING and an
// ACK mixed in.
func TestMultiPacketClientHello(t *testing.T) {
	ch := bigClientHello(t, "pq.example")
	if len(ch) < 1300 {
		t.Fatalf("hello of %d bytes fits one packet", len(ch))
	}
	sh := testServerHello(t, false)
	orders := [][]int{{0, 1, 2}, {2, 1, 0}, {1, 2, 0}, {2, 0, 0, 1}}
	for _, v := range []Version{Version1, Version2, 0xff00001d} {
		for _, order := range orders {
			tc := newTestConn(t, v)
			parts := split(ch, 3)
			var tr Tracker
			var r Result
			for i, idx := range order {
				frames := [][]byte{parts[idx]}
				if i == 0 {
					frames = append([][]byte{{byte(FramePing)}}, frames...)
				}
				r = tr.Datagram(0, tc.client(nil, frames...))
				if r.Conn == nil || r.Err != nil {
					t.Fatalf("%v %v: packet %d: %+v", v, order, i, r)
				}
				if (r.Conn.ClientHello() != nil) != (i == len(order)-1) {
					t.Fatalf("%v %v: ClientHello complete after %d packets", v, order, i+1)
				}
			}
			c := r.Conn
			if c.Initials[Client] != len(order) || len(tr.Conns()) != 1 {
				t.Fatalf("%v: %d Initials decrypted, %d conns", v, c.Initials[Client], len(tr.Conns()))
			}
			// The server's Initial with an ACK, coalesced with a Handshake
			// packet.
			dg := append(tc.server(nil, 0, ackFrame(true), cryptoFrame(0, sh)), handshakePacket(v, testClientCID, testServerCID, 300)...)
			r = tr.Datagram(1, dg)
			if r.Conn != c || !r.Completed || r.Long != 2 {
				t.Fatalf("%v: server datagram %+v", v, r)
			}
			mustComplete(t, c, ch, sh)
			if !bytes.Equal(c.ServerCID, testServerCID) || c.Packets != [2]int{len(order), 2} {
				t.Fatalf("%v: conn %+v", v, c)
			}
			// The client now addresses the server by the server's CID.
			r = tr.Datagram(0, tc.client(testServerCID, ackFrame(false)))
			if r.Conn != c || r.Completed {
				t.Fatalf("%v: late client packet %+v", v, r)
			}
			// And by one the server issued in an encrypted frame: the
			// connection's keys tie the packet to it.
			r = tr.Datagram(0, tc.client([]byte{0xab, 0xcd, 0xef, 0x01}, ackFrame(false)))
			if r.Conn != c || r.Undecryptable != 0 || c.Packets[Client] != len(order)+2 {
				t.Fatalf("%v: client packet to a new CID %+v", v, r)
			}
		}
	}
}

// TestOverlappingFrames delivers CRYPTO data in overlapping, repeated
// pieces, several in one packet and out of order.
func TestOverlappingFrames(t *testing.T) {
	ch := bigClientHello(t, "overlap.example")
	tc := newTestConn(t, Version1)
	var tr Tracker
	r := tr.Datagram(0, tc.client(nil, cryptoFrame(900, ch[900:1300]), cryptoFrame(100, ch[100:950])))
	if r.Conn == nil || r.Conn.ClientHello() != nil {
		t.Fatalf("%+v", r)
	}
	if !r.Conn.Gap(Client) || r.Conn.CryptoLen(Client) != 0 {
		t.Fatalf("gap %v, contiguous %d", r.Conn.Gap(Client), r.Conn.CryptoLen(Client))
	}
	r = tr.Datagram(0, tc.client(nil, cryptoFrame(0, ch[:200]), cryptoFrame(1250, ch[1250:])))
	if r.Conn.ClientHello() == nil || !bytes.Equal(r.Conn.ClientHello(), ch) || r.Conn.Gap(Client) {
		t.Fatalf("hello not reassembled: %d bytes, gap %v", len(r.Conn.ClientHello()), r.Conn.Gap(Client))
	}
}

// TestHelloRetryRequest: the server asks for another key share; the
// connection completes with the ServerHello after the second ClientHello,
// and the first ClientHello is the one kept.
func TestHelloRetryRequest(t *testing.T) {
	ch := bigClientHello(t, "hrr.example")
	ch2 := bigClientHello(t, "hrr2.example")
	hrr, sh := testServerHello(t, true), testServerHello(t, false)
	tc := newTestConn(t, Version1)
	var tr Tracker
	for _, f := range split(ch, 2) {
		tr.Datagram(0, tc.client(nil, f))
	}
	r := tr.Datagram(1, tc.server(nil, 0, cryptoFrame(0, hrr)))
	if r.Completed || !r.Conn.HelloRetryRequest() || !bytes.Equal(r.Conn.ServerHello(), hrr) {
		t.Fatalf("after HRR: %+v", r)
	}
	for _, f := range split(ch2, 2) {
		// The second hello continues the stream (RFC 9000 §19.6).
		s := cryptobyte.String(f)
		var typ, off, n uint64
		readVarint(&s, &typ)
		readVarint(&s, &off)
		readVarint(&s, &n)
		r = tr.Datagram(0, tc.client(testServerCID, cryptoFrame(uint64(len(ch))+off, s)))
	}
	if r.Conn.Err(Client) != nil {
		t.Fatal(r.Conn.Err(Client))
	}
	r = tr.Datagram(1, tc.server(nil, 0, cryptoFrame(uint64(len(hrr)), sh)))
	if !r.Completed {
		t.Fatalf("%+v", r)
	}
	mustComplete(t, r.Conn, ch, sh)
}

// TestRetry: after a Retry the client's keys derive from the Retry's
// Source Connection ID (RFC 9001 §5.2), and both sides use them.
func TestRetry(t *testing.T) {
	ch := bigClientHello(t, "retry.example")
	sh := testServerHello(t, false)
	tc := newTestConn(t, Version1)
	var tr Tracker
	r := tr.Datagram(0, tc.client(nil, cryptoFrame(0, ch)))
	c := r.Conn
	if c == nil || c.ClientHello() == nil {
		t.Fatalf("%+v", r)
	}
	retrySCID := []byte{0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77, 0x77}
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(0xf0)
	b.AddUint32(uint32(Version1))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(testClientCID) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(retrySCID) })
	b.AddBytes([]byte("token-token-token"))
	b.AddBytes(make([]byte, 16)) // integrity tag, not checked
	if r = tr.Datagram(1, b.BytesOrPanic()); r.Conn != c || !c.Retry {
		t.Fatalf("Retry: %+v", r)
	}
	k2, err := NewInitialKeys(Version1, retrySCID)
	if err != nil {
		t.Fatal(err)
	}
	tc.keys = k2
	if r = tr.Datagram(0, tc.client(retrySCID, cryptoFrame(0, ch))); r.Conn != c || len(tr.Conns()) != 1 {
		t.Fatalf("client Initial after Retry: %+v, %d conns", r, len(tr.Conns()))
	}
	if r = tr.Datagram(1, tc.server(nil, 0, cryptoFrame(0, sh))); r.Conn != c || !r.Completed {
		t.Fatalf("server Initial after Retry: %+v %+v", r, c)
	}
	mustComplete(t, c, ch, sh)
	c.ReleaseHellos()
	if c.ClientHello() != nil || c.ServerHello() != nil || !c.Complete() {
		t.Error("ReleaseHellos kept a hello, or the connection is no longer complete")
	}
	if !bytes.Equal(c.ODCID, testODCID) {
		t.Errorf("ODCID %x", c.ODCID)
	}
}

// TestCompatibleNegotiation: the client starts in v1, the server answers
// in v2 (RFC 9369 §4.1) with v2 keys from the same DCID.
func TestCompatibleNegotiation(t *testing.T) {
	ch := bigClientHello(t, "v2.example")
	sh := testServerHello(t, false)
	tc := newTestConn(t, Version1)
	var tr Tracker
	tr.Datagram(0, tc.client(nil, cryptoFrame(0, ch)))
	k2, err := NewInitialKeys(Version2, testODCID)
	if err != nil {
		t.Fatal(err)
	}
	r := tr.Datagram(1, tc.server(k2, Version2, cryptoFrame(0, sh)))
	if !r.Completed || r.Conn.Version != Version1 || r.Conn.ServerVersion != Version2 {
		t.Fatalf("%+v %+v", r, r.Conn)
	}
	mustComplete(t, r.Conn, ch, sh)
}

// TestTwoConnections: two connections over one UDP flow (one after the
// other, as a client reusing its socket) are told apart by their IDs; a
// server Initial of a connection whose client Initial was not seen
// decrypts with nothing.
func TestTwoConnections(t *testing.T) {
	ch := bigClientHello(t, "one.example")
	sh := testServerHello(t, false)
	var tr Tracker
	a := newTestConn(t, Version1)
	r := tr.Datagram(0, a.client(nil, cryptoFrame(0, ch)))
	ca := r.Conn
	odcid2 := []byte{9, 9, 9, 9, 9, 9, 9, 9, 9, 9}
	k, err := NewInitialKeys(Version1, odcid2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.Client.AppendInitial(nil, InitialPacket{Version: Version1, DCID: odcid2, SCID: []byte{1}, Payload: pad(cryptoFrame(0, ch), 1100)})
	if err != nil {
		t.Fatal(err)
	}
	r = tr.Datagram(0, p)
	cb := r.Conn
	if cb == nil || cb == ca || len(tr.Conns()) != 2 {
		t.Fatalf("second connection: %+v", r)
	}
	if r = tr.Datagram(1, a.server(nil, 0, cryptoFrame(0, sh))); r.Conn != ca || !r.Completed {
		t.Fatalf("server of the first: %+v", r)
	}
	if cb.Complete() {
		t.Fatal("second connection completed by the first one's server")
	}
	// A server Initial to an unknown client CID.
	other := newTestConn(t, Version1)
	other.keys, _ = NewInitialKeys(Version1, []byte{5, 5, 5, 5, 5, 5, 5, 5})
	sp, err := other.keys.Server.AppendInitial(nil, InitialPacket{Version: Version1, DCID: []byte{0xee}, SCID: []byte{0xef}, Payload: cryptoFrame(0, sh)})
	if err != nil {
		t.Fatal(err)
	}
	if r = tr.Datagram(1, sp); r.Conn != nil || r.Undecryptable != 1 {
		t.Fatalf("orphan server Initial: %+v", r)
	}
}

// TestConnectionClose: a server refusing the handshake closes with a
// CRYPTO_ERROR that carries a TLS alert (RFC 9001 §4.8).
func TestConnectionClose(t *testing.T) {
	ch := bigClientHello(t, "close.example")
	tc := newTestConn(t, Version1)
	var tr Tracker
	tr.Datagram(0, tc.client(nil, cryptoFrame(0, ch)))
	b := cryptobyte.NewBuilder(nil)
	addVarint(b, FrameConnectionClose, 0)
	addVarint(b, 0x0128, 0) // handshake_failure
	addVarint(b, FrameCrypto, 0)
	addVarint(b, 6, 0)
	b.AddBytes([]byte("no ALPN"[:6]))
	r := tr.Datagram(1, tc.server(nil, 0, b.BytesOrPanic()))
	c := r.Conn
	if c == nil || c.Close == nil || c.CloseFrom != Server || string(c.Close.Reason) != "no ALP" {
		t.Fatalf("%+v", r)
	}
	if a, ok := CryptoErrorAlert(c.Close.ErrorCode); !ok || a != 40 {
		t.Fatalf("alert %d %v", a, ok)
	}
}

// TestUnsupportedVersions: versions without known Initial protection are
// reported, not decrypted.
func TestUnsupportedVersions(t *testing.T) {
	for _, v := range []Version{0x51303530, 0xff000016, 0x1a2a3a4a, 0xfaceb002} {
		b := cryptobyte.NewBuilder(nil)
		b.AddUint8(0xc3)
		b.AddUint32(uint32(v))
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(testODCID) })
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
		b.AddBytes(make([]byte, 1200))
		var tr Tracker
		r := tr.Datagram(0, b.BytesOrPanic())
		if !r.Unsupported || r.Conn != nil || r.Version != v || r.Long != 1 {
			t.Errorf("%v: %+v", v, r)
		}
	}
	if Version(0x51303530).String() != "gquic-Q050" || Version(0xff00001d).String() != "draft-29" ||
		Version2.String() != "v2" || Version(0x1a2a3a4a).String() != "reserved-0x1a2a3a4a" {
		t.Error("version names")
	}
}

// TestCryptoCap: CRYPTO data beyond the cap is an error, not memory.
func TestCryptoCap(t *testing.T) {
	tc := newTestConn(t, Version1)
	tr := Tracker{MaxCrypto: 1000}
	r := tr.Datagram(0, tc.client(nil, cryptoFrame(2000, []byte("x")), cryptoFrame(0, []byte{1, 0, 0})))
	if r.Conn == nil || !errors.Is(r.Conn.Err(Client), ErrTooLarge) {
		t.Fatalf("%+v", r)
	}
	if got := cap(r.Conn.streams[Client].buf); got > 1000 {
		t.Fatalf("buffer of %d bytes", got)
	}
}

// TestUnexpectedMessage: a handshake message other than a hello in an
// Initial stream is an error.
func TestUnexpectedMessage(t *testing.T) {
	tc := newTestConn(t, Version1)
	var tr Tracker
	r := tr.Datagram(0, tc.client(nil, cryptoFrame(0, []byte{byte(tls.TypeFinished), 0, 0, 1, 0})))
	if r.Conn == nil || !errors.Is(r.Conn.Err(Client), ErrMalformed) {
		t.Fatalf("%+v", r)
	}
}

// TestMaxConns: the oldest connection is dropped when the Tracker is
// full, and handed back.
func TestMaxConns(t *testing.T) {
	tr := Tracker{MaxConns: 2}
	var first *Conn
	for i := range 3 {
		dcid := []byte{byte(i), 1, 2, 3, 4, 5, 6, 7}
		k, _ := NewInitialKeys(Version1, dcid)
		p, err := k.Client.AppendInitial(nil, InitialPacket{Version: Version1, DCID: dcid, Payload: pad(nil, 1100)})
		if err != nil {
			t.Fatal(err)
		}
		r := tr.Datagram(0, p)
		if i == 0 {
			first = r.Conn
		}
		if (r.Dropped != nil) != (i == 2) || (i == 2 && r.Dropped != first) {
			t.Fatalf("packet %d: %+v", i, r)
		}
	}
	if len(tr.Conns()) != 2 {
		t.Fatalf("%d conns", len(tr.Conns()))
	}
}

// TestLateInitialsAndKeys: after the hellos, a client Initial to a
// connection ID the capture never saw chosen is tied by the kept keys,
// the Handshake packet coalesced with it by the datagram, and a later
// Handshake packet by the learnt ID. The client's first Handshake packet
// shows it dropped its Initial keys (RFC 9001 §4.9.1), and so does the
// Tracker, after that datagram.
func TestLateInitialsAndKeys(t *testing.T) {
	ch, sh := bigClientHello(t, "late.example"), testServerHello(t, false)
	tc := newTestConn(t, Version1)
	var tr Tracker
	tr.Datagram(0, tc.client(nil, cryptoFrame(0, ch)))
	r := tr.Datagram(1, tc.server(nil, 0, cryptoFrame(0, sh)))
	c := r.Conn
	if !r.Completed || c.keys == nil {
		t.Fatalf("%+v, keys %v", r, c.keys)
	}
	newCID := []byte{0x42, 0x42, 0x42, 0x42}
	dg := append(tc.client(newCID, ackFrame(false)), handshakePacket(Version1, newCID, nil, 30)...)
	if r = tr.Datagram(0, dg); r.Conn != c || r.Undecryptable != 0 || c.Packets[Client] != 3 {
		t.Fatalf("coalesced late Initial: %+v, packets %v", r, c.Packets)
	}
	if c.keys != nil || tr.buf != nil {
		t.Fatal("keys or decryption buffer kept after the client's first Handshake packet")
	}
	if r = tr.Datagram(0, handshakePacket(Version1, newCID, nil, 30)); r.Conn != c || c.Packets[Client] != 4 {
		t.Fatalf("Handshake to the learnt ID: %+v", r)
	}
	// A late Initial now still finds its connection, by keys derived
	// again and not kept.
	if r = tr.Datagram(0, tc.client([]byte{7, 7, 7, 7}, ackFrame(false))); r.Conn != c || c.keys != nil || tr.buf != nil {
		t.Fatalf("late Initial after the release: %+v", r)
	}
}
