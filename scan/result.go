package scan

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Outcome is the verdict on one version, cipher suite, group or SSLv2
// cipher kind (docs/scan-algorithm.md, "Outcomes").
type Outcome string

const (
	// Accepted: the server answered with a ServerHello (or a
	// HelloRetryRequest, or an SSLv2 SERVER-HELLO) for the asked version
	// naming an offered value.
	Accepted Outcome = "accepted"
	// Rejected: the server refused — a fatal alert, a lower-version
	// ServerHello, a reset or close right after the ClientHello, an SSLv2
	// ERROR. A refusal is data, never guessed.
	Rejected Outcome = "rejected"
	// Inconclusive: the answer decided nothing — a timeout, an answer that
	// makes no sense (a suite that was not offered, a higher version than
	// asked, bytes that are not TLS), a cancelled scan. The Reason says
	// which.
	Inconclusive Outcome = "inconclusive"
	// ChosenNotCompleted (suites of TLS ≤ 1.2 only): the server answered
	// with a ServerHello naming the suite, then failed (an alert, a close
	// or reset) before ServerHelloDone — it has no key or parameters for
	// it. Not accepted: a client that prefers the suite fails to connect.
	ChosenNotCompleted Outcome = "chosen-not-completed"
)

// String returns the outcome's name.
func (o Outcome) String() string { return string(o) }

// Status is the verdict on a whole endpoint.
type Status string

const (
	// StatusOK: the endpoint was scanned; every part has its own outcome.
	StatusOK Status = "ok"
	// StatusUnreachable: no connection could be opened (resolution or
	// dial failed); Result.Error says why and nothing else is filled.
	StatusUnreachable Status = "unreachable"
	// StatusInconclusive: the scan was cut short (cancelled) or the
	// endpoint never answered a single probe decisively; the parts that
	// finished are kept, the others are inconclusive with their reason.
	StatusInconclusive Status = "inconclusive"
	// StatusPartial: the endpoint answered, but at least one version
	// (SSLv2 included) is inconclusive: what was decided is final, the
	// rest is not known (Result.Error names the versions).
	StatusPartial Status = "partial"
	// StatusDialogueError: the connection opened but the plaintext
	// dialogue before TLS failed (an endless reply, an overlong line, a
	// reply that is not the protocol); Result.Error says how.
	StatusDialogueError Status = "dialogue-error"
	// StatusNotStarted: the scan of the target never began (a sweep's
	// --max-time ran out first); nothing but Target is filled
	// (NotStarted).
	StatusNotStarted Status = "not-started"
)

// NotStarted is the result of a target whose scan never began, for
// reason.
func NotStarted(t Target, reason string) *Result {
	return &Result{Target: t, Status: StatusNotStarted, Error: Failure{Reason: reason}}
}

// String returns the status's name.
func (s Status) String() string { return string(s) }

// Reasons shared by several parts of a result.
const (
	ReasonCancelled = "cancelled"         // ctx was cancelled before the part was decided
	ReasonNotProbed = "not probed"        // an earlier failure made the probe pointless
	ReasonNoVersion = "no version agreed" // nothing to probe with: no accepted version or suite
)

