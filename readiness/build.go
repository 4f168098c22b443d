package readiness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/store"
)

// DefaultSince is the window of a report when none is given.
const DefaultSince = 30 * 24 * time.Hour

// Options choose a report's window and scans.
type Options struct {
	// Until ends the window and is the instant the scans are taken at:
	// each endpoint's latest scan at or before it (zero: now).
	Until time.Time
	// Since is the window's length before Until (default DefaultSince).
	// The window is made of whole UTC days: from the day of Until−Since
	// to the day of Until, both included.
	Since time.Duration
	// Run, when set, takes the scans from the runs of that name only
	// (the shards of one sweep), whatever Until says.
	Run string
	// Labels name fingerprints (a JA3 hash or a JA4 string → label), over
	// the labels the store has from sniff --fingerprints.
	Labels map[string]string
	// Now is the wall clock (default time.Now).
	Now func() time.Time
}

// Window returns the days of the window opts describe.
func (opts Options) Window() (from, to store.Day, until time.Time) {
	until = opts.Until
	if until.IsZero() {
		now := opts.Now
		if now == nil {
			now = time.Now
		}
		until = now()
	}
	since := opts.Since
	if since <= 0 {
		since = DefaultSince
	}
	return store.DayOf(until.Add(-since)), store.DayOf(until), until
}

