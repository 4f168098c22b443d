package scan

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// sslv3MaxSuites is the longest suite list an SSLv3 hello (which has no
// extensions, hence no padding) can carry and stay under the 256–511-byte
// range that F5 terminators hang on (RFC 7685 §1): 43 + 2n < 256.
const sslv3MaxSuites = 106

// sslv3MinLongSuites is the shortest suite list whose SSLv3 hello is past
// that range (43 + 2n ≥ 512). SSLv3 lists are at most sslv3MaxSuites or at
// least this long, never in between.
const sslv3MinLongSuites = 235

// sslv3Offerable reports whether an SSLv3 hello may list n suites.
func sslv3Offerable(n int) bool { return n <= sslv3MaxSuites || n >= sslv3MinLongSuites }

// signatureSchemes are offered in every hello: the TLS 1.3 schemes, then
// the TLS 1.2 (hash, signature) pairs down to MD5 and DSA, so that a
// server with any certificate can pick one.
var signatureSchemes = []uint16{
	0x0403, 0x0503, 0x0603, // ecdsa_secp256r1_sha256 … secp521r1_sha512
	0x0807, 0x0808, // ed25519, ed448
	0x0804, 0x0805, 0x0806, // rsa_pss_rsae_sha256 … sha512
	0x0809, 0x080a, 0x080b, // rsa_pss_pss_sha256 … sha512
	0x081a, 0x081b, 0x081c, // ecdsa_brainpoolP256r1tls13_sha256 …
	0x0401, 0x0501, 0x0601, // rsa_pkcs1_sha256 … sha512
	0x0303, 0x0301, 0x0302, // sha224 ecdsa, rsa, dsa
	0x0203, 0x0201, 0x0202, // sha1 ecdsa, rsa, dsa
	0x0402, 0x0502, 0x0602, // dsa sha256 … sha512
	0x0101, // rsa md5
}

// groupRank orders groups the way clients list them: the deployed ones
// first, then the rest of the registry by code point.
var groupRank = map[uint16]int{
	tls.GroupX25519MLKEM768: 1, tls.GroupX25519: 2, tls.GroupP256: 3, tls.GroupP384: 4,
	tls.GroupP521: 5, 0x001E: 6, tls.GroupSecP256r1MLKEM768: 7, tls.GroupSecP384r1MLKEM1024: 8,
	0x001A: 9, 0x001B: 10, 0x001C: 11,
	tls.GroupFFDHE2048: 20, tls.GroupFFDHE3072: 21, tls.GroupFFDHE4096: 22, tls.GroupFFDHE6144: 23, tls.GroupFFDHE8192: 24,
}

// registryGroups returns the registry's groups of the given kinds
// ("ecdhe", "ffdhe", "pq", "pq-hybrid"), deployed ones first.
func registryGroups(kinds ...string) []uint16 {
	var ids []uint16
	for _, g := range ciphers.Groups() {
		if slices.Contains(kinds, g.Kind) {
			ids = append(ids, g.ID)
		}
	}
	slices.SortStableFunc(ids, func(a, b uint16) int {
		ra, rb := groupRank[a], groupRank[b]
		if ra == 0 {
			ra = 1000
		}
		if rb == 0 {
			rb = 1000
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a, b))
	})
	return ids
}

// Default supported_groups of the suite probes.
var (
	groups12 = sync.OnceValue(func() []uint16 { return registryGroups("ecdhe", "ffdhe") })
	groups13 = sync.OnceValue(func() []uint16 { return registryGroups("ecdhe", "ffdhe", "pq", "pq-hybrid") })
)

// isChaCha reports whether a suite is a ChaCha20-Poly1305 suite.
func isChaCha(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Enc == "CHACHA20_POLY1305"
}

