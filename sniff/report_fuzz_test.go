package sniff

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadFingerprints feeds arbitrary fingerprint files to the loader:
// nothing panics, every failure wraps ErrFingerprints, and every loaded
// key is a JA3 hash (lower case) or a JA4 fingerprint with a label.
func FuzzLoadFingerprints(f *testing.F) {
	// The committed corpus must exist: an empty seed glob would fuzz
	// nothing.
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzLoadFingerprints", "*"))
	if err != nil || len(seeds) < 4 {
		f.Fatalf("testdata/fuzz/FuzzLoadFingerprints holds %d seed files; the committed corpus is missing", len(seeds))
	}
	f.Fuzz(func(t *testing.T, data string) {
		fp, err := LoadFingerprints(strings.NewReader(data), "fuzz.csv")
		if err != nil {
			if !errors.Is(err, ErrFingerprints) {
				t.Fatalf("error %v does not wrap ErrFingerprints", err)
			}
			return
		}
		for k, label := range fp {
			if label == "" || !(ja3Pattern.MatchString(k) || ja4Pattern.MatchString(k)) {
				t.Fatalf("loaded %q → %q", k, label)
			}
		}
	})
}
