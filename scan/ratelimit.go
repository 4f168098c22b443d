package scan

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	// golang.org/x/time/rate is the Go team's token bucket: exact
	// reservations (a waiter is told when its token comes rather than
	// polling), Wait honours a context, SetLimit changes a bucket's rate
	// in place (which the backoff needs), and it is small and maintained
	// with the standard library's care. A hand-written bucket would redo
	// the same arithmetic with fewer tests.
	"golang.org/x/time/rate"

	"github.com/tlsmap/tlsmap/protocols"
)

// Limits are the politeness of a sweep: token buckets on connections
// (every connection a scan opens takes a token before it is dialed), and
// a per-address backoff.
type Limits struct {
	// Rate is the most connections opened per second over the whole
	// sweep (0: no limit).
	Rate float64
	// PerIPRate is the most connections opened per second to one IP
	// address, whatever the port (0: no limit).
	PerIPRate float64
	// Burst is the size of both buckets (0: a fiftieth of a second's
	// worth, at least 1): how far ahead of the rate a quiet bucket lets a
	// burst go.
	Burst int

	// BackoffAfter is how many consecutive failures (a connect or read
	// timeout, a reset before any byte came back, protocols.ErrThrottled) slow an
	// address down (0: 5; negative: never). The address's rate then
	// starts at BackoffRate (or PerIPRate when lower) and halves with each
	// further failure down to BackoffFloor; one connection that gets an
	// answer restores it.
	BackoffAfter int
	BackoffRate  float64 // 0: 5 connections/s
	BackoffFloor float64 // 0: 1 connection/s

	// IdleEvict is how long the state of an address (its bucket, its
	// failures) is kept once it has no connection open (0: 30 s): memory
	// stays bounded by the addresses in use, not the size of the sweep.
	IdleEvict time.Duration
}

func (l Limits) normalized() Limits {
	if l.BackoffAfter == 0 {
		l.BackoffAfter = 5
	}
	if l.BackoffRate <= 0 {
		l.BackoffRate = 5
	}
	if l.BackoffFloor <= 0 {
		l.BackoffFloor = 1
	}
	if l.IdleEvict <= 0 {
		l.IdleEvict = 30 * time.Second
	}
	return l
}

func burstOf(r float64, b int) int {
	if b > 0 {
		return b
	}
	return max(1, int(math.Ceil(r/50)))
}

// Limiter enforces Limits on the connections of a Dialer (see Dialer). It
// is safe for concurrent use.
type Limiter struct {
	l      Limits
	global *rate.Limiter // nil: no global rate

	mu        sync.Mutex
	ips       map[string]*ipState
	lastSweep time.Time

	slowed atomic.Int64 // backoff steps taken
	peak   atomic.Int64 // most addresses tracked at once
}

// ipState is the politeness state of one address.
type ipState struct {
	refs  int       // dials and connections in progress
	last  time.Time // last release
	lim   *rate.Limiter
	fails int // consecutive failures
}

// NewLimiter returns a Limiter for l.
func NewLimiter(l Limits) *Limiter {
	l = l.normalized()
	lim := &Limiter{l: l, ips: map[string]*ipState{}, lastSweep: time.Now()}
	if l.Rate > 0 {
		lim.global = rate.NewLimiter(rate.Limit(l.Rate), burstOf(l.Rate, l.Burst))
	}
	return lim
}

// Slowed returns how many times an address was slowed down by the backoff.
func (l *Limiter) Slowed() int64 { return l.slowed.Load() }

// Tracked returns the number of addresses whose state is kept now, and the
// most kept at once.
func (l *Limiter) Tracked() (now, peak int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.ips), int(l.peak.Load())
}

// Dialer returns d with l's limits: each Dial waits for the address's
// token and the global one, and the connection reports its failures and
// successes to the backoff.
func (l *Limiter) Dialer(d Dialer) Dialer { return &limitedDialer{d: d, l: l} }

type limitedDialer struct {
	d Dialer
	l *Limiter
}

