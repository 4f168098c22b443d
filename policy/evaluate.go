package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// Status is the verdict on one endpoint.
type Status string

const (
	// Pass: every rule of the policy was checked and holds.
	Pass Status = "pass"
	// Fail: at least one violation was seen.
	Fail Status = "fail"
	// Inconclusive: no violation was seen, but a part some rule depends on
	// could not be decided (an inconclusive or unprobed version, undecided
	// suites, no certificate), or the endpoint was unreachable.
	Inconclusive Status = "inconclusive"
)

// String returns "pass", "fail" or "inconclusive".
func (s Status) String() string { return string(s) }

// Violation is one thing the endpoint does that the policy forbids.
type Violation struct {
	Rule    string // RuleMinVersion …
	Message string // "accepts TLSv1.0 (the minimum is TLSv1.2)"
	// Version is the wire version the violation is about (0: none, as for
	// certificate rules).
	Version tls.Version
	// Suite is the cipher suite it is about, when HasSuite.
	Suite    uint16
	HasSuite bool
	// Fact is what the violation is about: the accepted version, suite
	// or group, the certificate or the DHE prime.
	Fact Fact
	// Findings are the findings of the same Fact (Judge fills them in;
	// nil from Evaluate, or when no finding judges that fact: TLS 1.2
	// under a TLS 1.3 minimum).
	Findings []FindingID
}

// Undecided is a rule that could not be checked on some part, and why.
type Undecided struct {
	Rule   string
	Reason string
}

// Verdict is the policy's judgement of one endpoint.
type Verdict struct {
	Target scan.Target
	Policy string // the policy's name
	Status Status
	// Violations are in the order the rules are listed (Rules), then by
	// version and suite.
	Violations []Violation
	// Inconclusive are the rules left undecided on some part; they make
	// the Status Inconclusive when there is no violation.
	Inconclusive []Undecided
	// Rules are the rules the policy checks (Policy.RuleIDs).
	Rules []string
}

// RuleOutcome returns what the verdict says about one rule: Fail with its
// violations, Inconclusive with its reasons, or Pass.
func (v *Verdict) RuleOutcome(rule string) (Status, []Violation, []Undecided) {
	var vs []Violation
	for _, x := range v.Violations {
		if x.Rule == rule {
			vs = append(vs, x)
		}
	}
	var us []Undecided
	for _, u := range v.Inconclusive {
		if u.Rule == rule {
			us = append(us, u)
		}
	}
	switch {
	case len(vs) > 0:
		return Fail, vs, us
	case len(us) > 0:
		return Inconclusive, nil, us
	}
	return Pass, nil, nil
}

// Evaluate judges r against p. An unreachable endpoint is Inconclusive;
// so is one whose relevant parts are inconclusive or were not probed
// (TLS 1.0 inconclusive under a TLS 1.2 minimum), unless a violation was
// seen, which makes it Fail. It never passes on what was not seen.
func Evaluate(p *Policy, r *scan.Result) Verdict { return evaluate(p, r, nil) }

// Options says how the scan behind a result was run, where it matters to
// the verdict.
type Options struct {
	// NotEnumerated reports whether a version's suites were not
	// enumerated (scan.Options.VersionsOnly, or a version outside
	// scan.Options.SuitesFor): its accepted suite rules are then
	// inconclusive unless a violation was seen. nil: every version was.
	NotEnumerated func(version tls.Version) bool
}

// EvaluateWith is Evaluate for a scan run with o.
func EvaluateWith(p *Policy, r *scan.Result, o Options) Verdict {
	return evaluate(p, r, o.NotEnumerated)
}

type evaluator struct {
	p             *Policy
	r             *scan.Result
	v             *Verdict
	notEnumerated func(tls.Version) bool
}

func evaluate(p *Policy, r *scan.Result, notEnumerated func(tls.Version) bool) Verdict {
	v := Verdict{Target: r.Target, Policy: p.Name, Rules: p.RuleIDs()}
	e := &evaluator{p: p, r: r, v: &v, notEnumerated: notEnumerated}
	switch r.Status {
	case scan.StatusUnreachable, scan.StatusDialogueError, scan.StatusNotStarted:
		// Nothing of TLS was seen.
		e.undecided(RuleReachable, "%s: %s", r.Status, r.Error)
		v.Status = Inconclusive
		return v
	case scan.StatusInconclusive:
		e.undecided(RuleReachable, "inconclusive: %s", r.Error)
	}
	e.versions()
	e.suites()
	e.keys()
	e.cert()
	order := map[string]int{}
	for i, ri := range ruleInfos {
		order[ri.ID] = i
	}
	slices.SortStableFunc(v.Violations, func(a, b Violation) int { return order[a.Rule] - order[b.Rule] })
	slices.SortStableFunc(v.Inconclusive, func(a, b Undecided) int { return order[a.Rule] - order[b.Rule] })
	switch {
	case len(v.Violations) > 0:
		v.Status = Fail
	case len(v.Inconclusive) > 0:
		v.Status = Inconclusive
	default:
		v.Status = Pass
	}
	return v
}

