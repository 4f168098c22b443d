// Package protocols holds what the application-protocol packages (https,
// smtp, imap, pop3) share: the result of recognising a plaintext exchange
// on the wire. Each protocol package knows both directions of its
// protocol: Upgrade takes a live connection to the first byte of the TLS
// handshake (for scan), and Recognize finds the same exchange in captured
// byte streams (for sniff).
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
	Protocol string // "smtp", "imap", "pop3"
	State    State
	// ClientOffset and ServerOffset are, when State is Upgraded, the
	// offsets in the client-to-server and server-to-client byte streams of
	// the first byte after the plaintext dialogue (the first TLS byte).
	ClientOffset, ServerOffset int
	// Reason explains Plaintext ("STARTTLS refused: 454 4.7.0 TLS not
	// available") or NotThis; empty otherwise.
	Reason string
}

// Recognizer inspects the first bytes of both directions of a TCP
// connection (client to server, server to client), as far as they have
// been seen, and says whether they are its protocol and where TLS starts.
// It is a pure function: it keeps no state and never modifies its inputs.
type Recognizer func(c2s, s2c []byte) Recognition
