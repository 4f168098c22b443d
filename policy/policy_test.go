package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

func id(t *testing.T, name string) uint16 {
	t.Helper()
	s, err := ciphers.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// result builds a scan result: every version of scannable probed, those
// in accepted accepted with their suites, the rest rejected.
func result(t *testing.T, accepted map[tls.Version][]string) *scan.Result {
	t.Helper()
	r := &scan.Result{Target: scan.Target{Protocol: scan.ProtoTLS, Addr: "192.0.2.1", Port: 443, Host: "example.com"}, Status: scan.StatusOK}
	r.SSLv2 = &scan.SSLv2Result{Outcome: scan.Rejected, Reason: "alert"}
	for _, v := range scannable[1:] {
		vr := scan.VersionResult{Version: v, Outcome: scan.Rejected, Reason: "alert protocol_version", Suites: []uint16{}}
		if names, ok := accepted[v]; ok {
			vr.Outcome, vr.Reason = scan.Accepted, ""
			for _, n := range names {
				vr.Suites = append(vr.Suites, id(t, n))
			}
		}
		r.Versions = append(r.Versions, vr)
	}
	return r
}

// modernResult is a server meeting every built-in profile but
// mozilla-modern: TLS 1.2 ECDHE-GCM and TLS 1.3, x25519, an RSA 2048
// certificate, trusted, matching, 90 days left.
func modernResult(t *testing.T) *scan.Result {
	r := result(t, map[tls.Version][]string{
		tls.VersionTLS12: {"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
		tls.VersionTLS13: {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"},
	})
	r.Groups = []scan.GroupResult{
		{Kind: scan.GroupTLS13, Version: tls.VersionTLS13, Outcome: scan.Accepted, Groups: []uint16{0x001D, 0x0017}},
		{Kind: scan.GroupECDHE, Version: tls.VersionTLS12, Outcome: scan.Accepted, Groups: []uint16{0x001D}},
	}
	r.Cert = &scan.CertInfo{Verified: true, HostnameMatch: true, Chain: []scan.CertSummary{{
		KeyType: "RSA", KeyBits: 2048, DaysToExpiry: 90, NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}}}
	return r
}

func rules(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		if !slices.Contains(out, v.Rule) {
			out = append(out, v.Rule)
		}
	}
	return out
}

func undecidedRules(us []Undecided) []string {
	var out []string
	for _, u := range us {
		if !slices.Contains(out, u.Rule) {
			out = append(out, u.Rule)
		}
	}
	return out
}

func mustProfile(t *testing.T, name string) *Policy {
	t.Helper()
	p, err := Profile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEvaluateRules checks each rule on a result that breaks it, one that
// meets it, and one where it cannot be decided.
func TestEvaluateRules(t *testing.T) {
	type tc struct {
		name       string
		policy     Policy
		edit       func(r *scan.Result)
		status     Status
		violations []string // rule IDs
		undecided  []string
	}
	accept := func(v tls.Version, names ...string) func(r *scan.Result) {
		return func(r *scan.Result) {
			vr := r.Version(v)
			vr.Outcome, vr.Reason = scan.Accepted, ""
			for _, n := range names {
				vr.Suites = append(vr.Suites, id(t, n))
			}
		}
	}
	tests := []tc{
		{name: "min-version pass", policy: Policy{MinVersion: tls.VersionTLS12}, status: Pass},
		{name: "min-version TLS1.0 accepted", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: accept(tls.VersionTLS10, "AES128-SHA"), status: Fail, violations: []string{RuleMinVersion}},
		{name: "min-version SSLv2 accepted", policy: Policy{MinVersion: tls.VersionTLS12},
			edit:   func(r *scan.Result) { r.SSLv2 = &scan.SSLv2Result{Outcome: scan.Accepted, Kinds: []uint32{0x010080}} },
			status: Fail, violations: []string{RuleMinVersion}},
		{name: "min-version TLS1.0 inconclusive", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: func(r *scan.Result) {
				vr := r.Version(tls.VersionTLS10)
				vr.Outcome, vr.Reason = scan.Inconclusive, "timeout after 5s"
			}, status: Inconclusive, undecided: []string{RuleMinVersion}},
		{name: "min-version SSLv3 not probed", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: func(r *scan.Result) {
				r.Versions = slices.DeleteFunc(r.Versions, func(v scan.VersionResult) bool { return v.Version == tls.VersionSSL30 })
			}, status: Inconclusive, undecided: []string{RuleMinVersion}},
		{name: "violation beats inconclusive", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: func(r *scan.Result) {
				accept(tls.VersionTLS11, "AES128-SHA")(r)
				vr := r.Version(tls.VersionTLS10)
				vr.Outcome, vr.Reason = scan.Inconclusive, "timeout after 5s"
			}, status: Fail, violations: []string{RuleMinVersion}, undecided: []string{RuleMinVersion}},
		{name: "forbidden-version", policy: Policy{ForbiddenVersions: []tls.Version{tls.VersionTLS11}},
			edit: accept(tls.VersionTLS11, "AES128-SHA"), status: Fail, violations: []string{RuleForbiddenVersion}},
		{name: "forbidden-version other accepted", policy: Policy{ForbiddenVersions: []tls.Version{tls.VersionTLS11}},
			edit: accept(tls.VersionTLS10, "AES128-SHA"), status: Pass},
		{name: "forbidden-suite by grade", policy: Policy{ForbiddenSuites: mustRules("grade:weak")},
			edit: accept(tls.VersionTLS12, "AES128-GCM-SHA256"), status: Fail, violations: []string{RuleForbiddenSuite}},
		{name: "forbidden-suite by grade, secure passes", policy: Policy{ForbiddenSuites: mustRules("grade:weak")},
			edit: accept(tls.VersionTLS12, "ECDHE-RSA-AES128-SHA"), status: Pass},
		{name: "forbidden-suite by attribute", policy: Policy{ForbiddenSuites: mustRules("cbc")},
			edit: accept(tls.VersionTLS12, "ECDHE-RSA-AES128-SHA"), status: Fail, violations: []string{RuleForbiddenSuite}},
		{name: "forbidden-suite by name", policy: Policy{ForbiddenSuites: mustRules("ECDHE-RSA-AES128-SHA")},
			edit: accept(tls.VersionTLS12, "ECDHE-RSA-AES128-SHA"), status: Fail, violations: []string{RuleForbiddenSuite}},
		{name: "forbidden-suite by id", policy: Policy{ForbiddenSuites: mustRules("id:0xC02F")},
			status: Fail, violations: []string{RuleForbiddenSuite}},
		{name: "forbidden-suite undecided candidates", policy: Policy{ForbiddenSuites: mustRules("3des")},
			edit: func(r *scan.Result) {
				vr := r.Version(tls.VersionTLS12)
				vr.Inconclusive, vr.InconclusiveReason = []uint16{id(t, "DES-CBC3-SHA")}, "timeout after 5s"
			}, status: Inconclusive, undecided: []string{RuleForbiddenSuite}},
		{name: "forbidden-suite undecided harmless candidates", policy: Policy{ForbiddenSuites: mustRules("3des")},
			edit: func(r *scan.Result) {
				vr := r.Version(tls.VersionTLS12)
				vr.Inconclusive, vr.InconclusiveReason = []uint16{id(t, "AES128-SHA")}, "timeout after 5s"
			}, status: Pass},
		{name: "suites of a forbidden version are the version rule's", policy: Policy{MinVersion: tls.VersionTLS12, RequireAEAD: true},
			edit: accept(tls.VersionTLS10, "AES128-SHA"), status: Fail, violations: []string{RuleMinVersion}},
		{name: "allowed-suites", policy: Policy{AllowedSuites: mustRules("ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-CHACHA20-POLY1305")},
			status: Pass},
		{name: "allowed-suites other", policy: Policy{AllowedSuites: mustRules("ECDHE-RSA-AES128-GCM-SHA256")},
			status: Fail, violations: []string{RuleAllowedSuites}},
		{name: "require-pfs", policy: Policy{RequirePFS: true},
			edit: accept(tls.VersionTLS12, "AES256-GCM-SHA384"), status: Fail, violations: []string{RuleRequirePFS}},
		{name: "require-aead", policy: Policy{RequireAEAD: true},
			edit: accept(tls.VersionTLS12, "ECDHE-RSA-AES256-SHA384"), status: Fail, violations: []string{RuleRequireAEAD}},
		{name: "require-aead SSLv2 kinds", policy: Policy{RequireAEAD: true},
			edit:   func(r *scan.Result) { r.SSLv2 = &scan.SSLv2Result{Outcome: scan.Accepted, Kinds: []uint32{0x010080}} },
			status: Fail, violations: []string{RuleRequireAEAD}},
		{name: "require-aead versions-only", policy: Policy{RequireAEAD: true}, status: Pass},
		{name: "min-rsa-bits", policy: Policy{MinRSABits: 3072}, status: Fail, violations: []string{RuleMinRSABits}},
		{name: "min-rsa-bits no cert", policy: Policy{MinRSABits: 2048},
			edit: func(r *scan.Result) {
				r.Cert, r.CertError = nil, scan.Failure{Stage: scan.StageHandshake, Reason: "timed out"}
			}, status: Inconclusive, undecided: []string{RuleMinRSABits}},
		{name: "min-rsa-bits nothing accepted", policy: Policy{MinRSABits: 2048},
			edit: func(r *scan.Result) {
				for i := range r.Versions {
					r.Versions[i].Outcome, r.Versions[i].Suites = scan.Rejected, []uint16{}
				}
				r.Cert, r.Groups = nil, nil
			}, status: Pass},
		{name: "min-ec-bits x25519 counts 256", policy: Policy{MinECBits: 256}, status: Pass},
		{name: "min-ec-bits P-224 curve", policy: Policy{MinECBits: 256},
			edit:   func(r *scan.Result) { r.Groups[1].Groups = append(r.Groups[1].Groups, 0x0015) },
			status: Fail, violations: []string{RuleMinECBits}},
		{name: "min-ec-bits ECDSA key", policy: Policy{MinECBits: 384},
			edit: func(r *scan.Result) {
				r.Cert.Chain[0].KeyType, r.Cert.Chain[0].KeyBits = "ECDSA", 256
				r.Groups = []scan.GroupResult{
					{Kind: scan.GroupTLS13, Version: tls.VersionTLS13, Outcome: scan.Accepted, Groups: []uint16{0x001E}},
					{Kind: scan.GroupECDHE, Version: tls.VersionTLS12, Outcome: scan.Accepted, Groups: []uint16{0x0018}},
				}
			}, status: Fail, violations: []string{RuleMinECBits}},
		{name: "min-ec-bits groups not scanned", policy: Policy{MinECBits: 256},
			edit: func(r *scan.Result) { r.Groups = nil }, status: Inconclusive, undecided: []string{RuleMinECBits}},
		{name: "min-dh-bits", policy: Policy{MinDHBits: 2048},
			edit: func(r *scan.Result) {
				accept(tls.VersionTLS12, "DHE-RSA-AES128-GCM-SHA256")(r)
				r.DHPrimeBits = 1024
			}, status: Fail, violations: []string{RuleMinDHBits}},
		{name: "min-dh-bits 2048 ok", policy: Policy{MinDHBits: 2048},
			edit: func(r *scan.Result) {
				accept(tls.VersionTLS12, "DHE-RSA-AES128-GCM-SHA256")(r)
				r.DHPrimeBits = 2048
			}, status: Pass},
		{name: "min-dh-bits unknown prime", policy: Policy{MinDHBits: 2048},
			edit: accept(tls.VersionTLS12, "DHE-RSA-AES128-GCM-SHA256"), status: Inconclusive, undecided: []string{RuleMinDHBits}},
		{name: "min-dh-bits no DHE", policy: Policy{MinDHBits: 2048}, status: Pass},
		{name: "cert-expiry", policy: Policy{CertExpiryDays: 100}, status: Fail, violations: []string{RuleCertExpiry}},
		{name: "cert-expiry expired", policy: Policy{CertExpiryDays: 1},
			edit: func(r *scan.Result) { r.Cert.Chain[0].DaysToExpiry = -3 }, status: Fail, violations: []string{RuleCertExpiry}},
		{name: "cert-expiry ok", policy: Policy{CertExpiryDays: 30}, status: Pass},
		{name: "cert-trusted", policy: Policy{RequireTrustedCert: true},
			edit: func(r *scan.Result) { r.Cert.Verified, r.Cert.VerifyError = false, "self-signed" }, status: Fail, violations: []string{RuleCertTrusted}},
		{name: "cert-hostname", policy: Policy{RequireHostnameMatch: true},
			edit: func(r *scan.Result) { r.Cert.HostnameMatch, r.Cert.HostnameError = false, "valid for other.example" }, status: Fail, violations: []string{RuleCertHostname}},
		{name: "cert-hostname no name", policy: Policy{RequireHostnameMatch: true},
			edit: func(r *scan.Result) { r.Cert.HostnameMatch = false }, status: Inconclusive, undecided: []string{RuleCertHostname}},
		{name: "unreachable", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: func(r *scan.Result) {
				*r = scan.Result{Target: r.Target, Status: scan.StatusUnreachable, Error: scan.Failure{Stage: scan.StageDial, Reason: "connection refused"}}
			}, status: Inconclusive, undecided: []string{RuleReachable}},
		{name: "endpoint inconclusive", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: func(r *scan.Result) {
				r.Status, r.Error = scan.StatusInconclusive, scan.Failure{Stage: scan.StageHello, Reason: "no probe was answered decisively"}
				for i := range r.Versions {
					r.Versions[i] = scan.VersionResult{Version: r.Versions[i].Version, Outcome: scan.Inconclusive, Reason: "timeout"}
				}
				r.SSLv2.Outcome = scan.Inconclusive
			}, status: Inconclusive, undecided: []string{RuleReachable, RuleMinVersion}},
		{name: "gated endpoint fails", policy: Policy{MinVersion: tls.VersionTLS12},
			edit: func(r *scan.Result) {
				accept(tls.VersionTLS10, "AES128-SHA")(r)
				for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS11} {
					vr := r.Version(v)
					vr.Outcome, vr.Reason = scan.Inconclusive, scan.ReasonGated
				}
				r.Cert = nil
			}, status: Fail, violations: []string{RuleMinVersion}, undecided: []string{RuleMinVersion}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := modernResult(t)
			if tt.edit != nil {
				tt.edit(r)
			}
			p := tt.policy
			p.Name = "test"
			v := Evaluate(&p, r)
			if v.Status != tt.status {
				t.Errorf("status %s, want %s; violations %+v; undecided %+v", v.Status, tt.status, v.Violations, v.Inconclusive)
			}
			if got := rules(v.Violations); !slices.Equal(got, tt.violations) {
				t.Errorf("violated rules %q, want %q (%+v)", got, tt.violations, v.Violations)
			}
			if got := undecidedRules(v.Inconclusive); !slices.Equal(got, tt.undecided) {
				t.Errorf("undecided rules %q, want %q (%+v)", got, tt.undecided, v.Inconclusive)
			}
			for _, x := range v.Violations {
				if x.Message == "" || !slices.Contains(v.Rules, x.Rule) {
					t.Errorf("violation %+v: no message, or rule not among %q", x, v.Rules)
				}
			}
		})
	}
}

func TestEvaluateNotEnumerated(t *testing.T) {
	r := modernResult(t)
	p := &Policy{Name: "t", RequireAEAD: true}
	v := EvaluateWith(p, r, Options{NotEnumerated: func(tls.Version) bool { return true }})
	if v.Status != Inconclusive || !slices.Contains(undecidedRules(v.Inconclusive), RuleRequireAEAD) {
		t.Errorf("versions-only: %s %+v, want inconclusive require-aead", v.Status, v.Inconclusive)
	}
	r.Version(tls.VersionTLS12).Suites = []uint16{id(t, "ECDHE-RSA-AES128-SHA")}
	if v := EvaluateWith(p, r, Options{NotEnumerated: func(tls.Version) bool { return true }}); v.Status != Fail {
		t.Errorf("versions-only with a CBC suite seen: %s, want fail", v.Status)
	}
}

// TestProfiles checks each built-in profile on a modern server, a legacy
// one and a TLS 1.3-only one.
func TestProfiles(t *testing.T) {
	legacy := func(t *testing.T) *scan.Result {
		r := result(t, map[tls.Version][]string{
			tls.VersionTLS10: {"AES128-SHA", "DES-CBC3-SHA"},
			tls.VersionTLS12: {"ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"},
		})
		r.Cert = &scan.CertInfo{Verified: true, HostnameMatch: true, Chain: []scan.CertSummary{{KeyType: "RSA", KeyBits: 2048, DaysToExpiry: 90}}}
		r.Groups = []scan.GroupResult{{Kind: scan.GroupECDHE, Version: tls.VersionTLS12, Outcome: scan.Accepted, Groups: []uint16{0x0017}}}
		return r
	}
	only13 := func(t *testing.T) *scan.Result {
		r := modernResult(t)
		vr := r.Version(tls.VersionTLS12)
		vr.Outcome, vr.Suites = scan.Rejected, []uint16{}
		r.Groups = r.Groups[:1]
		return r
	}
	tests := []struct {
		profile string
		result  func(t *testing.T) *scan.Result
		status  Status
		rules   []string
	}{
		{"tls12-min", modernResult, Pass, nil},
		{"tls12-min", legacy, Fail, []string{RuleMinVersion}},
		{"modern", modernResult, Pass, nil},
		{"modern", legacy, Fail, []string{RuleMinVersion, RuleRequirePFS, RuleRequireAEAD}},
		{"mozilla-intermediate", modernResult, Pass, nil},
		{"mozilla-intermediate", legacy, Fail, []string{RuleMinVersion, RuleAllowedSuites}},
		{"mozilla-modern", modernResult, Fail, []string{RuleMinVersion}},
		{"mozilla-modern", only13, Pass, nil},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			v := Evaluate(mustProfile(t, tt.profile), tt.result(t))
			if v.Status != tt.status || !slices.Equal(rules(v.Violations), tt.rules) {
				t.Errorf("%s: %s %q, want %s %q (%+v; %+v)", tt.profile, v.Status, rules(v.Violations), tt.status, tt.rules, v.Violations, v.Inconclusive)
			}
		})
	}
}

