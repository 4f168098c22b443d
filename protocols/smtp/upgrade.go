package smtp

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks SMTP on a fresh connection up to STARTTLS: it reads the
// 220 greeting (multi-line or delayed), sends EHLO (HELO when EHLO is
// refused with 5xx), and STARTTLS when advertised (or always, with
// Options.StartTLSAnyway). On success the 220 reply to STARTTLS has been
// read to its line end and not a byte further: the next byte on conn is
// the server's first TLS byte, and the caller's ClientHello goes next.
// Commands are never pipelined. Options.ClientName is the EHLO name
// (default DefaultHelo).
//
// It keeps the contract of protocols.Protocol.Upgrade: bounded by ctx and
// Options.Timeout, a *protocols.Error naming the stage, the Dialogue
// returned also on failure. When the dialogue will not upgrade (STARTTLS
// not advertised or refused, an error reply), it sends QUIT first.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

// Capabilities reads the greeting and the EHLO reply over an established
// implicit-TLS connection (SMTPS, RFC 8314 §3.3), then sends QUIT. It is
// bounded like Upgrade. PlaintextAuth stays empty: nothing crossed the
// network in clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, StageEHLO, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := &dialogue{s: s, opts: opts}
		info := &protocols.Dialogue{Protocol: Name}
		err := d.greeting(info)
		if err == nil {
			err = d.ehlo(info)
		}
		if err == nil {
			s.Quit("QUIT\r\n")
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
	if err := d.ehlo(info); err != nil {
		return info, err
	}
	info.PlaintextAuth = info.AuthMechanisms
	if !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.s.Quit("QUIT\r\n")
		return info, &protocols.Error{Protocol: Name, Stage: StageEHLO, Err: protocols.ErrNoSTARTTLS}
	}
	r, err := d.command(protocols.StageSTARTTLS, "STARTTLS")
	if err != nil {
		return info, err
	}
	switch {
	case r.code == 220:
		// RFC 3207 §4: TLS starts right after the 220 line, which has been
		// read up to its LF and no further. The caller takes conn over
		// from here.
		return info, nil
	case r.code == 421:
		return info, fail(protocols.StageSTARTTLS, r, true, protocols.ErrThrottled)
	}
	// 454 "TLS not available due to temporary reason", 501, 502, 554 …
	d.s.Quit("QUIT\r\n")
	return info, fail(protocols.StageSTARTTLS, r, r.code/100 == 4, protocols.ErrSTARTTLSRefused)
}

// greeting reads the server's greeting (RFC 5321 §4.2: 220, or 554 for
// "no service here"; 421 when busy).
func (d *dialogue) greeting(info *protocols.Dialogue) error {
	r, err := d.read(protocols.StageGreeting)
	if err != nil {
		return err
	}
	info.Banner = strings.Join(r.text, "\n")
	info.Software = guessSoftware(info.Banner)
	switch {
	case r.code == 220:
		return nil
	case r.code/100 == 4:
		return fail(protocols.StageGreeting, r, true, protocols.ErrThrottled)
	}
	d.s.Quit("QUIT\r\n")
	return fail(protocols.StageGreeting, r, false, protocols.ErrUnexpectedReply)
}

// ehlo sends EHLO whatever the banner says (RFC 5321 §3.2: a client
// SHOULD start with EHLO) and falls back to HELO when the server does
// not know it (§4.1.4).
func (d *dialogue) ehlo(info *protocols.Dialogue) error {
	r, err := d.command(StageEHLO, "EHLO "+d.opts.ClientName)
	if err != nil {
		return err
	}
	switch {
	case r.code == 250:
		info.Set(AttrESMTP, "true")
		parseEHLO(info, r)
		return nil
	case r.code == 421:
		return fail(StageEHLO, r, true, protocols.ErrThrottled)
	case r.code/100 == 5:
		info.Set(AttrESMTP, "false")
		r, err = d.command(StageEHLO, "HELO "+d.opts.ClientName)
		if err != nil {
			return err
		}
		switch {
		case r.code == 250:
			if info.Software == "" {
				info.Software = guessSoftware(strings.Join(r.text, "\n"))
			}
			return nil
		case r.code == 421:
			return fail(StageEHLO, r, true, protocols.ErrThrottled)
		}
	}
	d.s.Quit("QUIT\r\n")
	return fail(StageEHLO, r, r.code/100 == 4, protocols.ErrUnexpectedReply)
}

