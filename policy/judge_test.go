package policy

import (
	"reflect"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// TestJudgeLinksViolationsToFindings: a violation names the findings that
// judged its fact (TLS 1.0 accepted: the tls10 finding; RC4 accepted at
// TLS 1.2: rc4-suites; the untrusted chain: cert-untrusted), and none when
// no finding judges it (a forbidden TLS 1.3); a finding of
// another fact is not named (3DES under an RC4 rule).
func TestJudgeLinksViolationsToFindings(t *testing.T) {
	r := result(t, map[tls.Version][]string{
		tls.VersionTLS10: {"AES128-SHA"},
		tls.VersionTLS12: {"ECDHE-RSA-AES128-GCM-SHA256", "RC4-SHA", "DES-CBC3-SHA"},
		tls.VersionTLS13: {"TLS_AES_128_GCM_SHA256"},
	})
	r.Cert = &scan.CertInfo{Verified: false, VerifyError: "x509: certificate signed by unknown authority", HostnameMatch: true,
		Chain: []scan.CertSummary{{KeyType: "RSA", KeyBits: 2048, DaysToExpiry: 90}}}
	p := &Policy{Name: "t", MinVersion: tls.VersionTLS12, ForbiddenVersions: []tls.Version{tls.VersionTLS13}, ForbiddenSuites: mustRules("rc4"), RequireTrustedCert: true}
	j := Judge(r, p, Options{})

	if want := Findings(r); !reflect.DeepEqual(j.Findings, want) {
		t.Errorf("Judge's findings differ from Findings:\n%+v\n%+v", j.Findings, want)
	}
	plain := Evaluate(p, r)
	got := *j.Verdict
	got.Violations = slices.Clone(got.Violations)
	for i := range got.Violations {
		got.Violations[i].Findings = nil
	}
	if !reflect.DeepEqual(got, plain) {
		t.Errorf("Judge's verdict differs from Evaluate's:\n%+v\n%+v", got, plain)
	}

	linked := map[string][]FindingID{}
	for _, x := range j.Verdict.Violations {
		linked[x.Version.String()+" "+x.Rule] = append(linked[x.Version.String()+" "+x.Rule], x.Findings...)
	}
	for key, want := range map[string][]FindingID{
		"TLSv1.0 " + RuleMinVersion:       {FindingTLS10},
		"TLSv1.3 " + RuleForbiddenVersion: nil,
		"0x0000 " + RuleCertTrusted:       {FindingCertUntrusted},
		"TLSv1.2 " + RuleForbiddenSuite:   {FindingRC4Suites, FindingSomeNoPFS}, // RC4-SHA, not DES-CBC3-SHA's 3des-suites
	} {
		if got, ok := linked[key]; !ok || !slices.Equal(got, want) {
			t.Errorf("%s: findings %v (violation seen: %v), want %v", key, got, ok, want)
		}
	}
	if j2 := Judge(r, nil, Options{}); j2.Verdict != nil || !reflect.DeepEqual(j2.Findings, j.Findings) {
		t.Errorf("without a policy: verdict %v", j2.Verdict)
	}
}

// TestJudgeVerdictsAreEvaluate: over every built-in profile and a range of
// results, Judge's verdict is Evaluate's, violation for violation.
func TestJudgeVerdictsAreEvaluate(t *testing.T) {
	results := []*scan.Result{modernResult(t),
		result(t, map[tls.Version][]string{tls.VersionSSL30: {"RC4-MD5"}, tls.VersionTLS10: {"EXP-RC4-MD5", "DES-CBC-SHA"}}),
		result(t, map[tls.Version][]string{tls.VersionTLS12: {"AES128-SHA", "DHE-RSA-AES128-SHA"}})}
	for _, p := range Profiles() {
		for i, r := range results {
			j := Judge(r, p, Options{})
			v := Evaluate(p, r)
			if j.Verdict.Status != v.Status || len(j.Verdict.Violations) != len(v.Violations) || !reflect.DeepEqual(j.Verdict.Inconclusive, v.Inconclusive) {
				t.Fatalf("%s, result %d: Judge %s %d, Evaluate %s %d", p.Name, i, j.Verdict.Status, len(j.Verdict.Violations), v.Status, len(v.Violations))
			}
			for k, x := range j.Verdict.Violations {
				if y := v.Violations[k]; x.Rule != y.Rule || x.Message != y.Message || x.Fact != y.Fact {
					t.Errorf("%s: violation %d: %+v, want %+v", p.Name, k, x, y)
				}
			}
		}
	}
}
