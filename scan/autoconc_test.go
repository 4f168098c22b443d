package scan

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// round starts as many targets as c allows, with one more waiting (the
// limit binds), and finishes them all with sig; it returns how many ran.
func round(t *testing.T, c *controller, sig signal) int {
	t.Helper()
	var seqs []int64
	for {
		c.mu.Lock()
		free := c.inFlight < c.limit
		c.mu.Unlock()
		if !free {
			break
		}
		seq, ok := c.acquire(context.Background())
		if !ok {
			t.Fatal("acquire failed with a free slot")
		}
		seqs = append(seqs, seq)
	}
	c.mu.Lock()
	c.waiting = true // the dispatcher holds the next target
	c.mu.Unlock()
	for _, s := range seqs {
		c.release(s, sig)
	}
	return len(seqs)
}

// TestControllerAIMD follows the limit through slow start, the ceiling, a
// cut (once per round), and additive increase.
func TestControllerAIMD(t *testing.T) {
	st := &SweepStats{}
	c := newController(SweepOptions{Auto: true, MaxConcurrency: 16}, st)
	var sizes []int
	for range 6 {
		sizes = append(sizes, round(t, c, signalFine))
	}
	if want := []int{1, 2, 4, 8, 16, 16}; fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("slow start: rounds of %v, want %v", sizes, want)
	}
	if p := st.Peak.Load(); p != 16 {
		t.Errorf("peak %d, want 16 (the ceiling)", p)
	}
	// A congested round: every target of it reports the same load, and
	// the limit is halved once.
	if n := round(t, c, signalCongested); n != 16 {
		t.Fatalf("round of %d", n)
	}
	if c.limit != 8 || st.Cuts.Load() != 1 || st.Limit.Load() != 8 {
		t.Errorf("after a congested round: limit %d, %d cuts, stats limit %d; want 8, 1, 8", c.limit, st.Cuts.Load(), st.Limit.Load())
	}
	// Congestion avoidance: a whole round of fine targets adds one.
	for want := 9; want <= 11; want++ {
		round(t, c, signalFine)
		if c.limit != want {
			t.Errorf("avoidance: limit %d, want %d", c.limit, want)
		}
	}
	// A target started after the cut may cut again.
	round(t, c, signalCongested)
	if c.limit != 5 || st.Cuts.Load() != 2 {
		t.Errorf("second cut: limit %d, %d cuts; want 5, 2", c.limit, st.Cuts.Load())
	}
	// Cuts stop at 1.
	for range 5 {
		round(t, c, signalCongested)
	}
	if c.limit != 1 {
		t.Errorf("limit %d after many cuts, want 1", c.limit)
	}
}

// TestControllerDemand: the limit grows only while a target waits for a
// slot, so a sweep of few targets, or of a slow list, stays small.
func TestControllerDemand(t *testing.T) {
	st := &SweepStats{}
	c := newController(SweepOptions{Auto: true}, st)
	for range 100 {
		seq, _ := c.acquire(context.Background())
		c.release(seq, signalFine) // nothing waits
	}
	if c.limit != 1 || st.Peak.Load() != 1 {
		t.Errorf("targets one at a time: limit %d, peak %d; want 1, 1", c.limit, st.Peak.Load())
	}
	if c.max != DefaultMaxConcurrency {
		t.Errorf("default ceiling %d", c.max)
	}
	// Fixed: the limit never moves.
	f := newController(SweepOptions{Concurrency: 3}, &SweepStats{})
	for range 5 {
		if n := round(t, f, signalFine); n != 3 {
			t.Errorf("fixed 3: round of %d", n)
		}
	}
	round(t, f, signalCongested)
	if f.limit != 3 {
		t.Errorf("fixed 3: limit %d after congestion", f.limit)
	}
}

