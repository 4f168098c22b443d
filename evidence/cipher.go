package evidence

import (
	"fmt"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Cipher is a negotiated cipher as the evidence names it: a registered
// suite, or, when the evidence names no single suite (Exchange and IIS
// log the bulk cipher, hash and key exchange apart) or one the registry
// does not know, the words it used. The zero Cipher is "not known".
type Cipher struct {
	// ID is the suite's code point when Known.
	ID    uint16
	Known bool
	// Text is what the evidence said when it is not a known suite
	// ("CALG_AES_256 CALG_SHA_384 CALG_ECDHE", "FOO-BAR"); "" when Known.
	Text string
}

// SuiteCipher is the cipher of a suite's code point.
func SuiteCipher(id uint16) Cipher { return Cipher{ID: id, Known: true} }

// TextCipher is a cipher the evidence names in words of its own.
func TextCipher(text string) Cipher { return Cipher{Text: text} }

// LookupCipher resolves a name as servers log it — OpenSSL's
// ("ECDHE-RSA-AES128-GCM-SHA256"), IANA's ("TLS_AES_128_GCM_SHA256") — to
// its suite; a name the registry does not know is kept as Text. "" and
// "-" are the zero Cipher.
func LookupCipher(name string) Cipher {
	if name == "" || name == "-" {
		return Cipher{}
	}
	if s, err := ciphers.Lookup(name); err == nil && !tls.IsGREASE(s.ID) {
		return SuiteCipher(s.ID)
	}
	return TextCipher(name)
}

// IsZero reports whether nothing is known about the cipher.
func (c Cipher) IsZero() bool { return !c.Known && c.Text == "" }

// Code is the suite's code point, "0xC02F"; "" when not a known suite.
func (c Cipher) Code() string {
	if !c.Known {
		return ""
	}
	return fmt.Sprintf("0x%04X", c.ID)
}

// String is the suite's IANA name (its code when unregistered), else
// Text.
func (c Cipher) String() string {
	if !c.Known {
		return c.Text
	}
	if s, ok := ciphers.ByID(c.ID); ok {
		return s.Name
	}
	return c.Code()
}

// ParseVersionName reads a protocol version as servers log it — OpenSSL's
// SSL_get_version names, which Postfix, Dovecot, nginx, Apache, HAProxy
// and the PROXY protocol's SSL TLV write: "SSLv2", "SSLv3", "TLSv1" (TLS
// 1.0), "TLSv1.1", "TLSv1.2", "TLSv1.3", and tlsmap's own "TLSv1.0". It
// is exact and allocates nothing: anything else is not ok.
func ParseVersionName(b []byte) (tls.Version, bool) {
	switch string(b) {
	case "TLSv1", "TLSv1.0":
		return tls.VersionTLS10, true
	case "TLSv1.1":
		return tls.VersionTLS11, true
	case "TLSv1.2":
		return tls.VersionTLS12, true
	case "TLSv1.3":
		return tls.VersionTLS13, true
	case "SSLv3":
		return tls.VersionSSL30, true
	case "SSLv2":
		return tls.VersionSSL20, true
	}
	return 0, false
}
