package quic

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

var updateCorpus = flag.Bool("update-quic-corpus", false, "rewrite the committed fuzz seed corpora of protocols/quic")

// requireSeeds fails when a committed seed corpus is missing or empty: a
// fuzz test whose corpus vanished would otherwise test nothing.
func requireSeeds(f *testing.F, name string) {
	f.Helper()
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s (regenerate with -update-quic-corpus)", name)
	}
}

// datagrams encodes a sequence of datagrams for FuzzDatagrams: per
// datagram, the sending side (1 byte), a 2-byte length and the bytes.
func datagrams(ds ...[]byte) []byte {
	var out []byte
	for i, d := range ds {
		side := byte(0)
		if len(d) > 0 && d[0]&0x80 != 0 && i%2 == 1 {
			side = 1
		}
		out = append(out, side)
		out = binary.BigEndian.AppendUint16(out, uint16(len(d)))
		out = append(out, d...)
	}
	return out
}

// fuzzSeeds returns the seed inputs of both fuzz targets, built from the
// RFC samples and test connections (deterministic: the hellos use a
// seeded generator and the packets have no random parts).
func fuzzSeeds(t testing.TB) (dgrams, payloads map[string][]byte) {
	v1c, v1s := hexFile(t, rfcCases[0].file), unhex(t, rfcCases[0].serverPacket)
	v2c, v2s := hexFile(t, rfcCases[1].file), unhex(t, rfcCases[1].serverPacket)
	ch := bigClientHello(t, "seed.example")
	sh := testServerHello(t, false)
	tc := newTestConn(t, Version1)
	parts := split(ch, 3)
	p0, p1, p2 := tc.client(nil, parts[0]), tc.client(nil, parts[1]), tc.client(nil, parts[2])
	srv := append(tc.server(nil, 0, ackFrame(true), cryptoFrame(0, sh)), handshakePacket(Version1, testClientCID, testServerCID, 40)...)
	hrr := newTestConn(t, Version2)
	h0 := hrr.client(nil, cryptoFrame(0, ch))
	h1 := hrr.server(nil, 0, cryptoFrame(0, testServerHello(t, true)))
	dgrams = map[string][]byte{
		"rfc9001":          datagrams(v1c, v1s),
		"rfc9369":          datagrams(v2c, v2s),
		"pq-three-packets": datagrams(p2, srv, p0, nil, p1),
		"v2-hrr":           datagrams(h0, h1),
		"short-header":     datagrams([]byte{0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9}),
		"gquic":            datagrams(append([]byte{0xc3, 'Q', '0', '5', '0', 8, 1, 2, 3, 4, 5, 6, 7, 8, 0}, make([]byte, 64)...)),
		"empty":            datagrams(nil),
	}
	payloads = map[string][]byte{
		"rfc-client":     unhex(t, rfcClientCrypto),
		"rfc-server":     unhex(t, rfcServerPayload),
		"ack-ecn-crypto": bytes.Join([][]byte{ackFrame(true), cryptoFrame(0, ch[:100]), {1, 0, 0}}, nil),
		"overlap":        bytes.Join([][]byte{cryptoFrame(50, ch[50:300]), cryptoFrame(0, ch[:60])}, nil),
		"close":          {0x1c, 0x41, 0x28, 0x06, 0x02, 'n', 'o'},
	}
	return dgrams, payloads
}

func corpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestFuzzCorpus checks that the committed seeds are those fuzzSeeds
// builds (rewrite them with -update-quic-corpus).
func TestFuzzCorpus(t *testing.T) {
	dgrams, payloads := fuzzSeeds(t)
	for target, seeds := range map[string]map[string][]byte{"FuzzDatagrams": dgrams, "FuzzInitialPayload": payloads} {
		dir := filepath.Join("testdata", "fuzz", target)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, data := range seeds {
			path := filepath.Join(dir, name)
			if *updateCorpus {
				if err := os.WriteFile(path, corpusFile(data), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, corpusFile(data)) {
				t.Errorf("%s is missing or stale (err %v); rerun with -update-quic-corpus", path, err)
			}
		}
	}
}

// FuzzDatagrams plays a sequence of datagrams through one Tracker: no
// panic, the caps hold, and what is handed out is a hello of the right
// type and length.
func FuzzDatagrams(f *testing.F) {
	requireSeeds(f, "FuzzDatagrams")
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := Tracker{MaxCrypto: 4096, MaxConns: 4}
		s := cryptobyte.String(data)
		for !s.Empty() {
			var side uint8
			var d cryptobyte.String
			if !s.ReadUint8(&side) || !s.ReadUint16LengthPrefixed(&d) {
				break
			}
			orig := bytes.Clone(d)
			r := tr.Datagram(int(side), d)
			if !bytes.Equal(orig, d) {
				t.Fatal("Datagram modified its input")
			}
			if len(tr.Conns()) > 4 || r.Long < 0 || r.Undecryptable > r.Long {
				t.Fatalf("bounds: %d conns, %+v", len(tr.Conns()), r)
			}
		}
		for _, c := range tr.Conns() {
			checkConn(t, c, 4096)
		}
	})
}

// FuzzInitialPayload feeds decrypted payloads (frames) to a connection's
// reassembly, alternating the roles.
func FuzzInitialPayload(f *testing.F) {
	requireSeeds(f, "FuzzInitialPayload")
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &Conn{largest: [2]int64{-1, -1}}
		c.streams[Client].max, c.streams[Server].max = 2048, 2048
		for i, p := range bytes.Split(data, []byte("|")) {
			c.crypto(i&1, p)
		}
		checkConn(t, c, 2048)
	})
}

func checkConn(t *testing.T, c *Conn, limit int) {
	t.Helper()
	for role := range 2 {
		st := &c.streams[role]
		if cap(st.buf) > limit {
			t.Fatalf("stream buffer of %d bytes over the cap %d", cap(st.buf), limit)
		}
		for i, sp := range st.have {
			if sp.lo >= sp.hi || sp.hi > len(st.buf) || (i > 0 && st.have[i-1].hi >= sp.lo) {
				t.Fatalf("spans broken: %+v (buffer %d)", st.have, len(st.buf))
			}
		}
	}
	for _, m := range [][]byte{c.ClientHello(), c.ServerHello()} {
		if m == nil {
			continue
		}
		if len(m) < 4 || int(m[1])<<16|int(m[2])<<8|int(m[3]) != len(m)-4 {
			t.Fatalf("handed-out message of %d bytes has a wrong header %x", len(m), m[:min(4, len(m))])
		}
	}
	if ch := c.ClientHello(); ch != nil && ch[0] != 1 {
		t.Fatalf("ClientHello of type %d", ch[0])
	}
	if sh := c.ServerHello(); sh != nil && sh[0] != 2 {
		t.Fatalf("ServerHello of type %d", sh[0])
	}
}
