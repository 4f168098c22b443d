package quic

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
		if hi > cap(c.buf) {
			n := max(hi, 2*cap(c.buf), 2048)
			nb := make([]byte, hi, min(n, c.max))
			copy(nb, c.buf)
			c.buf = nb
		} else {
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
