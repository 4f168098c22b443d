package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// hammer dials the targets through d from many goroutines, as fast as the
// limiter lets them, until ctx ends.
func hammer(ctx context.Context, d Dialer, targets []Target, workers int) {
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for n := i; ctx.Err() == nil; n++ {
				conn, err := d.Dial(ctx, targets[n%len(targets)])
				if err == nil {
					conn.Close()
				}
			}
		})
	}
	wg.Wait()
}

// TestLimiterRates measures the global and per-IP token buckets with a
// dialer that records when each address is dialled: over a 2 s window
// after a warm-up, each rate holds. It runs in a synctest bubble, so the
// clock is the fake one and the count is exact (within the one token a
// window edge may cut).
func TestLimiterRates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &stubDialer{fail: func(int) error { return nil }}
		targets := []Target{
			{Addr: "192.0.2.1", Port: 443, Protocol: ProtoTLS},
			{Addr: "192.0.2.2", Port: 443, Protocol: ProtoTLS},
			{Addr: "192.0.2.3", Port: 443, Protocol: ProtoTLS},
		}
		const (
			perIP  = 60.0  // one address alone would take 60/s
			global = 150.0 // … but the three together may take 150/s
		)
		lim := NewLimiter(Limits{Rate: global, PerIPRate: perIP})
		d := lim.Dialer(stub)

		// Pass 1: one address only: the per-IP rate binds.
		// Pass 2: three addresses: the global rate binds (3×60 > 150).
		for _, pass := range []struct {
			name    string
			targets []Target
			want    float64
		}{
			{"per-ip", targets[:1], perIP},
			{"global", targets, global},
		} {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			start := time.Now()
			hammer(ctx, d, pass.targets, 16)
			cancel()
			from, to := start.Add(500*time.Millisecond), start.Add(2500*time.Millisecond)
			got := 0
			perAddr := map[string]int{}
			for _, dl := range stub.between(from, to) {
				got++
				perAddr[dl.addr]++
			}
			rate := float64(got) / to.Sub(from).Seconds()
			t.Logf("%s: %d dials in 2 s = %.1f/s (limit %.0f/s)", pass.name, got, rate, pass.want)
			if want := int(pass.want * 2); got < want-1 || got > want+1 {
				t.Errorf("%s: %d dials in 2 s, want %d (±1)", pass.name, got, want)
			}
			if pass.name == "global" {
				// Per IP, the share is a third of the global rate, and
				// never above the per-IP limit.
				for a, n := range perAddr {
					if n > int(perIP*2)+1 {
						t.Errorf("address %s: %d dials in 2 s, over the per-IP limit", a, n)
					}
				}
			}
		}
	})
}

// stubDialer returns, for each dial, the next of its results.
type stubDialer struct {
	mu    sync.Mutex
	dials []dial
	fail  func(n int) error // nil error: a connection that answers
}

// dial is one call of stubDialer.Dial.
type dial struct {
	at   time.Time
	addr string
}

func (s *stubDialer) Dial(ctx context.Context, t Target) (net.Conn, error) {
	s.mu.Lock()
	n := len(s.dials)
	s.dials = append(s.dials, dial{at: time.Now(), addr: t.Addr})
	s.mu.Unlock()
	if err := s.fail(n); err != nil {
		return nil, &StageError{Stage: StageDial, Err: err}
	}
	client, server := net.Pipe()
	go func() { server.Write([]byte{0x16}); server.Close() }()
	return client, nil
}

// TestLimiterBackoff: consecutive timeouts slow an address down (halving
// from BackoffRate), an answer restores it, and other addresses are not
// affected. In a synctest bubble: the waits are the fake clock's, exact.
func TestLimiterBackoff(t *testing.T) {
	synctest.Test(t, testLimiterBackoff)
}

