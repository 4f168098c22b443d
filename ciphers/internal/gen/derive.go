package main

import (
	"fmt"
	"strings"
)

// Protocol version bits; the same values as ciphers.VSSL30 … ciphers.VTLS13,
// emitted by name.
const (
	vSSL30 uint8 = 1 << iota
	vTLS10
	vTLS11
	vTLS12
	vTLS13

	vSSL30toTLS12 = vSSL30 | vTLS10 | vTLS11 | vTLS12
	vTLS10toTLS12 = vTLS10 | vTLS11 | vTLS12
	vExport       = vSSL30 | vTLS10
)

// attrs is what the registry knows about one cipher suite. derive fills
// everything but ID, Name, OpenSSLName, Recommended and Reference.
type attrs struct {
	ID          uint16
	Kind        string // KindSuite, KindSCSV, KindGREASE
	Name        string
	OpenSSLName string
	Kex, Auth   string
	Enc, Mode   string
	MAC         string
	Bits        int
	AEAD        bool
	PFS         bool
	Export      bool
	Null        bool
	Anon        bool
	Versions    uint8
	Grade       string
	Recommended bool // IANA's Recommended column is "Y"
	Reference   string

	kexPart string // the text between "TLS_" and "_WITH_", "" for TLS 1.3 names
	tls13   bool
}

// kexAuth maps the part of a suite name between "TLS_" and "_WITH_" (with
// any _EXPORT or _EXPORT1024 suffix removed) to its key exchange and
// authentication. An exact table rather than a split on "_": the part is
// not regular (SRP_SHA_RSA, PSK_DHE, GOSTR341112_256).
var kexAuth = map[string][2]string{
	"NULL":            {"NULL", "NULL"},   // RFC 5246: TLS_NULL_WITH_NULL_NULL
	"RSA":             {"RSA", "RSA"},     // RFC 5246
	"DH_DSS":          {"DH", "DSS"},      // RFC 5246: static DH in a DSS certificate
	"DH_RSA":          {"DH", "RSA"},      // RFC 5246
	"DHE_DSS":         {"DHE", "DSS"},     // RFC 5246
	"DHE_RSA":         {"DHE", "RSA"},     // RFC 5246
	"DH_anon":         {"DH", "anon"},     // RFC 5246 §7.4.3: unsigned, per-connection DH
	"KRB5":            {"KRB5", "KRB5"},   // RFC 2712
	"PSK":             {"PSK", "PSK"},     // RFC 4279
	"DHE_PSK":         {"DHE_PSK", "PSK"}, // RFC 4279
	"PSK_DHE":         {"DHE_PSK", "PSK"}, // RFC 6655 spells DHE_PSK this way for its CCM_8 suites
	"RSA_PSK":         {"RSA_PSK", "RSA"}, // RFC 4279: the server has an RSA certificate
	"ECDHE_PSK":       {"ECDHE_PSK", "PSK"},
	"ECDH_ECDSA":      {"ECDH", "ECDSA"}, // RFC 8422 (was RFC 4492)
	"ECDH_RSA":        {"ECDH", "RSA"},
	"ECDHE_ECDSA":     {"ECDHE", "ECDSA"},
	"ECDHE_RSA":       {"ECDHE", "RSA"},
	"ECDH_anon":       {"ECDH", "anon"},
	"SRP_SHA":         {"SRP", "SHA"}, // RFC 5054: the password verifier is the only authentication
	"SRP_SHA_RSA":     {"SRP", "RSA"},
	"SRP_SHA_DSS":     {"SRP", "DSS"},
	"ECCPWD":          {"ECCPWD", "ECCPWD"}, // RFC 8492: password-authenticated ECC key exchange
	"GOSTR341094":     {"GOST", "GOST"},     // draft-chudov-cryptopro-cptls: GOST R 34.10-94 keys
	"GOSTR341001":     {"GOST", "GOST"},     // draft-chudov-cryptopro-cptls: GOST R 34.10-2001 keys
	"GOSTR341112_256": {"GOST", "GOST"},     // RFC 9189: GOST R 34.10-2012 keys, Streebog-256 PRF
}

