package imap

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"

	goimap "github.com/emersion/go-imap"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// The tags of the commands Upgrade and Capabilities send.
const (
	tagCapability = "a1"
	tagSTARTTLS   = "a2"
	tagLogout     = "a3"
)

// Upgrade speaks IMAP on a fresh connection up to STARTTLS: it reads the
// greeting ("* OK", "* PREAUTH" or "* BYE"), takes the capabilities from
// the greeting's [CAPABILITY …] code or asks with CAPABILITY, and sends
// a tagged STARTTLS when advertised (or always, with
// Options.StartTLSAnyway). On success the tagged OK has been read to its
// line end and not a byte further: the next byte on conn is the server's
// first TLS byte, and the caller's ClientHello goes next.
//
// It keeps the contract of protocols.Protocol.Upgrade: bounded by ctx and
// Options.Timeout, a *protocols.Error naming the stage, the Dialogue
// returned also on failure. When the dialogue will not upgrade it sends
// LOGOUT first.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return (&dialogue{s: s, opts: opts}).upgrade()
	})
}

// Capabilities reads the greeting and asks for the capabilities over an
// established implicit-TLS connection (IMAPS, RFC 8314 §3.3), then sends
// LOGOUT. It is bounded like Upgrade. PlaintextAuth stays empty: nothing
// crossed the network in clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := &dialogue{s: s, opts: opts}
		info := &protocols.Dialogue{Protocol: Name}
		_, err := d.greeting(info)
		if err == nil {
			// Ask even when the greeting listed capabilities: some servers
			// list more once TLS is up, and the greeting's list may be short.
			err = d.capability(info)
		}
		if err == nil {
			d.logout()
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
	haveCaps, err := d.greeting(info)
	if err != nil {
		return info, err
	}
	if !haveCaps {
		if err := d.capability(info); err != nil {
			return info, err
		}
	}
	if info.Attributes[AttrLoginDisabled] != "true" {
		info.PlaintextAuth = []string{"LOGIN"}
	}
	for _, m := range info.AuthMechanisms {
		if !slices.Contains(info.PlaintextAuth, m) {
			info.PlaintextAuth = append(info.PlaintextAuth, m)
		}
	}
	if !d.opts.StartTLSAnyway {
		if info.Attributes[AttrGreeting] == "PREAUTH" {
			d.logout()
			return info, fail(protocols.StageGreeting, "* PREAUTH "+info.Banner, false, protocols.ErrNoSTARTTLS)
		}
		if !info.STARTTLSAdvertised {
			d.logout()
			return info, fail(protocols.StageCapability, "", false, protocols.ErrNoSTARTTLS)
		}
	}
	st, raw, err := d.command(protocols.StageSTARTTLS, tagSTARTTLS, "STARTTLS", info)
	if err != nil {
		return info, err
	}
	if st.Type == goimap.StatusRespOk {
		// The raw connection is taken over here: the tagged OK has been
		// read up to its LF and not a byte further, and TLS negotiation
		// begins right after that CRLF (RFC 3501 §6.2.1). No TLS byte has
		// been read or written.
		return info, nil
	}
	// NO or BAD (RFC 3501 §6.2.1: "BAD - command unknown or arguments
	// invalid").
	d.logout()
	return info, fail(protocols.StageSTARTTLS, raw, st.Code == "UNAVAILABLE", protocols.ErrSTARTTLSRefused)
}

// greeting reads the greeting (RFC 3501 §7.1: an untagged OK, PREAUTH or
// BYE). It reports whether the greeting carried the capabilities.
func (d *dialogue) greeting(info *protocols.Dialogue) (bool, error) {
	resp, raw, err := d.read(protocols.StageGreeting)
	if err != nil {
		return false, err
	}
	st, ok := asStatus(resp)
	if !ok || st.Tag != "*" {
		return false, fail(protocols.StageGreeting, raw, false, protocols.ErrUnexpectedReply)
	}
	info.Set(AttrGreeting, string(st.Type))
	info.Banner = st.Info
	info.Software = guessSoftware(st.Info)
	switch st.Type {
	case goimap.StatusRespOk, goimap.StatusRespPreauth:
	case goimap.StatusRespBye:
		return false, fail(protocols.StageGreeting, raw, true, protocols.ErrThrottled)
	default:
		return false, fail(protocols.StageGreeting, raw, false, protocols.ErrUnexpectedReply)
	}
	if st.Code == goimap.CodeCapability {
		setCapabilities(info, st.Arguments)
		return true, nil
	}
	return false, nil
}

// capability asks for the capabilities (RFC 3501 §6.1.1). A NO or BAD
// leaves them empty: the scan goes on and the STARTTLS decision is made on
// what is known.
func (d *dialogue) capability(info *protocols.Dialogue) error {
	_, _, err := d.command(protocols.StageCapability, tagCapability, "CAPABILITY", info)
	return err
}

