package output

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/store"
)

// Schema names of the report records (docs/schema/report.md). A later
// version only adds fields; a change of meaning gets a new name.
const (
	ReportSchema        = "tlsmap.report/1"
	ReportClientSchema  = "tlsmap.report.client/1"
	ReportDaySchema     = "tlsmap.report.day/1"
	ReportSourceSchema  = "tlsmap.report.source/1"
	ReportSummarySchema = "tlsmap.report.summary/1"
	ReportDiffSchema    = "tlsmap.report.diff/1"
)

// ReportView selects what a report writes.
type ReportView string

// The views.
const (
	ViewAll       ReportView = "all"
	ViewEndpoints ReportView = "endpoints"
	ViewClients   ReportView = "clients"
	ViewTrend     ReportView = "trend"
)

// ParseReportView reads a view name.
func ParseReportView(s string) (ReportView, error) {
	switch v := ReportView(s); v {
	case ViewAll, ViewEndpoints, ViewClients, ViewTrend:
		return v, nil
	}
	return "", fmt.Errorf("output: unknown view %q (want all, endpoints, clients or trend)", s)
}

// EndpointRecord is one endpoint's readiness (schema tlsmap.report/1).
type EndpointRecord struct {
	Schema   string `json:"schema"`
	Endpoint string `json:"endpoint"`
	Verdict  string `json:"verdict"`
	// BlockedBy counts the clients blocking it (verdict blocked), else 0.
	BlockedBy int          `json:"blocked_by"`
	Why       string       `json:"why"`
	Scan      *ScanSummary `json:"scan"` // null: never scanned
	Coverage  CoverageRec  `json:"coverage"`
	// LegacyConnections in the window; LastLegacy the last of them.
	LegacyConnections int64         `json:"legacy_connections"`
	LastLegacy        string        `json:"last_legacy"`
	Clients           []UsageRecord `json:"clients"`
	Trend             []DayCountRec `json:"trend"`
}

// ScanSummary is an endpoint's latest scan.
type ScanSummary struct {
	Run             string            `json:"run"`
	Target          string            `json:"target"`
	Host            string            `json:"host"`
	Protocol        string            `json:"protocol"`
	Status          string            `json:"status"`
	ScannedAt       string            `json:"scanned_at"`
	Stance          string            `json:"stance"`
	LegacyAccepted  []string          `json:"legacy_accepted"`
	LegacyUndecided []string          `json:"legacy_undecided"`
	Versions        map[string]string `json:"versions"`
}

// CoverageRec is what the window's evidence saw of an endpoint.
type CoverageRec struct {
	TLS       int64    `json:"tls"`
	Legacy    int64    `json:"legacy"`
	Unread    int64    `json:"unread"`
	Sources   int      `json:"sources"`
	Evidence  []string `json:"evidence"`
	FirstSeen string   `json:"first_seen"`
	LastSeen  string   `json:"last_seen"`
}

// UsageRecord is one client's legacy connections to an endpoint.
type UsageRecord struct {
	Client      string           `json:"client"`
	Via         []string         `json:"via"`
	Connections int64            `json:"connections"`
	FirstSeen   string           `json:"first_seen"`
	LastSeen    string           `json:"last_seen"`
	Reasons     []string         `json:"reasons"`
	Negotiated  map[string]int64 `json:"negotiated"`
	Offered     []string         `json:"offered"`
	Ciphers     []string         `json:"ciphers"`
	SNIs        []string         `json:"snis"`
	Protocols   []string         `json:"protocols"`
	Evidence    []string         `json:"evidence"`
	JA3         []string         `json:"ja3"`
	JA4         []string         `json:"ja4"`
	Labels      []string         `json:"labels"`
}

// DayCountRec is a count on a day.
type DayCountRec struct {
	Day    string `json:"day"`
	Legacy int64  `json:"legacy"`
}

