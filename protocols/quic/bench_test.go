package quic

import (
	"testing"
)

// BenchmarkOpenInitial: removing the protection of one 1,200-byte client
// Initial with known keys and walking its frames (the per-packet cost
// once a connection's keys are derived).
func BenchmarkOpenInitial(b *testing.B) {
	pkt := hexFile(b, rfcCases[0].file)
	k, err := NewInitialKeys(Version1, rfcDCID)
	if err != nil {
		b.Fatal(err)
	}
	h, err := ParseLongHeader(pkt)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1500)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		h, _ = ParseLongHeader(pkt)
		op, nb, err := k.Client.Open(buf, pkt, &h, -1)
		if err != nil {
			b.Fatal(err)
		}
		buf = nb
		n := 0
		if err := ParseFrames(op.Payload, func(Frame) bool { n++; return true }); err != nil || n != 1 {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkNewConnection: the first client Initial of a connection through
// a Tracker — Initial key derivation (HKDF, AES and GCM set-up),
// decryption, frames, reassembly and the ClientHello copy.
func BenchmarkNewConnection(b *testing.B) {
	pkt := hexFile(b, rfcCases[0].file)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		var tr Tracker
		if r := tr.Datagram(0, pkt); r.Conn == nil || r.Conn.ClientHello() == nil {
			b.Fatal("no hello")
		}
	}
}

// BenchmarkHandshake: a post-quantum ClientHello in three Initials and the
// server's Initial, per connection (4 packets).
func BenchmarkHandshake(b *testing.B) {
	ch := bigClientHello(b, "bench.example")
	sh := testServerHello(b, false)
	tc := newTestConn(b, Version1)
	var pkts [][]byte
	for _, f := range split(ch, 3) {
		pkts = append(pkts, tc.client(nil, f))
	}
	srv := tc.server(nil, 0, ackFrame(false), cryptoFrame(0, sh))
	b.ReportAllocs()
	for b.Loop() {
		var tr Tracker
		for _, p := range pkts {
			tr.Datagram(0, p)
		}
		if r := tr.Datagram(1, srv); !r.Completed {
			b.Fatal("not complete")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/4, "ns/packet")
}