// suiteClass ranks a suite by how widely it is deployed: 0 forward-secret
// AES/ChaCha20 AEAD, 1 forward-secret AES-CBC, 2 RSA key transport with
// AES, 3 other suites OpenSSL names with common key exchanges, 4 other
// suites OpenSSL names, 5 the rest.
func suiteClass(s ciphers.Suite) int {
	common := (s.Kex == "ECDHE" || s.Kex == "DHE") && (s.Auth == "RSA" || s.Auth == "ECDSA")
	aes := s.Enc == "AES" || s.Enc == "CHACHA20_POLY1305"
	switch {
	case s.OpenSSLName == "":
		return 5
	case common && aes && s.AEAD:
		return 0
	case common && s.Enc == "AES":
		return 1
	case s.Kex == "RSA" && s.Auth == "RSA" && s.Enc == "AES":
		return 2
	case s.Kex == "ECDHE" || s.Kex == "DHE" || s.Kex == "RSA":
		return 3
	}
	return 4
}

var kexRank = map[string]int{"ECDHE/ECDSA": 0, "ECDHE/RSA": 1, "DHE/RSA": 2, "DHE/DSS": 3, "RSA/RSA": 4}

// candidates returns the suites offered at version v, in probe order. For
// TLS 1.3 these are its suites, the five RFC 8446 ones first. For SSLv3 …
// TLS 1.2 they are every registry code point (docs/scan-algorithm.md,
// "Candidates"): a server may accept a suite outside the versions its RFC
// allows. The order: suites that need no credential but a certificate
// first (those the version can negotiate, then the others), then the
// anonymous suites, the SRP, Kerberos and password suites, and the PSK
// suites last — the suites a server may fail the whole hello on when it
// lacks their credential (poisons, see poisonTier); within each, the most
// widely deployed first (see suiteClass), then by key exchange, key size
// and code point.
//
// The order depends on v alone and is computed once per version (sorting
// the registry for every version of every endpoint was a third of a
// sweep's CPU); each call returns a fresh copy.
func candidates(v tls.Version) []uint16 {
	candidatesOnce.Do(initCandidates)
	if ids, ok := candidatesByVersion[v]; ok {
		return slices.Clone(ids)
	}
	return sortedCandidates(v)
}

// poisonTier groups suites by the credential a server needs besides its
// certificate: 0 none, 1 anonymous (DH parameters for anonymous
// clients), 2 SRP, Kerberos, passwords and NULL_WITH_NULL, 3 a pre-shared
// key. A server that enables a suite of tiers 1–3 without the credential
// may fail every hello in which it meets that suite first (GnuTLS without
// PSK credentials does): such a suite poisons the list.
func poisonTier(s ciphers.Suite) int {
	switch {
	case strings.Contains(s.Kex, "PSK"):
		return 3
	case s.Auth == "anon":
		return 1
	case s.Kex == "SRP", s.Kex == "KRB5", s.Kex == "ECCPWD", s.Kex == "NULL":
		return 2
	}
	return 0
}

// suspectPart says which part of a refused list a suite is tested in by
// the poison check: 0 certificate suites, 1 anonymous, SRP, Kerberos and
// password suites, 2 PSK suites.
func suspectPart(id uint16) int {
	s, ok := ciphers.ByID(id)
	if !ok {
		return 0
	}
	switch poisonTier(s) {
	case 0:
		return 0
	case 3:
		return 2
	}
	return 1
}

// inSpec reports whether version v can negotiate suite id by its RFCs
// (ciphers.Suite.Versions).
func inSpec(v tls.Version, id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Versions.Has(v)
}

// candidateRank returns the position of each of candidates(v) in it. The
// map is shared: read it, never write it.
func candidateRank(v tls.Version) map[uint16]int {
	candidatesOnce.Do(initCandidates)
	if r, ok := candidateRanks[v]; ok {
		return r
	}
	return rankOf(sortedCandidates(v))
}

var (
	candidatesOnce      sync.Once
	candidatesByVersion map[tls.Version][]uint16
	candidateRanks      map[tls.Version]map[uint16]int
)

func initCandidates() {
	candidatesByVersion = map[tls.Version][]uint16{}
	candidateRanks = map[tls.Version]map[uint16]int{}
	for _, v := range AllVersions {
		candidatesByVersion[v] = sortedCandidates(v)
		candidateRanks[v] = rankOf(candidatesByVersion[v])
	}
}

func rankOf(ids []uint16) map[uint16]int {
	r := make(map[uint16]int, len(ids))
	for i, id := range ids {
		r[id] = i
	}
	return r
}

