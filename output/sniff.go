package output

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/quic"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/sniff"
)

// Schema names of the sniff records (docs/schema/sniff.md). A later
// version only adds fields; a change of meaning gets a new name.
const (
	SniffFlowSchema   = "tlsmap.sniff/1"
	SniffClientSchema = "tlsmap.sniff.client/1"
	SniffTotalsSchema = "tlsmap.sniff.totals/1"
)

// TimeLayout is RFC 3339 with nanoseconds, always nine digits, in UTC.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func snTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// FlowRecord is the JSON shape of one sniffed connection (schema
// tlsmap.sniff/1): one object per line in --format jsonl.
type FlowRecord struct {
	Schema string `json:"schema"` // SniffFlowSchema

	Client   string `json:"client"`   // "ip:port", "[v6]:port"
	Server   string `json:"server"`   // "ip:port", "[v6]:port"
	Protocol string `json:"protocol"` // https, tls, smtp, imap, pop3 …
	StartTLS bool   `json:"starttls"`

	SNI             string   `json:"sni"`
	ALPN            []string `json:"alpn"`
	OfferedVersions []string `json:"offered_versions"` // "TLSv1.3", "TLSv1.2" … highest first
	// Version is the negotiated version, "" when no ServerHello was seen.
	Version string `json:"version"`
	// Cipher is the negotiated suite "0xC02F" and CipherName its IANA
	// name; both "" when no ServerHello was seen.
	Cipher              string   `json:"cipher"`
	CipherName          string   `json:"cipher_name"`
	OfferedCiphers      []string `json:"offered_ciphers"`      // "0xC02F", wire order, GREASE and SCSVs kept
	Groups              []string `json:"groups"`               // supported_groups by name ("x25519"), wire order
	SignatureAlgorithms []string `json:"signature_algorithms"` // by name ("rsa_pss_rsae_sha256")
	KeyShareGroups      []string `json:"key_share_groups"`     // by name

	HRR       bool   `json:"hrr"`        // the server sent a HelloRetryRequest
	Alert     string `json:"alert"`      // "fatal handshake_failure"; "" when none
	AlertFrom string `json:"alert_from"` // "client", "server" or ""
	SSLv2     bool   `json:"sslv2"`      // SSLv2-format ClientHello

	Legacy        bool     `json:"legacy"`
	LegacyReasons []string `json:"legacy_reasons"` // negotiated, offered, sslv2-hello
	Label         string   `json:"label"`          // from --fingerprints; "" when unknown

	JA3  string `json:"ja3"`
	JA3S string `json:"ja3s"`
	JA4  string `json:"ja4"`

	FirstSeen string `json:"first_seen"` // RFC 3339, nanoseconds, UTC
	LastSeen  string `json:"last_seen"`
	Packets   uint64 `json:"packets"`
	Bytes     uint64 `json:"bytes"`
	Truncated string `json:"truncated"` // why data may be missing; "" when complete

	// QUICVersion is the QUIC version of a "quic" connection ("v1", "v2",
	// "draft-29"), "" for TLS over TCP.
	QUICVersion string `json:"quic_version"`
}

// NewFlowRecord builds the record of f; label is its fingerprint label.
func NewFlowRecord(f *sniff.Flow, label string) FlowRecord {
	r := FlowRecord{
		Schema:              SniffFlowSchema,
		Client:              addrPort(f.Client.String(), f.Client.IsValid()),
		Server:              addrPort(f.Server.String(), f.Server.IsValid()),
		Protocol:            f.Protocol,
		StartTLS:            f.StartTLS,
		SNI:                 f.SNI,
		ALPN:                nonNil(f.ALPN),
		OfferedVersions:     versionNames(f.OfferedVersions),
		OfferedCiphers:      snHexList(f.CipherSuites),
		Groups:              names(f.Groups, ciphers.GroupName),
		SignatureAlgorithms: names(f.SignatureAlgorithms, ciphers.SignatureSchemeName),
		KeyShareGroups:      names(f.KeyShareGroups, ciphers.GroupName),
		HRR:                 f.HelloRetryRequest,
		SSLv2:               f.SSLv2,
		LegacyReasons:       nonNil(sniff.LegacyReasons(f)),
		Label:               label,
		JA3:                 f.JA3,
		JA3S:                f.JA3S,
		JA4:                 f.JA4,
		FirstSeen:           snTime(f.FirstSeen),
		LastSeen:            snTime(f.LastSeen),
		Packets:             f.Packets,
		Bytes:               f.Bytes,
		Truncated:           f.Truncated,
	}
	r.Legacy = len(r.LegacyReasons) > 0
	if f.QUICVersion != 0 {
		r.QUICVersion = quic.Version(f.QUICVersion).String()
	}
	if f.HasServerHello() {
		r.Version = tls.Version(f.Version).String()
		r.Cipher = fmt.Sprintf("0x%04X", f.Cipher)
		r.CipherName = snSuiteName(f.Cipher)
	}
	if f.Alert != nil {
		r.Alert = f.Alert.String()
		r.AlertFrom = f.AlertFrom
	}
	return r
}

