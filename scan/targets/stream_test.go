package targets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/scan"
)

// stream runs Stream to the end and returns the canonical targets
// (with " sni=HOST" for named ones) and the bad inputs.
func stream(t *testing.T, inputs []string, opts Options) (got []string, bad []string) {
	t.Helper()
	opts.OnBad = func(source string, err error) {
		if !errors.Is(err, scan.ErrBadTarget) {
			t.Errorf("%s: error %v does not wrap scan.ErrBadTarget", source, err)
		}
		bad = append(bad, source+": "+err.Error())
	}
	out := make(chan scan.Target, 8)
	errc := make(chan error, 1)
	go func() { errc <- Stream(context.Background(), inputs, opts, out) }()
	for tg := range out {
		s := tg.String()
		if tg.Name != "" {
			s += " addr=" + tg.Addr // resolved: String keeps the name
		}
		if tg.Host != "" {
			s += " sni=" + tg.Host
		}
		got = append(got, s)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Stream: %v", err)
	}
	return got, bad
}

func TestStreamForms(t *testing.T) {
	tests := []struct {
		name   string
		inputs []string
		opts   Options
		want   []string
		bad    int
	}{
		{name: "literals", inputs: []string{"192.0.2.1", "192.0.2.2:8443", "[2001:db8::1]:443", "smtps://192.0.2.3", "tls://192.0.2.4:9000/path"},
			want: []string{"https://192.0.2.1:443", "tls://192.0.2.2:8443", "https://[2001:db8::1]:443", "smtps://192.0.2.3:465", "tls://192.0.2.4:9000"}},
		{name: "cidr v4 skips network and broadcast", inputs: []string{"192.0.2.0/30"},
			want: []string{"https://192.0.2.1:443", "https://192.0.2.2:443"}},
		{name: "cidr /31 and /32 have no edges", inputs: []string{"192.0.2.0/31", "192.0.2.9/32"},
			want: []string{"https://192.0.2.0:443", "https://192.0.2.1:443", "https://192.0.2.9:443"}},
		{name: "host bits are masked", inputs: []string{"192.0.2.5/30"},
			want: []string{"https://192.0.2.5:443", "https://192.0.2.6:443"}},
		{name: "include special", inputs: []string{"192.0.2.0/30"}, opts: Options{IncludeSpecial: true},
			want: []string{"https://192.0.2.0:443", "https://192.0.2.1:443", "https://192.0.2.2:443", "https://192.0.2.3:443"}},
		{name: "cidr v6 skips subnet-router anycast", inputs: []string{"2001:db8::/126"},
			want: []string{"https://[2001:db8::1]:443", "https://[2001:db8::2]:443", "https://[2001:db8::3]:443"}},
		{name: "last-octet range", inputs: []string{"192.0.2.1-3"},
			want: []string{"https://192.0.2.1:443", "https://192.0.2.2:443", "https://192.0.2.3:443"}},
		{name: "full range across octets", inputs: []string{"192.0.2.254-192.0.3.1"},
			want: []string{"https://192.0.2.254:443", "https://192.0.2.255:443", "https://192.0.3.0:443", "https://192.0.3.1:443"}},
		{name: "v6 range", inputs: []string{"2001:db8::fe-2001:db8::100"},
			want: []string{"https://[2001:db8::fe]:443", "https://[2001:db8::ff]:443", "https://[2001:db8::100]:443"}},
		{name: "range with port and scheme", inputs: []string{"192.0.2.0/31:8443", "[2001:db8::/127]:993", "smtps://192.0.2.8-9"},
			want: []string{"tls://192.0.2.0:8443", "tls://192.0.2.1:8443", "imaps://[2001:db8::]:993", "imaps://[2001:db8::1]:993", "smtps://192.0.2.8:465", "smtps://192.0.2.9:465"}},
		{name: "ports on bare targets only", inputs: []string{"192.0.2.1", "192.0.2.2:8443", "https://192.0.2.3", "192.0.2.4-5"},
			opts: Options{Ports: []uint16{465, 993}},
			want: []string{"smtps://192.0.2.1:465", "imaps://192.0.2.1:993", "tls://192.0.2.2:8443", "https://192.0.2.3:443",
				"smtps://192.0.2.4:465", "smtps://192.0.2.5:465", "imaps://192.0.2.4:993", "imaps://192.0.2.5:993"}},
		{name: "starttls protocol by port", inputs: []string{"192.0.2.1"}, opts: Options{Ports: []uint16{25, 587, 443}},
			want: []string{"smtp://192.0.2.1:25", "submission://192.0.2.1:587", "https://192.0.2.1:443"}},
		{name: "duplicates: literal, range, cidr, url", inputs: []string{"192.0.2.5", "192.0.2.0/29", "192.0.2.4-192.0.2.9", "192.0.2.5:443", "https://192.0.2.6", "tls://192.0.2.6:443", "192.0.2.9"},
			want: []string{"https://192.0.2.5:443", "https://192.0.2.1:443", "https://192.0.2.2:443", "https://192.0.2.3:443", "https://192.0.2.4:443", "https://192.0.2.6:443",
				"https://192.0.2.7:443", "https://192.0.2.8:443", "https://192.0.2.9:443", "tls://192.0.2.6:443"}},
		{name: "exclude", inputs: []string{"192.0.2.0/28", "192.0.2.3"}, opts: Options{Exclude: mustExclude(t, "192.0.2.0/29,192.0.2.10-12")},
			want: []string{"https://192.0.2.8:443", "https://192.0.2.9:443", "https://192.0.2.13:443", "https://192.0.2.14:443"}},
		{name: "special literals refused", inputs: []string{"224.0.0.1", "255.255.255.255", "ff02::1", "192.0.2.1"}, bad: 3,
			want: []string{"https://192.0.2.1:443"}},
		{name: "special literal included", inputs: []string{"224.0.0.1"}, opts: Options{IncludeSpecial: true},
			want: []string{"https://224.0.0.1:443"}},
		{name: "bad inputs are skipped", inputs: []string{"10.0.0.1-0", "10.0.0.0/33", "10.0.0.1-2001:db8::1", "host:99999", "192.0.2.1"}, bad: 4,
			want: []string{"https://192.0.2.1:443"}},
		{name: "sni", inputs: []string{"192.0.2.1"}, opts: Options{SNI: "www.example.com"},
			want: []string{"https://192.0.2.1:443 sni=www.example.com"}},
		{name: "localhost resolved", inputs: []string{"localhost:8443", "localhost:8443"},
			want: []string{"tls://localhost:8443 addr=127.0.0.1 sni=localhost"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, bad := stream(t, tc.inputs, tc.opts)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if len(bad) != tc.bad {
				t.Errorf("%d bad inputs, want %d: %q", len(bad), tc.bad, bad)
			}
		})
	}
}

