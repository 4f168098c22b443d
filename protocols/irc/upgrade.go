package irc

import (
	"context"
	"net"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade speaks IRC on a fresh connection up to STARTTLS. It waits for
// no greeting: it sends CAP LS 302 at once (which holds registration
// until CAP END, so the server never expects NICK and USER), reads up to
// the end of the CAP LS reply — or a 421 or 451, a server without
// capability negotiation: the capabilities are then unknown — and sends
// STARTTLS when they list tls, when they are unknown, or with
// Options.StartTLSAnyway. On success the 670 reply (RPL_STARTTLS) has
// been read to its line end and not a byte further: the next byte on
// conn is the server's first TLS byte, and the caller's ClientHello goes
// next; nothing is sent after STARTTLS. 691 (ERR_STARTTLS), 421 and 451
// to STARTTLS are refusals.
//
// NOTICEs are skipped at any point (the first ones are the Banner), and
// PING is answered with PONG. The sasl capability listed before TLS is
// PlaintextAuth: its mechanisms, or "SASL" when it names none.
//
// The dialogue is bounded by ctx and Options.Timeout (Upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. Upgrade
// never closes conn otherwise. When the dialogue will not upgrade it
// sends QUIT first. The error is a *protocols.Error naming the stage
// (protocols.StageGreeting while the server has said nothing yet); an
// ERROR that says the client reconnects too fast or is throttled, 465
// (ERR_YOUREBANNEDCREEP) and 263 (RPL_TRYAGAIN) are
// protocols.ErrThrottled, another ERROR (the server closing the link)
// protocols.ErrUnexpectedReply.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return newDialogue(s, opts).upgrade()
	})
}

// Capabilities runs CAP LS 302 over an established implicit-TLS
// connection (ircs, RFC 7194), then sends QUIT. It is bounded like
// Upgrade. PlaintextAuth stays empty: nothing crossed the network in
// clear.
func Capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := newDialogue(s, opts)
		_, err := d.capabilities()
		if err == nil {
			d.quit()
		}
		return d.info, err
	})
}

// maxBanner is the number of NOTICEs kept in the Banner.
const maxBanner = 4

type dialogue struct {
	s       *plaintext.Session
	opts    protocols.Options
	info    *protocols.Dialogue
	heard   bool // the server sent a line
	notices int
}

func newDialogue(s *plaintext.Session, opts protocols.Options) *dialogue {
	return &dialogue{s: s, opts: opts, info: &protocols.Dialogue{Protocol: Name}}
}

// at is the stage to report: StageGreeting until the server's first line.
func (d *dialogue) at(stage string) string {
	if !d.heard {
		return protocols.StageGreeting
	}
	return stage
}

// fail is the error of stage, with the message that ended it.
func fail(stage string, m message, temporary bool, err error) error {
	return &protocols.Error{Protocol: Name, Stage: stage, Reply: m.line, Temporary: temporary, Err: err}
}

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := d.info
	listed, err := d.capabilities()
	if err != nil {
		return info, err
	}
	d.plaintextAuth()
	if listed && !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.quit()
		return info, &protocols.Error{Protocol: Name, Stage: protocols.StageCapability, Err: protocols.ErrNoSTARTTLS}
	}
	if err := d.send(protocols.StageSTARTTLS, "STARTTLS"); err != nil {
		return info, err
	}
	for lines := 0; ; {
		m, err := d.next(protocols.StageSTARTTLS, &lines)
		if err != nil {
			return info, err
		}
		switch m.command {
		case "670":
			// RPL_STARTTLS: TLS starts right after this line, which has
			// been read up to its LF and no further.
			return info, nil
		case "691", "421", "451":
			// ERR_STARTTLS; ERR_UNKNOWNCOMMAND; ERR_NOTREGISTERED (a
			// server that takes no command but registration's before it).
			d.quit()
			return info, fail(protocols.StageSTARTTLS, m, false, protocols.ErrSTARTTLSRefused)
		}
		// Anything else (RPL_HELLO 020, a late numeric) is not the answer.
	}
}

// capabilities sends CAP LS 302 and reads the reply (IRCv3 capability
// negotiation): "CAP <target> LS [*] :<caps>", a "*" before the last
// parameter announcing more lines. It reports whether the server listed
// them; 421 or 451 (no CAP command) leaves them unknown.
func (d *dialogue) capabilities() (listed bool, err error) {
	if err := d.send(protocols.StageCapability, "CAP LS 302"); err != nil {
		return false, err
	}
	for lines := 0; ; {
		m, err := d.next(protocols.StageCapability, &lines)
		if err != nil {
			return false, err
		}
		switch {
		case m.command == "CAP" && len(m.params) >= 2 && strings.EqualFold(m.params[1], "LS"):
			if name := m.serverName(); name != "" {
				d.info.Set(AttrServer, plaintext.Sanitize([]byte(name)))
			}
			if len(m.params) >= 3 {
				for _, c := range strings.Fields(m.trailing()) {
					d.capability(c)
				}
			}
			if len(m.params) < 4 || m.params[2] != "*" {
				d.info.Set(AttrCapabilities, "listed")
				d.info.Software = guessSoftware(strings.Join(d.info.Capabilities, " ") + "\n" + d.info.Banner)
				return true, nil
			}
		case m.command == "421" || m.command == "451":
			d.info.Set(AttrCapabilities, protocols.QuoteReply(m.line))
			d.info.Software = guessSoftware(d.info.Banner)
			return false, nil
		}
	}
}