func addrPort(s string, ok bool) string {
	if !ok {
		return ""
	}
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func versionNames(vs []uint16) []string {
	out := []string{}
	for _, v := range vs {
		if !tls.IsGREASE(v) {
			out = append(out, tls.Version(v).String())
		}
	}
	return out
}

func snHexList(ids []uint16) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("0x%04X", id)
	}
	return out
}

func names(ids []uint16, name func(uint16) string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = name(id)
	}
	return out
}

// snSuiteName is the IANA name of a suite, or its hex code when unknown.
func snSuiteName(id uint16) string {
	if s, ok := ciphers.ByID(id); ok {
		return s.Name
	}
	return fmt.Sprintf("0x%04X", id)
}

// flowColumns are the CSV columns of a FlowRecord: its JSON names, in
// order; lists are joined with ';'.
var flowColumns = []string{"schema", "client", "server", "protocol", "starttls", "sni", "alpn",
	"offered_versions", "version", "cipher", "cipher_name", "offered_ciphers", "groups",
	"signature_algorithms", "key_share_groups", "hrr", "alert", "alert_from", "sslv2", "legacy",
	"legacy_reasons", "label", "ja3", "ja3s", "ja4", "first_seen", "last_seen", "packets", "bytes", "truncated", "quic_version"}

// Columns implements Tabular.
func (r FlowRecord) Columns() []string { return flowColumns }

// Cells implements Tabular.
func (r FlowRecord) Cells() []string {
	j := func(s []string) string { return strings.Join(s, ";") }
	b := strconv.FormatBool
	return []string{r.Schema, r.Client, r.Server, r.Protocol, b(r.StartTLS), r.SNI, j(r.ALPN),
		j(r.OfferedVersions), r.Version, r.Cipher, r.CipherName, j(r.OfferedCiphers), j(r.Groups),
		j(r.SignatureAlgorithms), j(r.KeyShareGroups), b(r.HRR), r.Alert, r.AlertFrom, b(r.SSLv2), b(r.Legacy),
		j(r.LegacyReasons), r.Label, r.JA3, r.JA3S, r.JA4, r.FirstSeen, r.LastSeen,
		strconv.FormatUint(r.Packets, 10), strconv.FormatUint(r.Bytes, 10), r.Truncated, r.QUICVersion}
}

// FlowTableRecord is a FlowRecord as a terminal table row: the columns a
// person reads, the rest left to jsonl and csv.
type FlowTableRecord struct{ FlowRecord }

var flowTableColumns = []string{"client", "server", "protocol", "sni", "offered", "version", "cipher", "alert", "legacy", "label", "ja4"}

// Columns implements Tabular.
func (r FlowTableRecord) Columns() []string { return flowTableColumns }

// Cells implements Tabular.
func (r FlowTableRecord) Cells() []string {
	offered := ""
	if n := len(r.OfferedVersions); n > 0 {
		offered = r.OfferedVersions[0]
		if n > 1 {
			offered += "…" + r.OfferedVersions[n-1]
		}
	}
	legacy := ""
	if r.Legacy {
		legacy = strings.Join(r.LegacyReasons, ",")
	}
	proto := r.Protocol
	if r.StartTLS {
		proto += "+starttls"
	}
	return []string{r.Client, r.Server, proto, r.SNI, offered, r.Version, r.CipherName, r.Alert, legacy, r.Label, r.JA4}
}

// FlowWriter streams flows in one format: jsonl and csv as they come, the
// table at Flush.
type FlowWriter struct {
	format Format
	rw     *RowWriter
	fp     sniff.Fingerprints
}

// NewFlowWriter returns a FlowWriter writing f to w; fp (may be nil)
// labels the flows.
func NewFlowWriter(w io.Writer, f Format, fp sniff.Fingerprints) *FlowWriter {
	return &FlowWriter{format: f, rw: NewRowWriter(w, f), fp: fp}
}

// Write writes one flow.
func (fw *FlowWriter) Write(f *sniff.Flow) error {
	r := NewFlowRecord(f, fw.fp.Label(f))
	if fw.format == FormatTable {
		return fw.rw.Write(FlowTableRecord{r})
	}
	return fw.rw.Write(r)
}