func TestStreamLists(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "targets.txt")
	os.WriteFile(list, []byte("# a comment\n192.0.2.1\n\n  192.0.2.2:8443   # trailing comment\nnot a target\nhttps://192.0.2.3/#frag\n"), 0o644)
	stdin := strings.NewReader("192.0.2.4\n192.0.2.1\n")
	got, bad := stream(t, []string{"@" + list, "-"}, Options{Stdin: stdin})
	want := []string{"https://192.0.2.1:443", "tls://192.0.2.2:8443", "https://192.0.2.3:443", "https://192.0.2.4:443"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(bad) != 1 || !strings.HasPrefix(bad[0], list+":5: ") {
		t.Errorf("bad lines %q, want line 5", bad)
	}

	out := make(chan scan.Target)
	err := Stream(context.Background(), []string{"@" + filepath.Join(dir, "missing")}, Options{}, out)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing list: %v", err)
	}
}

func TestStreamResolveAll(t *testing.T) {
	var r []string
	for _, mode := range []ResolveMode{ResolveFirst, ResolveAll} {
		got, _ := stream(t, []string{"localhost"}, Options{Resolve: mode})
		if len(got) == 0 || !strings.HasSuffix(got[0], " sni=localhost") {
			t.Errorf("%v: %q", mode, got)
		}
		r = append(r, strings.Join(got, ","))
		if mode == ResolveFirst && len(got) != 1 {
			t.Errorf("first: %q", got)
		}
	}
	t.Logf("localhost: first %s; all %s", r[0], r[1])
}

// TestStreamTargetsBoundedMemory streams a /8: the first targets come at
// once, and the heap does not grow with the range.
func TestStreamBoundedMemory(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan scan.Target)
	errc := make(chan error, 1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	go func() { errc <- Stream(ctx, []string{"10.0.0.0/8", "10.0.0.0/9"}, Options{}, out) }()
	n := 0
	for range out {
		n++
		if n == 300_000 {
			break
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	cancel()
	for range out {
	}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled stream: %v", err)
	}
	if grow := int64(after.HeapInuse) - int64(before.HeapInuse); grow > 1<<20 {
		t.Errorf("heap grew by %d bytes after 300k targets of a /8", grow)
	}
}

func TestStreamCount16(t *testing.T) {
	if testing.Short() {
		t.Skip("65k targets")
	}
	out := make(chan scan.Target, 64)
	var stats Stats
	go Stream(context.Background(), []string{"10.1.0.0/16", "10.1.0.0/17", "10.1.200.0/24"}, Options{Stats: &stats}, out)
	n := 0
	for range out {
		n++
	}
	// The /16's network and broadcast addresses are skipped; the /17 adds
	// only its own network address, which is also the /16's (skipped
	// again); the rest of the /17 and the /24 are duplicates.
	if n != 65534 || stats.Emitted.Load() != 65534 || stats.Special.Load() != 3 {
		t.Errorf("%d targets (%d emitted, %d special), want 65534", n, stats.Emitted.Load(), stats.Special.Load())
	}
	if d := stats.Duplicates.Load(); d != 32767+256 {
		t.Errorf("%d duplicates, want %d", d, 32767+256)
	}
}

func TestEstimate(t *testing.T) {
	n, ok := Estimate([]string{"10.0.0.0/24", "example.com", "example.org:8443"}, Options{Ports: []uint16{443, 8443}})
	if !ok || n != 256*2+2+1 {
		t.Errorf("estimate %d %v", n, ok)
	}
	if _, ok := Estimate([]string{"-"}, Options{}); ok {
		t.Error("stdin estimated")
	}
}
