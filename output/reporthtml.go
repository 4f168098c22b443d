package output

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/store"
)

//go:embed report.html.tmpl
var reportTemplates embed.FS

var reportHTML = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"verdict":  VerdictLabel,
	"name":     endpointName,
	"time":     shortTime,
	"versions": func(e *readiness.Endpoint) string { return strings.Join(verStrings(e.Scan.Accepted), ", ") },
	"join":     func(s []string) string { return strings.Join(s, ", ") },
	"evidence": func(es []store.Evidence) string { return strings.Join(evStrings(es), ", ") },
	"negotiated": func(u *readiness.Usage) string {
		return negotiatedCell(u.Negotiated)
	},
	"cnegotiated": func(c *readiness.Client) string { return negotiatedCell(c.Negotiated) },
	"label":       func(u *readiness.Usage) string { return usageLabel(u.Labels, u.JA4, u.JA3) },
	"clabel":      func(c *readiness.Client) string { return usageLabel(c.Labels, c.JA4, c.JA3) },
	"offered":     func(u *readiness.Usage) string { return strings.Join(verStrings(u.Offered), ", ") },
	"coffered":    func(c *readiness.Client) string { return strings.Join(verStrings(c.Offered), ", ") },
	"suites":      func(c *readiness.Client) string { return more(hexes(c.OfferedCiphers), 12) },
	"gaps":        SourceGaps,
	"anchor":      anchor,
	"class":       func(v readiness.Verdict) string { return "v-" + string(v) },
	"trendChart":  overallChart,
	"epChart":     endpointChart,
	"verdictBar":  verdictBar,
	"count":       func(n int64) string { return strconv.FormatInt(n, 10) },
	"plural":      snPlural,
	"int":         func(n int64) int { return int(n) },
}).ParseFS(reportTemplates, "report.html.tmpl"))

// htmlReport is what the template reads.
type htmlReport struct {
	R         *readiness.Report
	Store     string
	Generated time.Time
	Verdicts  []verdictCount
}

type verdictCount struct {
	Verdict readiness.Verdict
	Label   string
	N       int
}

// WriteReportHTML writes the report as one self-contained HTML page (no
// script, no outside resource: the charts are inline SVG), with a print
// stylesheet. storeName names the store in the header.
func WriteReportHTML(w io.Writer, r *readiness.Report, storeName string, generated time.Time) error {
	h := htmlReport{R: r, Store: storeName, Generated: generated}
	for _, v := range readiness.Verdicts {
		h.Verdicts = append(h.Verdicts, verdictCount{v, strings.ReplaceAll(string(v), "-", " "), r.Summary.ByVerdict[v]})
	}
	return reportHTML.Execute(w, h)
}

func anchor(ep string) string {
	var b strings.Builder
	b.WriteString("ep-")
	for _, c := range ep {
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// verdictColors are the verdicts' colours (the CSS classes use the same).
var verdictColors = map[readiness.Verdict]string{
	readiness.Blocked:      "#c0392b",
	readiness.Unscanned:    "#8e44ad",
	readiness.Inconclusive: "#7f8c8d",
	readiness.NoEvidence:   "#d68910",
	readiness.Ready:        "#1e8449",
	readiness.Done:         "#2471a3",
}

// verdictBar is a horizontal bar of the endpoints by verdict.
func verdictBar(r *readiness.Report) template.HTML {
	total := 0
	for _, n := range r.Summary.ByVerdict {
		total += n
	}
	if total == 0 {
		return ""
	}
	const width, height = 720.0, 28.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="verdict-chart" role="img" aria-label="endpoints by verdict" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg">`, width, height, width, height)
	x := 0.0
	for _, v := range readiness.Verdicts {
		n := r.Summary.ByVerdict[v]
		if n == 0 {
			continue
		}
		wd := width * float64(n) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="%.1f" height="%.0f" fill="%s"><title>%s: %d</title></rect>`,
			x, wd, height, verdictColors[v], template.HTMLEscapeString(string(v)), n)
		if wd > 40 {
			fmt.Fprintf(&b, `<text x="%.1f" y="19" fill="#fff" font-size="13" text-anchor="middle">%d</text>`, x+wd/2, n)
		}
		x += wd
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// bars draws a bar chart of values over days, with an axis and labels.
func bars(id, aria string, days []store.Day, values []int64, width, height float64, small bool) template.HTML {
	var peak int64
	for _, v := range values {
		peak = max(peak, v)
	}
	left, bottom, top := 44.0, 22.0, 10.0
	if small {
		left, bottom, top = 4, 4, 4
	}
	plotW, plotH := width-left-4, height-bottom-top
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" role="img" aria-label="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" xmlns="http://www.w3.org/2000/svg">`,
		template.HTMLEscapeString(id), template.HTMLEscapeString(aria), width, height, width, height)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-width="1"/>`, left, top+plotH, left+plotW, top+plotH)
	if !small {
		if peak > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">%d</text>`, left-6, top+8, peak)
		} else {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#555">no legacy connection in the window</text>`, left+8, top+plotH/2+4)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#555">0</text>`, left-6, top+plotH)
	}
	n := len(values)
	if n > 0 {
		slot := plotW / float64(n)
		bw := max(1, slot*0.8)
		for i, v := range values {
			h := 0.0
			if peak > 0 {
				h = plotH * float64(v) / float64(peak)
			}
			x := left + float64(i)*slot + (slot-bw)/2
			day := ""
			if i < len(days) {
				day = days[i].String()
			}
			fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#c0392b"><title>%s: %d legacy</title></rect>`,
				x, top+plotH-h, bw, h, day, v)
		}
		if !small && len(days) > 0 {
			// A label every 48 pixels at most.
			step := max(1, int(math.Ceil(48*float64(n)/plotW)))
			for i := 0; i < n; i += step {
				x := left + float64(i)*slot + slot/2
				anchor := "middle"
				if x+16 > width {
					anchor = "end"
				}
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="%s" fill="#555">%s</text>`,
					x, height-6, anchor, days[i].Time().Format("01-02"))
			}
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func overallChart(r *readiness.Report) template.HTML {
	return bars("trend-chart", "legacy connections per day, all endpoints", r.Days, r.Overall, 720, 180, false)
}

func endpointChart(r *readiness.Report, e *readiness.Endpoint) template.HTML {
	vals := make([]int64, len(r.Days))
	for i, d := range e.Trend {
		if i < len(vals) {
			vals[i] = d.Count
		}
	}
	return bars("chart-"+anchor(e.Endpoint), "legacy connections per day to "+e.Endpoint, r.Days, vals, 360, 90, false)
}
