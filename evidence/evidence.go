// Package evidence holds what tlsmap learnt about clients' use of TLS,
// whatever told it — a captured handshake (sniff) or a server's log line
// (logs) — as one typed Observation, and aggregates observations in two
// bounded ways: per key (client × server × protocol × version × cipher ×
// user × user agent × day) into Records, the rows of schema
// tlsmap.evidence/1 that a store joins; and per client into the
// legacy-client Report.
//
// Every observation gets a Class: legacy (TLS 1.1 or older, SSL),
// modern (TLS 1.2 or newer), plaintext, or unknown — TLS (or perhaps TLS)
// of a version the evidence does not name. Unknown is never counted as
// modern: a log that cannot say is reported as such, not as an all-clear.
package evidence

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Source is where an observation came from.
type Source uint8

// Sources.
const (
	SourceUnknown  Source = iota
	SourceCapture         // a packet capture (tlsmap sniff)
	SourceExchange        // Exchange SMTP protocol log
	SourceIIS             // IIS W3C log with the crypt-* fields
	SourcePostfix         // Postfix smtpd/smtp "TLS connection established"
	SourceDovecot         // Dovecot login lines
	SourceNginx           // nginx access log
	SourceApache          // Apache access log
	SourceHAProxy         // HAProxy log
)

var sourceNames = [...]string{
	SourceUnknown:  "unknown",
	SourceCapture:  "capture",
	SourceExchange: "exchange",
	SourceIIS:      "iis",
	SourcePostfix:  "postfix",
	SourceDovecot:  "dovecot",
	SourceNginx:    "nginx",
	SourceApache:   "apache",
	SourceHAProxy:  "haproxy",
}

// String returns the source's name as the schemas write it: "capture",
// "exchange", "iis", "postfix", "dovecot", "nginx", "apache", "haproxy".
func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseSource maps a name String returns back to its Source.
func ParseSource(name string) (Source, error) {
	for i, n := range sourceNames {
		if n == name && i != int(SourceUnknown) {
			return Source(i), nil
		}
	}
	return SourceUnknown, fmt.Errorf("evidence: unknown source %q", name)
}

// Transport says whether the connection used TLS.
type Transport uint8

// Transports.
const (
	// TransportUnknown: the evidence does not say whether the client used
	// TLS (a request a balancer forwarded, whose own connection from the
	// client the server never saw).
	TransportUnknown Transport = iota
	TransportPlaintext
	TransportTLS
)

func (t Transport) String() string {
	switch t {
	case TransportPlaintext:
		return "plaintext"
	case TransportTLS:
		return "tls"
	}
	return "unknown"
}

// Class is the verdict on one observation.
type Class uint8

// Classes, from least to most urgent.
const (
	ClassPlaintext Class = iota // no TLS at all
	ClassModern                 // TLS 1.2 or newer negotiated (or offered, when no ServerHello was seen)
	ClassUnknown                // TLS, or perhaps TLS, of a version the evidence does not name
	ClassLegacy                 // TLS 1.1 or older, or SSL (see LegacyReasons)
)

