// Package postgres speaks the part of the PostgreSQL frontend/backend
// protocol (version 3, PostgreSQL's "Message Flow" and "Message Formats"
// chapters) that comes before TLS, in both directions of tlsmap:
//
//   - Upgrade (scan) sends an SSLRequest and reads the server's one-byte
//     answer: 'S' (TLS follows), 'N' (the server will not do TLS), or an
//     ErrorResponse (a server that does not know the request, or one
//     turning clients away). On success the connection is positioned at
//     the first byte of the TLS handshake.
//   - Recognize (sniff) finds the same exchange in captured byte streams
//     (a GSSENCRequest refused first included) and a plaintext
//     StartupMessage without it.
//
// The client speaks first; the protocol is binary, every message sized
// by its length word, read whole within Options.MaxLine bytes and parsed
// with cryptobyte (wire.go).
//
// PostgreSQL 17's direct TLS negotiation (sslnegotiation=direct: a
// ClientHello from the first byte, with the ALPN protocol "postgresql"
// and no SSLRequest) is the scheme "postgres-direct": implicit TLS on the
// same port, its hellos offering that ALPN protocol (Scheme.ALPN).
package postgres

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "postgres"

// Protocol is PostgreSQL's entry in the protocols registry: postgres and
// postgresql (the two URI schemes libpq accepts; SSLRequest on 5432) and
// postgres-direct (PostgreSQL 17's direct TLS on the same port).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "postgres", Port: 5432, Form: protocols.STARTTLS},
		{Name: "postgresql", Port: 5432, Form: protocols.STARTTLS},
		{Name: "postgres-direct", Port: 5432, Form: protocols.Implicit, ALPN: []string{ALPN}},
	},
	ClientFirst: true,
	Upgrade:     Upgrade,
	Recognize:   Recognize,
}

// ALPN is the ALPN protocol of direct TLS connections (PostgreSQL 17,
// "SSL Session Encryption": the server refuses a direct TLS connection
// without it).
const ALPN = "postgresql"

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxLine bounds the ErrorResponse a server may send instead of
	// answering the SSLRequest; PostgreSQL's are a few hundred bytes.
	DefaultMaxLine = 8 << 10
	// DefaultMaxLines bounds the fields of that ErrorResponse.
	DefaultMaxLines = 64
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// AttrAnswer is the Dialogue attribute holding the server's answer to the
// SSLRequest: "S", "N" or "E" (an ErrorResponse, its text in the
// Error's Reply).
const AttrAnswer = "sslrequest"