// ReportClientRecord is one client's view (tlsmap.report.client/1).
type ReportClientRecord struct {
	Schema         string           `json:"schema"`
	Client         string           `json:"client"`
	Via            []string         `json:"via"`
	Endpoints      []string         `json:"endpoints"`
	Connections    int64            `json:"connections"`
	FirstSeen      string           `json:"first_seen"`
	LastSeen       string           `json:"last_seen"`
	Reasons        []string         `json:"reasons"`
	Negotiated     map[string]int64 `json:"negotiated"`
	Offered        []string         `json:"offered"`
	OfferedCiphers []string         `json:"offered_ciphers"`
	Ciphers        []string         `json:"ciphers"`
	SNIs           []string         `json:"snis"`
	Protocols      []string         `json:"protocols"`
	Evidence       []string         `json:"evidence"`
	JA3            []string         `json:"ja3"`
	JA4            []string         `json:"ja4"`
	Labels         []string         `json:"labels"`
}

// DayRecord is one day of the trend (tlsmap.report.day/1).
type DayRecord struct {
	Schema    string           `json:"schema"`
	Day       string           `json:"day"`
	Legacy    int64            `json:"legacy"`
	Endpoints map[string]int64 `json:"endpoints"`
}

// SourceRecord is one evidence source of the window
// (tlsmap.report.source/1).
type SourceRecord struct {
	Schema    string          `json:"schema"`
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	Name      string          `json:"name"`
	State     string          `json:"state"`
	Content   string          `json:"content"`
	FirstSeen string          `json:"first_seen"`
	LastSeen  string          `json:"last_seen"`
	Records   int64           `json:"records"`
	Stats     json.RawMessage `json:"stats"`
}

// ReportSummaryRecord closes a report (tlsmap.report.summary/1).
type ReportSummaryRecord struct {
	Schema              string         `json:"schema"`
	From                string         `json:"from"`
	To                  string         `json:"to"`
	AsOf                string         `json:"as_of"`
	Run                 string         `json:"run"`
	Endpoints           int            `json:"endpoints"`
	ByVerdict           map[string]int `json:"by_verdict"`
	LegacyClients       int            `json:"legacy_clients"`
	LegacyConnections   int64          `json:"legacy_connections"`
	Unlisted            int            `json:"unlisted"`
	UnreachableUnlisted int            `json:"unreachable_unlisted"`
	Sources             int            `json:"sources"`
	IncompleteSources   int            `json:"incomplete_sources"`
}

func rpTime(t time.Time) string { return snTime(t) }

func verStrings(vs []tls.Version) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, v.String())
	}
	return out
}

func negotiatedMap(m map[tls.Version]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for v, n := range m {
		name := sniff0(v)
		out[name] += n
	}
	return out
}

// sniff0 names a negotiated version, "none" for no ServerHello (as
// tlsmap.sniff.client/1 does).
func sniff0(v tls.Version) string {
	if v == 0 {
		return "none"
	}
	return v.String()
}

func hexes(ids []uint16) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, hex16(id))
	}
	return out
}

func evStrings(es []store.Evidence) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, string(e))
	}
	slices.Sort(out)
	return out
}

func addrs(as []string) []string { return nonNil(slices.Clone(as)) }

func reasonsOf(l store.Legacy) []string { return nonNil(l.Strings()) }

