package output

import (
	"time"

	"github.com/tlsmap/tlsmap/policy"
)

// GateReport is a policy run over some endpoints, as the JUnit and SARIF
// renderers write it: both are written once, at the end of the run.
type GateReport struct {
	// Policy is the policy's name; Rules the rules it checks
	// (policy.Policy.RuleIDs), which become the report's test cases and
	// SARIF rules.
	Policy string
	Rules  []string
	// ToolVersion is tlsmap's version ("dev" for a development build).
	ToolVersion string
	// Hostname is the machine that ran the scan ("localhost" when
	// unknown).
	Hostname string
	Started  time.Time
	Duration time.Duration
	// Endpoints are the verdicts, in the order to report them.
	Endpoints []GateEndpoint
}

// GateEndpoint is one endpoint's verdict and how long its scan took.
type GateEndpoint struct {
	Verdict  policy.Verdict
	Duration time.Duration
}

// ruleCase is what a report says about one (endpoint, rule).
type ruleCase struct {
	status     policy.Status
	violations []policy.Violation
	undecided  []policy.Undecided
}

// ruleCases returns, for each rule of the report, what the endpoint's
// verdict says about it. On an endpoint that was not scanned to the end
// (rule "reachable" undecided) no rule passes: the rules without a
// violation or a reason of their own are inconclusive for the endpoint's
// reason.
func (r *GateReport) ruleCases(v *policy.Verdict) []ruleCase {
	_, _, reach := v.RuleOutcome(policy.RuleReachable)
	cases := make([]ruleCase, 0, len(r.Rules))
	for _, id := range r.Rules {
		st, vs, us := v.RuleOutcome(id)
		if st == policy.Pass && len(reach) > 0 {
			st, us = policy.Inconclusive, reach
		}
		cases = append(cases, ruleCase{status: st, violations: vs, undecided: us})
	}
	return cases
}

func secs(d time.Duration) float64 { return d.Seconds() }
