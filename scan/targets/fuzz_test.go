package targets

import (
	"path/filepath"
	"testing"
)

// FuzzTargetExpr feeds arbitrary command-line target expressions (hosts,
// URLs, CIDRs, ranges) to the parsers: nothing panics, and an expression
// Check accepts as a range has a non-empty, ordered range.
func FuzzTargetExpr(f *testing.F) {
	// The committed corpus must exist: a seed glob that comes back empty
	// would make this test fuzz nothing.
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzTargetExpr", "*"))
	if err != nil || len(seeds) < 5 {
		f.Fatalf("testdata/fuzz/FuzzTargetExpr holds %d seed files; the committed corpus is missing", len(seeds))
	}
	f.Fuzz(func(t *testing.T, s string) {
		opts := Options{}
		err := Check(s, opts)
		r, isRange, rerr := ParseRange(s, opts.Target)
		if rerr != nil || !isRange {
			return
		}
		if err != nil {
			t.Fatalf("ParseRange accepts %q but Check says %v", s, err)
		}
		_ = r
		if n, ok := Estimate([]string{s}, opts); !ok || n == 0 {
			t.Fatalf("range %q estimates %d targets (ok %v)", s, n, ok)
		}
	})
}
