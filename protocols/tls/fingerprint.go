package tls

// Client and server hello fingerprints: JA3 and JA3S (salesforce/ja3,
// BSD-3-Clause) and JA4 (FoxIO, "JA4: TLS Client Fingerprinting",
// technical_details/JA4.md; JA4 itself is BSD-3-Clause).
//
// JA4S and the rest of JA4+ (JA4H, JA4X, JA4T, JA4L, JA4SSH …) are under the
// FoxIO License 1.1, which does not allow commercial use without a licence
// from FoxIO. They are deliberately not implemented here.
//
// All functions read the decoded fields of a hello (SupportedGroups,
// ECPointFormats, SupportedVersions, SignatureAlgorithms, ALPN), which
// ParseClientHello, ParseSSLv2ClientHello and DecodeExtensions fill, plus
// Version, CipherSuites and Extensions. They never fail and never panic:
// any ClientHello the parsers accept has a fingerprint of the right shape.
// They allocate only the strings they return (one allocation a call),
// except for hellos with unusually long lists (more than 128 cipher suites
// or 64 extensions, or lists whose text exceeds 1 KiB), whose scratch
// space no longer fits the stack buffers.

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// JA4 transport letters, the first character of a JA4 fingerprint.
const (
	JA4TCP  byte = 't' // TLS over TCP
	JA4QUIC byte = 'q' // TLS inside QUIC (RFC 9001)
	JA4DTLS byte = 'd' // DTLS
)

// Scratch sizes: the lists and the text hashed stay on the stack up to
// these lengths, and move to the heap beyond.
const (
	fpMaxStackSuites = 128
	fpMaxStackExts   = 64
	fpMaxStackText   = 1024
)

// JA3 returns the JA3 fingerprint of ch (salesforce/ja3 README): full is
//
//	SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
//
// with legacy_version (client_version) in decimal, each list in wire
// order as decimal values joined by '-', GREASE values (RFC 8701) removed
// from every list, and an empty field for an absent or empty list
// ("769,47-53-5-10,,," for a hello without extensions); hash is the MD5 of
// full in lowercase hex.
//
// A hello in the SSLv2-compatible record format (ch.SSLv2) has no JA3:
// both results are "". JA3 is defined on the TLS ClientHello message: the
// reference ja3.py reads only handshake records (content type 22), and
// tshark gives no JA3 for the three SSLv2-format hellos of the public test
// captures. JA4 does fingerprint them (version "s2", or the TLS version
// offered).
func JA3(ch *ClientHello) (full, hash string) {
	if ch == nil || ch.SSLv2 {
		return "", ""
	}
	var stack [fpMaxStackText]byte
	b := strconv.AppendUint(stack[:0], uint64(ch.Version), 10)
	b = append(b, ',')
	b = ja3AppendList(b, ch.CipherSuites)
	b = append(b, ',')
	b = ja3AppendExtensions(b, ch.Extensions)
	b = append(b, ',')
	b = ja3AppendList(b, ch.SupportedGroups)
	b = append(b, ',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	return ja3Finish(b)
}

// JA3S returns the JA3S fingerprint of sh (salesforce/ja3 README): full is
//
//	SSLVersion,Cipher,Extensions
//
// with legacy_version and the selected cipher suite in decimal and the
// extension types in wire order joined by '-' (GREASE removed; "769,4,"
// without extensions); hash is the MD5 of full in lowercase hex. A
// HelloRetryRequest is fingerprinted like any ServerHello.
func JA3S(sh *ServerHello) (full, hash string) {
	if sh == nil {
		return "", ""
	}
	var stack [fpMaxStackText]byte
	b := strconv.AppendUint(stack[:0], uint64(sh.Version), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sh.CipherSuite), 10)
	b = append(b, ',')
	b = ja3AppendExtensions(b, sh.Extensions)
	return ja3Finish(b)
}

// ja3AppendList appends the non-GREASE values of vs in decimal, '-'-joined.
func ja3AppendList(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// ja3AppendExtensions appends the non-GREASE extension types in decimal,
// '-'-joined, in wire order.
func ja3AppendExtensions(b []byte, exts []Extension) []byte {
	first := true
	for _, e := range exts {
		if IsGREASE(e.Type) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(e.Type), 10)
	}
	return b
}

// ja3Finish returns the JA3 string b and its MD5 in hex, both cut from one
// allocation.
func ja3Finish(b []byte) (full, hash string) {
	sum := md5.Sum(b)
	n := len(b)
	s := string(hex.AppendEncode(b, sum[:]))
	return s[:n], s[n:]
}

// ja4Len is the length of a JA4 fingerprint: ja4_a (10) _ ja4_b (12) _
// ja4_c (12).
const ja4Len = 10 + 1 + 12 + 1 + 12

