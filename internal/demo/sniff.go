package demo

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/sniff"
)

// shippedCapture is the demo's own traffic, recorded with tcpdump on lo
// by scripts/make-demo-capture.sh (the scanner's probes filtered out): the
// sniff report's input when live capture is not possible.
//
//go:embed testdata/demo.pcap.gz
var shippedCapture []byte

// ShippedCaptureName names the shipped capture in messages.
const ShippedCaptureName = "internal/demo/testdata/demo.pcap.gz"

// sniffable reports whether the sniffer can find the TLS hellos of a
// connection to an endpoint of protocol p: implicit TLS, or a STARTTLS
// scheme whose registered protocol has a recogniser. A demo connection
// that starts TLS after a STARTTLS dialogue nothing recognises is
// invisible to the sniffer, and the report says so.
func sniffable(p scan.Protocol) bool {
	if !p.STARTTLS() {
		return true
	}
	proto, _, ok := protocols.ForScheme(string(p))
	return ok && proto.Recognize != nil
}

// liveSource is a live capture: sniff.LiveSource on Linux.
type liveSource interface {
	sniff.PacketSource
	Close() error
	Drops() uint64
}

// loopbackInterface returns the name of the first loopback interface that
// is up ("lo" on Linux).
func loopbackInterface() string {
	ifs, err := net.Interfaces()
	if err == nil {
		for _, ifi := range ifs {
			if ifi.Flags&net.FlagLoopback != 0 && ifi.Flags&net.FlagUp != 0 {
				return ifi.Name
			}
		}
	}
	return "lo"
}

// collector turns the sniffer's flows into the legacy-client report,
// keeping only the demo's own connections.
type collector struct {
	report *sniff.Report
	// servers, when set, are the only server addresses kept (a live
	// capture on lo also sees every other program's loopback traffic).
	servers map[netip.AddrPort]bool
	// clients, when set, are the only client addresses kept.
	clients map[netip.Addr]bool

	scanner int // the scanner's connections, left out
	first   time.Time
	// flows are the demo client connections kept, for the store.
	flows []*sniff.Flow

	mu   sync.Mutex
	seen int           // demo client connections seen
	want int           // … expected
	all  chan struct{} // closed when seen reaches want
}

func newCollector(want int) *collector {
	return &collector{report: sniff.NewReport(sniff.ReportConfig{}), want: want, all: make(chan struct{})}
}

// flow is the sniff.Handler.
func (c *collector) flow(f *sniff.Flow) {
	if c.servers != nil && !c.servers[f.Server] {
		return
	}
	a := f.Client.Addr().Unmap()
	if a == scannerAddr {
		c.scanner++
		return
	}
	if c.clients != nil && !c.clients[a] {
		return
	}
	if c.first.IsZero() || f.FirstSeen.Before(c.first) {
		c.first = f.FirstSeen
	}
	c.report.Add(f)
	if f.HasClientHello() || f.HasServerHello() {
		c.flows = append(c.flows, f)
	}
	c.mu.Lock()
	c.seen++
	if c.seen == c.want {
		close(c.all)
	}
	c.mu.Unlock()
}

func (c *collector) seenCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen
}

func sniffConfig(ports []uint16) sniff.Config {
	cfg := sniff.Config{Recognizers: sniff.DefaultRecognizers(), AllFlows: true}
	if len(ports) > 0 {
		cfg.Filter = &sniff.Filter{Ports: ports}
	}
	return cfg
}

// liveRun is a live capture in progress.
type liveRun struct {
	iface  string
	src    liveSource
	sn     *sniff.Sniffer
	col    *collector
	cancel context.CancelFunc
	done   chan error
}

// startLive opens a live capture on iface and starts sniffing it.
func startLive(ctx context.Context, iface string, col *collector, ports []uint16) (*liveRun, error) {
	ctx, cancel := context.WithCancel(ctx)
	src, err := openLive(ctx, iface)
	if err != nil {
		cancel()
		return nil, err
	}
	lr := &liveRun{iface: iface, src: src, col: col, cancel: cancel, done: make(chan error, 1)}
	lr.sn = sniff.New(sniffConfig(ports), col.flow)
	go func() {
		err := lr.sn.Run(ctx, src)
		lr.sn.Flush()
		lr.done <- err
	}()
	return lr, nil
}

// liveSettle is how long the live capture waits, after the last client
// connection, for the sniffer to have seen all of them.
const liveSettle = 3 * time.Second

// stop waits until every demo client connection has been seen (or
// liveSettle passed), then ends the capture.
func (lr *liveRun) stop() (sniff.Stats, uint64, error) {
	t := time.NewTimer(liveSettle)
	select {
	case <-lr.col.all:
	case <-t.C:
	}
	t.Stop()
	lr.cancel()
	err := <-lr.done
	drops := lr.src.Drops()
	cerr := lr.src.Close()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return lr.sn.Stats(), drops, errors.Join(err, cerr)
}

// replayShipped runs the shipped capture through the sniffer.
func replayShipped(ctx context.Context, col *collector) (sniff.Stats, error) {
	src, err := sniff.NewReaderSource(bytes.NewReader(shippedCapture), ShippedCaptureName)
	if err != nil {
		return sniff.Stats{}, err
	}
	sn := sniff.New(sniffConfig(nil), col.flow)
	err = sn.Run(ctx, src)
	sn.Flush()
	return sn.Stats(), err
}