// fleet is a set of fake TLS servers behind one dialer: each connection
// takes rtt to open, and the server refuses every hello with a
// protocol_version alert (a decisive answer). When capacity > 0, a
// connection opened while capacity others are open times out instead
// (after rtt): an overloaded box shared by every endpoint.
type fleet struct {
	rtt      time.Duration
	capacity int64
	open     atomic.Int64
	dials    atomic.Int64
	timeouts atomic.Int64
}

func (f *fleet) Dial(ctx context.Context, t Target) (net.Conn, error) {
	f.dials.Add(1)
	n := f.open.Add(1)
	select {
	case <-time.After(f.rtt):
	case <-ctx.Done():
		f.open.Add(-1)
		return nil, &StageError{Stage: StageDial, Err: ctx.Err()}
	}
	if f.capacity > 0 && n > f.capacity {
		f.open.Add(-1)
		f.timeouts.Add(1)
		return nil, &StageError{Stage: StageDial, Err: os.ErrDeadlineExceeded}
	}
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		go io.Copy(io.Discard, server)
		// Alert, fatal, protocol_version (RFC 8446 §6).
		server.Write([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46})
	}()
	return &closeHook{Conn: client, f: func() { f.open.Add(-1) }}, nil
}

type closeHook struct {
	net.Conn
	once sync.Once
	f    func()
}

func (c *closeHook) Close() error {
	c.once.Do(c.f)
	return c.Conn.Close()
}

// sweepFleet sweeps n targets arriving every gap (0: at once) through d.
func sweepFleet(t *testing.T, d Dialer, n int, gap time.Duration, so SweepOptions) (map[string]int, *SweepStats, int) {
	t.Helper()
	opts := Options{Dialer: d, PerHost: 4, Retries: -1, SkipCert: true, SkipGroups: true, VersionsOnly: true,
		Versions: []tls.Version{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13}}
	in := make(chan Target, 64)
	go func() {
		defer close(in)
		for i := range n {
			if gap > 0 {
				time.Sleep(gap)
			}
			in <- Target{Addr: fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255), Port: 443, Protocol: ProtoTLS}
		}
	}()
	st := &SweepStats{}
	so.Stats = st
	seen := map[string]int{}
	conns := 0
	Sweep(t.Context(), in, opts, so, func(r *Result) {
		seen[r.Target.Addr]++
		conns += r.Handshakes.Total
	})
	if len(seen) != n {
		t.Errorf("%d of %d targets emitted", len(seen), n)
	}
	for a, k := range seen {
		if k != 1 {
			t.Errorf("%s emitted %d times", a, k)
		}
	}
	return seen, st, conns
}

