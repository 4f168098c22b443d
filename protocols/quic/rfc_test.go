package quic

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/hkdf"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// The sample packets of RFC 9001 Appendix A (QUIC v1) and RFC 9369
// Appendix A (QUIC v2): the same client-chosen connection ID, the same
// ClientHello and ServerHello, protected with each version's keys.

// unhex decodes hex with spaces, newlines and '#' comment lines.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	out, err := hex.DecodeString(b.String())
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return out
}

func hexFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return unhex(t, string(b))
}

var rfcDCID = []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}

// rfcClientCrypto is the CRYPTO frame of the client Initial (RFC 9001
// A.2, RFC 9369 A.2), padded with PADDING frames to 1162 bytes.
const rfcClientCrypto = `
060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
0d0010000e0403050306030203080408 050806002d00020101001c0002400100
3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
75300901100f088394c8f03e51570806 048000ffff`

// rfcServerPayload is the server Initial's payload: an ACK and a CRYPTO
// frame holding the ServerHello (RFC 9001 A.3, RFC 9369 A.3).
const rfcServerPayload = `
02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739
88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94
0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00
020304`

type rfcVectors struct {
	version                    Version
	file                       string
	initialSecret              string
	clientSecret, serverSecret string
	clientKey, clientIV, clientHP,
	serverKey, serverIV, serverHP string
	labels                   map[string]string // label → HkdfLabel
	clientSample, clientMask string
	serverSample, serverMask string
	serverPacket             string
	clientHeader             string // unprotected
}

var rfcCases = []rfcVectors{{
	version:       Version1,
	file:          "rfc9001-client-initial.hex",
	initialSecret: "7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44",
	clientSecret:  "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
	serverSecret:  "3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b",
	clientKey:     "1f369613dd76d5467730efcbe3b1a22d",
	clientIV:      "fa044b2f42a3fd3b46fb255c",
	clientHP:      "9f50449e04a0e810283a1e9933adedd2",
	serverKey:     "cf3a5331653c364c88f0f379b6067e37",
	serverIV:      "0ac1493ca1905853b0bba03e",
	serverHP:      "c206b8d9b9f0f37644430b490eeaa314",
	labels: map[string]string{
		"client in": "00200f746c73313320636c69656e7420696e00",
		"server in": "00200f746c7331332073657276657220696e00",
		"quic key":  "00100e746c7331332071756963206b657900",
		"quic iv":   "000c0d746c733133207175696320697600",
		"quic hp":   "00100d746c733133207175696320687000",
	},
	clientHeader: "c300000001088394c8f03e5157080000449e00000002",
	clientSample: "d1b1c98dd7689fb8ec11d242b123dc9b", clientMask: "437b9aec36",
	serverSample: "2cd0991cd25b0aac406a5816b6394100", serverMask: "2ec0d8356a",
	serverPacket: `
cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
2158407dd074ee`,
}, {
	version:       Version2,
	file:          "rfc9369-client-initial.hex",
	initialSecret: "2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba",
	clientSecret:  "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b",
	serverSecret:  "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1",
	clientKey:     "8b1a0bc121284290a29e0971b5cd045d",
	clientIV:      "91f73e2351d8fa91660e909f",
	clientHP:      "45b95e15235d6f45a6b19cbcb0294ba9",
	serverKey:     "82db637861d55e1d011f19ea71d5d2a7",
	serverIV:      "dd13c276499c0249d3310652",
	serverHP:      "edf6d05c83121201b436e16877593c3a",
	labels: map[string]string{
		"client in":  "00200f746c73313320636c69656e7420696e00",
		"server in":  "00200f746c7331332073657276657220696e00",
		"quicv2 key": "001010746c73313320717569637632206b657900",
		"quicv2 iv":  "000c0f746c7331332071756963763220697600",
		"quicv2 hp":  "00100f746c7331332071756963763220687000",
	},
	clientHeader: "d36b3343cf088394c8f03e5157080000449e00000002",
	clientSample: "ffe67b6abcdb4298b485dd04de806071", clientMask: "94a0c95e80",
	serverSample: "6f05d8a4398c47089698baeea26b91eb", serverMask: "4dd92e91ea",
	serverPacket: `
dc6b3343cf0008f067a5502a4262b500 4075d92faaf16f05d8a4398c47089698
baeea26b91eb761d9b89237bbf872630 17915358230035f7fd3945d88965cf17
f9af6e16886c61bfc703106fbaf3cb4c fa52382dd16a393e42757507698075b2
c984c707f0a0812d8cd5a6881eaf21ce da98f4bd23f6fe1a3e2c43edd9ce7ca8
4bed8521e2e140`,
}}

