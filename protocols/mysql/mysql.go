// Package mysql speaks the part of the MySQL client/server protocol (the
// one MariaDB speaks too) that comes before TLS, in both directions of
// tlsmap:
//
//   - Upgrade (scan) reads the server's greeting (the Initial Handshake
//     Packet, protocol version 10), and when it offers CLIENT_SSL sends an
//     SSL request packet (Protocol::SSLRequest: the first 32 bytes of a
//     HandshakeResponse41, CLIENT_SSL set) and returns with the
//     connection positioned at the first byte of the TLS handshake.
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// The server speaks first. Every message is a packet: a 3-byte little-
// endian payload length, a sequence number and the payload, read whole
// within Options.MaxLine bytes and parsed with cryptobyte (wire.go).
//
// The SSL request has no answer: the client's ClientHello follows at
// once. A server that will not do TLS after all (asked with
// Options.StartTLSAnyway) answers the ClientHello with an ERR packet
// (1043 Bad handshake) where the ServerHello should be, which the TLS
// layer reads as bytes that are not TLS.
package mysql

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "mysql"

// Protocol is MySQL's entry in the protocols registry: mysql (and
// mariadb, the scheme of MariaDB's connectors) on 3306, an SSL request
// after the server's greeting.
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "mysql", Port: 3306, Form: protocols.STARTTLS},
		{Name: "mariadb", Port: 3306, Form: protocols.STARTTLS},
	},
	Upgrade:   Upgrade,
	Recognize: Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxLine bounds the greeting packet's payload; a MySQL or
	// MariaDB greeting is under 128 bytes.
	DefaultMaxLine = 4 << 10
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: 1}

// Attributes of the Dialogue.
const (
	// AttrProtocolVersion is the greeting's protocol version ("10").
	AttrProtocolVersion = "protocol_version"
	// AttrAuthPlugin is the authentication plugin the greeting names
	// ("mysql_native_password", "caching_sha2_password").
	AttrAuthPlugin = "auth_plugin"
	// AttrCapabilities is the greeting's capability flags, in hex
	// ("0xf7fe"; MariaDB's extended capabilities as a second word).
	AttrCapabilities = "capabilities"
)
