package scan

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// DefaultMaxConcurrency is the ceiling of an automatic sweep concurrency
// (SweepOptions.Auto) when none is given.
const DefaultMaxConcurrency = 256

// SweepStats is what a Sweep did, for the summary. Fields are updated
// atomically while it runs.
type SweepStats struct {
	// Peak is the most targets scanned at once.
	Peak atomic.Int64
	// Limit is the number of targets allowed at once: fixed, or (Auto)
	// the controller's current value; after Sweep, its final one.
	Limit atomic.Int64
	// Cuts counts the times Auto halved the limit.
	Cuts atomic.Int64
	// Connections counts the connections dialled (each attempt, refused
	// and timed-out ones included).
	Connections atomic.Int64
}

// signal is what one finished target says about the network and servers
// between the sweep and its targets.
type signal uint8

const (
	// signalFine: nothing was dropped, or nothing ever answered (an
	// address where no server is: it costs the servers nothing).
	signalFine signal = iota
	// signalCongested: the endpoint answered some connections and timed
	// out, reset or throttled others: the sign of an overloaded server or
	// path.
	signalCongested
)

// controller gates how many targets a sweep scans at once. Fixed, it is a
// semaphore of the given size. Auto, it is an AIMD controller in the manner
// of TCP congestion control (RFC 5681 §3.1), counting finished targets
// instead of acknowledged segments:
//
//   - the limit starts at 1 and grows only while it binds — when a target
//     finishes while another waits for a slot — so a sweep of one target
//     scans one, and a list that arrives slowly grows as targets keep
//     coming, never past what is waiting;
//   - slow start: each fine target adds one (the limit doubles with every
//     round of targets) up to the threshold, which is the ceiling at first;
//   - congestion avoidance, above the threshold: a round of fine targets
//     (as many as the limit) adds one;
//   - a congested target (signalCongested) halves the limit (at least 1)
//     and sets the threshold there, once per round: the targets started
//     before a cut report the load that caused it and do not cut again.
//
// It never changes what one target does: Options.PerHost still bounds the
// connections to each endpoint, and the Limiter's rates still hold.
type controller struct {
	auto bool
	max  int
	wake chan struct{} // a slot freed
	st   *SweepStats

	mu       sync.Mutex
	limit    int
	ssthresh int
	credit   int // fine targets since the last additive step
	inFlight int
	waiting  bool  // the dispatcher holds a target and waits for a slot
	started  int64 // targets started so far (the sequence of the last)
	cutSeq   int64 // started when the last cut happened
}

// newController returns the controller of so.
func newController(so SweepOptions, st *SweepStats) *controller {
	c := &controller{auto: so.Auto, wake: make(chan struct{}, 1), st: st}
	if so.Auto {
		c.max = so.MaxConcurrency
		if c.max <= 0 {
			c.max = DefaultMaxConcurrency
		}
		c.limit, c.ssthresh = 1, c.max
	} else {
		c.limit = max(1, so.Concurrency)
		c.max = c.limit
	}
	st.Limit.Store(int64(c.limit))
	return c
}

// acquire waits for a slot for a target the caller holds; it returns the
// target's start sequence, or false when ctx ended first.
func (c *controller) acquire(ctx context.Context) (int64, bool) {
	for {
		c.mu.Lock()
		if c.inFlight < c.limit {
			c.inFlight++
			c.started++
			c.waiting = false
			if n := int64(c.inFlight); n > c.st.Peak.Load() {
				c.st.Peak.Store(n)
			}
			seq := c.started
			c.mu.Unlock()
			return seq, true
		}
		c.waiting = true
		c.mu.Unlock()
		select {
		case <-c.wake:
		case <-ctx.Done():
			c.mu.Lock()
			c.waiting = false
			c.mu.Unlock()
			return 0, false
		}
	}
}

// release frees the slot of the target started as seq, which finished
// with sig, and adjusts the limit.
func (c *controller) release(seq int64, sig signal) {
	c.mu.Lock()
	binding := c.waiting
	c.inFlight--
	if c.auto {
		c.adjust(seq, sig, binding)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// adjust is the AIMD step; c.mu is held.
func (c *controller) adjust(seq int64, sig signal, binding bool) {
	switch {
	case sig == signalCongested:
		if seq <= c.cutSeq {
			return // started before the last cut: the same load
		}
		c.limit = max(1, c.limit/2)
		c.ssthresh, c.credit, c.cutSeq = c.limit, 0, c.started
		c.st.Cuts.Add(1)
	case !binding || c.limit >= c.max:
		// Nothing waits: a larger limit would not be used, and would
		// not have been tested by the answers.
		return
	case c.limit < c.ssthresh:
		c.limit++
	default:
		c.credit++
		if c.credit >= c.limit {
			c.limit++
			c.credit = 0
		}
	}
	c.st.Limit.Store(int64(c.limit))
}

// countingDialer counts one target's connections and what came of them,
// for the controller (and SweepStats.Connections).
type countingDialer struct {
	d     Dialer
	conns *atomic.Int64 // the sweep's
	// answered: connections that got a byte back, or were refused (the
	// host's stack answered); failed: timeouts, resets before any byte,
	// throttling replies (isFailure).
	answered, failed atomic.Int64
}

func (cd *countingDialer) Dial(ctx context.Context, t Target) (net.Conn, error) {
	cd.conns.Add(1)
	conn, err := cd.d.Dial(ctx, t)
	switch {
	case err == nil:
		return &countedConn{Conn: conn, cd: cd}, nil
	case ctx.Err() != nil:
	case errors.Is(err, syscall.ECONNREFUSED):
		cd.answered.Add(1)
	case isFailure(err):
		cd.failed.Add(1)
	}
	return nil, err
}

// signal is what the target's connections say.
func (cd *countingDialer) signal() signal {
	if cd.failed.Load() > 0 && cd.answered.Load() > 0 {
		return signalCongested
	}
	return signalFine
}

// countedConn reports its first answer, or a failure before any.
type countedConn struct {
	net.Conn
	cd   *countingDialer
	done atomic.Bool // answered or failed reported
}

func (c *countedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	switch {
	case n > 0:
		if c.done.CompareAndSwap(false, true) {
			c.cd.answered.Add(1)
		}
	case err != nil && isFailure(err):
		if c.done.CompareAndSwap(false, true) {
			c.cd.failed.Add(1)
		}
	}
	return n, err
}
