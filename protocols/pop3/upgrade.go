package pop3

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks POP3 on a fresh connection up to STLS: it reads the +OK
// greeting, sends CAPA (a -ERR leaves the capabilities empty), and STLS
// when advertised (or always, with Options.StartTLSAnyway). On success the
// +OK to STLS has been read to its line end and not a byte further: the
// next byte on conn is the server's first TLS byte, and the caller's
// ClientHello goes next.
//
// It keeps the contract of protocols.Protocol.Upgrade: bounded by ctx and
// Options.Timeout, a *protocols.Error naming the stage, the Dialogue
// returned also on failure. When the dialogue will not upgrade it sends
// QUIT first.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

// Capabilities reads the greeting and the CAPA list over an established
// implicit-TLS connection (POP3S, RFC 8314 §3.3), then sends QUIT. It is
// bounded like Upgrade. PlaintextAuth stays empty: nothing crossed the
// network in clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := &dialogue{s: s, opts: opts}
		info := &protocols.Dialogue{Protocol: Name}
		err := d.greeting(info)
		if err == nil {
			err = d.capa(info)
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
func fail(stage, reply string, temporary bool, err error) error {
	return &protocols.Error{Protocol: Name, Stage: stage, Reply: reply, Temporary: temporary, Err: err}
}

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	if err := d.greeting(info); err != nil {
		return info, err
	}
	if err := d.capa(info); err != nil {
		return info, err
	}
	for _, c := range info.Capabilities {
		if strings.EqualFold(c, "USER") {
			info.PlaintextAuth = append(info.PlaintextAuth, "USER")
		}
	}
	for _, m := range info.AuthMechanisms {
		if !slices.Contains(info.PlaintextAuth, m) {
			info.PlaintextAuth = append(info.PlaintextAuth, m)
		}
	}
	if !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.s.Quit("QUIT\r\n")
		return info, fail(protocols.StageCapability, "", false, protocols.ErrNoSTARTTLS)
	}
	r, err := d.command(protocols.StageSTARTTLS, "STLS")
	if err != nil {
		return info, err
	}
	if r.ok {
		// RFC 2595 §4: TLS negotiation starts right after the CRLF of the
		// +OK, which has been read up to its LF and no further. The
		// caller takes conn over from here.
		return info, nil
	}
	if r.temporary() {
		return info, fail(protocols.StageSTARTTLS, r.line, true, protocols.ErrThrottled)
	}
	d.s.Quit("QUIT\r\n")
	return info, fail(protocols.StageSTARTTLS, r.line, false, protocols.ErrSTARTTLSRefused)
}

// greeting reads the +OK greeting (RFC 1939 §4). A -ERR instead is a
// server turning connections away.
func (d *dialogue) greeting(info *protocols.Dialogue) error {
	r, err := d.read(protocols.StageGreeting)
	if err != nil {
		return err
	}
	info.Banner = r.text
	info.Software = guessSoftware(r.text)
	if r.ok {
		// RFC 1939 §7: the APOP timestamp is a msg-id, "<…@…>".
		if i := strings.IndexByte(r.text, '<'); i >= 0 {
			j := strings.IndexByte(r.text[i:], '>')
			info.Set(AttrAPOP, strconv.FormatBool(j > 0 && strings.Contains(r.text[i:i+j], "@")))
		}
		return nil
	}
	switch r.code() {
	case "SYS/PERM", "AUTH":
		return fail(protocols.StageGreeting, r.line, false, protocols.ErrUnexpectedReply)
	}
	return fail(protocols.StageGreeting, r.line, true, protocols.ErrThrottled)
}

// capa asks for the capabilities (RFC 2449 §5). -ERR (a server older than
// RFC 2449) leaves them empty.
func (d *dialogue) capa(info *protocols.Dialogue) error {
	r, err := d.command(protocols.StageCapability, "CAPA")
	if err != nil {
		return err
	}
	if !r.ok {
		if r.temporary() {
			return fail(protocols.StageCapability, r.line, true, protocols.ErrThrottled)
		}
		return nil
	}
	// RFC 1939 §3: a multi-line response ends with a line holding a single
	// "."; lines starting with "." are byte-stuffed.
	for n := 0; ; n++ {
		if n >= d.opts.MaxLines {
			return fail(protocols.StageCapability, "", false, protocols.ErrTooManyLines)
		}
		line, err := d.s.R.ReadLine()
		if err != nil {
			return d.readError(protocols.StageCapability, err)
		}
		if line == "." {
			return nil
		}
		line = strings.TrimPrefix(line, ".")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		info.Capabilities = append(info.Capabilities, line)
		switch strings.ToUpper(fields[0]) {
		case "STLS":
			info.STARTTLSAdvertised = true
		case "SASL":
			for _, m := range fields[1:] {
				info.AuthMechanisms = append(info.AuthMechanisms, strings.ToUpper(m))
			}
		}
	}
}

// command sends one command line and reads the status line of its
// response.
func (d *dialogue) command(stage, cmd string) (response, error) {
	if err := d.s.Send(cmd); err != nil {
		return response{}, fail(stage, "", false, d.s.IOError(err))
	}
	return d.read(stage)
}

// read reads one status line.
func (d *dialogue) read(stage string) (response, error) {
	line, err := d.s.R.ReadLine()
	if err != nil {
		return response{}, d.readError(stage, err)
	}
	r, ok := parseStatus(line)
	if !ok {
		return r, fail(stage, line, false, protocols.ErrMalformed)
	}
	return r, nil
}

func (d *dialogue) readError(stage string, err error) error {
	if err != protocols.ErrLineTooLong {
		err = d.s.IOError(err)
	}
	return fail(stage, "", false, err)
}

// response is a status line: "+OK text" or "-ERR text".
type response struct {
	ok   bool
	text string // after the status indicator and one space
	line string // the whole line
}

// parseStatus splits a status line (RFC 1939 §3: "+OK" or "-ERR", upper
// case; lower case is accepted).
func parseStatus(line string) (response, bool) {
	r := response{line: line}
	var rest string
	switch {
	case len(line) >= 3 && strings.EqualFold(line[:3], "+OK"):
		r.ok, rest = true, line[3:]
	case len(line) >= 4 && strings.EqualFold(line[:4], "-ERR"):
		rest = line[4:]
	default:
		return r, false
	}
	if rest != "" && rest[0] != ' ' {
		return r, false
	}
	r.text = strings.TrimPrefix(rest, " ")
	return r, true
}

// code returns the extended response code of a -ERR ("SYS/TEMP" from
// "-ERR [SYS/TEMP] …", RFC 2449 §8), upper case, or "".
func (r response) code() string {
	if !strings.HasPrefix(r.text, "[") {
		return ""
	}
	end := strings.IndexByte(r.text, ']')
	if end < 0 {
		return ""
	}
	return strings.ToUpper(r.text[1:end])
}

// temporary reports a -ERR whose code says "come back later": IN-USE
// (RFC 2449 §8.1.1) or SYS/TEMP (RFC 3206 §4).
func (r response) temporary() bool {
	if r.ok {
		return false
	}
	c := r.code()
	return c == "IN-USE" || c == "SYS/TEMP" || strings.HasPrefix(c, "SYS/TEMP/")
}
