package sniff

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Legacy reasons: why a flow counts as legacy TLS. A flow may have several.
const (
	// ReasonNegotiated: the server chose TLS 1.1 or older (SSLv3, SSLv2).
	ReasonNegotiated = "negotiated"
	// ReasonOffered: the highest version the client offered is TLS 1.1
	// or older, whatever the server chose (or when no ServerHello was
	// seen).
	ReasonOffered = "offered"
	// ReasonSSLv2Hello: the ClientHello came in the SSLv2 record format.
	ReasonSSLv2Hello = "sslv2-hello"
)

// LegacyReasons says why f used or offered legacy TLS: the server
// negotiated TLS 1.1 or older, or the client offered nothing newer than
// TLS 1.1, or its hello was in the SSLv2 format. It returns nil for a flow
// that is not legacy (or carried no TLS hello at all).
func LegacyReasons(f *Flow) []string {
	var r []string
	if v := f.NegotiatedVersion(); v != 0 && v <= uint16(tls.VersionTLS11) {
		r = append(r, ReasonNegotiated)
	}
	if v := MaxOffered(f); v != 0 && v <= uint16(tls.VersionTLS11) {
		r = append(r, ReasonOffered)
	}
	if f.SSLv2 {
		r = append(r, ReasonSSLv2Hello)
	}
	return r
}

// IsLegacy reports whether LegacyReasons(f) is not empty.
func IsLegacy(f *Flow) bool { return len(LegacyReasons(f)) > 0 }

// MaxOffered is the newest version the client offered (by
// tls.Version.Rank; GREASE and unknown code points ignored, a TLS 1.3
// draft counts as TLS 1.3), or 0 when no ClientHello was seen.
func MaxOffered(f *Flow) uint16 {
	var m tls.Version
	for _, v := range f.OfferedVersions {
		if w := tls.Version(v); w.Rank() > m.Rank() {
			m = w
		}
	}
	if m.IsTLS13() {
		return uint16(tls.VersionTLS13)
	}
	return uint16(m)
}

// Fingerprints names known clients by fingerprint: a JA3 hash (32 hex
// digits, as Flow.JA3) or a JA4 string (as Flow.JA4).
type Fingerprints map[string]string

// ErrFingerprints is wrapped by every error of LoadFingerprints.
var ErrFingerprints = errors.New("sniff: bad fingerprint file")

