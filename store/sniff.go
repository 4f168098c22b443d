package store

import (
	"github.com/tlsmap/tlsmap/sniff"
)

// FlowFacts appends to dst the facts of one connection the sniffer
// reported (label: its fingerprint label, "" when unknown): the facts of
// its evidence observations (sniff.Observations: its hellos, a
// balancer's PROXY report, the requests a balancer forwarded), with the
// ClientHello's offered suites for the fingerprints table. A connection
// with no evidence whose bytes were missed (Truncated set: the capture
// began inside it, a gap) becomes an Unread fact: a coverage gap of its
// server. A plaintext connection with nothing missing yields nothing.
func FlowFacts(dst []Fact, f *sniff.Flow, label string) []Fact {
	if !f.HasEvidence() {
		if f.Truncated == "" || !f.Server.IsValid() {
			return dst
		}
		return append(dst, Fact{Unread: true, Server: f.Server.String(), Count: 1, First: f.FirstSeen, Last: f.LastSeen})
	}
	for _, o := range sniff.Observations(f, label) {
		var fact Fact
		if !ObservationFact(&fact, &o) {
			continue
		}
		if f.HasClientHello() && !fact.Unread {
			fact.OfferedCiphers = f.CipherSuites
		}
		dst = append(dst, fact)
	}
	return dst
}
