package policy

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// legacyEndpoint has something for most findings: SSLv2 with an export
// kind, TLS 1.0 with RC4 and 3DES, an anonymous suite, a 1024-bit DHE
// prime, and an untrusted certificate for another name expiring soon.
func legacyEndpoint() *scan.Result {
	return &scan.Result{
		Status: scan.StatusOK,
		SSLv2:  &scan.SSLv2Result{Outcome: scan.Accepted, Kinds: []uint32{0x0700C0, 0x020080}},
		Versions: []scan.VersionResult{
			{Version: tls.VersionSSL30, Outcome: scan.Rejected},
			{Version: tls.VersionTLS10, Outcome: scan.Accepted, Suites: []uint16{0x002F, 0x000A, 0x0005, 0xC013}},
			{Version: tls.VersionTLS11, Outcome: scan.Inconclusive},
			{Version: tls.VersionTLS12, Outcome: scan.Accepted, Suites: []uint16{0xC030, 0xC02F, 0xCCA8, 0x009E, 0x002F, 0x0018}},
			{Version: tls.VersionTLS13, Outcome: scan.Accepted, Suites: []uint16{0x1301, 0x1302, 0x1303}},
		},
		DHPrimeBits: 1024,
		Cert: &scan.CertInfo{
			Chain:    []scan.CertSummary{{DaysToExpiry: 12}},
			Verified: false, VerifyError: "x509: certificate signed by unknown authority",
			HostnameError: "x509: certificate is valid for www.example.org, not legacy.example.com",
		},
	}
}