// parseEHLO reads the extensions of an EHLO reply (RFC 5321 §4.1.1.1:
// the first line is the greeting, each further line "keyword params").
func parseEHLO(info *protocols.Dialogue, r reply) {
	if info.Software == "" && len(r.text) > 0 {
		info.Software = guessSoftware(r.text[0])
	}
	for _, line := range r.text[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		kw := strings.ToUpper(fields[0])
		info.Capabilities = append(info.Capabilities, strings.Join(append([]string{kw}, fields[1:]...), " "))
		var mechs []string
		switch {
		case kw == "STARTTLS":
			info.STARTTLSAdvertised = true
		case kw == "AUTH":
			// RFC 4954 §3: "AUTH" SP mechanism *(SP mechanism).
			mechs = fields[1:]
		case strings.HasPrefix(kw, "AUTH="):
			// The pre-RFC 2554 form some servers still send for old
			// Outlook clients: "AUTH=PLAIN LOGIN".
			mechs = append([]string{kw[len("AUTH="):]}, fields[1:]...)
		}
		for _, m := range mechs {
			if m := strings.ToUpper(m); !slices.Contains(info.AuthMechanisms, m) {
				info.AuthMechanisms = append(info.AuthMechanisms, m)
			}
		}
	}
}

// command sends one command line and reads its reply.
func (d *dialogue) command(stage, cmd string) (reply, error) {
	if err := d.s.Send(cmd); err != nil {
		return reply{}, &protocols.Error{Protocol: Name, Stage: stage, Err: d.s.IOError(err)}
	}
	return d.read(stage)
}

// read reads one reply, turning failures into an *Error of stage.
func (d *dialogue) read(stage string) (reply, error) {
	r, err := readReply(d.s.R, d.opts.MaxLines)
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

// reply is one SMTP reply (RFC 5321 §4.2).
type reply struct {
	code int
	text []string // each line's text after "ddd-" or "ddd "
	bad  string   // the malformed line, with ErrMalformed
}

func (r reply) String() string {
	var b strings.Builder
	for i, t := range r.text {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%03d", r.code)
		if t != "" {
			b.WriteByte(' ')
			b.WriteString(t)
		}
	}
	return b.String()
}

// readReply reads the lines of one reply: "ddd-text" lines continue it, a
// "ddd text" or bare "ddd" line ends it (RFC 5321 §4.2.1). The last line's
// code is the reply's (the RFC wants them all equal; some servers differ).
func readReply(lr *plaintext.LineReader, maxLines int) (reply, error) {
	var r reply
	for {
		line, err := lr.ReadLine()
		if err != nil {
			return r, err
		}
		code, more, text, ok := parseReplyLine(line)
		if !ok {
			r.bad = line
			return r, protocols.ErrMalformed
		}
		r.code = code
		r.text = append(r.text, text)
		if !more {
			return r, nil
		}
		if len(r.text) >= maxLines {
			return r, protocols.ErrTooManyLines
		}
	}
}

// parseReplyLine splits "ddd-text", "ddd text" or "ddd". The code's first
// digit is 2 to 5 (RFC 5321 §4.2: 1yz is unused in SMTP).
func parseReplyLine(line string) (code int, more bool, text string, ok bool) {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2]) {
		return 0, false, "", false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, false, "", true
	}
	switch line[3] {
	case '-':
		return code, true, line[4:], true
	case ' ':
		return code, false, line[4:], true
	}
	return 0, false, "", false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
