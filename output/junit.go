package output

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/tlsmap/tlsmap/policy"
)

// The JUnit XML written by WriteJUnit follows the schema most CI systems
// read (Apache Ant's JUnit report, as the widely used JUnit.xsd of
// windyroad/JUnit-Schema describes it; output/junit_test.go validates
// against it): one <testsuite> for the run inside <testsuites>, one
// <testcase> per endpoint and rule, classname the endpoint and name the
// rule ID.
//
//	pass                         an empty testcase
//	violation                    <failure type="RULE" message="first violation">all of them</failure>
//	rule undecided on some part  <skipped message="why"/>
//	endpoint not scanned         <error type="unreachable"|"inconclusive" message="why"/> on its
//	                             "reachable" case, <skipped/> on its other rules

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Name       string          `xml:"name,attr"`
	Timestamp  string          `xml:"timestamp,attr"` // no time zone: the schema's pattern; UTC
	Hostname   string          `xml:"hostname,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties junitProperties `xml:"properties"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperties struct {
	Props []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitSkipped `xml:"skipped"`
	Error     *junitProblem `xml:"error"`
	Failure   *junitProblem `xml:"failure"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML.
func WriteJUnit(w io.Writer, r *GateReport) error {
	host := r.Hostname
	if host == "" {
		host = "localhost"
	}
	s := junitSuite{
		Package:   "tlsmap",
		Name:      "tlsmap policy " + r.Policy,
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
		Hostname:  host,
		Time:      fmt.Sprintf("%.3f", secs(r.Duration)),
		Properties: junitProperties{Props: []junitProperty{
			{"policy", r.Policy},
			{"tool", "tlsmap " + r.ToolVersion},
			{"endpoints", fmt.Sprint(len(r.Endpoints))},
		}},
	}
	for _, ep := range r.Endpoints {
		v := ep.Verdict
		target := v.Target.String()
		for i, c := range r.ruleCases(&v) {
			tc := junitCase{Name: r.Rules[i], Classname: target, Time: "0"}
			if r.Rules[i] == policy.RuleReachable {
				tc.Time = fmt.Sprintf("%.3f", secs(ep.Duration))
			}
			switch {
			case c.status == policy.Fail:
				var lines []string
				for _, x := range c.violations {
					lines = append(lines, x.Message)
				}
				tc.Failure = &junitProblem{Type: r.Rules[i], Message: c.violations[0].Message, Text: strings.Join(lines, "\n")}
				s.Failures++
			case c.status == policy.Inconclusive && r.Rules[i] == policy.RuleReachable:
				typ := "inconclusive"
				if strings.HasPrefix(c.undecided[0].Reason, "unreachable") {
					typ = "unreachable"
				}
				tc.Error = &junitProblem{Type: typ, Message: c.undecided[0].Reason, Text: reasons(c.undecided)}
				s.Errors++
			case c.status == policy.Inconclusive:
				tc.Skipped = &junitSkipped{Message: "inconclusive: " + strings.Join(reasonList(c.undecided), "; ")}
				s.Skipped++
			}
			s.Cases = append(s.Cases, tc)
		}
	}
	s.Tests = len(s.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return fmt.Errorf("output: junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func reasonList(us []policy.Undecided) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.Reason)
	}
	return out
}

func reasons(us []policy.Undecided) string { return strings.Join(reasonList(us), "\n") }