// NewEndpointRecord builds the record of e.
func NewEndpointRecord(e *readiness.Endpoint) EndpointRecord {
	rec := EndpointRecord{
		Schema: ReportSchema, Endpoint: e.Endpoint, Verdict: string(e.Verdict), BlockedBy: e.BlockedBy(), Why: e.Why,
		Coverage: CoverageRec{TLS: e.Coverage.TLS, Legacy: e.Coverage.Legacy, Unread: e.Coverage.Unread, Sources: e.Coverage.Sources,
			Evidence: evStrings(e.Coverage.Evidence), FirstSeen: rpTime(e.Coverage.First), LastSeen: rpTime(e.Coverage.Last)},
		LegacyConnections: e.LegacyConnections, LastLegacy: rpTime(e.LastLegacy),
		Clients: []UsageRecord{}, Trend: []DayCountRec{},
	}
	if s := e.Scan; s != nil {
		ss := &ScanSummary{Run: s.RunName, Target: s.Target, Host: s.Host, Protocol: s.Protocol, Status: s.Status,
			ScannedAt: rpTime(s.Scanned), Stance: string(s.Stance), LegacyAccepted: verStrings(s.Accepted),
			LegacyUndecided: verStrings(s.Undecided), Versions: map[string]string{}}
		for _, v := range s.Versions {
			ss.Versions[v.Version.String()] = v.Outcome
		}
		rec.Scan = ss
	}
	for _, u := range e.Clients {
		rec.Clients = append(rec.Clients, UsageRecord{
			Client: u.Client, Via: addrs(u.Via), Connections: u.Connections,
			FirstSeen: rpTime(u.First), LastSeen: rpTime(u.Last), Reasons: reasonsOf(u.Reasons),
			Negotiated: negotiatedMap(u.Negotiated), Offered: verStrings(u.Offered), Ciphers: hexes(u.Ciphers),
			SNIs: nonNil(slices.Clone(u.SNIs)), Protocols: nonNil(slices.Clone(u.Protocols)), Evidence: evStrings(u.Evidence),
			JA3: nonNil(slices.Clone(u.JA3)), JA4: nonNil(slices.Clone(u.JA4)), Labels: nonNil(slices.Clone(u.Labels)),
		})
	}
	for _, d := range e.Trend {
		if d.Count > 0 {
			rec.Trend = append(rec.Trend, DayCountRec{Day: d.Day.String(), Legacy: d.Count})
		}
	}
	return rec
}

// NewReportClientRecord builds the record of c.
func NewReportClientRecord(c *readiness.Client) ReportClientRecord {
	return ReportClientRecord{
		Schema: ReportClientSchema, Client: c.Client, Via: addrs(c.Via), Endpoints: nonNil(slices.Clone(c.Endpoints)),
		Connections: c.Connections, FirstSeen: rpTime(c.First), LastSeen: rpTime(c.Last), Reasons: reasonsOf(c.Reasons),
		Negotiated: negotiatedMap(c.Negotiated), Offered: verStrings(c.Offered), OfferedCiphers: hexes(c.OfferedCiphers),
		Ciphers: hexes(c.Ciphers), SNIs: nonNil(slices.Clone(c.SNIs)), Protocols: nonNil(slices.Clone(c.Protocols)),
		Evidence: evStrings(c.Evidence), JA3: nonNil(slices.Clone(c.JA3)), JA4: nonNil(slices.Clone(c.JA4)),
		Labels: nonNil(slices.Clone(c.Labels)),
	}
}

// NewDayRecords builds the trend records, one per day of the window.
func NewDayRecords(r *readiness.Report) []DayRecord {
	out := make([]DayRecord, len(r.Days))
	for i, d := range r.Days {
		out[i] = DayRecord{Schema: ReportDaySchema, Day: d.String(), Legacy: r.Overall[i], Endpoints: map[string]int64{}}
	}
	for _, e := range r.Endpoints {
		for i, d := range e.Trend {
			if d.Count > 0 && i < len(out) {
				out[i].Endpoints[e.Endpoint] = d.Count
			}
		}
	}
	return out
}

// NewSourceRecord builds the record of a source.
func NewSourceRecord(s store.Source) SourceRecord {
	stats := s.Stats
	if !json.Valid(stats) {
		stats = json.RawMessage("{}")
	}
	return SourceRecord{Schema: ReportSourceSchema, ID: s.ID, Kind: string(s.Kind), Name: s.Name, State: string(s.State),
		Content: s.Content, FirstSeen: rpTime(s.FirstSeen), LastSeen: rpTime(s.LastSeen), Records: s.Records, Stats: stats}
}

// NewReportSummaryRecord builds the summary of r.
func NewReportSummaryRecord(r *readiness.Report) ReportSummaryRecord {
	s := r.Summary
	rec := ReportSummaryRecord{Schema: ReportSummarySchema, From: r.From.String(), To: r.To.String(), AsOf: rpTime(r.AsOf), Run: r.Run,
		Endpoints: s.Endpoints, ByVerdict: map[string]int{}, LegacyClients: s.LegacyClients, LegacyConnections: s.LegacyConnections,
		Unlisted: s.Unlisted, UnreachableUnlisted: s.UnreachableUnlisted, Sources: s.Sources, IncompleteSources: s.Incomplete}
	for _, v := range readiness.Verdicts {
		rec.ByVerdict[string(v)] = s.ByVerdict[v]
	}
	return rec
}

