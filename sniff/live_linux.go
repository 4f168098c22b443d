//go:build linux

package sniff

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Linux capture tuning.
const (
	liveBlockSize   = 1 << 20 // one TPACKET_V3 block: must hold the largest frame
	livePollTimeout = 200 * time.Millisecond
)

// LiveSource is a PacketSource reading a network interface. ReadPacket
// blocks until a frame arrives, and returns io.EOF once the context given
// to OpenLive is done or Close was called.
type LiveSource struct {
	ctx      context.Context
	tp       *afpacket.TPacket
	iface    string
	linkType layers.LinkType

	readMu sync.Mutex // held by ReadPacket; Close waits for it
	mu     sync.Mutex // guards stats and closed
	stats  LiveStats
	closed bool
}

// OpenLive opens a live capture on cfg.Interface. ctx bounds the capture:
// once it is done, ReadPacket returns io.EOF (within about 200ms when no
// traffic arrives).
func OpenLive(ctx context.Context, cfg LiveConfig) (*LiveSource, error) {
	if cfg.Interface == "" {
		return nil, errors.New("sniff: live capture: no interface given")
	}
	if cfg.SnapLen <= 0 {
		cfg.SnapLen = DefaultSnapLen
	}
	if cfg.BufferSize <= 0 {
		cfg.BufferSize = DefaultBufferSize
	}
	lerr := func(err error) error { return &LiveError{Interface: cfg.Interface, Err: err} }
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, lerr(ErrNoInterface)
	}

	// Interfaces with an Ethernet header (and loopback, which fakes one)
	// are read raw; any other (tun, GRE, ppp …) cooked, from the IP header.
	socktype, lt := afpacket.SocketRaw, layers.LinkTypeEthernet
	if hw := hwType(ifi.Name); hw != unix.ARPHRD_ETHER && hw != unix.ARPHRD_LOOPBACK {
		socktype, lt = afpacket.SocketDgram, layers.LinkTypeRaw
	}
	blocks := max(2, cfg.BufferSize/liveBlockSize)
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(ifi.Name),
		afpacket.OptSocketType(socktype),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptFrameSize(afpacket.DefaultFrameSize),
		afpacket.OptBlockSize(liveBlockSize),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptBlockTimeout(10*time.Millisecond),
		afpacket.OptPollTimeout(livePollTimeout),
	)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, lerr(ErrLivePermission)
		}
		return nil, lerr(err)
	}
	prog, err := liveFilter(ifi.Flags&net.FlagLoopback != 0, cfg.SnapLen)
	if err == nil {
		err = tp.SetBPF(prog)
	}
	if err == nil && cfg.Promiscuous {
		err = tp.SetPromiscuous(true)
	}
	if err != nil {
		tp.Close()
		return nil, lerr(err)
	}
	return &LiveSource{ctx: ctx, tp: tp, iface: ifi.Name, linkType: lt}, nil
}

// liveFilter is the socket filter: keep at most snaplen bytes of a frame
// and, on a loopback interface, drop the outgoing copy of each frame (the
// kernel shows every loopback frame twice, going out and coming in; tcpdump
// drops the outgoing one the same way).
func liveFilter(loopback bool, snaplen int) ([]bpf.RawInstruction, error) {
	var prog []bpf.Instruction
	if loopback {
		prog = append(prog,
			bpf.LoadExtension{Num: bpf.ExtType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipTrue: 1},
			bpf.RetConstant{Val: uint32(snaplen)},
			bpf.RetConstant{Val: 0},
		)
	} else {
		prog = append(prog, bpf.RetConstant{Val: uint32(snaplen)})
	}
	return bpf.Assemble(prog)
}

// hwType returns the interface's ARPHRD_* type from sysfs, or
// ARPHRD_ETHER when it cannot be read.
func hwType(name string) uint16 {
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	if err != nil {
		return unix.ARPHRD_ETHER
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 16)
	if err != nil {
		return unix.ARPHRD_ETHER
	}
	return uint16(n)
}

// ReadPacket implements PacketSource. The data is valid until the next
// call (it points into the kernel ring).
func (s *LiveSource) ReadPacket() ([]byte, gopacket.CaptureInfo, layers.LinkType, error) {
	s.readMu.Lock()
	defer s.readMu.Unlock()
	for {
		if s.ctx.Err() != nil || s.isClosed() {
			return nil, gopacket.CaptureInfo{}, 0, io.EOF
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err == nil {
			return data, ci, s.linkType, nil
		}
		if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, unix.EINTR) {
			continue
		}
		return nil, ci, 0, &LiveError{Interface: s.iface, Err: err}
	}
}

func (s *LiveSource) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Interface returns the name of the captured interface.
func (s *LiveSource) Interface() string { return s.iface }

// Stats returns the kernel's counters since OpenLive. It may be called
// from any goroutine, also while ReadPacket runs, and after Close (the
// final counters).
func (s *LiveSource) Stats() (LiveStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

func (s *LiveSource) statsLocked() (LiveStats, error) {
	if s.closed {
		return s.stats, nil
	}
	// The kernel resets its counters on every read; afpacket adds them up.
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return s.stats, &LiveError{Interface: s.iface, Err: err}
	}
	s.stats = LiveStats{Packets: uint64(v3.Packets()), Drops: uint64(v3.Drops()), QueueFreezes: uint64(v3.QueueFreezes())}
	return s.stats, nil
}

// Close stops the capture and frees the socket. A ReadPacket blocked in
// another goroutine returns io.EOF within the poll timeout (200ms); Close
// waits for it.
func (s *LiveSource) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	_, err := s.statsLocked()
	s.closed = true
	s.mu.Unlock()
	// The ring may only be unmapped once no read is in progress.
	s.readMu.Lock()
	s.tp.Close()
	s.readMu.Unlock()
	return err
}