// TestProfileContents pins the facts of the profiles docs/policies.md
// states.
func TestProfileContents(t *testing.T) {
	mi := mustProfile(t, "mozilla-intermediate")
	if mi.MinVersion != tls.VersionTLS12 || len(mi.AllowedSuites) != 12 || mi.MinDHBits != 2048 || mi.MinRSABits != 2048 || mi.MinECBits != 256 {
		t.Errorf("mozilla-intermediate: %+v", mi)
	}
	for _, s := range mi.AllowedSuites {
		suite, _ := ciphers.ByID(s.ID)
		if !suite.AEAD || !suite.PFS || !(suite.Kex == "ECDHE" || suite.Kex == "DHE" || suite.Versions.Has(tls.VersionTLS13)) {
			t.Errorf("mozilla-intermediate allows %s", suite.Name)
		}
	}
	mm := mustProfile(t, "mozilla-modern")
	if mm.MinVersion != tls.VersionTLS13 || len(mm.AllowedSuites) != 3 {
		t.Errorf("mozilla-modern: %+v", mm)
	}
	if _, err := Profile("nope"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("unknown profile: %v", err)
	}
	if p, err := Profile(" TLS12-MIN "); err != nil || p.Name != "tls12-min" {
		t.Errorf("case: %v %v", p, err)
	}
	// Profiles are copies.
	Profiles()[0].MinVersion = 0
	if mustProfile(t, "tls12-min").MinVersion == 0 {
		t.Error("Profiles returned the shared table")
	}
}