// Columns and cells for CSV (and the terminal table).

var endpointColumns = []string{"schema", "endpoint", "verdict", "blocked_by", "why", "target", "protocol", "scanned_at", "status",
	"legacy_accepted", "legacy_undecided", "coverage_tls", "coverage_legacy", "coverage_unread", "coverage_sources", "evidence",
	"legacy_connections", "last_legacy", "clients"}

// Columns implements Tabular.
func (r EndpointRecord) Columns() []string { return endpointColumns }

// Cells implements Tabular.
func (r EndpointRecord) Cells() []string {
	var target, proto, at, status, acc, und string
	if s := r.Scan; s != nil {
		target, proto, at, status = s.Target, s.Protocol, s.ScannedAt, s.Status
		acc, und = strings.Join(s.LegacyAccepted, ";"), strings.Join(s.LegacyUndecided, ";")
	}
	var clients []string
	for _, c := range r.Clients {
		clients = append(clients, c.Client+"="+strconv.FormatInt(c.Connections, 10))
	}
	return []string{r.Schema, r.Endpoint, r.Verdict, strconv.Itoa(r.BlockedBy), r.Why, target, proto, at, status, acc, und,
		strconv.FormatInt(r.Coverage.TLS, 10), strconv.FormatInt(r.Coverage.Legacy, 10), strconv.FormatInt(r.Coverage.Unread, 10),
		strconv.Itoa(r.Coverage.Sources), strings.Join(r.Coverage.Evidence, ";"), strconv.FormatInt(r.LegacyConnections, 10),
		r.LastLegacy, strings.Join(clients, ";")}
}

var reportClientColumns = []string{"schema", "client", "via", "endpoints", "connections", "first_seen", "last_seen", "reasons",
	"negotiated", "offered", "offered_ciphers", "ciphers", "snis", "protocols", "evidence", "ja3", "ja4", "labels"}

// Columns implements Tabular.
func (r ReportClientRecord) Columns() []string { return reportClientColumns }

// Cells implements Tabular.
func (r ReportClientRecord) Cells() []string {
	j := func(s []string) string { return strings.Join(s, ";") }
	return []string{r.Schema, r.Client, j(r.Via), j(r.Endpoints), strconv.FormatInt(r.Connections, 10), r.FirstSeen, r.LastSeen,
		j(r.Reasons), countList64(r.Negotiated, "=", ";"), j(r.Offered), j(r.OfferedCiphers), j(r.Ciphers), j(r.SNIs),
		j(r.Protocols), j(r.Evidence), j(r.JA3), j(r.JA4), j(r.Labels)}
}

// trendRow is one CSV row of the trend: a day × endpoint ("" for all).
type trendRow struct {
	day, endpoint string
	legacy        int64
}

func (trendRow) Columns() []string { return []string{"schema", "day", "endpoint", "legacy"} }
func (r trendRow) Cells() []string {
	return []string{ReportDaySchema, r.day, r.endpoint, strconv.FormatInt(r.legacy, 10)}
}

func countList64(m map[string]int64, eq, sep string) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, versionsDesc)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + eq + strconv.FormatInt(m[k], 10)
	}
	return strings.Join(parts, sep)
}

