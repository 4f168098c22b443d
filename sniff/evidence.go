package sniff

import (
	"cmp"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Observations is the evidence a flow holds about its client's TLS, in
// the terms tlsmap logs uses for a server's log line, so that captures
// and logs aggregate alike (evidence.Report, evidence.Aggregator); label
// is the fingerprint file's name for it. A flow yields:
//
//   - for a TLS connection, one observation: the negotiated version and
//     suite, the highest version offered, the fingerprints;
//   - behind a balancer that terminated TLS and reported it in a PROXY
//     header (PP2_TYPE_SSL), one observation of the client's TLS to the
//     balancer, the server being the balancer's frontend (whatever the
//     requests that follow say);
//   - behind a balancer whose PROXY header says nothing of TLS and with no
//     TLS after it, one observation of unknown TLS: the client may have
//     used TLS to the balancer;
//   - for plaintext HTTP a balancer forwarded (Flow.Requests), one per
//     group of requests: the client its forwarded-for header named, TLS
//     of the version the TLS header reported, else unknown (plaintext when
//     nothing named a client behind the peer);
//   - nothing for a flow that says nothing of TLS.
func Observations(f *Flow, label string) []evidence.Observation {
	base := evidence.Observation{
		Source: evidence.SourceCapture, Time: f.FirstSeen, End: f.LastSeen,
		Client: f.Client.Addr(), Server: f.Server, ServerName: f.SNI, Protocol: cmp.Or(f.Protocol, "tls"),
	}
	if f.Via.IsValid() {
		base.Via = f.Via.Addr()
	}
	switch {
	case f.HasClientHello() || f.HasServerHello():
		o := base
		o.Transport = evidence.TransportTLS
		o.Version = f.Version
		if f.HasServerHello() && f.Version != tls.VersionSSL20 {
			o.Cipher = evidence.SuiteCipher(f.Cipher)
		}
		o.MaxOffered = MaxOffered(f)
		o.SSLv2Hello = f.SSLv2
		o.JA3, o.JA4, o.Label = f.JA3, f.JA4, label
		o.Offered = append(o.Offered, f.OfferedVersions...)
		return []evidence.Observation{o}
	case f.Proxy != nil && f.Proxy.SSL:
		o := base
		o.Server, o.ServerName = f.Proxy.Destination, f.Proxy.Authority
		o.Transport = evidence.TransportPlaintext
		if f.Proxy.ClientTLS {
			o.Transport = evidence.TransportTLS
			o.Version = f.Proxy.NegotiatedVersion
			o.Cipher = evidence.LookupCipher(f.Proxy.TLSCipher)
		}
		return []evidence.Observation{o}
	case len(f.Requests) > 0 || f.RequestsMore > 0:
		var out []evidence.Observation
		peer := f.Client.Addr()
		for _, r := range f.Requests {
			o := base
			o.Protocol, o.Count = "http", r.Count
			o.ServerName, o.UserAgent = r.Host, r.UserAgent
			if r.Client.IsValid() && r.Client != peer {
				o.Client, o.Via = r.Client, peer
			}
			switch {
			case r.TLSVersion != "":
				o.Protocol, o.Transport, o.Version = "https", evidence.TransportTLS, r.Version
			case o.Client != peer:
				o.Transport = evidence.TransportUnknown // its connection to the balancer is not in the capture
			default:
				o.Transport = evidence.TransportPlaintext
			}
			out = append(out, o)
		}
		if f.RequestsMore > 0 {
			o := base
			o.Protocol, o.Count, o.Transport = "http", f.RequestsMore, evidence.TransportUnknown
			out = append(out, o)
		}
		return out
	case f.Proxy != nil:
		o := base
		o.Server, o.ServerName = f.Proxy.Destination, f.Proxy.Authority
		o.Transport = evidence.TransportUnknown
		return []evidence.Observation{o}
	}
	return nil
}
