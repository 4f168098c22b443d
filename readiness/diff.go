package readiness

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/store"
)

// Point is one side of a diff: the scans of a run, or the state at an
// instant.
type Point struct {
	// Label is the side as given (a run name or a date).
	Label string
	// Run is the scan run's name (its shards together), "" for an
	// instant.
	Run string
	// Until is the instant (for a run: when its last shard finished).
	Until time.Time
}

// ResolvePoint makes a diff side from s: a date (2006-01-02, the end of
// that UTC day), an RFC 3339 time, or the name of a scan run in st.
func ResolvePoint(ctx context.Context, st *store.Store, s string) (Point, error) {
	until, run, err := ParsePoint(s)
	if err != nil {
		return Point{}, err
	}
	p := Point{Label: s, Run: run, Until: until}
	if run == "" {
		return p, nil
	}
	runs, err := st.RunNamed(ctx, run)
	if err != nil {
		return Point{}, err
	}
	for _, r := range runs {
		t := r.Finished
		if t.IsZero() {
			t = r.Started
		}
		p.Until = latest(p.Until, t)
	}
	return p, nil
}

// Change is one endpoint whose legacy stance or verdict differs.
type Change struct {
	Endpoint string
	// Before and After are its verdicts ("" when absent on that side);
	// BeforeStance and AfterStance what its scans said.
	Before, After             Verdict
	BeforeStance, AfterStance Stance
	// Accepted are the legacy versions it accepts after (for Started).
	Accepted string
}

// ClientChange is a client that started or stopped using legacy TLS with
// an endpoint.
type ClientChange struct {
	Client      string
	Endpoint    string
	Connections int64     // in the window of the side it is seen on
	Last        time.Time // its last legacy connection there
}

// Diff is what changed between two points.
type Diff struct {
	A, B Point
	// Started: endpoints that refused legacy TLS at A and accept it at B
	// (regressions); Stopped: the reverse; New and Gone: endpoints
	// scanned on one side only; Verdicts: other verdict changes.
	Started, Stopped, New, Gone, Verdicts []Change
	// Appeared and Disappeared are client × endpoint legacy pairs seen in
	// B's window and not A's, and the reverse.
	Appeared, Disappeared []ClientChange
	// ReportA and ReportB are the two sides' reports.
	ReportA, ReportB *Report
}

// Regressed reports whether an endpoint started accepting legacy TLS.
func (d *Diff) Regressed() bool { return len(d.Started) > 0 }

// BuildDiff builds the reports of both points (each with opts' window
// length, ending at its point) and compares them.
func BuildDiff(ctx context.Context, st *store.Store, a, b Point, opts Options) (*Diff, error) {
	d := &Diff{A: a, B: b}
	for _, side := range []struct {
		p   Point
		dst **Report
	}{{a, &d.ReportA}, {b, &d.ReportB}} {
		o := opts
		o.Until, o.Run = side.p.Until, side.p.Run
		r, err := Build(ctx, st, o)
		if err != nil {
			return nil, fmt.Errorf("readiness: %s: %w", side.p.Label, err)
		}
		*side.dst = r
	}
	before, after := index(d.ReportA), index(d.ReportB)
	for ep, eb := range after {
		ea := before[ep]
		switch {
		case ea == nil || ea.Scan == nil:
			if eb.Scan != nil {
				c := change(ea, eb)
				d.New = append(d.New, c)
			}
		case eb.Scan == nil:
		case ea.Scan.Stance != Accepts && eb.Scan.Stance == Accepts:
			if ea.Scan.Stance == Refuses {
				d.Started = append(d.Started, change(ea, eb))
			} else {
				d.Verdicts = append(d.Verdicts, change(ea, eb))
			}
		case ea.Scan.Stance == Accepts && eb.Scan.Stance == Refuses:
			d.Stopped = append(d.Stopped, change(ea, eb))
		case ea.Verdict != eb.Verdict:
			d.Verdicts = append(d.Verdicts, change(ea, eb))
		}
	}
	for ep, ea := range before {
		if eb := after[ep]; ea.Scan != nil && (eb == nil || eb.Scan == nil) {
			d.Gone = append(d.Gone, change(ea, eb))
		}
	}
	pairsA, pairsB := pairs(d.ReportA), pairs(d.ReportB)
	for k, u := range pairsB {
		if _, ok := pairsA[k]; !ok {
			d.Appeared = append(d.Appeared, ClientChange{Client: u.Client, Endpoint: k.ep, Connections: u.Connections, Last: u.Last})
		}
	}
	for k, u := range pairsA {
		if _, ok := pairsB[k]; !ok {
			d.Disappeared = append(d.Disappeared, ClientChange{Client: u.Client, Endpoint: k.ep, Connections: u.Connections, Last: u.Last})
		}
	}
	for _, cs := range []*[]Change{&d.Started, &d.Stopped, &d.New, &d.Gone, &d.Verdicts} {
		slices.SortFunc(*cs, func(x, y Change) int { return strings.Compare(x.Endpoint, y.Endpoint) })
	}
	for _, cs := range []*[]ClientChange{&d.Appeared, &d.Disappeared} {
		slices.SortFunc(*cs, func(x, y ClientChange) int {
			return cmp.Or(strings.Compare(x.Endpoint, y.Endpoint), CompareClients(x.Client, y.Client))
		})
	}
	return d, nil
}

func change(a, b *Endpoint) Change {
	c := Change{}
	if a != nil {
		c.Endpoint, c.Before = a.Endpoint, a.Verdict
		if a.Scan != nil {
			c.BeforeStance = a.Scan.Stance
		}
	}
	if b != nil {
		c.Endpoint, c.After = b.Endpoint, b.Verdict
		if b.Scan != nil {
			c.AfterStance = b.Scan.Stance
			c.Accepted = versionNames(b.Scan.Accepted)
		}
	}
	return c
}

func index(r *Report) map[string]*Endpoint {
	m := map[string]*Endpoint{}
	for _, e := range r.Endpoints {
		m[e.Endpoint] = e
	}
	return m
}

type pairKey struct{ ep, client string }

func pairs(r *Report) map[pairKey]*Usage {
	m := map[pairKey]*Usage{}
	for _, e := range r.Endpoints {
		for _, u := range e.Clients {
			m[pairKey{e.Endpoint, u.Client}] = u
		}
	}
	return m
}
