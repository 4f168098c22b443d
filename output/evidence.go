package output

import (
	"cmp"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/logs"
)

// Schema names of the evidence records (docs/schema/evidence.md).
const (
	EvidenceSchema       = "tlsmap.evidence/1"
	EvidenceTotalsSchema = "tlsmap.evidence.totals/1"
	LogsInputSchema      = "tlsmap.logs.input/1"
)

// EvidenceRecord is the JSON shape of one evidence record (schema
// tlsmap.evidence/1): the connections or requests of one day that share
// client, server, protocol, version, cipher, user, user agent and
// source, with their count — what tlsmap logs and tlsmap sniff --report
// evidence write, one object per line, for a store to join.
type EvidenceRecord struct {
	Schema string `json:"schema"` // EvidenceSchema
	// Day is the UTC date of the observations ("2026-03-01"); "" when
	// they had no time. A record never spans two days.
	Day    string `json:"day"`
	Source string `json:"source"` // capture, exchange, iis, postfix, dovecot, nginx, apache, haproxy
	// Client is the client's address ("" when the evidence names it only
	// by ClientName).
	Client     string `json:"client"`
	ClientName string `json:"client_name"`
	Via        string `json:"via"`      // the balancer the client came through; "" when none
	Balancer   bool   `json:"balancer"` // client is a --balancer, no client named behind it
	// Server is "ip:port", "ip" when the evidence names no port, ""
	// when it names no address; ServerName the name asked for or the
	// logging host.
	Server     string `json:"server"`
	ServerName string `json:"server_name"`
	Protocol   string `json:"protocol"`
	Direction  string `json:"direction"` // inbound; outbound: the logging server was the client
	Transport  string `json:"transport"` // tls, plaintext, unknown
	// Version is the negotiated version ("TLSv1.2"), "" when not known.
	Version string `json:"version"`
	// Class is the verdict: legacy, modern, unknown, plaintext.
	Class         string   `json:"class"`
	LegacyReasons []string `json:"legacy_reasons"`
	// Cipher is the suite's code "0xC02F" when the cipher is a known
	// suite, ""; CipherName its IANA name, or the log's own words
	// ("CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM").
	Cipher     string `json:"cipher"`
	CipherName string `json:"cipher_name"`
	User       string `json:"user"`
	UserAgent  string `json:"user_agent"`
	// From captured ClientHellos: the highest version offered, an
	// SSLv2-format hello, fingerprints and their label.
	MaxOffered string `json:"max_offered"`
	SSLv2Hello bool   `json:"sslv2_hello"`
	JA3        string `json:"ja3"`
	JA4        string `json:"ja4"`
	Label      string `json:"label"`

	Count     int    `json:"count"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// NewEvidenceRecord builds the record of an aggregate.
func NewEvidenceRecord(r evidence.Record) EvidenceRecord {
	o := r.Observation()
	e := EvidenceRecord{
		Schema: EvidenceSchema, Source: r.Source.String(), Client: addrString(r.Client), ClientName: r.ClientName,
		Via: addrString(r.Via), Balancer: r.Balancer, Server: evidence.Endpoint(r.Server), ServerName: r.ServerName,
		Protocol: r.Protocol, Direction: "inbound", Transport: r.Transport.String(), Class: o.Class().String(),
		LegacyReasons: nonNil(o.LegacyReasons()), Cipher: r.Cipher.Code(), CipherName: r.Cipher.String(),
		User: r.User, UserAgent: r.UserAgent, SSLv2Hello: r.SSLv2Hello, JA3: r.JA3, JA4: r.JA4, Label: r.Label,
		Count: r.Count, FirstSeen: snTime(r.FirstSeen), LastSeen: snTime(r.LastSeen),
	}
	if !r.Day.IsZero() {
		e.Day = r.Day.Format("2006-01-02")
	}
	if r.Outbound {
		e.Direction = "outbound"
	}
	if r.Version != 0 {
		e.Version = r.Version.String()
	}
	if r.MaxOffered != 0 {
		e.MaxOffered = r.MaxOffered.String()
	}
	return e
}

var evidenceColumns = []string{"schema", "day", "source", "client", "client_name", "via", "balancer", "server",
	"server_name", "protocol", "direction", "transport", "version", "class", "legacy_reasons", "cipher", "cipher_name",
	"user", "user_agent", "max_offered", "sslv2_hello", "ja3", "ja4", "label", "count", "first_seen", "last_seen"}

// Columns implements Tabular.
func (r EvidenceRecord) Columns() []string { return evidenceColumns }

// Cells implements Tabular.
func (r EvidenceRecord) Cells() []string {
	b := strconv.FormatBool
	return []string{r.Schema, r.Day, r.Source, r.Client, r.ClientName, r.Via, b(r.Balancer), r.Server,
		r.ServerName, r.Protocol, r.Direction, r.Transport, r.Version, r.Class, strings.Join(r.LegacyReasons, ";"),
		r.Cipher, r.CipherName, r.User, r.UserAgent, r.MaxOffered, b(r.SSLv2Hello), r.JA3, r.JA4, r.Label,
		strconv.Itoa(r.Count), r.FirstSeen, r.LastSeen}
}

// EvidenceTotalsRecord is the totals line after the evidence records in
// JSON Lines (schema tlsmap.evidence.totals/1): the report's totals, and
// what the aggregation could not keep as given.
type EvidenceTotalsRecord struct {
	TotalsRecord
	Records int `json:"records"` // evidence records written
	// Folded counts observations whose user and user agent were dropped
	// because the record table was full; Dropped those not kept at all
	// (they still count in the totals).
	Folded  int `json:"folded"`
	Dropped int `json:"dropped"`
}

// WriteEvidence writes the aggregated evidence: one EvidenceRecord per
// key (jsonl and csv), then in jsonl the totals. In a table it writes
// nothing: the terminal view is WriteClientReport's.
func WriteEvidence(w io.Writer, f Format, agg *evidence.Aggregator, t evidence.Totals) error {
	if f == FormatTable {
		return nil
	}
	rw := NewRowWriter(w, f)
	recs := agg.Records()
	for _, r := range recs {
		if err := rw.Write(NewEvidenceRecord(r)); err != nil {
			return err
		}
	}
	switch f {
	case FormatJSONL:
		st := agg.Stats()
		tr := EvidenceTotalsRecord{TotalsRecord: NewTotalsRecord(EvidenceTotalsSchema, t), Records: len(recs),
			Folded: st.Folded, Dropped: st.Dropped}
		if err := rw.enc.Encode(tr); err != nil {
			return err
		}
	case FormatCSV:
		if len(recs) == 0 {
			if err := rw.csv.Write(evidenceColumns); err != nil {
				return err
			}
		}
	}
	return rw.Flush()
}

// LogsInputRecord is what tlsmap logs read (schema tlsmap.logs.input/1),
// the last line of its JSON Lines: files, lines, the malformed ones and
// why, and the evidence it could not place.
type LogsInputRecord struct {
	Schema       string              `json:"schema"` // LogsInputSchema
	Files        []LogsFileRecord    `json:"files"`
	Lines        int64               `json:"lines"`
	Bytes        int64               `json:"bytes"`
	Malformed    int64               `json:"malformed"`
	Reasons      []MalformedRecord   `json:"malformed_reasons"`
	Observations int64               `json:"observations"`
	Filtered     int64               `json:"filtered"`
	Undated      int64               `json:"undated"`
	Incomplete   int64               `json:"incomplete"`
	Unknown      []UnknownCountEntry `json:"unknown"`
}

// LogsFileRecord is one file read.
type LogsFileRecord struct {
	Name         string `json:"name"`
	Format       string `json:"format"`
	Lines        int64  `json:"lines"`
	Malformed    int64  `json:"malformed"`
	Observations int64  `json:"observations"`
	Error        string `json:"error"`
}

// MalformedRecord is one reason lines did not parse.
type MalformedRecord struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
	File   string `json:"file"` // where the first one was
	Line   int64  `json:"line"`
}

// UnknownCountEntry counts the unknown-version observations of one
// reason (the reason says what to change).
type UnknownCountEntry struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// NewLogsInputRecord builds the input record of a logs run.
func NewLogsInputRecord(st logs.Stats) LogsInputRecord {
	r := LogsInputRecord{Schema: LogsInputSchema, Files: []LogsFileRecord{}, Lines: st.Lines, Bytes: st.Bytes,
		Malformed: st.Malformed, Reasons: []MalformedRecord{}, Observations: st.Observations, Filtered: st.Filtered,
		Undated: st.Undated, Incomplete: st.Incomplete, Unknown: unknownEntries(st)}
	for _, f := range st.Files {
		r.Files = append(r.Files, LogsFileRecord{Name: f.Name, Format: f.Format, Lines: f.Lines, Malformed: f.Malformed,
			Observations: f.Observations, Error: f.Err})
	}
	for _, m := range st.Reasons {
		r.Reasons = append(r.Reasons, MalformedRecord{Reason: m.Reason, Count: m.Count, File: m.File, Line: m.Line})
	}
	return r
}

// unknownEntries lists Stats.Unknown, most first.
func unknownEntries(st logs.Stats) []UnknownCountEntry {
	out := []UnknownCountEntry{}
	for reason, n := range st.Unknown {
		out = append(out, UnknownCountEntry{reason, n})
	}
	slices.SortFunc(out, func(a, b UnknownCountEntry) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}

// WriteLogsInput writes the input record (jsonl only) or, for the table,
// the lines under the report: what was read, what did not parse and the
// first place of each reason, what the logs could not tell and what to
// change so that they would.
func WriteLogsInput(w io.Writer, f Format, st logs.Stats) error {
	switch f {
	case FormatJSONL:
		return newJSONLEncoder(w).Encode(NewLogsInputRecord(st))
	case FormatCSV:
		return nil
	}
	var b strings.Builder
	files := snPlural(len(st.Files), "file", "files")
	fmt.Fprintf(&b, "Read:           %d %s, %d lines, %d connections or requests found\n", len(st.Files), files, st.Lines, st.Observations)
	if st.Filtered > 0 || st.Undated > 0 {
		fmt.Fprintf(&b, "Time range:     %d outside --since/--until, %d without a time (left out)\n", st.Filtered, st.Undated)
	}
	if st.Malformed > 0 {
		fmt.Fprintf(&b, "Malformed:      %d lines (not counted above)\n", st.Malformed)
		for _, m := range st.Reasons {
			fmt.Fprintf(&b, "                %d × %s (first: %s:%d)\n", m.Count, m.Reason, m.File, m.Line)
		}
	}
	if st.Incomplete > 0 {
		fmt.Fprintf(&b, "Incomplete:     %d sessions the logs hold only part of (begun before, or open after, the lines read)\n", st.Incomplete)
	}
	for _, u := range unknownEntries(st) {
		fmt.Fprintf(&b, "Unknown:        %d × %s\n", u.Count, u.Reason)
	}
	for _, fs := range st.Files {
		if fs.Err != "" {
			fmt.Fprintf(&b, "Not read:       %s: %s\n", fs.Name, fs.Err)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
