package sieve

import (
	"context"
	"net"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks ManageSieve on a fresh connection up to STARTTLS: it
// reads the capability greeting (RFC 5804 §1.7) and sends STARTTLS when
// the server lists it, or with Options.StartTLSAnyway. On success the OK
// line has been read to its line end and not a byte further: the next
// byte on conn is the server's first TLS byte (RFC 5804 §2.2), and the
// caller's ClientHello goes next.
//
// The SASL mechanisms offered before TLS are PlaintextAuth: a client
// could log in with them in clear.
//
// The dialogue is bounded by ctx and Options.Timeout (Upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. Upgrade
// never closes conn otherwise. When the dialogue will not upgrade it sends
// LOGOUT first. The error is a *protocols.Error naming the stage; a BYE or
// NO with the TRYLATER code (RFC 5804 §1.3) is protocols.ErrThrottled.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

type dialogue struct {
	s    *plaintext.Session
	opts protocols.Options
}

// fail is the error of stage.
func fail(stage string, r response, temporary bool, err error) error {
	return &protocols.Error{Protocol: Name, Stage: stage, Reply: r.String(), Temporary: temporary, Err: err}
}

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	if err := d.greeting(info); err != nil {
		return info, err
	}
	if !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.quit()
		return info, &protocols.Error{Protocol: Name, Stage: protocols.StageCapability, Err: protocols.ErrNoSTARTTLS}
	}
	if err := d.s.Send("STARTTLS"); err != nil {
		return info, &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Err: d.s.IOError(err)}
	}
	r, err := d.read(protocols.StageSTARTTLS)
	if err != nil {
		return info, err
	}
	switch {
	case r.status == "OK":
		// RFC 5804 §2.2: TLS starts right after the OK line, which has
		// been read up to its LF and no further.
		return info, nil
	case r.status == "BYE" && r.code == "TRYLATER":
		return info, fail(protocols.StageSTARTTLS, r, true, protocols.ErrThrottled)
	}
	// NO: TLS not configured, or (TRYLATER) not for now; BYE: closing.
	if r.status != "BYE" {
		d.quit()
	}
	return info, fail(protocols.StageSTARTTLS, r, r.code == "TRYLATER", protocols.ErrSTARTTLSRefused)
}

// greeting reads the capability list the server opens with (RFC 5804
// §1.7): "NAME" ["value"] lines then OK. STARTTLS offers the upgrade,
// SASL lists the mechanisms (space-separated), IMPLEMENTATION names the
// software. A BYE instead of OK turns the client away.
func (d *dialogue) greeting(info *protocols.Dialogue) error {
	r, err := d.read(protocols.StageGreeting)
	for _, strs := range r.data {
		name := strings.ToUpper(strs[0])
		capa := strs[0]
		if len(strs) > 1 {
			capa += " " + strs[1]
		}
		info.Capabilities = append(info.Capabilities, plaintext.Sanitize([]byte(capa)))
		switch {
		case name == "STARTTLS":
			info.STARTTLSAdvertised = true
		case name == "IMPLEMENTATION" && len(strs) > 1:
			info.Banner = plaintext.Sanitize([]byte(strs[1]))
			info.Software = guessSoftware(info.Banner)
		case name == "SASL" && len(strs) > 1:
			for _, m := range strings.Fields(strings.ToUpper(strs[1])) {
				if !slices.Contains(info.AuthMechanisms, m) {
					info.AuthMechanisms = append(info.AuthMechanisms, m)
				}
			}
		}
	}
	if err != nil {
		return err
	}
	info.PlaintextAuth = append(info.PlaintextAuth, info.AuthMechanisms...)
	switch {
	case r.status == "OK":
		return nil
	case r.code == "TRYLATER" || r.status == "BYE":
		return fail(protocols.StageGreeting, r, r.code == "TRYLATER", protocols.ErrThrottled)
	}
	d.quit()
	return fail(protocols.StageGreeting, r, false, protocols.ErrUnexpectedReply)
}

// quit politely ends a dialogue that will not upgrade.
func (d *dialogue) quit() { d.s.Quit("LOGOUT\r\n") }

// read reads one response, turning failures into an *Error of stage.
func (d *dialogue) read(stage string) (response, error) {
	r, err := readResponse(d.s.R, d.opts.MaxLines, d.opts.MaxLine)
	if err == nil {
		return r, nil
	}
	e := &protocols.Error{Protocol: Name, Stage: stage, Err: err}
	switch err {
	case protocols.ErrMalformed:
		e.Reply = r.bad
	case protocols.ErrLineTooLong, protocols.ErrTooManyLines:
	default:
		e.Err = d.s.IOError(err)
	}
	return r, e
}
