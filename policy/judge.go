package policy

import (
	"slices"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// FactKind says what a Fact is about.
type FactKind uint8

// The kinds of fact the findings and the policy rules judge.
const (
	FactNone       FactKind = iota
	FactVersion             // an accepted version (Version)
	FactSuite               // an accepted suite at a version (Version, Suite)
	FactSSLv2Kind           // an accepted SSL 2.0 cipher kind (Kind)
	FactDHPrime             // the size of the server's own DHE prime
	FactGroup               // an accepted group of a group scan (Version, Group)
	FactCertExpiry          // the leaf certificate's expiry
	FactCertTrust           // the chain's verification
	FactCertName            // the leaf's match of the host name
	FactCertKey             // the leaf's key size
)

// Fact is one thing about an endpoint that a finding or a rule judges:
// a finding lists the facts it reports (Finding.Facts), a violation the
// one it is about (Violation.Fact). A finding and a violation that share a
// fact are two judgements of the same thing: the version accepted, the
// suite accepted at that version, the certificate's trust.
type Fact struct {
	Kind      FactKind
	Version   tls.Version // FactVersion, FactSuite, FactGroup
	Suite     uint16      // FactSuite
	Group     uint16      // FactGroup
	SSLv2Kind uint32      // FactSSLv2Kind: the cipher kind (ciphers.SSLv2Kinds)
}

// Judgement is what tlsmap concludes about one endpoint: the findings
// every report shows (the table, JSON, the demo) and, under a policy, the
// gate's verdict, evaluated over the same result beside those findings.
type Judgement struct {
	Findings []Finding
	// Verdict is nil without a policy. Each of its violations names, in
	// Findings, the findings that judged the same fact.
	Verdict *Verdict
}

// Judge derives r's findings and, when p is not nil, evaluates p on r
// with o (EvaluateWith), linking each violation to the findings of its
// fact.
func Judge(r *scan.Result, p *Policy, o Options) Judgement {
	j := Judgement{Findings: Findings(r)}
	if p == nil {
		return j
	}
	v := EvaluateWith(p, r, o)
	for i := range v.Violations {
		x := &v.Violations[i]
		for _, f := range j.Findings {
			if x.Fact.Kind != FactNone && slices.Contains(f.Facts, x.Fact) {
				x.Findings = append(x.Findings, f.ID)
			}
		}
	}
	j.Verdict = &v
	return j
}

// versionFact, suiteFact, sslv2Fact and groupFact build facts.
func versionFact(v tls.Version) Fact          { return Fact{Kind: FactVersion, Version: v} }
func suiteFact(v tls.Version, id uint16) Fact { return Fact{Kind: FactSuite, Version: v, Suite: id} }
func sslv2Fact(k uint32) Fact {
	return Fact{Kind: FactSSLv2Kind, Version: tls.VersionSSL20, SSLv2Kind: k}
}
func groupFact(v tls.Version, g uint16) Fact { return Fact{Kind: FactGroup, Version: v, Group: g} }