// TestSweepAuto runs Auto sweeps on synctest's clock: the concurrency
// follows the number of targets, the pace of the list and the answers.
func TestSweepAuto(t *testing.T) {
	t.Run("one target", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, st, _ := sweepFleet(t, &fleet{rtt: 10 * time.Millisecond}, 1, 0, SweepOptions{Auto: true})
			if st.Peak.Load() != 1 || st.Limit.Load() != 1 {
				t.Errorf("one target: peak %d, final %d; want 1, 1", st.Peak.Load(), st.Limit.Load())
			}
		})
	})
	t.Run("slow list", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// A target every 100 ms, each scanned in about 20 ms: one at a
			// time is enough, and the limit does not grow.
			_, st, _ := sweepFleet(t, &fleet{rtt: 10 * time.Millisecond}, 30, 100*time.Millisecond, SweepOptions{Auto: true})
			if st.Peak.Load() != 1 || st.Limit.Load() != 1 {
				t.Errorf("slow list: peak %d, final %d; want 1, 1", st.Peak.Load(), st.Limit.Load())
			}
		})
	})
	t.Run("large sweep", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fleet{rtt: 10 * time.Millisecond}
			start := time.Now()
			_, st, conns := sweepFleet(t, f, 2000, 0, SweepOptions{Auto: true, MaxConcurrency: 128})
			el := time.Since(start)
			t.Logf("2000 targets: peak %d, final %d, %d connections in %v", st.Peak.Load(), st.Limit.Load(), st.Connections.Load(), el)
			if st.Peak.Load() != 128 || st.Limit.Load() != 128 || st.Cuts.Load() != 0 {
				t.Errorf("peak %d, final %d, %d cuts; want the ceiling 128, 128, 0", st.Peak.Load(), st.Limit.Load(), st.Cuts.Load())
			}
			if got := st.Connections.Load(); got != int64(conns) || got != f.dials.Load() {
				t.Errorf("%d connections counted, the results say %d, the dialer saw %d", got, conns, f.dials.Load())
			}
			// At 1 the sweep would take 2000 × 10 ms; at 128, the slow
			// start's few rounds and 2000/128 more.
			if el > time.Second {
				t.Errorf("sweep took %v", el)
			}
		})
	})
	t.Run("overloaded", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// One box with room for 40 connections: past it, connections
			// time out. The limit is cut and stays where the box copes:
			// 10 to 40 targets (4 connections a target at most, fewer
			// while the lead version's probe runs alone). The order of
			// goroutines at one instant varies, so the exact values do
			// too (a final limit of 12 to 20 over many runs).
			f := &fleet{rtt: 10 * time.Millisecond, capacity: 40}
			_, st, _ := sweepFleet(t, f, 2000, 0, SweepOptions{Auto: true})
			t.Logf("peak %d, final %d, %d cuts, %d of %d connections timed out", st.Peak.Load(), st.Limit.Load(), st.Cuts.Load(), f.timeouts.Load(), f.dials.Load())
			if st.Cuts.Load() == 0 {
				t.Error("no cut although connections timed out")
			}
			if st.Limit.Load() > 40 || st.Peak.Load() > 64 {
				t.Errorf("final limit %d, peak %d: not held near the box's 10–40 targets", st.Limit.Load(), st.Peak.Load())
			}
			if frac := float64(f.timeouts.Load()) / float64(f.dials.Load()); frac > 0.05 {
				t.Errorf("%.0f%% of the connections timed out", frac*100)
			}
		})
	})
	t.Run("fixed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			_, st, _ := sweepFleet(t, &fleet{rtt: 10 * time.Millisecond}, 100, 0, SweepOptions{Concurrency: 8})
			if st.Peak.Load() != 8 || st.Limit.Load() != 8 {
				t.Errorf("fixed 8: peak %d, final %d", st.Peak.Load(), st.Limit.Load())
			}
		})
	})
}

// TestCountingDialer: what counts as an answer and as a failure.
func TestCountingDialer(t *testing.T) {
	ctx := context.Background()
	tg := Target{Addr: "192.0.2.1", Port: 443, Protocol: ProtoTLS}
	var conns atomic.Int64
	refused := &countingDialer{d: dialerFunc(func(context.Context, Target) (net.Conn, error) {
		return nil, &StageError{Stage: StageDial, Err: syscall.ECONNREFUSED}
	}), conns: &conns}
	refused.Dial(ctx, tg)
	if refused.answered.Load() != 1 || refused.failed.Load() != 0 || refused.signal() != signalFine {
		t.Errorf("refused: answered %d, failed %d", refused.answered.Load(), refused.failed.Load())
	}
	mixed := &countingDialer{d: &stubDialer{fail: func(n int) error {
		if n == 0 {
			return os.ErrDeadlineExceeded
		}
		return nil
	}}, conns: &conns}
	mixed.Dial(ctx, tg) // a timeout
	if mixed.signal() != signalFine {
		t.Error("a timeout alone (nothing ever answered) is not congestion")
	}
	c, err := mixed.Dial(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	c.Read(make([]byte, 1))
	c.Close()
	if mixed.answered.Load() != 1 || mixed.failed.Load() != 1 || mixed.signal() != signalCongested {
		t.Errorf("timeout then answer: answered %d, failed %d, signal %d", mixed.answered.Load(), mixed.failed.Load(), mixed.signal())
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections counted, want 3", conns.Load())
	}
}
