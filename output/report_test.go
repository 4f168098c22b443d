package output

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/store"
)

// fixtureReport is a readiness report with something in every field: a
// blocked endpoint with two clients (one through a balancer, one from a
// log), a ready one, one without evidence, a done one, two evidence
// sources (one interrupted, with gaps).
func fixtureReport() *readiness.Report {
	day := store.DayOf(t0)
	days := []store.Day{day - 2, day - 1, day}
	vs := func(accepted ...tls.Version) []store.VersionOutcome {
		var out []store.VersionOutcome
		for _, v := range []tls.Version{tls.VersionSSL20, tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
			o := "rejected"
			for _, a := range accepted {
				if a == v {
					o = "accepted"
				}
			}
			out = append(out, store.VersionOutcome{Version: v, Outcome: o})
		}
		return out
	}
	scan := func(host string, accepted ...tls.Version) *readiness.Scan {
		s := &readiness.Scan{Run: 1, RunName: "weekly", Target: "https://" + host + ":443", Host: host, Protocol: "https",
			Status: "ok", Scanned: t0, Versions: vs(accepted...)}
		s.Stance, s.Accepted, s.Undecided = readiness.ScanStance(s.Status, s.Versions)
		return s
	}
	modern := []tls.Version{tls.VersionTLS12, tls.VersionTLS13}
	legacy := append([]tls.Version{tls.VersionTLS10, tls.VersionTLS11}, modern...)
	a := &readiness.Usage{Client: "192.0.2.21", Via: []string{"198.51.100.1"}, Connections: 5, First: t0.Add(-48 * time.Hour), Last: t0,
		Reasons: store.LegacyNegotiated | store.LegacyOffered, Negotiated: map[tls.Version]int64{tls.VersionTLS10: 4, 0: 1},
		Offered: []tls.Version{tls.VersionTLS10}, Ciphers: []uint16{0xC014}, SNIs: []string{"shop.example"}, Protocols: []string{"https"},
		Evidence: []store.Evidence{store.EvidenceCapture}, JA3: []string{"4e9d43688ef48b6b1fbe71f290acfc8f"},
		JA4: []string{"t10d230600_44099cda8a52_195413a0cc0f"}, Labels: []string{"Python 3.6 (TLS 1.0)"}}
	b := &readiness.Usage{Client: "192.0.2.22", Connections: 2, First: t0.Add(-time.Hour), Last: t0.Add(-time.Hour),
		Reasons: store.LegacyNegotiated, Negotiated: map[tls.Version]int64{tls.VersionTLS11: 2}, Offered: []tls.Version{},
		Evidence: []store.Evidence{store.EvidenceLog}, Protocols: []string{"https"}}
	blocked := &readiness.Endpoint{Endpoint: "192.0.2.10:443", Scan: scan("shop.example", legacy...),
		Coverage: readiness.Coverage{TLS: 40, Legacy: 7, Unread: 3, Sources: 2, Evidence: []store.Evidence{store.EvidenceCapture, store.EvidenceLog},
			First: t0.Add(-48 * time.Hour), Last: t0},
		Clients: []*readiness.Usage{a, b}, LegacyConnections: 7, LastLegacy: t0,
		Trend: []readiness.DayCount{{Day: days[0], Count: 1}, {Day: days[1], Count: 0}, {Day: days[2], Count: 6}}}
	ready := &readiness.Endpoint{Endpoint: "192.0.2.11:993", Scan: scan("mail.example", legacy...),
		Coverage: readiness.Coverage{TLS: 12, Sources: 1, Evidence: []store.Evidence{store.EvidenceCapture}, First: t0.Add(-time.Hour), Last: t0}}
	none := &readiness.Endpoint{Endpoint: "192.0.2.12:443", Scan: scan("old.example", legacy...)}
	done := &readiness.Endpoint{Endpoint: "[2001:db8::13]:443", Scan: scan("www.example", modern...),
		Coverage: readiness.Coverage{TLS: 5, Legacy: 1, Sources: 1, Evidence: []store.Evidence{store.EvidenceCapture}, First: t0, Last: t0},
		Clients: []*readiness.Usage{{Client: "192.0.2.21", Connections: 1, First: t0, Last: t0, Reasons: store.LegacyOffered,
			Negotiated: map[tls.Version]int64{0: 1}, Offered: []tls.Version{tls.VersionTLS10}, Evidence: []store.Evidence{store.EvidenceCapture}}},
		LegacyConnections: 1, LastLegacy: t0, Trend: []readiness.DayCount{{Day: days[0]}, {Day: days[1]}, {Day: days[2], Count: 1}}}
	r := &readiness.Report{From: days[0], To: days[2], AsOf: t0.Add(time.Hour), Days: days, Overall: []int64{1, 0, 7},
		Endpoints: []*readiness.Endpoint{blocked, ready, none, done}}
	for _, e := range r.Endpoints {
		readiness.Decide(e)
	}
	r.Clients = []*readiness.Client{
		{Client: "192.0.2.21", Via: []string{"198.51.100.1"}, Endpoints: []string{"192.0.2.10:443", "[2001:db8::13]:443"}, Connections: 6,
			First: t0.Add(-48 * time.Hour), Last: t0, Reasons: store.LegacyNegotiated | store.LegacyOffered,
			Negotiated: map[tls.Version]int64{tls.VersionTLS10: 4, 0: 2}, Offered: []tls.Version{tls.VersionTLS10},
			OfferedCiphers: []uint16{0xC014, 0x002F, 0x00FF}, Ciphers: []uint16{0xC014}, SNIs: []string{"shop.example"},
			Protocols: []string{"https"}, Evidence: []store.Evidence{store.EvidenceCapture}, JA3: a.JA3, JA4: a.JA4, Labels: a.Labels},
		{Client: "192.0.2.22", Endpoints: []string{"192.0.2.10:443"}, Connections: 2, First: b.First, Last: b.Last,
			Reasons: store.LegacyNegotiated, Negotiated: map[tls.Version]int64{tls.VersionTLS11: 2}, Evidence: []store.Evidence{store.EvidenceLog}},
	}
	r.Sources = []store.Source{
		{ID: 1, Kind: store.KindCapture, Name: "span-monday.pcap", Content: strings.Repeat("ab", 32), State: store.StateComplete,
			FirstSeen: t0.Add(-48 * time.Hour), LastSeen: t0, Records: 45,
			Stats: json.RawMessage(`{"schema":"tlsmap.sniff.summary/1","packets":900,"complete":false,"gaps":[{"kind":"not-decoded","count":4,"by":{"ethertype 0x0806 (ARP)":4}},{"kind":"mid-stream","count":3,"by":{}}]}`)},
		{ID: 2, Kind: store.KindLog, Name: "access.log", Content: strings.Repeat("cd", 32), State: store.StateInterrupted,
			FirstSeen: t0.Add(-time.Hour), LastSeen: t0.Add(-time.Hour), Records: 2, Stats: json.RawMessage(`{"Lines":10,"Malformed":1}`)},
	}
	r.Summary = readiness.Summary{ByVerdict: map[readiness.Verdict]int{readiness.Blocked: 1, readiness.Ready: 1, readiness.NoEvidence: 1, readiness.Done: 1},
		Endpoints: 4, LegacyClients: 2, LegacyConnections: 8, Unlisted: 3, UnreachableUnlisted: 1, Sources: 2, Incomplete: 1}
	return r
}

