package main

// Code points that the IANA registries in iana/ do not list but that tlsmap
// meets on the wire. Each names its source. The generator refuses an extra
// whose id IANA has assigned.

// extraSuite is a cipher suite IANA does not list.
type extraSuite struct {
	ID   uint16
	Name string // the name its source gives it
	// Like is the IANA-grammar name its attributes are derived from, when
	// Name does not follow that grammar; "" means Name.
	Like string
	// Versions, when not zero, overrides the versions rule.
	Versions  uint8
	Reference string
}

var extraSuites = []extraSuite{
	// The 56-bit "export1024" suites of draft-ietf-tls-56-bit-ciphersuites-01
	// (1999), shipped by OpenSSL 0.9.x–1.0.x and old Windows/Java; IANA keeps
	// 0x0060–0x0066 "reserved to avoid conflicts with widely deployed
	// implementations". 0x0066 is not an export suite.
	{ID: 0x0060, Name: "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},
	{ID: 0x0061, Name: "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},
	{ID: 0x0062, Name: "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},
	{ID: 0x0063, Name: "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},
	{ID: 0x0064, Name: "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},
	{ID: 0x0065, Name: "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},
	{ID: 0x0066, Name: "TLS_DHE_DSS_WITH_RC4_128_SHA", Reference: "draft-ietf-tls-56-bit-ciphersuites-01"},

	// CryptoPro's GOST suites (draft-chudov-cryptopro-cptls-04), in OpenSSL's
	// GOST engine since 1.0.0: GOST R 34.10-94 or -2001 keys, GOST 28147-89
	// in counter mode with its MAC, or no encryption with HMAC-GOST R 34.11-94.
	{ID: 0x0080, Name: "TLS_GOSTR341094_WITH_28147_CNT_IMIT", Reference: "draft-chudov-cryptopro-cptls-04"},
	{ID: 0x0081, Name: "TLS_GOSTR341001_WITH_28147_CNT_IMIT", Reference: "draft-chudov-cryptopro-cptls-04"},
	{ID: 0x0082, Name: "TLS_GOSTR341094_WITH_NULL_GOSTR3411", Reference: "draft-chudov-cryptopro-cptls-04"},
	{ID: 0x0083, Name: "TLS_GOSTR341001_WITH_NULL_GOSTR3411", Reference: "draft-chudov-cryptopro-cptls-04"},

	// The ChaCha20-Poly1305 suites of draft-agl-tls-chacha20poly1305-04, which
	// Chrome, BoringSSL, LibreSSL and patched OpenSSL 1.0.2 (Cloudflare's)
	// deployed in 2014–2016. Their AEAD construction (nonce from the sequence
	// number alone) differs from RFC 7905's, hence the new code points
	// 0xCCA8–0xCCAA there. The draft gave them the same names as RFC 7905's;
	// the "_OLD" suffix, as BoringSSL spelled it, keeps them apart.
	{ID: 0xCC13, Name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_OLD", Like: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Reference: "draft-agl-tls-chacha20poly1305-04"},
	{ID: 0xCC14, Name: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_OLD", Like: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", Reference: "draft-agl-tls-chacha20poly1305-04"},
	{ID: 0xCC15, Name: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_OLD", Like: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", Reference: "draft-agl-tls-chacha20poly1305-04"},

	// Netscape's FIPS 140 suites for SSL 3.0, still recognised by NSS
	// (lib/ssl/sslproto.h); IANA reserves 0xFEFE–0xFEFF "to avoid conflicts
	// with widely deployed implementations". 0xFFE0/0xFFE1 are their older
	// code points (NSS: SSL_RSA_OLDFIPS_…).
	{ID: 0xFEFE, Name: "SSL_RSA_FIPS_WITH_DES_CBC_SHA", Like: "TLS_RSA_WITH_DES_CBC_SHA", Reference: "NSS sslproto.h (Netscape)"},
	{ID: 0xFEFF, Name: "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA", Like: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Reference: "NSS sslproto.h (Netscape)"},
	{ID: 0xFFE0, Name: "SSL_RSA_OLDFIPS_WITH_3DES_EDE_CBC_SHA", Like: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", Reference: "NSS sslproto.h (Netscape)"},
	{ID: 0xFFE1, Name: "SSL_RSA_OLDFIPS_WITH_DES_CBC_SHA", Like: "TLS_RSA_WITH_DES_CBC_SHA", Reference: "NSS sslproto.h (Netscape)"},

	// OpenSSL's GOST engine's private-use code points for GOST R 34.10-2012
	// keys (OpenSSL 1.1.0+, include/openssl/tls1.h), from before RFC 9189:
	// 0xFF85 is the construction RFC 9189 registered as 0xC102; 0xFF87 has
	// no encryption and HMAC-Streebog-256. OpenSSL allows both from TLS 1.0.
	{ID: 0xFF85, Name: "GOST2012-GOST8912-GOST8912", Like: "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT", Versions: vTLS10toTLS12, Reference: "OpenSSL GOST engine"},
	{ID: 0xFF87, Name: "GOST2012-NULL-GOST12", Like: "TLS_GOSTR341112_256_WITH_NULL_GOSTR3411", Versions: vTLS10toTLS12, Reference: "OpenSSL GOST engine"},
}

// extraGroups are named groups IANA does not list (X25519Kyber768Draft00,
// 0x6399, and SecP256r1Kyber768Draft00, 0x639A, are in the IANA file).
var extraGroups = []group{
	// CECPQ2: X25519 with NTRU-HRSS, Google's 2019 post-quantum experiment
	// in Chrome and BoringSSL (SSL_CURVE_CECPQ2).
	{ID: 0x4138, Name: "CECPQ2", Kind: "pq-hybrid", Bits: 128, Reference: "BoringSSL"},
}

// extraSchemes are signature schemes IANA's SignatureScheme registry does
// not name.
var extraSchemes = []scheme{
	// TLS 1.2's (hash, signature) pairs (RFC 5246 §7.4.1.4.1) that have no
	// TLS 1.3 name: the MD5, SHA-224 and DSA ones. Old clients still send them.
	{ID: 0x0101, Name: "rsa_pkcs1_md5", Reference: "RFC5246"},
	{ID: 0x0102, Name: "dsa_md5", Reference: "RFC5246"},
	{ID: 0x0103, Name: "ecdsa_md5", Reference: "RFC5246"},
	{ID: 0x0202, Name: "dsa_sha1", Reference: "RFC5246"},
	{ID: 0x0301, Name: "rsa_pkcs1_sha224", Reference: "RFC5246"},
	{ID: 0x0302, Name: "dsa_sha224", Reference: "RFC5246"},
	{ID: 0x0303, Name: "ecdsa_sha224", Reference: "RFC5246"},
	{ID: 0x0402, Name: "dsa_sha256", Reference: "RFC5246"},
	{ID: 0x0502, Name: "dsa_sha384", Reference: "RFC5246"},
	{ID: 0x0602, Name: "dsa_sha512", Reference: "RFC5246"},
	// RFC 9189: GOST R 34.10-2012 signatures in TLS 1.2 (IANA keeps
	// the two values "reserved for backward compatibility").
	{ID: 0x0840, Name: "gostr34102012_256", Reference: "RFC9189"},
	{ID: 0x0841, Name: "gostr34102012_512", Reference: "RFC9189"},
	// OpenSSL's GOST engine's earlier values for the same (ssl/ssl_local.h).
	{ID: 0xEDED, Name: "gostr34102001_gostr3411", Reference: "OpenSSL GOST engine"},
	{ID: 0xEEEE, Name: "gostr34102012_256_gostr34112012_256", Reference: "OpenSSL GOST engine"},
	{ID: 0xEFEF, Name: "gostr34102012_512_gostr34112012_512", Reference: "OpenSSL GOST engine"},
}
