package sniff

import (
	"errors"
	"fmt"
)

// Live capture reads packets off a Linux interface through an AF_PACKET
// socket with a TPACKET_V3 memory-mapped ring (gopacket/afpacket: pure Go,
// no libpcap, no cgo): live_linux.go. On every other OS OpenLive fails
// with ErrLiveUnsupported (live_other.go); capture files work everywhere.

// ErrLivePermission is wrapped by OpenLive when the process may not open a
// packet socket: live capture needs root or CAP_NET_RAW.
var ErrLivePermission = errors.New("needs root or CAP_NET_RAW")

// ErrNoInterface is wrapped by OpenLive for an interface that does not
// exist.
var ErrNoInterface = errors.New("no such interface")

// ErrLiveUnsupported is wrapped by OpenLive on an operating system where
// tlsmap cannot capture live: every one but Linux.
var ErrLiveUnsupported = errors.New("only supported on Linux")

// Live capture defaults.
const (
	DefaultSnapLen    = 262144   // bytes kept of each frame, as tcpdump -s 0
	DefaultBufferSize = 64 << 20 // bytes of ring buffer
)

// LiveConfig configures a live capture.
type LiveConfig struct {
	Interface string // "eth0"; required
	// Promiscuous also captures frames not addressed to this host (a
	// span port's mirrored traffic usually needs it).
	Promiscuous bool
	// SnapLen caps the bytes kept of each frame (default DefaultSnapLen).
	// The hellos are near the start of a connection, so 4096 is usually
	// enough; less copying, fewer drops.
	SnapLen int
	// BufferSize is the size of the kernel ring buffer in bytes (default
	// DefaultBufferSize); a larger one rides out longer bursts before the
	// kernel drops frames (LiveStats.Drops).
	BufferSize int
}

// LiveError is the error of a live capture on one interface.
type LiveError struct {
	Interface string
	Err       error
}

func (e *LiveError) Error() string {
	return fmt.Sprintf("sniff: live capture on %s: %v", e.Interface, e.Err)
}

func (e *LiveError) Unwrap() error { return e.Err }

// LiveStats are the kernel's counters for a live capture (PACKET_STATISTICS),
// cumulative since OpenLive.
type LiveStats struct {
	// Packets counts the frames the kernel handed to the socket (after the
	// filter), Drops those it had to drop because the ring was full.
	Packets, Drops uint64
	// QueueFreezes counts the times the ring filled up (TPACKET_V3).
	QueueFreezes uint64
}
