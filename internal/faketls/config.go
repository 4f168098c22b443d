// Package faketls is a scripted TLS server for tests. It answers any
// ClientHello exactly as its Config says — every registry code point,
// SSLv2, SSLv3, EXPORT and GOST suites, and the broken behaviours real
// servers have (version and length intolerance, the F5 256–511-byte bug,
// tarpits, unoffered suites, ports that speak another protocol) — so that
// the scanner can be tested against shapes no real server on the test
// machine offers.
//
// It never completes a handshake: after its first flight (ServerHello …
// ServerHelloDone, a ServerHello or HelloRetryRequest for TLS 1.3, or an
// SSLv2 SERVER-HELLO) it waits for the client to close. Every wire
// structure is built and parsed by protocols/tls; this package only
// decides what to answer.
//
// A test starts a server, probes it and looks at what it received:
//
//	s := faketls.Start(t, faketls.Config{
//		Suites: map[tls.Version][]uint16{
//			tls.VersionTLS12: faketls.SuiteIDs("ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA"),
//		},
//		ServerPreference: true,
//		MaxSuites:        64,
//	})
//	… probe s.Addr() …
//	if s.Connections() != 3 { … }
//
// Canned configurations (FullRegistry, Legacy, Old, Intermediate, Modern)
// give common real-world shapes to start from.
package faketls