// fail records a violation of rule about fact f.
func (e *evaluator) fail(rule string, f Fact, format string, args ...any) {
	x := Violation{Rule: rule, Message: fmt.Sprintf(format, args...), Version: f.Version, Fact: f}
	if f.Kind == FactSuite {
		x.Suite, x.HasSuite = f.Suite, true
	}
	e.v.Violations = append(e.v.Violations, x)
}

func (e *evaluator) undecided(rule, format string, args ...any) {
	u := Undecided{Rule: rule, Reason: fmt.Sprintf(format, args...)}
	if !slices.Contains(e.v.Inconclusive, u) {
		e.v.Inconclusive = append(e.v.Inconclusive, u)
	}
}

// outcome returns the scan's outcome for version v; probed is false when
// v was not asked for.
func outcome(r *scan.Result, v tls.Version) (o scan.Outcome, reason string, probed bool) {
	if v == tls.VersionSSL20 {
		if r.SSLv2 == nil {
			return "", "", false
		}
		return r.SSLv2.Outcome, r.SSLv2.Reason, true
	}
	vr := r.Version(v)
	if vr == nil {
		return "", "", false
	}
	return vr.Outcome, vr.Reason, true
}

// versions checks min-version and forbidden-version.
func (e *evaluator) versions() {
	for _, ver := range scannable {
		rule := e.p.forbidsVersion(ver)
		if rule == "" {
			continue
		}
		name := ver.String()
		o, reason, probed := outcome(e.r, ver)
		switch {
		case !probed:
			e.undecided(rule, "%s was not probed", name)
		case o == scan.Accepted && rule == RuleMinVersion:
			e.fail(rule, versionFact(ver), "accepts %s (the minimum is %s)", name, e.p.MinVersion)
		case o == scan.Accepted:
			e.fail(rule, versionFact(ver), "accepts %s, which the policy forbids", name)
		case o == scan.Inconclusive:
			e.undecided(rule, "%s is inconclusive (%s)", name, reason)
		}
	}
}

// suiteCheck is one suite rule of the policy: bad returns why a suite
// breaks it, or "".
type suiteCheck struct {
	rule string
	bad  func(s ciphers.Suite) string
}

func (p *Policy) suiteChecks() []suiteCheck {
	var cs []suiteCheck
	if len(p.ForbiddenSuites) > 0 {
		cs = append(cs, suiteCheck{RuleForbiddenSuite, func(s ciphers.Suite) string {
			for _, fr := range p.ForbiddenSuites {
				if fr.Match(s) {
					return "forbidden by " + quoteRule(fr)
				}
			}
			return ""
		}})
	}
	if len(p.AllowedSuites) > 0 {
		cs = append(cs, suiteCheck{RuleAllowedSuites, func(s ciphers.Suite) string {
			for _, ar := range p.AllowedSuites {
				if ar.Match(s) {
					return ""
				}
			}
			return "not in the policy's allowed list"
		}})
	}
	if p.RequirePFS {
		cs = append(cs, suiteCheck{RuleRequirePFS, func(s ciphers.Suite) string {
			if s.PFS {
				return ""
			}
			return "no forward secrecy"
		}})
	}
	if p.RequireAEAD {
		cs = append(cs, suiteCheck{RuleRequireAEAD, func(s ciphers.Suite) string {
			if s.AEAD {
				return ""
			}
			return "not AEAD"
		}})
	}
	return cs
}

func quoteRule(r SuiteRule) string { return "\"" + r.String() + "\"" }

func suiteLabel(s ciphers.Suite) string {
	name := s.OpenSSLName
	if name == "" {
		name = s.Name
	}
	return fmt.Sprintf("%s (%s)", name, s.HexID())
}

