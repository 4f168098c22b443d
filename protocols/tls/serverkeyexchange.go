package tls

import (
	"bytes"
	"math/bits"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
)

// KeyExchangeKind says which parameters a ServerKeyExchange carried.
type KeyExchangeKind uint8

// Key exchange kinds of a ServerKeyExchange.
const (
	KeyExchangeECDHE KeyExchangeKind = 1 // ServerECDHParams, RFC 8422 §5.4
	KeyExchangeDHE   KeyExchangeKind = 2 // ServerDHParams, RFC 5246 §7.4.3
)

// String returns "ECDHE", "DHE" or "kex(N)".
func (k KeyExchangeKind) String() string {
	switch k {
	case KeyExchangeECDHE:
		return "ECDHE"
	case KeyExchangeDHE:
		return "DHE"
	}
	return "kex(" + strconv.Itoa(int(k)) + ")"
}

// EC curve types of ECParameters (RFC 4492 §5.4; RFC 8422 §5.4 deprecates
// the explicit ones).
const (
	CurveTypeExplicitPrime uint8 = 1
	CurveTypeExplicitChar2 uint8 = 2
	CurveTypeNamedCurve    uint8 = 3
)

// ServerKeyExchange holds the key exchange parameters of a
// ServerKeyExchange message. The signature that follows them is neither
// parsed nor verified.
type ServerKeyExchange struct {
	Kind KeyExchangeKind
	// CurveType is ECParameters.curve_type (ECDHE only): 3 named_curve,
	// or 1/2 for the explicit curves of RFC 4492.
	CurveType uint8
	// Group is the named curve (ECDHE with CurveType 3); 0 otherwise.
	Group uint16
	// PublicKey is the server's ephemeral public value: the ECPoint for
	// ECDHE, dh_Ys for DHE. For explicit_char2 curves it is nil (see
	// ParseServerKeyExchangeECDHE).
	PublicKey []byte
	// DHPrimeBits is the bit length of DHPrime (DHE only).
	DHPrimeBits int
	// DHPrime and DHGenerator are dh_p and dh_g (DHE only), as sent.
	DHPrime, DHGenerator []byte
}

// ParseServerKeyExchangeECDHE parses a ServerKeyExchange handshake message,
// 4-byte header included, that carries ServerECDHParams (RFC 8422 §5.4;
// RFC 4492 §5.4): ECParameters then the ECPoint public. For named_curve
// (3) Group is the curve; for explicit_prime (1) the curve parameters are
// skipped and Group is 0; for explicit_char2 (2) parsing stops after the
// curve type (RFC 4492 never assigned ECBasisType code points, so the
// parameters cannot be delimited reliably) and PublicKey is nil. What
// follows the parameters (the signature) is ignored. Everything returned is
// copied out of msg.
//
// Errors: another message type is ErrUnexpected, input shorter than the
// declared length ErrTruncated, another curve type or inconsistent
// parameters ErrMalformed.
func ParseServerKeyExchangeECDHE(msg []byte) (*ServerKeyExchange, error) {
	const what = "ServerKeyExchange"
	body, err := shBody(msg, TypeServerKeyExchange, what)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(bytes.Clone(body))
	ske := &ServerKeyExchange{Kind: KeyExchangeECDHE}
	// RFC 8422 §5.4: ECCurveType curve_type.
	if !s.ReadUint8(&ske.CurveType) {
		return nil, perr(what, "curve_type", ErrMalformed)
	}
	switch ske.CurveType {
	// RFC 8422 §5.4: case named_curve: NamedCurve namedcurve.
	case CurveTypeNamedCurve:
		if !s.ReadUint16(&ske.Group) {
			return nil, perr(what, "namedcurve", ErrMalformed)
		}

	// RFC 4492 §5.4: case explicit_prime: opaque prime_p<1..2^8-1>;
	// ECCurve curve (opaque a<1..2^8-1>, b<1..2^8-1>); ECPoint base;
	// opaque order<1..2^8-1>; opaque cofactor<1..2^8-1>.
	case CurveTypeExplicitPrime:
		for _, field := range []string{"prime_p", "a", "b", "base", "order", "cofactor"} {
			var v cryptobyte.String
			if !s.ReadUint8LengthPrefixed(&v) || v.Empty() {
				return nil, perr(what, field, ErrMalformed)
			}
		}

	// RFC 4492 §5.4: case explicit_char2: uint16 m; ECBasisType basis;
	// … — not delimited (see the doc comment).
	case CurveTypeExplicitChar2:
		return ske, nil

	default:
		return nil, perr(what, "curve_type", ErrMalformed)
	}
	// RFC 8422 §5.4: ECPoint public (opaque point<1..2^8-1>).
	var point cryptobyte.String
	if !s.ReadUint8LengthPrefixed(&point) || point.Empty() {
		return nil, perr(what, "public", ErrMalformed)
	}
	ske.PublicKey = shClip(point)
	return ske, nil
}

