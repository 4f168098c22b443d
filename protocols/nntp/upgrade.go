package nntp

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks NNTP on a fresh connection up to STARTTLS: it reads the
// greeting (200 or 201), sends CAPABILITIES, MODE READER when the server
// is mode-switching (it lists MODE-READER, not READER) and offers no
// STARTTLS before it, and STARTTLS when the capabilities list it — or
// when CAPABILITIES was refused (the server did not say), or with
// Options.StartTLSAnyway. On success the 382 response has been read to
// its line end and not a byte further: the next byte on conn is the
// server's first TLS byte (RFC 4642 §2.2.2), and the caller's
// ClientHello goes next. Commands are never pipelined.
//
// AUTHINFO USER offered before TLS (RFC 4643 §2.1) is PlaintextAuth
// "USER", and so are the SASL mechanisms when AUTHINFO offers SASL: a
// client could log in with them in clear.
//
// The dialogue is bounded by ctx and Options.Timeout (Upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. Upgrade
// never closes conn otherwise. When the dialogue will not upgrade it
// sends QUIT first. The error is a *protocols.Error naming the stage; a
// 400 response (RFC 3977 §3.2.1: service not available for now, INN's
// answer when it is overloaded) is protocols.ErrThrottled.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

// Capabilities reads the greeting and the capability list over an
// established implicit-TLS connection (NNTPS, RFC 8143), then sends
// QUIT. It is bounded like Upgrade. PlaintextAuth stays empty: nothing
// crossed the network in clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := &dialogue{s: s, opts: opts}
		info := &protocols.Dialogue{Protocol: Name}
		err := d.greeting(info)
		if err == nil {
			_, err = d.capabilities(info)
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
func fail(stage string, r response, temporary bool, err error) error {
	return &protocols.Error{Protocol: Name, Stage: stage, Reply: r.line, Temporary: temporary, Err: err}
}

// throttled is the error of a 400 response at stage.
func throttled(stage string, r response) error { return fail(stage, r, true, protocols.ErrThrottled) }

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	if err := d.greeting(info); err != nil {
		return info, err
	}
	listed, err := d.capabilities(info)
	if err != nil {
		return info, err
	}
	if listed && !info.STARTTLSAdvertised && has(info.Capabilities, "MODE-READER") && !has(info.Capabilities, "READER") {
		if listed, err = d.modeReader(info); err != nil {
			return info, err
		}
	}
	d.plaintextAuth(info)
	if listed && !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.quit()
		return info, &protocols.Error{Protocol: Name, Stage: protocols.StageCapability, Err: protocols.ErrNoSTARTTLS}
	}
	r, err := d.command(protocols.StageSTARTTLS, "STARTTLS", noData)
	if err != nil {
		return info, err
	}
	switch r.code {
	case 382:
		// RFC 4642 §2.2.2: TLS starts right after the 382 line, which has
		// been read up to its LF and no further.
		return info, nil
	case 400:
		return info, throttled(protocols.StageSTARTTLS, r)
	}
	// 580 (TLS cannot be initiated), 502 (not permitted: TLS already
	// active, or after authentication), 500/501 (unknown), 483 …
	d.quit()
	return info, fail(protocols.StageSTARTTLS, r, r.code/100 == 4, protocols.ErrSTARTTLSRefused)
}

// greeting reads the server's greeting (RFC 3977 §5.1.1): 200 (posting
// allowed) or 201 (prohibited); 400 when it is busy for now, 502 when it
// turns the client away for good.
func (d *dialogue) greeting(info *protocols.Dialogue) error {
	r, err := d.read(protocols.StageGreeting, noData)
	if err != nil {
		return err
	}
	info.Banner = plaintext.Sanitize([]byte(r.text()))
	info.Software = guessSoftware(info.Banner)
	switch r.code {
	case 200, 201:
		info.Set(AttrPosting, strconv.FormatBool(r.code == 200))
		return nil
	case 400:
		return throttled(protocols.StageGreeting, r)
	}
	if r.code != 502 {
		d.quit()
	}
	return fail(protocols.StageGreeting, r, r.code/100 == 4, protocols.ErrUnexpectedReply)
}

