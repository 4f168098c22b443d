package sniff

import (
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// TestOfferedVersionsOrder: newest first by tls.Version.Rank — TLS 1.3,
// then its drafts by number, then TLS 1.2 … — GREASE dropped, duplicates
// once, unknown code points last.
func TestOfferedVersionsOrder(t *testing.T) {
	ch := &tls.ClientHello{Version: tls.VersionTLS12,
		SupportedVersions: []uint16{0x7A7A, 0x7F17, 0x0305, 0x0301, 0x0304, 0x7F1C, 0x0303, 0x7F12}}
	got := offeredVersions(ch)
	want := []tls.Version{0x0304, 0x7F1C, 0x7F17, 0x7F12, 0x0303, 0x0301, 0x0305}
	if !slices.Equal(got, want) {
		t.Errorf("offeredVersions = %s, want %s", got, want)
	}
}

func TestMaxOffered(t *testing.T) {
	tests := []struct {
		offered []tls.Version
		want    tls.Version
	}{
		{nil, 0},
		{[]tls.Version{0x0301, 0x0300}, 0x0301},
		{[]tls.Version{0x7F17, 0x0303}, 0x0304}, // a draft counts as TLS 1.3
		{[]tls.Version{0x0303, 0x7F1C, 0x0304}, 0x0304},
		{[]tls.Version{0x0A0A, 0x0301}, 0x0301},
		{[]tls.Version{0x0305, 0x0301}, 0x0301}, // unknown code points are ignored
		{[]tls.Version{0x0002}, 0x0002},
	}
	for _, tt := range tests {
		if got := MaxOffered(&Flow{OfferedVersions: tt.offered}); got != tt.want {
			t.Errorf("MaxOffered(%s) = %s, want %s", tt.offered, got, tt.want)
		}
	}
}