// ParseServerKeyExchangeDHE parses a ServerKeyExchange handshake message,
// 4-byte header included, that carries ServerDHParams (RFC 5246 §7.4.3):
// dh_p, dh_g and dh_Ys, each opaque<1..2^16-1>. DHPrimeBits is the bit
// length of dh_p (leading zero bytes and bits do not count). What follows
// the parameters (the signature) is ignored. Everything returned is copied
// out of msg.
//
// Errors: another message type is ErrUnexpected, input shorter than the
// declared length ErrTruncated, an empty or overlong parameter
// ErrMalformed.
func ParseServerKeyExchangeDHE(msg []byte) (*ServerKeyExchange, error) {
	const what = "ServerKeyExchange"
	body, err := shBody(msg, TypeServerKeyExchange, what)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(bytes.Clone(body))
	ske := &ServerKeyExchange{Kind: KeyExchangeDHE}
	var p, g, y cryptobyte.String
	// RFC 5246 §7.4.3: opaque dh_p<1..2^16-1>; opaque dh_g<1..2^16-1>;
	// opaque dh_Ys<1..2^16-1>.
	if !s.ReadUint16LengthPrefixed(&p) || p.Empty() {
		return nil, perr(what, "dh_p", ErrMalformed)
	}
	if !s.ReadUint16LengthPrefixed(&g) || g.Empty() {
		return nil, perr(what, "dh_g", ErrMalformed)
	}
	if !s.ReadUint16LengthPrefixed(&y) || y.Empty() {
		return nil, perr(what, "dh_Ys", ErrMalformed)
	}
	ske.DHPrime, ske.DHGenerator, ske.PublicKey = shClip(p), shClip(g), shClip(y)
	ske.DHPrimeBits = skeBitLen(p)
	return ske, nil
}

// skeBitLen returns the bit length of the big-endian unsigned integer b.
func skeBitLen(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return (len(b)-i-1)*8 + bits.Len8(c)
		}
	}
	return 0
}

// skeAddDummySignature writes the signature the builders append: a TLS 1.2
// digitally-signed struct (RFC 5246 §4.7, §7.4.1.4.1) with
// rsa_pkcs1_sha256 (0x0401) and 16 bytes of 0xAA. No parser verifies it.
func skeAddDummySignature(b *cryptobyte.Builder) {
	b.AddUint16(0x0401)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddBytes(bytes.Repeat([]byte{0xaa}, 16))
	})
}

// MarshalServerKeyExchangeECDHE returns a ServerKeyExchange handshake
// message (RFC 8422 §5.4) with named_curve group, the public point pub and
// a dummy TLS 1.2 signature (rsa_pkcs1_sha256, 16 bytes of 0xAA). It
// returns nil when pub is longer than 255 bytes.
func MarshalServerKeyExchangeECDHE(group uint16, pub []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(uint8(TypeServerKeyExchange))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(CurveTypeNamedCurve)
		b.AddUint16(group)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(pub) })
		skeAddDummySignature(b)
	})
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	return out
}

// MarshalServerKeyExchangeDHE returns a ServerKeyExchange handshake message
// (RFC 5246 §7.4.3) with dh_p p, dh_g g, dh_Ys y and a dummy TLS 1.2
// signature (rsa_pkcs1_sha256, 16 bytes of 0xAA). It returns nil when a
// value is longer than 65535 bytes.
func MarshalServerKeyExchangeDHE(p, g, y []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(uint8(TypeServerKeyExchange))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, v := range [][]byte{p, g, y} {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(v) })
		}
		skeAddDummySignature(b)
	})
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	return out
}
