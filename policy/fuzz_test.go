package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParsePolicy feeds Parse arbitrary documents: it must never panic,
// and a policy it accepts must have a rule and survive a Gate call.
// The seeds are testdata/fuzz/FuzzParsePolicy; an empty seed folder fails
// the test rather than silently fuzzing nothing.
func FuzzParsePolicy(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParsePolicy", "*"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/FuzzParsePolicy (glob: %v)", err)
	}
	for _, ex := range []string{"examples"} {
		docs, _ := filepath.Glob(filepath.Join("testdata", ex, "*"))
		for _, d := range docs {
			b, err := os.ReadFile(d)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if p != nil {
				t.Fatalf("Parse returned a policy and an error")
			}
			return
		}
		if len(p.RuleIDs()) < 2 {
			t.Fatalf("accepted a policy without rules: %+v", p)
		}
		_ = p.Describe()
		_ = p.Gate()
	})
}
