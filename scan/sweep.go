package scan

import (
	"context"
	"sync"
)

// SweepOptions configures Sweep.
type SweepOptions struct {
	// Concurrency is the number of targets scanned at once (0: 1). Each
	// target opens at most Options.PerHost connections at a time.
	Concurrency int
	// Limiter, when set, rate-limits and backs off every connection.
	Limiter *Limiter
	// Started, when set, is called as a worker takes a target (in flight
	// = started − emitted). It must be safe for concurrent use.
	Started func(Target)
}

// Sweep scans the targets that arrive on in: in (a bounded channel fed by
// a producer such as targets.Stream) → Concurrency workers, each running
// ScanTarget → one collector, the calling goroutine, which calls emit with
// each result as it finishes. Nothing is held but the targets in flight,
// so a sweep of any size runs in bounded memory.
//
// Sweep returns when in is closed and drained and every result is emitted,
// or soon after ctx is done: workers then take no new target, the scans
// in flight return promptly with what they have (unfinished parts
// inconclusive "cancelled", emitted as usual), and what is left in in is
// neither scanned nor emitted.
func Sweep(ctx context.Context, in <-chan Target, opts Options, so SweepOptions, emit func(*Result)) {
	n := max(1, so.Concurrency)
	if opts.Rand != nil {
		opts.Rand = &lockedReader{r: opts.Rand}
	}
	if so.Limiter != nil {
		d := opts.Dialer
		if d == nil {
			timeout := opts.Timeout
			if timeout <= 0 {
				timeout = DefaultTimeout
			}
			d = &NetDialer{Timeout: timeout}
		}
		opts.Dialer = so.Limiter.Dialer(d)
	}
	results := make(chan *Result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				var t Target
				var ok bool
				select {
				case t, ok = <-in:
				case <-ctx.Done():
				}
				if !ok || ctx.Err() != nil {
					return
				}
				if so.Started != nil {
					so.Started(t)
				}
				results <- ScanTarget(ctx, t, opts)
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		emit(r)
	}
}
