package truthprobe

import (
	"bytes"
	"path/filepath"
	"testing"
)

// FuzzReadFlight feeds arbitrary server bytes to the flight reader: it
// never panics, and a chosen suite is always one that was offered.
// Seeds are the files in testdata/fuzz/FuzzReadFlight; the test fails if
// that folder is empty, so that a lost corpus cannot pass unnoticed.
func FuzzReadFlight(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzReadFlight", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/FuzzReadFlight (glob: %v)", err)
	}
	offered := []uint16{0xC02F, 0x1301}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []uint16{TLS12, TLS13} {
			a, chosen := readFlight(&recordReader{r: bytes.NewReader(b)}, v, offered)
			if (a.Verdict == Accepted || a.Verdict == ChosenNotCompleted) && !contains(offered, chosen) {
				t.Fatalf("%s with suite 0x%04x, not offered", a.Verdict, chosen)
			}
		}
	})
}

func contains(list []uint16, x uint16) bool {
	for _, y := range list {
		if y == x {
			return true
		}
	}
	return false
}