// macs maps the last token of a suite name to its MAC (or, for AEAD
// suites, PRF/HKDF) hash.
var macs = map[string]string{
	"MD5":       "MD5",
	"SHA":       "SHA1",
	"SHA256":    "SHA256",
	"SHA384":    "SHA384",
	"SM3":       "SM3",       // RFC 8998
	"GOSTR3411": "GOSTR3411", // HMAC with GOST R 34.11 (draft-chudov-cryptopro-cptls)
	"IMIT":      "GOST28147", // the GOST 28147-89 MAC ("imitovstavka")
	"OMAC":      "OMAC",      // RFC 9189: OMAC (CMAC) with Kuznyechik or Magma
}

// derive fills the algorithm attributes and the versions of a cipher suite
// from its IANA-grammar name (the caller grades it once Recommended is known):
//
//	TLS_<KEX>[_<AUTH>][_EXPORT|_EXPORT1024]_WITH_<CIPHER>_<MAC>   TLS 1.2 and earlier
//	TLS_<CIPHER>_<HASH>                                          TLS 1.3 (RFC 8446 §B.4)
//	TLS_<HASH>_<HASH>                                            TLS 1.3 integrity only (RFC 9150)
func derive(a *attrs, name string) error {
	rest, ok := strings.CutPrefix(name, "TLS_")
	if !ok {
		return fmt.Errorf("suite name %q does not start with TLS_", name)
	}
	kexPart, encPart, hasWith := strings.Cut(rest, "_WITH_")
	if !hasWith {
		if err := deriveTLS13(a, rest); err != nil {
			return fmt.Errorf("suite name %q: %w", name, err)
		}
	} else {
		a.kexPart = kexPart
		if p, ok := strings.CutSuffix(kexPart, "_EXPORT1024"); ok {
			kexPart, a.Export = p, true
		} else if p, ok := strings.CutSuffix(kexPart, "_EXPORT"); ok {
			kexPart, a.Export = p, true
		}
		ka, ok := kexAuth[kexPart]
		if !ok {
			return fmt.Errorf("suite name %q: unknown key exchange %q", name, kexPart)
		}
		a.Kex, a.Auth = ka[0], ka[1]
		toks := strings.Split(encPart, "_")
		n, err := parseCipher(a, toks)
		if err != nil {
			return fmt.Errorf("suite name %q: %w", name, err)
		}
		switch rest := toks[n:]; {
		case len(rest) == 1 && macs[rest[0]] != "":
			a.MAC = macs[rest[0]]
		case len(rest) == 0 && (a.Mode == "CCM" || a.Mode == "CCM_8"):
			a.MAC = "SHA256" // RFC 6655, RFC 7251: the CCM suites use the SHA-256 PRF
		case len(rest) == 0 && a.Mode == "MGM":
			// RFC 9367: TLS_GOSTR341112_256_WITH_<cipher>_MGM_<L|S> are TLS 1.3
			// suites; "GOSTR341112_256" is the HKDF hash, not a key exchange.
			a.Kex, a.Auth, a.MAC, a.tls13 = "any", "any", "GOSTR3411", true
		case len(rest) == 1 && rest[0] == "NULL" && a.Null:
			a.MAC = "NULL" // TLS_NULL_WITH_NULL_NULL
		default:
			return fmt.Errorf("suite name %q: cannot read MAC from %q", name, strings.Join(rest, "_"))
		}
	}
	a.Anon = a.Auth == "anon" || a.Auth == "NULL"
	a.PFS = pfs(a)
	a.Versions = versions(a)
	return nil
}

// deriveTLS13 reads a TLS 1.3 name, without the "TLS_" prefix.
func deriveTLS13(a *attrs, rest string) error {
	a.Kex, a.Auth, a.tls13 = "any", "any", true
	toks := strings.Split(rest, "_")
	if len(toks) == 2 && toks[0] == toks[1] && (toks[0] == "SHA256" || toks[0] == "SHA384") {
		// RFC 9150: HMAC-only suites that authenticate records but do not encrypt them.
		a.Enc, a.Mode, a.MAC, a.Null = "NULL", "NULL", toks[0], true
		return nil
	}
	n, err := parseCipher(a, toks)
	if err != nil {
		return err
	}
	if len(toks) != n+1 || !strings.HasPrefix(toks[n], "SHA") && toks[n] != "SM3" {
		return fmt.Errorf("cannot read the hash from %q", strings.Join(toks[n:], "_"))
	}
	a.MAC = macs[toks[n]]
	if !a.AEAD {
		return fmt.Errorf("TLS 1.3 cipher %s is not AEAD", a.Enc)
	}
	return nil
}

