package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// The policy gate of `tlsmap scan` (docs/policies.md): --policy judges
// every endpoint against a profile or a policy file, --gate stops an
// endpoint's scan at its first violation, --format junit|sarif writes the
// verdicts as a report at the end. runScan registers the flags
// (addPolicyFlags), loads the gate and feeds it every result; the exit
// status follows the verdicts (exitCode, docs/exit-codes.md).

// Report formats only the policy gate writes (with --policy); the others
// are output's (formatFlag reads both).
const (
	formatJUnit = "junit"
	formatSARIF = "sarif"
)

// policyFlags are the flags of the policy gate.
type policyFlags struct {
	spec string // --policy NAME|FILE
	gate bool   // --gate
	list bool   // --list-policies
}

// addPolicyFlags registers --policy, --gate and --list-policies on fs.
func addPolicyFlags(fs *flag.FlagSet) *policyFlags {
	pf := new(policyFlags)
	fs.StringVar(&pf.spec, "policy", "", "judge every target against `NAME|FILE`: a built-in profile ("+
		strings.Join(policy.ProfileNames(), ", ")+") or a YAML/JSON policy file (docs/policies.md); exit 1 on a violation")
	fs.BoolVar(&pf.gate, "gate", false, "with --policy: stop probing a target at its first violation (fewest connections; what is left is \"stopped by --gate\")")
	fs.BoolVar(&pf.list, "list-policies", false, "print the built-in policy profiles with their rules, and exit")
	return pf
}

// notEnumerated is the policy.Options.NotEnumerated of a scan with
// --versions-only and --ciphers: nil when every version's suites are
// enumerated.
func notEnumerated(versionsOnly bool, suitesFor []tls.Version) func(tls.Version) bool {
	switch {
	case versionsOnly:
		return func(tls.Version) bool { return true }
	case suitesFor != nil:
		return func(v tls.Version) bool { return !slices.Contains(suitesFor, v) }
	}
	return nil
}

// load returns the gate for the parsed flags, nil without --policy:
// report is the --format report (junit, sarif or ""), notEnumerated says
// which versions' suites the scan does not enumerate.
func (pf *policyFlags) load(report string, notEnumerated func(tls.Version) bool) (*policyGate, error) {
	if pf.spec == "" {
		switch {
		case pf.gate:
			return nil, errors.New("--gate needs --policy (e.g. --policy tls12-min --gate)")
		case report != "":
			return nil, fmt.Errorf("--format %s needs --policy: the report is the policy's verdicts", report)
		}
		return nil, nil
	}
	p, err := policy.Load(pf.spec)
	if err != nil {
		return nil, &policyLoadError{err}
	}
	return &policyGate{policy: p, report: report, gate: pf.gate, notEnumerated: notEnumerated, started: time.Now()}, nil
}

// policyLoadError is a policy that cannot be loaded; its message carries
// the hint line scan prints after it.
type policyLoadError struct{ err error }

func (e *policyLoadError) Error() string {
	hint := "docs/policies.md lists the keys and values of a policy file"
	if errors.Is(e.err, policy.ErrUnknownProfile) {
		hint = "run 'tlsmap scan --list-policies' for the built-in profiles, or give a .yaml or .json file (docs/policies.md)"
	}
	return e.err.Error() + "\nhint: " + hint
}

func (e *policyLoadError) Unwrap() error { return e.err }

// listPolicies prints the built-in profiles and their rules.
func listPolicies(w io.Writer) int {
	for i, p := range policy.Profiles() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n  %s\n", p.Name, p.Description)
		for _, line := range p.Describe() {
			fmt.Fprintf(w, "  - %s\n", line)
		}
	}
	return exitOK
}

// policyGate evaluates the stream of scan results against a policy. Check
// is called from scan's one collector goroutine, Finish once at the end.
type policyGate struct {
	policy        *policy.Policy
	report        string // junit, sarif, or "" (verdicts on stderr only)
	gate          bool
	notEnumerated func(tls.Version) bool
	started       time.Time
	endpoints     []output.GateEndpoint
}

