package ldap

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks LDAP on a fresh connection up to StartTLS: it reads the
// root DSE (RFC 4512 §5.1) with an anonymous search, probes a simple bind
// when Options.Probe is set, and sends the StartTLS extended request when
// the root DSE lists it in supportedExtension — or when the root DSE did
// not say (unreadable, or without supportedExtension), or with
// Options.StartTLSAnyway. On success the ExtendedResponse has been read
// to its last byte and not a byte further: the next byte on conn is the
// server's first TLS byte (RFC 4511 §4.14.2), and the caller's
// ClientHello goes next. Requests are never pipelined.
//
// The probe (Options.Probe) sends a simple bind with a made-up name (under
// the root DSE's naming context) and password before TLS: an
// invalidCredentials answer shows the server checks passwords sent in
// clear (PlaintextAuth gets "SIMPLE"), a
// confidentialityRequired or strongerAuthRequired one that it wants TLS
// (or signing) first. AttrSimpleBind records the answer either way.
//
// The dialogue is bounded by ctx and Options.Timeout (Upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. Upgrade
// never closes conn otherwise. When the dialogue will not upgrade it
// sends an UnbindRequest first. The error is a *protocols.Error naming
// the stage; a busy or unavailable answer, or a Notice of Disconnection
// saying so, is protocols.ErrThrottled.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

// Capabilities reads the root DSE over an established implicit-TLS
// connection (LDAPS), then unbinds. It is bounded like Upgrade.
// PlaintextAuth stays empty: nothing crossed the network in clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := &dialogue{s: s, opts: opts}
		info := &protocols.Dialogue{Protocol: Name}
		if _, err := d.rootDSE(info); err != nil {
			return info, err
		}
		d.unbind()
		return info, nil
	})
}

// The made-up credentials of the simple-bind probe: the name is
// probeRDN under the server's own naming context (a name outside every
// context the server holds is refused as invalidCredentials before any
// check of the connection's security, by slapd at least, which would say
// nothing), an entry no directory has, so that no account is touched.
const (
	probeRDN      = "cn=tlsmap-probe"
	probePassword = "tlsmap-probe-not-a-password"
)

type dialogue struct {
	s    *plaintext.Session
	opts protocols.Options
	id   int64 // the last messageID sent
	// context is the root DSE's defaultNamingContext, or its first
	// namingContexts value: where the probe's name lives.
	context string
}

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	listed, err := d.rootDSE(info)
	if err != nil {
		return info, err
	}
	info.PlaintextAuth = slices.Clone(info.AuthMechanisms)
	if d.opts.Probe {
		if err := d.probeBind(info); err != nil {
			return info, err
		}
	}
	if listed && !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.unbind()
		return info, &protocols.Error{Protocol: Name, Stage: protocols.StageCapability, Err: protocols.ErrNoSTARTTLS}
	}
	m, r, err := d.request(protocols.StageSTARTTLS, startTLS)
	// slapd counts an operation outstanding for a moment after its
	// response is sent, and refuses StartTLS meanwhile (operationsError,
	// "cannot start TLS when operations are outstanding"): ask again,
	// a little later.
	for wait := 50 * time.Millisecond; err == nil && r.code == codeOperationsError && wait <= 400*time.Millisecond && d.s.Pause(wait); wait *= 2 {
		m, r, err = d.request(protocols.StageSTARTTLS, startTLS)
	}
	if err != nil {
		return info, err
	}
	if m.op != tagExtendedResponse || r.responseName != "" && r.responseName != OIDStartTLS {
		d.unbind()
		return info, fail(protocols.StageSTARTTLS, r.String(), false, protocols.ErrUnexpectedReply)
	}
	switch r.code {
	case codeSuccess:
		// RFC 4511 §4.14.2: TLS starts right after the response, which
		// has been read to its last byte and no further.
		return info, nil
	case codeBusy:
		return info, fail(protocols.StageSTARTTLS, r.String(), true, protocols.ErrThrottled)
	}
	// unavailable (TLS not configured, §4.14.2), protocolError (StartTLS
	// unknown), operationsError (TLS already up, operations outstanding) …
	d.unbind()
	return info, fail(protocols.StageSTARTTLS, r.String(), false, protocols.ErrSTARTTLSRefused)
}