func rfcClientPayload(t testing.TB) []byte {
	p := unhex(t, rfcClientCrypto)
	return append(p, make([]byte, 1162-len(p))...)
}

// TestRFCKeys checks the key schedule, step by step, against Appendix A.1
// of both RFCs.
func TestRFCKeys(t *testing.T) {
	for _, v := range rfcCases {
		t.Run(v.version.String(), func(t *testing.T) {
			p, ok := paramsOf(v.version)
			if !ok {
				t.Fatal("version not known")
			}
			for label, want := range v.labels {
				if got := hex.EncodeToString(hkdfLabel(label, labelLen(label))); got != want {
					t.Errorf("HkdfLabel %q = %s, want %s", label, got, want)
				}
			}
			initial := hkdf.Extract(sha256.New, rfcDCID, p.salt)
			check := func(name string, got []byte, want string) {
				t.Helper()
				if hex.EncodeToString(got) != want {
					t.Errorf("%s = %x, want %s", name, got, want)
				}
			}
			check("initial_secret", initial, v.initialSecret)
			cs := expandLabel(initial, "client in", 32)
			ss := expandLabel(initial, "server in", 32)
			check("client_initial_secret", cs, v.clientSecret)
			check("server_initial_secret", ss, v.serverSecret)
			check("client key", expandLabel(cs, p.keyLabel, 16), v.clientKey)
			check("client iv", expandLabel(cs, p.ivLabel, 12), v.clientIV)
			check("client hp", expandLabel(cs, p.hpLabel, 16), v.clientHP)
			check("server key", expandLabel(ss, p.keyLabel, 16), v.serverKey)
			check("server iv", expandLabel(ss, p.ivLabel, 12), v.serverIV)
			check("server hp", expandLabel(ss, p.hpLabel, 16), v.serverHP)

			k, err := NewInitialKeys(v.version, rfcDCID)
			if err != nil {
				t.Fatal(err)
			}
			check("Keys.Client.iv", k.Client.iv[:], v.clientIV)
			check("Keys.Server.iv", k.Server.iv[:], v.serverIV)
			// RFC 9001 §5.4.3: mask = AES-ECB(hp, sample); the appendix
			// shows its first 5 bytes.
			cm := k.Client.mask(unhex(t, v.clientSample))
			sm := k.Server.mask(unhex(t, v.serverSample))
			check("client mask", cm[:5], v.clientMask)
			check("server mask", sm[:5], v.serverMask)
		})
	}
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1),
// computed with x/crypto's HKDF: the reference the package's single-HMAC
// expander is checked against.
func expandLabel(secret []byte, label string, n int) []byte {
	out := make([]byte, n)
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, secret, hkdfLabel(label, n)), out); err != nil {
		panic(err)
	}
	return out
}

