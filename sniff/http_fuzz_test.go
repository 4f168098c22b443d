package sniff

import (
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzHTTPScan feeds an arbitrary client stream to the request scanner
// whole and cut at every split: nothing panics, the bounds hold, and the
// requests read do not depend on how the stream was segmented.
func FuzzHTTPScan(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzHTTPScan", "*"))
	if err != nil || len(seeds) < 3 {
		f.Fatalf("testdata/fuzz/FuzzHTTPScan holds %d seed files; the committed corpus is missing", len(seeds))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole := &httpScan{tlsHeader: []byte("X-SSL-Protocol")}
		whole.feed(data)
		cut := &httpScan{tlsHeader: []byte("X-SSL-Protocol")}
		k := int(split) % (len(data) + 1)
		cut.feed(data[:k])
		cut.feed(data[k:])
		if len(whole.groups) > maxHTTPGroups || len(whole.carry) > maxHTTPHead+len(data) {
			t.Fatalf("bounds: %d groups, carry %d", len(whole.groups), len(whole.carry))
		}
		if !reflect.DeepEqual(whole.groups, cut.groups) || whole.requests != cut.requests || whole.more != cut.more {
			t.Fatalf("split at %d changed the result:\nwhole %+v (%d)\ncut   %+v (%d)", k, whole.groups, whole.requests, cut.groups, cut.requests)
		}
	})
}
