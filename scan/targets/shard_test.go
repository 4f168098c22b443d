package targets

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/scan"
)

// TestShardPartition streams the same inputs once whole and once per
// shard, for several shard counts: the shards are disjoint, their union is
// the whole, and they are balanced.
func TestShardPartition(t *testing.T) {
	inputs := []string{"10.20.0.0/22", "10.20.1.7", "example.com", "https://example.org:8443", "[2001:db8::/120]:443", "10.30.0.1-10.30.0.200"}
	collect := func(s Shard) []string {
		out := make(chan scan.Target, 64)
		// Sharding happens before resolution; the names do not resolve
		// (offline) and are sent as they are.
		go Stream(context.Background(), inputs, Options{Shard: s, Ports: []uint16{443, 993}, Resolver: offlineResolver()}, out)
		var got []string
		for tg := range out {
			got = append(got, tg.String())
		}
		return got
	}
	whole := collect(Shard{})
	if len(whole) < 2000 {
		t.Fatalf("only %d targets", len(whole))
	}
	for _, n := range []int{2, 3, 7} {
		seen := map[string]int{}
		for i := 1; i <= n; i++ {
			part := collect(Shard{Index: i, Count: n})
			if d := float64(len(part))/(float64(len(whole))/float64(n)) - 1; d > 0.15 || d < -0.15 {
				t.Errorf("%d/%d: %d of %d targets, off by %.0f%%", i, n, len(part), len(whole), d*100)
			}
			for _, s := range part {
				if seen[s] != 0 {
					t.Errorf("%d/%d: %s also in shard %d", i, n, s, seen[s])
				}
				seen[s] = i
				if ShardOf(mustTarget(t, s), n) != i {
					t.Errorf("%s: ShardOf %d, streamed in %d", s, ShardOf(mustTarget(t, s), n), i)
				}
			}
		}
		union := make([]string, 0, len(seen))
		for s := range seen {
			union = append(union, s)
		}
		w := slices.Clone(whole)
		slices.Sort(w)
		slices.Sort(union)
		if !slices.Equal(w, union) {
			t.Errorf("%d shards: union of %d targets, whole %d", n, len(union), len(whole))
		}
	}
}

func mustTarget(t *testing.T, s string) scan.Target {
	tg, err := scan.ParseTarget(s, scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestShardStable pins the hash: a change would send targets to other
// machines mid-sweep.
func TestShardStable(t *testing.T) {
	got := []int{}
	for _, s := range []string{"https://10.0.0.1:443", "https://10.0.0.2:443", "https://example.com:443", "smtp://[2001:db8::1]:25"} {
		got = append(got, ShardOf(mustTarget(t, s), 4))
	}
	want := []int{}
	for _, s := range []string{"https://10.0.0.1:443", "https://10.0.0.2:443", "https://example.com:443", "smtp://[2001:db8::1]:25"} {
		var buf []byte
		want = append(want, int(shardHash(&buf, mustTarget(t, s))%4)+1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ShardOf %v, hash %v", got, want)
	}
	// FNV-1a-64 of the canonical string, independently computed.
	if h := fnv1a("https://10.0.0.1:443"); h%4+1 != uint64(got[0]) {
		t.Errorf("shard of https://10.0.0.1:443 is %d, FNV-1a says %d", got[0], h%4+1)
	}
}

func fnv1a(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	return h
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/4"); err != nil || s != (Shard{2, 4}) || s.String() != "2/4" {
		t.Errorf("2/4: %v %v", s, err)
	}
	for _, bad := range []string{"0/4", "5/4", "1/0", "x/4", "1", "1/4/2", "-1/4"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// offlineResolver fails every lookup without sending a packet.
func offlineResolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("offline")
	}}
}