// TestExpander: the single-HMAC expansion equals HKDF-Expand for every
// label and length used.
func TestExpander(t *testing.T) {
	secret := bytes.Repeat([]byte{0x5a}, 32)
	var ex expander
	ex.init(secret)
	for _, infos := range []*labelInfos{labelInfosV1, labelInfosV2} {
		for _, c := range []struct {
			label string
			info  []byte
			n     int
		}{{"client in", infos.clientIn, 32}, {"server in", infos.serverIn, 32}, {infos.keyLabel, infos.key, 16},
			{strings.Replace(infos.keyLabel, "key", "iv", 1), infos.iv, 12}, {strings.Replace(infos.keyLabel, "key", "hp", 1), infos.hp, 16}} {
			got := make([]byte, c.n)
			ex.expand(got, c.info)
			if want := expandLabel(secret, c.label, c.n); !bytes.Equal(got, want) {
				t.Errorf("%s: %x, want %x", c.label, got, want)
			}
		}
	}
}

// labelLen returns the length an Appendix A label is expanded to: 16
// bytes for keys and hp, 12 for ivs, 32 for secrets.
func labelLen(label string) int {
	switch {
	case strings.HasSuffix(label, " in"):
		return 32
	case strings.HasSuffix(label, " iv"):
		return 12
	}
	return 16
}

