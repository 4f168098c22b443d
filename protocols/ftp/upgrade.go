package ftp

import (
	"context"
	"net"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks FTP on a fresh connection up to AUTH TLS: it reads the
// greeting (120 then 220, multi-line or delayed), sends FEAT, probes USER
// with Options.Probe, and sends AUTH TLS when FEAT lists it — or when FEAT
// was refused (the server did not say), or with Options.StartTLSAnyway.
// On success the 234 reply has been read to its line end and not a byte
// further: the next byte on conn is the server's first TLS byte (RFC 4217
// §4), and the caller's ClientHello goes next. Commands are never
// pipelined.
//
// The probe (Options.Probe) sends USER with a made-up name, and no PASS:
// a 331 answer ("password required") shows the server takes logins in
// clear (PlaintextAuth gets "USER"), a 530 or 534 one that it wants TLS
// first. AttrUser records the answer either way.
//
// The dialogue is bounded by ctx and Options.Timeout (Upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. Upgrade
// never closes conn otherwise. When the dialogue will not upgrade it sends
// QUIT first. The error is a *protocols.Error naming the stage; a 421
// reply is protocols.ErrThrottled.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

// Capabilities reads the greeting and FEAT over an established
// implicit-TLS connection (FTPS), then sends QUIT. It is bounded like
// Upgrade. PlaintextAuth stays empty: nothing crossed the network in
// clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := &dialogue{s: s, opts: opts}
		info := &protocols.Dialogue{Protocol: Name}
		err := d.greeting(info)
		if err == nil {
			_, err = d.feat(info)
		}
		if err == nil {
			d.quit()
		}
		return info, err
	})
}

type dialogue struct {
	s    *plaintext.Session
	opts protocols.Options
}

// fail is the error of stage.
func fail(stage string, r reply, temporary bool, err error) error {
	return &protocols.Error{Protocol: Name, Stage: stage, Reply: r.String(), Temporary: temporary, Err: err}
}

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	if err := d.greeting(info); err != nil {
		return info, err
	}
	listed, err := d.feat(info)
	if err != nil {
		return info, err
	}
	if d.opts.Probe {
		if err := d.probeUser(info); err != nil {
			return info, err
		}
	}
	if listed && !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.quit()
		return info, &protocols.Error{Protocol: Name, Stage: protocols.StageCapability, Err: protocols.ErrNoSTARTTLS}
	}
	r, err := d.command(protocols.StageSTARTTLS, "AUTH TLS")
	if err != nil {
		return info, err
	}
	switch {
	case r.code == 234:
		// RFC 4217 §4: TLS starts right after the 234 line, which has
		// been read up to its LF and no further.
		return info, nil
	case r.code == 421:
		return info, fail(protocols.StageSTARTTLS, r, true, protocols.ErrThrottled)
	}
	// 504 (AUTH TLS unknown), 534 (refused by policy), 431 (TLS
	// unavailable for now), 500, 502 …
	d.quit()
	return info, fail(protocols.StageSTARTTLS, r, r.code/100 == 4, protocols.ErrSTARTTLSRefused)
}

// greeting reads the server's greeting (RFC 959 §5.4: 120 then 220, or
// 220; 421 when it turns the client away).
func (d *dialogue) greeting(info *protocols.Dialogue) error {
	r, err := d.read(protocols.StageGreeting)
	if err == nil && r.code == 120 {
		// "Service ready in nnn minutes": the 220 follows.
		info.Banner = r.text()
		r, err = d.read(protocols.StageGreeting)
	}
	if err != nil {
		return err
	}
	info.Banner = r.text()
	info.Software = guessSoftware(info.Banner)
	switch {
	case r.code == 220:
		return nil
	case r.code == 421:
		return fail(protocols.StageGreeting, r, true, protocols.ErrThrottled)
	}
	d.quit()
	return fail(protocols.StageGreeting, r, r.code/100 == 4, protocols.ErrUnexpectedReply)
}

// feat asks for the features (RFC 2389 §3) and reports whether the server
// listed them: a 211 reply whose inner lines are the features, each led
// by a space; "AUTH TLS" (RFC 4217 §6, also "AUTH TLS;TLS-C;SSL") offers
// the upgrade. A 5xx answer (no FEAT) leaves them unknown.
func (d *dialogue) feat(info *protocols.Dialogue) (listed bool, err error) {
	r, err := d.command(protocols.StageCapability, "FEAT")
	if err != nil {
		return false, err
	}
	switch {
	case r.code == 421:
		return false, fail(protocols.StageCapability, r, true, protocols.ErrThrottled)
	case r.code != 211:
		info.Set(AttrFeat, protocols.QuoteReply(r.String()))
		return false, nil
	}
	info.Set(AttrFeat, "listed")
	if len(r.lines) < 2 {
		return true, nil // "211 no features"
	}
	for _, line := range r.lines[1 : len(r.lines)-1] {
		f := strings.TrimSpace(line)
		if f == "" {
			continue
		}
		info.Capabilities = append(info.Capabilities, f)
		name, params, _ := strings.Cut(f, " ")
		if !strings.EqualFold(name, "AUTH") {
			continue
		}
		for _, m := range strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ' ' || r == ',' }) {
			m = strings.ToUpper(m)
			if m == "TLS" || m == "TLS-C" {
				info.STARTTLSAdvertised = true
			}
			if !slices.Contains(info.AuthMechanisms, m) {
				info.AuthMechanisms = append(info.AuthMechanisms, m)
			}
		}
	}
	return true, nil
}

// probeUser sends USER with the made-up name and records what the answer
// shows (see Upgrade).
func (d *dialogue) probeUser(info *protocols.Dialogue) error {
	r, err := d.command(StageUser, "USER "+probeUser)
	if err != nil {
		return err
	}
	reply := protocols.QuoteReply(strings.ReplaceAll(r.String(), "\n", " / "))
	switch {
	case r.code == 421:
		return fail(StageUser, r, true, protocols.ErrThrottled)
	case r.code == 331 || r.code == 332 || r.code == 230:
		// The server goes on to the password (or an account, or lets the
		// made-up user in at once): a real one would have crossed the
		// network readable.
		info.Set(AttrUser, "accepted ("+reply+")")
		info.PlaintextAuth = append(info.PlaintextAuth, "USER")
	case r.code == 530 || r.code == 534 || r.code == 550 || r.code == 521:
		info.Set(AttrUser, "refused ("+reply+")")
	default:
		info.Set(AttrUser, "unknown ("+reply+")")
	}
	return nil
}

// quit politely ends a dialogue that will not upgrade.
func (d *dialogue) quit() { d.s.Quit("QUIT\r\n") }

// command sends one command line and reads its final reply.
func (d *dialogue) command(stage, cmd string) (reply, error) {
	if err := d.s.Send(cmd); err != nil {
		return reply{}, &protocols.Error{Protocol: Name, Stage: stage, Err: d.s.IOError(err)}
	}
	return d.read(stage)
}

// read reads one reply, turning failures into an *Error of stage. A
// preliminary reply (1yz, RFC 959 §4.2.1) but the greeting's 120 is
// followed by the final one, which read returns.
func (d *dialogue) read(stage string) (reply, error) {
	for n := 1; ; n++ {
		r, err := readReply(d.s.R, d.opts.MaxLines)
		if err == nil {
			if r.code/100 != 1 || stage == protocols.StageGreeting && r.code == 120 {
				return r, nil
			}
			if n < d.opts.MaxLines {
				continue
			}
			err = protocols.ErrTooManyLines
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
}
