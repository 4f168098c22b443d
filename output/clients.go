package output

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/sniff"
)

// Schema names of the per-client report of tlsmap logs: the same shapes
// as sniff's client and totals records (docs/schema/evidence.md).
const (
	LogsClientSchema = "tlsmap.logs.client/1"
	LogsTotalsSchema = "tlsmap.logs.totals/1"
)

// ClientRecord is the JSON shape of one client of the legacy-client
// report: schema tlsmap.sniff.client/1 from sniff, tlsmap.logs.client/1
// from logs (the same fields). One object per line in --format jsonl.
type ClientRecord struct {
	Schema string `json:"schema"` // SniffClientSchema, LogsClientSchema

	// Client is the address, without port; the name (EHLO, the logging
	// host) when the evidence gives no address.
	Client  string   `json:"client"`
	Labels  []string `json:"labels"` // from --fingerprints
	Reasons []string `json:"reasons"`

	Protocols []string `json:"protocols"`
	SNIs      []string `json:"snis"`    // SNI, Host, cs-host: the names asked for
	Servers   []string `json:"servers"` // "ip:port", "ip" when the evidence names no port
	// NegotiatedVersions counts its legacy and unknown connections by
	// negotiated version ("none": ClientHello without ServerHello;
	// "unknown": the evidence names no version).
	NegotiatedVersions map[string]int `json:"negotiated_versions"`
	OfferedVersions    []string       `json:"offered_versions"`
	Ciphers            []string       `json:"ciphers"`      // negotiated, "0xC014"; "" for a cipher that is no registered suite
	CipherNames        []string       `json:"cipher_names"` // IANA names, or the log's words
	JA3                []string       `json:"ja3"`
	JA4                []string       `json:"ja4"`
	// More counts, per list, the distinct values seen and not listed
	// (the lists are capped); absent when nothing was left out.
	More map[string]int `json:"more,omitempty"`

	Connections       int    `json:"connections"`        // every TLS connection of the client
	LegacyConnections int    `json:"legacy_connections"` // of which legacy
	FirstSeen         string `json:"first_seen"`         // of its legacy and unknown connections
	LastSeen          string `json:"last_seen"`

	// Added after the first fields of tlsmap.sniff.client/1 (and so last
	// in CSV).
	UnknownConnections int `json:"unknown_connections"` // of which of unknown version
	// Sources tell where the evidence came from: capture, exchange, iis,
	// postfix, dovecot, nginx, apache, haproxy.
	Sources []string `json:"sources"`
	Names   []string `json:"names"` // names seen for an address (EHLO)
	// Vias are the balancers its connections came through; Balancer is
	// true when the client itself is one (--balancer) with no client
	// named behind it; Outbound when connections were the logging
	// server's own, to another server.
	Vias       []string `json:"vias"`
	Balancer   bool     `json:"balancer"`
	Outbound   bool     `json:"outbound"`
	Users      []string `json:"users"`
	UserAgents []string `json:"user_agents"`
}

// NewClientRecord builds the record of one client of the report, of
// schema name schema.
func NewClientRecord(schema string, s *evidence.ClientSummary) ClientRecord {
	r := ClientRecord{
		Schema:             schema,
		Client:             s.ID(),
		Balancer:           s.Balancer,
		Outbound:           s.Outbound,
		NegotiatedVersions: maps.Clone(s.Negotiated),
		Connections:        s.Connections,
		LegacyConnections:  s.LegacyConnections,
		UnknownConnections: s.UnknownConnections,
		FirstSeen:          snTime(s.FirstSeen),
		LastSeen:           snTime(s.LastSeen),
	}
	more := map[string]int{}
	count := func(key string, n int) {
		if n > 0 {
			more[key] = n
		}
	}
	strs := func(key string, set *evidence.Set[string]) []string {
		n, _ := set.More()
		count(key, n)
		return slices.Clone(nonNil(set.Items()))
	}
	r.Names = strs("names", &s.Names)
	r.Labels = strs("labels", &s.Labels)
	r.Reasons = strs("reasons", &s.Reasons)
	r.Protocols = strs("protocols", &s.Protocols)
	r.SNIs = strs("snis", &s.ServerNames)
	r.Servers = strs("servers", &s.Servers)
	r.JA3 = strs("ja3", &s.JA3)
	r.JA4 = strs("ja4", &s.JA4)
	r.Users = strs("users", &s.Users)
	r.UserAgents = strs("user_agents", &s.UserAgents)
	r.Sources = []string{}
	for _, src := range s.Sources.Items() {
		r.Sources = append(r.Sources, src.String())
	}
	r.Vias = []string{}
	for _, v := range s.Vias.Items() {
		r.Vias = append(r.Vias, v.String())
	}
	n, _ := s.Vias.More()
	count("vias", n)
	r.OfferedVersions = []string{}
	for _, v := range s.Offered.Items() {
		r.OfferedVersions = append(r.OfferedVersions, v.String())
	}
	n, _ = s.Offered.More()
	count("offered_versions", n)
	r.Ciphers, r.CipherNames = []string{}, []string{}
	for _, c := range s.Ciphers.Items() {
		r.Ciphers = append(r.Ciphers, c.Code())
		r.CipherNames = append(r.CipherNames, c.String())
	}
	if n, _ := s.Ciphers.More(); n > 0 {
		count("ciphers", n)
		count("cipher_names", n)
	}
	if len(more) > 0 {
		r.More = more
	}
	return r
}

