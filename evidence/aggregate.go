package evidence

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Key is what a Record aggregates over: every field of an Observation
// except its times (Day keeps the UTC date of Time), its count and the
// list of offered versions.
type Key struct {
	Day        time.Time // UTC midnight of the observations' day; zero when they had no time
	Source     Source
	Client     netip.Addr
	ClientName string
	Via        netip.Addr
	Balancer   bool
	Server     netip.AddrPort
	ServerName string
	Protocol   string
	Outbound   bool
	Transport  Transport
	Version    tls.Version
	Cipher     Cipher
	User       string
	UserAgent  string
	MaxOffered tls.Version
	SSLv2Hello bool
	JA3, JA4   string
	Label      string
}

// KeyOf is o's key.
func KeyOf(o *Observation) Key {
	k := keyOf(o)
	if !o.Time.IsZero() {
		k.Day = dayOf(o.Time)
	}
	return k
}

// dayOf is UTC midnight of t's day.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// keyOf is o's key without its day.
func keyOf(o *Observation) Key {
	return Key{Source: o.Source, Client: o.Client.Unmap(), ClientName: o.ClientName, Via: o.Via.Unmap(),
		Balancer: o.Balancer, Server: o.Server, ServerName: o.ServerName, Protocol: o.Protocol,
		Outbound: o.Outbound, Transport: o.Transport, Version: o.Version, Cipher: o.Cipher, User: o.User,
		UserAgent: o.UserAgent, MaxOffered: o.MaxOffered, SSLv2Hello: o.SSLv2Hello, JA3: o.JA3, JA4: o.JA4,
		Label: o.Label}
}

// Observation returns an observation with k's fields (Time the day).
func (k Key) Observation() Observation {
	return Observation{Source: k.Source, Time: k.Day, Client: k.Client, ClientName: k.ClientName, Via: k.Via,
		Balancer: k.Balancer, Server: k.Server, ServerName: k.ServerName, Protocol: k.Protocol,
		Outbound: k.Outbound, Transport: k.Transport, Version: k.Version, Cipher: k.Cipher, User: k.User,
		UserAgent: k.UserAgent, MaxOffered: k.MaxOffered, SSLv2Hello: k.SSLv2Hello, JA3: k.JA3, JA4: k.JA4,
		Label: k.Label}
}

// Record is the aggregate of the observations of one key: the rows of
// schema tlsmap.evidence/1.
type Record struct {
	Key
	Count               int
	FirstSeen, LastSeen time.Time // zero when the observations had no time
}

// Class is the verdict on the record's observations.
func (r *Record) Class() Class {
	o := r.Observation()
	return o.Class()
}

// DefaultMaxKeys is how many distinct keys an Aggregator keeps by default.
const DefaultMaxKeys = 1 << 18

// AggregatorStats counts what an Aggregator could not keep as given.
type AggregatorStats struct {
	// Folded counts observations whose User and UserAgent were dropped
	// from the key because the key table was full (their client, server,
	// version and cipher are kept).
	Folded int
	// Dropped counts observations not aggregated at all: the table was
	// full even without user and user agent.
	Dropped int
}

// Aggregator sums observations per Key. Its memory is bounded by
// MaxKeys, whatever the input; beyond it user and user agent are dropped
// from new keys first, then new keys are counted and dropped. Not safe
// for concurrent use.
type Aggregator struct {
	max   int
	m     map[Key]*Record
	stats AggregatorStats
	// The day of the last observation, to spare the date arithmetic of
	// the next ones (logs are mostly in time order).
	dayStart, dayEnd time.Time
}

// NewAggregator returns an Aggregator keeping at most maxKeys keys
// (DefaultMaxKeys when ≤ 0).
func NewAggregator(maxKeys int) *Aggregator {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Aggregator{max: maxKeys, m: map[Key]*Record{}}
}

// Add counts o.
func (a *Aggregator) Add(o *Observation) {
	k := keyOf(o)
	if t := o.Time; !t.IsZero() {
		if t.Before(a.dayStart) || !t.Before(a.dayEnd) {
			a.dayStart = dayOf(t)
			a.dayEnd = a.dayStart.AddDate(0, 0, 1)
		}
		k.Day = a.dayStart
	}
	r := a.m[k]
	if r == nil && len(a.m) >= a.max {
		if k.User != "" || k.UserAgent != "" {
			k.User, k.UserAgent = "", ""
			r = a.m[k]
		}
		if r == nil {
			a.stats.Dropped += o.count()
			return
		}
		a.stats.Folded += o.count()
	}
	if r == nil {
		r = &Record{Key: k}
		a.m[k] = r
	}
	r.Count += o.count()
	if first, last := o.span(); !first.IsZero() {
		if r.FirstSeen.IsZero() || first.Before(r.FirstSeen) {
			r.FirstSeen = first
		}
		if last.After(r.LastSeen) {
			r.LastSeen = last
		}
	}
}

// Len is the number of keys held.
func (a *Aggregator) Len() int { return len(a.m) }

// Stats returns what could not be kept as given.
func (a *Aggregator) Stats() AggregatorStats { return a.stats }

// Records returns the records in a stable order: by day, client, server,
// then the other fields.
func (a *Aggregator) Records() []Record {
	out := make([]Record, 0, len(a.m))
	for _, r := range a.m {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(x, y Record) int { return compareKeys(&x.Key, &y.Key) })
	return out
}

func compareKeys(x, y *Key) int {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return cmp.Or(
		x.Day.Compare(y.Day),
		x.Client.Compare(y.Client),
		strings.Compare(x.ClientName, y.ClientName),
		x.Server.Compare(y.Server),
		strings.Compare(x.ServerName, y.ServerName),
		cmp.Compare(x.Source, y.Source),
		strings.Compare(x.Protocol, y.Protocol),
		cmp.Compare(x.Version, y.Version),
		cmp.Compare(b(x.Cipher.Known), b(y.Cipher.Known)),
		cmp.Compare(x.Cipher.ID, y.Cipher.ID),
		strings.Compare(x.Cipher.Text, y.Cipher.Text),
		x.Via.Compare(y.Via),
		cmp.Compare(b(x.Balancer), b(y.Balancer)),
		cmp.Compare(b(x.Outbound), b(y.Outbound)),
		cmp.Compare(x.Transport, y.Transport),
		strings.Compare(x.User, y.User),
		strings.Compare(x.UserAgent, y.UserAgent),
		cmp.Compare(x.MaxOffered, y.MaxOffered),
		cmp.Compare(b(x.SSLv2Hello), b(y.SSLv2Hello)),
		strings.Compare(x.JA3, y.JA3),
		strings.Compare(x.JA4, y.JA4),
		strings.Compare(x.Label, y.Label),
	)
}
