package faketls

import (
	"slices"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Signalling cipher suite values: never selected, skipped when looking for
// the client's first real suite.
const (
	scsvRenegotiation uint16 = 0x00FF // TLS_EMPTY_RENEGOTIATION_INFO_SCSV, RFC 5746 §3.3
	scsvFallback      uint16 = 0x5600 // TLS_FALLBACK_SCSV, RFC 7507 §2
)

// chooseVersion picks the version to answer ch with. asked is the version
// the client asked for, as the server understands the hello: the highest
// of supported_versions when the server speaks TLS 1.3 and the client sent
// the extension (RFC 8446 §4.2.1), otherwise legacy_version (RFC 5246
// Appendix E.1: a server without TLS 1.3 ignores supported_versions). ok is
// false when the server does not have that version.
func (s *Server) chooseVersion(ch *tls.ClientHello) (v, asked tls.Version, ok bool) {
	if s.cfg.VersionOverride != 0 {
		return s.cfg.VersionOverride, s.cfg.VersionOverride, true
	}
	if ch.Version == tls.VersionSSL20 {
		return 0, tls.VersionSSL20, false
	}
	if s.has(tls.VersionTLS13) && ch.SupportedVersions != nil {
		// RFC 8446 §4.2.1: the server picks from supported_versions and
		// ignores legacy_version.
		for _, w := range ch.SupportedVersions {
			cv := tls.Version(w)
			if tls.IsGREASE(w) || w>>8 != 3 {
				continue
			}
			asked = max(asked, cv)
			if s.has(cv) && cv > v {
				v = cv
			}
		}
		if asked != 0 {
			return v, asked, v != 0
		}
		// Only drafts or junk in the list: fall back to legacy_version.
	}
	// RFC 8446 §4.2.1: without supported_versions, TLS 1.3 is never
	// negotiated, even for a legacy_version of 0x0304.
	asked = ch.Version
	if asked <= tls.VersionTLS12 && s.has(asked) {
		return asked, asked, true
	}
	return 0, asked, false
}

// lowerVersion is RefuseNegotiateDown: the highest version the server has
// below asked. TLS 1.3 only when the client offered it in
// supported_versions.
func (s *Server) lowerVersion(ch *tls.ClientHello, asked tls.Version) (tls.Version, bool) {
	var best tls.Version
	for v := range s.cfg.Suites {
		if v < tls.VersionSSL30 || v >= asked || v > tls.VersionTLS13 {
			continue
		}
		if v == tls.VersionTLS13 && !slices.Contains(ch.SupportedVersions, uint16(tls.VersionTLS13)) {
			continue
		}
		best = max(best, v)
	}
	return best, best != 0
}

func (s *Server) has(v tls.Version) bool {
	_, ok := s.cfg.Suites[v]
	return ok
}

// chooseSuite picks the suite for version v among offered, those for which
// usable (the key exchange can be carried out) is true.
func (s *Server) chooseSuite(v tls.Version, offered []uint16, usable func(uint16) bool) (uint16, bool) {
	accepted := s.cfg.Suites[v]
	if !s.cfg.ServerPreference {
		for _, id := range offered {
			if slices.Contains(accepted, id) && usable(id) {
				return id, true
			}
		}
		return 0, false
	}
	order := accepted
	if s.cfg.PrioritizeChaCha {
		if first, ok := firstRealSuite(offered); ok && suiteOf(first).chacha &&
			slices.Contains(accepted, first) && usable(first) {
			order = chachaFirst(accepted)
		}
	}
	inOffer := make(map[uint16]bool, len(offered))
	for _, id := range offered {
		inOffer[id] = true
	}
	for _, id := range order {
		if inOffer[id] && usable(id) {
			return id, true
		}
	}
	return 0, false
}

// firstRealSuite is the client's first suite that is neither GREASE
// (RFC 8701) nor a signalling value.
func firstRealSuite(offered []uint16) (uint16, bool) {
	for _, id := range offered {
		if !tls.IsGREASE(id) && id != scsvRenegotiation && id != scsvFallback {
			return id, true
		}
	}
	return 0, false
}

// chachaFirst returns suites with its ChaCha20-Poly1305 suites moved to the
// front, each group keeping its order (OpenSSL's SSL_OP_PRIORITIZE_CHACHA).
func chachaFirst(suites []uint16) []uint16 {
	out := make([]uint16, 0, len(suites))
	for _, id := range suites {
		if suiteOf(id).chacha {
			out = append(out, id)
		}
	}
	for _, id := range suites {
		if !suiteOf(id).chacha {
			out = append(out, id)
		}
	}
	return out
}

// chooseCurve picks the ECDHE curve of a TLS ≤ 1.2 handshake: the server's
// first curve the client lists in supported_groups, or with no
// supported_groups the server's first curve (RFC 4492 §4). ok false: ECDHE
// is impossible.
func (s *Server) chooseCurve(ch *tls.ClientHello) (uint16, bool) {
	curves := s.cfg.curves()
	if len(curves) == 0 {
		return 0, false
	}
	if ch.SupportedGroups == nil {
		return curves[0], true
	}
	for _, g := range curves {
		if slices.Contains(ch.SupportedGroups, g) {
			return g, true
		}
	}
	return 0, false
}

// chooseFFDHE picks the RFC 7919 group of a TLS ≤ 1.2 DHE handshake (0: the
// server's own prime). dheOK is false when RFC 7919 §4 forbids DHE: the
// server knows RFC 7919, the client lists ffdhe groups (any code point in
// 256–511) and none is the server's.
func (s *Server) chooseFFDHE(ch *tls.ClientHello) (group uint16, dheOK bool) {
	if len(s.cfg.FFDHE) == 0 {
		return 0, true
	}
	for _, g := range s.cfg.FFDHE {
		if slices.Contains(ch.SupportedGroups, g) {
			return g, true
		}
	}
	for _, g := range ch.SupportedGroups {
		if g >= 256 && g <= 511 {
			return 0, false
		}
	}
	return 0, true
}

// chooseGroup13 picks the TLS 1.3 group: the server's first group the
// client sent a share for (share true), else the server's first group the
// client lists in supported_groups (a HelloRetryRequest). ok false: no
// group in common.
func (s *Server) chooseGroup13(ch *tls.ClientHello) (group uint16, share, ok bool) {
	groups := s.cfg.groups13()
	for _, g := range groups {
		if slices.Contains(ch.KeyShareGroups, g) {
			return g, true, true
		}
	}
	for _, g := range groups {
		if slices.Contains(ch.SupportedGroups, g) {
			return g, false, true
		}
	}
	return 0, false, false
}

// chooseALPN picks the server's first ALPN protocol the client offers.
func (s *Server) chooseALPN(ch *tls.ClientHello) (string, bool) {
	for _, p := range s.cfg.ALPN {
		if slices.Contains(ch.ALPN, p) {
			return p, true
		}
	}
	return "", false
}

// sharedSSLv2Kinds returns the client's SSLv2 cipher kinds the server
// has, in the client's order.
func (s *Server) sharedSSLv2Kinds(ch *tls.ClientHello) []uint32 {
	var shared []uint32
	for _, k := range ch.SSLv2CipherSpecs {
		if slices.Contains(s.cfg.SSLv2Kinds, k) && !slices.Contains(shared, k) {
			shared = append(shared, k)
		}
	}
	return shared
}

// hasExtension reports whether ch carries an extension of type typ.
func hasExtension(ch *tls.ClientHello, typ uint16) bool {
	return slices.ContainsFunc(ch.Extensions, func(e tls.Extension) bool { return e.Type == typ })
}