// cell joins a list for a cell, with "+N more" when values were left
// out; at most max values are shown (0: all).
func (r ClientRecord) cell(key string, list []string, sep string, max int) string {
	n := r.More[key]
	if max > 0 && len(list) > max {
		n += len(list) - max
		list = list[:max]
	}
	s := strings.Join(list, sep)
	if n > 0 {
		s += fmt.Sprintf("%s+%d more", sep, n)
	}
	return s
}

// negotiatedCell is "TLSv1.0×3 TLSv1.1×1", highest version first.
func (r ClientRecord) negotiatedCell(sep string) string {
	keys := slices.Collect(maps.Keys(r.NegotiatedVersions))
	slices.SortFunc(keys, versionsDesc)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, r.NegotiatedVersions[k])
	}
	return strings.Join(parts, sep)
}

var clientColumns = []string{"schema", "client", "labels", "reasons", "protocols", "snis", "servers",
	"negotiated_versions", "offered_versions", "ciphers", "cipher_names", "ja3", "ja4",
	"connections", "legacy_connections", "first_seen", "last_seen",
	"unknown_connections", "sources", "names", "vias", "balancer", "outbound", "users", "user_agents"}

// Columns implements Tabular.
func (r ClientRecord) Columns() []string { return clientColumns }

// Cells implements Tabular (CSV: lists joined with ';', negotiated
// versions as "TLSv1.0=3;TLSv1.1=1").
func (r ClientRecord) Cells() []string {
	keys := slices.Sorted(maps.Keys(r.NegotiatedVersions))
	nv := make([]string, len(keys))
	for i, k := range keys {
		nv[i] = fmt.Sprintf("%s=%d", k, r.NegotiatedVersions[k])
	}
	l := func(key string, list []string) string { return r.cell(key, list, ";", 0) }
	b := strconv.FormatBool
	return []string{r.Schema, r.Client, l("labels", r.Labels), l("reasons", r.Reasons),
		l("protocols", r.Protocols), l("snis", r.SNIs), l("servers", r.Servers),
		strings.Join(nv, ";"), l("offered_versions", r.OfferedVersions), l("ciphers", r.Ciphers),
		l("cipher_names", r.CipherNames), l("ja3", r.JA3), l("ja4", r.JA4),
		strconv.Itoa(r.Connections), strconv.Itoa(r.LegacyConnections), r.FirstSeen, r.LastSeen,
		strconv.Itoa(r.UnknownConnections), l("sources", r.Sources), l("names", r.Names), l("vias", r.Vias),
		b(r.Balancer), b(r.Outbound), l("users", r.Users), l("user_agents", r.UserAgents)}
}

// clientTableRecord is a ClientRecord as a terminal table row; each list
// shows a few values.
type clientTableRecord struct{ ClientRecord }

var clientTableColumns = []string{"client", "source", "label", "legacy/conns", "negotiated", "offered", "protocols",
	"sni", "servers", "via", "ciphers", "ja4", "user", "first_seen", "last_seen"}

func (r clientTableRecord) Columns() []string { return clientTableColumns }

func (r clientTableRecord) Cells() []string {
	offered := ""
	if n := len(r.OfferedVersions); n > 0 {
		vs := slices.Clone(r.OfferedVersions)
		slices.SortFunc(vs, versionsDesc)
		offered = "max " + vs[0]
	}
	short := func(t string) string { // to the second, for the terminal
		if len(t) >= 19 {
			return t[:10] + " " + t[11:19]
		}
		return t
	}
	client := r.Client
	switch {
	case r.Balancer:
		client += " (balancer)"
	case r.Outbound:
		client += " (outbound)"
	}
	user := r.cell("users", r.Users, ",", 1)
	if user == "" {
		user = r.cell("user_agents", r.UserAgents, ",", 1)
	}
	return []string{client, r.cell("sources", r.Sources, ",", 2), r.cell("labels", r.Labels, ",", 2),
		fmt.Sprintf("%d/%d", r.LegacyConnections, r.Connections), r.negotiatedCell(" "), offered,
		r.cell("protocols", r.Protocols, ",", 3), r.cell("snis", r.SNIs, ",", 3), r.cell("servers", r.Servers, ",", 3),
		r.cell("vias", r.Vias, ",", 2), r.cell("cipher_names", r.CipherNames, ",", 2), r.cell("ja4", r.JA4, ",", 1),
		user, short(r.FirstSeen), short(r.LastSeen)}
}