var (
	ja3Pattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	// JA4: protocol, version, SNI, counts, ALPN; then two 12-hex hashes
	// (FoxIO JA4 specification, "JA4_a_b_c").
	ja4Pattern = regexp.MustCompile(`^[tqd][0-9s][0-9a-z][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
)

// LoadFingerprints reads a fingerprint file: CSV lines "fingerprint,label"
// where fingerprint is a JA3 hash or a JA4 string; lines starting with '#'
// and blank lines are skipped, and a first line "fingerprint,label" is a
// header. A bad line is an error naming the file (name) and line number.
func LoadFingerprints(r io.Reader, name string) (Fingerprints, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	fp := Fingerprints{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return fp, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w: %s:%d: %v", ErrFingerprints, name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrFingerprints, name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("%w: %s:%d: want 2 fields (fingerprint,label), got %d", ErrFingerprints, name, line, len(rec))
		}
		key, label := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if first && strings.EqualFold(key, "fingerprint") && strings.EqualFold(label, "label") {
			continue
		}
		if ja3Pattern.MatchString(strings.ToLower(key)) {
			key = strings.ToLower(key)
		} else if !ja4Pattern.MatchString(key) {
			return nil, fmt.Errorf("%w: %s:%d: %q is neither a JA3 hash (32 hex digits) nor a JA4 fingerprint (t13d1516h2_8daaf6152771_e5627efa2ab1)", ErrFingerprints, name, line, key)
		}
		if label == "" {
			return nil, fmt.Errorf("%w: %s:%d: empty label for %s", ErrFingerprints, name, line, key)
		}
		fp[key] = label
	}
}

// Label returns the label of f's JA4, else of its JA3, else "".
func (fp Fingerprints) Label(f *Flow) string {
	if l, ok := fp[f.JA4]; ok && f.JA4 != "" {
		return l
	}
	if l, ok := fp[f.JA3]; ok && f.JA3 != "" {
		return l
	}
	return ""
}

// DefaultSetLimit is how many distinct values each set of a ClientSummary
// keeps (SNIs, servers, suites, fingerprints …).
const DefaultSetLimit = 32

// overflowLimit caps the distinct values a Set counts beyond its limit.
const overflowLimit = 1024

// Set is a bounded set of strings in first-seen order: it keeps up to its
// limit of values and counts (up to a bound) the distinct values beyond.
type Set struct {
	limit  int
	items  []string
	extra  map[uint64]struct{}
	seed   maphash.Seed
	capped bool // extra reached overflowLimit: More is a lower bound
}

func newSet(limit int) Set { return Set{limit: limit} }

// Add adds v ("" is ignored).
func (s *Set) Add(v string) {
	if v == "" || slices.Contains(s.items, v) {
		return
	}
	if len(s.items) < s.limit {
		s.items = append(s.items, v)
		return
	}
	if s.extra == nil {
		s.extra = map[uint64]struct{}{}
		s.seed = maphash.MakeSeed()
	}
	if len(s.extra) >= overflowLimit {
		s.capped = true
		return
	}
	s.extra[maphash.String(s.seed, v)] = struct{}{}
}

// Items returns the values kept, in first-seen order.
func (s *Set) Items() []string { return s.items }

// More returns how many further distinct values were seen and not kept,
// and whether that count is only a lower bound.
func (s *Set) More() (n int, atLeast bool) { return len(s.extra), s.capped }

// Strings returns the kept values followed, when some were not kept, by
// "+N more" (or "+N+ more" when N is a lower bound).
func (s *Set) Strings() []string {
	n, atLeast := s.More()
	if n == 0 {
		return slices.Clone(s.items)
	}
	more := fmt.Sprintf("+%d more", n)
	if atLeast {
		more = fmt.Sprintf("+%d+ more", n)
	}
	return append(slices.Clone(s.items), more)
}

// ClientSummary aggregates the legacy flows of one client address.
type ClientSummary struct {
	Client netip.Addr
	// Labels are the names the fingerprint file gives this client's
	// fingerprints.
	Labels Set
	// Reasons are the legacy reasons of its flows (ReasonNegotiated …).
	Reasons Set
	// Protocols, SNIs and Servers ("ip:port") of its legacy flows.
	Protocols, SNIs, Servers Set
	// Negotiated counts its legacy flows by negotiated version ("TLSv1.0";
	// "none" when no ServerHello was seen).
	Negotiated map[string]int
	// Offered are the versions its legacy flows offered, by name.
	Offered Set
	// Ciphers are the negotiated suites of its legacy flows ("0xC014").
	Ciphers Set
	// JA3 and JA4 fingerprints of its legacy flows.
	JA3, JA4 Set
	// Connections counts every flow with a TLS hello from this client;
	// LegacyConnections those that were legacy.
	Connections, LegacyConnections int
	// FirstSeen and LastSeen span its legacy flows.
	FirstSeen, LastSeen time.Time
}

// Totals counts flows over the whole input.
type Totals struct {
	// Flows with a TLS hello; LegacyFlows of them legacy.
	Flows, LegacyFlows int
	// Clients with a TLS hello; LegacyClients of them with a legacy flow.
	Clients, LegacyClients int
	// ByVersion counts flows by negotiated version name ("none" when no
	// ServerHello was seen); ByProtocol by Flow.Protocol.
	ByVersion, ByProtocol map[string]int
	// DroppedClients counts clients not tracked because MaxClients was
	// reached (their flows are still in the other totals).
	DroppedClients int
}

// ReportConfig configures a Report. Zero values select the defaults.
type ReportConfig struct {
	// Fingerprints labels known clients.
	Fingerprints Fingerprints
	// SetLimit caps each set of a ClientSummary (default DefaultSetLimit).
	SetLimit int
	// MaxClients caps the client addresses tracked (default 1<<20).
	MaxClients int
}

// Report aggregates flows per client address into the legacy-client
// report. Add every flow; Clients and Totals may be called at any time.
// Its memory is bounded by MaxClients and SetLimit, not by the number of
// flows. A Report is not safe for concurrent use.
type Report struct {
	cfg     ReportConfig
	clients map[netip.Addr]*clientAgg
	totals  Totals
}

// clientAgg is one client: a connection count, and the summary once the
// client had a legacy flow.
type clientAgg struct {
	conns int
	sum   *ClientSummary
}

// NewReport returns an empty report.
func NewReport(cfg ReportConfig) *Report {
	if cfg.SetLimit <= 0 {
		cfg.SetLimit = DefaultSetLimit
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 1 << 20
	}
	return &Report{cfg: cfg, clients: map[netip.Addr]*clientAgg{},
		totals: Totals{ByVersion: map[string]int{}, ByProtocol: map[string]int{}}}
}

// NoServerHello is the name Totals.ByVersion and ClientSummary.Negotiated
// count flows under when no ServerHello was seen.
const NoServerHello = "none"

// Add counts one flow. Flows that tell nothing of a client's TLS
// (plaintext, or nothing seen; Flow.HasTLS) are ignored.
func (r *Report) Add(f *Flow) {
	if !f.HasTLS() {
		return
	}
	reasons := LegacyReasons(f)
	t := &r.totals
	t.Flows++
	negotiated := NoServerHello
	if v := f.NegotiatedVersion(); v != 0 {
		negotiated = tls.Version(v).String()
	}
	t.ByVersion[negotiated]++
	t.ByProtocol[cmp.Or(f.Protocol, "tls")]++
	if len(reasons) > 0 {
		t.LegacyFlows++
	}

	addr := f.Client.Addr().Unmap()
	c := r.clients[addr]
	if c == nil {
		if len(r.clients) >= r.cfg.MaxClients {
			t.DroppedClients++
			return
		}
		c = &clientAgg{}
		r.clients[addr] = c
		t.Clients++
	}
	c.conns++
	if len(reasons) == 0 {
		if c.sum != nil {
			c.sum.Connections = c.conns
		}
		return
	}
	s := c.sum
	if s == nil {
		n := r.cfg.SetLimit
		s = &ClientSummary{Client: addr, Labels: newSet(n), Reasons: newSet(n), Protocols: newSet(n),
			SNIs: newSet(n), Servers: newSet(n), Negotiated: map[string]int{}, Offered: newSet(n),
			Ciphers: newSet(n), JA3: newSet(n), JA4: newSet(n), FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
		c.sum = s
		t.LegacyClients++
	}
	s.Connections = c.conns
	s.LegacyConnections++
	for _, why := range reasons {
		s.Reasons.Add(why)
	}
	if r.cfg.Fingerprints != nil {
		s.Labels.Add(r.cfg.Fingerprints.Label(f))
	}
	s.Protocols.Add(cmp.Or(f.Protocol, "tls"))
	s.SNIs.Add(f.SNI)
	if f.Server.IsValid() {
		s.Servers.Add(f.Server.String())
	}
	s.Negotiated[negotiated]++
	for _, v := range f.OfferedVersions {
		if !tls.IsGREASE(v) {
			s.Offered.Add(tls.Version(v).String())
		}
	}
	if f.HasServerHello() {
		s.Ciphers.Add(fmt.Sprintf("0x%04X", f.Cipher))
	}
	s.JA3.Add(f.JA3)
	s.JA4.Add(f.JA4)
	if !f.FirstSeen.IsZero() && (s.FirstSeen.IsZero() || f.FirstSeen.Before(s.FirstSeen)) {
		s.FirstSeen = f.FirstSeen
	}
	if f.LastSeen.After(s.LastSeen) {
		s.LastSeen = f.LastSeen
	}
}

// Clients returns the summaries of the clients with a legacy flow, most
// legacy connections first, then by address.
func (r *Report) Clients() []*ClientSummary {
	var out []*ClientSummary
	for _, c := range r.clients {
		if c.sum != nil {
			out = append(out, c.sum)
		}
	}
	slices.SortFunc(out, func(a, b *ClientSummary) int {
		return cmp.Or(cmp.Compare(b.LegacyConnections, a.LegacyConnections), a.Client.Compare(b.Client))
	})
	return out
}

// Totals returns the totals so far (the maps are copies).
func (r *Report) Totals() Totals {
	t := r.totals
	t.ByVersion = cloneMap(t.ByVersion)
	t.ByProtocol = cloneMap(t.ByProtocol)
	return t
}

func cloneMap(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
