package targets

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

// u128 is an IPv6 address (or IPv4-mapped) as a 128-bit number.
type u128 struct{ hi, lo uint64 }

var maxU128 = u128{^uint64(0), ^uint64(0)}

func toU128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func fromU128(x u128, is4 bool) netip.Addr {
	if is4 {
		return netip.AddrFrom4([4]byte{byte(x.lo >> 24), byte(x.lo >> 16), byte(x.lo >> 8), byte(x.lo)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

func (x u128) cmp(y u128) int {
	switch {
	case x.hi < y.hi:
		return -1
	case x.hi > y.hi:
		return 1
	case x.lo < y.lo:
		return -1
	case x.lo > y.lo:
		return 1
	}
	return 0
}

func (x u128) add64(n uint64) u128 {
	lo, c := bits.Add64(x.lo, n, 0)
	return u128{x.hi + c, lo}
}

func (x u128) sub64(n uint64) u128 {
	lo, b := bits.Sub64(x.lo, n, 0)
	return u128{x.hi - b, lo}
}

func sub(x, y u128) u128 {
	lo, b := bits.Sub64(x.lo, y.lo, 0)
	return u128{x.hi - y.hi - b, lo}
}

func (x u128) or(y u128) u128 { return u128{x.hi | y.hi, x.lo | y.lo} }

// ones returns a number with its n low bits set.
func ones(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n >= 128:
		return maxU128
	case n >= 64:
		return u128{^uint64(0) >> (128 - n), ^uint64(0)}
	}
	return u128{0, ^uint64(0) >> (64 - n)}
}

func minU(x, y u128) u128 {
	if x.cmp(y) <= 0 {
		return x
	}
	return y
}

func maxU(x, y u128) u128 {
	if x.cmp(y) >= 0 {
		return x
	}
	return y
}
