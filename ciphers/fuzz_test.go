package ciphers

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLookup feeds Lookup arbitrary user input. Lookup must not panic,
// every failure must wrap ErrUnknown, and whatever it finds must be found
// again by its code in each notation and by its names.
//
// Seeds are the files in testdata/fuzz/FuzzLookup; the test fails if that
// folder is empty, so that a lost corpus cannot pass unnoticed.
func FuzzLookup(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzLookup", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/FuzzLookup (glob: %v)", err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		s, err := Lookup(q)
		if err != nil {
			if !errors.Is(err, ErrUnknown) {
				t.Fatalf("Lookup(%q): error %v does not wrap ErrUnknown", q, err)
			}
			return
		}
		again := []string{s.HexID(), strings.ToLower(s.HexID()), s.HexID()[2:4] + "," + s.HexID()[4:]}
		if s.Kind != KindGREASE {
			again = append(again, s.Name, strings.ToLower(s.Name))
		}
		if s.OpenSSLName != "" {
			again = append(again, s.OpenSSLName)
		}
		for _, a := range again {
			if got, err := Lookup(a); err != nil || got != s {
				t.Fatalf("Lookup(%q) found %s, but Lookup(%q) = %s, %v", q, s.HexID(), a, got.HexID(), err)
			}
		}
	})
}
