package demo

import (
	"context"

	"github.com/tlsmap/tlsmap/sniff"
)

// liveCapture adapts sniff.LiveSource.
type liveCapture struct{ *sniff.LiveSource }

// Drops returns the frames the kernel dropped (0 when unknown).
func (c liveCapture) Drops() uint64 {
	st, _ := c.Stats()
	return st.Drops
}

// openLive opens a live capture on iface (Linux, root or CAP_NET_RAW;
// elsewhere sniff.OpenLive says it is unsupported).
func openLive(ctx context.Context, iface string) (liveSource, error) {
	src, err := sniff.OpenLive(ctx, sniff.LiveConfig{Interface: iface})
	if err != nil {
		return nil, err
	}
	return liveCapture{src}, nil
}
