package logs

import (
	"fmt"
	"strings"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Windows' Schannel names versions with the SP_PROT_* flags of
// schannel.h and algorithms with the CALG_* ALG_IDs of wincrypt.h
// (Microsoft's "ALG_ID" reference lists each value). IIS logs them as
// hexadecimal numbers (crypt-protocol, crypt-cipher, crypt-hash,
// crypt-keyexchange); Exchange writes the names.

// spProt is one SP_PROT_* flag.
type spProt struct {
	flag    uint32
	name    string // without "SP_PROT_"
	version tls.Version
	server  bool // the logging host was the TLS server
}

// spProts are the SP_PROT_* flags of schannel.h.
var spProts = []spProt{
	{0x00000001, "PCT1_SERVER", 0, true},
	{0x00000002, "PCT1_CLIENT", 0, false},
	{0x00000004, "SSL2_SERVER", tls.VersionSSL20, true},
	{0x00000008, "SSL2_CLIENT", tls.VersionSSL20, false},
	{0x00000010, "SSL3_SERVER", tls.VersionSSL30, true},
	{0x00000020, "SSL3_CLIENT", tls.VersionSSL30, false},
	{0x00000040, "TLS1_0_SERVER", tls.VersionTLS10, true},
	{0x00000080, "TLS1_0_CLIENT", tls.VersionTLS10, false},
	{0x00000100, "TLS1_1_SERVER", tls.VersionTLS11, true},
	{0x00000200, "TLS1_1_CLIENT", tls.VersionTLS11, false},
	{0x00000400, "TLS1_2_SERVER", tls.VersionTLS12, true},
	{0x00000800, "TLS1_2_CLIENT", tls.VersionTLS12, false},
	{0x00001000, "TLS1_3_SERVER", tls.VersionTLS13, true},
	{0x00002000, "TLS1_3_CLIENT", tls.VersionTLS13, false},
}

// spProtByFlag finds the flag IIS logged in crypt-protocol.
func spProtByFlag(v uint32) (spProt, bool) {
	for _, p := range spProts {
		if p.flag == v {
			return p, true
		}
	}
	return spProt{}, false
}

// spProtByName finds a name as Exchange logs it: "SP_PROT_TLS1_2_SERVER",
// also with the hyphen Microsoft's text has in "SP_PROT-TLS1_2_CLIENT",
// and "TLS1" for "TLS1_0".
func spProtByName(s string) (spProt, bool) {
	s = strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
	s, ok := strings.CutPrefix(s, "SP_PROT_")
	if !ok {
		return spProt{}, false
	}
	s = strings.Replace(s, "TLS1_SERVER", "TLS1_0_SERVER", 1)
	s = strings.Replace(s, "TLS1_CLIENT", "TLS1_0_CLIENT", 1)
	for _, p := range spProts {
		if p.name == s {
			return p, true
		}
	}
	return spProt{}, false
}

// calgNames are the CALG_* ALG_IDs of wincrypt.h that Schannel reports
// for the bulk cipher, the MAC hash and the key exchange.
var calgNames = map[uint32]string{
	0x6601: "CALG_DES",
	0x6602: "CALG_RC2",
	0x6603: "CALG_3DES",
	0x6609: "CALG_3DES_112",
	0x660e: "CALG_AES_128",
	0x660f: "CALG_AES_192",
	0x6610: "CALG_AES_256",
	0x6611: "CALG_AES",
	0x6801: "CALG_RC4",
	0x8003: "CALG_MD5",
	0x8004: "CALG_SHA1",
	0x8009: "CALG_HMAC",
	0x800c: "CALG_SHA_256",
	0x800d: "CALG_SHA_384",
	0x800e: "CALG_SHA_512",
	0xa400: "CALG_RSA_KEYX",
	0xaa01: "CALG_DH_SF",
	0xaa02: "CALG_DH_EPHEM",
	0xaa05: "CALG_ECDH",
	0xae06: "CALG_ECDH_EPHEM",
}

// calgName names an ALG_ID ("0x1234" when unknown).
func calgName(v uint32) string {
	if n, ok := calgNames[v]; ok {
		return n
	}
	return fmt.Sprintf("0x%x", v)
}

// canonicalCALG spells an algorithm name as calgNames does: Exchange
// writes the ephemeral ECDH key exchange as "CALG_ECDHE", wincrypt.h
// calls it CALG_ECDH_EPHEM (0xae06).
func canonicalCALG(s string) string {
	if s == "CALG_ECDHE" {
		return "CALG_ECDH_EPHEM"
	}
	return s
}

// schannelCipher is the text of a cipher Schannel reports by its parts:
// "CALG_AES_256 CALG_SHA_384 CALG_ECDH_EPHEM" (bulk cipher, hash, key
// exchange; absent parts left out).
func schannelCipher(bulk, hash, kx string) string {
	var parts []string
	for _, p := range []string{bulk, hash, kx} {
		if p != "" {
			parts = append(parts, canonicalCALG(p))
		}
	}
	return strings.Join(parts, " ")
}