// sslv2Suite describes an SSL 2.0 cipher kind as a suite, for the suite
// rules: RSA key transport, an MD5 MAC, never AEAD, always insecure.
func sslv2Suite(k ciphers.SSLv2Kind) ciphers.Suite {
	s := ciphers.Suite{
		Name: k.Name, OpenSSLName: k.OpenSSLName, Kex: "RSA", Auth: "RSA", MAC: "MD5", Mode: "CBC",
		Bits: k.Bits, Export: k.Export, Grade: ciphers.GradeInsecure,
	}
	n := strings.ToUpper(k.OpenSSLName)
	switch {
	case strings.Contains(n, "RC4"):
		s.Enc, s.Mode = "RC4", "STREAM"
	case strings.Contains(n, "RC2"):
		s.Enc = "RC2"
	case strings.Contains(n, "CBC3"):
		s.Enc = "3DES_EDE"
	case strings.Contains(n, "IDEA"):
		s.Enc = "IDEA"
	case strings.Contains(n, "DES"):
		s.Enc = "DES"
	}
	return s
}

// suites checks the suite rules on every version the policy allows.
func (e *evaluator) suites() {
	checks := e.p.suiteChecks()
	if len(checks) == 0 {
		return
	}
	anyBad := func(c suiteCheck, ids []uint16) int {
		n := 0
		for _, id := range ids {
			if s, ok := ciphers.ByID(id); ok && c.bad(s) != "" {
				n++
			}
		}
		return n
	}
	candidates := func(v tls.Version) []uint16 {
		var ids []uint16
		for _, s := range ciphers.ForVersion(v) {
			ids = append(ids, s.ID)
		}
		return ids
	}

	// SSLv2, when the policy does not forbid it outright.
	if e.p.forbidsVersion(tls.VersionSSL20) == "" {
		o, reason, probed := outcome(e.r, tls.VersionSSL20)
		for _, c := range checks {
			switch {
			case !probed:
				e.undecided(c.rule, "SSLv2 was not probed")
			case o == scan.Inconclusive:
				e.undecided(c.rule, "SSLv2 is inconclusive (%s)", reason)
			case o == scan.Accepted:
				for _, k := range e.r.SSLv2.Kinds {
					kind, ok := ciphers.SSLv2KindByID(k)
					if !ok {
						continue
					}
					if why := c.bad(sslv2Suite(kind)); why != "" {
						e.fail(c.rule, sslv2Fact(k), "SSLv2 accepts %s (0x%06X): %s", kind.OpenSSLName, k, why)
					}
				}
			}
		}
	}

	for _, ver := range scannable[1:] {
		if e.p.forbidsVersion(ver) != "" {
			continue // the version rule reports it; its suites would only repeat it
		}
		name := ver.String()
		vr := e.r.Version(ver)
		for _, c := range checks {
			if vr == nil {
				if anyBad(c, candidates(ver)) > 0 {
					e.undecided(c.rule, "%s was not probed, so its suites are unknown", name)
				}
				continue
			}
			for _, id := range vr.Suites {
				s, ok := ciphers.ByID(id)
				if !ok {
					continue
				}
				if why := c.bad(s); why != "" {
					e.fail(c.rule, suiteFact(ver, id), "%s accepts %s: %s", name, suiteLabel(s), why)
				}
			}
			undecided, reason := vr.Inconclusive, vr.InconclusiveReason
			if vr.Outcome == scan.Inconclusive {
				if len(undecided) == 0 {
					undecided = candidates(ver)
				}
				if reason == "" {
					reason = vr.Reason
				}
			}
			if n := anyBad(c, undecided); n > 0 {
				e.undecided(c.rule, "%s: %d %s the rule forbids %s undecided (%s)", name, n,
					plural(n, "suite", "suites"), plural(n, "is", "are"), reason)
			}
			if e.notEnumerated != nil && e.notEnumerated(ver) && vr.Outcome == scan.Accepted && anyBad(c, candidates(ver)) > 0 {
				e.undecided(c.rule, "%s: suites not enumerated (--versions-only or --ciphers)", name)
			}
		}
	}
}

// accepted reports whether the endpoint accepted any version at all: the
// key and certificate rules only apply to an endpoint that speaks TLS.
func (e *evaluator) accepted() bool {
	if e.r.SSLv2 != nil && e.r.SSLv2.Outcome == scan.Accepted {
		return true
	}
	return slices.ContainsFunc(e.r.Versions, func(v scan.VersionResult) bool { return v.Outcome == scan.Accepted })
}

