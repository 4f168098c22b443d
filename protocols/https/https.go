// Package https is the HTTPS member of the protocol packages, kept for
// symmetry with smtp, imap and pop3: HTTPS is TLS from the first byte
// (RFC 2818 §2), so there is no plaintext dialogue to speak before the
// handshake and none to find in a capture. Upgrade does nothing and
// Recognize never claims a flow: the sniffer's TLS detection at offset 0
// covers HTTPS, and plain HTTP is not this package's business.
package https

import (
	"context"
	"net"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in scan results.
const Name = "https"

// Options exists for symmetry with the other protocol packages; HTTPS has
// nothing to tune before the handshake.
type Options struct{}

// Info exists for symmetry with the other protocol packages; there is no
// plaintext dialogue to learn anything from.
type Info struct{}

// Upgrade returns at once: the connection is already positioned at the
// first byte of the TLS handshake. It only reports a context that has
// already ended.
func Upgrade(ctx context.Context, conn net.Conn, opts Options) (*Info, error) {
	return &Info{}, ctx.Err()
}

// Recognize returns NotThis for any bytes: an HTTPS flow is TLS from byte
// 0, which the sniffer finds without a recogniser.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	return protocols.Recognition{Protocol: Name, State: protocols.NotThis, Reason: "HTTPS is TLS from the first byte"}
}
