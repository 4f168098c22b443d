package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/readiness"
)

// ReportDiffSummarySchema names the last record of a diff.
const ReportDiffSummarySchema = "tlsmap.report.diff.summary/1"

// The changes a diff record names.
const (
	ChangeStarted     = "started-accepting-legacy" // a regression
	ChangeStopped     = "stopped-accepting-legacy"
	ChangeNew         = "new-endpoint"
	ChangeGone        = "endpoint-gone"
	ChangeVerdict     = "verdict"
	ChangeAppeared    = "client-appeared"
	ChangeDisappeared = "client-disappeared"
)

// DiffRecord is one change between two points (tlsmap.report.diff/1).
type DiffRecord struct {
	Schema       string `json:"schema"`
	Change       string `json:"change"`
	Endpoint     string `json:"endpoint"`
	Client       string `json:"client"`
	Before       string `json:"before"`
	After        string `json:"after"`
	BeforeStance string `json:"before_stance"`
	AfterStance  string `json:"after_stance"`
	Accepted     string `json:"accepted"`
	Connections  int64  `json:"connections"`
	LastSeen     string `json:"last_seen"`
}

var diffColumns = []string{"schema", "change", "endpoint", "client", "before", "after", "before_stance", "after_stance",
	"accepted", "connections", "last_seen"}

// Columns implements Tabular.
func (r DiffRecord) Columns() []string { return diffColumns }

// Cells implements Tabular.
func (r DiffRecord) Cells() []string {
	return []string{r.Schema, r.Change, r.Endpoint, r.Client, r.Before, r.After, r.BeforeStance, r.AfterStance, r.Accepted,
		strconv.FormatInt(r.Connections, 10), r.LastSeen}
}

// DiffSummaryRecord closes a diff.
type DiffSummaryRecord struct {
	Schema    string         `json:"schema"`
	A         string         `json:"a"`
	B         string         `json:"b"`
	AUntil    string         `json:"a_until"`
	BUntil    string         `json:"b_until"`
	Regressed bool           `json:"regressed"`
	Changes   map[string]int `json:"changes"`
}

// NewDiffRecords lists a diff's changes, regressions first.
func NewDiffRecords(d *readiness.Diff) []DiffRecord {
	var out []DiffRecord
	ep := func(change string, cs []readiness.Change) {
		for _, c := range cs {
			out = append(out, DiffRecord{Schema: ReportDiffSchema, Change: change, Endpoint: c.Endpoint,
				Before: string(c.Before), After: string(c.After), BeforeStance: string(c.BeforeStance),
				AfterStance: string(c.AfterStance), Accepted: c.Accepted})
		}
	}
	cl := func(change string, cs []readiness.ClientChange) {
		for _, c := range cs {
			out = append(out, DiffRecord{Schema: ReportDiffSchema, Change: change, Endpoint: c.Endpoint, Client: c.Client,
				Connections: c.Connections, LastSeen: rpTime(c.Last)})
		}
	}
	ep(ChangeStarted, d.Started)
	ep(ChangeStopped, d.Stopped)
	ep(ChangeNew, d.New)
	ep(ChangeGone, d.Gone)
	ep(ChangeVerdict, d.Verdicts)
	cl(ChangeAppeared, d.Appeared)
	cl(ChangeDisappeared, d.Disappeared)
	return out
}

// NewDiffSummaryRecord summarises d.
func NewDiffSummaryRecord(d *readiness.Diff) DiffSummaryRecord {
	s := DiffSummaryRecord{Schema: ReportDiffSummarySchema, A: d.A.Label, B: d.B.Label, AUntil: rpTime(d.A.Until),
		BUntil: rpTime(d.B.Until), Regressed: d.Regressed(), Changes: map[string]int{}}
	for _, c := range []string{ChangeStarted, ChangeStopped, ChangeNew, ChangeGone, ChangeVerdict, ChangeAppeared, ChangeDisappeared} {
		s.Changes[c] = 0
	}
	for _, r := range NewDiffRecords(d) {
		s.Changes[r.Change]++
	}
	return s
}

// WriteDiff writes a diff: jsonl (the changes, then the summary), csv
// (the changes) or the terminal table.
func WriteDiff(w io.Writer, f Format, d *readiness.Diff) error {
	recs := NewDiffRecords(d)
	switch f {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, r := range recs {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return enc.Encode(NewDiffSummaryRecord(d))
	case FormatCSV:
		rw := NewRowWriter(w, FormatCSV)
		if len(recs) == 0 {
			return writeHeader(rw, diffColumns)
		}
		for _, r := range recs {
			if err := rw.Write(r); err != nil {
				return err
			}
		}
		return rw.Flush()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Changes from %s (%s) to %s (%s)\n", d.A.Label, shortTime(d.A.Until), d.B.Label, shortTime(d.B.Until))
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s (%d)\n", title, len(lines))
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	eps := func(cs []readiness.Change, f func(readiness.Change) string) []string {
		var out []string
		for _, c := range cs {
			out = append(out, f(c))
		}
		return out
	}
	verdict := func(v readiness.Verdict) string {
		if v == "" {
			return "not listed"
		}
		return string(v)
	}
	section("REGRESSION: started accepting legacy TLS", eps(d.Started, func(c readiness.Change) string {
		return fmt.Sprintf("%s  now accepts %s (was %s)", c.Endpoint, c.Accepted, verdict(c.Before))
	}))
	section("Stopped accepting legacy TLS", eps(d.Stopped, func(c readiness.Change) string {
		return fmt.Sprintf("%s  %s → %s", c.Endpoint, verdict(c.Before), verdict(c.After))
	}))
	section("Newly scanned", eps(d.New, func(c readiness.Change) string {
		return fmt.Sprintf("%s  %s (%s legacy)", c.Endpoint, verdict(c.After), c.AfterStance)
	}))
	section("No longer scanned", eps(d.Gone, func(c readiness.Change) string {
		return fmt.Sprintf("%s  was %s", c.Endpoint, verdict(c.Before))
	}))
	section("Other verdict changes", eps(d.Verdicts, func(c readiness.Change) string {
		return fmt.Sprintf("%s  %s → %s", c.Endpoint, verdict(c.Before), verdict(c.After))
	}))
	cls := func(cs []readiness.ClientChange) []string {
		var out []string
		for _, c := range cs {
			out = append(out, fmt.Sprintf("%s → %s  %d legacy %s, last %s", c.Client, c.Endpoint, c.Connections,
				snPlural(int(c.Connections), "connection", "connections"), shortTime(c.Last)))
		}
		return out
	}
	section("Legacy clients that appeared", cls(d.Appeared))
	section("Legacy clients that disappeared", cls(d.Disappeared))
	if len(recs) == 0 {
		b.WriteString("\nNo change.\n")
	}
	if d.Regressed() {
		fmt.Fprintf(&b, "\n%d %s regressed: exit 1.\n", len(d.Started), snPlural(len(d.Started), "endpoint", "endpoints"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