// JA4 returns the JA4 fingerprint of ch (FoxIO technical_details/JA4.md),
// ja4_a_ja4_b_ja4_c, 36 characters, for the given transport (JA4TCP,
// JA4QUIC or JA4DTLS; another byte is written as given), or "" for a nil
// ch. GREASE values (RFC 8701) are ignored everywhere, signature
// algorithms included (as Arkime and FoxIO do since Chromium put GREASE
// there).
//
// ja4_a is the transport, the version, 'd' when a server_name extension is
// present (whatever it holds) and 'i' otherwise, the number of cipher
// suites and of extensions (SNI and ALPN included) as two digits capped at
// 99, and two characters for the first ALPN protocol:
//
//   - the version is the highest value of supported_versions, or
//     legacy_version when that extension is absent or holds only GREASE:
//     "13", "12", "11", "10", "s3", "s2", DTLS "d1" (0xfeff), "d2" (0xfefd),
//     "d3" (0xfefc), and "00" for anything else (TLS 1.3 drafts, 0x7fNN,
//     included). DTLS codes count down, so the highest DTLS version is the
//     lowest code;
//   - the ALPN characters are the first and last bytes of the first
//     protocol name ("h2", "h1" for "http/1.1", "xx" for "x"); "00" when
//     there is no ALPN extension, no name or an empty first name; and when
//     the first or the last byte is not an ASCII letter or digit, the first
//     and last characters of the name's lowercase hex encoding instead
//     (0x30 0xAB gives "3b").
//
// ja4_b is the first 12 hex digits of the SHA-256 of the sorted cipher
// suites, as 4-digit lowercase hex joined by ',' ("000000000000" when
// there are none).
//
// ja4_c is the same for the sorted extension types without server_name
// (0x0000) and ALPN (0x0010), followed, when the hello has any signature
// algorithms, by '_' and the signature_algorithms values in wire order
// (no trailing '_' without them, as the specification says since FoxIO
// PR #149); "000000000000" when that extension list is empty.
//
// For an SSLv2-format hello (ch.SSLv2) the cipher suites are the TLS ones,
// the 0x00XXYY cipher specs (RFC 5246 Appendix E.2): an SSLv2-only spec
// has no 16-bit code point to write.
func JA4(ch *ClientHello, transport byte) string {
	if ch == nil {
		return ""
	}
	var out [ja4Len]byte
	b := ja4AppendA(out[:0], ch, transport)

	var suiteBuf [fpMaxStackSuites]uint16
	var extBuf [fpMaxStackExts]uint16
	var text [fpMaxStackText]byte
	suites := ja4Suites(suiteBuf[:0], ch.CipherSuites, true)
	exts := ja4Extensions(extBuf[:0], ch.Extensions, true)

	b = append(b, '_')
	b = ja4AppendHash(b, ja4AppendHexList(text[:0], suites), len(suites) == 0)
	b = append(b, '_')
	t := ja4AppendHexList(text[:0], exts)
	if ja4HasSignatureAlgorithms(ch) {
		t = append(t, '_')
		t = ja4AppendHexList(t, ch.SignatureAlgorithms)
	}
	b = ja4AppendHash(b, t, len(exts) == 0)
	return string(b)
}

// JA4Raw returns the raw form of ch's JA4: ja4_a, then the cipher suites,
// the extension types and, when there are any, the signature algorithms,
// as 4-digit lowercase hex lists joined by ',', the lists separated by '_'.
//
// With original false it is JA4_r: the lists JA4 hashes (ciphers and
// extensions sorted, server_name and ALPN left out of the extensions).
// With original true it is JA4_ro: ciphers and extensions in wire order,
// server_name and ALPN included. GREASE is removed from both. A hello
// without extensions ends in "_" (an empty list), as in the reference
// outputs ("ts3i230000_0003,…,00ff_").
func JA4Raw(ch *ClientHello, transport byte, original bool) string {
	if ch == nil {
		return ""
	}
	var suiteBuf [fpMaxStackSuites]uint16
	var extBuf [fpMaxStackExts]uint16
	var text [fpMaxStackText]byte
	suites := ja4Suites(suiteBuf[:0], ch.CipherSuites, !original)
	exts := ja4Extensions(extBuf[:0], ch.Extensions, !original)

	b := ja4AppendA(text[:0], ch, transport)
	b = append(b, '_')
	b = ja4AppendHexList(b, suites)
	b = append(b, '_')
	b = ja4AppendHexList(b, exts)
	if ja4HasSignatureAlgorithms(ch) {
		b = append(b, '_')
		b = ja4AppendHexList(b, ch.SignatureAlgorithms)
	}
	return string(b)
}