// sortedCandidates computes candidates(v).
func sortedCandidates(v tls.Version) []uint16 {
	var suites []ciphers.Suite
	if v == tls.VersionTLS13 {
		suites = ciphers.ForVersion(v)
	} else {
		for _, s := range ciphers.All() {
			if s.Kind == ciphers.KindSuite {
				suites = append(suites, s)
			}
		}
	}
	slices.SortStableFunc(suites, func(a, b ciphers.Suite) int {
		if v == tls.VersionTLS13 {
			ra, rb := 1, 1
			if a.ID >= 0x1301 && a.ID <= 0x1305 {
				ra = 0
			}
			if b.ID >= 0x1301 && b.ID <= 0x1305 {
				rb = 0
			}
			return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.ID, b.ID))
		}
		ka, ok := kexRank[a.Kex+"/"+a.Auth]
		if !ok {
			ka = 10
		}
		kb, ok := kexRank[b.Kex+"/"+b.Auth]
		if !ok {
			kb = 10
		}
		return cmp.Or(cmp.Compare(poisonTier(a), poisonTier(b)),
			cmp.Compare(boolInt(!a.Versions.Has(v)), boolInt(!b.Versions.Has(v))),
			cmp.Compare(suiteClass(a), suiteClass(b)), cmp.Compare(ka, kb),
			cmp.Compare(a.Bits, b.Bits), cmp.Compare(a.ID, b.ID))
	})
	ids := make([]uint16, len(suites))
	for i, s := range suites {
		ids[i] = s.ID
	}
	return ids
}

// noChaChaFirst returns list, or a copy with its first non-ChaCha20 suite
// moved to the front when it starts with a ChaCha20 suite: a server with
// PRIORITIZE_CHACHA would otherwise follow the client's order for that
// hello, which would spoil both order detection and the server order read
// from the elimination (docs/scan-algorithm.md).
func noChaChaFirst(list []uint16) []uint16 {
	if len(list) < 2 || !isChaCha(list[0]) {
		return list
	}
	i := slices.IndexFunc(list, func(id uint16) bool { return !isChaCha(id) })
	if i < 0 {
		return list
	}
	out := make([]uint16, 0, len(list))
	out = append(out, list[i])
	out = append(out, list[:i]...)
	return append(out, list[i+1:]...)
}

// helloParams describes one probe's ClientHello.
type helloParams struct {
	version tls.Version // tls.VersionSSL30 … VersionTLS13
	suites  []uint16    // in order, sent as given
	host    string      // SNI; "" sends none
	alpn    []string    // application_layer_protocol_negotiation; nil sends none (Protocol.ALPN)
	// groups is supported_groups; nil means the default of the version
	// (groups12 or groups13).
	groups []uint16
	// keyShare13 adds an x25519 key share to a TLS 1.3 hello; without it
	// key_share is empty and the server answers with a HelloRetryRequest.
	keyShare13 bool
	// shares13, when set, are the groups of a TLS 1.3 hello's key shares
	// (instead of keyShare13's x25519).
	shares13 []uint16
	rand     io.Reader
}

