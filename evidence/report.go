package evidence

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// ClientSummary aggregates the legacy and unknown-version connections of
// one client (its lists describe those connections only).
type ClientSummary struct {
	// Client is the client's address; ClientName its name when the
	// evidence gives no address (then the summary is keyed by it).
	Client     netip.Addr
	ClientName string
	// Names are other names seen for the client (EHLO names).
	Names Set[string]
	// Labels are the names the fingerprint file gives its fingerprints.
	Labels Set[string]
	// Reasons are the legacy reasons of its connections.
	Reasons Set[string]
	// Sources tell where the evidence came from.
	Sources Set[Source]
	// Protocols, ServerNames (SNI, Host) and Servers ("ip:port").
	Protocols, ServerNames, Servers Set[string]
	// Vias are the balancers its connections came through; Balancer is
	// true when the client itself is a known balancer.
	Vias     Set[netip.Addr]
	Balancer bool
	// Outbound is true when some of its connections were the logging
	// server's own, to another server.
	Outbound bool
	// Negotiated counts connections by Observation.VersionKey ("TLSv1.0",
	// "none", "unknown").
	Negotiated map[string]int
	// Offered are the versions offered (captures only).
	Offered Set[tls.Version]
	// Ciphers are the negotiated ciphers.
	Ciphers Set[Cipher]
	// JA3 and JA4 fingerprints (captures only).
	JA3, JA4 Set[string]
	// Users and UserAgents seen.
	Users, UserAgents Set[string]
	// Connections counts every TLS (or perhaps-TLS) connection of the
	// client, legacy or not; LegacyConnections and UnknownConnections
	// those of class legacy and unknown.
	Connections, LegacyConnections, UnknownConnections int
	// FirstSeen and LastSeen span its legacy and unknown connections.
	FirstSeen, LastSeen time.Time
}

// ID is the client's address, or its name when it has none.
func (s *ClientSummary) ID() string {
	if s.Client.IsValid() {
		return s.Client.String()
	}
	return s.ClientName
}

// Totals counts over the whole input.
type Totals struct {
	// Flows counts TLS (and perhaps-TLS) connections or requests;
	// LegacyFlows and UnknownFlows those of class legacy and unknown.
	// PlaintextFlows counts those without TLS, in none of the others.
	Flows, LegacyFlows, UnknownFlows, PlaintextFlows int
	// Clients with a TLS connection; LegacyClients of them with a legacy
	// one; UnknownClients with an unknown-version one and no legacy one.
	Clients, LegacyClients, UnknownClients int
	// ByVersion counts Flows by Observation.VersionKey, ByProtocol by
	// protocol ("tls" when none), BySource by source.
	ByVersion, ByProtocol, BySource map[string]int
	// DroppedClients counts connections from clients not tracked because
	// MaxClients was reached (they still count in the other totals).
	DroppedClients int
}

// ReportConfig configures a Report. Zero values select the defaults.
type ReportConfig struct {
	// SetLimit caps each set of a ClientSummary (default DefaultSetLimit).
	SetLimit int
	// MaxClients caps the clients tracked (default 1<<20).
	MaxClients int
}

// clientKey identifies a client: its address, or its name when the
// evidence has no address.
type clientKey struct {
	addr netip.Addr
	name string
}

// clientAgg is one client: a connection count, and the summary once the
// client had a legacy or unknown connection.
type clientAgg struct {
	conns int
	sum   *ClientSummary
}

// Report aggregates observations per client into the legacy-client
// report. Add every observation; Clients and Totals may be called at any
// time. Memory is bounded by MaxClients and SetLimit, not by the number
// of observations. Not safe for concurrent use.
type Report struct {
	cfg     ReportConfig
	clients map[clientKey]*clientAgg
	totals  Totals
}

// NewReport returns an empty report.
func NewReport(cfg ReportConfig) *Report {
	if cfg.SetLimit <= 0 {
		cfg.SetLimit = DefaultSetLimit
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 1 << 20
	}
	return &Report{cfg: cfg, clients: map[clientKey]*clientAgg{},
		totals: Totals{ByVersion: map[string]int{}, ByProtocol: map[string]int{}, BySource: map[string]int{}}}
}