// Configure sets scan options the policy needs: the --gate callback.
func (g *policyGate) Configure(opts *scan.Options) {
	if g.gate {
		opts.Gate = g.policy.Gate()
	}
}

// Judge judges one endpoint once (policy.Judge): its findings, which the
// scan's report writes, and with a gate (g not nil) the verdict over the
// same findings, which the gate records.
func (g *policyGate) Judge(r *scan.Result) policy.Judgement {
	if g == nil {
		return policy.Judge(r, nil, policy.Options{})
	}
	j := policy.Judge(r, g.policy, policy.Options{NotEnumerated: g.notEnumerated})
	g.endpoints = append(g.endpoints, output.GateEndpoint{Verdict: *j.Verdict, Duration: r.Duration})
	return j
}

// verdicts returns the verdicts so far.
func (g *policyGate) verdicts() []policy.Verdict {
	vs := make([]policy.Verdict, 0, len(g.endpoints))
	for _, ep := range g.endpoints {
		vs = append(vs, ep.Verdict)
	}
	return vs
}

// Report returns the JUnit/SARIF report, endpoints sorted by target.
func (g *policyGate) Report() *output.GateReport {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	eps := slices.Clone(g.endpoints)
	slices.SortStableFunc(eps, func(a, b output.GateEndpoint) int {
		return cmp.Compare(a.Verdict.Target.String(), b.Verdict.Target.String())
	})
	return &output.GateReport{
		Policy: g.policy.Name, Rules: g.policy.RuleIDs(), ToolVersion: version, Hostname: host,
		Started: g.started, Duration: time.Since(g.started), Endpoints: eps,
	}
}

// writeReport writes the report in format (junit or sarif).
func writeReport(w io.Writer, format string, r *output.GateReport) error {
	switch format {
	case formatJUnit:
		return output.WriteJUnit(w, r)
	case formatSARIF:
		return output.WriteSARIF(w, r)
	}
	return fmt.Errorf("unknown report format %q", format)
}

// Finish writes the report (with --format junit or sarif) to stdout and
// the verdicts to stderr, and returns the exit code of the verdicts
// (exitCode), or scanExitUsage when the report could not be written.
func (g *policyGate) Finish(stdout, stderr io.Writer) int {
	if g.report != "" {
		if err := writeReport(stdout, g.report, g.Report()); err != nil {
			fmt.Fprintf(stderr, "error: scan: writing the %s report: %v\n", g.report, err)
			return scanExitUsage
		}
	}
	vs := g.verdicts()
	counts := map[policy.Status]int{}
	for _, ep := range g.Report().Endpoints {
		v := ep.Verdict
		counts[v.Status]++
		if v.Status == policy.Pass {
			continue
		}
		fmt.Fprintf(stderr, "policy %s: %s: %s\n", g.policy.Name, v.Target, v.Status)
		for _, x := range v.Violations {
			fmt.Fprintf(stderr, "  %s: %s\n", x.Rule, x.Message)
		}
		if v.Status == policy.Inconclusive {
			for _, u := range v.Inconclusive {
				fmt.Fprintf(stderr, "  %s: inconclusive: %s\n", u.Rule, u.Reason)
			}
		}
	}
	fmt.Fprintf(stderr, "tlsmap: policy %s: %d pass, %d fail, %d inconclusive\n",
		g.policy.Name, counts[policy.Pass], counts[policy.Fail], counts[policy.Inconclusive])
	return exitCode(vs)
}

// exitCode is the policy gate's exit code for verdicts: 1
// (scanExitViolation) when any endpoint fails, else 2
// (scanExitIncomplete) when any is inconclusive or there is none, else 0.
func exitCode(verdicts []policy.Verdict) int {
	if len(verdicts) == 0 {
		return scanExitIncomplete
	}
	code := scanExitPass
	for _, v := range verdicts {
		switch v.Status {
		case policy.Fail:
			return scanExitViolation
		case policy.Inconclusive:
			code = scanExitIncomplete
		}
	}
	return code
}
