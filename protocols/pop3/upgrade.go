package pop3

import (
	"context"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
	"net"
	"slices"
	"strings"
)

// Upgrade speaks POP3 on a fresh connection up to STLS: it reads the +OK
// greeting, sends CAPA (a -ERR leaves the capabilities empty), and STLS
// when advertised (or always, with Options.StartTLSAnyway). On success the
// +OK to STLS has been read to its line end and not a byte further: the
// next byte on conn is the server's first TLS byte, and the caller's
// ClientHello goes next.
//
// The dialogue is bounded by ctx and Options.Timeout (Upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. Upgrade
// never closes conn otherwise. When the dialogue will not upgrade it sends
// QUIT first.
//
// The error is an *Error naming the stage; errors.Is matches
// ErrNoSTARTTLS, ErrSTARTTLSRefused, ErrThrottled and the other sentinels.
// Info is returned with whatever was learnt, also on error.
func Upgrade(ctx context.Context, conn net.Conn, opts Options) (*Info, error) {
	opts = opts.withDefaults()
	s := plaintext.Start(ctx, conn, opts.Timeout)
	d := &dialogue{s: s, lr: plaintext.NewLineReader(conn, opts.MaxLine, ErrLineTooLong), opts: opts}
	info, err := d.upgrade()
	if !s.End() && err == nil {
		err = &Error{Stage: StageSTARTTLS, Err: context.Cause(ctx)}
	}
	return info, err
}

// Capabilities reads the greeting and the CAPA list over an established
// implicit-TLS connection (POP3S, RFC 8314 §3.3), then sends QUIT. It is
// bounded like Upgrade. Info.PlaintextAuth stays empty: nothing crossed the
// network in clear.
func Capabilities(ctx context.Context, conn net.Conn, opts Options) (*Info, error) {
	opts = opts.withDefaults()
	s := plaintext.Start(ctx, conn, opts.Timeout)
	d := &dialogue{s: s, lr: plaintext.NewLineReader(conn, opts.MaxLine, ErrLineTooLong), opts: opts}
	info := &Info{}
	err := d.greeting(info)
	if err == nil {
		err = d.capa(info)
	}
	if err == nil {
		d.s.Quit(d.lr, "QUIT\r\n")
	}
	if !s.End() && err == nil {
		err = &Error{Stage: StageCapability, Err: context.Cause(ctx)}
	}
	return info, err
}

type dialogue struct {
	s    *plaintext.Session
	lr   *plaintext.LineReader
	opts Options
}

func (d *dialogue) upgrade() (*Info, error) {
	info := &Info{}
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
		d.s.Quit(d.lr, "QUIT\r\n")
		return info, &Error{Stage: StageCapability, Err: ErrNoSTARTTLS}
	}
	r, err := d.command(StageSTARTTLS, "STLS")
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
		return info, &Error{Stage: StageSTARTTLS, Reply: r.line, Temporary: true, Err: ErrThrottled}
	}
	d.s.Quit(d.lr, "QUIT\r\n")
	return info, &Error{Stage: StageSTARTTLS, Reply: r.line, Err: ErrSTARTTLSRefused}
}

// greeting reads the +OK greeting (RFC 1939 §4). A -ERR instead is a
// server turning connections away.
func (d *dialogue) greeting(info *Info) error {
	r, err := d.read(StageGreeting)
	if err != nil {
		return err
	}
	info.Banner = r.text
	info.Software = guessSoftware(r.text)
	if r.ok {
		// RFC 1939 §7: the APOP timestamp is a msg-id, "<…@…>".
		if i := strings.IndexByte(r.text, '<'); i >= 0 {
			j := strings.IndexByte(r.text[i:], '>')
			info.APOP = j > 0 && strings.Contains(r.text[i:i+j], "@")
		}
		return nil
	}
	switch r.code() {
	case "SYS/PERM", "AUTH":
		return &Error{Stage: StageGreeting, Reply: r.line, Err: ErrUnexpectedReply}
	}
	return &Error{Stage: StageGreeting, Reply: r.line, Temporary: true, Err: ErrThrottled}
}

// capa asks for the capabilities (RFC 2449 §5). -ERR (a server older than
// RFC 2449) leaves them empty.
func (d *dialogue) capa(info *Info) error {
	r, err := d.command(StageCapability, "CAPA")
	if err != nil {
		return err
	}
	if !r.ok {
		if r.temporary() {
			return &Error{Stage: StageCapability, Reply: r.line, Temporary: true, Err: ErrThrottled}
		}
		return nil
	}
	// RFC 1939 §3: a multi-line response ends with a line holding a single
	// "."; lines starting with "." are byte-stuffed.
	for n := 0; ; n++ {
		if n >= d.opts.MaxLines {
			return &Error{Stage: StageCapability, Err: ErrTooManyLines}
		}
		line, err := d.lr.ReadLine()
		if err != nil {
			return d.readError(StageCapability, err)
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
		return response{}, &Error{Stage: stage, Err: d.s.IOError(err)}
	}
	return d.read(stage)
}

// read reads one status line.
func (d *dialogue) read(stage string) (response, error) {
	line, err := d.lr.ReadLine()
	if err != nil {
		return response{}, d.readError(stage, err)
	}
	r, ok := parseStatus(line)
	if !ok {
		return r, &Error{Stage: stage, Reply: line, Err: ErrMalformed}
	}
	return r, nil
}

func (d *dialogue) readError(stage string, err error) error {
	if err == ErrLineTooLong {
		return &Error{Stage: stage, Err: err}
	}
	return &Error{Stage: stage, Err: d.s.IOError(err)}
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