// TotalsRecord is the JSON shape of the report's totals (schema
// tlsmap.sniff.totals/1 from sniff, tlsmap.logs.totals/1 from logs), the
// line after the clients in --format jsonl.
type TotalsRecord struct {
	Schema         string         `json:"schema"` // SniffTotalsSchema, LogsTotalsSchema
	Flows          int            `json:"flows"`  // connections (or requests) with TLS evidence
	LegacyFlows    int            `json:"legacy_flows"`
	Clients        int            `json:"clients"`
	LegacyClients  int            `json:"legacy_clients"`
	ByVersion      map[string]int `json:"by_version"`  // negotiated; "none": no ServerHello; "unknown": not named
	ByProtocol     map[string]int `json:"by_protocol"` // https, smtp …
	DroppedClients int            `json:"dropped_clients"`
	// Added after the first fields of tlsmap.sniff.totals/1.
	UnknownFlows   int            `json:"unknown_flows"`
	PlaintextFlows int            `json:"plaintext_flows"`
	UnknownClients int            `json:"unknown_clients"`
	BySource       map[string]int `json:"by_source"` // capture, postfix …
}

// NewTotalsRecord builds the totals record of schema name schema.
func NewTotalsRecord(schema string, t evidence.Totals) TotalsRecord {
	return TotalsRecord{Schema: schema, Flows: t.Flows, LegacyFlows: t.LegacyFlows, UnknownFlows: t.UnknownFlows,
		PlaintextFlows: t.PlaintextFlows, Clients: t.Clients, LegacyClients: t.LegacyClients,
		UnknownClients: t.UnknownClients, ByVersion: nonNilMap(t.ByVersion), ByProtocol: nonNilMap(t.ByProtocol),
		BySource: nonNilMap(t.BySource), DroppedClients: t.DroppedClients}
}

