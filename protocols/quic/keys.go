package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"

	"golang.org/x/crypto/cryptobyte"
)

// versionParams is what differs between the QUIC versions for Initial
// packets: the salt of the initial secret, the labels of the packet
// protection keys, and the numbering of the long header packet types.
type versionParams struct {
	salt                       []byte
	keyLabel, ivLabel, hpLabel string
	v2Types                    bool
}

var (
	// RFC 9001 §5.2.
	saltV1 = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	// RFC 9369 §3.3.1.
	saltV2 = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
	// draft-ietf-quic-tls-29 §5.2 (drafts 29 to 32; 33 and 34 have
	// version 1's).
	saltDraft29 = []byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99}
	// draft-ietf-quic-tls-23 §5.2 (drafts 23 to 28).
	saltDraft23 = []byte{0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02}
)

// paramsOf returns the Initial parameters of v, if the package knows them.
func paramsOf(v Version) (versionParams, bool) {
	switch {
	case v == Version1:
		return versionParams{saltV1, "quic key", "quic iv", "quic hp", false}, true
	case v == Version2:
		// RFC 9369 §3.3.2: "quicv2 key", "quicv2 iv", "quicv2 hp".
		return versionParams{saltV2, "quicv2 key", "quicv2 iv", "quicv2 hp", true}, true
	case v.IsDraft() && uint8(v) >= 33 && uint8(v) <= 34:
		return versionParams{saltV1, "quic key", "quic iv", "quic hp", false}, true
	case v.IsDraft() && uint8(v) >= 29 && uint8(v) <= 32:
		return versionParams{saltDraft29, "quic key", "quic iv", "quic hp", false}, true
	case v.IsDraft() && uint8(v) >= 23 && uint8(v) <= 28:
		return versionParams{saltDraft23, "quic key", "quic iv", "quic hp", false}, true
	}
	return versionParams{}, false
}

// packetType maps the two Long Packet Type bits to a type: RFC 9000
// §17.2 Table 5 (Initial 0, 0-RTT 1, Handshake 2, Retry 3) or RFC 9369
// §3.2 (Initial 1, 0-RTT 2, Handshake 3, Retry 0).
func (p versionParams) packetType(bits uint8) PacketType {
	if p.v2Types {
		bits = (bits + 3) & 3
	}
	return [4]PacketType{PacketInitial, Packet0RTT, PacketHandshake, PacketRetry}[bits]
}

// typeBits is the inverse of packetType.
func (p versionParams) typeBits(t PacketType) uint8 {
	bits := uint8(t - PacketInitial)
	if p.v2Types {
		bits = (bits + 1) & 3
	}
	return bits
}

// Keys protect the packets of one direction at one encryption level:
// AEAD_AES_128_GCM with its IV (RFC 9001 §5.3) and AES-based header
// protection (§5.4.3), the cipher suite of Initial packets (§5.2).
type Keys struct {
	aead cipher.AEAD
	iv   [12]byte
	hp   cipher.Block
}

// InitialKeys are the keys of both directions of a connection's Initial
// packets.
type InitialKeys struct {
	Version Version
	Client  Keys
	Server  Keys
}

// NewInitialKeys derives the Initial keys of version v from the
// Destination Connection ID of the client's first Initial packet (or, after
// a Retry, of the Initial that answers it) (RFC 9001 §5.2):
//
//	initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
//	client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
//	server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
//
// and from each secret the key (16 bytes), IV (12) and header protection
// key (16) with the version's labels (§5.1). An unknown version is
// ErrUnsupportedVersion.
func NewInitialKeys(v Version, dcid []byte) (*InitialKeys, error) {
	p, ok := paramsOf(v)
	if !ok {
		return nil, perr("initial keys", v.String(), ErrUnsupportedVersion)
	}
	infos := labelInfosV1
	if p.keyLabel != labelInfosV1.keyLabel {
		infos = labelInfosV2
	}
	if len(dcid) > 255 {
		// A long header's connection ID length is one byte (RFC 9000
		// §17.2).
		return nil, perr("initial keys", "connection ID", ErrMalformed)
	}
	initial := extract(p.salt, dcid)
	var ex expander
	ex.init(initial[:])
	var cs, ss [32]byte
	ex.expand(cs[:], infos.clientIn)
	ex.expand(ss[:], infos.serverIn)
	k := &InitialKeys{Version: v}
	if err := k.Client.derive(&ex, cs[:], infos); err != nil {
		return nil, err
	}
	if err := k.Server.derive(&ex, ss[:], infos); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keys) derive(ex *expander, secret []byte, infos *labelInfos) error {
	var key, hp [16]byte
	ex.init(secret)
	ex.expand(key[:], infos.key)
	ex.expand(k.iv[:], infos.iv)
	ex.expand(hp[:], infos.hp)
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return perr("initial keys", "key", err)
	}
	if k.aead, err = cipher.NewGCM(block); err != nil {
		return perr("initial keys", "aead", err)
	}
	if k.hp, err = aes.NewCipher(hp[:]); err != nil {
		return perr("initial keys", "hp", err)
	}
	return nil
}

