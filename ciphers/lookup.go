package ciphers

import (
	"fmt"
	"strconv"
	"strings"
)

// maxQuery bounds the input Lookup reads; no name is near this long.
const maxQuery = 128

// Lookup finds a cipher suite (or SCSV or GREASE value) by any of the ways
// people write one:
//
//	0xC02F, 0xc02f, C02F    hex (four digits without "0x")
//	0xC0,0x2F, C0,2F        the two bytes, as RFCs and IANA write them
//	49199                   decimal, as JA3 strings write them
//	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256   the IANA name, any case
//	ECDHE-RSA-AES128-GCM-SHA256             the OpenSSL name, any case
//
// Four digits without "0x" are read as hex ("1301" is TLS_AES_128_GCM_SHA256)
// unless no suite has that hex value and they are all decimal digits, then
// as decimal ("4865", from a JA3 string, is the same suite). Names with
// Java's and NSS's "SSL_" prefix for "TLS_", and OpenSSL 1.0's EDH- for
// DHE-, are accepted too. Surrounding space and braces are ignored.
//
// An error wraps ErrUnknown.
func Lookup(q string) (Suite, error) {
	s := strings.TrimSpace(q)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}"))
	if s == "" {
		return Suite{}, fmt.Errorf("%w cipher suite: empty query", ErrUnknown)
	}
	if len(s) > maxQuery {
		return Suite{}, fmt.Errorf("%w cipher suite %.20q…: longer than %d bytes", ErrUnknown, s, maxQuery)
	}
	if id, ok := parseCode(s); ok {
		if id < 0 || id > 0xFFFF {
			return Suite{}, fmt.Errorf("%w cipher suite %q: not a 16-bit code", ErrUnknown, q)
		}
		if suite, ok := ByID(uint16(id)); ok {
			return suite, nil
		}
		return Suite{}, fmt.Errorf("%w cipher suite %q (0x%04X)", ErrUnknown, q, id)
	}
	ix := theIndex()
	name := strings.ToUpper(s)
	for _, n := range nameVariants(name) {
		if i, ok := ix.byName[n]; ok {
			return suites[i], nil
		}
	}
	if name == "GREASE" {
		return Suite{}, fmt.Errorf("%w cipher suite %q: 16 values are GREASE; look one up by code (0x0A0A)", ErrUnknown, q)
	}
	return Suite{}, fmt.Errorf("%w cipher suite %q", ErrUnknown, q)
}

// nameVariants returns the upper-cased name and the spellings it may be an
// alias of.
func nameVariants(name string) []string {
	vs := []string{name}
	if rest, ok := strings.CutPrefix(name, "SSL_"); ok {
		vs = append(vs, "TLS_"+rest) // SSL_RSA_WITH_RC4_128_MD5 (Java, NSS)
	}
	// OpenSSL before 1.1.0 wrote EDH- for ephemeral DH; some suites kept
	// that name (they left with 1.0.2), the rest became DHE-.
	switch {
	case strings.HasPrefix(name, "EDH-"):
		vs = append(vs, "DHE-"+name[4:])
	case strings.HasPrefix(name, "EXP-EDH-"):
		vs = append(vs, "EXP-DHE-"+name[8:])
	case strings.HasPrefix(name, "DHE-"):
		vs = append(vs, "EDH-"+name[4:])
	case strings.HasPrefix(name, "EXP-DHE-"):
		vs = append(vs, "EXP-EDH-"+name[8:])
	}
	return vs
}

// parseCode reads a numeric code point; ok is false when s is not written
// as a number (it may then be a name). id is -1 for a number too large.
func parseCode(s string) (id int, ok bool) {
	// Two bytes: "0xC0,0x2F", "C0, 2F", "0xC0 0x2F".
	if hi, lo, found := strings.Cut(s, ","); found {
		return parseBytePair(hi, lo)
	}
	if hi, lo, found := strings.Cut(s, " "); found {
		return parseBytePair(hi, lo)
	}
	if h, found := cutHexPrefix(s); found {
		if !isHex(h) {
			return 0, false
		}
		v, err := strconv.ParseUint(h, 16, 16)
		if err != nil {
			return -1, true
		}
		return int(v), true
	}
	if len(s) == 4 && isHex(s) {
		hex, _ := strconv.ParseUint(s, 16, 16)
		if _, known := ByID(uint16(hex)); known || !isDecimal(s) {
			return int(hex), true
		}
	}
	if isDecimal(s) {
		v, err := strconv.ParseUint(s, 10, 16)
		if err != nil {
			return -1, true
		}
		return int(v), true
	}
	return 0, false
}

// parseBytePair reads the two bytes of "0xC0,0x2F".
func parseBytePair(hi, lo string) (int, bool) {
	b := func(s string) (int, bool) {
		s = strings.TrimSpace(s)
		if h, found := cutHexPrefix(s); found {
			s = h
		}
		if len(s) < 1 || len(s) > 2 || !isHex(s) {
			return 0, false
		}
		v, _ := strconv.ParseUint(s, 16, 8)
		return int(v), true
	}
	h, ok1 := b(hi)
	l, ok2 := b(lo)
	return h<<8 | l, ok1 && ok2
}

func cutHexPrefix(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:], true
	}
	return s, false
}

func isHex(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isDecimal(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
