package output

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// SARIFSchemaURI is the $schema of the SARIF logs WriteSARIF writes: the
// OASIS SARIF 2.1.0 schema (errata 01).
const SARIFSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// The SARIF log written by WriteSARIF has one run whose tool.driver is
// tlsmap, with one rule per rule of the policy, and one result per
// violation (kind "fail", level "error") and per rule left undecided on
// an endpoint (kind "open", level "none": SARIF §3.27.9 wants "none" for
// every kind but "fail"). Each result's location is the endpoint: an
// artifactLocation whose uri is the canonical target
// ("tls://192.0.2.1:443") and a logicalLocation of kind "resource" with
// the same name. output/sarif_test.go validates the log against the
// official schema.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool   `json:"executionSuccessful"`
	StartTimeUTC        string `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string `json:"endTimeUtc,omitempty"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Kind       string          `json:"kind"`
	Level      string          `json:"level"`
	Message    sarifText       `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes the report as a SARIF 2.1.0 log.
func WriteSARIF(w io.Writer, r *GateReport) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "tlsmap", Version: r.ToolVersion,
			InformationURI: "https://github.com/tlsmap/tlsmap",
			Rules:          []sarifRule{},
		}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
		Results:     []sarifResult{},
		Properties:  map[string]any{"policy": r.Policy},
	}
	if !r.Started.IsZero() {
		run.Invocations[0].StartTimeUTC = r.Started.UTC().Format(time.RFC3339)
		run.Invocations[0].EndTimeUTC = r.Started.Add(r.Duration).UTC().Format(time.RFC3339)
	}
	index := map[string]int{}
	for i, id := range r.Rules {
		info, _ := policy.Rule(id)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: id, Name: id,
			ShortDescription:     sarifText{info.Short},
			Help:                 sarifText{info.Help},
			DefaultConfiguration: sarifRuleConfig{Level: "error"},
		})
		index[id] = i
	}
	for _, ep := range r.Endpoints {
		v := ep.Verdict
		target := v.Target.String()
		loc := []sarifLocation{{
			PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: target}},
			LogicalLocations: []sarifLogical{{Name: target, FullyQualifiedName: target, Kind: "resource"}},
		}}
		for i, c := range r.ruleCases(&v) {
			id := r.Rules[i]
			switch c.status {
			case policy.Fail:
				for _, x := range c.violations {
					props := map[string]any{}
					if x.Version != 0 {
						props["version"] = tls.Version(x.Version).String()
					}
					if x.HasSuite {
						props["suite"] = hex16(x.Suite)
					}
					res := sarifResult{
						RuleID: id, RuleIndex: index[id], Kind: "fail", Level: "error",
						Message: sarifText{fmt.Sprintf("%s: %s", target, x.Message)}, Locations: loc,
					}
					if len(props) > 0 {
						res.Properties = props
					}
					run.Results = append(run.Results, res)
				}
			case policy.Inconclusive:
				for _, u := range c.undecided {
					run.Results = append(run.Results, sarifResult{
						RuleID: id, RuleIndex: index[id], Kind: "open", Level: "none",
						Message:   sarifText{fmt.Sprintf("%s: inconclusive: %s", target, u.Reason)},
						Locations: loc,
					})
				}
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sarifLog{Schema: SARIFSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}); err != nil {
		return fmt.Errorf("output: sarif: %w", err)
	}
	return nil
}