// rootDSE searches the root DSE and fills info from it. listed reports
// whether its supportedExtension attribute was returned, so that the
// absence of StartTLS from it means something. A search the server
// refuses (insufficientAccessRights …) is recorded in AttrRootDSE, not an
// error: the StartTLS request will tell.
func (d *dialogue) rootDSE(info *protocols.Dialogue) (listed bool, err error) {
	stage := protocols.StageCapability
	if err := d.send(stage, searchRootDSE); err != nil {
		return false, err
	}
	entries := 0
	for n := 1; ; n++ {
		if n > d.opts.MaxLines {
			return listed, &protocols.Error{Protocol: Name, Stage: stage, Err: protocols.ErrTooManyLines}
		}
		m, err := d.read(stage)
		if err != nil {
			return listed, err
		}
		switch m.op {
		case tagSearchResEntry:
			dn, attrs, ok := parseEntry(m.body)
			if !ok {
				return listed, fail(stage, "", false, protocols.ErrMalformed)
			}
			if dn == "" {
				entries++
				listed = fillRootDSE(info, attrs) || listed
				d.context = namingContext(attrs)
			}
		case tagSearchResRef, tagIntermediate:
			// RFC 4511 §4.5.3: a continuation reference; nothing for us.
		case tagSearchResDone:
			r, ok := parseResult(m)
			if !ok {
				return listed, fail(stage, "", false, protocols.ErrMalformed)
			}
			switch {
			case r.code == codeBusy || r.code == codeUnavailable:
				return listed, fail(stage, r.String(), true, protocols.ErrThrottled)
			case r.code != codeSuccess:
				info.Set(AttrRootDSE, "unreadable: "+protocols.QuoteReply(r.String()))
			case entries == 0:
				info.Set(AttrRootDSE, "no entry")
			default:
				info.Set(AttrRootDSE, "read")
			}
			return listed, nil
		default:
			return listed, fail(stage, fmt.Sprintf("protocolOp 0x%02x", m.op), false, protocols.ErrUnexpectedReply)
		}
	}
}

// fillRootDSE records the root DSE's attributes in info, each value as a
// capability "name: value" in the server's order, and reports whether
// supportedExtension was among them.
func fillRootDSE(info *protocols.Dialogue, attrs []attribute) (listed bool) {
	var vendor []string
	for _, a := range attrs {
		for _, v := range a.values {
			info.Capabilities = append(info.Capabilities, a.name+": "+v)
		}
		switch strings.ToLower(a.name) {
		case "supportedextension":
			listed = true
			if slices.Contains(a.values, OIDStartTLS) {
				info.STARTTLSAdvertised = true
			}
		case "supportedsaslmechanisms":
			for _, v := range a.values {
				if m := strings.ToUpper(v); !slices.Contains(info.AuthMechanisms, m) {
					info.AuthMechanisms = append(info.AuthMechanisms, m)
				}
			}
		case "vendorname", "vendorversion":
			vendor = append(vendor, a.values...)
		}
	}
	if len(vendor) > 0 {
		info.Banner = strings.Join(vendor, " ")
		info.Set(AttrVendor, info.Banner)
	}
	info.Software = guessSoftware(info.Banner, attrs)
	return listed
}

// namingContext returns the root DSE's defaultNamingContext (Active
// Directory's), or else its first namingContexts value; "" for none.
func namingContext(attrs []attribute) string {
	first := ""
	for _, a := range attrs {
		switch {
		case len(a.values) == 0:
		case strings.EqualFold(a.name, "defaultNamingContext"):
			return a.values[0]
		case strings.EqualFold(a.name, "namingContexts") && first == "":
			first = a.values[0]
		}
	}
	return first
}