// Result is everything ScanTarget learned about one endpoint. It is plain
// data: renderers (terminal, JSON Lines, CSV) read it and never need the
// scanner.
type Result struct {
	Target Target `json:"target"`
	// Address is the ip:port that was dialed (the first address the host
	// name resolved to); empty when resolution failed.
	Address string `json:"address,omitempty"`

	Status Status `json:"status"`
	// Error says why Status is not StatusOK, by stage and reason
	// ("dial: connection refused", "resolve: no such host",
	// "cancelled"); zero when Status is StatusOK.
	Error Failure `json:"error,omitzero"`

	// SSLv2 is the SSL 2.0 probe; nil when SSLv2 was not asked for.
	SSLv2 *SSLv2Result `json:"sslv2,omitempty"`
	// Versions holds one entry per asked version of SSLv3 … TLS 1.3, oldest
	// first (VersionSSL30, VersionTLS10, VersionTLS11, VersionTLS12,
	// VersionTLS13), whatever the order of Options.Versions.
	Versions []VersionResult `json:"versions"`

	// Groups holds the key exchange group scans that ran, in the order
	// GroupTLS13, GroupECDHE, GroupFFDHE; nil with Options.SkipGroups or
	// when nothing could carry them (no TLS 1.3, no ECDHE or DHE suite).
	Groups []GroupResult `json:"groups,omitempty"`
	// DHPrimeBits is the bit length of dh_p in the ServerKeyExchange of a
	// DHE suite offered without RFC 7919 groups (the server's own prime);
	// 0 when unknown or no DHE suite was accepted.
	DHPrimeBits int `json:"dh_prime_bits,omitempty"`

	// Cert is the certificate handshake (nil with Options.SkipCert, or
	// when it failed before a chain arrived: see CertError).
	Cert *CertInfo `json:"cert,omitempty"`
	// CertError is why the certificate handshake failed (the zero Failure
	// when it did not): the stage (dial, handshake, verify) and the
	// reason, as Error gives them.
	CertError Failure `json:"cert_error,omitzero"`
	// SNICheck is the certificate handshake repeated with SNI on an IP
	// target scanned without a server name (no Target.Host, no
	// CertOptions.ServerName) whose leaf names a host: whether that name
	// gets another certificate. nil when it did not run (a named target,
	// no certificate, a leaf without a host name).
	SNICheck *SNICheck `json:"sni_check,omitempty"`
	// CertSkipped says why the certificate handshake did not run on an
	// endpoint that accepted a version (Options.SkipCertReason, or
	// ReasonGated): the certificate was not checked. "" when it ran or
	// nothing was accepted.
	CertSkipped string `json:"cert_skipped,omitempty"`

	// Contradictions are the answers of the endpoint that disagree with
	// each other (docs/scan-algorithm.md, "Cross-checks"): the
	// certificate handshake negotiated a version or suite the enumeration
	// did not accept, a version was refused with a lower version that is
	// refused itself, TLS 1.3 was only ever answered with
	// HelloRetryRequests. Each made the versions it names inconclusive.
	Contradictions []string `json:"contradictions,omitempty"`

	// Dialogue is what the plaintext dialogue of the endpoint's first
	// STARTTLS upgrade that completed revealed (NetDialer, through the
	// protocol's Upgrade); nil for implicit TLS.
	Dialogue *protocols.Dialogue `json:"dialogue,omitempty"`

	// Detected says how the protocol of an auto target (ProtoAuto) was
	// found; nil for a target whose scheme was given or implied by its
	// port. Target.Protocol is then the scheme found.
	Detected *Detection `json:"detected,omitempty"`

	// Handshakes counts the TCP connections opened, by purpose.
	Handshakes Handshakes `json:"handshakes"`

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
}

// Version returns the entry of Versions for wire version v, or nil.
func (r *Result) Version(v tls.Version) *VersionResult {
	for i := range r.Versions {
		if r.Versions[i].Version == v {
			return &r.Versions[i]
		}
	}
	return nil
}

// Group returns the entry of Groups of kind k, or nil.
func (r *Result) Group(k GroupKind) *GroupResult {
	for i := range r.Groups {
		if r.Groups[i].Kind == k {
			return &r.Groups[i]
		}
	}
	return nil
}

// VersionResult is the verdict on one protocol version (SSLv3 … TLS 1.3)
// and its cipher suites.
type VersionResult struct {
	Version tls.Version `json:"version"` // a number in JSON: 771 for TLS 1.2
	// Outcome is Accepted when at least one suite was accepted; Rejected
	// when the server refused the version (protocol_version alert,
	// lower-version ServerHello) or every candidate suite; Inconclusive
	// otherwise.
	Outcome Outcome `json:"outcome"`
	// Reason is why a version was rejected or is inconclusive ("alert
	// protocol_version", "server answered TLSv1.0 to a TLSv1.1 hello",
	// "timeout after 5s"); empty when accepted.
	Reason string `json:"reason,omitempty"`

	// Suites are the accepted suites: in the server's order of preference
	// when ServerOrder is true, otherwise in the scanner's candidate order
	// (most widely deployed first).
	Suites []uint16 `json:"suites"`
	// ServerOrder reports whether the server enforces its own order; nil
	// when unknown (fewer than two suites, or the probes were
	// inconclusive).
	ServerOrder *bool `json:"server_order,omitempty"`
	// OrderIncomplete is true when ServerOrder is true but a probe needed
	// to rank the suites was inconclusive: Suites is then only partly in
	// the server's order.
	OrderIncomplete bool `json:"order_incomplete,omitempty"`
	// ChaChaPriority reports, when the server enforces an order that ranks
	// an AES suite above a ChaCha20-Poly1305 suite, whether it honours a
	// client that lists ChaCha20 first (OpenSSL's PRIORITIZE_CHACHA); nil
	// when not probed.
	ChaChaPriority *bool `json:"chacha_priority,omitempty"`

	// Inconclusive are the candidate suites whose status could not be
	// decided, for InconclusiveReason; every other candidate not in
	// Suites was rejected.
	Inconclusive       []uint16 `json:"inconclusive,omitempty"`
	InconclusiveReason string   `json:"inconclusive_reason,omitempty"`

	// ChosenNotCompleted are the suites the server chose (a ServerHello
	// naming them) but failed on before ServerHelloDone, in the scanner's
	// candidate order, for ChosenNotCompletedReason (the first one's).
	// They are not in Suites: no client completes a handshake with them.
	ChosenNotCompleted       []uint16 `json:"chosen_not_completed,omitempty"`
	ChosenNotCompletedReason string   `json:"chosen_not_completed_reason,omitempty"`

	// Poisons are suites shown to make the server fail a whole hello that
	// lists them (before, or in its order above, a suite it accepts):
	// PoisonReason says which probes proved it. Each poison is also
	// rejected on its own; the suites a poison hid were found by offering
	// lists without it (docs/scan-algorithm.md, "Poisoned lists").
	Poisons      []uint16 `json:"poisons,omitempty"`
	PoisonReason string   `json:"poison_reason,omitempty"`

	// CertByOffer, when not "", says that suites refused in every list
	// holding an ECDSA suite were answered in one without: the server
	// picks its certificate from the whole offer (haproxy with an RSA and
	// an ECDSA one), so a client that lists ECDSA suites gets only those
	// (docs/scan-algorithm.md, "Certificates chosen by the offer").
	CertByOffer string `json:"cert_by_offer,omitempty"`

	// Candidates is how many suites were offered: every registry code
	// point for SSLv3 … TLS 1.2 (suites accepted outside the versions
	// their RFCs allow are reported as such), the TLS 1.3 suites for
	// TLS 1.3.
	Candidates int `json:"candidates"`

	// lowerTo is the version a lower-version ServerHello that refused the
	// version named (for the cross-check); 0 otherwise.
	lowerTo tls.Version
}

