package rdp

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade sends an X.224 Connection Request asking for PROTOCOL_SSL and
// PROTOCOL_HYBRID on a fresh connection and reads the Connection
// Confirm ([MS-RDPBCGR] §3.3.5.3.1–2). When the server's RDP Negotiation
// Response selects a protocol over TLS the confirm has been read to its
// last byte and not a byte further: the next byte on conn is the
// server's first TLS byte and the caller's ClientHello goes next.
//
// A confirm without a negotiation response (a server before RDP 5.2),
// one selecting standard RDP security, and a negotiation failure
// SSL_NOT_ALLOWED_BY_SERVER are protocols.ErrNoTLS: the server does not
// do TLS, and asking anyway cannot change its answer. Any other
// negotiation failure (SSL_CERT_NOT_ON_SERVER …), an X.224 Disconnect
// Request and a TPDU Error are protocols.ErrSTARTTLSRefused. Every error
// is at protocols.StageSTARTTLS: the request is the whole dialogue.
//
// With Options.Probe and Options.Dial it first sends, on a connection of
// its own (closed at once), a Connection Request for PROTOCOL_RDP only
// and records the answer as AttrStandardSecurity: "accepted (…)" when the
// server would carry the session with standard RDP security — RC4
// without server authentication, open to a man in the middle — and
// "refused (…)" when it requires TLS.
//
// It keeps the contract of protocols.Protocol.Upgrade: bounded by ctx and
// Options.Timeout (the probe included), a *protocols.Error naming the
// stage, the Dialogue returned also on failure.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		info := &protocols.Dialogue{Protocol: Name}
		if opts.Probe && opts.Dial != nil {
			// Within the session's own deadline. A probe that used it
			// up leaves the dialogue timed out, whether or not the
			// runtime's timer on conn has fired yet.
			pctx, cancel := context.WithDeadline(ctx, s.Deadline())
			info.Set(AttrStandardSecurity, probeStandardSecurity(pctx, opts))
			cancel()
			if !time.Now().Before(s.Deadline()) {
				return info, fail("", s.IOError(os.ErrDeadlineExceeded))
			}
		}
		return info, negotiate(s, opts, info)
	})
}

// fail is the error of the dialogue.
func fail(reply string, err error) error {
	return &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Reply: reply, Err: err}
}

// negotiate asks for TLS and reads the answer into info.
func negotiate(s *plaintext.Session, opts protocols.Options, info *protocols.Dialogue) error {
	c, err := exchange(s, opts, protocolSSL|protocolHybrid)
	if err != nil {
		return err
	}
	switch {
	case c.code == tpduDR:
		return fail("X.224 Disconnect Request", protocols.ErrSTARTTLSRefused)
	case c.code == tpduER:
		return fail("X.224 TPDU Error", protocols.ErrSTARTTLSRefused)
	case !c.negotiated:
		info.Set(AttrSelected, "none")
		return fail("no negotiation response: standard RDP security only", protocols.ErrNoTLS)
	case !c.rsp:
		info.Set(AttrSelected, failureName(c.failure))
		if c.failure == failSSLNotAllowed {
			return fail(failureName(c.failure), protocols.ErrNoTLS)
		}
		return fail(failureName(c.failure), protocols.ErrSTARTTLSRefused)
	}
	info.Set(AttrSelected, protocolName(c.selected))
	info.Capabilities = responseFlags(c.flags)
	if !overTLS(c.selected) {
		return fail(protocolName(c.selected)+" selected", protocols.ErrNoTLS)
	}
	// [MS-RDPBCGR] §5.4.5: the TLS handshake starts right after the
	// confirm, which has been read to its last byte and no further.
	info.STARTTLSAdvertised = true
	return nil
}

// exchange sends a Connection Request for requested and reads the
// server's first TPDU.
func exchange(s *plaintext.Session, opts protocols.Options, requested uint32) (confirm, error) {
	if err := s.Write(connectionRequest(requested)); err != nil {
		return confirm{}, fail("", s.IOError(err))
	}
	var hdr [tpktHeader]byte
	if _, err := io.ReadFull(s.Conn(), hdr[:]); err != nil {
		return confirm{}, fail("", s.IOError(err))
	}
	n, ok := parseTPKT(hdr[:])
	switch {
	case !ok:
		return confirm{}, fail(fmt.Sprintf("% x", hdr), protocols.ErrMalformed)
	case n-tpktHeader > opts.MaxLine:
		return confirm{}, fail(fmt.Sprintf("a TPKT of %d bytes", n), protocols.ErrLineTooLong)
	}
	tpdu := make([]byte, n-tpktHeader)
	if _, err := io.ReadFull(s.Conn(), tpdu); err != nil {
		return confirm{}, fail("", s.IOError(err))
	}
	c, ok := parseConfirm(tpdu)
	if !ok {
		return confirm{}, fail(fmt.Sprintf("% x", tpdu[:min(len(tpdu), 32)]), protocols.ErrMalformed)
	}
	return c, nil
}

// probeStandardSecurity asks, on a connection of its own, for standard
// RDP security only, and says how the server answered.
func probeStandardSecurity(ctx context.Context, opts protocols.Options) string {
	conn, err := opts.Dial(ctx)
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	defer conn.Close()
	var c confirm
	s := plaintext.Start(ctx, conn, opts)
	c, err = exchange(s, opts, protocolRDP)
	s.End()
	switch {
	case err != nil:
		return "unknown (" + err.Error() + ")"
	case c.code == tpduDR:
		return "refused (X.224 Disconnect Request)"
	case c.code == tpduER:
		return "refused (X.224 TPDU Error)"
	case !c.negotiated:
		return "accepted (no negotiation response)"
	case !c.rsp:
		return "refused (" + failureName(c.failure) + ")"
	case c.selected == protocolRDP:
		return "accepted (PROTOCOL_RDP selected)"
	}
	return "refused (" + protocolName(c.selected) + " selected though not requested)"
}

// responseFlags names the flags of an RDP Negotiation Response
// ([MS-RDPBCGR] §2.2.1.2.1).
func responseFlags(flags uint8) []string {
	names := []string{"EXTENDED_CLIENT_DATA_SUPPORTED", "DYNVC_GFX_PROTOCOL_SUPPORTED", "NEGRSP_FLAG_RESERVED",
		"RESTRICTED_ADMIN_MODE_SUPPORTED", "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED"}
	var out []string
	for i, n := range names {
		if flags&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}