// buildHello returns the records of a ClientHello for p (docs/scan-
// algorithm.md): for SSLv3 legacy_version 0x0300 in a 0x0300 record and no
// extensions; for TLS 1.0–1.2 legacy_version v in a 0x0301 record with
// SNI, supported_groups, ec_point_formats, signature_algorithms,
// renegotiation_info, extended_master_secret and session_ticket; for TLS
// 1.3 legacy_version 0x0303, a 32-byte session id, supported_versions
// [0x0304], supported_groups, key_share, psk_key_exchange_modes and
// signature_algorithms; SNI and ALPN, when given, come first. Every TLS
// hello is padded out of the 256–511-byte
// range (RFC 7685).
func buildHello(p helloParams) ([]byte, error) {
	random := make([]byte, 32)
	if _, err := io.ReadFull(p.rand, random); err != nil {
		return nil, fmt.Errorf("scan: hello random: %w", err)
	}
	ch := &tls.ClientHello{
		RecordVersion: tls.VersionTLS10,
		Version:       tls.Version(p.version),
		Random:        random,
		CipherSuites:  p.suites,
	}
	switch {
	case p.version == tls.VersionSSL30:
		ch.RecordVersion = tls.VersionSSL30
		return ch.MarshalRecords()

	case p.version == tls.VersionTLS13:
		ch.Version = tls.VersionTLS12
		ch.SessionID = make([]byte, 32)
		if _, err := io.ReadFull(p.rand, ch.SessionID); err != nil {
			return nil, fmt.Errorf("scan: hello session id: %w", err)
		}
		groups := p.groups
		if groups == nil {
			groups = groups13()
		}
		var shares []tls.KeyShare
		with := p.shares13
		if with == nil && p.keyShare13 && slices.Contains(groups, tls.GroupX25519) {
			with = []uint16{tls.GroupX25519}
		}
		for _, g := range with {
			ks, err := tls.GenerateKeyShare(g, p.rand)
			if err != nil {
				return nil, fmt.Errorf("scan: hello key share: %w", err)
			}
			shares = append(shares, ks)
		}
		if p.host != "" {
			ch.Extensions = append(ch.Extensions, tls.ServerNameExtension(p.host))
		}
		if len(p.alpn) > 0 {
			ch.Extensions = append(ch.Extensions, tls.ALPNExtension(p.alpn...))
		}
		ch.Extensions = append(ch.Extensions,
			tls.SupportedGroupsExtension(groups...),
			tls.SignatureAlgorithmsExtension(signatureSchemes...),
			tls.SupportedVersionsExtension(uint16(tls.VersionTLS13)),
			tls.PSKKeyExchangeModesExtension(1), // psk_dhe_ke
			tls.KeyShareExtension(shares...),
		)

	default:
		groups := p.groups
		if groups == nil {
			groups = groups12()
		}
		if p.host != "" {
			ch.Extensions = append(ch.Extensions, tls.ServerNameExtension(p.host))
		}
		if len(p.alpn) > 0 {
			ch.Extensions = append(ch.Extensions, tls.ALPNExtension(p.alpn...))
		}
		ch.Extensions = append(ch.Extensions,
			tls.SupportedGroupsExtension(groups...),
			tls.ECPointFormatsExtension(0), // uncompressed
			tls.SignatureAlgorithmsExtension(signatureSchemes...),
			tls.RenegotiationInfoExtension(nil),
			tls.ExtendedMasterSecretExtension(),
			tls.SessionTicketExtension(nil),
		)
	}
	if err := ch.PadForF5(); err != nil {
		return nil, err
	}
	return ch.MarshalRecords()
}

// sentExtensions are the extension types a probe hello of version v may
// carry (buildHello; server_name counted whether or not a name was sent):
// the only ones a ServerHello may answer.
func sentExtensions(v tls.Version) []uint16 {
	switch v {
	case tls.VersionSSL20, tls.VersionSSL30:
		return nil
	case tls.VersionTLS13:
		return ext13
	}
	return ext12
}

var (
	ext12 = []uint16{tls.ExtServerName, tls.ExtSupportedGroups, tls.ExtECPointFormats, tls.ExtSignatureAlgorithms,
		tls.ExtRenegotiationInfo, tls.ExtExtendedMasterSecret, tls.ExtSessionTicket, tls.ExtPadding}
	ext13 = []uint16{tls.ExtServerName, tls.ExtSupportedGroups, tls.ExtSignatureAlgorithms, tls.ExtSupportedVersions,
		tls.ExtPSKKeyExchangeModes, tls.ExtKeyShare, tls.ExtPadding}
)

// buildSSLv2Hello returns an SSL 2.0 CLIENT-HELLO record offering kinds
// with a 16-byte challenge.
func buildSSLv2Hello(kinds []uint32, rand io.Reader) ([]byte, error) {
	challenge := make([]byte, 16)
	if _, err := io.ReadFull(rand, challenge); err != nil {
		return nil, fmt.Errorf("scan: hello challenge: %w", err)
	}
	return tls.BuildSSLv2ClientHello(tls.VersionSSL20, kinds, nil, challenge)
}

// lockedReader serialises reads from a reader shared by the probes of a
// scan (Options.Rand need not be safe for concurrent use).
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