// labelInfos are the HkdfLabel structures of the labels an Initial key
// schedule expands (RFC 9001 §5.1, §5.2), built once.
type labelInfos struct {
	keyLabel                        string
	clientIn, serverIn, key, iv, hp []byte
}

func newLabelInfos(keyLabel, ivLabel, hpLabel string) *labelInfos {
	return &labelInfos{keyLabel: keyLabel,
		clientIn: hkdfLabel("client in", 32), serverIn: hkdfLabel("server in", 32),
		key: hkdfLabel(keyLabel, 16), iv: hkdfLabel(ivLabel, 12), hp: hkdfLabel(hpLabel, 16)}
}

var (
	labelInfosV1 = newLabelInfos("quic key", "quic iv", "quic hp")
	// RFC 9369 §3.3.2.
	labelInfosV2 = newLabelInfos("quicv2 key", "quicv2 iv", "quicv2 hp")
)

// expander computes HKDF-Expand-Label (RFC 8446 §7.1) under one secret.
// Every output here is at most one hash long, and then HKDF-Expand
// (RFC 5869 §2.3) is a single HMAC: OKM = first L octets of
// T(1) = HMAC-Hash(PRK, info | 0x01). HKDF-Extract (RFC 5869 §2.2) is one
// HMAC too, keyed with the salt. The HMAC (RFC 2104 §2:
// H(K XOR opad, H(K XOR ipad, text))) is computed here with two
// sha256.Sum256 over buffers on the stack: no allocation, where
// crypto/hmac allocates two digests and their saved states per key, the
// larger part of the cost of a new connection's keys.
type expander struct {
	ipad, opad [sha256.BlockSize]byte
}

// maxMACText is the longest text mac takes: an HkdfLabel with a label of
// up to 255 bytes, or a connection ID.
const maxMACText = 2 + 1 + 255 + 1 + 1

// init keys the HMAC with secret (at most a block long: the salts, the
// connection IDs of RFC 9000 and the 32-byte secrets).
func (e *expander) init(secret []byte) {
	var k [sha256.BlockSize]byte
	if len(secret) > len(k) {
		// RFC 2104 §2: a longer key is hashed first.
		d := sha256.Sum256(secret)
		secret = d[:]
	}
	copy(k[:], secret)
	for i := range k {
		e.ipad[i] = k[i] ^ 0x36
		e.opad[i] = k[i] ^ 0x5c
	}
}

// mac returns HMAC-SHA256 of text, then one more byte when extra ≥ 0
// (HKDF-Expand's counter). text is at most maxMACText bytes.
func (e *expander) mac(text []byte, extra int) [sha256.Size]byte {
	var in [sha256.BlockSize + maxMACText + 1]byte
	n := copy(in[:], e.ipad[:])
	n += copy(in[n:], text)
	if extra >= 0 {
		in[n] = byte(extra)
		n++
	}
	inner := sha256.Sum256(in[:n])
	var out [sha256.BlockSize + sha256.Size]byte
	copy(out[:], e.opad[:])
	copy(out[sha256.BlockSize:], inner[:])
	return sha256.Sum256(out[:])
}

// extract returns HKDF-Extract(salt, ikm) (RFC 5869 §2.2: PRK =
// HMAC-Hash(salt, IKM)), ikm at most maxMACText bytes.
func extract(salt, ikm []byte) [sha256.Size]byte {
	var e expander
	e.init(salt)
	return e.mac(ikm, -1)
}

// expand writes the first len(out) (≤ 32) bytes of T(1) for info.
func (e *expander) expand(out, info []byte) {
	t := e.mac(info, 1)
	copy(out, t[:])
}

// hkdfLabel is the info of HKDF-Expand-Label (RFC 8446 §7.1): struct {
// uint16 length; opaque label<7..255> = "tls13 " + Label; opaque
// context<0..255> = ""; } HkdfLabel.
func hkdfLabel(label string, n int) []byte {
	b := cryptobyte.NewBuilder(make([]byte, 0, 2+1+6+len(label)+1))
	b.AddUint16(uint16(n))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddBytes([]byte("tls13 "))
		b.AddBytes([]byte(label))
	})
	b.AddUint8LengthPrefixed(func(*cryptobyte.Builder) {})
	return b.BytesOrPanic() // cannot fail: the labels are short constants
}

// putNonce writes into n (12 bytes) the AEAD nonce of packet number pn:
// the IV with the packet number, left-padded to 12 bytes, XORed in
// (RFC 9001 §5.3).
func (k *Keys) putNonce(n []byte, pn uint64) {
	copy(n, k.iv[:])
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], pn)
	for i := range p {
		n[4+i] ^= p[i]
	}
}

// mask returns the header protection mask of a 16-byte sample
// (RFC 9001 §5.4.3: AES-ECB(hp_key, sample)).
func (k *Keys) mask(sample []byte) [16]byte {
	var m [16]byte
	k.hp.Encrypt(m[:], sample)
	return m
}
