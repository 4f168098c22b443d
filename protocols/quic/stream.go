package quic

import "sync"

// cryptoStream reassembles the CRYPTO data of one direction at one
// encryption level (RFC 9000 §19.6: "The stream does not have an explicit
// end, so CRYPTO frames do not have a FIN bit"): frames may arrive in any
// order, repeat, overlap and be spread over any number of packets. Bytes
// are kept at their offsets in buf; have lists the received ranges,
// sorted and disjoint.
type cryptoStream struct {
	buf  []byte
	have []span
	max  int
}

type span struct{ lo, hi int }

// add stores data at offset off. Data beyond max is ErrTooLarge (nothing
// is stored).
func (c *cryptoStream) add(off uint64, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	if off > uint64(c.max) || uint64(len(data)) > uint64(c.max)-off {
		return perr("CRYPTO", "offset", ErrTooLarge)
	}
	lo, hi := int(off), int(off)+len(data)
	if hi > len(c.buf) {
		switch {
		case cap(c.buf) == 0 && hi <= pooledLen && c.max >= pooledLen:
			// (A stream capped below a pooled buffer allocates its own:
			// Tracker.Buffered never exceeds the cap.)
			c.buf = getBuf()[:hi]
		case hi > cap(c.buf):
			n := max(hi, 2*cap(c.buf), 2048)
			nb := make([]byte, hi, min(n, c.max))
			copy(nb, c.buf)
			putBuf(c.buf)
			c.buf = nb
		default:
			c.buf = c.buf[:hi]
		}
	}
	copy(c.buf[lo:hi], data)
	c.insert(span{lo, hi})
	return nil
}

// insert merges s into the sorted, disjoint list of received spans.
func (c *cryptoStream) insert(s span) {
	i := 0
	for i < len(c.have) && c.have[i].hi < s.lo {
		i++
	}
	j := i
	for j < len(c.have) && c.have[j].lo <= s.hi {
		s.lo = min(s.lo, c.have[j].lo)
		s.hi = max(s.hi, c.have[j].hi)
		j++
	}
	if i == j {
		c.have = append(c.have, span{})
		copy(c.have[i+1:], c.have[i:])
		c.have[i] = s
		return
	}
	c.have[i] = s
	c.have = append(c.have[:i+1], c.have[j:]...)
}

// contiguous returns the bytes received from offset 0 without a gap.
func (c *cryptoStream) contiguous() []byte {
	if len(c.have) == 0 || c.have[0].lo != 0 {
		return nil
	}
	return c.buf[:c.have[0].hi]
}

// gap reports whether bytes beyond the contiguous prefix were received:
// something in between was lost (or is still to come).
func (c *cryptoStream) gap() bool {
	return len(c.have) > 1 || (len(c.have) == 1 && c.have[0].lo != 0)
}

// release gives the stream's buffer back to the pool: nothing may use
// the stream's bytes afterwards.
func (c *cryptoStream) release() {
	putBuf(c.buf)
	*c = cryptoStream{}
}

// pooledLen is the size of the buffers a Tracker borrows from bufPool for
// the packet it decrypts (a datagram of up to about 4 KiB) and for a
// connection's CRYPTO data until its hellos are in (a ClientHello with a
// post-quantum key share is about 2 KiB): one pool for every Tracker, so
// that thousands of UDP flows, each with its own Tracker, allocate none
// per connection.
const pooledLen = 4 << 10

var bufPool = sync.Pool{New: func() any { return new([pooledLen]byte) }}

// getBuf returns an empty buffer of capacity pooledLen from the pool.
func getBuf() []byte { return bufPool.Get().(*[pooledLen]byte)[:0] }

// putBuf returns a buffer obtained from getBuf to the pool; one of
// another capacity (grown, or nil) is left to the garbage collector.
func putBuf(b []byte) {
	if cap(b) == pooledLen {
		bufPool.Put((*[pooledLen]byte)(b[:pooledLen]))
	}
}
