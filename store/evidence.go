package store

import (
	"cmp"

	"github.com/tlsmap/tlsmap/evidence"
)

// ObservationFact fills fact from one evidence observation (a log line's
// connection or request, logs.Reader's output; or a captured one): the
// ingest API for every kind of evidence. An observation of TLS whose
// version the evidence does not name (evidence.ClassUnknown) becomes an
// Unread fact of its server: a coverage gap, never an all-clear. It
// reports false for what is no evidence about TLS (plaintext).
func ObservationFact(fact *Fact, o *evidence.Observation) bool {
	*fact = Fact{}
	first, last := o.Time, o.End
	if last.Before(first) {
		last = first
	}
	switch o.Class() {
	case evidence.ClassPlaintext:
		return false
	case evidence.ClassUnknown:
		if !o.Server.IsValid() {
			return false // nowhere to count the gap
		}
		fact.Unread = true
		fact.Server = o.Server.String()
		fact.Count = int64(max(o.Count, 1))
		fact.First, fact.Last = first, last
		return true
	}
	fact.Client = o.Client
	fact.ClientName = o.ClientName
	if o.Via.IsValid() {
		fact.Via = o.Via.Unmap().String()
	}
	if o.Server.IsValid() {
		fact.Server = o.Server.String()
	}
	fact.Protocol = cmp.Or(o.Protocol, "tls")
	fact.Version = uint16(o.Version)
	if o.Cipher.Known {
		fact.Cipher = o.Cipher.ID
	}
	for _, v := range o.Offered {
		fact.Offered = append(fact.Offered, uint16(v))
	}
	if len(fact.Offered) == 0 && o.MaxOffered != 0 {
		fact.Offered = []uint16{uint16(o.MaxOffered)}
	}
	fact.SNI, fact.JA3, fact.JA4, fact.Label = o.ServerName, o.JA3, o.JA4, o.Label
	for _, why := range o.LegacyReasons() {
		switch why {
		case evidence.ReasonNegotiated:
			fact.Legacy |= LegacyNegotiated
		case evidence.ReasonOffered:
			fact.Legacy |= LegacyOffered
		case evidence.ReasonSSLv2Hello:
			fact.Legacy |= LegacySSLv2Hello
		}
	}
	fact.Count = int64(max(o.Count, 1))
	fact.First, fact.Last = first, last
	return true
}
