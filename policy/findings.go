package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/rdp"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// Findings are the judgement tlsmap passes on every scanned endpoint,
// policy or not: what a team switching legacy TLS off wants to know. They
// are computed once per endpoint (Findings) and read by every report (the
// terminal table, the JSON record, the demo); the suite findings select
// suites with the attributes of the policy's suite rules (Attributes).

// Severity ranks a finding.
type Severity uint8

// Severities, least severe first.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// String returns "info", "low", "medium", "high" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	for v := SeverityInfo; v <= SeverityCritical; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("policy: unknown severity %q", b)
}

// FindingID names a kind of finding. IDs are stable: docs/schema/scan.md
// lists them.
type FindingID string

// The findings, as docs/schema/scan.md lists them.
const (
	FindingSSLv2         FindingID = "sslv2"
	FindingSSLv3         FindingID = "sslv3"
	FindingTLS10         FindingID = "tls10"
	FindingTLS11         FindingID = "tls11"
	FindingNoVersion     FindingID = "no-version"
	FindingNullSuites    FindingID = "null-suites"
	FindingAnonSuites    FindingID = "anon-suites"
	FindingExportSuites  FindingID = "export-suites"
	FindingSSLv2Export   FindingID = "sslv2-export"
	FindingRC4Suites     FindingID = "rc4-suites"
	FindingDESSuites     FindingID = "des-suites"
	Finding3DESSuites    FindingID = "3des-suites"
	FindingNoPFS         FindingID = "no-pfs"
	FindingSomeNoPFS     FindingID = "some-no-pfs"
	FindingDHPrime       FindingID = "dh-prime"
	FindingCertExpired   FindingID = "cert-expired"
	FindingCertExpiring  FindingID = "cert-expiring"
	FindingCertUntrusted FindingID = "cert-untrusted"
	FindingCertHostname  FindingID = "cert-hostname"
	FindingPlaintextAuth FindingID = "plaintext-auth"
	// FindingChosenNotCompleted: the server chooses suites it then fails
	// on (docs/scan-algorithm.md, "Chosen, not completed").
	FindingChosenNotCompleted FindingID = "chosen-not-completed"
	// FindingListPoison: a suite makes the server fail a whole hello
	// that lists it before (or, in its order, above) one it accepts.
	FindingListPoison FindingID = "list-poison"
	// FindingOutOfSpec: a suite accepted at a version its RFCs do not
	// allow.
	FindingOutOfSpec FindingID = "out-of-spec-suite"
	// FindingNoTLS: the plaintext dialogue showed the server offers no
	// TLS (no STARTTLS, MySQL without CLIENT_SSL, PostgreSQL's N, RDP
	// with standard security only).
	FindingNoTLS FindingID = "no-tls"
	// FindingRDPStandardSecurity: the RDP server also carries sessions
	// with standard RDP security, without TLS, for a client that asks for
	// nothing else (the probe of protocols/rdp).
	FindingRDPStandardSecurity FindingID = "rdp-standard-security"
)

// Finding is one thing about an endpoint, with what it is about.
type Finding struct {
	ID       FindingID
	Severity Severity
	Message  string
	// Versions are the wire versions the finding is about
	// (tls.VersionSSL20 for SSLv2), in the order found.
	Versions []tls.Version
	// Suites are the cipher suites it is about: accepted ones, but for
	// chosen-not-completed (the suites the server failed on) and
	// list-poison (the poisons); SSLv2Kinds the accepted SSL 2.0 cipher
	// kinds.
	Suites     []uint16
	SSLv2Kinds []uint32
	// Facts are the facts the finding reports: each accepted version,
	// (version, suite) pair or SSL 2.0 kind it is about, or the
	// certificate or DHE fact it judges; none for chosen-not-completed and
	// list-poison, about suites that were not accepted. A policy violation
	// of the same fact names the finding (Judge).
	Facts []Fact
}

// Thresholds of the findings.
const (
	CertExpiryWarnDays = 30   // "certificate expires in N days" below this
	MinDHPrimeBits     = 2048 // "DHE prime < 2048 bits" below this
)

// suiteFinding is a finding about the accepted suites that match a
// predicate built from the suite rules' attributes.
type suiteFinding struct {
	id    FindingID
	sev   Severity
	msg   string
	match func(s ciphers.Suite) bool
}

// has returns the predicate of a suite attribute (attributes, in
// suiterule.go).
func has(name string) func(ciphers.Suite) bool {
	a, ok := findAttribute(name)
	if !ok {
		panic("policy: no suite attribute " + name)
	}
	return a.match
}

var suiteFindings = []suiteFinding{
	{FindingNullSuites, SeverityCritical, "accepts NULL suites (no encryption)", has("null")},
	{FindingAnonSuites, SeverityCritical, "accepts anonymous suites (no server authentication)", has("anon")},
	{FindingExportSuites, SeverityCritical, "accepts EXPORT suites", has("export")},
	{FindingRC4Suites, SeverityHigh, "accepts RC4 suites", has("rc4")},
	{FindingDESSuites, SeverityHigh, "accepts single-DES suites", func(s ciphers.Suite) bool { return has("des")(s) && !has("export")(s) }},
	{Finding3DESSuites, SeverityMedium, "accepts 3DES suites (64-bit blocks, Sweet32)", has("3des")},
}

