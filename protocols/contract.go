package protocols

import (
	"context"
	"net"
	"time"
)

// Protocol describes one application protocol that carries TLS: what a
// scan needs to reach its TLS handshake and what a sniffer needs to find
// it. A Protocol is plain data; Register makes it known to scan and sniff.
type Protocol struct {
	// Name is the protocol's name in Dialogues, Recognitions and results
	// ("smtp", also for submission targets).
	Name string
	// Schemes are its URL schemes, each with its well-known port and its
	// form ("smtp" STARTTLS on 25, "submission" STARTTLS on 587, "smtps"
	// implicit TLS on 465). A bare host:port target on one of these ports
	// takes that scheme.
	Schemes []Scheme
	// ClientFirst is true when the client speaks first in the plaintext
	// dialogue (PostgreSQL's SSLRequest, LDAP's StartTLS request, RDP's
	// X.224 request), false when the server greets first (SMTP, IMAP,
	// POP3). A scanner that has to guess the protocol of a port can wait
	// for a greeting of the server-first ones, and must try the
	// client-first ones by sending.
	ClientFirst bool
	// QuietServer is true for a server-first protocol whose servers may
	// also say nothing until the client speaks (IRC: a server that looks
	// up no host name waits for the client's CAP or NICK), and whose
	// Upgrade needs no greeting. Detect tries its dialogue on a silent
	// server as it does the client-first ones'.
	QuietServer bool

	// Upgrade runs the plaintext dialogue on a fresh connection up to the
	// first byte of the TLS handshake (needed when a scheme has Form
	// STARTTLS; nil otherwise). On success the next byte read from conn is
	// the server's first TLS byte and the caller's ClientHello goes next;
	// nothing past the go-ahead has been read.
	//
	// The dialogue is bounded by ctx and opts.Timeout; cancelling ctx
	// closes conn, and Upgrade never closes conn otherwise. It returns
	// what it learnt (also on failure, nil only when nothing was said),
	// and an *Error naming the stage and wrapping one of this package's
	// sentinels (errors.Is) or an I/O or context error.
	Upgrade func(ctx context.Context, conn net.Conn, opts Options) (*Dialogue, error)
	// Capabilities runs the dialogue over an established implicit-TLS
	// connection (smtps, imaps, pop3s) and returns what it revealed; nil
	// when the protocol has nothing to say before its first request.
	Capabilities func(ctx context.Context, conn net.Conn, opts Options) (*Dialogue, error)

	// Recognize finds the plaintext dialogue and its switch to TLS in
	// captured byte streams (sniff); nil when the protocol is TLS from the
	// first byte, which the sniffer finds without a recogniser.
	Recognize Recognizer
}

// Form says how a connection on a scheme reaches its TLS handshake.
type Form uint8

const (
	// Implicit: TLS from the first byte (RFC 8314 §3 for mail; https).
	Implicit Form = iota
	// STARTTLS: a plaintext dialogue first, which asks to switch to TLS
	// (SMTP STARTTLS, POP3 STLS, LDAP's StartTLS operation, PostgreSQL's
	// SSLRequest …).
	STARTTLS
)

func (f Form) String() string {
	if f == STARTTLS {
		return "starttls"
	}
	return "implicit"
}

// Scheme is one URL scheme of a protocol.
type Scheme struct {
	Name string // the URL scheme, lower case: "submission"
	Port uint16 // its well-known port: 587
	Form Form   // STARTTLS
	// AlsoPorts are further well-known ports of the scheme: a bare
	// host:port target on one of them takes the scheme, and sniff names
	// TLS on them after the protocol, but the scheme's URL defaults to
	// Port (LDAP's global catalog: 3268 for ldap, 3269 for ldaps).
	AlsoPorts []uint16
	// ALPN are the protocols a ClientHello on this scheme offers in its
	// application_layer_protocol_negotiation extension (RFC 7301), for
	// servers that refuse a hello without theirs (PostgreSQL's direct
	// TLS: "postgresql"); nil sends no ALPN extension.
	ALPN []string
}

// Ports returns the scheme's well-known ports, Port first.
func (s Scheme) Ports() []uint16 {
	if s.Port == 0 {
		return s.AlsoPorts
	}
	return append([]uint16{s.Port}, s.AlsoPorts...)
}