// parseCipher reads the bulk cipher at the start of toks (for example
// ["AES","128","GCM","SHA256"] or ["RC2","CBC","40","MD5"]) and returns
// how many tokens it used.
func parseCipher(a *attrs, toks []string) (int, error) {
	if len(toks) == 0 {
		return 0, fmt.Errorf("no cipher")
	}
	i := 1
	next := func() string {
		if i < len(toks) {
			return toks[i]
		}
		return ""
	}
	expect := func(want string) error {
		if next() != want {
			return fmt.Errorf("cipher %s: want %s, have %q", toks[0], want, next())
		}
		i++
		return nil
	}
	// size reads a key size token that must be one of allowed.
	size := func(allowed ...int) error {
		for _, n := range allowed {
			if next() == fmt.Sprint(n) {
				a.Bits = n
				i++
				return nil
			}
		}
		return fmt.Errorf("cipher %s: want a key size in %v, have %q", toks[0], allowed, next())
	}
	// blockMode reads CBC, GCM, CCM or CCM_8 for a 128-bit block cipher.
	blockMode := func(allowed string) error {
		m := next()
		if !strings.Contains(" "+allowed+" ", " "+m+" ") {
			return fmt.Errorf("cipher %s: want a mode in [%s], have %q", toks[0], allowed, m)
		}
		i++
		a.Mode = m
		if m == "CCM" && next() == "8" {
			a.Mode = "CCM_8" // RFC 6655: 8-octet authentication tag
			i++
		}
		a.AEAD = m != "CBC"
		return nil
	}

	switch a.Enc = toks[0]; toks[0] {
	case "NULL":
		a.Mode, a.Null = "NULL", true
	case "RC4": // RC4_40, RC4_56 (draft-ietf-tls-56-bit-ciphersuites), RC4_128
		a.Mode = "STREAM"
		return i, size(40, 56, 128)
	case "RC2": // RC2_CBC_40, RC2_CBC_56
		a.Mode = "CBC"
		if err := expect("CBC"); err != nil {
			return i, err
		}
		return i, size(40, 56)
	case "IDEA":
		a.Mode, a.Bits = "CBC", 128
		return i, expect("CBC")
	case "DES40": // DES40_CBC (RFC 4346): DES with 40 bits of its key secret
		a.Mode, a.Bits = "CBC", 40
		return i, expect("CBC")
	case "DES": // DES_CBC, or DES_CBC_40 (RFC 2712's spelling of DES40)
		a.Mode, a.Bits = "CBC", 56
		if err := expect("CBC"); err != nil {
			return i, err
		}
		if next() == "40" {
			a.Enc, a.Bits = "DES40", 40
			i++
		}
	case "3DES":
		// Three-key 3DES has a 168-bit key but, through meet-in-the-middle,
		// 112 bits of strength; Bits is the effective strength.
		a.Enc, a.Mode, a.Bits = "3DES_EDE", "CBC", 112
		if err := expect("EDE"); err != nil {
			return i, err
		}
		return i, expect("CBC")
	case "AES":
		if err := size(128, 256); err != nil {
			return i, err
		}
		return i, blockMode("CBC GCM CCM")
	case "CAMELLIA", "ARIA":
		if err := size(128, 256); err != nil {
			return i, err
		}
		return i, blockMode("CBC GCM")
	case "SEED":
		a.Mode, a.Bits = "CBC", 128
		return i, expect("CBC")
	case "SM4": // RFC 8998
		a.Bits = 128
		return i, blockMode("GCM CCM")
	case "CHACHA20": // RFC 7905
		a.Enc, a.Mode, a.Bits, a.AEAD = "CHACHA20_POLY1305", "POLY1305", 256, true
		return i, expect("POLY1305")
	case "AEGIS": // draft-irtf-cfrg-aegis-aead: AEGIS-256 and AEGIS-128L
		a.Mode, a.AEAD = "AEGIS", true
		switch next() {
		case "256":
			a.Bits = 256
		case "128L":
			a.Bits = 128
		default:
			return i, fmt.Errorf("cipher AEGIS: unknown variant %q", next())
		}
		i++
	case "28147": // GOST 28147-89 in counter mode (CNT)
		a.Enc, a.Mode, a.Bits = "GOST28147", "CTR", 256
		return i, expect("CNT")
	case "KUZNYECHIK", "MAGMA": // GOST R 34.12-2015 ciphers: RFC 9189 (CTR) and RFC 9367 (MGM)
		a.Bits = 256
		switch next() {
		case "CTR":
			a.Mode = "CTR"
			i++
		case "MGM":
			// MGM_L and MGM_S differ only in how often keys are renewed.
			a.Mode, a.AEAD = "MGM", true
			i++
			if next() != "L" && next() != "S" {
				return i, fmt.Errorf("cipher %s: MGM wants _L or _S, have %q", toks[0], next())
			}
			i++
		default:
			return i, fmt.Errorf("cipher %s: unknown mode %q", toks[0], next())
		}
	default:
		return 0, fmt.Errorf("unknown cipher %q", toks[0])
	}
	return i, nil
}