// TestRFCClientInitial opens the sample client Initial and builds it again
// byte for byte.
func TestRFCClientInitial(t *testing.T) {
	for _, v := range rfcCases {
		t.Run(v.version.String(), func(t *testing.T) {
			pkt := hexFile(t, v.file)
			if len(pkt) != 1200 {
				t.Fatalf("sample packet is %d bytes, want 1200", len(pkt))
			}
			h, err := ParseLongHeader(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if h.Type != PacketInitial || h.Version != v.version || !bytes.Equal(h.DCID, rfcDCID) ||
				len(h.SCID) != 0 || len(h.Token) != 0 || h.Len != 1200 || h.PNOffset != 18 {
				t.Fatalf("header %+v", h)
			}
			k, err := NewInitialKeys(v.version, rfcDCID)
			if err != nil {
				t.Fatal(err)
			}
			orig := bytes.Clone(pkt)
			op, buf, err := k.Client.Open(nil, pkt, &h, -1)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pkt, orig) {
				t.Fatal("Open modified its input")
			}
			if op.PN != 2 {
				t.Errorf("packet number %d, want 2", op.PN)
			}
			if want := unhex(t, v.clientHeader); !bytes.Equal(buf[:len(want)], want) {
				t.Errorf("unprotected header %x, want %x", buf[:len(want)], want)
			}
			if want := rfcClientPayload(t); !bytes.Equal(op.Payload, want) {
				t.Errorf("payload differs:\n got %x\nwant %x", op.Payload, want)
			}
			// The server keys must not open it.
			if _, _, err := k.Server.Open(nil, pkt, &h, -1); err == nil {
				t.Error("server keys opened the client's packet")
			}
			again, err := k.Client.AppendInitial(nil, InitialPacket{Version: v.version, DCID: rfcDCID, PN: 2, PNLen: 4, Payload: rfcClientPayload(t)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, pkt) {
				t.Errorf("AppendInitial differs from the RFC's packet:\n got %x\nwant %x", again, pkt)
			}
		})
	}
}

// TestRFCServerInitial opens the sample server Initial (keys from the
// client's DCID, which the packet does not carry) and builds it again.
func TestRFCServerInitial(t *testing.T) {
	scid := unhex(t, "f067a5502a4262b5")
	for _, v := range rfcCases {
		t.Run(v.version.String(), func(t *testing.T) {
			pkt := unhex(t, v.serverPacket)
			h, err := ParseLongHeader(pkt)
			if err != nil {
				t.Fatal(err)
			}
			if h.Type != PacketInitial || len(h.DCID) != 0 || !bytes.Equal(h.SCID, scid) || h.Len != len(pkt) {
				t.Fatalf("header %+v", h)
			}
			k, err := NewInitialKeys(v.version, rfcDCID)
			if err != nil {
				t.Fatal(err)
			}
			op, _, err := k.Server.Open(nil, pkt, &h, -1)
			if err != nil {
				t.Fatal(err)
			}
			if op.PN != 1 {
				t.Errorf("packet number %d, want 1", op.PN)
			}
			if want := unhex(t, rfcServerPayload); !bytes.Equal(op.Payload, want) {
				t.Errorf("payload %x, want %x", op.Payload, want)
			}
			again, err := k.Server.AppendInitial(nil, InitialPacket{Version: v.version, SCID: scid, PN: 1, PNLen: 2, Payload: unhex(t, rfcServerPayload)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, pkt) {
				t.Errorf("AppendInitial differs:\n got %x\nwant %x", again, pkt)
			}
		})
	}
}

// TestRFCTracker plays both sample packets through a Tracker and parses
// the hellos with protocols/tls.
func TestRFCTracker(t *testing.T) {
	for _, v := range rfcCases {
		t.Run(v.version.String(), func(t *testing.T) {
			var tr Tracker
			r := tr.Datagram(1, hexFile(t, v.file))
			if r.Conn == nil || r.Completed || r.Long != 1 || r.Version != v.version || r.Err != nil {
				t.Fatalf("client datagram: %+v", r)
			}
			c := r.Conn
			if c.ClientSide != 1 || !bytes.Equal(c.ODCID, rfcDCID) || c.Version != v.version {
				t.Fatalf("conn %+v", c)
			}
			r = tr.Datagram(0, unhex(t, v.serverPacket))
			if r.Conn != c || !r.Completed {
				t.Fatalf("server datagram: %+v", r)
			}
			ch, err := tls.ParseClientHello(c.ClientHello())
			if err != nil {
				t.Fatal(err)
			}
			if ch.ServerName != "example.com" || len(ch.ALPN) != 1 || ch.ALPN[0] != "alpn" {
				t.Errorf("ClientHello: SNI %q ALPN %q", ch.ServerName, ch.ALPN)
			}
			sh, err := tls.ParseServerHello(c.ServerHello())
			if err != nil {
				t.Fatal(err)
			}
			if sh.NegotiatedVersion() != tls.VersionTLS13 || sh.CipherSuite != 0x1301 {
				t.Errorf("ServerHello: %v %#04x", sh.NegotiatedVersion(), sh.CipherSuite)
			}
			if c.ServerVersion != v.version || !bytes.Equal(c.ServerCID, unhex(t, "f067a5502a4262b5")) ||
				c.Initials != [2]int{1, 1} || c.Packets != [2]int{1, 1} {
				t.Errorf("conn %+v", c)
			}
			if got := tls.JA4(ch, tls.JA4QUIC); got[0] != 'q' {
				t.Errorf("JA4 %s", got)
			}
		})
	}
}

// TestExtractAndMAC: the package's HMAC and HKDF-Extract equal
// crypto/hmac's and x/crypto's for keys and texts of every length they
// take, a key longer than a block (hashed first) included.
func TestExtractAndMAC(t *testing.T) {
	for _, kl := range []int{0, 1, 20, 32, 63, 64, 65, 100} {
		for _, tl := range []int{0, 1, 8, 20, 55, 56, 64, 119, maxMACText} {
			key := bytes.Repeat([]byte{byte(kl + 1)}, kl)
			text := bytes.Repeat([]byte{byte(tl + 7)}, tl)
			if got, want := extract(key, text), hkdf.Extract(sha256.New, text, key); !bytes.Equal(got[:], want) {
				t.Errorf("extract key %d text %d: %x, want %x", kl, tl, got, want)
			}
			var e expander
			e.init(key)
			m := hmac.New(sha256.New, key)
			m.Write(text)
			m.Write([]byte{1})
			if got, want := e.mac(text, 1), m.Sum(nil); !bytes.Equal(got[:], want) {
				t.Errorf("mac key %d text %d: %x, want %x", kl, tl, got, want)
			}
		}
	}
}