func fixtureDiff() *readiness.Diff {
	return &readiness.Diff{
		A:        readiness.Point{Label: "before", Run: "before", Until: t0},
		B:        readiness.Point{Label: "after", Run: "after", Until: t0.Add(time.Hour)},
		Started:  []readiness.Change{{Endpoint: "192.0.2.13:443", Before: readiness.Done, After: readiness.Blocked, BeforeStance: readiness.Refuses, AfterStance: readiness.Accepts, Accepted: "TLSv1.0"}},
		Stopped:  []readiness.Change{{Endpoint: "192.0.2.11:993", Before: readiness.Ready, After: readiness.Done, BeforeStance: readiness.Accepts, AfterStance: readiness.Refuses}},
		Appeared: []readiness.ClientChange{{Client: "192.0.2.30", Endpoint: "192.0.2.13:443", Connections: 2, Last: t0}},
	}
}

func renderReport(t *testing.T, f Format, view ReportView) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteReport(&b, f, view, fixtureReport()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReportGolden(t *testing.T) {
	golden(t, filepath.Join("report", "report.table.golden"), renderReport(t, FormatTable, ViewAll))
	golden(t, filepath.Join("report", "report.jsonl.golden"), renderReport(t, FormatJSONL, ViewAll))
	golden(t, filepath.Join("report", "endpoints.csv.golden"), renderReport(t, FormatCSV, ViewEndpoints))
	golden(t, filepath.Join("report", "clients.csv.golden"), renderReport(t, FormatCSV, ViewClients))
	golden(t, filepath.Join("report", "trend.csv.golden"), renderReport(t, FormatCSV, ViewTrend))
	for _, f := range []Format{FormatTable, FormatJSONL, FormatCSV} {
		var b bytes.Buffer
		if err := WriteDiff(&b, f, fixtureDiff()); err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("report", "diff."+f.String()+".golden"), b.Bytes())
	}
}

