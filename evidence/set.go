package evidence

import (
	"fmt"
	"slices"
)

// DefaultSetLimit is how many distinct values each Set of a
// ClientSummary keeps.
const DefaultSetLimit = 32

// overflowLimit caps the distinct values a Set counts beyond its limit.
const overflowLimit = 1024

// Set is a bounded set in first-seen order: it keeps up to its limit of
// values and counts (up to a bound) the distinct values beyond. The zero
// value of T is never added.
type Set[T comparable] struct {
	limit  int
	items  []T
	extra  map[T]struct{}
	capped bool // extra reached overflowLimit: More is a lower bound
}

// NewSet returns an empty set keeping up to limit values.
func NewSet[T comparable](limit int) Set[T] { return Set[T]{limit: limit} }

// Add adds v (the zero value is ignored).
func (s *Set[T]) Add(v T) {
	var zero T
	if v == zero || slices.Contains(s.items, v) {
		return
	}
	if len(s.items) < s.limit {
		s.items = append(s.items, v)
		return
	}
	if _, ok := s.extra[v]; ok {
		return
	}
	if len(s.extra) >= overflowLimit {
		s.capped = true
		return
	}
	if s.extra == nil {
		s.extra = map[T]struct{}{}
	}
	s.extra[v] = struct{}{}
}

// Items returns the values kept, in first-seen order.
func (s *Set[T]) Items() []T { return s.items }

// More returns how many further distinct values were seen and not kept,
// and whether that count is only a lower bound.
func (s *Set[T]) More() (n int, atLeast bool) { return len(s.extra), s.capped }

// Strings returns the kept values, formatted with %v, followed, when some
// were not kept, by "+N more" (or "+N+ more" when N is a lower bound).
func (s *Set[T]) Strings() []string {
	out := make([]string, 0, len(s.items)+1)
	for _, v := range s.items {
		out = append(out, fmt.Sprint(v))
	}
	if n, atLeast := s.More(); n > 0 {
		if atLeast {
			out = append(out, fmt.Sprintf("+%d+ more", n))
		} else {
			out = append(out, fmt.Sprintf("+%d more", n))
		}
	}
	return out
}