// Name returns the version's name, "TLSv1.2".
func (v *VersionResult) Name() string { return v.Version.String() }

// SSLv2Result is the verdict of the single SSL 2.0 probe.
type SSLv2Result struct {
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// Kinds are the cipher kinds of the SERVER-HELLO (ciphers.SSLv2Kinds
	// IDs), in the server's order.
	Kinds []uint32 `json:"kinds,omitempty"`
}

// GroupKind says which key exchange a GroupResult is about and how it was
// probed.
type GroupKind string

const (
	// GroupTLS13: TLS 1.3 groups, found by HelloRetryRequest elimination.
	GroupTLS13 GroupKind = "tls13"
	// GroupECDHE: TLS ≤ 1.2 elliptic curves, found by ServerKeyExchange
	// elimination with ECDHE suites.
	GroupECDHE GroupKind = "ecdhe"
	// GroupFFDHE: RFC 7919 finite-field groups in TLS ≤ 1.2, found by
	// ServerKeyExchange elimination with DHE suites (dh_p compared with
	// the RFC 7919 primes).
	GroupFFDHE GroupKind = "ffdhe"
)

// GroupResult is the verdict of one group scan.
type GroupResult struct {
	Kind GroupKind `json:"kind"`
	// Version is the protocol version the probes used.
	Version tls.Version `json:"version"`
	// Outcome is Accepted when at least one group was found, Rejected when
	// the server refused every candidate (for GroupFFDHE: also when it
	// ignores RFC 7919 and sends its own prime), Inconclusive otherwise.
	Outcome Outcome `json:"outcome"`
	Reason  string  `json:"reason,omitempty"`
	// Groups are the accepted groups (ciphers.Groups IDs): in the server's
	// order when ServerOrder is true, otherwise in the order found.
	Groups      []uint16 `json:"groups"`
	ServerOrder *bool    `json:"server_order,omitempty"`
	// Inconclusive are candidates left undecided, for InconclusiveReason.
	Inconclusive       []uint16 `json:"inconclusive,omitempty"`
	InconclusiveReason string   `json:"inconclusive_reason,omitempty"`
}

// Handshakes counts TCP connections by purpose. Each connection carries
// exactly one ClientHello (the certificate handshake excepted), so these
// are also hellos sent. Retries are included in their purpose's count and
// also counted in Retries.
type Handshakes struct {
	SSLv2       int `json:"sslv2"`       // the SSLv2 probe
	Versions    int `json:"versions"`    // the first probe of each version
	Suites      int `json:"suites"`      // suite elimination after the first probe, canaries, split lists
	Order       int `json:"order"`       // server preference, ranking and ChaCha20 priority probes
	Groups      int `json:"groups"`      // group and DHE prime probes
	Poison      int `json:"poison"`      // the poison check: refused suites offered again without a suspect kind, and the naming of a poison
	Verify      int `json:"verify"`      // re-probes of refusals that rested on a dropped connection, and their control probes
	Certificate int `json:"certificate"` // the certificate handshake (2 when it fell back to crypto/tls), and the SNI check's (SNICheck)
	Dialogue    int `json:"dialogue"`    // the protocol's probe dialogue before TLS, on a connection of its own (STARTTLS schemes: capabilities, plaintext login offers); no ClientHello
	Retries     int `json:"retries"`     // repeated probes after an inconclusive answer
	Total       int `json:"total"`
}