// WriteReport writes a readiness report in a format: jsonl (every record
// of the view, then the summary), csv (the rows of one view: endpoints
// by default), or the terminal table.
func WriteReport(w io.Writer, f Format, view ReportView, r *readiness.Report) error {
	switch f {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		var recs []any
		if view == ViewAll || view == ViewEndpoints {
			for _, e := range r.Endpoints {
				recs = append(recs, NewEndpointRecord(e))
			}
		}
		if view == ViewAll || view == ViewClients {
			for _, c := range r.Clients {
				recs = append(recs, NewReportClientRecord(c))
			}
		}
		if view == ViewAll || view == ViewTrend {
			for _, d := range NewDayRecords(r) {
				recs = append(recs, d)
			}
		}
		if view == ViewAll {
			for _, s := range r.Sources {
				recs = append(recs, NewSourceRecord(s))
			}
		}
		recs = append(recs, NewReportSummaryRecord(r))
		for _, rec := range recs {
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
		return nil
	case FormatCSV:
		rw := NewRowWriter(w, FormatCSV)
		switch view {
		case ViewClients:
			if len(r.Clients) == 0 {
				return writeHeader(rw, reportClientColumns)
			}
			for _, c := range r.Clients {
				if err := rw.Write(NewReportClientRecord(c)); err != nil {
					return err
				}
			}
		case ViewTrend:
			for _, d := range NewDayRecords(r) {
				if err := rw.Write(trendRow{d.Day, "", d.Legacy}); err != nil {
					return err
				}
				eps := slices.Sorted(maps.Keys(d.Endpoints))
				for _, ep := range eps {
					if err := rw.Write(trendRow{d.Day, ep, d.Endpoints[ep]}); err != nil {
						return err
					}
				}
			}
		default:
			if len(r.Endpoints) == 0 {
				return writeHeader(rw, endpointColumns)
			}
			for _, e := range r.Endpoints {
				if err := rw.Write(NewEndpointRecord(e)); err != nil {
					return err
				}
			}
		}
		return rw.Flush()
	}
	return writeReportTable(w, view, r)
}

func writeHeader(rw *RowWriter, cols []string) error {
	if err := rw.csv.Write(cols); err != nil {
		return err
	}
	return rw.Flush()
}

// VerdictLabel is a verdict as the table and the HTML show it: "blocked
// by 2", "no evidence".
func VerdictLabel(e *readiness.Endpoint) string {
	switch e.Verdict {
	case readiness.Blocked:
		return fmt.Sprintf("blocked by %d", e.BlockedBy())
	case readiness.NoEvidence:
		return "no evidence"
	}
	return string(e.Verdict)
}

// endpointName is the endpoint with its scan target's host, when named.
func endpointName(e *readiness.Endpoint) string {
	if e.Scan != nil && e.Scan.Host != "" {
		return e.Endpoint + " (" + e.Scan.Host + ")"
	}
	return e.Endpoint
}

// usageLabel names a client's software: its labels, else its first JA4,
// else its JA3.
func usageLabel(labels, ja4, ja3 []string) string {
	switch {
	case len(labels) > 0:
		return strings.Join(labels, ", ")
	case len(ja4) > 0:
		return more(ja4, 1)
	case len(ja3) > 0:
		return more(ja3, 1)
	}
	return ""
}

// more joins at most n values and says how many were left out.
func more(vs []string, n int) string {
	if len(vs) <= n {
		return strings.Join(vs, ",")
	}
	return strings.Join(vs[:n], ",") + fmt.Sprintf(",+%d more", len(vs)-n)
}

func negotiatedCell(m map[tls.Version]int64) string {
	vs := slices.Collect(maps.Keys(m))
	slices.SortFunc(vs, func(a, b tls.Version) int { return b.Compare(a) })
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%s×%d", sniff0(v), m[v]))
	}
	return strings.Join(parts, " ")
}

func shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// table writes an aligned table with a header row.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := NewRowWriter(w, FormatTable)
	fmt.Fprintln(tw.tab, strings.Join(header, "\t"))
	for _, row := range rows {
		for i, c := range row {
			if c == "" {
				row[i] = "-"
			}
		}
		fmt.Fprintln(tw.tab, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// WriteReadinessTable writes the report's heading, its readiness table
// (one row per endpoint) and its footer: the short form (the demo's).
func WriteReadinessTable(w io.Writer, r *readiness.Report) error {
	if err := writeReportHeading(w, r); err != nil {
		return err
	}
	if err := writeReadinessRows(w, r); err != nil {
		return err
	}
	return writeReportFooter(w, r)
}

func writeReportHeading(w io.Writer, r *readiness.Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Readiness to switch legacy TLS off (TLS 1.1 and older): evidence of %s to %s, scans as of %s",
		r.From, r.To, shortTime(r.AsOf)+" UTC")
	if r.Run != "" {
		fmt.Fprintf(&b, " (run %s)", r.Run)
	}
	b.WriteString("\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeReadinessRows(w io.Writer, r *readiness.Report) error {
	var rows [][]string
	for _, e := range r.Endpoints {
		var accepts string
		if e.Scan != nil {
			accepts = strings.Join(verStrings(e.Scan.Accepted), ",")
		}
		rows = append(rows, []string{endpointName(e), VerdictLabel(e), accepts, strconv.FormatInt(e.Coverage.TLS, 10),
			strconv.FormatInt(e.LegacyConnections, 10), shortTime(e.LastLegacy), e.Why})
	}
	if len(rows) == 0 {
		_, err := io.WriteString(w, "No endpoint in the store: scan some (tlsmap scan --store …) and store evidence (tlsmap sniff --store …).\n")
		return err
	}
	return table(w, []string{"ENDPOINT", "VERDICT", "ACCEPTS", "SEEN", "LEGACY", "LAST_LEGACY", "WHY"}, rows)
}

func writeReportTable(w io.Writer, view ReportView, r *readiness.Report) error {
	if err := writeReportHeading(w, r); err != nil {
		return err
	}
	if view == ViewAll || view == ViewEndpoints {
		if err := writeReadinessRows(w, r); err != nil {
			return err
		}
		for _, e := range r.Endpoints {
			if len(e.Clients) == 0 {
				continue
			}
			what := "clients that used legacy TLS with it"
			if e.Verdict == readiness.Done {
				what = "clients that tried legacy TLS with it (refused now)"
			}
			fmt.Fprintf(w, "\n%s — %s: %s\n", endpointName(e), VerdictLabel(e), what)
			var rows [][]string
			for _, u := range e.Clients {
				client := u.Client
				if len(u.Via) > 0 {
					client += " via " + strings.Join(u.Via, ",")
				}
				rows = append(rows, []string{"  " + client, strconv.FormatInt(u.Connections, 10), shortTime(u.Last),
					negotiatedCell(u.Negotiated), more(u.SNIs, 2), strings.Join(u.Protocols, ","),
					strings.Join(evStrings(u.Evidence), ","), usageLabel(u.Labels, u.JA4, u.JA3)})
			}
			if err := table(w, []string{"  CLIENT", "CONNS", "LAST_SEEN", "NEGOTIATED", "SNI", "PROTOCOL", "EVIDENCE", "LABEL/JA4"}, rows); err != nil {
				return err
			}
		}
	}
	if (view == ViewAll || view == ViewClients) && len(r.Clients) > 0 {
		fmt.Fprintf(w, "\nClients that used legacy TLS (%d)\n", len(r.Clients))
		var rows [][]string
		for _, c := range r.Clients {
			offered := ""
			if len(c.Offered) > 0 {
				offered = "max " + c.Offered[0].String()
			}
			rows = append(rows, []string{c.Client, more(c.Endpoints, 3), strconv.FormatInt(c.Connections, 10),
				shortTime(c.First), shortTime(c.Last), negotiatedCell(c.Negotiated), offered, usageLabel(c.Labels, c.JA4, c.JA3)})
		}
		if err := table(w, []string{"CLIENT", "ENDPOINTS", "CONNS", "FIRST_SEEN", "LAST_SEEN", "NEGOTIATED", "OFFERED", "LABEL/JA4"}, rows); err != nil {
			return err
		}
	}
	if view == ViewAll || view == ViewTrend {
		var rows [][]string
		for i, d := range r.Days {
			if r.Overall[i] == 0 {
				continue
			}
			var per []string
			for _, e := range r.Endpoints {
				if i < len(e.Trend) && e.Trend[i].Count > 0 {
					per = append(per, fmt.Sprintf("%s %d", e.Endpoint, e.Trend[i].Count))
				}
			}
			rows = append(rows, []string{d.String(), strconv.FormatInt(r.Overall[i], 10), strings.Join(per, ", ")})
		}
		if len(rows) > 0 {
			fmt.Fprintf(w, "\nLegacy connections per day (days without any left out)\n")
			if err := table(w, []string{"DAY", "ALL", "BY ENDPOINT"}, rows); err != nil {
				return err
			}
		}
	}
	return writeReportFooter(w, r)
}

func writeReportFooter(w io.Writer, r *readiness.Report) error {
	var b strings.Builder
	s := r.Summary
	b.WriteString("\n")
	var parts []string
	for _, v := range readiness.Verdicts {
		if n := s.ByVerdict[v]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(v), "-", " ")))
		}
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	fmt.Fprintf(&b, "Endpoints: %s.\n", strings.Join(parts, ", "))
	fmt.Fprintf(&b, "Legacy clients: %d (%d legacy connections in the window).\n", s.LegacyClients, s.LegacyConnections)
	incomplete := ""
	if s.Incomplete > 0 {
		incomplete = fmt.Sprintf(", %d of them not read to their end (counted as far as stored)", s.Incomplete)
	}
	fmt.Fprintf(&b, "Evidence: %d %s in the window%s.\n", s.Sources, snPlural(s.Sources, "source", "sources"), incomplete)
	for _, src := range r.Sources {
		if gaps := SourceGaps(src.Stats); gaps != "" || src.State != store.StateComplete {
			fmt.Fprintf(&b, "  %s %s (%s): %s\n", src.Kind, src.Name, src.State, cmp.Or(gaps, "no gaps counted"))
		}
	}
	if s.Unlisted > 0 {
		fmt.Fprintf(&b, "Not listed: %d server %s seen in the evidence, never scanned, with no legacy client.\n",
			s.Unlisted, snPlural(s.Unlisted, "endpoint", "endpoints"))
	}
	if s.UnreachableUnlisted > 0 {
		fmt.Fprintf(&b, "Not listed: %d %s unreachable at %s latest scan and seen by no evidence.\n",
			s.UnreachableUnlisted, snPlural(s.UnreachableUnlisted, "endpoint", "endpoints"), snPlural(s.UnreachableUnlisted, "its", "their"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// gapWords mark the counters of a source's stats that stand for
// something its reader could not see or read.
var gapWords = []string{"error", "truncated", "evicted", "toomany", "notdecoded", "dropped", "corrupt", "midstream",
	"undecryptable", "noclientinitial", "malformed", "incomplete", "unknown"}

// SourceGaps lists what a source's reader could not see, from its stats
// as stored: a capture's coverage gaps (its tlsmap.sniff.summary/1
// record: frames not decoded, connections cut or joined mid-stream …), or
// the non-zero counters of a log reader's that stand for something
// unread (malformed lines, unknown versions, incomplete sessions); ""
// when none.
func SourceGaps(stats json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(stats, &m) != nil {
		return ""
	}
	var parts []string
	// A capture's stats are its tlsmap.sniff.summary/1 record: its gaps
	// are listed there already.
	if gaps, ok := m["gaps"].([]any); ok && m["schema"] == SniffSummarySchema {
		for _, g := range gaps {
			if g, ok := g.(map[string]any); ok {
				if n, _ := g["count"].(float64); n > 0 {
					parts = append(parts, fmt.Sprintf("%v %d", g["kind"], int64(n)))
				}
			}
		}
		return strings.Join(parts, ", ")
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			name := prefix + k
			lk := strings.ToLower(k)
			gap := !strings.Contains(lk, "ports") && slices.ContainsFunc(gapWords, func(w string) bool { return strings.Contains(lk, w) })
			switch v := m[k].(type) {
			case float64:
				if gap && v > 0 {
					parts = append(parts, fmt.Sprintf("%s %d", name, int64(v)))
				}
			case map[string]any:
				if gap {
					var n float64
					for _, x := range v {
						if f, ok := x.(float64); ok {
							n += f
						}
					}
					if n > 0 {
						parts = append(parts, fmt.Sprintf("%s %d", name, int64(n)))
					}
				} else {
					walk(name+".", v)
				}
			}
		}
	}
	walk("", m)
	return strings.Join(parts, ", ")
}
