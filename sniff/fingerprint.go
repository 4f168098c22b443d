package sniff

import "github.com/tlsmap/tlsmap/protocols/tls"

// Fingerprints come from protocols/tls; these wrappers keep the call sites
// in one place.

func ja3(ch *tls.ClientHello) (full, hash string) { return tls.JA3(ch) }

func ja3s(sh *tls.ServerHello) (full, hash string) { return tls.JA3S(sh) }

// ja4 is JA4 for a transport (tls.JA4TCP, tls.JA4QUIC).
func ja4(ch *tls.ClientHello, transport byte) string { return tls.JA4(ch, transport) }

// fingerprintsAvailable is true since protocols/tls computes JA3/JA3S/JA4.
const fingerprintsAvailable = true
