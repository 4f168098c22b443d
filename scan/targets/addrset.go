package targets

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/scan"
)

// AddrSet is a set of IP addresses kept as sorted, disjoint intervals:
// a /8 costs one interval. The zero value is empty; a nil *AddrSet is
// empty too. IPv4 addresses are kept in their IPv4-mapped IPv6 form.
type AddrSet struct {
	iv []interval
}

type interval struct{ lo, hi u128 }

// Add adds the addresses first … last (same family, first <= last).
func (s *AddrSet) Add(first, last netip.Addr) { s.add(toU128(first), toU128(last)) }

// AddPrefix adds a CIDR block.
func (s *AddrSet) AddPrefix(p netip.Prefix) {
	p = p.Masked()
	s.Add(p.Addr(), lastOf(p))
}

// Contains reports whether a is in s.
func (s *AddrSet) Contains(a netip.Addr) bool {
	if s == nil || len(s.iv) == 0 {
		return false
	}
	return s.contains(toU128(a.WithZone("")))
}

// Len returns the number of intervals (not addresses) s keeps.
func (s *AddrSet) Len() int { return len(s.iv) }

func (s *AddrSet) contains(x u128) bool {
	if s == nil {
		return false
	}
	i, _ := slices.BinarySearchFunc(s.iv, x, func(iv interval, x u128) int { return iv.hi.cmp(x) })
	return i < len(s.iv) && s.iv[i].lo.cmp(x) <= 0
}

// add merges [lo, hi] into s.
func (s *AddrSet) add(lo, hi u128) {
	// First interval that ends at or after lo-1 (touching merges).
	i, _ := slices.BinarySearchFunc(s.iv, lo, func(iv interval, x u128) int {
		if iv.hi.add64(1).cmp(x) < 0 && iv.hi != maxU128 {
			return -1
		}
		return 1
	})
	j := i
	for j < len(s.iv) && (hi == maxU128 || s.iv[j].lo.cmp(hi.add64(1)) <= 0) {
		lo = minU(lo, s.iv[j].lo)
		hi = maxU(hi, s.iv[j].hi)
		j++
	}
	s.iv = slices.Replace(s.iv, i, j, interval{lo, hi})
}

// gaps returns the parts of [lo, hi] not in s, in order.
func (s *AddrSet) gaps(lo, hi u128) []interval {
	var out []interval
	i, _ := slices.BinarySearchFunc(s.iv, lo, func(iv interval, x u128) int { return iv.hi.cmp(x) })
	cur := lo
	for ; i < len(s.iv) && s.iv[i].lo.cmp(hi) <= 0; i++ {
		iv := s.iv[i]
		if iv.lo.cmp(cur) > 0 {
			out = append(out, interval{cur, iv.lo.sub64(1)})
		}
		if iv.hi.cmp(hi) >= 0 {
			return out
		}
		cur = maxU(cur, iv.hi.add64(1))
	}
	return append(out, interval{cur, hi})
}

// ParseExclude adds to s the addresses of one --exclude value: a
// comma-separated list of IP addresses, CIDR blocks and ranges, or "@FILE"
// for a list of them (one a line, '#' comments).
func (s *AddrSet) ParseExclude(v string) error {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("targets: exclude list: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 4096), maxListLine)
		line := 0
		var errs []error
		for sc.Scan() {
			line++
			if e := ListLine(sc.Text()); e != "" {
				if err := s.addExpr(e); err != nil {
					errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
				}
			}
		}
		if err := sc.Err(); err != nil {
			errs = append(errs, listError(name, line+1, err))
		}
		return errors.Join(errs...)
	}
	var errs []error
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			errs = append(errs, s.addExpr(e))
		}
	}
	return errors.Join(errs...)
}

func (s *AddrSet) addExpr(e string) error {
	if a, err := netip.ParseAddr(e); err == nil {
		s.Add(a.WithZone(""), a.WithZone(""))
		return nil
	}
	if p, err := netip.ParsePrefix(e); err == nil {
		s.AddPrefix(p) // of any size
		return nil
	}
	r, isRange, err := ParseRange(e, scan.TargetOptions{})
	switch {
	case err != nil:
		return fmt.Errorf("targets: bad exclusion %q: %w", e, errors.Unwrap(err))
	case !isRange || r.Port != 0 || r.Protocol != "":
		return fmt.Errorf("targets: bad exclusion %q: want an IP address, a CIDR block or a range", e)
	}
	s.Add(r.First, r.Last)
	return nil
}