// command sends "tag cmd" and reads responses up to the tagged one,
// collecting capabilities on the way. An untagged BYE ends the dialogue
// with ErrThrottled.
func (d *dialogue) command(stage, tag, cmd string, info *protocols.Dialogue) (*goimap.StatusResp, string, error) {
	if err := d.s.Send(tag + " " + cmd); err != nil {
		return nil, "", fail(stage, "", false, d.s.IOError(err))
	}
	for range d.opts.MaxLines {
		resp, raw, err := d.read(stage)
		if err != nil {
			return nil, raw, err
		}
		if st, ok := asStatus(resp); ok {
			switch {
			case st.Tag == tag:
				return st, raw, nil
			case st.Tag == "*" && st.Type == goimap.StatusRespBye:
				return nil, raw, fail(stage, raw, true, protocols.ErrThrottled)
			case st.Code == goimap.CodeCapability:
				setCapabilities(info, st.Arguments)
			}
			continue
		}
		switch resp := resp.(type) {
		case *goimap.DataResp:
			if name, fields, ok := goimap.ParseNamedResp(resp); ok && strings.EqualFold(name, "CAPABILITY") {
				setCapabilities(info, fields)
			}
		case *goimap.ContinuationReq:
			return nil, raw, fail(stage, raw, false, protocols.ErrUnexpectedReply)
		}
	}
	return nil, "", fail(stage, "", false, protocols.ErrTooManyLines)
}

// logout politely ends a dialogue that will not upgrade.
func (d *dialogue) logout() {
	d.s.Quit(tagLogout + " LOGOUT\r\n")
}

// read reads one response and parses it with go-imap.
func (d *dialogue) read(stage string) (goimap.Resp, string, error) {
	raw, err := d.readRaw()
	if err != nil {
		if err != protocols.ErrLineTooLong {
			err = d.s.IOError(err)
		}
		return nil, "", fail(stage, "", false, err)
	}
	resp, err := parseResp(raw)
	line := strings.TrimRight(raw, "\r\n")
	if err != nil {
		return nil, line, fail(stage, line, false, fmt.Errorf("%w (%v)", protocols.ErrMalformed, err))
	}
	return resp, line, nil
}

// parseResp parses one response (with its CRLF) with go-imap's reader.
func parseResp(raw string) (goimap.Resp, error) {
	return goimap.ReadResp(goimap.NewReader(bufio.NewReader(strings.NewReader(raw))))
}

// readRaw reads one response: a line, and when it ends with a literal
// announcement "{n}" (RFC 3501 §4.3; "{n+}", RFC 7888) the n bytes and the
// rest of the response, all within Options.MaxLine.
func (d *dialogue) readRaw() (string, error) {
	var b strings.Builder
	for {
		line, err := d.s.R.ReadLine()
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		b.WriteString("\r\n")
		if b.Len() > d.opts.MaxLine {
			return "", protocols.ErrLineTooLong
		}
		n, ok := literalSize(line)
		if !ok {
			return b.String(), nil
		}
		if n > d.opts.MaxLine-b.Len() {
			return "", protocols.ErrLineTooLong
		}
		for range n {
			c, err := d.s.R.ReadByte()
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return "", err
			}
			b.WriteByte(c)
		}
	}
}

// literalSize reports the size of the literal a line ends with.
func literalSize(line string) (int, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	num := strings.TrimSuffix(line[i+1:len(line)-1], "+")
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || num == "" || num[0] == '+' || num[0] == '-' {
		return 0, false
	}
	return n, true
}

// asStatus returns resp as a status response. go-imap parses a status
// without text ("* OK", "a2 OK") or in lower case as a data response; this
// takes those back.
func asStatus(resp goimap.Resp) (*goimap.StatusResp, bool) {
	switch r := resp.(type) {
	case *goimap.StatusResp:
		return r, true
	case *goimap.DataResp:
		if len(r.Fields) == 0 {
			return nil, false
		}
		name, ok := r.Fields[0].(string)
		if !ok {
			return nil, false
		}
		switch t := goimap.StatusRespType(strings.ToUpper(name)); t {
		case goimap.StatusRespOk, goimap.StatusRespNo, goimap.StatusRespBad, goimap.StatusRespPreauth, goimap.StatusRespBye:
			var words []string
			for _, f := range r.Fields[1:] {
				if s, ok := f.(string); ok {
					words = append(words, s)
				}
			}
			return &goimap.StatusResp{Tag: r.Tag, Type: t, Info: strings.Join(words, " ")}, true
		}
	}
	return nil, false
}

// setCapabilities replaces the capabilities with a CAPABILITY list (RFC
// 3501 §7.2.1), and derives STARTTLS, LOGINDISABLED and AUTH=.
func setCapabilities(info *protocols.Dialogue, fields []interface{}) {
	info.Capabilities, info.AuthMechanisms = nil, nil
	info.STARTTLSAdvertised = false
	loginDisabled := false
	for _, f := range fields {
		s, ok := f.(string)
		if !ok || s == "" {
			continue
		}
		info.Capabilities = append(info.Capabilities, s)
		u := strings.ToUpper(s)
		switch {
		case u == "STARTTLS":
			info.STARTTLSAdvertised = true
		case u == "LOGINDISABLED":
			loginDisabled = true
		case strings.HasPrefix(u, "AUTH=") && len(u) > len("AUTH="):
			info.AuthMechanisms = append(info.AuthMechanisms, u[len("AUTH="):])
		}
	}
	info.Set(AttrLoginDisabled, strconv.FormatBool(loginDisabled))
}
