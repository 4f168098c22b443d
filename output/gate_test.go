package output

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// santhosh-tekuri/jsonschema/v6 validates against drafts 4 to 2020-12
	// (the SARIF schema is draft-04), checks "format" (uri, date-time)
	// when asked, loads nothing from the network unless told to, and has
	// no dependencies outside golang.org/x/text.
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// gateFixture is a report over four endpoints: one passing, one failing
// two rules, one inconclusive on a rule, one unreachable.
func gateFixture(t *testing.T) *GateReport {
	t.Helper()
	p, err := policy.Profile("modern")
	if err != nil {
		t.Fatal(err)
	}
	target := func(port uint16) scan.Target {
		return scan.Target{Protocol: scan.ProtoTLS, Addr: "192.0.2.1", Port: port, Host: "example.com"}
	}
	versions := func(accept map[tls.Version][]uint16) []scan.VersionResult {
		var vs []scan.VersionResult
		for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
			vr := scan.VersionResult{Version: v, Outcome: scan.Rejected, Reason: "alert protocol_version", Suites: []uint16{}}
			if s, ok := accept[v]; ok {
				vr.Outcome, vr.Reason, vr.Suites = scan.Accepted, "", s
			}
			vs = append(vs, vr)
		}
		return vs
	}
	sslv2 := &scan.SSLv2Result{Outcome: scan.Rejected}
	pass := &scan.Result{Target: target(443), Status: scan.StatusOK, SSLv2: sslv2,
		Versions: versions(map[tls.Version][]uint16{tls.VersionTLS12: {0xC02F}, tls.VersionTLS13: {0x1301}})}
	fail := &scan.Result{Target: target(8443), Status: scan.StatusOK, SSLv2: sslv2,
		Versions: versions(map[tls.Version][]uint16{tls.VersionTLS10: {0x002F}, tls.VersionTLS12: {0xC02F, 0x009C}})}
	incon := &scan.Result{Target: target(9443), Status: scan.StatusOK, SSLv2: sslv2,
		Versions: versions(map[tls.Version][]uint16{tls.VersionTLS12: {0xC02F}})}
	incon.Version(tls.VersionTLS11).Outcome = scan.Inconclusive
	incon.Version(tls.VersionTLS11).Reason = "timeout after 5s <&\"'>" // escaping
	down := &scan.Result{Target: target(1), Status: scan.StatusUnreachable, Error: scan.Failure{Stage: scan.StageDial, Reason: "connection refused"}}
	r := &GateReport{
		Policy: p.Name, Rules: p.RuleIDs(), ToolVersion: "test", Hostname: "ci-runner",
		Started: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Duration: 2500 * time.Millisecond,
	}
	for _, res := range []*scan.Result{pass, fail, incon, down} {
		r.Endpoints = append(r.Endpoints, GateEndpoint{Verdict: policy.Evaluate(p, res), Duration: time.Second})
	}
	want := []policy.Status{policy.Pass, policy.Fail, policy.Inconclusive, policy.Inconclusive}
	for i, ep := range r.Endpoints {
		if ep.Verdict.Status != want[i] {
			t.Fatalf("fixture endpoint %d: %s, want %s (%+v)", i, ep.Verdict.Status, want[i], ep.Verdict)
		}
	}
	return r
}

// ValidateJUnit checks a JUnit report against testdata/schema/JUnit.xsd
// with xmllint (skipped loudly without it, failed in CI).
func validateJUnit(t *testing.T, doc []byte) {
	t.Helper()
	xmllint := testenv.NeedProgram(t, "xmllint")
	f := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(f, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "schema", "JUnit.xsd"), f).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, doc)
	}
}

// validateSARIF checks a SARIF log against the official 2.1.0 schema.
func validateSARIF(t *testing.T, doc []byte) {
	t.Helper()
	if err := sarifSchema(t).Validate(mustJSON(t, doc)); err != nil {
		t.Fatalf("SARIF log does not validate: %v\n%s", err, doc)
	}
}

func mustJSON(t *testing.T, doc []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "schema", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SARIFSchemaURI, mustJSON(t, raw)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(SARIFSchemaURI)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, gateFixture(t)); err != nil {
		t.Fatal(err)
	}
	validateJUnit(t, b.Bytes())

	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	s := doc.Suites[0]
	rules := len(gateFixture(t).Rules)
	if s.Tests != 4*rules || len(s.Cases) != s.Tests {
		t.Errorf("tests %d, cases %d, want %d", s.Tests, len(s.Cases), 4*rules)
	}
	// fail: min-version, require-aead (0x009C is GCM but no PFS → require-pfs).
	if s.Failures != 2 || s.Errors != 1 || s.Skipped != 1+(rules-1) {
		t.Errorf("failures %d errors %d skipped %d", s.Failures, s.Errors, s.Skipped)
	}
	text := b.String()
	for _, want := range []string{
		`classname="tls://192.0.2.1:8443"`, `<failure message="accepts TLSv1.0 (the minimum is TLSv1.2)" type="min-version">`,
		`type="unreachable"`, `<skipped message="inconclusive: TLSv1.1 is inconclusive (timeout after 5s &lt;&amp;&#34;&#39;&gt;)"`,
		`timestamp="2026-03-01T12:00:00"`, `hostname="ci-runner"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("JUnit lacks %s:\n%s", want, text)
		}
	}
}

func TestSARIF(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, gateFixture(t)); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, b.Bytes())

	var log sarifLog
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "tlsmap" || len(run.Tool.Driver.Rules) != len(gateFixture(t).Rules) {
		t.Errorf("driver %+v", run.Tool.Driver)
	}
	kinds := map[string]int{}
	for _, r := range run.Results {
		kinds[r.Kind+"/"+r.Level]++
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s has ruleIndex %d", r.RuleID, r.RuleIndex)
		}
		if len(r.Locations) != 1 || !strings.HasPrefix(r.Locations[0].PhysicalLocation.ArtifactLocation.URI, "tls://192.0.2.1:") {
			t.Errorf("locations %+v", r.Locations)
		}
	}
	if kinds["fail/error"] != 2 || kinds["open/none"] == 0 {
		t.Errorf("result kinds %v", kinds)
	}

	// The validator is not a rubber stamp.
	broken := strings.Replace(b.String(), `"level": "error"`, `"level": "fatal"`, 1)
	if err := sarifSchema(t).Validate(mustJSON(t, []byte(broken))); err == nil {
		t.Error("a log with level \"fatal\" validated")
	}
}

func TestJUnitSchemaRejects(t *testing.T) {
	xmllint := testenv.NeedProgram(t, "xmllint")
	f := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(f, []byte(`<testsuites><testsuite name="x"/></testsuites>`), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "schema", "JUnit.xsd"), f).CombinedOutput(); err == nil {
		t.Errorf("an invalid report validated: %s", out)
	}
}
