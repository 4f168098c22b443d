package ciphers

import (
	"slices"
	"sync"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// protocolVersions is built once, sorted by code point.
var protocolVersions = sync.OnceValue(func() []tls.Version {
	vs := []tls.Version{tls.VersionSSL20, tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12,
		tls.VersionTLS13, tls.VersionDTLS10, tls.VersionDTLS12, tls.VersionDTLS13}
	for n := tls.FirstShippedDraft; n <= tls.LastShippedDraft; n++ {
		vs = append(vs, tls.Draft(uint8(n)))
	}
	for _, g := range tls.GREASEValues() {
		vs = append(vs, tls.Version(g))
	}
	slices.Sort(vs)
	return vs
})

// ProtocolVersions returns the registry of protocol versions: SSLv2 to
// TLS 1.3, DTLS, the TLS 1.3 drafts that shipped (14 to 28) and the GREASE
// values, sorted by code point; each one's name is its String. The slice is
// a copy.
func ProtocolVersions() []tls.Version { return slices.Clone(protocolVersions()) }