// capability records one capability of the CAP LS reply ("tls",
// "sasl=PLAIN,EXTERNAL", "sts=port=6697").
func (d *dialogue) capability(c string) {
	info := d.info
	info.Capabilities = append(info.Capabilities, plaintext.Sanitize([]byte(c)))
	name, value, _ := strings.Cut(c, "=")
	switch strings.ToLower(name) {
	case "tls":
		info.STARTTLSAdvertised = true
	case "sasl":
		info.Set(AttrSASL, plaintext.Sanitize([]byte(c)))
		for _, mech := range strings.Split(value, ",") {
			if mech = strings.ToUpper(strings.TrimSpace(mech)); mech != "" && !slices.Contains(info.AuthMechanisms, mech) {
				info.AuthMechanisms = append(info.AuthMechanisms, plaintext.Sanitize([]byte(mech)))
			}
		}
	case "sts":
		info.Set(AttrSTS, plaintext.Sanitize([]byte(value)))
	}
}

// plaintextAuth fills PlaintextAuth from the sasl capability listed
// before TLS: its mechanisms, or "SASL" when it names none.
func (d *dialogue) plaintextAuth() {
	if _, ok := d.info.Attributes[AttrSASL]; !ok {
		return
	}
	if len(d.info.AuthMechanisms) == 0 {
		d.info.PlaintextAuth = []string{"SASL"}
		return
	}
	d.info.PlaintextAuth = append([]string(nil), d.info.AuthMechanisms...)
}

// next reads the server's next message that is not noise, counting the
// lines read for one answer in *lines (more than MaxLines is
// protocols.ErrTooManyLines). NOTICEs are skipped (the first maxBanner
// make the Banner), empty lines too (RFC 2812 §2.3.1), and PING is
// answered with PONG. An ERROR ends the dialogue (the server closes the
// link; throttling when its text says so), and so do 465 and 263
// (throttling).
func (d *dialogue) next(stage string, lines *int) (message, error) {
	for {
		st := d.at(stage)
		if *lines >= d.opts.MaxLines {
			return message{}, &protocols.Error{Protocol: Name, Stage: st, Err: protocols.ErrTooManyLines}
		}
		*lines++
		line, err := d.s.R.ReadLine()
		if err != nil {
			e := &protocols.Error{Protocol: Name, Stage: st, Err: err}
			if err != protocols.ErrLineTooLong {
				e.Err = d.s.IOError(err)
			}
			return message{}, e
		}
		d.heard = true
		if line == "" {
			continue
		}
		m, ok := parseMessage(line)
		if !ok || !m.fromServer() {
			return m, &protocols.Error{Protocol: Name, Stage: st, Reply: line, Err: protocols.ErrMalformed}
		}
		if name := m.serverName(); name != "" && d.info.Attributes[AttrServer] == "" {
			d.info.Set(AttrServer, plaintext.Sanitize([]byte(name)))
		}
		switch m.command {
		case "NOTICE":
			if d.notices < maxBanner && stage != protocols.StageSTARTTLS {
				d.notices++
				if d.info.Banner != "" {
					d.info.Banner += "\n"
				}
				d.info.Banner += plaintext.Sanitize([]byte(m.trailing()))
			}
			continue
		case "PING":
			if err := d.send(stage, "PONG :"+m.trailing()); err != nil {
				return m, err
			}
			continue
		case "ERROR":
			if throttling(m.trailing()) {
				return m, fail(st, m, true, protocols.ErrThrottled)
			}
			return m, fail(st, m, false, protocols.ErrUnexpectedReply)
		case "465", "263":
			// ERR_YOUREBANNEDCREEP (connection refused for this address,
			// often a connection limit); RPL_TRYAGAIN (server load).
			return m, fail(st, m, true, protocols.ErrThrottled)
		}
		return m, nil
	}
}

// throttling reports whether the text of an ERROR says the server turns
// the client away for now: too many connections, reconnecting too fast.
func throttling(text string) bool {
	text = strings.ToLower(text)
	for _, w := range []string{"throttl", "too fast", "too many", "reconnect", "try again", "connection limit"} {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// send sends one command line.
func (d *dialogue) send(stage, cmd string) error {
	if err := d.s.Send(cmd); err != nil {
		return &protocols.Error{Protocol: Name, Stage: d.at(stage), Err: d.s.IOError(err)}
	}
	return nil
}

// quit politely ends a dialogue that will not upgrade (RFC 2812 §3.1.7).
func (d *dialogue) quit() { d.s.Quit("QUIT\r\n") }
