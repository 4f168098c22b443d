// Package policy decides whether scanned endpoints meet a TLS policy: the
// versions they may accept, the cipher suites, the key sizes and the
// certificate. It is what turns `tlsmap scan` into a CI gate.
//
// A Policy comes from a built-in profile (Profile, Profiles) or from a YAML
// or JSON file (Parse, Load). Evaluate judges one scan.Result and returns a
// Verdict: Pass, Fail (with the violations, each under a stable rule ID) or
// Inconclusive, when a part the policy depends on could not be decided — an
// endpoint is never passed on what was not seen. Gate returns the callback
// for scan.Options.Gate that stops a scan at its first violation.
//
// docs/policies.md documents every rule, the profiles and the file format.
package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// ErrInvalid is wrapped by every error of a policy that cannot be used: a
// file that does not parse, an unknown key or value, a policy with no rule.
var ErrInvalid = errors.New("policy: invalid")

// ErrUnknownProfile is wrapped by Profile's error for a name that is no
// built-in profile.
var ErrUnknownProfile = errors.New("policy: unknown profile")

// Policy is what an endpoint must meet. The zero value of a field means
// "no requirement". A Policy is read-only once built and safe to share.
type Policy struct {
	// Name is the profile's name or the file's name: key, used in reports.
	Name string
	// Description is one line for people; optional.
	Description string

	// MinVersion forbids every version below it (rule min-version), by
	// wire value (tls.VersionTLS12); SSLv2 (0x0002) is below them all.
	MinVersion tls.Version
	// ForbiddenVersions are forbidden whatever MinVersion says (rule
	// forbidden-version).
	ForbiddenVersions []tls.Version

	// ForbiddenSuites: an accepted suite matching any of them is a
	// violation (rule forbidden-suite).
	ForbiddenSuites []SuiteRule
	// AllowedSuites, when not empty, is the complete list of suites an
	// endpoint may accept: any other accepted suite is a violation (rule
	// allowed-suites).
	AllowedSuites []SuiteRule
	// RequirePFS: every accepted suite has forward secrecy (rule
	// require-pfs).
	RequirePFS bool
	// RequireAEAD: every accepted suite is AEAD (rule require-aead).
	RequireAEAD bool

	// MinRSABits: the leaf certificate's RSA key has at least this many
	// bits (rule min-rsa-bits).
	MinRSABits int
	// MinECBits: the leaf's ECDSA key and every accepted elliptic curve
	// (TLS 1.3 and ECDHE groups) have at least this many bits; X25519
	// counts as 256 (rule min-ec-bits).
	MinECBits int
	// MinDHBits: the DHE prime of TLS ≤ 1.2 (and any accepted FFDHE
	// group) has at least this many bits (rule min-dh-bits).
	MinDHBits int

	// CertExpiryDays fails an endpoint whose leaf certificate expires
	// within this many days, or has expired (rule cert-expiry).
	CertExpiryDays int
	// RequireTrustedCert: the chain verifies against the system roots
	// (rule cert-trusted).
	RequireTrustedCert bool
	// RequireHostnameMatch: the leaf is valid for the name scanned (rule
	// cert-hostname).
	RequireHostnameMatch bool
}

// Rule IDs. They are stable: scripts, JUnit test names and SARIF ruleIds
// use them.
const (
	RuleReachable        = "reachable" // only ever inconclusive: the endpoint was not scanned to the end
	RuleMinVersion       = "min-version"
	RuleForbiddenVersion = "forbidden-version"
	RuleForbiddenSuite   = "forbidden-suite"
	RuleAllowedSuites    = "allowed-suites"
	RuleRequirePFS       = "require-pfs"
	RuleRequireAEAD      = "require-aead"
	RuleMinRSABits       = "min-rsa-bits"
	RuleMinECBits        = "min-ec-bits"
	RuleMinDHBits        = "min-dh-bits"
	RuleCertExpiry       = "cert-expiry"
	RuleCertTrusted      = "cert-trusted"
	RuleCertHostname     = "cert-hostname"
)

// RuleInfo describes a rule for reports (SARIF rules, `tlsmap policies`).
type RuleInfo struct {
	ID    string
	Short string // one sentence
	Help  string // what to do about a violation
}

var ruleInfos = []RuleInfo{
	{RuleReachable, "The endpoint was reached and scanned to the end.",
		"An unreachable or inconclusive endpoint can neither pass nor fail: check the address, the port and any firewall, or raise --timeout, and scan again."},
	{RuleMinVersion, "No protocol version below the policy's minimum is accepted.",
		"Disable the old versions in the server's TLS configuration (for example ssl_protocols in nginx, SSLProtocol in Apache, MinProtocol in OpenSSL)."},
	{RuleForbiddenVersion, "No version the policy forbids is accepted.",
		"Disable the forbidden versions in the server's TLS configuration."},
	{RuleForbiddenSuite, "No cipher suite the policy forbids is accepted.",
		"Remove the suites from the server's cipher list (ssl_ciphers, SSLCipherSuite, CipherString)."},
	{RuleAllowedSuites, "Only the cipher suites the policy lists are accepted.",
		"Set the server's cipher list to the policy's list."},
	{RuleRequirePFS, "Every accepted cipher suite has forward secrecy (ECDHE, DHE, or TLS 1.3).",
		"Remove static RSA and static DH suites from the server's cipher list."},
	{RuleRequireAEAD, "Every accepted cipher suite is AEAD (GCM, CCM, ChaCha20-Poly1305).",
		"Remove CBC, RC4 and other non-AEAD suites from the server's cipher list."},
	{RuleMinRSABits, "The certificate's RSA key is at least the policy's size.",
		"Issue a new certificate with a larger RSA key (2048 bits or more) or an ECDSA key."},
	{RuleMinECBits, "The certificate's ECDSA key and the accepted elliptic curves are at least the policy's size.",
		"Use P-256 or larger curves (X25519 counts as 256 bits) for the certificate and for key exchange."},
	{RuleMinDHBits, "The DHE group is at least the policy's size.",
		"Configure a DH group of 2048 bits or more (ssl_dhparam; RFC 7919 ffdhe2048), or remove DHE suites."},
	{RuleCertExpiry, "The certificate does not expire within the policy's number of days.",
		"Renew the certificate."},
	{RuleCertTrusted, "The certificate chain verifies against the system's trusted roots.",
		"Serve a certificate from a trusted CA with its complete intermediate chain."},
	{RuleCertHostname, "The certificate is valid for the name scanned.",
		"Serve a certificate whose subject alternative names include the host name."},
}

