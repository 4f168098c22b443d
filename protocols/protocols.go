// Package protocols is the contract between tlsmap's engines (scan, sniff)
// and the application protocols that carry TLS (https, smtp, imap, pop3 …).
//
// Each protocol package describes itself with one Protocol: its name, its
// URL schemes and well-known ports (with the form each one takes: a
// plaintext dialogue and STARTTLS, or TLS from the first byte), Upgrade
// for scan (a live connection taken to the first byte of the TLS
// handshake) and Recognize for sniff (the same exchange found in captured
// byte streams). The registry (Register, Lookup, ForScheme, ForPort, All)
// is all scan and sniff consult: adding a protocol is one package and one
// Register line (in protocols/all), nothing in scan or sniff.
//
// What the dialogue revealed is one Dialogue record, shared by scan, its
// renderers and any store; how it failed is an *Error carrying the stage
// and wrapping the shared sentinels (ErrNoSTARTTLS, ErrSTARTTLSRefused,
// ErrThrottled …).
package protocols

// State is what a recogniser concluded about a flow so far.
type State uint8

// Recognition states.
const (
	// NeedMore: the bytes seen so far fit the protocol but do not decide
	// yet; call again with more.
	NeedMore State = iota
	// NotThis: the bytes are not this protocol.
	NotThis
	// Plaintext: this protocol, and the flow stays plaintext (no STARTTLS
	// yet, or STARTTLS was refused; Reason says which).
	Plaintext
	// Upgraded: STARTTLS was asked for and accepted; both directions
	// switch to TLS at ClientOffset and ServerOffset.
	Upgraded
)

func (s State) String() string {
	switch s {
	case NeedMore:
		return "need-more"
	case NotThis:
		return "not-this"
	case Plaintext:
		return "plaintext"
	case Upgraded:
		return "upgraded"
	}
	return "state(?)"
}

// Recognition is a recogniser's verdict on one TCP connection.
type Recognition struct {
	Protocol string // the Protocol's Name: "smtp", "imap", "pop3"
	State    State
	// ClientOffset and ServerOffset are, when State is Upgraded, the
	// offsets in the client-to-server and server-to-client byte streams of
	// the first byte after the plaintext dialogue (the first TLS byte).
	ClientOffset, ServerOffset int
	// Reason explains Plaintext ("STARTTLS refused: 454 4.7.0 TLS not
	// available") or NotThis; empty otherwise.
	Reason string
	// Target is, for a proxy's tunnel (HTTP CONNECT, SOCKS), the
	// destination the client asked the proxy to reach, "host:port" as it
	// asked ("[2001:db8::1]:443" for IPv6); set when Upgraded (and when a
	// Plaintext tunnel was opened), empty for every other protocol. The
	// TLS that follows is the client's with that destination, through the
	// proxy.
	Target string
}

// Recognizer inspects the first bytes of both directions of a TCP
// connection (client to server, server to client), as far as they have
// been seen, and says whether they are its protocol and where TLS starts.
// It is a pure function: it keeps no state and never modifies its inputs.
// Nothing in the contract assumes lines: a binary preamble (an LDAP
// ExtendedRequest, a PostgreSQL SSLRequest, an RDP X.224 request) is
// recognised the same way.
type Recognizer func(c2s, s2c []byte) Recognition
