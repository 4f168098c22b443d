// Package ldap speaks the plaintext part of LDAP (RFC 4511) up to the
// StartTLS extended operation (RFC 4511 §4.14, RFC 4513 §3), in both
// directions of tlsmap:
//
//   - Upgrade (scan) reads the root DSE (RFC 4512 §5.1: the extensions,
//     controls and SASL mechanisms the server supports), optionally probes
//     whether a simple bind is taken before TLS (Options.Probe), sends the
//     StartTLS request and returns with the connection positioned at the
//     first byte of the TLS handshake.
//   - Capabilities reads the root DSE over an implicit-TLS connection
//     (LDAPS, port 636; the global catalog's 3269).
//   - Recognize (sniff) finds the same exchange in captured byte streams.
//
// LDAP is binary: every message is a BER-encoded LDAPMessage (RFC 4511
// §5.1, X.690), read whole, bounded by Options.MaxLine bytes, and parsed
// with cryptobyte (ber.go). The client speaks first.
package ldap

import (
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// Name is the protocol's name in Recognitions and scan results.
const Name = "ldap"

// Protocol is LDAP's entry in the protocols registry: ldap (StartTLS,
// port 389; the global catalog's 3268) and ldaps (implicit TLS, 636; the
// global catalog's 3269).
var Protocol = &protocols.Protocol{
	Name: Name,
	Schemes: []protocols.Scheme{
		{Name: "ldap", Port: 389, Form: protocols.STARTTLS, AlsoPorts: []uint16{3268}},  // RFC 4511 §4.14
		{Name: "ldaps", Port: 636, Form: protocols.Implicit, AlsoPorts: []uint16{3269}}, // LDAP over TLS from the first byte
	},
	ClientFirst:  true,
	Upgrade:      Upgrade,
	Capabilities: Capabilities,
	Recognize:    Recognize,
}

// Defaults of the dialogue's protocols.Options.
const (
	DefaultTimeout = 15 * time.Second
	// DefaultMaxLine bounds one LDAPMessage. The root DSE of an Active
	// Directory domain controller, all attributes asked here, is a few
	// KiB.
	DefaultMaxLine = 64 << 10
	// DefaultMaxLines bounds the messages of one answer (the search's
	// entries, references and its SearchResultDone).
	DefaultMaxLines = 64
)

var defaults = protocols.Options{Timeout: DefaultTimeout, MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines}

// StageBind is the stage of the simple-bind probe (Options.Probe), for
// protocols.Error.Stage; the root DSE search is protocols.StageCapability
// and the StartTLS request protocols.StageSTARTTLS.
const StageBind = "bind"

// Attributes of the Dialogue.
const (
	// AttrRootDSE is "read" when the root DSE was returned, otherwise
	// why not ("insufficientAccessRights: …", "no entry").
	AttrRootDSE = "rootdse"
	// AttrSimpleBind is what the simple-bind probe showed before TLS:
	// "accepted (invalidCredentials)" when the server checked a made-up
	// name and password sent in clear, "refused (confidentialityRequired)"
	// when it wants TLS first, and so on (absent without Options.Probe).
	AttrSimpleBind = "simple_bind"
	// AttrVendor is the root DSE's vendorName and vendorVersion (RFC
	// 3045), when it has them.
	AttrVendor = "vendor"
)

// OIDs of the operations this package speaks or recognises.
const (
	// OIDStartTLS names the StartTLS extended operation (RFC 4511
	// §4.14.1).
	OIDStartTLS = "1.3.6.1.4.1.1466.20037"
	// OIDNoticeOfDisconnection names the unsolicited notification a
	// server sends before closing a connection (RFC 4511 §4.4.1).
	OIDNoticeOfDisconnection = "1.3.6.1.4.1.1466.20036"
)
