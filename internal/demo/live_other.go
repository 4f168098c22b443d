//go:build !linux

package demo

import (
	"context"
	"errors"
)

// openLive fails: tlsmap captures live only on Linux (AF_PACKET).
func openLive(context.Context, string) (liveSource, error) {
	return nil, errors.New("live capture is implemented on Linux only")
}