// ja4AppendA appends ja4_a, 10 bytes.
func ja4AppendA(b []byte, ch *ClientHello, transport byte) []byte {
	b = append(b, transport)
	b = append(b, ja4VersionCode(ja4Version(ch))...)
	sni := byte('i')
	nSuites, nExts := 0, 0
	for _, s := range ch.CipherSuites {
		if !IsGREASE(s) {
			nSuites++
		}
	}
	for _, e := range ch.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		nExts++
		if e.Type == ExtServerName {
			sni = 'd'
		}
	}
	b = append(b, sni)
	b = ja4AppendCount(b, nSuites)
	b = ja4AppendCount(b, nExts)
	first, last := ja4ALPN(ch.ALPN)
	return append(b, first, last)
}

// ja4Version is the version JA4 reports: the highest non-GREASE value of
// supported_versions, else legacy_version.
func ja4Version(ch *ClientHello) uint16 {
	best, found := uint16(0), false
	for _, v := range ch.SupportedVersions {
		if IsGREASE(v) {
			continue
		}
		if !found || ja4VersionRank(v) > ja4VersionRank(best) {
			best, found = v, true
		}
	}
	if !found {
		return uint16(ch.Version)
	}
	return best
}

// ja4VersionRank orders versions: by code point, except that DTLS codes
// (0xfeXX, RFC 6347 §4.1, RFC 9147 §5.3) count down from 0xfeff and rank
// above every TLS code, so that "highest" means newest for both.
func ja4VersionRank(v uint16) int {
	if v>>8 == 0xfe {
		return 1<<16 + int(0xff-v&0xff)
	}
	return int(v)
}

// ja4VersionCode maps a version to its two JA4 characters.
func ja4VersionCode(v uint16) string {
	switch Version(v) {
	case VersionTLS13:
		return "13"
	case VersionTLS12:
		return "12"
	case VersionTLS11:
		return "11"
	case VersionTLS10:
		return "10"
	case VersionSSL30:
		return "s3"
	case VersionSSL20:
		return "s2"
	}
	switch v {
	case 0xfeff: // DTLS 1.0 (RFC 4347)
		return "d1"
	case 0xfefd: // DTLS 1.2 (RFC 6347)
		return "d2"
	case 0xfefc: // DTLS 1.3 (RFC 9147)
		return "d3"
	}
	return "00"
}

// ja4AppendCount appends n as two decimal digits, capped at 99.
func ja4AppendCount(b []byte, n int) []byte {
	n = min(n, 99)
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// ja4ALPN returns the two ALPN characters of ja4_a for the offered
// protocols.
func ja4ALPN(protos []string) (first, last byte) {
	if len(protos) == 0 || protos[0] == "" {
		return '0', '0'
	}
	p := protos[0]
	f, l := p[0], p[len(p)-1]
	if ja4Alnum(f) && ja4Alnum(l) {
		return f, l
	}
	const digits = "0123456789abcdef"
	return digits[f>>4], digits[l&0x0f]
}

// ja4Alnum reports whether c is an ASCII letter or digit.
func ja4Alnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

// ja4Suites appends the non-GREASE suites to dst, sorted if sorted is set.
func ja4Suites(dst, suites []uint16, sorted bool) []uint16 {
	for _, s := range suites {
		if !IsGREASE(s) {
			dst = append(dst, s)
		}
	}
	if sorted {
		slices.Sort(dst)
	}
	return dst
}

// ja4Extensions appends the non-GREASE extension types to dst. When sorted
// is set, server_name and ALPN are left out and the result is sorted (the
// JA4 form); otherwise it is every type in wire order (the JA4_ro form).
func ja4Extensions(dst []uint16, exts []Extension, sorted bool) []uint16 {
	for _, e := range exts {
		if IsGREASE(e.Type) || sorted && (e.Type == ExtServerName || e.Type == ExtALPN) {
			continue
		}
		dst = append(dst, e.Type)
	}
	if sorted {
		slices.Sort(dst)
	}
	return dst
}

// ja4HasSignatureAlgorithms reports whether ch has a non-GREASE signature
// algorithm, which adds the "_sigalgs" part to ja4_c.
func ja4HasSignatureAlgorithms(ch *ClientHello) bool {
	return slices.ContainsFunc(ch.SignatureAlgorithms, func(v uint16) bool { return !IsGREASE(v) })
}

// ja4AppendHexList appends the values of vs as 4-digit lowercase hex
// joined by ',', leaving GREASE values out.
func ja4AppendHexList(b []byte, vs []uint16) []byte {
	const digits = "0123456789abcdef"
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf])
	}
	return b
}

// ja4AppendHash appends the first 12 hex digits of the SHA-256 of text, or
// twelve zeros when empty is set.
func ja4AppendHash(b, text []byte, empty bool) []byte {
	if empty {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(text)
	return hex.AppendEncode(b, sum[:6])
}