// capabilities asks for the capability list (RFC 3977 §5.2) and reports
// whether the server listed it: a 101 response whose data block's lines
// are the capabilities, a keyword and its arguments. Any other answer (a
// server older than RFC 3977) leaves them unknown. The list replaces
// what was learnt before (after MODE READER, RFC 3977 §5.3).
func (d *dialogue) capabilities(info *protocols.Dialogue) (listed bool, err error) {
	r, err := d.command(protocols.StageCapability, "CAPABILITIES", func(code int) bool { return code == 101 })
	if err != nil {
		return false, err
	}
	switch r.code {
	case 101:
	case 400:
		return false, throttled(protocols.StageCapability, r)
	default:
		info.Set(AttrCapabilities, protocols.QuoteReply(r.line))
		return false, nil
	}
	info.Set(AttrCapabilities, "listed")
	info.Capabilities, info.AuthMechanisms, info.STARTTLSAdvertised = nil, nil, false
	delete(info.Attributes, AttrAuthinfo)
	for _, line := range r.data {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		info.Capabilities = append(info.Capabilities, plaintext.Sanitize([]byte(strings.Join(fields, " "))))
		switch strings.ToUpper(fields[0]) {
		case "STARTTLS":
			info.STARTTLSAdvertised = true
		case "IMPLEMENTATION":
			// RFC 3977 §5.2.2: the server's software, its best guess.
			if s := guessSoftware(strings.Join(fields[1:], " ")); s != "" {
				info.Software = s
			}
		case "AUTHINFO":
			info.Set(AttrAuthinfo, plaintext.Sanitize([]byte(strings.Join(fields, " "))))
		case "SASL":
			for _, m := range fields[1:] {
				if m = strings.ToUpper(m); !slices.Contains(info.AuthMechanisms, m) {
					info.AuthMechanisms = append(info.AuthMechanisms, m)
				}
			}
		}
	}
	return true, nil
}

// modeReader switches a mode-switching server to reading (RFC 3977 §5.3:
// 200 or 201) and asks for the capabilities again, which may now offer
// STARTTLS. A 502 (reading not permitted) keeps those listed before.
func (d *dialogue) modeReader(info *protocols.Dialogue) (listed bool, err error) {
	r, err := d.command(StageModeReader, "MODE READER", noData)
	if err != nil {
		return false, err
	}
	info.Set(AttrModeReader, protocols.QuoteReply(r.line))
	switch r.code {
	case 200, 201:
		return d.capabilities(info)
	case 400:
		return false, throttled(StageModeReader, r)
	}
	return true, nil
}

// plaintextAuth fills PlaintextAuth from the AUTHINFO capability (RFC
// 4643 §2.1): USER, and the SASL mechanisms when it offers SASL.
func (d *dialogue) plaintextAuth(info *protocols.Dialogue) {
	args := strings.Fields(strings.ToUpper(info.Attributes[AttrAuthinfo]))
	if slices.Contains(args, "USER") {
		info.PlaintextAuth = append(info.PlaintextAuth, "USER")
	}
	if slices.Contains(args, "SASL") {
		info.PlaintextAuth = append(info.PlaintextAuth, info.AuthMechanisms...)
	}
}

// has reports whether the capabilities list keyword (any case).
func has(caps []string, keyword string) bool {
	return slices.ContainsFunc(caps, func(c string) bool {
		k, _, _ := strings.Cut(c, " ")
		return strings.EqualFold(k, keyword)
	})
}

// noData: no code of the response has a data block.
func noData(int) bool { return false }

// quit politely ends a dialogue that will not upgrade.
func (d *dialogue) quit() { d.s.Quit("QUIT\r\n") }

// command sends one command line and reads its response.
func (d *dialogue) command(stage, cmd string, multi func(int) bool) (response, error) {
	if err := d.s.Send(cmd); err != nil {
		return response{}, &protocols.Error{Protocol: Name, Stage: stage, Err: d.s.IOError(err)}
	}
	return d.read(stage, multi)
}

// read reads one response, turning failures into an *Error of stage.
func (d *dialogue) read(stage string, multi func(int) bool) (response, error) {
	r, err := readResponse(d.s.R, d.opts.MaxLines, multi)
	if err == nil {
		return r, nil
	}
	e := &protocols.Error{Protocol: Name, Stage: stage, Err: err}
	switch err {
	case protocols.ErrMalformed:
		e.Reply = r.line
	case protocols.ErrLineTooLong, protocols.ErrTooManyLines:
	default:
		e.Err = d.s.IOError(err)
	}
	return r, e
}