// allowedAccepted returns the accepted suites of the versions the policy
// allows, TLS ≤ 1.2 or 1.3.
func (e *evaluator) allowedAccepted(tls13 bool) []ciphers.Suite {
	var out []ciphers.Suite
	for _, vr := range e.r.Versions {
		if vr.Outcome != scan.Accepted || (vr.Version == tls.VersionTLS13) != tls13 || e.p.forbidsVersion(vr.Version) != "" {
			continue
		}
		for _, id := range vr.Suites {
			if s, ok := ciphers.ByID(id); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// leaf returns the leaf certificate, or why there is none.
func (e *evaluator) leaf() (*scan.CertSummary, string) {
	c := e.r.Cert
	switch {
	case c == nil && !e.r.CertError.IsZero():
		return nil, "no certificate: " + e.r.CertError.String()
	case c == nil && e.r.CertSkipped != "":
		return nil, "certificate not checked: " + e.r.CertSkipped
	case c == nil:
		return nil, "certificate not checked (the certificate handshake did not run: --no-cert, --versions-only without --cert, or the scan stopped early)"
	case len(c.Chain) == 0:
		return nil, "the server sent no certificate"
	case c.Chain[0].ParseError != "":
		return nil, "the leaf certificate does not parse: " + c.Chain[0].ParseError
	}
	return &c.Chain[0], ""
}

// ecBits is a curve's size for min-ec-bits: X25519 counts as 256 (the
// strength class of P-256, beside which Mozilla lists it), X448 as 448.
func ecBits(g ciphers.Group) int {
	switch strings.ToLower(g.Name) {
	case "x25519":
		return 256
	case "x448":
		return 448
	}
	return g.Bits
}

// keys checks min-rsa-bits, min-ec-bits and min-dh-bits.
func (e *evaluator) keys() {
	p := e.p
	if !e.accepted() || p.MinRSABits == 0 && p.MinECBits == 0 && p.MinDHBits == 0 {
		return
	}
	leaf, why := e.leaf()
	if p.MinRSABits > 0 {
		switch {
		case leaf == nil:
			e.undecided(RuleMinRSABits, "%s", why)
		case leaf.KeyType == "RSA" && leaf.KeyBits < p.MinRSABits:
			e.fail(RuleMinRSABits, Fact{Kind: FactCertKey}, "certificate RSA key of %d bits (the minimum is %d)", leaf.KeyBits, p.MinRSABits)
		}
	}
	if p.MinECBits > 0 {
		switch {
		case leaf == nil:
			e.undecided(RuleMinECBits, "%s", why)
		case leaf.KeyType == "ECDSA" && leaf.KeyBits < p.MinECBits:
			e.fail(RuleMinECBits, Fact{Kind: FactCertKey}, "certificate ECDSA key of %d bits (the minimum is %d)", leaf.KeyBits, p.MinECBits)
		}
		ecdhe := slices.ContainsFunc(e.allowedAccepted(false), func(s ciphers.Suite) bool { return strings.HasPrefix(s.Kex, "ECDHE") })
		tls13 := len(e.allowedAccepted(true)) > 0
		e.groups(scan.GroupECDHE, ecdhe, "ecdhe", p.MinECBits, RuleMinECBits, ecBits)
		e.groups(scan.GroupTLS13, tls13, "ecdhe", p.MinECBits, RuleMinECBits, ecBits)
	}
	if p.MinDHBits > 0 {
		dhe := slices.ContainsFunc(e.allowedAccepted(false), func(s ciphers.Suite) bool { return s.Kex == "DHE" || s.Kex == "DHE_PSK" })
		switch {
		case dhe && e.r.DHPrimeBits == 0:
			e.undecided(RuleMinDHBits, "a DHE suite is accepted but the size of its prime is unknown (the DHE prime probe did not run: --no-groups?)")
		case dhe && e.r.DHPrimeBits < p.MinDHBits:
			e.fail(RuleMinDHBits, Fact{Kind: FactDHPrime}, "DHE prime of %d bits (the minimum is %d)", e.r.DHPrimeBits, p.MinDHBits)
		}
		bits := func(g ciphers.Group) int { return g.Bits }
		e.groups(scan.GroupFFDHE, false, "ffdhe", p.MinDHBits, RuleMinDHBits, bits)
		e.groups(scan.GroupTLS13, false, "ffdhe", p.MinDHBits, RuleMinDHBits, bits)
	}
}

// groups checks the accepted groups of one scan whose kind (ciphers.Group
// Kind) is groupKind against min bits. needed says the scan must exist.
func (e *evaluator) groups(k scan.GroupKind, needed bool, groupKind string, min int, rule string, size func(ciphers.Group) int) {
	g := e.r.Group(k)
	if g == nil {
		if needed {
			e.undecided(rule, "the %s group scan did not run (--no-groups or --versions-only), so the curves are unknown", k)
		}
		return
	}
	if e.p.forbidsVersion(g.Version) != "" {
		return
	}
	small := func(id uint16) (ciphers.Group, bool) {
		gi, ok := ciphers.GroupByID(id)
		return gi, ok && gi.Kind == groupKind && size(gi) < min
	}
	for _, id := range g.Groups {
		if gi, bad := small(id); bad {
			e.fail(rule, groupFact(g.Version, id), "%s accepts group %s (%d bits; the minimum is %d)", g.Version.String(), gi.Name, size(gi), min)
		}
	}
	undecided := g.Inconclusive
	if g.Outcome == scan.Inconclusive && len(undecided) == 0 && needed {
		e.undecided(rule, "the %s group scan is inconclusive (%s)", k, g.Reason)
	}
	for _, id := range undecided {
		if _, bad := small(id); bad {
			e.undecided(rule, "the %s group scan left groups below the minimum undecided (%s)", k, g.InconclusiveReason)
			break
		}
	}
}

// cert checks cert-expiry, cert-trusted and cert-hostname.
func (e *evaluator) cert() {
	p := e.p
	if !e.accepted() || p.CertExpiryDays == 0 && !p.RequireTrustedCert && !p.RequireHostnameMatch {
		return
	}
	leaf, why := e.leaf()
	if p.CertExpiryDays > 0 {
		switch {
		case leaf == nil:
			e.undecided(RuleCertExpiry, "%s", why)
		case leaf.DaysToExpiry < 0:
			e.fail(RuleCertExpiry, Fact{Kind: FactCertExpiry}, "certificate expired %d days ago (%s)", -leaf.DaysToExpiry, leaf.NotAfter.UTC().Format("2006-01-02"))
		case leaf.DaysToExpiry < p.CertExpiryDays:
			e.fail(RuleCertExpiry, Fact{Kind: FactCertExpiry}, "certificate expires in %d days (%s; the policy wants at least %d)", leaf.DaysToExpiry, leaf.NotAfter.UTC().Format("2006-01-02"), p.CertExpiryDays)
		}
	}
	c := e.r.Cert
	if p.RequireTrustedCert {
		switch {
		case leaf == nil:
			e.undecided(RuleCertTrusted, "%s", why)
		case !c.Verified && c.VerifyError != "":
			e.fail(RuleCertTrusted, Fact{Kind: FactCertTrust}, "certificate not trusted: %s", c.VerifyError)
		case !c.Verified:
			e.fail(RuleCertTrusted, Fact{Kind: FactCertTrust}, "certificate not trusted")
		}
	}
	if p.RequireHostnameMatch {
		switch {
		case leaf == nil:
			e.undecided(RuleCertHostname, "%s", why)
		case !c.HostnameMatch && c.HostnameError != "":
			e.fail(RuleCertHostname, Fact{Kind: FactCertName}, "certificate does not match the host name: %s", c.HostnameError)
		case !c.HostnameMatch:
			e.undecided(RuleCertHostname, "no host name to check the certificate against (an IP target: give --sni)")
		}
	}
}

// Gate returns the function for scan.Options.Gate: it reports true (stop)
// as soon as an accepted version or suite breaks a version or suite rule
// of p. Key sizes and the certificate are only known at the end, so they
// never stop a scan. It is safe for concurrent use.
func (p *Policy) Gate() func(scan.GateEvent) bool {
	checks := p.suiteChecks()
	return func(ev scan.GateEvent) bool {
		if p.forbidsVersion(ev.Version) != "" {
			return true
		}
		if ev.Version == tls.VersionSSL20 {
			for _, k := range ev.SSLv2Kinds {
				kind, ok := ciphers.SSLv2KindByID(k)
				if !ok {
					continue
				}
				for _, c := range checks {
					if c.bad(sslv2Suite(kind)) != "" {
						return true
					}
				}
			}
			return false
		}
		s, ok := ciphers.ByID(ev.Suite)
		if !ok {
			return false
		}
		for _, c := range checks {
			if c.bad(s) != "" {
				return true
			}
		}
		return false
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