// pfs reports whether the key exchange is ephemeral, so that a later theft
// of the server's long-term key does not expose recorded sessions.
func pfs(a *attrs) bool {
	if a.tls13 {
		return true // RFC 8446: (EC)DHE key shares (psk_ke without DHE aside)
	}
	switch a.Kex {
	case "DHE", "ECDHE", "DHE_PSK", "ECDHE_PSK":
		return true
	case "DH", "ECDH":
		// Anonymous DH and ECDH send fresh, unsigned parameters each time
		// (RFC 5246 §7.4.3, RFC 4492 §2.5); DH_DSS, DH_RSA, ECDH_ECDSA and
		// ECDH_RSA take them from the certificate and are static.
		return a.Auth == "anon"
	case "SRP", "ECCPWD":
		return true // the password-based exchanges use ephemeral values (RFC 5054, RFC 8492)
	}
	return false // RSA, PSK, RSA_PSK, KRB5, GOST (key transport to a static key), NULL
}

// pskSHA2PreTLS12 reports the PSK suites with an SHA-256/384 MAC that their
// RFCs allow in TLS 1.0 and 1.1 too, with that version's PRF: RFC 5487,
// RFC 5489 and RFC 6367 (AES, Camellia and NULL; OpenSSL agrees).
func pskSHA2PreTLS12(a *attrs) bool {
	switch a.Kex {
	case "PSK", "DHE_PSK", "RSA_PSK", "ECDHE_PSK":
		return (a.MAC == "SHA256" || a.MAC == "SHA384") && !a.AEAD &&
			(a.Enc == "AES" || a.Enc == "CAMELLIA" || a.Enc == "NULL")
	}
	return false
}

// versions is the rule for which protocol versions can negotiate a suite;
// docs/grades.md states it in prose. Extras may override it.
func versions(a *attrs) uint8 {
	switch {
	case a.tls13:
		return vTLS13
	case a.Export:
		return vExport // RFC 4346 §A.5: TLS 1.1 must not negotiate export suites
	case a.AEAD:
		return vTLS12 // AEAD ciphers need TLS 1.2's record layer (RFC 5246 §6.2.3.3)
	case pskSHA2PreTLS12(a):
		return vTLS10toTLS12
	case a.MAC == "SHA256" || a.MAC == "SHA384" || a.kexPart == "GOSTR341112_256":
		return vTLS12 // SHA-2 PRF suites (RFC 5246 §5); RFC 9189 is TLS 1.2 only
	case a.Kex == "ECDH" || a.Kex == "ECDHE" || a.Kex == "ECDHE_PSK" || a.Kex == "GOST":
		return vTLS10toTLS12 // defined for TLS only (RFC 4492, draft-chudov-cryptopro-cptls)
	}
	return vSSL30toTLS12
}

// grade is the one function that holds the grading rules. docs/grades.md
// states them in prose; keep the two in step. The first matching rule wins.
func grade(a *attrs) string {
	switch {
	case a.Null, a.Anon, a.Export,
		a.Bits < 112,
		a.Enc == "RC4", a.Enc == "RC2", a.Enc == "DES", a.Enc == "DES40",
		a.MAC == "MD5":
		return "GradeInsecure"
	case !a.PFS,
		a.Enc == "3DES_EDE", a.Enc == "IDEA", a.Enc == "GOST28147", // 64-bit blocks (Sweet32)
		a.Enc == "SEED":
		return "GradeWeak"
	case a.AEAD && a.Recommended:
		return "GradeRecommended"
	}
	return "GradeSecure"
}
