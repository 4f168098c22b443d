package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/ciphers"
)

// SuiteRuleKind says how a SuiteRule matches.
type SuiteRuleKind uint8

const (
	// SuiteByID matches one code point; written "id:0xC013", "0xC013",
	// or by name "ECDHE-RSA-AES128-SHA" / "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
	// (any name ciphers.Lookup knows), which resolves to the code point.
	SuiteByID SuiteRuleKind = iota
	// SuiteByGrade matches the suites of a grade or worse: "grade:weak"
	// matches weak and insecure suites.
	SuiteByGrade
	// SuiteByAttribute matches the suites with an attribute: "rc4",
	// "attribute:no-pfs" (Attributes lists them).
	SuiteByAttribute
)

// SuiteRule selects cipher suites.
type SuiteRule struct {
	Kind      SuiteRuleKind
	ID        uint16        // SuiteByID
	Grade     ciphers.Grade // SuiteByGrade
	Attribute string        // SuiteByAttribute, one of Attributes()
	// Text is the rule as written ("ECDHE-RSA-AES128-SHA"); String
	// returns it.
	Text string
}

// attribute is a named suite predicate.
type attribute struct {
	name  string
	doc   string
	match func(s ciphers.Suite) bool
}

var attributes = []attribute{
	{"export", "export-grade suites (40- and 56-bit keys, 512-bit RSA or DH)", func(s ciphers.Suite) bool { return s.Export }},
	{"null", "no encryption", func(s ciphers.Suite) bool { return s.Null || s.Enc == "NULL" }},
	{"anon", "no server authentication (anonymous DH and ECDH)", func(s ciphers.Suite) bool { return s.Anon }},
	{"rc4", "RC4", func(s ciphers.Suite) bool { return s.Enc == "RC4" }},
	{"rc2", "RC2", func(s ciphers.Suite) bool { return s.Enc == "RC2" }},
	{"des", "single DES, DES40 included", func(s ciphers.Suite) bool { return s.Enc == "DES" || s.Enc == "DES40" }},
	{"3des", "triple DES (3DES_EDE)", func(s ciphers.Suite) bool { return s.Enc == "3DES_EDE" }},
	{"idea", "IDEA", func(s ciphers.Suite) bool { return s.Enc == "IDEA" }},
	{"seed", "SEED", func(s ciphers.Suite) bool { return s.Enc == "SEED" }},
	{"64bit-block", "64-bit block ciphers (3DES, DES, IDEA, RC2, GOST 28147-89): Sweet32", func(s ciphers.Suite) bool {
		return slices.Contains([]string{"3DES_EDE", "DES", "DES40", "IDEA", "RC2", "GOST28147", "MAGMA"}, s.Enc)
	}},
	{"cbc", "CBC mode", func(s ciphers.Suite) bool { return s.Mode == "CBC" }},
	{"ccm8", "CCM with an 8-byte tag", func(s ciphers.Suite) bool { return s.Mode == "CCM_8" }},
	{"sha1-mac", "an HMAC-SHA1 record MAC (non-AEAD suites)", func(s ciphers.Suite) bool { return !s.AEAD && s.MAC == "SHA1" }},
	{"md5", "an HMAC-MD5 record MAC", func(s ciphers.Suite) bool { return s.MAC == "MD5" }},
	{"no-pfs", "no forward secrecy", func(s ciphers.Suite) bool { return !s.PFS }},
	{"non-aead", "not AEAD", func(s ciphers.Suite) bool { return !s.AEAD }},
	{"static-rsa", "RSA key transport (kex RSA, RSA_PSK)", func(s ciphers.Suite) bool { return s.Kex == "RSA" || s.Kex == "RSA_PSK" }},
	{"static-dh", "static DH or ECDH from the certificate", func(s ciphers.Suite) bool { return (s.Kex == "DH" || s.Kex == "ECDH") && !s.Anon }},
	{"psk", "pre-shared keys (PSK, DHE_PSK, ECDHE_PSK, RSA_PSK)", func(s ciphers.Suite) bool { return strings.Contains(s.Kex, "PSK") }},
	{"dhe", "finite-field ephemeral DH (DHE, DHE_PSK)", func(s ciphers.Suite) bool { return s.Kex == "DHE" || s.Kex == "DHE_PSK" }},
}

// Attributes returns the attribute names a SuiteRule takes, with a short
// description each, in a stable order.
func Attributes() [][2]string {
	out := make([][2]string, 0, len(attributes))
	for _, a := range attributes {
		out = append(out, [2]string{a.name, a.doc})
	}
	return out
}

