// Package xmpp speaks the plaintext part of XMPP (RFC 6120) up to
// STARTTLS (RFC 6120 §5), in both directions of tlsmap, for client
// streams (Client: xmpp://, port 5222) and server-to-server streams
// (Server: xmpp-server://, port 5269):
//
//   - Upgrade (scan) opens the stream to the domain (Options.Domain, else
//     the target's host name, else its address), reads the server's stream
//     header and features, sends <starttls/> when offered and returns, on
//     <proceed/>, with the connection positioned at the first byte of the
//     TLS handshake.
//   - Capabilities reads the features over an implicit-TLS connection
//     (direct TLS, XEP-0368: xmpps:// 5223, xmpps-server:// 5270).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// The stream is XML read token by token (encoding/xml over a reader that
// never reads past the token it returns), each token bounded by
// Options.MaxLine bytes and the features by Options.MaxLines tokens.
package xmpp

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Names of the two protocols in Recognitions and scan results.
const (
	NameClient = "xmpp"
	NameServer = "xmpp-server"
)

// Client is XMPP client-to-server's entry in the protocols registry: xmpp
// (STARTTLS, port 5222) and xmpps (direct TLS, 5223, XEP-0368).
var Client = &protocols.Protocol{
	Name: NameClient,
	Schemes: []protocols.Scheme{
		{Name: "xmpp", Port: 5222, Form: protocols.STARTTLS},  // RFC 6120 §5
		{Name: "xmpps", Port: 5223, Form: protocols.Implicit}, // XEP-0368, and the old port 5223
	},
	ClientFirst:  true,
	Upgrade:      client.upgrade,
	Capabilities: client.capabilities,
	Recognize:    client.recognize,
}

// Server is XMPP server-to-server's entry in the protocols registry:
// xmpp-server (STARTTLS, port 5269) and xmpps-server (direct TLS, 5270,
// XEP-0368).
var Server = &protocols.Protocol{
	Name: NameServer,
	Schemes: []protocols.Scheme{
		{Name: "xmpp-server", Port: 5269, Form: protocols.STARTTLS},
		{Name: "xmpps-server", Port: 5270, Form: protocols.Implicit},
	},
	ClientFirst:  true,
	Upgrade:      server.upgrade,
	Capabilities: server.capabilities,
	Recognize:    server.recognize,
}

// kind is one of the two stream kinds.
type kind struct {
	name string // NameClient, NameServer
	ns   string // the stream's content namespace (RFC 6120 §4.8.2)
	// header is what Upgrade opens the stream with, but for the to=
	// domain; s_client -starttls xmpp and xmpp-server send the same.
	header string
}

var (
	client = kind{name: NameClient, ns: nsClient,
		header: "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='"}
	server = kind{name: NameServer, ns: nsServer,
		header: "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='"}
)

// Namespaces of RFC 6120 and of the features this package reads.
const (
	nsStreams  = "http://etherx.jabber.org/streams"       // §4.8.1
	nsClient   = "jabber:client"                          // §4.8.2
	nsServer   = "jabber:server"                          // §4.8.2
	nsTLS      = "urn:ietf:params:xml:ns:xmpp-tls"        // §5.4
	nsSASL     = "urn:ietf:params:xml:ns:xmpp-sasl"       // §6.4
	nsErrors   = "urn:ietf:params:xml:ns:xmpp-streams"    // §4.9.2
	nsIQAuth   = "http://jabber.org/features/iq-auth"     // XEP-0078
	nsCaps     = "http://jabber.org/protocol/caps"        // XEP-0115
	nsDialback = "urn:xmpp:features:dialback"             // XEP-0220
	nsRegister = "http://jabber.org/features/iq-register" // XEP-0077
)

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxLine bounds one XML token (a start tag with its
	// attributes, a text).
	DefaultMaxLine = 16 << 10
	// DefaultMaxLines bounds the tokens of the stream features.
	DefaultMaxLines = 256
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// Attributes of the Dialogue.
const (
	// AttrStartTLS is "required" when the <starttls/> feature carries
	// <required/>, "optional" when offered without it.
	AttrStartTLS = "starttls"
	// AttrDomain is the domain the dialogue named in to=, and AttrFrom
	// the one the server's stream header names itself by.
	AttrDomain = "domain"
	AttrFrom   = "from"
	// AttrVersion is the stream header's version ("1.0").
	AttrVersion = "version"
	// AttrStreamError is the condition of a stream error the server
	// ended the dialogue with ("host-unknown").
	AttrStreamError = "stream_error"
)
