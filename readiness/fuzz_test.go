package readiness

import (
	"path/filepath"
	"testing"
)

// FuzzParseWindow feeds arbitrary --since and --until/--diff values to
// ParseSince and ParsePoint: nothing panics, a window is positive, and a
// point is either a time or a run name, never both.
func FuzzParseWindow(f *testing.F) {
	// The committed corpus must exist: a seed glob that comes back empty
	// would make this test fuzz nothing.
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseWindow", "*"))
	if err != nil || len(seeds) < 5 {
		f.Fatalf("testdata/fuzz/FuzzParseWindow holds %d seed files; the committed corpus is missing", len(seeds))
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseSince(s); err == nil && d <= 0 {
			t.Fatalf("ParseSince(%q) = %v", s, d)
		}
		until, run, err := ParsePoint(s)
		if err == nil && until.IsZero() == (run == "") {
			t.Fatalf("ParsePoint(%q) = %v, %q: want a time or a run name", s, until, run)
		}
	})
}
