// Package readiness decides, for every server endpoint in a store, whether
// TLS 1.0/1.1 (and SSL) can be switched off now: it joins the latest scan
// (what the endpoint accepts) with the evidence of captures and logs
// (which clients still use legacy TLS with it, and whether any evidence
// saw the endpoint at all). The verdicts are made here and only here;
// package output renders them.
package readiness

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/store"
)

// Verdict is the answer for one endpoint.
type Verdict string

// The verdicts, in the order the report lists them.
const (
	// Blocked: the endpoint accepts legacy TLS and legacy clients used
	// it in the window: those clients must be fixed first.
	Blocked Verdict = "blocked"
	// Unscanned: legacy clients used the endpoint in the window but it
	// was never scanned (what it accepts now is unknown).
	Unscanned Verdict = "unscanned"
	// Inconclusive: the latest scan could not tell whether the endpoint
	// accepts legacy TLS (unreachable, timeouts, a version not probed).
	Inconclusive Verdict = "inconclusive"
	// NoEvidence: the endpoint accepts legacy TLS and no capture or log
	// of the window saw it: nothing says whether clients need legacy.
	// Never "ready".
	NoEvidence Verdict = "no-evidence"
	// Ready: the endpoint accepts legacy TLS, evidence of the window saw
	// TLS connections to it, and none was legacy: legacy can be switched
	// off (the gaps the evidence had are shown beside it).
	Ready Verdict = "ready"
	// Done: the endpoint refuses every legacy version.
	Done Verdict = "done"
)

// Verdicts lists the verdicts in report order.
var Verdicts = []Verdict{Blocked, Unscanned, Inconclusive, NoEvidence, Ready, Done}

func (v Verdict) rank() int { return slices.Index(Verdicts, v) }

// Stance is what a scan says about legacy TLS on an endpoint.
type Stance string

// The stances.
const (
	Accepts Stance = "accepts" // at least one legacy version accepted
	Refuses Stance = "refuses" // every legacy version probed and rejected
	Unknown Stance = "unknown" // neither: unreachable, inconclusive, not probed
)

// LegacyVersions are the versions switching legacy TLS off removes: SSL
// 2.0, SSL 3.0, TLS 1.0 and TLS 1.1.
var LegacyVersions = []tls.Version{tls.VersionSSL20, tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11}

// IsLegacy reports whether v is one of LegacyVersions.
func IsLegacy(v tls.Version) bool { return slices.Contains(LegacyVersions, v) }

// ScanStance decides what a scan result says about legacy TLS: Accepts
// when it accepted a legacy version; Refuses only when the endpoint was
// scanned (status ok) and every legacy version was probed and rejected;
// Unknown otherwise. It returns the legacy versions accepted and those
// left undecided (inconclusive or not probed).
func ScanStance(status string, vs []store.VersionOutcome) (st Stance, accepted, undecided []tls.Version) {
	for _, lv := range LegacyVersions {
		i := slices.IndexFunc(vs, func(o store.VersionOutcome) bool { return o.Version == lv })
		switch {
		case i < 0:
			undecided = append(undecided, lv)
		case vs[i].Outcome == "accepted":
			accepted = append(accepted, lv)
		case vs[i].Outcome != "rejected":
			undecided = append(undecided, lv)
		}
	}
	switch {
	case len(accepted) > 0:
		return Accepts, accepted, undecided
	case status == "ok" && len(undecided) == 0:
		return Refuses, nil, nil
	}
	return Unknown, nil, undecided
}

// Scan is the latest scan of an endpoint, as the report uses it.
type Scan struct {
	Run      int64
	RunName  string
	Target   string
	Host     string
	Protocol string
	Status   string
	Scanned  time.Time
	Stance   Stance
	// Accepted are the legacy versions it accepted; Undecided those it
	// could not decide (inconclusive, not probed).
	Accepted, Undecided []tls.Version
	Versions            []store.VersionOutcome
}

// Coverage is what the evidence of the window saw of an endpoint.
type Coverage struct {
	// TLS connections with a hello to it, Legacy of them legacy, Unread
	// connections to it whose hellos could not be read.
	TLS, Legacy, Unread int64
	Sources             int
	Evidence            []store.Evidence
	First, Last         time.Time
}

// Usage is one client's legacy connections to one endpoint in the
// window.
type Usage struct {
	// Client is the client's address (or, when the evidence names it
	// only so, its name).
	Client      string
	Via         []string
	Connections int64
	First, Last time.Time
	// Reasons are why its connections were legacy.
	Reasons store.Legacy
	// Negotiated counts connections by negotiated version (0: no
	// ServerHello seen).
	Negotiated map[tls.Version]int64
	Offered    []tls.Version // every version offered, newest first
	Ciphers    []uint16      // negotiated suites
	SNIs       []string
	Protocols  []string
	Evidence   []store.Evidence
	JA3, JA4   []string
	Labels     []string
}

// DayCount is a count on one day.
type DayCount struct {
	Day   store.Day
	Count int64
}

// Endpoint is one server endpoint's row of the report.
type Endpoint struct {
	// Endpoint is "ip:port" (or host:port when the scan could not
	// resolve it).
	Endpoint string
	Verdict  Verdict
	// Why says in a phrase why the verdict is what it is.
	Why string
	// Scan is its latest scan (nil: never scanned).
	Scan     *Scan
	Coverage Coverage
	// Clients are the clients that used legacy TLS with it in the
	// window, most connections first.
	Clients []*Usage
	// LegacyConnections sums their connections; LastLegacy is the last
	// legacy connection of the window (zero: none).
	LegacyConnections int64
	LastLegacy        time.Time
	// Trend counts its legacy connections per day of the window.
	Trend []DayCount
}

