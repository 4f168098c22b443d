package store

import (
	"path/filepath"
	"testing"
)

// FuzzParseVersions feeds arbitrary scan_results.versions cells to
// ParseVersions (the report reads every stored cell back): nothing panics,
// and what parses is written back to a cell that parses to the same.
func FuzzParseVersions(f *testing.F) {
	// The committed corpus must exist: a seed glob that comes back empty
	// would make this test fuzz nothing.
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseVersions", "*"))
	if err != nil || len(seeds) < 5 {
		f.Fatalf("testdata/fuzz/FuzzParseVersions holds %d seed files; the committed corpus is missing", len(seeds))
	}
	f.Fuzz(func(t *testing.T, s string) {
		vs, err := ParseVersions(s)
		if err != nil {
			return
		}
		again, err := ParseVersions(FormatVersions(vs))
		if err != nil {
			t.Fatalf("%q parses to %v, whose cell %q does not parse: %v", s, vs, FormatVersions(vs), err)
		}
		if FormatVersions(again) != FormatVersions(vs) {
			t.Fatalf("%q: %q then %q", s, FormatVersions(vs), FormatVersions(again))
		}
	})
}