func TestFindings(t *testing.T) {
	fs := Findings(legacyEndpoint())
	var got []string
	for _, f := range fs {
		got = append(got, f.Severity.String()+" "+string(f.ID))
	}
	want := []string{
		"critical sslv2", "critical anon-suites", "critical sslv2-export",
		"high tls10", "high rc4-suites", "high cert-untrusted", "high cert-hostname",
		"medium 3des-suites", "medium dh-prime", "medium cert-expiring",
		"low some-no-pfs",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}
	// What the findings are about, typed.
	about := map[FindingID]Finding{}
	for _, f := range fs {
		about[f.ID] = f
	}
	if f := about[FindingRC4Suites]; !slices.Equal(f.Suites, []uint16{0x0005, 0x0018}) || !slices.Equal(f.Versions, []tls.Version{tls.VersionTLS10, tls.VersionTLS12}) {
		t.Errorf("rc4-suites about %v at %v", f.Suites, f.Versions)
	}
	if f := about[FindingSSLv2Export]; !slices.Equal(f.SSLv2Kinds, []uint32{0x020080}) || len(f.Suites) != 0 {
		t.Errorf("sslv2-export about kinds %v, suites %v", f.SSLv2Kinds, f.Suites)
	}
	if f := about[FindingSomeNoPFS]; !slices.Equal(f.Suites, []uint16{0x002F, 0x000A, 0x0005}) ||
		!slices.Equal(f.Versions, []tls.Version{tls.VersionTLS10, tls.VersionTLS12}) || f.Message != "3 suites without forward secrecy" {
		t.Errorf("some-no-pfs: %+v", f)
	}

	if f := Findings(&scan.Result{Status: scan.StatusUnreachable}); f == nil || len(f) != 0 {
		t.Errorf("unreachable endpoint has findings %v", f)
	}

	// Only static RSA: no forward secrecy at all; an expired certificate.
	r := &scan.Result{Status: scan.StatusOK, Versions: []scan.VersionResult{
		{Version: tls.VersionTLS12, Outcome: scan.Accepted, Suites: []uint16{0x009C, 0x002F}},
	}, Cert: &scan.CertInfo{Chain: []scan.CertSummary{{DaysToExpiry: -3}}, Verified: true, HostnameMatch: true}}
	got = got[:0]
	for _, f := range Findings(r) {
		got = append(got, string(f.ID)+": "+f.Message)
	}
	want = []string{"cert-expired: certificate expired 3 days ago", "no-pfs: no forward secrecy suites"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}

func TestFindingNoVersion(t *testing.T) {
	r := &scan.Result{Status: scan.StatusOK, Versions: []scan.VersionResult{
		{Version: tls.VersionTLS12, Outcome: scan.Rejected, Reason: "connection closed after ClientHello"},
		{Version: tls.VersionTLS13, Outcome: scan.Rejected, Reason: "connection closed after ClientHello"},
	}}
	if f := Findings(r); len(f) != 1 || f[0].ID != FindingNoVersion {
		t.Errorf("findings %v, want no-version", f)
	}
	r.Versions[1].Outcome = scan.Inconclusive
	if f := Findings(r); len(f) != 0 {
		t.Errorf("findings %v with a version undecided, want none", f)
	}
}

func TestFindingPlaintextAuth(t *testing.T) {
	r := &scan.Result{Status: scan.StatusOK, Dialogue: &protocols.Dialogue{Protocol: "smtp", PlaintextAuth: []string{"PLAIN", "LOGIN"}}}
	fs := Findings(r)
	if len(fs) != 1 || fs[0].ID != FindingPlaintextAuth || fs[0].Severity != SeverityMedium ||
		!strings.Contains(fs[0].Message, "SMTP offers authentication before TLS (PLAIN, LOGIN)") {
		t.Fatalf("findings %+v", fs)
	}
	r.Dialogue.PlaintextAuth = nil
	if fs := Findings(r); len(fs) != 0 {
		t.Errorf("findings without plaintext auth: %+v", fs)
	}
	if fs := Findings(legacyEndpoint()); slices.ContainsFunc(fs, func(f Finding) bool { return f.ID == FindingPlaintextAuth }) {
		t.Error("plaintext-auth without a dialogue")
	}
}

// TestFindingNoTLS: a dialogue that ended the endpoint without TLS is a
// finding; one that reached TLS, or an endpoint that failed elsewhere,
// is not.
func TestFindingNoTLS(t *testing.T) {
	r := &scan.Result{Status: scan.StatusUnreachable, Error: scan.Failure{Stage: scan.StagePreamble, Reason: "STARTTLS not advertised (use --starttls-anyway)"},
		Dialogue: &protocols.Dialogue{Protocol: "mysql", Banner: "8.0.36"}}
	fs := Findings(r)
	if len(fs) != 1 || fs[0].ID != FindingNoTLS || fs[0].Severity != SeverityHigh ||
		fs[0].Message != "MYSQL server offers no TLS (STARTTLS not advertised (use --starttls-anyway)): its clients talk to it in clear" {
		t.Fatalf("findings %+v", fs)
	}
	r.Dialogue.STARTTLSAdvertised = true // refused after advertising it
	if fs := Findings(r); len(fs) != 0 {
		t.Errorf("advertised: %+v", fs)
	}
	r.Dialogue.STARTTLSAdvertised, r.Error.Stage = false, scan.StageDial
	if fs := Findings(r); len(fs) != 0 {
		t.Errorf("dial failure: %+v", fs)
	}
}

// TestFindingRDPStandardSecurity: the probe's "accepted" is a finding,
// its "refused" and "unknown" are not.
func TestFindingRDPStandardSecurity(t *testing.T) {
	for answer, want := range map[string]bool{
		"accepted (PROTOCOL_RDP selected)":   true,
		"accepted (no negotiation response)": true,
		"refused (SSL_REQUIRED_BY_SERVER)":   false,
		"unknown (rdp: starttls: timed out)": false,
		"":                                   false,
	} {
		d := &protocols.Dialogue{Protocol: "rdp", STARTTLSAdvertised: true}
		if answer != "" {
			d.Set("standard_rdp_security", answer)
		}
		fs := Findings(&scan.Result{Status: scan.StatusOK, Dialogue: d})
		got := slices.ContainsFunc(fs, func(f Finding) bool { return f.ID == FindingRDPStandardSecurity && f.Severity == SeverityHigh })
		if got != want {
			t.Errorf("%q: findings %+v", answer, fs)
		}
	}
}

// TestSeverityText: every severity's name reads back; others do not.
func TestSeverityText(t *testing.T) {
	for s := SeverityInfo; s <= SeverityCritical; s++ {
		b, _ := s.MarshalText()
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v: read back %v, %v", s, back, err)
		}
	}
	var s Severity
	if err := s.UnmarshalText([]byte("severe")); err == nil {
		t.Error("unknown severity read")
	}
}