// Add counts one observation.
func (r *Report) Add(o *Observation) {
	n := o.count()
	t := &r.totals
	cls := o.Class()
	if cls == ClassPlaintext {
		t.PlaintextFlows += n
		return
	}
	t.Flows += n
	t.ByVersion[o.VersionKey()] += n
	t.ByProtocol[cmp.Or(o.Protocol, "tls")] += n
	t.BySource[o.Source.String()] += n
	switch cls {
	case ClassLegacy:
		t.LegacyFlows += n
	case ClassUnknown:
		t.UnknownFlows += n
	}

	key := clientKey{addr: o.Client.Unmap()}
	if !key.addr.IsValid() {
		key.name = o.ClientName
	}
	c := r.clients[key]
	if c == nil {
		if len(r.clients) >= r.cfg.MaxClients {
			t.DroppedClients += n
			return
		}
		c = &clientAgg{}
		r.clients[key] = c
		t.Clients++
	}
	c.conns += n
	if cls != ClassLegacy && cls != ClassUnknown {
		if c.sum != nil {
			c.sum.Connections = c.conns
		}
		return
	}
	s := c.sum
	if s == nil {
		l := r.cfg.SetLimit
		s = &ClientSummary{Client: key.addr, ClientName: key.name, Names: NewSet[string](l), Labels: NewSet[string](l),
			Reasons: NewSet[string](l), Sources: NewSet[Source](l), Protocols: NewSet[string](l),
			ServerNames: NewSet[string](l), Servers: NewSet[string](l), Vias: NewSet[netip.Addr](l),
			Negotiated: map[string]int{}, Offered: NewSet[tls.Version](l), Ciphers: NewSet[Cipher](l),
			JA3: NewSet[string](l), JA4: NewSet[string](l), Users: NewSet[string](l), UserAgents: NewSet[string](l)}
		c.sum = s
	}
	s.Connections = c.conns
	if cls == ClassLegacy {
		if s.LegacyConnections == 0 {
			t.LegacyClients++
			if s.UnknownConnections > 0 {
				t.UnknownClients--
			}
		}
		s.LegacyConnections += n
	} else {
		if s.UnknownConnections == 0 && s.LegacyConnections == 0 {
			t.UnknownClients++
		}
		s.UnknownConnections += n
	}
	if key.addr.IsValid() {
		s.Names.Add(o.ClientName)
	}
	for _, why := range o.LegacyReasons() {
		s.Reasons.Add(why)
	}
	s.Labels.Add(o.Label)
	s.Sources.Add(o.Source)
	s.Protocols.Add(cmp.Or(o.Protocol, "tls"))
	s.ServerNames.Add(o.ServerName)
	s.Servers.Add(Endpoint(o.Server))
	s.Vias.Add(o.Via.Unmap())
	s.Balancer = s.Balancer || o.Balancer
	s.Outbound = s.Outbound || o.Outbound
	s.Negotiated[o.VersionKey()] += n
	for _, v := range o.Offered {
		if !tls.IsGREASE(uint16(v)) {
			s.Offered.Add(v)
		}
	}
	s.Ciphers.Add(o.Cipher)
	s.JA3.Add(o.JA3)
	s.JA4.Add(o.JA4)
	s.Users.Add(o.User)
	s.UserAgents.Add(o.UserAgent)
	if first, last := o.span(); !first.IsZero() {
		if s.FirstSeen.IsZero() || first.Before(s.FirstSeen) {
			s.FirstSeen = first
		}
		if last.After(s.LastSeen) {
			s.LastSeen = last
		}
	}
}

// Clients returns the summaries of the clients with a legacy or unknown
// connection: most legacy connections first, then most unknown ones,
// then by address (clients known only by name last).
func (r *Report) Clients() []*ClientSummary {
	var out []*ClientSummary
	for _, c := range r.clients {
		if c.sum != nil {
			out = append(out, c.sum)
		}
	}
	slices.SortFunc(out, func(a, b *ClientSummary) int {
		return cmp.Or(cmp.Compare(b.LegacyConnections, a.LegacyConnections),
			cmp.Compare(b.UnknownConnections, a.UnknownConnections),
			cmp.Compare(boolInt(!a.Client.IsValid()), boolInt(!b.Client.IsValid())),
			a.Client.Compare(b.Client), strings.Compare(a.ClientName, b.ClientName))
	})
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Totals returns the totals so far (the maps are copies).
func (r *Report) Totals() Totals {
	t := r.totals
	t.ByVersion = maps.Clone(t.ByVersion)
	t.ByProtocol = maps.Clone(t.ByProtocol)
	t.BySource = maps.Clone(t.BySource)
	return t
}

// Endpoint renders a server endpoint as the reports write it: "ip:port",
// the address alone when the evidence names no port (port 0), "" when it
// names no address.
func Endpoint(ap netip.AddrPort) string {
	switch {
	case !ap.IsValid():
		return ""
	case ap.Port() == 0:
		return ap.Addr().String()
	}
	return ap.String()
}
