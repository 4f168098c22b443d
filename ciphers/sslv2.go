package ciphers

import (
	"slices"
	"sync"
)

// SSLv2Kind is an SSL 2.0 cipher kind: the three-byte CIPHER-SPECS entries
// of an SSLv2 CLIENT-HELLO and SERVER-HELLO. (An SSLv2-format hello that
// offers SSLv3 or TLS also lists TLS suites there, as 0x00 followed by the
// two-byte code.)
type SSLv2Kind struct {
	ID          uint32 // 0x0700C0
	Name        string // the SSL 2.0 specification's name, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"
	OpenSSLName string // "DES-CBC3-MD5"
	Bits        int    // effective key strength, as for Suite.Bits
	Export      bool
	Grade       Grade // always GradeInsecure: SSL 2.0 itself is broken (RFC 6176)
}

// sslv2Kinds lists the cipher kinds of the SSL 2.0 specification
// (draft-hickman-netscape-ssl-00, Appendix C) and RC4_64, which OpenSSL
// and Netscape also shipped. The low byte of the code is the key length
// in bits, secret and clear parts together.
var sslv2Kinds = []SSLv2Kind{
	{0x010080, "SSL_CK_RC4_128_WITH_MD5", "RC4-MD5", 128, false, GradeInsecure},
	{0x020080, "SSL_CK_RC4_128_EXPORT40_WITH_MD5", "EXP-RC4-MD5", 40, true, GradeInsecure},
	{0x030080, "SSL_CK_RC2_128_CBC_WITH_MD5", "RC2-CBC-MD5", 128, false, GradeInsecure},
	{0x040080, "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5", "EXP-RC2-CBC-MD5", 40, true, GradeInsecure},
	{0x050080, "SSL_CK_IDEA_128_CBC_WITH_MD5", "IDEA-CBC-MD5", 128, false, GradeInsecure},
	{0x060040, "SSL_CK_DES_64_CBC_WITH_MD5", "DES-CBC-MD5", 56, false, GradeInsecure},
	{0x0700C0, "SSL_CK_DES_192_EDE3_CBC_WITH_MD5", "DES-CBC3-MD5", 112, false, GradeInsecure},
	{0x080080, "SSL_CK_RC4_64_WITH_MD5", "RC4-64-MD5", 64, false, GradeInsecure},
}

var sslv2ByID = sync.OnceValue(func() map[uint32]int {
	m := make(map[uint32]int, len(sslv2Kinds))
	for i, k := range sslv2Kinds {
		m[k.ID] = i
	}
	return m
})

// SSLv2Kinds returns the SSL 2.0 cipher kinds, sorted by ID. The slice is a
// copy.
func SSLv2Kinds() []SSLv2Kind { return slices.Clone(sslv2Kinds) }

// SSLv2KindByID returns the SSL 2.0 cipher kind with this three-byte code.
func SSLv2KindByID(id uint32) (SSLv2Kind, bool) {
	i, ok := sslv2ByID()[id]
	if !ok {
		return SSLv2Kind{}, false
	}
	return sslv2Kinds[i], true
}