// Client is one client's view: the endpoints it used legacy TLS with.
type Client struct {
	Client      string
	Via         []string
	Endpoints   []string
	Connections int64
	First, Last time.Time
	Reasons     store.Legacy
	Negotiated  map[tls.Version]int64
	Offered     []tls.Version
	// OfferedCiphers are the suites its fingerprints offered (from the
	// store's fingerprints), wire order, merged.
	OfferedCiphers []uint16
	Ciphers        []uint16
	SNIs           []string
	Protocols      []string
	Evidence       []store.Evidence
	JA3, JA4       []string
	Labels         []string
}

// Source is an evidence source of the window, with what it could not see.
type Source struct {
	store.Source
}

// Summary counts the report.
type Summary struct {
	// ByVerdict counts endpoints by verdict.
	ByVerdict map[Verdict]int
	// Endpoints listed; LegacyClients distinct client addresses with a
	// legacy connection in the window; LegacyConnections their
	// connections.
	Endpoints, LegacyClients int
	LegacyConnections        int64
	// Unlisted counts server endpoints the evidence saw that were never
	// scanned and had no legacy client (not listed: nothing to decide);
	// UnreachableUnlisted endpoints whose latest scan found them
	// unreachable and that no evidence saw (not listed).
	Unlisted, UnreachableUnlisted int
	// Sources counts the evidence sources of the window; Incomplete
	// those not read to their end (interrupted, or still running).
	Sources, Incomplete int
}

// Report is the readiness report over one window.
type Report struct {
	// From and To are the window's days (both included); AsOf the
	// instant the scans are taken at (the latest scan at or before it).
	From, To store.Day
	AsOf     time.Time
	// Run, when set, limits the scans to the runs of that name.
	Run       string
	Endpoints []*Endpoint
	Clients   []*Client
	// Days are the window's days; Overall the legacy connections of each
	// (all endpoints, listed or not).
	Days    []store.Day
	Overall []int64
	Sources []store.Source
	Summary Summary
}

// Endpoint returns the report's row for ep, or nil.
func (r *Report) Endpoint(ep string) *Endpoint {
	for _, e := range r.Endpoints {
		if e.Endpoint == ep {
			return e
		}
	}
	return nil
}

// Decide sets e's Verdict and Why from its Scan, Coverage and Clients:
// the one place the verdicts are made.
func Decide(e *Endpoint) {
	n := len(e.Clients)
	switch {
	case e.Scan == nil:
		e.Verdict = Unscanned
		e.Why = fmt.Sprintf("%d %s used legacy TLS with it; never scanned", n, plural(n, "client", "clients"))
	case e.Scan.Stance == Refuses:
		e.Verdict = Done
		e.Why = "refuses " + versionNames(LegacyVersions)
		if n > 0 {
			e.Why += fmt.Sprintf("; %d %s tried legacy TLS in the window (now refused)", n, plural(n, "client", "clients"))
		}
	case e.Scan.Stance == Unknown:
		e.Verdict = Inconclusive
		switch {
		case e.Scan.Status != "ok":
			e.Why = "latest scan " + e.Scan.Status
		default:
			e.Why = "latest scan could not decide " + versionNames(e.Scan.Undecided)
		}
		if n > 0 {
			e.Why += fmt.Sprintf("; %d legacy %s", n, plural(n, "client", "clients"))
		}
	case n > 0:
		e.Verdict = Blocked
		e.Why = fmt.Sprintf("accepts %s; blocked by %d %s", versionNames(e.Scan.Accepted), n, plural(n, "client", "clients"))
	case e.Coverage.TLS > 0:
		e.Verdict = Ready
		e.Why = fmt.Sprintf("accepts %s; no legacy client among %d TLS %s seen", versionNames(e.Scan.Accepted),
			e.Coverage.TLS, plural(int(e.Coverage.TLS), "connection", "connections"))
		if e.Coverage.Unread > 0 {
			e.Why += fmt.Sprintf(" (%d more not readable)", e.Coverage.Unread)
		}
	default:
		e.Verdict = NoEvidence
		e.Why = fmt.Sprintf("accepts %s; no capture or log saw it in the window", versionNames(e.Scan.Accepted))
		if e.Coverage.Unread > 0 {
			e.Why += fmt.Sprintf(" (only %d unreadable %s)", e.Coverage.Unread, plural(int(e.Coverage.Unread), "connection", "connections"))
		}
	}
}

// BlockedBy returns the number of clients blocking the endpoint (0 unless
// the verdict is Blocked).
func (e *Endpoint) BlockedBy() int {
	if e.Verdict != Blocked {
		return 0
	}
	return len(e.Clients)
}

func versionNames(vs []tls.Version) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.String()
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CompareClients orders client identities: addresses by address (IPv4
// first), then names.
func CompareClients(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	switch {
	case errX == nil && errY == nil:
		return x.Compare(y)
	case errX == nil:
		return -1
	case errY == nil:
		return 1
	}
	return strings.Compare(a, b)
}

// add appends v to a set kept as a slice (first-seen order).
func add[T comparable](s []T, v T) []T {
	var zero T
	if v == zero || slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// sortEndpoints orders the report: by verdict (report order), then most
// legacy connections, then endpoint.
func sortEndpoints(es []*Endpoint) {
	slices.SortFunc(es, func(a, b *Endpoint) int {
		return cmp.Or(cmp.Compare(a.Verdict.rank(), b.Verdict.rank()),
			cmp.Compare(b.LegacyConnections, a.LegacyConnections), strings.Compare(a.Endpoint, b.Endpoint))
	})
}
