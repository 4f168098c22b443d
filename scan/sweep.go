package scan

import (
	"context"
	"sync"
)

// SweepOptions configures Sweep.
type SweepOptions struct {
	// Concurrency is the number of targets scanned at once (0: 1), unless
	// Auto. Each target opens at most Options.PerHost connections at a
	// time.
	Concurrency int
	// Auto lets the number of targets scanned at once follow the sweep
	// (the controller of autoconc.go): it starts at 1, grows while
	// targets wait and their endpoints answer, up to MaxConcurrency, and
	// halves when endpoints that answer start timing out or resetting.
	Auto bool
	// MaxConcurrency is Auto's ceiling (0: DefaultMaxConcurrency).
	MaxConcurrency int
	// Limiter, when set, rate-limits and backs off every connection.
	Limiter *Limiter
	// Started, when set, is called as a worker takes a target (in flight
	// = started − emitted). It must be safe for concurrent use.
	Started func(Target)
	// Unstarted, when set, is called (from the calling goroutine, like
	// emit) with a target taken from in but not started because ctx
	// ended while it waited for a slot.
	Unstarted func(Target)
	// Stats, when set, is filled as the sweep runs.
	Stats *SweepStats
}

// item is what the collector gets: a result, or a target never started.
type item struct {
	r         *Result
	unstarted *Target
}

// Sweep scans the targets that arrive on in: in (a bounded channel fed by
// a producer such as targets.Stream) → a dispatcher that starts each
// target once the controller (SweepOptions.Concurrency, or Auto) has a
// slot, each running ScanTarget → one collector, the calling goroutine,
// which calls emit with each result as it finishes. Nothing is held but
// the targets in flight and the one waiting for a slot, so a sweep of any
// size runs in bounded memory.
//
// Sweep returns when in is closed and drained and every result is emitted,
// or soon after ctx is done: no new target starts, the scans in flight
// return promptly with what they have (unfinished parts inconclusive
// "cancelled", emitted as usual), the target waiting for a slot goes to
// SweepOptions.Unstarted, and what is left in in is neither scanned nor
// emitted.
func Sweep(ctx context.Context, in <-chan Target, opts Options, so SweepOptions, emit func(*Result)) {
	st := so.Stats
	if st == nil {
		st = &SweepStats{}
	}
	ctl := newController(so, st)
	if opts.Rand != nil {
		opts.Rand = &lockedReader{r: opts.Rand}
	}
	d := opts.Dialer
	if d == nil {
		timeout := opts.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		d = &NetDialer{Timeout: timeout}
	}
	if so.Limiter != nil {
		d = so.Limiter.Dialer(d)
	}
	results := make(chan item, ctl.max)
	var wg sync.WaitGroup
	go func() {
		defer func() {
			wg.Wait()
			close(results)
		}()
		for ctx.Err() == nil {
			var t Target
			var ok bool
			select {
			case t, ok = <-in:
			case <-ctx.Done():
			}
			if !ok {
				return
			}
			seq, ok := ctl.acquire(ctx)
			if !ok || ctx.Err() != nil {
				if ok {
					ctl.release(seq, signalFine)
				}
				results <- item{unstarted: &t}
				return
			}
			if so.Started != nil {
				so.Started(t)
			}
			wg.Go(func() {
				cd := &countingDialer{d: d, conns: &st.Connections}
				o := opts
				o.Dialer = cd
				// The slot is freed once the collector has the result:
				// a slow emit holds the sweep back rather than piling
				// results up.
				results <- item{r: ScanTarget(ctx, t, o)}
				ctl.release(seq, cd.signal())
			})
		}
	}()
	for it := range results {
		switch {
		case it.r != nil:
			emit(it.r)
		case so.Unstarted != nil:
			so.Unstarted(*it.unstarted)
		}
	}
}
