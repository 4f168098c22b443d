package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// SNIOutcome is what the certificate handshake repeated with SNI found
// (SNICheck).
type SNIOutcome string

const (
	// SNISame: the server presented the same leaf (by SHA-256) with SNI
	// as without.
	SNISame SNIOutcome = "same"
	// SNIDiffers: with SNI the server presented another leaf
	// (SNICheck.Leaf): it picks its certificate by the name, and what was
	// enumerated without one may be only its default certificate's suites.
	SNIDiffers SNIOutcome = "differs"
	// SNIInconclusive: the handshake with SNI failed before a leaf
	// arrived (SNICheck.Error says how); nothing is known either way.
	SNIInconclusive SNIOutcome = "inconclusive"
)

// String returns the outcome's name.
func (o SNIOutcome) String() string { return string(o) }

// SNICheck is the certificate handshake of an IP target scanned without a
// server name, repeated with SNI set to a name the leaf carries
// (docs/scan-algorithm.md, "Certificates chosen by SNI"). A server that
// picks its certificate by SNI — haproxy with an RSA and an ECDSA
// certificate on one bind, a front end of several virtual hosts — shows a
// client that sends no name only its default certificate, so the
// enumeration of an IP target may see only the suites that certificate
// can carry.
type SNICheck struct {
	// Name is the server name sent: the leaf's first DNS SAN that is a
	// host name (not a wildcard), or its CN when it has no DNS SAN at all
	// (sniName).
	Name    string     `json:"name"`
	Outcome SNIOutcome `json:"outcome"`
	// Leaf is the leaf presented with SNI when it differs (SNIDiffers);
	// nil otherwise.
	Leaf *CertSummary `json:"leaf,omitempty"`
	// Error is why the check is inconclusive (SNIInconclusive): the stage
	// (dial, handshake, verify) and reason, as Result.CertError gives
	// them; the zero Failure otherwise.
	Error Failure `json:"error,omitzero"`
}

// Note is the sentence a report prints about the check: what differs
// and what to do, or why it could not be made; "" when the same leaf
// came back.
func (c *SNICheck) Note() string {
	if c == nil {
		return ""
	}
	switch c.Outcome {
	case SNIDiffers:
		what := "another certificate"
		if c.Leaf != nil {
			what += " (" + leafDescription(*c.Leaf) + ")"
		}
		return fmt.Sprintf("with SNI %s the server presents %s: the suites seen without SNI may be only those of its default certificate; rescan with --sni %s", c.Name, what, c.Name)
	case SNIInconclusive:
		return fmt.Sprintf("not known whether the server presents another certificate with SNI %s: that handshake failed (%s); the suites seen without SNI may be only those of its default certificate; rescan with --sni %s to see", c.Name, c.Error, c.Name)
	}
	return ""
}

// leafDescription is a certificate in a few words: "ECDSA P-256,
// CN=db.example.com, sha256 3f2a1b0c…".
func leafDescription(s CertSummary) string {
	var parts []string
	key := s.KeyType
	switch {
	case s.ParseError != "":
		key = "not parsed"
	case s.Curve != "":
		key += " " + s.Curve
	case s.KeyBits > 0:
		key += " " + strconv.Itoa(s.KeyBits)
	}
	if key != "" {
		parts = append(parts, key)
	}
	if s.Subject != "" {
		parts = append(parts, s.Subject)
	}
	if len(s.SHA256) > 16 {
		parts = append(parts, "sha256 "+s.SHA256[:16]+"…")
	}
	return strings.Join(parts, ", ")
}

// sniName is the server name the SNI check sends for a leaf: its first
// DNS SAN that is a host name — a wildcard is not ("*.example.com" names
// no host to ask for), and no other name is made up from it — or, when
// the leaf has no DNS SAN at all, its CN if that is a host name (clients
// match a certificate with SANs by them alone, RFC 6125 §6.4.4, so a SAN
// is the name a client would send). "" when there is none: the check does
// not run.
func sniName(leaf CertSummary) string {
	dnsSAN := false
	for _, s := range leaf.SANs {
		// SANs holds DNS names, then IP addresses, then e-mail addresses.
		if _, err := netip.ParseAddr(s); err == nil || strings.Contains(s, "@") {
			continue
		}
		dnsSAN = true
		if name, ok := hostName(s); ok {
			return name
		}
	}
	if dnsSAN {
		return ""
	}
	name, _ := hostName(commonName(leaf.Subject))
	return name
}

// hostName returns s lowered, without a trailing dot, when it is a host
// name by the DNS label rules (checkHostname), which a wildcard, an IP
// address and an e-mail address are not.
func hostName(s string) (string, bool) {
	if s == "" || checkHostname(s) != "" {
		return "", false
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "", false
	}
	return strings.ToLower(strings.TrimSuffix(s, ".")), true
}

// commonName is the value of the first CN attribute of a subject as
// CertSummary spells it ("CN=a, O=b" or "CN=a,O=b"); "" when there is
// none. It does not undo escapes: a value with one is no host name, and
// hostName refuses it.
func commonName(subject string) string {
	for rdn := range strings.SplitSeq(subject, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(rdn), "CN="); ok {
			return v
		}
	}
	return ""
}

// checkSNI runs the certificate handshake once more with SNI name on
// connections from dial, and compares the leaf with leafSHA256, the one
// presented without SNI.
func checkSNI(ctx context.Context, co CertOptions, dial func(context.Context) (net.Conn, error), name, leafSHA256 string) *SNICheck {
	c := &SNICheck{Name: name}
	co.ServerName = name
	conn, err := dial(ctx)
	if err != nil {
		c.Outcome, c.Error = SNIInconclusive, failureOf(StageDial, err)
		return c
	}
	info, err := FetchCertificate(ctx, conn, dial, co)
	switch {
	case info == nil || len(info.Chain) == 0:
		if err == nil {
			err = &StageError{Stage: StageVerify, Err: errors.New("server sent no certificate")}
		}
		c.Outcome, c.Error = SNIInconclusive, failureOf(StageHandshake, err)
	case info.Chain[0].SHA256 == leafSHA256:
		// A handshake that failed after the Certificate message still
		// showed the leaf.
		c.Outcome = SNISame
	default:
		leaf := info.Chain[0]
		c.Outcome, c.Leaf = SNIDiffers, &leaf
	}
	return c
}
