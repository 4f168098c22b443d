package sniff

import (
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Flow is what the sniffer learned about one TCP connection, or one QUIC
// connection (Protocol "quic"): who spoke to whom, what the client offered
// in its ClientHello and what the server chose in its ServerHello. It is handed to the Handler once, when
// the flow is complete, idle-evicted, evicted for room, or flushed; the
// handler owns it from then on (the sniffer never touches it again).
//
// Slices hold what was on the wire, in wire order, unless noted.
type Flow struct {
	// Client is the side that sent the ClientHello; when no hello was
	// seen, the side that sent the SYN (or, mid-connection, the side that
	// spoke first in plaintext protocols where the client speaks first,
	// else the higher port).
	Client, Server netip.AddrPort
	// Via is, when a PROXY protocol header at the start of the client's
	// stream named the client (Config.ProxyProtocol), the connection's own
	// client: the balancer that sent the header. Client is then the
	// header's source; Proxy holds the rest of the header. Invalid
	// otherwise.
	Via   netip.AddrPort
	Proxy *ProxyHeader
	// Requests are, on a plaintext HTTP connection (Config.HTTPForwarded),
	// its requests grouped by the client a forwarded-for header named,
	// host, user agent and the TLS version a balancer reported in
	// Config.TLSHeader; RequestsMore counts those beyond the groups kept.
	Requests     []ForwardedRequest
	RequestsMore int

	// Protocol is the application protocol: "smtp", "imap", "pop3" when a
	// recogniser found a STARTTLS exchange (or implicit TLS on 465, 993,
	// 995), a proxy's ("http-connect", "socks5" …) for TLS through its
	// tunnel, "tls-after-prefix" for TLS after plaintext no recogniser
	// knew, "https" for TLS on 443, else "tls" for TLS on any other port;
	// "quic" for a QUIC connection (TLS in QUIC's Initial packets, over
	// UDP); "" when the flow carried no TLS and no recogniser claimed it.
	Protocol string
	// QUICVersion is the QUIC version of the client's first Initial
	// packet (quic.Version: 1, 0x6b3343cf …); 0 for TCP.
	QUICVersion uint32
	// StartTLS is true when TLS began after a plaintext STARTTLS exchange.
	StartTLS bool
	// ProxyTarget is, for TLS through a proxy's tunnel (Protocol
	// "http-connect", "socks4", "socks4a", "socks5"), the destination the
	// client asked the proxy for ("legacy.example:443"): Client is the
	// tunnel's client, Server the proxy. "" otherwise.
	ProxyTarget string
	// Prefix, for Protocol "tls-after-prefix" (TLS found after plaintext
	// no recogniser knew), shows the first bytes of the client stream:
	// printable ASCII as it is, \r \n \t \\ escaped, other bytes as \xNN.
	Prefix string

	// From the ClientHello.
	SNI  string
	ALPN []string
	// OfferedVersions are legacy_version followed by the supported_versions
	// entries not already listed, GREASE removed, sorted highest first.
	OfferedVersions []tls.Version
	// CipherSuites, Groups, SignatureAlgorithms and KeyShareGroups are as
	// offered, in wire order, GREASE values and SCSVs kept (raw: the
	// fingerprints need them; a reader can drop them with tls.IsGREASE).
	CipherSuites        []uint16
	Groups              []uint16
	SignatureAlgorithms []uint16
	KeyShareGroups      []uint16
	// ClientHello is the whole ClientHello handshake message (4-byte header
	// included), or for an SSLv2-format hello the SSLv2 record body; nil
	// when none was seen.
	ClientHello []byte

	// From the ServerHello: the negotiated version (supported_versions
	// when present, else legacy_version; 0x0002 for an SSLv2 SERVER-HELLO)
	// and cipher suite; both 0 when no ServerHello was seen. When a
	// HelloRetryRequest was followed by a second ServerHello, these are the
	// second one's.
	Version tls.Version
	Cipher  uint16
	// HelloRetryRequest is true when the server sent a HelloRetryRequest.
	HelloRetryRequest bool

	// Alert is the first plaintext alert seen in the flow (either
	// direction, before or after the hellos), or nil; AlertFrom is
	// "client" or "server".
	Alert     *tls.Alert
	AlertFrom string

	// SSLv2 is true when the ClientHello came in the SSLv2 record format
	// (SSLv2 or SSLv2-compatible hello).
	SSLv2 bool

	// Fingerprints (empty until protocols/tls provides them, or when the
	// hello was not seen).
	JA3, JA3Full   string
	JA3S, JA3SFull string
	JA4            string

	// Packet times of the first and last packet of the flow, and the count
	// of its TCP packets and their TCP payload bytes (for QUIC: its UDP
	// datagrams and their payload bytes), both directions.
	FirstSeen, LastSeen time.Time
	Packets, Bytes      uint64

	// Truncated explains why data may be missing ("" when nothing is
	// known to be missing), e.g. "capture started mid-connection",
	// "gap in client stream", "buffer limit reached", "evicted: flow
	// table full", "malformed client stream: …". Several reasons are
	// joined with "; ".
	Truncated string
}

// Handler receives each flow once. It is called from the goroutine that
// calls Packet, Run or Flush; it must not call back into the Sniffer.
type Handler func(*Flow)

// HasClientHello reports whether a ClientHello was seen.
func (f *Flow) HasClientHello() bool { return f.ClientHello != nil }

// HasServerHello reports whether a ServerHello was seen.
func (f *Flow) HasServerHello() bool { return f.Version != 0 }

// NegotiatedVersion is the version the server chose (Version) or, without
// a ServerHello, the version a balancer reported in a PROXY header for
// the client's connection to it; 0 when neither is known.
func (f *Flow) NegotiatedVersion() tls.Version {
	if f.Version != 0 {
		return f.Version
	}
	if f.Proxy != nil {
		return f.Proxy.NegotiatedVersion
	}
	return 0
}

// HasTLS reports whether the flow tells anything of the client's TLS: a
// hello of its own, or a PROXY header's report from a balancer that
// terminated the client's TLS.
func (f *Flow) HasTLS() bool {
	return f.HasClientHello() || f.HasServerHello() || f.Proxy != nil && f.Proxy.ClientTLS
}

// HasEvidence reports whether the flow tells anything of its client's
// TLS or whereabouts: a hello, a PROXY header, forwarded requests — the
// flows Observations turns into evidence.
func (f *Flow) HasEvidence() bool {
	return f.HasClientHello() || f.HasServerHello() || f.Proxy != nil || len(f.Requests) > 0 || f.RequestsMore > 0
}
