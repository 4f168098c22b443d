// Package quic reads the cleartext part of QUIC handshakes: it parses long
// header packets (RFC 9000 §17.2), removes the Initial packet protection
// (RFC 9001 §5 for QUIC version 1 and the IETF drafts 23–34, RFC 9369 for
// QUIC version 2), collects the CRYPTO frames of the Initial packets of
// both sides (RFC 9000 §19.6) in order, whatever order and packets they
// arrive in, and hands out the TLS handshake messages they carry: the
// client's ClientHello and the server's ServerHello (or HelloRetryRequest),
// which package protocols/tls parses.
//
// Only Initial packets can be read by an observer: their keys derive from
// the client's first Destination Connection ID, which travels in the
// clear. Everything after the ServerHello (Handshake and 1-RTT packets) is
// protected with keys from the TLS key exchange and is not touched.
//
// Every parser reads with golang.org/x/crypto/cryptobyte and returns an
// error, never panics, on any input.
package quic

import (
	"errors"
	"fmt"
)

// Version is a QUIC version number as it appears in a long header
// (RFC 9000 §15).
type Version uint32

// QUIC versions the package knows.
const (
	// VersionNegotiation is the version field of a Version Negotiation
	// packet (RFC 9000 §17.2.1).
	VersionNegotiation Version = 0
	// Version1 is QUIC version 1 (RFC 9000).
	Version1 Version = 0x00000001
	// Version2 is QUIC version 2 (RFC 9369 §3.1).
	Version2 Version = 0x6b3343cf
)

// IsDraft reports whether v is an IETF QUIC draft version,
// 0xff000000 + the draft number (RFC 9000 §15: "0xff0000xx" was used for
// the drafts).
func (v Version) IsDraft() bool { return v&0xffffff00 == 0xff000000 }

// IsReserved reports whether v is one of the versions reserved to force
// version negotiation, 0x?a?a?a?a (RFC 9000 §15).
func (v Version) IsReserved() bool { return v&0x0f0f0f0f == 0x0a0a0a0a }

// IsGoogle reports whether v is a Google QUIC version: "Q0NN" or "T0NN"
// in ASCII (Q043 … Q050, T050, T051), which Chromium spoke before IETF
// QUIC. Their Initial packets are not protected the IETF way.
func (v Version) IsGoogle() bool {
	b0, b1, b2, b3 := byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	return (b0 == 'Q' || b0 == 'T') && b1 >= '0' && b1 <= '9' && b2 >= '0' && b2 <= '9' && b3 >= '0' && b3 <= '9'
}

// Known reports whether v is a version whose Initial packets this package
// decrypts: version 1, version 2 and the IETF drafts 23 to 34.
func (v Version) Known() bool {
	_, ok := paramsOf(v)
	return ok
}

// String returns "v1", "v2", "draft-NN", "negotiation",
// "gquic-Q050", "reserved-0x?a?a?a?a" or "0xXXXXXXXX".
func (v Version) String() string {
	switch {
	case v == VersionNegotiation:
		return "negotiation"
	case v == Version1:
		return "v1"
	case v == Version2:
		return "v2"
	case v.IsDraft():
		return fmt.Sprintf("draft-%d", uint8(v))
	case v.IsGoogle():
		return "gquic-" + string([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	case v.IsReserved():
		return fmt.Sprintf("reserved-0x%08x", uint32(v))
	}
	return fmt.Sprintf("0x%08x", uint32(v))
}

// Errors. Every error returned by the package wraps one of these
// sentinels.
var (
	// ErrMalformed means the bytes cannot be what was asked for.
	ErrMalformed = errors.New("quic: malformed")
	// ErrTruncated means the input ended before the structure did.
	ErrTruncated = errors.New("quic: truncated")
	// ErrUnsupportedVersion means the packet is of a QUIC version whose
	// Initial protection the package does not know.
	ErrUnsupportedVersion = errors.New("quic: unsupported version")
	// ErrDecrypt means the packet did not authenticate with the keys
	// tried: not an Initial of this connection, or corrupted.
	ErrDecrypt = errors.New("quic: decryption failed")
	// ErrTooLarge means a handshake exceeded the configured cap.
	ErrTooLarge = errors.New("quic: too large")
)

// ParseError is the typed error of the parsers: which structure, which
// field, and the sentinel it wraps.
type ParseError struct {
	What  string // "long header", "frame", "CRYPTO" …
	Field string // may be empty
	Err   error
}

func (e *ParseError) Error() string {
	msg := e.Err.Error()
	if len(msg) > 6 && msg[:6] == "quic: " {
		msg = msg[6:]
	}
	if e.Field == "" {
		return fmt.Sprintf("quic: %s: %s", e.What, msg)
	}
	return fmt.Sprintf("quic: %s: %s: %s", e.What, e.Field, msg)
}

func (e *ParseError) Unwrap() error { return e.Err }

func perr(what, field string, err error) error {
	return &ParseError{What: what, Field: field, Err: err}
}