func findAttribute(name string) (attribute, bool) {
	i := slices.IndexFunc(attributes, func(a attribute) bool { return a.name == name })
	if i < 0 {
		return attribute{}, false
	}
	return attributes[i], true
}

// maxRuleLen bounds a rule's text; no suite name is near this long.
const maxRuleLen = 128

// ParseSuiteRule reads a rule as the policy file writes it:
//
//	grade:weak             weak and insecure suites
//	attribute:rc4, rc4     an attribute (Attributes)
//	id:0xC013, 0xC013      a code point
//	name:AES128-SHA, AES128-SHA, TLS_RSA_WITH_AES_128_CBC_SHA   a name
//
// An error wraps ErrInvalid.
func ParseSuiteRule(s string) (SuiteRule, error) {
	text := strings.TrimSpace(s)
	if text == "" {
		return SuiteRule{}, fmt.Errorf("%w suite rule: empty", ErrInvalid)
	}
	if len(text) > maxRuleLen {
		return SuiteRule{}, fmt.Errorf("%w suite rule %.20q…: longer than %d bytes", ErrInvalid, text, maxRuleLen)
	}
	kind, value, hasKind := strings.Cut(text, ":")
	kind = strings.ToLower(strings.TrimSpace(kind))
	value = strings.TrimSpace(value)
	if !hasKind {
		value = text
		kind = ""
		if _, ok := findAttribute(strings.ToLower(text)); ok {
			kind = "attribute"
		}
	}
	switch kind {
	case "grade":
		g, err := ciphers.ParseGrade(value)
		if err != nil || g == ciphers.GradeNone {
			return SuiteRule{}, fmt.Errorf("%w suite rule %q: grade %q (want insecure, weak, secure or recommended)", ErrInvalid, text, value)
		}
		return SuiteRule{Kind: SuiteByGrade, Grade: g, Text: "grade:" + g.String()}, nil
	case "attribute", "attr":
		a, ok := findAttribute(strings.ToLower(value))
		if !ok {
			return SuiteRule{}, fmt.Errorf("%w suite rule %q: unknown attribute %q (want one of %s)", ErrInvalid, text, value, attributeNames())
		}
		return SuiteRule{Kind: SuiteByAttribute, Attribute: a.name, Text: a.name}, nil
	case "id", "name", "":
		if kind == "" && hasKind {
			return SuiteRule{}, fmt.Errorf("%w suite rule %q: empty kind before ':'", ErrInvalid, text)
		}
		suite, err := ciphers.Lookup(value)
		if err != nil {
			return SuiteRule{}, fmt.Errorf("%w suite rule %q: %w", ErrInvalid, text, err)
		}
		if suite.Kind != ciphers.KindSuite {
			return SuiteRule{}, fmt.Errorf("%w suite rule %q: %s is a %s, not a cipher suite", ErrInvalid, text, suite.HexID(), suite.Kind)
		}
		return SuiteRule{Kind: SuiteByID, ID: suite.ID, Text: value}, nil
	}
	return SuiteRule{}, fmt.Errorf("%w suite rule %q: unknown kind %q (want grade:, attribute:, id: or name:)", ErrInvalid, text, kind)
}

func attributeNames() string {
	var names []string
	for _, a := range attributes {
		names = append(names, a.name)
	}
	return strings.Join(names, ", ")
}

// String returns the rule as written in a policy file.
func (r SuiteRule) String() string {
	if r.Text != "" {
		return r.Text
	}
	switch r.Kind {
	case SuiteByGrade:
		return "grade:" + r.Grade.String()
	case SuiteByAttribute:
		return r.Attribute
	}
	return fmt.Sprintf("0x%04X", r.ID)
}

// Match reports whether s is selected by the rule.
func (r SuiteRule) Match(s ciphers.Suite) bool {
	switch r.Kind {
	case SuiteByID:
		return s.ID == r.ID
	case SuiteByGrade:
		return s.Grade != ciphers.GradeNone && s.Grade <= r.Grade
	case SuiteByAttribute:
		a, ok := findAttribute(r.Attribute)
		return ok && a.match(s)
	}
	return false
}

// mustRules parses rules known to be valid (the built-in profiles).
func mustRules(texts ...string) []SuiteRule {
	rs := make([]SuiteRule, 0, len(texts))
	for _, t := range texts {
		r, err := ParseSuiteRule(t)
		if err != nil {
			panic(err)
		}
		rs = append(rs, r)
	}
	return rs
}