// Build reads the store and decides every endpoint.
func Build(ctx context.Context, st *store.Store, opts Options) (*Report, error) {
	from, to, until := opts.Window()
	r := &Report{From: from, To: to, AsOf: until, Run: opts.Run}
	asOf := until
	if opts.Run != "" {
		asOf = time.Time{} // a run's own results, whenever they were taken
	}
	scans, err := st.LatestScans(ctx, asOf, opts.Run)
	if err != nil {
		return nil, err
	}
	runNames := map[int64]string{}
	if runs, err := st.Runs(ctx); err == nil {
		for _, run := range runs {
			runNames[run.ID] = run.Name
		}
	} else {
		return nil, err
	}
	cov, err := st.Coverage(ctx, from, to)
	if err != nil {
		return nil, err
	}
	prints, err := st.Fingerprints(ctx)
	if err != nil {
		return nil, err
	}

	eps := map[string]*Endpoint{}
	get := func(ep string) *Endpoint {
		e := eps[ep]
		if e == nil {
			e = &Endpoint{Endpoint: ep}
			eps[ep] = e
		}
		return e
	}
	for _, c := range cov {
		e := get(c.Server)
		k := &e.Coverage
		k.TLS, k.Legacy, k.Unread, k.Sources = k.TLS+c.TLS, k.Legacy+c.Legacy, k.Unread+c.Unread, k.Sources+c.Sources
		k.Evidence = add(k.Evidence, c.Evidence)
		if k.First.IsZero() || c.First.Before(k.First) {
			k.First = c.First
		}
		if c.Last.After(k.Last) {
			k.Last = c.Last
		}
	}

	// The legacy evidence of the window, in one pass.
	r.Days = days(from, to)
	r.Overall = make([]int64, len(r.Days))
	type usageKey struct {
		ep, client string
	}
	usage := map[usageKey]*Usage{}
	clients := map[string]*Client{}
	trend := map[string][]int64{}
	label := func(ja3, ja4 string) string {
		if l := opts.Labels[ja4]; ja4 != "" && l != "" {
			return l
		}
		if l := opts.Labels[ja3]; ja3 != "" && l != "" {
			return l
		}
		return prints[ja3+"|"+ja4].Label
	}
	err = st.EachLegacyPair(ctx, from, to, func(row *store.EvidenceRow) error {
		e := get(row.Server)
		uk := usageKey{row.Server, row.Client}
		u := usage[uk]
		if u == nil {
			u = &Usage{Client: row.Client, Negotiated: map[tls.Version]int64{}, First: row.First, Last: row.Last}
			usage[uk] = u
			e.Clients = append(e.Clients, u)
		}
		c := clients[row.Client]
		if c == nil {
			c = &Client{Client: row.Client, Negotiated: map[tls.Version]int64{}, First: row.First, Last: row.Last}
			clients[row.Client] = c
		}
		l := label(row.JA3, row.JA4)
		u.Connections += row.Connections
		u.Reasons |= row.Legacy
		u.Negotiated[row.Version] += row.Connections
		u.First, u.Last = earliest(u.First, row.First), latest(u.Last, row.Last)
		u.Via = add(u.Via, row.Via)
		for _, v := range row.Offered {
			u.Offered = add(u.Offered, v)
		}
		if row.Version != 0 {
			u.Ciphers = add(u.Ciphers, row.Cipher)
		}
		u.SNIs = add(u.SNIs, row.SNI)
		u.Protocols = add(u.Protocols, row.Protocol)
		u.Evidence = add(u.Evidence, row.Evidence)
		u.JA3, u.JA4, u.Labels = add(u.JA3, row.JA3), add(u.JA4, row.JA4), add(u.Labels, l)

		c.Connections += row.Connections
		c.Reasons |= row.Legacy
		c.Negotiated[row.Version] += row.Connections
		c.First, c.Last = earliest(c.First, row.First), latest(c.Last, row.Last)
		c.Via = add(c.Via, row.Via)
		c.Endpoints = add(c.Endpoints, row.Server)
		for _, v := range row.Offered {
			c.Offered = add(c.Offered, v)
		}
		if row.Version != 0 {
			c.Ciphers = add(c.Ciphers, row.Cipher)
		}
		c.SNIs = add(c.SNIs, row.SNI)
		c.Protocols = add(c.Protocols, row.Protocol)
		c.Evidence = add(c.Evidence, row.Evidence)
		c.JA3, c.JA4, c.Labels = add(c.JA3, row.JA3), add(c.JA4, row.JA4), add(c.Labels, l)
		if fp, ok := prints[row.JA3+"|"+row.JA4]; ok {
			for _, id := range fp.OfferedCiphers {
				if !slices.Contains(c.OfferedCiphers, id) {
					c.OfferedCiphers = append(c.OfferedCiphers, id)
				}
			}
		}

		e.LegacyConnections += row.Connections
		e.LastLegacy = latest(e.LastLegacy, row.Last)
		return nil
	})
	if err != nil {
		return nil, err
	}
	byDay, err := st.LegacyByDay(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, c := range byDay {
		if i := int(c.Day - from); i >= 0 && i < len(r.Days) {
			t := trend[c.Server]
			if t == nil {
				t = make([]int64, len(r.Days))
				trend[c.Server] = t
			}
			t[i] += c.Connections
			r.Overall[i] += c.Connections
		}
	}

	scanned := map[string]bool{}
	for i := range scans {
		sr := &scans[i]
		scanned[sr.Endpoint] = true
		e := eps[sr.Endpoint]
		stance, accepted, undecided := ScanStance(sr.Status, sr.Versions)
		if sr.Status == "unreachable" && (e == nil || e.Coverage.TLS+e.Coverage.Unread == 0 && len(e.Clients) == 0) {
			r.Summary.UnreachableUnlisted++
			continue
		}
		e = get(sr.Endpoint)
		e.Scan = &Scan{Run: sr.RunID, RunName: runNames[sr.RunID], Target: sr.Target, Host: sr.Host, Protocol: sr.Protocol,
			Status: sr.Status, Scanned: sr.Scanned, Stance: stance, Accepted: accepted, Undecided: undecided, Versions: sr.Versions}
	}

	for ep, e := range eps {
		if e.Scan == nil && len(e.Clients) == 0 {
			r.Summary.Unlisted++
			continue
		}
		if t := trend[ep]; t != nil {
			for i, n := range t {
				e.Trend = append(e.Trend, DayCount{r.Days[i], n})
			}
		}
		slices.SortFunc(e.Clients, func(a, b *Usage) int {
			return cmp.Or(cmp.Compare(b.Connections, a.Connections), CompareClients(a.Client, b.Client))
		})
		for _, u := range e.Clients {
			sortVersions(u.Offered)
		}
		Decide(e)
		r.Endpoints = append(r.Endpoints, e)
		r.Summary.LegacyConnections += e.LegacyConnections
	}
	sortEndpoints(r.Endpoints)
	for _, c := range clients {
		sortVersions(c.Offered)
		slices.Sort(c.Endpoints)
		r.Clients = append(r.Clients, c)
	}
	slices.SortFunc(r.Clients, func(a, b *Client) int {
		return cmp.Or(cmp.Compare(b.Connections, a.Connections), CompareClients(a.Client, b.Client))
	})

	r.Summary.ByVerdict = map[Verdict]int{}
	for _, e := range r.Endpoints {
		r.Summary.ByVerdict[e.Verdict]++
	}
	r.Summary.Endpoints = len(r.Endpoints)
	r.Summary.LegacyClients = len(r.Clients)

	sources, err := st.Sources(ctx)
	if err != nil {
		return nil, err
	}
	winStart, winEnd := from.Time(), (to + 1).Time()
	for _, src := range sources {
		if !overlaps(src, winStart, winEnd) {
			continue
		}
		r.Sources = append(r.Sources, src)
		r.Summary.Sources++
		if src.State != store.StateComplete {
			r.Summary.Incomplete++
		}
	}
	return r, nil
}

// overlaps reports whether a source's evidence falls in [start, end): by
// its evidence times, or, before it committed any, by when it ran.
func overlaps(src store.Source, start, end time.Time) bool {
	first, last := src.FirstSeen, src.LastSeen
	if first.IsZero() {
		first, last = src.Started, src.Updated
	}
	return first.Before(end) && !last.Before(start)
}

func days(from, to store.Day) []store.Day {
	var out []store.Day
	for d := from; d <= to; d++ {
		out = append(out, d)
	}
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sortVersions orders versions newest first.
func sortVersions(vs []tls.Version) {
	slices.SortFunc(vs, func(a, b tls.Version) int { return b.Compare(a) })
}

// ParsePoint reads a diff side or --until: a date (2006-01-02, the end
// of that UTC day), an RFC 3339 time, or else a scan run's name.
func ParsePoint(s string) (until time.Time, run string, err error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), "", nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, "", nil
	}
	if strings.TrimSpace(s) == "" {
		return time.Time{}, "", errors.New("readiness: an empty point (want a date 2006-01-02, an RFC 3339 time or a scan run's name)")
	}
	return time.Time{}, s, nil
}

// ParseSince reads a window length: "30d", "12h", "2w", or any Go
// duration.
func ParseSince(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, unit := len(s), ""; n > 1 {
		unit = s[n-1:]
		mult := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[unit]
		if mult != 0 {
			var k int
			// At most a century: beyond it the duration would overflow.
			if _, err := fmt.Sscanf(s[:n-1], "%d", &k); err == nil && k > 0 && k <= 36525 && fmt.Sprint(k) == s[:n-1] {
				return time.Duration(k) * mult, nil
			}
			return 0, fmt.Errorf("readiness: bad window %q (want e.g. 30d, 2w, 12h)", s)
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("readiness: bad window %q (want e.g. 30d, 2w, 12h)", s)
	}
	return d, nil
}