func (ld *limitedDialer) Dial(ctx context.Context, t Target) (net.Conn, error) {
	l := ld.l
	st := l.acquire(t.Addr)
	if err := l.wait(ctx, st); err != nil {
		l.release(t.Addr, st)
		return nil, &StageError{Stage: StageDial, Err: err}
	}
	conn, err := ld.d.Dial(ctx, t)
	if err != nil {
		if isFailure(err) && ctx.Err() == nil {
			l.fail(st)
		}
		l.release(t.Addr, st)
		return nil, err
	}
	return &watchedConn{Conn: conn, l: l, st: st, key: t.Addr}, nil
}

// wait takes a token from the address's bucket, then from the global one.
// When a token cannot come before ctx's deadline, it waits for ctx to end
// (so that the probe is seen as cancelled, not as a dial failure).
func (l *Limiter) wait(ctx context.Context, st *ipState) error {
	l.mu.Lock()
	per := st.lim
	l.mu.Unlock()
	for _, lim := range []*rate.Limiter{per, l.global} {
		if lim == nil {
			continue
		}
		if err := lim.Wait(ctx); err != nil {
			<-ctx.Done()
			return ctx.Err()
		}
	}
	return nil
}

func (l *Limiter) acquire(key string) *ipState {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.l.IdleEvict/2 {
		l.lastSweep = now
		for k, st := range l.ips {
			if st.refs == 0 && now.Sub(st.last) > l.l.IdleEvict {
				delete(l.ips, k)
			}
		}
	}
	st := l.ips[key]
	if st == nil {
		st = &ipState{}
		if r := l.l.PerIPRate; r > 0 {
			st.lim = rate.NewLimiter(rate.Limit(r), burstOf(r, l.l.Burst))
		}
		l.ips[key] = st
		if n := int64(len(l.ips)); n > l.peak.Load() {
			l.peak.Store(n)
		}
	}
	st.refs++
	return st
}

func (l *Limiter) release(key string, st *ipState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st.refs--
	st.last = time.Now()
	if st.refs == 0 && st.lim == nil && st.fails == 0 {
		// Nothing worth keeping (no per-address rate, no failures).
		delete(l.ips, key)
	}
}

// fail records a failure of st's address and slows it down past
// BackoffAfter.
func (l *Limiter) fail(st *ipState) {
	if l.l.BackoffAfter < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st.fails++
	if st.fails < l.l.BackoffAfter {
		return
	}
	l.slowed.Add(1)
	if st.fails == l.l.BackoffAfter || st.lim == nil {
		r := l.l.BackoffRate
		if p := l.l.PerIPRate; p > 0 && p < r {
			r = p
		}
		if st.lim == nil {
			st.lim = rate.NewLimiter(rate.Limit(r), 1)
		} else {
			st.lim.SetLimit(rate.Limit(r))
		}
		return
	}
	st.lim.SetLimit(max(st.lim.Limit()/2, rate.Limit(l.l.BackoffFloor)))
}

// ok records an answer from st's address, which ends its backoff.
func (l *Limiter) ok(st *ipState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if st.fails >= l.l.BackoffAfter && l.l.BackoffAfter > 0 {
		if r := l.l.PerIPRate; r > 0 {
			st.lim.SetLimit(rate.Limit(r))
			st.lim.SetBurst(burstOf(r, l.l.Burst))
		} else {
			st.lim = nil
		}
	}
	st.fails = 0
}

// isFailure reports whether err is a sign of an overloaded or filtering
// address: a timeout, a reset, a throttling reply.
func isFailure(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, protocols.ErrThrottled), errors.Is(err, syscall.ECONNRESET), errors.Is(err, os.ErrDeadlineExceeded):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}

// watchedConn reports the first answer, or a failure before any, to the
// backoff, and releases the address when closed.
type watchedConn struct {
	net.Conn
	l        *Limiter
	st       *ipState
	key      string
	answered bool
	failed   bool
	once     sync.Once
}

func (c *watchedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	switch {
	case n > 0 && !c.answered:
		c.answered = true
		c.l.ok(c.st)
	case err != nil && !c.answered && !c.failed && isFailure(err):
		c.failed = true
		c.l.fail(c.st)
	}
	return n, err
}

func (c *watchedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key, c.st) })
	return err
}