// TestReportVerdictWords: the table says each verdict, the blockers'
// count, and what the evidence could not see.
func TestReportVerdictWords(t *testing.T) {
	out := string(renderReport(t, FormatTable, ViewAll))
	for _, want := range []string{
		"192.0.2.10:443 (shop.example)     blocked by 2",
		"192.0.2.12:443 (old.example)      no evidence",
		"no capture or log saw it in the window",
		"no legacy client among 12 TLS connections seen",
		"192.0.2.21 via 198.51.100.1",
		"Evidence: 2 sources in the window, 1 of them not read to their end",
		"capture span-monday.pcap (complete): not-decoded 4, mid-stream 3",
		"log access.log (interrupted): Malformed 1",
		"Not listed: 3 server endpoints seen in the evidence",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
}

// TestReportSchemaDocumented checks the JSON Lines of a report and of a
// diff against the field tables of docs/schema/report.md, both ways and
// per schema: every documented field is written (with its type), every
// field written is documented.
func TestReportSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "schema", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	heading := regexp.MustCompile("^#+ `(tlsmap\\.report[a-z.]*/1)`")
	row := regexp.MustCompile("^\\| `([a-z0-9_.\\[\\]]+)` \\| ([a-z\\[\\]{}:, ]+) \\|")
	documented := map[string]map[string]string{}
	schema := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			schema = m[1]
			documented[schema] = map[string]string{}
			continue
		}
		if m := row.FindStringSubmatch(line); m != nil && schema != "" {
			documented[schema][m[1]] = strings.TrimSpace(m[2])
		}
	}
	for _, s := range []string{ReportSchema, ReportClientSchema, ReportDaySchema, ReportSourceSchema, ReportSummarySchema, ReportDiffSchema, ReportDiffSummarySchema} {
		if len(documented[s]) < 4 {
			t.Fatalf("docs/schema/report.md documents %d fields of %s", len(documented[s]), s)
		}
	}
	var diff bytes.Buffer
	if err := WriteDiff(&diff, FormatJSONL, fixtureDiff()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[string]map[string]bool{} // schema → path → kinds
	for _, rec := range append(decodeJSONL(t, renderReport(t, FormatJSONL, ViewAll)), decodeJSONL(t, diff.Bytes())...) {
		s := rec["schema"].(string)
		if seen[s] == nil {
			seen[s] = map[string]map[string]bool{}
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			if seen[s][path] == nil {
				seen[s][path] = map[string]bool{}
			}
			switch x := v.(type) {
			case map[string]any:
				seen[s][path]["object"] = true
				if typ := documented[s][path]; strings.HasPrefix(typ, "{") || path == "stats" {
					return // a map: its keys are data
				}
				for k, e := range x {
					p := k
					if path != "" {
						p = path + "." + k
					}
					walk(p, e)
				}
			case []any:
				seen[s][path]["array"] = true
				for _, e := range x {
					walk(path+"[]", e)
				}
			case string:
				seen[s][path]["string"] = true
			case float64:
				seen[s][path]["number"] = true
			case bool:
				seen[s][path]["bool"] = true
			case nil:
				seen[s][path]["null"] = true
			}
		}
		walk("", rec)
		delete(seen[s], "")
	}
	kindOf := map[string]string{"string": "string", "int": "number", "bool": "bool", "object": "object", "[string]": "array", "[object]": "array"}
	for s, fields := range documented {
		for f, typ := range fields {
			kinds, ok := seen[s][f]
			if !ok {
				t.Errorf("%s: documented field %s is not in the output", s, f)
				continue
			}
			base, nullable := strings.CutSuffix(typ, " or null")
			want := kindOf[base]
			if strings.HasPrefix(base, "{") {
				want = "object"
			}
			for k := range kinds {
				if k != want && !(nullable && k == "null") {
					t.Errorf("%s: field %s documented as %s, written as %s", s, f, typ, k)
				}
			}
		}
		for f, kinds := range seen[s] {
			if _, ok := fields[f]; ok {
				continue
			}
			if parent, ok := strings.CutSuffix(f, "[]"); ok && (fields[parent] == "[string]" && kinds["string"] || fields[parent] == "[object]") {
				continue
			}
			t.Errorf("%s: output field %s is not documented in docs/schema/report.md", s, f)
		}
	}
}

// TestReportHTML: the page is one self-contained document: no script, no
// outside resource; the readiness table, the charts, a section per
// endpoint and the print stylesheet are there.
func TestReportHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReportHTML(&b, fixtureReport(), "tlsmap.db", t0); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, bad := range []string{"<script", "<link", "<img", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "#") {
			t.Errorf("the page links outside itself: %s", m[1])
		}
	}
	for _, want := range []string{
		`<table id="readiness">`, `<tr data-verdict="blocked">`, `<tr data-verdict="no-evidence">`, `<svg class="chart" id="trend-chart"`,
		`<svg class="chart" id="verdict-chart"`, `<section class="endpoint" id="ep-192-0-2-10-443">`, `@media print`,
		`blocked by 2`, `192.0.2.21 via 198.51.100.1`, `<table id="sources">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// One bar per day in the trend, and in each endpoint's chart.
	if n := strings.Count(page, `<rect class="bar"`); n != 3*(1+4) {
		t.Errorf("%d bars, want %d", n, 3*5)
	}
}