func (c Class) String() string {
	switch c {
	case ClassPlaintext:
		return "plaintext"
	case ClassModern:
		return "modern"
	case ClassUnknown:
		return "unknown"
	case ClassLegacy:
		return "legacy"
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// MarshalText implements encoding.TextMarshaler.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Legacy reasons: why an observation counts as legacy. It may have several.
const (
	// ReasonNegotiated: TLS 1.1 or older (SSLv3, SSLv2) was negotiated.
	ReasonNegotiated = "negotiated"
	// ReasonOffered: the highest version the client offered is TLS 1.1
	// or older, whatever the server chose (or when no ServerHello was
	// seen). Captures only: logs record the negotiated version.
	ReasonOffered = "offered"
	// ReasonSSLv2Hello: the ClientHello came in the SSLv2 record format.
	ReasonSSLv2Hello = "sslv2-hello"
)

// Observation is one connection or request, or Count of them alike.
type Observation struct {
	Source Source
	// Time is when it happened (the log line's time, the flow's first
	// packet); zero when the evidence has none. End, when later, is when
	// it ended (the flow's last packet).
	Time, End time.Time

	// Client is the client's address: the real client when a PROXY
	// header, a forwarded-for header or the balancer's own TLS report
	// names it, else the peer the server saw. Invalid when the evidence
	// names the client only by ClientName.
	Client netip.Addr
	// ClientName is a name the client gave (the EHLO name) or, for an
	// outbound connection, the logging host's name.
	ClientName string
	// Via is the balancer or proxy the client's connection came through,
	// when the evidence names one (the peer behind a PROXY header or a
	// forwarded-for header); invalid otherwise.
	Via netip.Addr
	// Balancer is true when Client is a known load balancer (--balancer)
	// and nothing names the real client behind it: the TLS facts are the
	// balancer's own connection's.
	Balancer bool

	// Server is the endpoint the client connected to; invalid when the
	// evidence does not say. ServerName is the name the client asked for
	// (SNI, Host, cs-host) or the logging server's host name.
	Server     netip.AddrPort
	ServerName string
	// Protocol is the application protocol: "https", "http", "smtp",
	// "imap", "pop3", "tls".
	Protocol string
	// Outbound is true when the logging server was the client (Exchange
	// Send connector, Postfix's smtp client): Client is that server.
	Outbound bool

	Transport Transport
	// Version is the negotiated version, 0 when the evidence does not
	// name one (or no ServerHello was seen).
	Version tls.Version
	// Cipher is the negotiated cipher (zero when unknown).
	Cipher Cipher

	// User is the authenticated user; UserAgent the HTTP User-Agent.
	User, UserAgent string

	// From a captured ClientHello: the highest version offered (0 when no
	// hello was seen), whether it came in the SSLv2 format, its
	// fingerprints and their label.
	MaxOffered      tls.Version
	SSLv2Hello      bool
	JA3, JA4, Label string
	// Offered are the versions offered, highest first (captures only;
	// not part of the aggregation key).
	Offered []tls.Version

	// Count is how many connections or requests this stands for; 0
	// counts as 1.
	Count int
}

func (o *Observation) count() int {
	if o.Count <= 0 {
		return 1
	}
	return o.Count
}

// span is the observation's first and last time.
func (o *Observation) span() (first, last time.Time) {
	if o.End.After(o.Time) && !o.Time.IsZero() {
		return o.Time, o.End
	}
	return o.Time, o.Time
}

// LegacyReasons says why o is legacy; nil when it is not.
func (o *Observation) LegacyReasons() []string {
	var r []string
	if o.Version != 0 && isLegacyVersion(o.Version) {
		r = append(r, ReasonNegotiated)
	}
	if o.MaxOffered != 0 && isLegacyVersion(o.MaxOffered) {
		r = append(r, ReasonOffered)
	}
	if o.SSLv2Hello {
		r = append(r, ReasonSSLv2Hello)
	}
	return r
}

// isLegacyVersion: TLS 1.1 and older, SSL included (the TLS 1.3 drafts,
// 0x7fNN, and DTLS's 0xfeNN are not).
func isLegacyVersion(v tls.Version) bool { return v <= tls.VersionTLS11 }

// Class is the verdict on o.
func (o *Observation) Class() Class {
	switch {
	case o.Version != 0 && isLegacyVersion(o.Version),
		o.MaxOffered != 0 && isLegacyVersion(o.MaxOffered),
		o.SSLv2Hello:
		return ClassLegacy
	case o.Transport == TransportPlaintext:
		return ClassPlaintext
	case o.Version != 0, o.MaxOffered != 0:
		return ClassModern
	}
	return ClassUnknown
}

// VersionKey names o's negotiated version for counts: "TLSv1.2" …;
// "none" when a ClientHello was seen without a ServerHello; "unknown"
// when the evidence does not name the version; "plaintext" without TLS.
func (o *Observation) VersionKey() string {
	switch {
	case o.Version != 0:
		return o.Version.String()
	case o.Transport == TransportPlaintext:
		return "plaintext"
	case o.MaxOffered != 0 || o.SSLv2Hello:
		return "none"
	}
	return "unknown"
}