func TestParse(t *testing.T) {
	yamlDoc := `# corporate baseline
schema: tlsmap.policy/1
name: corp
extends: tls12-min
forbidden_versions: [TLSv1.3]
forbidden_suites:
  - grade: weak
  - attribute: cbc
  - rc4
  - id: 0xC013
  - name: ECDHE-RSA-AES256-SHA
allowed_suites: ["0xC02F", TLS_AES_128_GCM_SHA256]
require_pfs: true
require_aead: true
min_rsa_bits: 2048
min_ec_bits: 256
min_dh_bits: 2048
cert_expiry_days: 14
require_trusted_cert: true
require_hostname_match: true
`
	p, err := Parse([]byte(yamlDoc), "corp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{RuleReachable, RuleMinVersion, RuleForbiddenVersion, RuleForbiddenSuite, RuleAllowedSuites, RuleRequirePFS, RuleRequireAEAD,
		RuleMinRSABits, RuleMinECBits, RuleMinDHBits, RuleCertExpiry, RuleCertTrusted, RuleCertHostname}
	if !slices.Equal(p.RuleIDs(), want) {
		t.Errorf("rules %q", p.RuleIDs())
	}
	if p.Name != "corp" || p.MinVersion != tls.VersionTLS12 || !slices.Equal(p.ForbiddenVersions, []tls.Version{tls.VersionTLS13}) ||
		len(p.ForbiddenSuites) != 5 || len(p.AllowedSuites) != 2 || p.ForbiddenSuites[3].ID != 0xC013 || p.CertExpiryDays != 14 {
		t.Errorf("parsed %+v", p)
	}

	jsonDoc := "{\n\t\"name\": \"j\",\n\t\"min_version\": \"tls1.2\",\n\t\"forbidden_suites\": [{\"grade\": \"insecure\"}, \"3des\"],\n\t\"require_pfs\": true\n}\n"
	pj, err := Parse([]byte(jsonDoc), "j.json")
	if err != nil {
		t.Fatal(err)
	}
	if pj.Name != "j" || pj.MinVersion != tls.VersionTLS12 || len(pj.ForbiddenSuites) != 2 || !pj.RequirePFS {
		t.Errorf("json %+v", pj)
	}

	bad := []struct{ doc, want string }{
		{"", "empty policy file"},
		{"   \n# only a comment\n", "empty policy file"},
		{"min_version: tls1.2\nmin_versoin: tls1.3\n", "line 2: key min_versoin is not a policy key"},
		{"{\n  \"min_version\": \"tls1.2\",\n  \"bogus\": 1\n}", "line 3: key bogus"},
		{"min_version: tls9\n", "line 1: protocol version \"tls9\""},
		{"min_version: dtls1.2\n", "line 1: protocol version"},
		{"forbidden_suites:\n  - grade: awful\n", "line 2: suite rule \"grade:awful\": grade"},
		{"forbidden_suites:\n  - attribute: purple\n", "unknown attribute \"purple\""},
		{"forbidden_suites:\n  - NOT-A-SUITE\n", "line 2: suite rule \"NOT-A-SUITE\""},
		{"forbidden_suites:\n  - {grade: weak, id: 1}\n", "exactly one key"},
		{"forbidden_suites:\n  - colour: red\n", "suite rule key \"colour\""},
		{"require_pfs: maybe\n", "line 1"},
		{"min_rsa_bits: -1\n", "min_rsa_bits -1"},
		{"name: nothing\n", "has no rule"},
		{"extends: ancient\n", "unknown profile \"ancient\""},
		{"schema: tlsmap.policy/9\nrequire_pfs: true\n", "schema \"tlsmap.policy/9\""},
		{"require_pfs: true\nrequire_pfs: false\n", "already defined"},
		{"require_pfs: true\n---\nrequire_aead: true\n", "more than one document"},
		{"- a\n- b\n", "line 1"},
		{"{\"min_version\": ", "line"},
	}
	for _, b := range bad {
		_, err := Parse([]byte(b.doc), "bad.yaml")
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid containing %q", b.doc, err, b.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "team.yml")
	if err := os.WriteFile(f, []byte("require_aead: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(f)
	if err != nil || p.Name != "team" || !p.RequireAEAD {
		t.Errorf("Load(file) = %+v, %v", p, err)
	}
	if p, err := Load("modern"); err != nil || p.Name != "modern" {
		t.Errorf("Load(modern) = %v, %v", p, err)
	}
	if _, err := Load("modren"); !errors.Is(err, ErrUnknownProfile) {
		t.Errorf("Load(modren) = %v, want ErrUnknownProfile", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestSuiteRules(t *testing.T) {
	tests := []struct {
		rule, suite string
		match       bool
	}{
		{"grade:weak", "DES-CBC3-SHA", true},
		{"grade:weak", "RC4-SHA", true},
		{"grade:weak", "ECDHE-RSA-AES128-SHA", false},
		{"grade:insecure", "DES-CBC3-SHA", false},
		{"export", "EXP-RC4-MD5", true},
		{"null", "NULL-SHA", true},
		{"anon", "ADH-AES128-SHA", true},
		{"rc4", "RC4-MD5", true},
		{"3des", "DES-CBC3-SHA", true},
		{"des", "DES-CBC-SHA", true},
		{"des", "DES-CBC3-SHA", false},
		{"cbc", "AES128-SHA", true},
		{"cbc", "AES128-GCM-SHA256", false},
		{"sha1-mac", "ECDHE-RSA-AES128-SHA", true},
		{"sha1-mac", "ECDHE-RSA-AES128-GCM-SHA256", false},
		{"md5", "RC4-MD5", true},
		{"no-pfs", "AES128-GCM-SHA256", true},
		{"no-pfs", "TLS_AES_128_GCM_SHA256", false},
		{"non-aead", "ECDHE-RSA-AES128-SHA256", true},
		{"static-rsa", "AES256-SHA", true},
		{"static-rsa", "ECDHE-RSA-AES256-SHA", false},
		{"64bit-block", "DES-CBC3-SHA", true},
		{"ccm8", "TLS_AES_128_CCM_8_SHA256", true},
		{"0x002F", "AES128-SHA", true},
		{"name:AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", true},
	}
	for _, tt := range tests {
		r, err := ParseSuiteRule(tt.rule)
		if err != nil {
			t.Errorf("%s: %v", tt.rule, err)
			continue
		}
		s, err := ciphers.Lookup(tt.suite)
		if err != nil {
			t.Fatal(err)
		}
		if r.Match(s) != tt.match {
			t.Errorf("%s matches %s: %v, want %v", tt.rule, tt.suite, !tt.match, tt.match)
		}
	}
	for _, bad := range []string{"", "grade:none", "attr:", ":x", "kind:x", "0xFFFF0", "TLS_EMPTY_RENEGOTIATION_INFO_SCSV", strings.Repeat("A", 200)} {
		if _, err := ParseSuiteRule(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSuiteRule(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestGate(t *testing.T) {
	stop := mustProfile(t, "tls12-min").Gate()
	if !stop(scan.GateEvent{Version: tls.VersionTLS10, Suite: id(t, "AES128-SHA")}) {
		t.Error("TLS 1.0 did not stop tls12-min")
	}
	if stop(scan.GateEvent{Version: tls.VersionTLS12, Suite: id(t, "AES128-SHA")}) {
		t.Error("TLS 1.2 stopped tls12-min")
	}
	modern := mustProfile(t, "modern").Gate()
	if !modern(scan.GateEvent{Version: tls.VersionTLS12, Suite: id(t, "AES128-SHA")}) {
		t.Error("AES128-SHA did not stop modern")
	}
	if modern(scan.GateEvent{Version: tls.VersionTLS12, Suite: id(t, "ECDHE-RSA-AES128-GCM-SHA256")}) {
		t.Error("ECDHE-GCM stopped modern")
	}
	aead := (&Policy{RequireAEAD: true}).Gate()
	if !aead(scan.GateEvent{Version: tls.VersionSSL20, SSLv2Kinds: []uint32{0x010080}}) {
		t.Error("SSLv2 RC4 did not stop require-aead")
	}
}

func TestDescribe(t *testing.T) {
	for _, p := range Profiles() {
		if len(p.Describe()) == 0 || p.Description == "" {
			t.Errorf("%s: no description", p.Name)
		}
		if err := p.validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	for _, r := range Rules() {
		if r.Short == "" || r.Help == "" {
			t.Errorf("rule %s: no text", r.ID)
		}
	}
}
