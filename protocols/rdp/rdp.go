// Package rdp speaks the part of the Remote Desktop Protocol that comes
// before TLS ([MS-RDPBCGR] §1.3.1.1, Connection Initiation), in both
// directions of tlsmap:
//
//   - Upgrade (scan) sends an X.224 Connection Request carrying an
//     RDP Negotiation Request for PROTOCOL_SSL and PROTOCOL_HYBRID
//     (§2.2.1.1) and reads the X.224 Connection Confirm (§2.2.1.2): when
//     its RDP Negotiation Response selects TLS (PROTOCOL_SSL, or
//     PROTOCOL_HYBRID / HYBRID_EX, CredSSP over TLS), the connection is
//     positioned at the first byte of the TLS handshake. With
//     Options.Probe (one dialogue of each endpoint) it also sends, on a
//     connection of its own (Options.Dial), a request for standard RDP
//     security only, whose answer shows whether the server allows RDP
//     without TLS (AttrStandardSecurity): a finding.
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// The client speaks first. Every message is a TPKT (RFC 1006 §6: version
// 3, a 16-bit length) around an X.224 TPDU (ITU-T X.224 §13.3 and §13.4,
// class 0), read whole within Options.MaxLine bytes and parsed with
// cryptobyte (wire.go). The protocol has no reply that asks a client to
// come back later: a busy server closes or resets the connection.
package rdp

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "rdp"

// Protocol is RDP's entry in the protocols registry: rdp on 3389, TLS
// after the X.224 negotiation.
var Protocol = &protocols.Protocol{
	Name:        Name,
	Schemes:     []protocols.Scheme{{Name: "rdp", Port: 3389, Form: protocols.STARTTLS}},
	ClientFirst: true,
	Upgrade:     Upgrade,
	Recognize:   Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxLine bounds the Connection Confirm's TPKT; Windows' is 19
	// bytes.
	DefaultMaxLine = 1024
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: 1}

// StageNegotiation is the stage of the Connection Request and Confirm,
// for protocols.Error.Stage, when the confirm does not switch to TLS;
// the request itself and a failed read are protocols.StageSTARTTLS.
const StageNegotiation = "negotiation"

// Attributes of the Dialogue.
const (
	// AttrSelected is the security protocol the server selected
	// ("PROTOCOL_SSL", "PROTOCOL_HYBRID"), or "none" for a confirm without
	// a negotiation response (standard RDP security, a server older than
	// RDP 5.2), or the failure code ("SSL_CERT_NOT_ON_SERVER").
	AttrSelected = "selected_protocol"
	// AttrStandardSecurity is what the probe's request for standard RDP
	// security only (PROTOCOL_RDP) was answered with: "accepted
	// (PROTOCOL_RDP selected)", "accepted (no negotiation response)",
	// "refused (SSL_REQUIRED_BY_SERVER)" …, "unknown (…)" when the probe
	// learnt nothing; absent without Options.Probe.
	AttrStandardSecurity = "standard_rdp_security"
)
