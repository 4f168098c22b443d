package proxyproto

import (
	"errors"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary stream prefixes to Parse: nothing panics,
// every error wraps exactly one of the sentinels, a header's length fits
// the input, what parsed marshals again to a header that parses the same,
// and no strict prefix of a header parses.
func FuzzParse(f *testing.F) {
	// The committed corpus must exist: an empty seed glob would fuzz
	// nothing.
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil || len(seeds) < 8 {
		f.Fatalf("testdata/fuzz/FuzzParse holds %d seed files; the committed corpus is missing", len(seeds))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := Parse(data)
		if err != nil {
			k := 0
			for _, s := range []error{ErrNeedMore, ErrNotProxy, ErrMalformed} {
				if errors.Is(err, s) {
					k++
				}
			}
			if k != 1 {
				t.Fatalf("error %v wraps %d sentinels", err, k)
			}
			if h != nil || n != 0 {
				t.Fatalf("error %v with a header", err)
			}
			return
		}
		if n <= 0 || n > len(data) {
			t.Fatalf("length %d of %d bytes", n, len(data))
		}
		if n <= 512 {
			for i := 1; i < n; i++ {
				if _, _, err := Parse(data[:i]); !errors.Is(err, ErrNeedMore) {
					t.Fatalf("prefix %d of a %d-byte header: %v", i, n, err)
				}
			}
		}
		b, err := h.Marshal()
		if err != nil {
			t.Fatalf("Marshal(Parse(%q)): %v", data[:n], err)
		}
		h2, n2, err := Parse(b)
		if err != nil || n2 != len(b) {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v, %d", data[:n], err, n2)
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("re-parse:\n got %+v\nwant %+v", h2, h)
		}
	})
}