// Findings derives the findings of r, most severe first; never nil.
func Findings(r *scan.Result) []Finding {
	var fs []Finding
	add := func(id FindingID, sev Severity, msg string) *Finding {
		fs = append(fs, Finding{ID: id, Severity: sev, Message: msg})
		return &fs[len(fs)-1]
	}
	if r.SSLv2 != nil && r.SSLv2.Outcome == scan.Accepted {
		f := add(FindingSSLv2, SeverityCritical, "accepts SSLv2")
		f.Versions, f.Facts = []tls.Version{tls.VersionSSL20}, []Fact{versionFact(tls.VersionSSL20)}
	}
	for _, v := range []struct {
		ver tls.Version
		id  FindingID
		sev Severity
		msg string
	}{
		{tls.VersionSSL30, FindingSSLv3, SeverityCritical, "accepts SSLv3"},
		{tls.VersionTLS10, FindingTLS10, SeverityHigh, "accepts TLS 1.0"},
		{tls.VersionTLS11, FindingTLS11, SeverityHigh, "accepts TLS 1.1"},
	} {
		if vr := r.Version(v.ver); vr != nil && vr.Outcome == scan.Accepted {
			f := add(v.id, v.sev, v.msg)
			f.Versions, f.Facts = []tls.Version{v.ver}, []Fact{versionFact(v.ver)}
		}
	}

	if r.Status == scan.StatusOK && len(r.Versions) > 0 && !slices.ContainsFunc(r.Versions, func(v scan.VersionResult) bool {
		return v.Outcome != scan.Rejected
	}) && (r.SSLv2 == nil || r.SSLv2.Outcome == scan.Rejected) {
		add(FindingNoVersion, SeverityMedium, "accepts no protocol version (every probe refused): is this a TLS port?")
	}

	// Suite findings: each names the accepted suites it is about, once
	// per suite, over all versions.
	accepted := acceptedSuites(r)
	for _, rule := range suiteFindings {
		var ids []uint16
		var vers []tls.Version
		var facts []Fact
		for _, a := range accepted {
			if s, ok := ciphers.ByID(a.id); ok && rule.match(s) {
				ids = appendNew(ids, s.ID)
				vers = appendNew(vers, a.version)
				facts = append(facts, suiteFact(a.version, a.id))
			}
		}
		if len(ids) > 0 {
			f := add(rule.id, rule.sev, rule.msg)
			f.Suites, f.Versions, f.Facts = ids, vers, facts
		}
	}
	if r.SSLv2 != nil && r.SSLv2.Outcome == scan.Accepted {
		var exp []uint32
		var facts []Fact
		for _, k := range r.SSLv2.Kinds {
			if kind, ok := ciphers.SSLv2KindByID(k); ok && kind.Export {
				exp = append(exp, k)
				facts = append(facts, sslv2Fact(k))
			}
		}
		if len(exp) > 0 {
			f := add(FindingSSLv2Export, SeverityCritical, "accepts SSLv2 EXPORT cipher kinds")
			f.SSLv2Kinds, f.Versions, f.Facts = exp, []tls.Version{tls.VersionSSL20}, facts
		}
	}
	if len(accepted) > 0 {
		var noPFS []uint16
		var vers []tls.Version
		var facts []Fact
		pfs := 0
		for _, a := range accepted {
			s, ok := ciphers.ByID(a.id)
			switch {
			case !ok:
			case s.PFS:
				pfs++
			default:
				noPFS = appendNew(noPFS, s.ID)
				vers = appendNew(vers, a.version)
				facts = append(facts, suiteFact(a.version, a.id))
			}
		}
		switch {
		case pfs == 0 && len(noPFS) > 0:
			f := add(FindingNoPFS, SeverityHigh, "no forward secrecy suites")
			f.Suites, f.Versions, f.Facts = noPFS, vers, facts
		case len(noPFS) > 0:
			what := "suites"
			if len(noPFS) == 1 {
				what = "suite"
			}
			f := add(FindingSomeNoPFS, SeverityLow, fmt.Sprintf("%d %s without forward secrecy", len(noPFS), what))
			f.Suites, f.Versions, f.Facts = noPFS, vers, facts
		}
	}
	if r.DHPrimeBits > 0 && r.DHPrimeBits < MinDHPrimeBits {
		sev := SeverityMedium
		if r.DHPrimeBits < 1024 {
			sev = SeverityHigh
		}
		add(FindingDHPrime, sev, fmt.Sprintf("DHE prime %d bits (< %d)", r.DHPrimeBits, MinDHPrimeBits)).Facts = []Fact{{Kind: FactDHPrime}}
	}
	if c := r.Cert; c != nil && len(c.Chain) > 0 {
		leaf := c.Chain[0]
		switch {
		case leaf.ParseError != "":
		case leaf.DaysToExpiry < 0:
			add(FindingCertExpired, SeverityCritical, fmt.Sprintf("certificate expired %d days ago", -leaf.DaysToExpiry)).Facts = []Fact{{Kind: FactCertExpiry}}
		case leaf.DaysToExpiry < CertExpiryWarnDays:
			add(FindingCertExpiring, SeverityMedium, fmt.Sprintf("certificate expires in %d days", leaf.DaysToExpiry)).Facts = []Fact{{Kind: FactCertExpiry}}
		}
		if !c.Verified {
			msg := "certificate not trusted"
			if c.VerifyError != "" {
				msg += ": " + c.VerifyError
			}
			add(FindingCertUntrusted, SeverityHigh, msg).Facts = []Fact{{Kind: FactCertTrust}}
		}
		if !c.HostnameMatch && c.HostnameError != "" {
			add(FindingCertHostname, SeverityHigh, "hostname mismatch: "+c.HostnameError).Facts = []Fact{{Kind: FactCertName}}
		}
	}
	// The plaintext mail dialogue: authentication offered before TLS
	// (SMTP AUTH before STARTTLS, IMAP without LOGINDISABLED, POP3 USER
	// or SASL before STLS).
	if d := r.Dialogue; d != nil && len(d.PlaintextAuth) > 0 {
		add(FindingPlaintextAuth, SeverityMedium, fmt.Sprintf("%s offers authentication before TLS (%s): credentials may cross the network in clear",
			strings.ToUpper(d.Protocol), strings.Join(d.PlaintextAuth, ", ")))
	}
	// The dialogue showed a server without TLS: its clients talk to it in
	// clear.
	if d := r.Dialogue; d != nil && !d.STARTTLSAdvertised && r.Status == scan.StatusUnreachable && r.Error.Stage == scan.StagePreamble {
		add(FindingNoTLS, SeverityHigh, fmt.Sprintf("%s server offers no TLS (%s): its clients talk to it in clear",
			strings.ToUpper(d.Protocol), r.Error.Reason))
	}
	// RDP: standard RDP security (RC4, the server unauthenticated) for a
	// client that asks for it.
	if d := r.Dialogue; d != nil && d.Protocol == rdp.Name && strings.HasPrefix(d.Attributes[rdp.AttrStandardSecurity], "accepted") {
		add(FindingRDPStandardSecurity, SeverityHigh, "RDP also allows standard RDP security ("+d.Attributes[rdp.AttrStandardSecurity]+
			"): a client asking for it connects without TLS, with RC4 and no server authentication")
	}
	// What the enumeration saw beyond accepted and rejected.
	var cnc, poisons, oos []uint16
	var cncVers, poisonVers, oosVers []tls.Version
	var oosFacts []Fact
	cncReason, poisonReason := "", ""
	for _, v := range r.Versions {
		for _, id := range v.ChosenNotCompleted {
			cnc = appendNew(cnc, id)
			cncVers = appendNew(cncVers, v.Version)
		}
		if cncReason == "" {
			cncReason = v.ChosenNotCompletedReason
		}
		for _, id := range v.Poisons {
			poisons = appendNew(poisons, id)
			poisonVers = appendNew(poisonVers, v.Version)
		}
		if poisonReason == "" {
			poisonReason = v.PoisonReason
		}
		for _, id := range v.Suites {
			if s, ok := ciphers.ByID(id); ok && !s.Versions.Has(v.Version) {
				oos = appendNew(oos, id)
				oosVers = appendNew(oosVers, v.Version)
				oosFacts = append(oosFacts, suiteFact(v.Version, id))
			}
		}
	}
	if len(cnc) > 0 {
		f := add(FindingChosenNotCompleted, SeverityMedium, fmt.Sprintf("chooses %d %s it cannot complete (%s): a client that prefers one fails to connect",
			len(cnc), plural(len(cnc), "suite", "suites"), cncReason))
		f.Suites, f.Versions = cnc, cncVers
	}
	if len(poisons) > 0 {
		f := add(FindingListPoison, SeverityLow, "fails a whole hello that lists a suite it cannot carry out before one it accepts ("+poisonReason+"): clients listing such a suite first cannot connect")
		f.Suites, f.Versions = poisons, poisonVers
	}
	if len(oos) > 0 {
		f := add(FindingOutOfSpec, SeverityLow, fmt.Sprintf("accepts %d %s at versions their RFCs do not allow (the TLS implementation is out of spec)",
			len(oos), plural(len(oos), "suite", "suites")))
		f.Suites, f.Versions, f.Facts = oos, oosVers, oosFacts
	}
	slices.SortStableFunc(fs, func(a, b Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	if fs == nil {
		fs = []Finding{}
	}
	return fs
}

type versionSuite struct {
	version tls.Version
	id      uint16
}

// acceptedSuites lists the accepted (version, suite) pairs of r.
func acceptedSuites(r *scan.Result) []versionSuite {
	var out []versionSuite
	for _, v := range r.Versions {
		for _, id := range v.Suites {
			out = append(out, versionSuite{v.Version, id})
		}
	}
	return out
}

func appendNew[T comparable](list []T, x T) []T {
	if slices.Contains(list, x) {
		return list
	}
	return append(list, x)
}
