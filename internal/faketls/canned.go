package faketls

import (
	"fmt"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Canned configurations for common real-world shapes. Each call returns a
// fresh Config that the caller may change.

// FullRegistry accepts every registry suite that version v can negotiate
// (ciphers.ForVersion), in registry order with client preference, and
// every registry group: all of them as TLS 1.3 groups, the elliptic curves
// as TLS ≤ 1.2 curves, the ffdhe groups for RFC 7919. For
// tls.VersionSSL20 it accepts every SSL 2.0 cipher kind instead.
func FullRegistry(v tls.Version) Config {
	cfg := Config{}
	if v == tls.VersionSSL20 {
		cfg.SSLv2Kinds = AllSSLv2Kinds()
		return cfg
	}
	var ids []uint16
	for _, s := range ciphers.ForVersion(v) {
		ids = append(ids, s.ID)
	}
	cfg.Suites = map[tls.Version][]uint16{v: ids}
	cfg.Groups13, cfg.Curves, cfg.FFDHE = []uint16{}, []uint16{}, []uint16{}
	for _, g := range ciphers.Groups() {
		switch g.Kind {
		case "grease":
			continue
		case "ecdhe", "other":
			cfg.Curves = append(cfg.Curves, g.ID)
		case "ffdhe":
			cfg.FFDHE = append(cfg.FFDHE, g.ID)
		}
		cfg.Groups13 = append(cfg.Groups13, g.ID)
	}
	return cfg
}

// AllSSLv2Kinds returns the code of every SSL 2.0 cipher kind of the
// registry (ciphers.SSLv2Kinds), by code.
func AllSSLv2Kinds() []uint32 {
	var ids []uint32
	for _, k := range ciphers.SSLv2Kinds() {
		ids = append(ids, k.ID)
	}
	return ids
}

// Legacy is a server of the early 2000s (OpenSSL 0.9.8 defaults): SSLv2,
// SSLv3 and TLS 1.0, with RC4, 3DES, DES, EXPORT and NULL suites, client
// preference, a 1024-bit DHE prime, and a lower-version ServerHello to a
// hello for TLS 1.1 or later.
func Legacy() Config {
	suites := SuiteIDs(
		"DHE-RSA-AES256-SHA", "AES256-SHA", "EDH-RSA-DES-CBC3-SHA", "DES-CBC3-SHA",
		"DHE-RSA-AES128-SHA", "AES128-SHA", "RC4-SHA", "RC4-MD5",
		"EDH-RSA-DES-CBC-SHA", "DES-CBC-SHA",
		"EXP-EDH-RSA-DES-CBC-SHA", "EXP-DES-CBC-SHA", "EXP-RC2-CBC-MD5", "EXP-RC4-MD5",
		"NULL-SHA", "NULL-MD5",
	)
	return Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: suites,
			tls.VersionTLS10: suites,
		},
		SSLv2Kinds:    AllSSLv2Kinds(),
		DHPrimeBits:   1024,
		RejectVersion: RefuseNegotiateDown,
	}
}

// Modern is Mozilla's "modern" configuration (TLS 1.3 only, client
// preference) with the post-quantum hybrid group first, as current
// servers have it.
func Modern() Config {
	return Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionTLS13: SuiteIDs("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
		},
		Groups13: []uint16{tls.GroupX25519MLKEM768, tls.GroupX25519, tls.GroupP256, tls.GroupP384},
		ALPN:     []string{"h2", "http/1.1"},
	}
}

// Intermediate is Mozilla's "intermediate" configuration: TLS 1.2 and 1.3,
// ECDHE and DHE with AEAD suites only, client preference, ffdhe2048
// (RFC 7919) for DHE.
func Intermediate() Config {
	return Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionTLS12: SuiteIDs(
				"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
				"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
				"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
				"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
			),
			tls.VersionTLS13: SuiteIDs("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
		},
		Groups13:    []uint16{tls.GroupX25519MLKEM768, tls.GroupX25519, tls.GroupP256, tls.GroupP384},
		Curves:      []uint16{tls.GroupX25519, tls.GroupP256, tls.GroupP384},
		FFDHE:       []uint16{tls.GroupFFDHE2048},
		DHPrimeBits: 2048,
		ALPN:        []string{"h2", "http/1.1"},
	}
}

// Old is Mozilla's "old" configuration: TLS 1.0 to 1.3, CBC suites and
// 3DES for old clients, the server's order enforced with ChaCha20
// prioritised for clients that prefer it, a 1024-bit DHE prime.
func Old() Config {
	order := SuiteIDs(
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
		"DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
		"ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384",
		"ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES256-SHA",
		"DHE-RSA-AES128-SHA256", "DHE-RSA-AES256-SHA256",
		"AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256", "AES256-SHA256",
		"AES128-SHA", "AES256-SHA", "DES-CBC3-SHA",
	)
	suites := map[tls.Version][]uint16{
		tls.VersionTLS13: SuiteIDs("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
	}
	for _, v := range []tls.Version{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12} {
		suites[v] = negotiable(v, order)
	}
	return Config{
		Suites:           suites,
		ServerPreference: true,
		PrioritizeChaCha: true,
		Curves:           []uint16{tls.GroupX25519, tls.GroupP256, tls.GroupP384},
		DHPrimeBits:      1024,
		ALPN:             []string{"h2", "http/1.1"},
	}
}

// SuiteIDs returns the code points of suites given by any name or code
// ciphers.Lookup understands ("ECDHE-RSA-AES128-GCM-SHA256",
// "TLS_AES_128_GCM_SHA256", "0xC02F"), in order. An unknown name is a
// programming error and panics.
func SuiteIDs(names ...string) []uint16 {
	ids := make([]uint16, 0, len(names))
	for _, n := range names {
		s, err := ciphers.Lookup(n)
		if err != nil {
			panic(fmt.Sprintf("faketls: %v", err))
		}
		ids = append(ids, s.ID)
	}
	return ids
}

// negotiable keeps the suites of ids that version v can negotiate, in
// order.
func negotiable(v tls.Version, ids []uint16) []uint16 {
	var out []uint16
	for _, id := range ids {
		if s, ok := ciphers.ByID(id); ok && s.Versions.Has(v) {
			out = append(out, id)
		}
	}
	return out
}