// Options tune a dialogue. The zero value is usable: every protocol fills
// what is left zero with its own defaults.
type Options struct {
	// Timeout bounds the whole dialogue (0: the protocol's default); an
	// earlier deadline of the context wins.
	Timeout time.Duration
	// StartTLSAnyway asks for TLS even when the server did not advertise
	// it.
	StartTLSAnyway bool
	// ClientName is the name the client gives itself where the protocol
	// asks for one (SMTP EHLO/HELO); "" for the protocol's default.
	ClientName string
	// Host is the target's host name ("" for an IP literal), for
	// protocols that name the server in the dialogue (XMPP's stream to=).
	Host string
	// Domain, when set, is the name the dialogue gives the service in
	// place of Host (XMPP's stream to=, --xmpp-domain): a service domain
	// that differs from the name of the host serving it.
	Domain string
	// Probe asks for the checks of a dialogue that cost the server more
	// than the upgrade needs, for its findings: a login attempt with a
	// made-up name and password before TLS (LDAP's simple bind, FTP's
	// USER), whose answer shows whether the server takes passwords in
	// clear. A scan sets it on one dialogue of each endpoint only.
	Probe bool
	// Dial, when set, opens another connection to the same endpoint (no
	// dialogue run on it), for a probe that needs a connection of its own
	// (RDP: a second Connection Request, asking for standard RDP security
	// only, shows whether the server allows it). A dialogue calls it only
	// with Probe set, and closes what it opens.
	Dial func(ctx context.Context) (net.Conn, error)
	// MaxLine bounds one reply (a line, or a binary message), in bytes;
	// MaxLines the replies or lines of one answer (0: the protocol's
	// defaults). A longer one is an error; it is never buffered.
	MaxLine, MaxLines int
}

// WithDefaults returns o with every zero field taken from d.
func (o Options) WithDefaults(d Options) Options {
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.ClientName == "" {
		o.ClientName = d.ClientName
	}
	if o.Host == "" {
		o.Host = d.Host
	}
	if o.Domain == "" {
		o.Domain = d.Domain
	}
	if o.MaxLine <= 0 {
		o.MaxLine = d.MaxLine
	}
	if o.MaxLines <= 0 {
		o.MaxLines = d.MaxLines
	}
	o.StartTLSAnyway = o.StartTLSAnyway || d.StartTLSAnyway
	o.Probe = o.Probe || d.Probe
	if o.Dial == nil {
		o.Dial = d.Dial
	}
	return o
}

// Dialogue is what a server said before TLS: the one record of a
// plaintext dialogue shared by scan (Result.Dialogue), its renderers (the
// "dialogue" object of tlsmap.scan/1, docs/schema/scan.md) and any store.
// The fields marked "not in tlsmap.scan/1" are kept for callers and a
// future schema.
type Dialogue struct {
	// Protocol is the Protocol's Name ("smtp" also for submission).
	Protocol string `json:"protocol"`
	// Banner is the greeting's text, without reply codes; the lines of a
	// multi-line greeting are joined with "\n".
	Banner string `json:"banner"`
	// Software is the server software guessed from the banner and the
	// capabilities ("Postfix", "Dovecot", "Microsoft Exchange"), or "".
	Software string `json:"software"`
	// Capabilities as listed before TLS, in the server's order and as sent
	// (EHLO keywords with parameters, IMAP capabilities, POP3 CAPA lines).
	Capabilities []string `json:"capabilities"`
	// STARTTLSAdvertised is true when the capabilities offer the switch to
	// TLS (SMTP and IMAP STARTTLS, POP3 STLS).
	STARTTLSAdvertised bool `json:"starttls_advertised"`
	// PlaintextAuth are the ways to authenticate offered before TLS (SMTP
	// AUTH mechanisms, IMAP LOGIN without LOGINDISABLED and AUTH=, POP3
	// USER and SASL): a finding, since the credentials would cross the
	// network in clear. Empty after Capabilities, which runs over TLS.
	PlaintextAuth []string `json:"plaintext_auth"`
	// CapabilitiesAfterTLS are the capabilities listed once TLS is up; nil
	// when not fetched.
	CapabilitiesAfterTLS []string `json:"capabilities_after_tls"`

	// AuthMechanisms are the SASL mechanisms the server lists (SMTP AUTH,
	// IMAP AUTH=, POP3 SASL), upper case, before or after TLS. Not in
	// tlsmap.scan/1.
	AuthMechanisms []string `json:"-"`
	// Attributes are facts particular to the protocol, by name: SMTP
	// "esmtp" ("false" after the HELO fallback), IMAP "greeting" (OK,
	// PREAUTH, BYE) and "logindisabled", POP3 "apop". Not in
	// tlsmap.scan/1.
	Attributes map[string]string `json:"-"`
}

// Set records a protocol attribute.
func (d *Dialogue) Set(name, value string) {
	if d.Attributes == nil {
		d.Attributes = map[string]string{}
	}
	d.Attributes[name] = value
}
