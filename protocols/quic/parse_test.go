package quic

import (
	"bytes"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// TestDecodePacketNumber follows RFC 9000 Appendix A.3's example and the
// edges of the window.
func TestDecodePacketNumber(t *testing.T) {
	for _, c := range []struct {
		largest   int64
		truncated uint64
		bits      int
		want      uint64
	}{
		{0xa82f30ea, 0x9b32, 16, 0xa82f9b32}, // RFC 9000 A.3
		{-1, 0, 8, 0},
		{-1, 2, 32, 2},
		{255, 0x01, 8, 0x101},
		{0x1ff, 0xfe, 8, 0x1fe},
		{0x17f, 0x00, 8, 0x200},
	} {
		if got := decodePacketNumber(c.largest, c.truncated, c.bits); got != c.want {
			t.Errorf("decode(%#x, %#x, %d) = %#x, want %#x", c.largest, c.truncated, c.bits, got, c.want)
		}
	}
}

// TestVarint round-trips the four encodings (RFC 9000 §16, Table 4's
// examples).
func TestVarint(t *testing.T) {
	for _, c := range []struct {
		enc  []byte
		want uint64
	}{
		{[]byte{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 151288809941952652},
		{[]byte{0x9d, 0x7f, 0x3e, 0x7d}, 494878333},
		{[]byte{0x7b, 0xbd}, 15293},
		{[]byte{0x25}, 37},
		{[]byte{0x40, 0x25}, 37},
	} {
		s := cryptobyte.String(c.enc)
		var v uint64
		if !readVarint(&s, &v) || v != c.want || !s.Empty() {
			t.Errorf("%x: %d", c.enc, v)
		}
		s = cryptobyte.String(c.enc[:len(c.enc)-1])
		if readVarint(&s, &v) || len(s) != len(c.enc)-1 {
			t.Errorf("%x truncated: read or consumed", c.enc)
		}
		b := cryptobyte.NewBuilder(nil)
		addVarint(b, c.want, len(c.enc))
		if got := b.BytesOrPanic(); !bytes.Equal(got, c.enc) {
			t.Errorf("encode %d in %d bytes: %x", c.want, len(c.enc), got)
		}
	}
}

// TestParseFrames reads each frame type allowed in Initial packets and
// refuses the others.
func TestParseFrames(t *testing.T) {
	payload := bytes.Join([][]byte{
		{0, 0, 0},
		{byte(FramePing)},
		ackFrame(false),
		cryptoFrame(5, []byte("hello")),
		ackFrame(true),
		{0},
		cryptoFrame(0, []byte("12345")),
	}, nil)
	var got []string
	err := ParseFrames(payload, func(f Frame) bool {
		switch f.Type {
		case FrameCrypto:
			got = append(got, "crypto:"+string(f.Data))
		case FramePing:
			got = append(got, "ping")
		case FrameACK, FrameACKECN:
			got = append(got, "ack")
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ping", "ack", "crypto:hello", "ack", "crypto:12345"}; !equalStrings(got, want) {
		t.Fatalf("frames %q, want %q", got, want)
	}
	// Every strict prefix of the payload either parses fewer frames or
	// fails; none panics.
	for i := range len(payload) {
		_ = ParseFrames(payload[:i], func(Frame) bool { return true })
	}
	for _, bad := range [][]byte{
		{0x08, 0x00},                  // STREAM: not in Initial packets
		{0x06, 0x00, 0x05, 'a'},       // CRYPTO longer than the payload
		{0x02, 0x01, 0x00, 0x3f, 0},   // ACK range count beyond the data
		{0x1c, 0x00, 0x00, 0x10, 'a'}, // reason longer than the payload
		{0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'}, // offset beyond 2^62-1
		{0x40}, // truncated type
	} {
		if err := ParseFrames(bad, func(Frame) bool { return true }); !errors.Is(err, ErrMalformed) {
			t.Errorf("%x: err %v", bad, err)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHeaderPrefixes: no strict prefix of the RFC's client Initial opens,
// and none panics; a header damaged anywhere does not decrypt.
func TestHeaderPrefixes(t *testing.T) {
	pkt := hexFile(t, "rfc9001-client-initial.hex")
	k, err := NewInitialKeys(Version1, rfcDCID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(pkt) {
		h, err := ParseLongHeader(pkt[:i])
		if err != nil {
			continue
		}
		if _, _, err := k.Client.Open(nil, pkt[:i], &h, -1); err == nil {
			t.Fatalf("prefix of %d bytes opened", i)
		}
	}
	for _, i := range []int{0, 5, 6, 14, 17, 18, 21, 22, 600, 1199} {
		bad := bytes.Clone(pkt)
		bad[i] ^= 0x04
		h, err := ParseLongHeader(bad)
		if err != nil {
			continue
		}
		if bytes.Equal(h.DCID, rfcDCID) && h.Version == Version1 {
			if _, _, err := k.Client.Open(nil, bad, &h, -1); !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrTruncated) {
				t.Errorf("byte %d flipped: err %v", i, err)
			}
		}
	}
	if _, err := ParseLongHeader([]byte{0x40, 1, 2, 3}); !errors.Is(err, ErrMalformed) {
		t.Errorf("short header: %v", err)
	}
	long := append([]byte{0xc0, 0, 0, 0, 1, 21}, make([]byte, 40)...)
	if _, err := ParseLongHeader(long); !errors.Is(err, ErrMalformed) {
		t.Errorf("21-byte DCID in v1: %v", err)
	}
}

// TestVersionNegotiation: a Version Negotiation packet answering the
// client is tied to its connection.
func TestVersionNegotiation(t *testing.T) {
	tc := newTestConn(t, Version1)
	var tr Tracker
	r := tr.Datagram(0, tc.client(nil, cryptoFrame(0, bigClientHello(t, "vn.example"))))
	c := r.Conn
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(0x80)
	b.AddUint32(0)
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(testClientCID) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(testODCID) })
	b.AddUint32(uint32(Version2))
	b.AddUint32(0x1a2a3a4a)
	if r = tr.Datagram(1, b.BytesOrPanic()); r.Conn != c || !c.VersionNegotiation || r.Version != VersionNegotiation {
		t.Fatalf("%+v", r)
	}
}
