//go:build !linux

package sniff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// LiveSource is a PacketSource reading a network interface; off Linux
// OpenLive never returns one.
type LiveSource struct {
	iface string
}

// OpenLive fails off Linux: it returns a *LiveError wrapping
// ErrLiveUnsupported (after the same check of cfg as on Linux).
func OpenLive(ctx context.Context, cfg LiveConfig) (*LiveSource, error) {
	if cfg.Interface == "" {
		return nil, errors.New("sniff: live capture: no interface given")
	}
	return nil, &LiveError{Interface: cfg.Interface, Err: fmt.Errorf("%w, not on %s", ErrLiveUnsupported, runtime.GOOS)}
}

// ReadPacket implements PacketSource: io.EOF, as nothing is captured.
func (s *LiveSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	return nil, gopacket.CaptureInfo{}, 0, io.EOF
}

// Interface returns the name of the interface.
func (s *LiveSource) Interface() string { return s.iface }

// Stats returns zero counters.
func (s *LiveSource) Stats() (LiveStats, error) { return LiveStats{}, nil }

// Close does nothing.
func (s *LiveSource) Close() error { return nil }
