package targets

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/scan"
)

// Shard is one machine's share of a sweep split across Count machines
// (--shard Index/Count, Index from 1). A target belongs to shard
//
//	FNV-1a-64(canonical target) mod Count + 1
//
// where the canonical target is Target.String() of the target as written,
// before name resolution ("https://example.com:443", "tls://10.0.0.7:8443"):
// so the split depends on the targets alone — not on their order, on how
// they were written (a range or literals), on the other targets or on DNS —
// and every machine given the same inputs and the same Count gets a
// disjoint share, the shares together being everything. All the addresses
// of a name fall in the same shard. The zero Shard (or Count 1) keeps
// everything.
type Shard struct {
	Index int // 1 … Count
	Count int
}

// ParseShard reads "I/N" (1 <= I <= N).
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("targets: shard %q: want I/N, e.g. 1/4", s)
	case n < 1:
		return Shard{}, fmt.Errorf("targets: shard %q: the number of shards must be at least 1", s)
	case i < 1 || i > n:
		return Shard{}, fmt.Errorf("targets: shard %q: the index must be 1 … %d (shards count from 1)", s, n)
	}
	return Shard{Index: i, Count: n}, nil
}

// String returns "I/N".
func (s Shard) String() string {
	if s.Count <= 1 {
		return "1/1"
	}
	return strconv.Itoa(s.Index) + "/" + strconv.Itoa(s.Count)
}

// ShardOf returns the shard (1 … n) target t belongs to among n.
func ShardOf(t scan.Target, n int) int {
	if n <= 1 {
		return 1
	}
	var buf []byte
	return int(shardHash(&buf, t)%uint64(n)) + 1
}

// Contains reports whether t belongs to s.
func (s Shard) Contains(t scan.Target) bool {
	var buf []byte
	return s.keep(&buf, t)
}

// keep is Contains with a reusable buffer.
func (s Shard) keep(buf *[]byte, t scan.Target) bool {
	if s.Count <= 1 {
		return true
	}
	return int(shardHash(buf, t)%uint64(s.Count)) == s.Index-1
}

// shardHash hashes t's canonical form, built in *buf.
func shardHash(buf *[]byte, t scan.Target) uint64 {
	b := t.AppendCanonical((*buf)[:0])
	*buf = b
	// FNV-1a, 64 bits (hash/fnv's New64a, inlined: no allocation).
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
