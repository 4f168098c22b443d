package output

import (
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends r as json.Marshal writes it (the fields in order,
// HTML characters escaped, a nil slice as null), without reflection: what
// sniff --store-flows keeps for every connection. TestFlowRecordJSON
// holds the two to the same bytes.
func (r *FlowRecord) AppendJSON(dst []byte) []byte {
	j := jsonObject{b: append(dst, '{')}
	j.str("schema", r.Schema)
	j.str("client", r.Client)
	j.str("server", r.Server)
	j.str("protocol", r.Protocol)
	j.bool("starttls", r.StartTLS)
	j.str("sni", r.SNI)
	j.strs("alpn", r.ALPN)
	j.strs("offered_versions", r.OfferedVersions)
	j.str("version", r.Version)
	j.str("cipher", r.Cipher)
	j.str("cipher_name", r.CipherName)
	j.strs("offered_ciphers", r.OfferedCiphers)
	j.strs("groups", r.Groups)
	j.strs("signature_algorithms", r.SignatureAlgorithms)
	j.strs("key_share_groups", r.KeyShareGroups)
	j.bool("hrr", r.HRR)
	j.str("alert", r.Alert)
	j.str("alert_from", r.AlertFrom)
	j.bool("sslv2", r.SSLv2)
	j.bool("legacy", r.Legacy)
	j.strs("legacy_reasons", r.LegacyReasons)
	j.str("label", r.Label)
	j.str("ja3", r.JA3)
	j.str("ja3s", r.JA3S)
	j.str("ja4", r.JA4)
	j.str("first_seen", r.FirstSeen)
	j.str("last_seen", r.LastSeen)
	j.uint("packets", r.Packets)
	j.uint("bytes", r.Bytes)
	j.str("truncated", r.Truncated)
	j.str("quic_version", r.QUICVersion)
	j.str("via", r.Via)
	j.int("proxy_version", int64(r.ProxyVersion))
	j.str("proxy_destination", r.ProxyDestination)
	j.str("proxy_authority", r.ProxyAuthority)
	j.bool("proxy_tls", r.ProxyTLS)
	j.str("proxy_tls_version", r.ProxyTLSVersion)
	j.str("proxy_tls_cipher", r.ProxyTLSCipher)
	j.key("forwarded")
	if r.Forwarded == nil {
		j.b = append(j.b, "null"...)
	} else {
		j.b = append(j.b, '[')
		for i := range r.Forwarded {
			if i > 0 {
				j.b = append(j.b, ',')
			}
			f := &r.Forwarded[i]
			o := jsonObject{b: append(j.b, '{')}
			o.str("client", f.Client)
			o.str("host", f.Host)
			o.str("user_agent", f.UserAgent)
			o.str("tls_version", f.TLSVersion)
			o.int("count", int64(f.Count))
			j.b = append(o.b, '}')
		}
		j.b = append(j.b, ']')
	}
	j.str("proxy_target", r.ProxyTarget)
	j.str("prefix", r.Prefix)
	return append(j.b, '}')
}

// jsonObject appends the members of a JSON object.
type jsonObject struct {
	b    []byte
	more bool
}

// key appends a member's name (names here need no escaping).
func (j *jsonObject) key(name string) {
	if j.more {
		j.b = append(j.b, ',')
	}
	j.more = true
	j.b = append(j.b, '"')
	j.b = append(j.b, name...)
	j.b = append(j.b, '"', ':')
}

func (j *jsonObject) str(name, v string) {
	j.key(name)
	j.b = appendJSONString(j.b, v)
}

func (j *jsonObject) strs(name string, vs []string) {
	j.key(name)
	if vs == nil {
		j.b = append(j.b, "null"...)
		return
	}
	j.b = append(j.b, '[')
	for i, v := range vs {
		if i > 0 {
			j.b = append(j.b, ',')
		}
		j.b = appendJSONString(j.b, v)
	}
	j.b = append(j.b, ']')
}

func (j *jsonObject) bool(name string, v bool) {
	j.key(name)
	j.b = strconv.AppendBool(j.b, v)
}

func (j *jsonObject) int(name string, v int64) {
	j.key(name)
	j.b = strconv.AppendInt(j.b, v, 10)
}

func (j *jsonObject) uint(name string, v uint64) {
	j.key(name)
	j.b = strconv.AppendUint(j.b, v, 10)
}

// jsonPlain marks the ASCII bytes a JSON string (HTML-escaped) holds as
// they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string the way encoding/json
// writes one with HTML escaping (json.Marshal): ", \ and the control
// characters escaped (\b \f \n \r \t short, the others \u00XX), <, > and
// & as \u003c \u003e \u0026, bytes that are not UTF-8 as \ufffd, and
// U+2028, U+2029 as \u2028, \u2029 (RFC 8259 section 7 allows them raw;
// encoding/json escapes them).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonPlain[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
