// Package https is HTTPS's entry in the protocols registry. HTTPS is TLS
// from the first byte (RFC 2818 §2): there is no plaintext dialogue to
// speak before the handshake and none to find in a capture, so the
// Protocol has neither Upgrade nor Recognize; it names the scheme and the
// port (443) by which scan chooses it for a bare host and sniff labels an
// implicit-TLS flow.
package https

import "github.com/tlsmap/tlsmap/protocols"

// Name is the protocol's name in scan and sniff results.
const Name = "https"

// Protocol is HTTPS's entry in the protocols registry.
var Protocol = &protocols.Protocol{
	Name:    Name,
	Schemes: []protocols.Scheme{{Name: "https", Port: 443, Form: protocols.Implicit}},
}