func testLimiterBackoff(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	stub := &stubDialer{fail: func(int) error {
		if failing.Load() {
			return os.ErrDeadlineExceeded
		}
		return nil
	}}
	lim := NewLimiter(Limits{BackoffAfter: 3, BackoffRate: 20, BackoffFloor: 5})
	d := lim.Dialer(stub)
	tg := Target{Addr: "192.0.2.1", Port: 443, Protocol: ProtoTLS}
	ctx := context.Background()

	start := time.Now()
	for range 3 { // free: the failures are counted, nothing slows yet
		d.Dial(ctx, tg)
	}
	if el := time.Since(start); el != 0 {
		t.Errorf("3 failures took %v before any backoff", el)
	}
	// From now on the address is limited: the third failure made a bucket
	// of 20/s whose first token is free; each failure then halves the
	// rate, to the floor: the next five dials wait 1/10 s, then 1/5 s
	// four times (each wait at the rate the previous failure set).
	start = time.Now()
	for range 6 {
		d.Dial(ctx, tg)
	}
	el := time.Since(start)
	t.Logf("6 dials under backoff: %v; %d backoff steps", el, lim.Slowed())
	if want := 900 * time.Millisecond; el < want-time.Millisecond || el > want+time.Millisecond {
		t.Errorf("6 dials under backoff took %v, want %v", el, want)
	}
	if lim.Slowed() < 6 {
		t.Errorf("%d backoff steps", lim.Slowed())
	}
	// Another address is not slowed.
	other := tg
	other.Addr = "192.0.2.2"
	start = time.Now()
	d.Dial(ctx, other)
	d.Dial(ctx, other)
	if el := time.Since(start); el != 0 {
		t.Errorf("another address waited %v", el)
	}
	// One answer restores the address.
	failing.Store(false)
	conn, err := d.Dial(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	conn.Read(make([]byte, 1))
	conn.Close()
	start = time.Now()
	for range 10 {
		if c, err := d.Dial(ctx, tg); err == nil {
			c.Close()
		}
	}
	if el := time.Since(start); el != 0 {
		t.Errorf("after an answer, 10 dials took %v", el)
	}
	// Refusals are not failures.
	refusing := &stubDialer{fail: func(int) error { return errors.New("connect: connection refused") }}
	lim2 := NewLimiter(Limits{BackoffAfter: 1})
	for range 5 {
		lim2.Dialer(refusing).Dial(ctx, tg)
	}
	if lim2.Slowed() != 0 {
		t.Errorf("refused connections slowed the address")
	}
	// protocols.ErrThrottled is a failure.
	throttled := &stubDialer{fail: func(int) error { return fmt.Errorf("%w: smtp 421", protocols.ErrThrottled) }}
	lim3 := NewLimiter(Limits{BackoffAfter: 2, BackoffRate: 1000})
	for range 3 {
		lim3.Dialer(throttled).Dial(ctx, tg)
	}
	if lim3.Slowed() == 0 {
		t.Errorf("throttling replies did not slow the address")
	}
}

// TestLimiterEviction: per-address state is dropped when idle, so a sweep
// of many addresses keeps a bounded map. In a synctest bubble: the idle
// pauses are the fake clock's.
func TestLimiterEviction(t *testing.T) {
	synctest.Test(t, testLimiterEviction)
}

func testLimiterEviction(t *testing.T) {
	ok := &stubDialer{fail: func(int) error { return nil }}
	ctx := context.Background()
	// Without a per-IP rate nothing is kept once a connection closes.
	lim := NewLimiter(Limits{})
	for i := range 5000 {
		c, err := lim.Dialer(ok).Dial(ctx, Target{Addr: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: 443})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if now, peak := lim.Tracked(); now != 0 || peak > 1 {
		t.Errorf("no per-IP rate: %d addresses tracked (peak %d)", now, peak)
	}
	// With one, idle buckets are evicted after IdleEvict.
	lim = NewLimiter(Limits{PerIPRate: 1000, IdleEvict: 20 * time.Millisecond})
	for i := range 5000 {
		c, _ := lim.Dialer(ok).Dial(ctx, Target{Addr: fmt.Sprintf("10.0.%d.%d", i/256, i%256), Port: 443})
		c.Close()
		if i%1000 == 999 {
			time.Sleep(25 * time.Millisecond)
		}
	}
	now, peak := lim.Tracked()
	t.Logf("per-IP rate: %d tracked, peak %d", now, peak)
	// The clock stands still within a batch of 1000 and moves 25 ms
	// between batches: each batch is evicted as the next begins.
	if peak != 1000 {
		t.Errorf("peak %d addresses tracked for 5000 addresses in batches of 1000 idle after 20 ms, want 1000", peak)
	}
}

// TestSweep: every target is scanned and emitted exactly once, at most
// Concurrency at once; cancelling returns promptly without emitting what
// was not started. In a synctest bubble: the dials' 5 ms and the cancel
// after 100 ms are the fake clock's.
func TestSweep(t *testing.T) {
	synctest.Test(t, testSweep)
}

func testSweep(t *testing.T) {
	var inFlight, peak atomic.Int64
	slow := dialerFunc(func(ctx context.Context, tg Target) (net.Conn, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
		}
		return nil, &StageError{Stage: StageDial, Err: errors.New("connect: connection refused")}
	})
	opts := Options{Dialer: slow, PerHost: 1, Versions: []tls.Version{tls.VersionTLS12}}
	in := make(chan Target, 4)
	go func() {
		defer close(in)
		for i := range 200 {
			in <- Target{Addr: fmt.Sprintf("192.0.2.%d", i), Port: 443, Protocol: ProtoTLS}
		}
	}()
	seen := map[string]int{}
	Sweep(t.Context(), in, opts, SweepOptions{Concurrency: 8, Limiter: NewLimiter(Limits{})}, func(r *Result) {
		seen[r.Target.Addr]++
		if r.Status != StatusUnreachable {
			t.Errorf("%s: %s", r.Target.Addr, r.Status)
		}
	})
	if len(seen) != 200 {
		t.Errorf("%d targets emitted", len(seen))
	}
	for a, n := range seen {
		if n != 1 {
			t.Errorf("%s emitted %d times", a, n)
		}
	}
	if p := peak.Load(); p > 8 || p < 2 {
		t.Errorf("peak concurrency %d, want 2…8", p)
	}

	// Cancelled: a never-ending stream stops.
	ctx, cancel := context.WithCancel(t.Context())
	endless := make(chan Target)
	go func() {
		for i := 0; ; i++ {
			select {
			case endless <- Target{Addr: fmt.Sprintf("198.51.100.%d", i%256), Port: 443, Protocol: ProtoTLS}:
			case <-ctx.Done():
				return
			}
		}
	}()
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	n := 0
	Sweep(ctx, endless, opts, SweepOptions{Concurrency: 4}, func(*Result) { n++ })
	if el := time.Since(start); el != 100*time.Millisecond {
		t.Errorf("sweep cancelled after 100ms returned after %v", el)
	}
	t.Logf("%d results before the cancel", n)
}

// between returns the dials in [from, to).
func (s *stubDialer) between(from, to time.Time) []dial {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []dial
	for _, d := range s.dials {
		if !d.at.Before(from) && d.at.Before(to) {
			out = append(out, d)
		}
	}
	return out
}

type dialerFunc func(ctx context.Context, t Target) (net.Conn, error)

func (f dialerFunc) Dial(ctx context.Context, t Target) (net.Conn, error) { return f(ctx, t) }

// TestSuitesFor: suites are enumerated for the listed versions only; the
// others are decided with one hello.
func TestSuitesFor(t *testing.T) {
	srv := faketls.Start(t, faketls.Intermediate())
	opts := testOptions(tls.VersionTLS12, tls.VersionTLS13)
	opts.SuitesFor = []tls.Version{tls.VersionTLS12}
	res := ScanTarget(context.Background(), targetOf(t, srv.Addr()), opts)
	v12, v13 := res.Version(tls.VersionTLS12), res.Version(tls.VersionTLS13)
	if v12 == nil || v13 == nil || v12.Outcome != Accepted || v13.Outcome != Accepted {
		t.Fatalf("versions: %+v", res.Versions)
	}
	if len(v12.Suites) < 2 {
		t.Errorf("TLS 1.2: %d suites enumerated", len(v12.Suites))
	}
	if len(v13.Suites) != 1 || len(v13.Inconclusive) != 0 {
		t.Errorf("TLS 1.3 (detection only): suites %v, inconclusive %v", v13.Suites, v13.Inconclusive)
	}
	full := ScanTarget(context.Background(), targetOf(t, srv.Addr()), testOptions(tls.VersionTLS12, tls.VersionTLS13))
	if !slices.Equal(full.Version(tls.VersionTLS12).Suites, v12.Suites) {
		t.Errorf("TLS 1.2 suites %v, a full scan finds %v", v12.Suites, full.Version(tls.VersionTLS12).Suites)
	}
	if res.Handshakes.Total >= full.Handshakes.Total {
		t.Errorf("%d handshakes, a full scan takes %d", res.Handshakes.Total, full.Handshakes.Total)
	}
}