// Rules returns every rule, in the order reports list them.
func Rules() []RuleInfo { return slices.Clone(ruleInfos) }

// Rule returns the rule with this ID.
func Rule(id string) (RuleInfo, bool) {
	i := slices.IndexFunc(ruleInfos, func(r RuleInfo) bool { return r.ID == id })
	if i < 0 {
		return RuleInfo{}, false
	}
	return ruleInfos[i], true
}

// RuleIDs returns the rules this policy checks, in the order of Rules,
// RuleReachable first (every policy needs the endpoint scanned).
func (p *Policy) RuleIDs() []string {
	ids := []string{RuleReachable}
	add := func(on bool, id string) {
		if on {
			ids = append(ids, id)
		}
	}
	add(p.MinVersion != 0, RuleMinVersion)
	add(len(p.ForbiddenVersions) > 0, RuleForbiddenVersion)
	add(len(p.ForbiddenSuites) > 0, RuleForbiddenSuite)
	add(len(p.AllowedSuites) > 0, RuleAllowedSuites)
	add(p.RequirePFS, RuleRequirePFS)
	add(p.RequireAEAD, RuleRequireAEAD)
	add(p.MinRSABits > 0, RuleMinRSABits)
	add(p.MinECBits > 0, RuleMinECBits)
	add(p.MinDHBits > 0, RuleMinDHBits)
	add(p.CertExpiryDays > 0, RuleCertExpiry)
	add(p.RequireTrustedCert, RuleCertTrusted)
	add(p.RequireHostnameMatch, RuleCertHostname)
	return ids
}

// validate checks what the file format cannot: at least one rule, sane
// numbers.
func (p *Policy) validate() error {
	for _, n := range []struct {
		name string
		v    int
	}{{"min_rsa_bits", p.MinRSABits}, {"min_ec_bits", p.MinECBits}, {"min_dh_bits", p.MinDHBits}, {"cert_expiry_days", p.CertExpiryDays}} {
		if n.v < 0 || n.v > 1<<16 {
			return fmt.Errorf("%w: %s %d: want 0 (no requirement) to 65536", ErrInvalid, n.name, n.v)
		}
	}
	if len(p.RuleIDs()) == 1 {
		return fmt.Errorf("%w: policy %q has no rule: it would pass every endpoint", ErrInvalid, p.Name)
	}
	return nil
}

// forbidsVersion returns the rule that forbids version v, or "".
func (p *Policy) forbidsVersion(v tls.Version) string {
	switch {
	case p.MinVersion != 0 && v < p.MinVersion:
		return RuleMinVersion
	case slices.Contains(p.ForbiddenVersions, v):
		return RuleForbiddenVersion
	}
	return ""
}

// Describe returns the policy's rules as lines for people, one per rule,
// with their parameters ("min-version: TLSv1.2").
func (p *Policy) Describe() []string {
	var out []string
	if p.MinVersion != 0 {
		out = append(out, fmt.Sprintf("%s: %s", RuleMinVersion, p.MinVersion.String()))
	}
	if len(p.ForbiddenVersions) > 0 {
		var names []string
		for _, v := range p.ForbiddenVersions {
			names = append(names, v.String())
		}
		out = append(out, fmt.Sprintf("%s: %s", RuleForbiddenVersion, strings.Join(names, ", ")))
	}
	suiteList := func(rs []SuiteRule) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.String())
		}
		return strings.Join(s, ", ")
	}
	if len(p.ForbiddenSuites) > 0 {
		out = append(out, fmt.Sprintf("%s: %s", RuleForbiddenSuite, suiteList(p.ForbiddenSuites)))
	}
	if len(p.AllowedSuites) > 0 {
		out = append(out, fmt.Sprintf("%s: %s", RuleAllowedSuites, suiteList(p.AllowedSuites)))
	}
	if p.RequirePFS {
		out = append(out, RuleRequirePFS)
	}
	if p.RequireAEAD {
		out = append(out, RuleRequireAEAD)
	}
	for _, n := range []struct {
		id string
		v  int
	}{{RuleMinRSABits, p.MinRSABits}, {RuleMinECBits, p.MinECBits}, {RuleMinDHBits, p.MinDHBits}, {RuleCertExpiry, p.CertExpiryDays}} {
		if n.v > 0 {
			out = append(out, fmt.Sprintf("%s: %d", n.id, n.v))
		}
	}
	if p.RequireTrustedCert {
		out = append(out, RuleCertTrusted)
	}
	if p.RequireHostnameMatch {
		out = append(out, RuleCertHostname)
	}
	return out
}
