package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// mozillaTLS13 are the TLS 1.3 suites of Mozilla's Server Side TLS
// guidelines v5.7, intermediate and modern alike.
var mozillaTLS13 = []string{
	"TLS_AES_128_GCM_SHA256",
	"TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
}

// mozillaIntermediate12 are the TLS 1.2 suites of the guidelines' v5.7
// intermediate configuration: ECDHE (ECDSA and RSA) with AES-GCM and
// ChaCha20-Poly1305, DHE-RSA with the same.
var mozillaIntermediate12 = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
	"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}

// profiles builds the built-in profiles; each call returns fresh copies.
func profiles() []*Policy {
	return []*Policy{
		{
			Name:        "tls12-min",
			Description: "TLS 1.2 or later only: no SSLv2, SSLv3, TLS 1.0 or TLS 1.1",
			MinVersion:  tls.VersionTLS12,
		},
		{
			Name:        "modern",
			Description: "TLS 1.2 and 1.3 only, every suite forward secret and AEAD",
			MinVersion:  tls.VersionTLS12,
			RequirePFS:  true,
			RequireAEAD: true,
		},
		{
			Name: "mozilla-intermediate",
			Description: "Mozilla Server Side TLS v5.7 intermediate: TLS 1.2 and 1.3, its 12 ECDHE/DHE AEAD suites, " +
				"DHE ≥ 2048 bits, RSA keys ≥ 2048 bits, curves ≥ 256 bits",
			MinVersion:    tls.VersionTLS12,
			AllowedSuites: mustRules(slices.Concat(mozillaTLS13, mozillaIntermediate12)...),
			MinRSABits:    2048,
			MinECBits:     256,
			MinDHBits:     2048,
		},
		{
			Name:          "mozilla-modern",
			Description:   "Mozilla Server Side TLS v5.7 modern: TLS 1.3 only, its 3 suites, curves ≥ 256 bits",
			MinVersion:    tls.VersionTLS13,
			AllowedSuites: mustRules(mozillaTLS13...),
			MinECBits:     256,
		},
	}
}

// Profiles returns the built-in profiles, in a stable order. The policies
// are copies the caller may change.
func Profiles() []*Policy { return profiles() }

// ProfileNames returns the names of the built-in profiles.
func ProfileNames() []string {
	var names []string
	for _, p := range profiles() {
		names = append(names, p.Name)
	}
	return names
}

// Profile returns the built-in profile with this name (any case). An
// error wraps ErrUnknownProfile.
func Profile(name string) (*Policy, error) {
	for _, p := range profiles() {
		if strings.EqualFold(p.Name, strings.TrimSpace(name)) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w %q (built-in: %s)", ErrUnknownProfile, name, strings.Join(ProfileNames(), ", "))
}