// Flush writes what is buffered.
func (fw *FlowWriter) Flush() error { return fw.rw.Flush() }

// ClientRecord is the JSON shape of one legacy client (schema
// tlsmap.sniff.client/1): one object per line in --report legacy
// --format jsonl.
type ClientRecord struct {
	Schema string `json:"schema"` // SniffClientSchema

	Client  string   `json:"client"` // the address, without port
	Labels  []string `json:"labels"` // from --fingerprints
	Reasons []string `json:"reasons"`

	Protocols []string `json:"protocols"`
	SNIs      []string `json:"snis"`
	Servers   []string `json:"servers"` // "ip:port"
	// NegotiatedVersions counts legacy connections by negotiated version
	// ("none": no ServerHello seen).
	NegotiatedVersions map[string]int `json:"negotiated_versions"`
	OfferedVersions    []string       `json:"offered_versions"`
	Ciphers            []string       `json:"ciphers"` // negotiated, "0xC014"
	CipherNames        []string       `json:"cipher_names"`
	JA3                []string       `json:"ja3"`
	JA4                []string       `json:"ja4"`
	// More counts, per list above, the distinct values seen and not
	// listed (the lists are capped); absent when nothing was left out.
	More map[string]int `json:"more,omitempty"`

	Connections       int    `json:"connections"`        // every TLS connection of the client
	LegacyConnections int    `json:"legacy_connections"` // of which legacy
	FirstSeen         string `json:"first_seen"`         // of its legacy connections
	LastSeen          string `json:"last_seen"`
}

// NewClientRecord builds the record of one legacy client.
func NewClientRecord(s *sniff.ClientSummary) ClientRecord {
	r := ClientRecord{
		Schema:             SniffClientSchema,
		Client:             s.Client.String(),
		NegotiatedVersions: maps.Clone(s.Negotiated),
		Connections:        s.Connections,
		LegacyConnections:  s.LegacyConnections,
		FirstSeen:          snTime(s.FirstSeen),
		LastSeen:           snTime(s.LastSeen),
	}
	more := map[string]int{}
	items := func(key string, set *sniff.Set) []string {
		if n, _ := set.More(); n > 0 {
			more[key] = n
		}
		return slices.Clone(nonNil(set.Items()))
	}
	r.Labels = items("labels", &s.Labels)
	r.Reasons = items("reasons", &s.Reasons)
	r.Protocols = items("protocols", &s.Protocols)
	r.SNIs = items("snis", &s.SNIs)
	r.Servers = items("servers", &s.Servers)
	r.OfferedVersions = items("offered_versions", &s.Offered)
	r.Ciphers = items("ciphers", &s.Ciphers)
	r.JA3 = items("ja3", &s.JA3)
	r.JA4 = items("ja4", &s.JA4)
	r.CipherNames = make([]string, len(r.Ciphers))
	for i, c := range r.Ciphers {
		id, _ := strconv.ParseUint(strings.TrimPrefix(c, "0x"), 16, 16)
		r.CipherNames[i] = snSuiteName(uint16(id))
	}
	if n, ok := more["ciphers"]; ok {
		more["cipher_names"] = n
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
	"connections", "legacy_connections", "first_seen", "last_seen"}

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
	return []string{r.Schema, r.Client, r.cell("labels", r.Labels, ";", 0), r.cell("reasons", r.Reasons, ";", 0),
		r.cell("protocols", r.Protocols, ";", 0), r.cell("snis", r.SNIs, ";", 0), r.cell("servers", r.Servers, ";", 0),
		strings.Join(nv, ";"), r.cell("offered_versions", r.OfferedVersions, ";", 0), r.cell("ciphers", r.Ciphers, ";", 0),
		r.cell("cipher_names", r.CipherNames, ";", 0), r.cell("ja3", r.JA3, ";", 0), r.cell("ja4", r.JA4, ";", 0),
		strconv.Itoa(r.Connections), strconv.Itoa(r.LegacyConnections), r.FirstSeen, r.LastSeen}
}

// clientTableRecord is a ClientRecord as a terminal table row; each list
// shows at most three values.
type clientTableRecord struct{ ClientRecord }

var clientTableColumns = []string{"client", "label", "legacy/conns", "negotiated", "offered", "protocols", "sni", "servers", "ciphers", "ja4", "first_seen", "last_seen"}

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
	return []string{r.Client, r.cell("labels", r.Labels, ",", 2),
		fmt.Sprintf("%d/%d", r.LegacyConnections, r.Connections), r.negotiatedCell(" "), offered,
		r.cell("protocols", r.Protocols, ",", 3), r.cell("snis", r.SNIs, ",", 3), r.cell("servers", r.Servers, ",", 3),
		r.cell("cipher_names", r.CipherNames, ",", 2), r.cell("ja4", r.JA4, ",", 1),
		short(r.FirstSeen), short(r.LastSeen)}
}