// probeBind sends the simple bind of made-up credentials and records what
// the answer shows (see Upgrade). Without a naming context to name the
// made-up entry in, it does not probe: the answer would show nothing.
func (d *dialogue) probeBind(info *protocols.Dialogue) error {
	if d.context == "" {
		info.Set(AttrSimpleBind, "not probed (the root DSE names no naming context)")
		return nil
	}
	name := probeRDN + "," + d.context
	m, r, err := d.request(StageBind, func(id int64) []byte { return simpleBind(id, name, probePassword) })
	if err != nil {
		return err
	}
	if m.op != tagBindResponse {
		d.unbind()
		return fail(StageBind, fmt.Sprintf("protocolOp 0x%02x", m.op), false, protocols.ErrUnexpectedReply)
	}
	switch r.code {
	case codeBusy, codeUnavailable:
		return fail(StageBind, r.String(), true, protocols.ErrThrottled)
	case codeSuccess, codeInvalidCredentials, codeNoSuchObject, codeInvalidDNSyntax:
		// The server looked at the name (and the password) sent in
		// clear: a real one would have crossed the network readable.
		info.Set(AttrSimpleBind, "accepted ("+codeName(r.code)+")")
		if !slices.Contains(info.PlaintextAuth, "SIMPLE") {
			info.PlaintextAuth = append(info.PlaintextAuth, "SIMPLE")
		}
	case codeConfidentialityRequired, codeStrongerAuthRequired, codeUnwillingToPerform, codeInappropriateAuth:
		info.Set(AttrSimpleBind, "refused ("+codeName(r.code)+")")
	default:
		info.Set(AttrSimpleBind, "unknown ("+protocols.QuoteReply(r.String())+")")
	}
	return nil
}

// request sends the request build makes with the next messageID and
// reads its response, checking that it answers that ID.
func (d *dialogue) request(stage string, build func(id int64) []byte) (message, result, error) {
	if err := d.send(stage, build); err != nil {
		return message{}, result{}, err
	}
	m, err := d.read(stage)
	if err != nil {
		return m, result{}, err
	}
	r, ok := parseResult(m)
	if !ok {
		return m, r, fail(stage, fmt.Sprintf("protocolOp 0x%02x", m.op), false, protocols.ErrMalformed)
	}
	return m, r, nil
}

// send writes the next request.
func (d *dialogue) send(stage string, build func(id int64) []byte) error {
	d.id++
	if err := d.s.Write(build(d.id)); err != nil {
		return &protocols.Error{Protocol: Name, Stage: stage, Err: d.s.IOError(err)}
	}
	return nil
}

// read reads the next response to the outstanding request. A Notice of
// Disconnection (RFC 4511 §4.4.1: messageID 0) ends the dialogue: busy or
// unavailable as throttling, anything else as an unexpected reply.
func (d *dialogue) read(stage string) (message, error) {
	b, err := readMessage(d.s.Conn(), d.opts.MaxLine)
	switch {
	case err == protocols.ErrMalformed:
		return message{}, fail(stage, fmt.Sprintf("% x", b), false, err)
	case err == protocols.ErrLineTooLong:
		return message{}, fail(stage, "", false, err)
	case err != nil:
		return message{}, &protocols.Error{Protocol: Name, Stage: stage, Err: d.s.IOError(err)}
	}
	m, ok := parseMessage(b)
	if !ok || !isResponse(m.op) {
		return m, fail(stage, fmt.Sprintf("% x", b[:min(len(b), 32)]), false, protocols.ErrMalformed)
	}
	if m.id == 0 && m.op == tagExtendedResponse {
		r, _ := parseResult(m)
		if r.code == codeBusy || r.code == codeUnavailable {
			return m, fail(stage, "notice of disconnection: "+r.String(), true, protocols.ErrThrottled)
		}
		return m, fail(stage, "notice of disconnection: "+r.String(), false, protocols.ErrUnexpectedReply)
	}
	if m.id != d.id {
		return m, fail(stage, fmt.Sprintf("a response to message %d, not %d", m.id, d.id), false, protocols.ErrUnexpectedReply)
	}
	return m, nil
}

// unbind politely ends a dialogue that will not upgrade, and waits a
// little for the server to close the connection (RFC 4511 §4.3: no
// response follows the UnbindRequest; the server ends the session).
func (d *dialogue) unbind() {
	d.id++
	d.s.Quit(string(unbind(d.id)))
}

// fail is the error of stage, with the server's reply.
func fail(stage, reply string, temporary bool, err error) error {
	return &protocols.Error{Protocol: Name, Stage: stage, Reply: reply, Temporary: temporary, Err: err}
}
