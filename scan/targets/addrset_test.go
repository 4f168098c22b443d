package targets

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

func mustExclude(t *testing.T, v string) *AddrSet {
	s := &AddrSet{}
	if err := s.ParseExclude(v); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAddrSet checks add, contains and gaps against a bitmap.
func TestAddrSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		var s AddrSet
		var bits [256]bool
		base := netip.MustParseAddr("192.0.2.0").As4()
		addr := func(i int) netip.Addr { b := base; b[3] = byte(i); return netip.AddrFrom4(b) }
		for range r.IntN(8) + 1 {
			lo := r.IntN(256)
			hi := lo + r.IntN(256-lo)
			// gaps before add must be exactly the unset bits of [lo, hi].
			var want []int
			for i := lo; i <= hi; i++ {
				if !bits[i] {
					want = append(want, i)
				}
			}
			var got []int
			for _, g := range s.gaps(toU128(addr(lo)), toU128(addr(hi))) {
				for x := g.lo; ; x = x.add64(1) {
					got = append(got, int(x.lo&0xff))
					if x == g.hi {
						break
					}
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: gaps of [%d,%d] = %v, want %v", round, lo, hi, got, want)
			}
			s.Add(addr(lo), addr(hi))
			for i := lo; i <= hi; i++ {
				bits[i] = true
			}
		}
		for i := range 256 {
			if s.Contains(addr(i)) != bits[i] {
				t.Fatalf("round %d: Contains(%d) = %v", round, i, !bits[i])
			}
		}
		for i := 1; i < len(s.iv); i++ {
			if s.iv[i].lo.cmp(s.iv[i-1].hi.add64(1)) <= 0 {
				t.Fatalf("round %d: intervals %v not disjoint and apart", round, s.iv)
			}
		}
	}
}

func TestParseExclude(t *testing.T) {
	s := &AddrSet{}
	if err := s.ParseExclude("10.0.0.0/8, 192.0.2.1,2001:db8::/32,198.51.100.1-10"); err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]bool{"10.255.0.1": true, "11.0.0.0": false, "192.0.2.1": true, "192.0.2.2": false, "2001:db8:ffff::1": true, "198.51.100.10": true, "198.51.100.11": false} {
		if s.Contains(netip.MustParseAddr(a)) != want {
			t.Errorf("Contains(%s) != %v", a, want)
		}
	}
	if err := s.ParseExclude("example.com"); err == nil {
		t.Error("a host name excluded")
	}
	if err := s.ParseExclude("10.0.0.0/8:443"); err == nil {
		t.Error("a port excluded")
	}
}
