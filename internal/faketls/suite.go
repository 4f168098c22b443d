package faketls

import (
	"io"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// skeKind is the ServerKeyExchange a TLS ≤ 1.2 suite needs.
type skeKind uint8

const (
	skeNone  skeKind = iota // RSA key transport, static (EC)DH, PSK, GOST …
	skeECDHE                // ServerECDHParams (RFC 8422 §5.4)
	skeDHE                  // ServerDHParams (RFC 5246 §7.4.3)
)

// suiteInfo is what the server needs to know about a suite to answer with
// it.
type suiteInfo struct {
	ske    skeKind
	cert   bool // the server sends a Certificate (TLS ≤ 1.2)
	chacha bool // a ChaCha20-Poly1305 suite
}

// suiteOf classifies a suite by its registry entry (package ciphers). A
// code point the registry does not know is treated like an RSA key
// transport suite: Certificate, no ServerKeyExchange.
func suiteOf(id uint16) suiteInfo {
	s, ok := ciphers.ByID(id)
	if !ok {
		return suiteInfo{cert: true}
	}
	info := suiteInfo{chacha: s.Enc == "CHACHA20_POLY1305"}
	switch {
	// RFC 8422 §2.3, §2.5: ECDHE_* and ECDH_anon send ephemeral
	// ServerECDHParams.
	case s.Kex == "ECDHE", s.Kex == "ECDH" && s.Auth == "anon":
		info.ske = skeECDHE
	// RFC 5246 §7.4.3: DHE_* and DH_anon send ServerDHParams.
	case s.Kex == "DHE", s.Kex == "DH" && s.Auth == "anon":
		info.ske = skeDHE
	}
	// RFC 5246 §7.4.2: a Certificate follows the ServerHello whenever the
	// key exchange authenticates the server with one; not for anonymous,
	// PSK, SRP-without-certificate, Kerberos or password suites.
	switch s.Auth {
	case "RSA", "DSS", "ECDSA", "GOST", "any":
		info.cert = true
	}
	return info
}

// ecdsaAuth reports whether a suite authenticates the server with an
// ECDSA certificate (ECDHE_ECDSA, ECDH_ECDSA; RFC 8422 §2).
func ecdsaAuth(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Auth == "ECDSA"
}

// needsCurve reports whether a suite needs an ECDHE curve in TLS ≤ 1.2 (so
// that a client without a common curve cannot get it). ECDHE_PSK counts
// too, though this server sends it no ServerKeyExchange.
func needsCurve(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && (s.Kex == "ECDHE" || s.Kex == "ECDHE_PSK" || s.Kex == "ECDH" && s.Auth == "anon")
}

// needsDH reports whether a suite uses ephemeral finite-field DH in
// TLS ≤ 1.2, which RFC 7919 §4 can rule out.
func needsDH(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && (s.Kex == "DHE" || s.Kex == "DHE_PSK" || s.Kex == "DH" && s.Auth == "anon")
}

// serverShare returns a server key share for group: a real one where the
// codec can make it (X25519, NIST curves, ffdhe), otherwise random bytes
// of the size the group's server share has, so that a client reading the
// length sees what a real server sends.
func serverShare(group uint16, rand io.Reader) ([]byte, error) {
	switch group {
	case tls.GroupX25519, tls.GroupP256, tls.GroupP384, tls.GroupP521,
		tls.GroupFFDHE2048, tls.GroupFFDHE3072, tls.GroupFFDHE4096, tls.GroupFFDHE6144, tls.GroupFFDHE8192:
		ks, err := tls.GenerateKeyShare(group, rand)
		return ks.Data, err
	}
	ks, err := tls.FakeKeyShare(group, serverShareLen(group), rand)
	return ks.Data, err
}

// serverShareLen is the length of a server's key_exchange (TLS 1.3) or
// ECPoint (TLS ≤ 1.2) for group.
func serverShareLen(group uint16) int {
	// draft-ietf-tls-ecdhe-mlkem §3, draft-connolly-tls-mlkem-key-agreement
	// §4: the server sends an ML-KEM ciphertext (768: 1088 bytes,
	// 1024: 1568, 512: 768), with the ECDH share for hybrids.
	switch group {
	case 0x0200: // MLKEM512
		return 768
	case 0x0201: // MLKEM768
		return 1088
	case 0x0202: // MLKEM1024
		return 1568
	case tls.GroupX25519MLKEM768:
		return 1088 + 32
	case tls.GroupSecP256r1MLKEM768:
		return 65 + 1088
	case tls.GroupSecP384r1MLKEM1024:
		return 97 + 1568
	case tls.GroupX25519: // RFC 8446 §4.2.8.2, RFC 7748
		return 32
	case 0x001E: // x448
		return 56
	}
	g, ok := ciphers.GroupByID(group)
	if !ok || g.Bits == 0 {
		return 32
	}
	switch g.Kind {
	case "ffdhe":
		return (g.Bits + 7) / 8
	case "ecdhe", "other":
		// RFC 8422 §5.4.1: an uncompressed point, 0x04 || X || Y.
		return 1 + 2*((g.Bits+7)/8)
	}
	return 32
}