// TotalsRecord is the JSON shape of the report's totals (schema
// tlsmap.sniff.totals/1), the last line of --report legacy --format jsonl.
type TotalsRecord struct {
	Schema         string         `json:"schema"` // SniffTotalsSchema
	Flows          int            `json:"flows"`  // connections with a TLS hello
	LegacyFlows    int            `json:"legacy_flows"`
	Clients        int            `json:"clients"`
	LegacyClients  int            `json:"legacy_clients"`
	ByVersion      map[string]int `json:"by_version"`  // negotiated; "none": no ServerHello
	ByProtocol     map[string]int `json:"by_protocol"` // https, smtp …
	DroppedClients int            `json:"dropped_clients"`
}

// NewTotalsRecord builds the totals record.
func NewTotalsRecord(t sniff.Totals) TotalsRecord {
	return TotalsRecord{Schema: SniffTotalsSchema, Flows: t.Flows, LegacyFlows: t.LegacyFlows, Clients: t.Clients,
		LegacyClients: t.LegacyClients, ByVersion: t.ByVersion, ByProtocol: t.ByProtocol, DroppedClients: t.DroppedClients}
}

// Columns implements Tabular.
func (r TotalsRecord) Columns() []string {
	return []string{"schema", "flows", "legacy_flows", "clients", "legacy_clients", "by_version", "by_protocol", "dropped_clients"}
}

// Cells implements Tabular.
func (r TotalsRecord) Cells() []string {
	return []string{r.Schema, strconv.Itoa(r.Flows), strconv.Itoa(r.LegacyFlows), strconv.Itoa(r.Clients),
		strconv.Itoa(r.LegacyClients), countList(r.ByVersion, "=", ";", true), countList(r.ByProtocol, "=", ";", false),
		strconv.Itoa(r.DroppedClients)}
}

// versionsDesc orders version names newest first ("TLSv1.3" before its
// drafts, before "TLSv1.2" … "SSLv3"; tls.Version.Rank), then names that
// are no version, "none" last.
func versionsDesc(a, b string) int {
	va, ea := tls.ParseVersion(a)
	vb, eb := tls.ParseVersion(b)
	switch {
	case ea == nil && eb == nil:
		return cmp.Or(vb.Compare(va), cmp.Compare(a, b))
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	isNone := func(s string) int {
		if s == sniff.NoServerHello {
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(isNone(a), isNone(b)), cmp.Compare(a, b))
}

// countList renders a count map, by key (versions highest first) or by
// count, most first.
func countList(m map[string]int, eq, sep string, byKeyDesc bool) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if byKeyDesc {
			return versionsDesc(a, b)
		}
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + eq + strconv.Itoa(m[k])
	}
	return strings.Join(parts, sep)
}

// WriteLegacyReport writes the legacy-client report: in a table, one row
// per legacy client then the totals; in csv, one row per client; in
// jsonl, one ClientRecord per client then one TotalsRecord.
func WriteLegacyReport(w io.Writer, f Format, r *sniff.Report) error {
	clients := r.Clients()
	t := r.Totals()
	rw := NewRowWriter(w, f)
	for _, c := range clients {
		rec := NewClientRecord(c)
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
		if err := rw.Write(NewTotalsRecord(t)); err != nil {
			return err
		}
	case FormatCSV:
		if len(clients) == 0 {
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
	if f != FormatTable {
		return nil
	}
	return writeTotals(w, len(clients) > 0, t)
}

func writeTotals(w io.Writer, table bool, t sniff.Totals) error {
	var b strings.Builder
	if table {
		b.WriteString("\n")
	}
	if t.LegacyClients == 0 {
		fmt.Fprintf(&b, "No client negotiated or offered TLS 1.1 or older (%d TLS %s from %d %s).\n",
			t.Flows, snPlural(t.Flows, "connection", "connections"), t.Clients, snPlural(t.Clients, "client", "clients"))
	} else {
		fmt.Fprintf(&b, "Legacy clients: %d of %d (%d of %d TLS %s)\n", t.LegacyClients, t.Clients,
			t.LegacyFlows, t.Flows, snPlural(t.Flows, "connection", "connections"))
	}
	if t.Flows > 0 {
		fmt.Fprintf(&b, "By version:     %s\n", countList(t.ByVersion, " ", ", ", true))
		fmt.Fprintf(&b, "By protocol:    %s\n", countList(t.ByProtocol, " ", ", ", false))
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