import (
	"fmt"
	"io"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Refusal is how the server says no: to a version it does not have, to a
// hello with no suite it accepts, or to a hello it is intolerant of.
type Refusal uint8

const (
	// RefuseDefault is the default of the situation: a fatal
	// protocol_version alert for a version, a fatal handshake_failure
	// alert for suites, and closing without an answer for an intolerance.
	RefuseDefault Refusal = iota
	// RefuseAlert sends a fatal alert: protocol_version for a version,
	// handshake_failure otherwise.
	RefuseAlert
	// RefuseNegotiateDown answers a version it does not have with the
	// highest version below the one asked that it has (RFC 5246
	// Appendix E.1). It applies to versions only; elsewhere, and when no
	// lower version exists, it is RefuseAlert.
	RefuseNegotiateDown
	// RefuseClose closes the connection (FIN) without an answer.
	RefuseClose
	// RefuseReset aborts the connection with a TCP reset.
	RefuseReset
	// RefuseHang keeps the connection open without answering, for
	// Config.HangFor or until the client closes.
	RefuseHang
)

// String returns the Refusal's name: "default", "alert", "negotiate-down",
// "close", "reset", "hang".
func (r Refusal) String() string {
	switch r {
	case RefuseDefault:
		return "default"
	case RefuseAlert:
		return "alert"
	case RefuseNegotiateDown:
		return "negotiate-down"
	case RefuseClose:
		return "close"
	case RefuseReset:
		return "reset"
	case RefuseHang:
		return "hang"
	}
	return fmt.Sprintf("refusal(%d)", uint8(r))
}

// Config scripts a server. The zero Config accepts TCP connections and
// refuses every hello with a protocol_version alert.
type Config struct {
	// Suites are the accepted (version → suites) pairs, by wire version
	// (tls.VersionSSL30 … tls.VersionTLS13). Suites[v] is also the
	// server's order of preference for v.
	Suites map[tls.Version][]uint16
	// ServerPreference: the server picks, among the offered suites it
	// accepts, the first in Suites[v]; otherwise the first offered that
	// it accepts.
	ServerPreference bool
	// PrioritizeChaCha (with ServerPreference) is OpenSSL's
	// SSL_OP_PRIORITIZE_CHACHA: when the client's first offered suite
	// (GREASE and signalling values skipped) is a ChaCha20-Poly1305 suite
	// the server accepts, the server's ChaCha20 suites move to the front
	// of its order for that hello.
	PrioritizeChaCha bool

	// SSLv2Kinds are the SSLv2 cipher kinds (3-byte CIPHER-KIND values,
	// ciphers.SSLv2Kinds). When non-empty the server answers an SSL
	// 2.0 CLIENT-HELLO with a SERVER-HELLO listing the kinds both sides
	// have, in the client's order, or with ERROR NO-CIPHER when none is
	// shared. It also answers an SSLv2-compatible hello for a TLS version
	// it does not have in SSLv2, as SSLv2-capable servers did.
	SSLv2Kinds []uint32

	// Groups13 are the TLS 1.3 groups in server preference (nil:
	// x25519, secp256r1, secp384r1). The server answers with a key_share
	// for the first of them the client sent a share for; failing that,
	// with a HelloRetryRequest naming the first of them the client lists
	// in supported_groups; failing that, with a handshake_failure alert.
	Groups13 []uint16
	// Curves are the TLS ≤ 1.2 ECDHE curves in server preference (nil:
	// x25519, secp256r1, secp384r1). The ServerKeyExchange names the first
	// of them the client lists in supported_groups, or the first of them
	// when the client sent no supported_groups (RFC 4492 §4). With none in
	// common, ECDHE suites are not selectable.
	Curves []uint16
	// DHPrimeBits is the size of the DHE prime when no RFC 7919 group is
	// negotiated (0: 2048). The prime is fixed: derived once per process
	// for each size.
	DHPrimeBits int
	// FFDHE are the RFC 7919 groups (tls.GroupFFDHE2048 …) the server
	// negotiates in TLS ≤ 1.2, in server preference, when the client lists
	// them in supported_groups; the ServerKeyExchange then carries that
	// group's prime. A server with FFDHE set follows RFC 7919 §4: when the
	// client lists ffdhe groups but none of these, DHE suites are not
	// selectable.
	FFDHE []uint16
	// ALPN are the protocols the server selects from, in preference order,
	// when the client offers ALPN, in a TLS 1.0–1.2 ServerHello (TLS 1.3
	// sends it in EncryptedExtensions, which this server never reaches).
	// A client offering none of them gets no ALPN extension back, not an
	// alert.
	ALPN []string
	// Certificate is the DER chain sent in Certificate and in an SSLv2
	// SERVER-HELLO (its first element). Nil: a self-signed RSA 2048
	// certificate for localhost, made once per process.
	Certificate [][]byte

	// RejectVersion is the answer to a hello for a version not in Suites
	// (RefuseDefault: a protocol_version alert).
	RejectVersion Refusal
	// RejectSuites is the answer to a hello with no suite the server
	// accepts for the version (RefuseDefault: a handshake_failure alert).
	RejectSuites Refusal

	// Poisons are suites of Suites that the server selects like the others
	// (the first in the client's order, or in Suites[v] under
	// ServerPreference, among those offered) but then cannot carry out:
	// selecting one fails the whole hello with RejectSuites, as GnuTLS
	// does with PSK suites enabled and no PSK credentials. Offered alone,
	// a poison is refused; listed before (or ranked above) an accepted
	// suite, it hides it.
	Poisons []uint16
	// Incomplete are suites of Suites that the server chooses, answering
	// with a ServerHello, and then fails on before ServerHelloDone with a
	// fatal internal_error alert (Java with a DHE_DSS suite and no DSA
	// key).
	Incomplete []uint16
	// CertByOffer: the server has an RSA and an ECDSA certificate and
	// picks one from the whole hello before it picks a suite, as haproxy
	// does with both on one bind: a TLS ≤ 1.2 hello listing any
	// ECDSA-authenticated suite (accepted or not) gets the ECDSA one, and
	// then only the ECDSA-authenticated suites and those without a
	// certificate (anonymous, PSK) are selectable; any other hello gets
	// the RSA one, and every suite but the ECDSA ones is. The Certificate
	// sent is Certificate either way.
	CertByOffer bool
	// IncompleteClose makes the Incomplete suites fail by closing the
	// connection (FIN) after the ServerHello, with no alert (dovecot
	// without DH parameters picking a DHE suite).
	IncompleteClose bool
	// RequireExtensions: a hello without extensions (an SSLv3 hello, or
	// any hello with an empty extension block) is refused with a
	// handshake_failure alert, as haproxy, stunnel, lighttpd with GnuTLS
	// and mbedTLS refuse one.
	RequireExtensions bool
	// RequireALPN: a hello that offers none of ALPN (or no ALPN
	// extension) is refused with a fatal no_application_protocol alert
	// (RFC 7301 §3.2), as PostgreSQL 17 refuses a direct TLS connection
	// without "postgresql".
	RequireALPN bool

	// MaxSuites > 0: a hello offering more cipher suites than this (GREASE
	// and signalling values included, as on the wire) is answered with
	// Intolerance.
	MaxSuites int
	// Intolerance is the answer to a hello MaxSuites forbids (RefuseDefault:
	// close without answering).
	Intolerance Refusal
	// IntoleranceAlert is the alert of an Intolerance of RefuseAlert (0:
	// handshake_failure); wolfSSL sends decode_error (50) past 150 suites.
	IntoleranceAlert uint8
	// Intolerant256to511: a ClientHello handshake message (header
	// included) of 256 to 511 bytes makes the server hang (the F5 bug,
	// RFC 7685 §1) for HangFor or until the client closes.
	Intolerant256to511 bool
	// UnofferedSuite, when non-zero, is the suite of every ServerHello,
	// offered or not, accepted or not (a broken server).
	UnofferedSuite uint16
	// VersionOverride, when non-zero, is the version of every ServerHello
	// whatever the client asked (a broken server). Suites are chosen from
	// Suites[VersionOverride].
	VersionOverride tls.Version
	// Silent: accept, read, never answer (a tarpit), for HangFor or until
	// the client closes.
	Silent bool
	// Garbage: answer a hello with random bytes that are not TLS.
	Garbage bool
	// CloseAfterHello: close right after reading the ClientHello.
	CloseAfterHello bool
	// HTTP: answer whatever arrives with "HTTP/1.1 400 Bad Request".
	HTTP bool
	// Banner, when non-empty, is written as soon as a connection is
	// accepted (an SSH or SMTP port); the server then closes when the
	// client sends anything.
	Banner string

	// RecordSize > 0 caps the payload of the server's handshake records,
	// so that messages are split across records (for testing a client's
	// reassembly). 0: messages are packed into records of up to 2^14
	// bytes.
	RecordSize int

	// Timeout bounds every read and write of a connection: reading the
	// hello, and waiting for the client to close after the answer
	// (0: 10 s).
	Timeout time.Duration
	// HangFor is how long Silent, Intolerant256to511 and RefuseHang keep a
	// connection open (0: 30 s). Stopping the server ends every hang.
	HangFor time.Duration
	// Rand is the source of randoms, session ids and key shares (nil:
	// crypto/rand). The server serialises reads from it.
	Rand io.Reader
}

// Defaults.
const (
	defaultTimeout     = 10 * time.Second
	defaultHangFor     = 30 * time.Second
	defaultDHPrimeBits = 2048
)

// defaultGroups is the Groups13 and Curves of a Config that sets none.
var defaultGroups = []uint16{tls.GroupX25519, tls.GroupP256, tls.GroupP384}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return defaultTimeout
}

func (c *Config) hangFor() time.Duration {
	if c.HangFor > 0 {
		return c.HangFor
	}
	return defaultHangFor
}

func (c *Config) dhPrimeBits() int {
	if c.DHPrimeBits > 0 {
		return c.DHPrimeBits
	}
	return defaultDHPrimeBits
}

func (c *Config) groups13() []uint16 {
	if c.Groups13 != nil {
		return c.Groups13
	}
	return defaultGroups
}

func (c *Config) curves() []uint16 {
	if c.Curves != nil {
		return c.Curves
	}
	return defaultGroups
}