func nonNilMap(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// Columns implements Tabular.
func (r TotalsRecord) Columns() []string {
	return []string{"schema", "flows", "legacy_flows", "clients", "legacy_clients", "by_version", "by_protocol",
		"dropped_clients", "unknown_flows", "plaintext_flows", "unknown_clients", "by_source"}
}

// Cells implements Tabular.
func (r TotalsRecord) Cells() []string {
	i := strconv.Itoa
	return []string{r.Schema, i(r.Flows), i(r.LegacyFlows), i(r.Clients), i(r.LegacyClients),
		countList(r.ByVersion, "=", ";", true), countList(r.ByProtocol, "=", ";", false), i(r.DroppedClients),
		i(r.UnknownFlows), i(r.PlaintextFlows), i(r.UnknownClients), countList(r.BySource, "=", ";", false)}
}

// ClientReport is what WriteClientReport renders: the clients and totals
// of an evidence.Report, with the schema names of the command.
type ClientReport struct {
	ClientSchema, TotalsSchema string
	Clients                    []*evidence.ClientSummary
	Totals                     evidence.Totals
	// Coverage, for a capture: what was read and could not be seen. The
	// all-clear is said only when it has no gap; nil (logs) writes none.
	Coverage *Coverage
}

// WriteLegacyReport writes sniff's legacy-client report (see
// WriteClientReport), then cov's coverage: the table's section, the
// SummaryRecord as the last JSON line, the CSV footer. The verdict says
// "no legacy client" plainly only when cov has no gap; cov nil writes no
// coverage and takes the input as complete.
func WriteLegacyReport(w io.Writer, f Format, r *sniff.Report, cov *Coverage) error {
	return WriteClientReport(w, f, ClientReport{ClientSchema: SniffClientSchema, TotalsSchema: SniffTotalsSchema,
		Clients: r.Clients(), Totals: r.Totals(), Coverage: cov})
}

// WriteClientReport writes the legacy-client report: in a table, one row
// per client with a legacy or unknown-version connection then the
// totals; in csv, one row per client; in jsonl, one ClientRecord per
// client then one TotalsRecord.
func WriteClientReport(w io.Writer, f Format, rep ClientReport) error {
	rw := NewRowWriter(w, f)
	for _, c := range rep.Clients {
		rec := NewClientRecord(rep.ClientSchema, c)
		var row Tabular = rec
		if f == FormatTable {
			row = clientTableRecord{rec}
		}
		if err := rw.Write(row); err != nil {
			return err
		}
	}
	switch f {
	case FormatJSONL:
		if err := rw.Write(NewTotalsRecord(rep.TotalsSchema, rep.Totals)); err != nil {
			return err
		}
	case FormatCSV:
		if len(rep.Clients) == 0 {
			// Still a header, so that an empty result is valid CSV of the
			// documented columns.
			if err := rw.csv.Write(clientColumns); err != nil {
				return err
			}
		}
	}
	if err := rw.Flush(); err != nil {
		return err
	}
	var gaps []sniff.Gap
	if rep.Coverage != nil {
		gaps = rep.Coverage.Gaps
	}
	if f == FormatTable {
		if err := writeTotals(w, len(rep.Clients) > 0, rep.Totals, gaps); err != nil {
			return err
		}
	}
	if rep.Coverage == nil {
		return nil
	}
	return WriteCoverage(w, f, rep.Coverage)
}

// writeTotals writes the totals under the table. An unknown-version
// connection is never counted as modern: with some, the all-clear line
// says how many the evidence could not tell; and with gaps of the
// capture, it names them.
func writeTotals(w io.Writer, table bool, t evidence.Totals, gaps []sniff.Gap) error {
	var b strings.Builder
	if table {
		b.WriteString("\n")
	}
	conns := func(n int) string { return snPlural(n, "connection", "connections") }
	switch {
	case t.LegacyClients == 0 && t.UnknownFlows == 0 && len(gaps) == 0:
		fmt.Fprintf(&b, "No client negotiated or offered TLS 1.1 or older (%d TLS %s from %d %s).\n",
			t.Flows, conns(t.Flows), t.Clients, snPlural(t.Clients, "client", "clients"))
	case t.LegacyClients == 0 && t.UnknownFlows == 0:
		fmt.Fprintf(&b, "No client negotiated or offered TLS 1.1 or older among %d TLS %s from %d %s — but %s: legacy clients may hide there.\n",
			t.Flows, conns(t.Flows), t.Clients, snPlural(t.Clients, "client", "clients"), gapPhrases(gaps))
	case t.LegacyClients == 0:
		fmt.Fprintf(&b, "No client is known to have used TLS 1.1 or older, but %d of %d TLS %s (from %d %s) are of a version the evidence does not name.\n",
			t.UnknownFlows, t.Flows, conns(t.Flows), t.UnknownClients, snPlural(t.UnknownClients, "client", "clients"))
	default:
		fmt.Fprintf(&b, "Legacy clients: %d of %d (%d of %d TLS %s)\n", t.LegacyClients, t.Clients,
			t.LegacyFlows, t.Flows, conns(t.Flows))
		if t.UnknownFlows > 0 {
			fmt.Fprintf(&b, "Unknown:        %d %s of a version the evidence does not name (%d more %s)\n",
				t.UnknownFlows, conns(t.UnknownFlows), t.UnknownClients, snPlural(t.UnknownClients, "client", "clients"))
		}
	}
	// A live capture whose kernel dropped packets may have lost hellos of
	// any client, legacy ones included: said whatever the verdict above.
	for _, g := range gaps {
		if g.Kind == sniff.GapKernelDrops {
			fmt.Fprintf(&b, "Kernel drops:   the kernel dropped %d %s; some hellos may be missing (a larger --buffer keeps more)\n",
				g.Count, snPlural(int(min(g.Count, 2)), "packet", "packets"))
		}
	}
	if t.Flows > 0 {
		fmt.Fprintf(&b, "By version:     %s\n", countList(t.ByVersion, " ", ", ", true))
		fmt.Fprintf(&b, "By protocol:    %s\n", countList(t.ByProtocol, " ", ", ", false))
		if len(t.BySource) > 1 || t.BySource[evidence.SourceCapture.String()] == 0 {
			fmt.Fprintf(&b, "By source:      %s\n", countList(t.BySource, " ", ", ", false))
		}
	}
	if t.PlaintextFlows > 0 {
		fmt.Fprintf(&b, "Plaintext:      %d %s without TLS (not counted above)\n", t.PlaintextFlows, conns(t.PlaintextFlows))
	}
	if t.DroppedClients > 0 {
		fmt.Fprintf(&b, "Not tracked:    %d connections from clients beyond the client limit\n", t.DroppedClients)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func snPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
