package xmpp

import (
	"context"
	"encoding/xml"
	"net"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// upgrade speaks XMPP of kind k on a fresh connection up to STARTTLS
// (RFC 6120 §5.4): it opens the stream to the domain (Options.Domain,
// else Options.Host, else the address the connection goes to), reads the
// server's stream header and features, and sends <starttls/> when the
// features offer it (or always, with Options.StartTLSAnyway). On
// <proceed/> the element has been read to its last '>' and not a byte
// further: the next byte on conn is the server's first TLS byte (§5.4.3.3),
// and the caller's ClientHello goes next.
//
// The dialogue is bounded by ctx and Options.Timeout (upgrade sets conn's
// deadline and clears it on return); cancelling ctx closes conn. It
// never closes conn otherwise. When the dialogue will not upgrade it
// closes the stream (</stream:stream>) first. The error is a
// *protocols.Error naming the stage; the stream errors resource-constraint,
// system-shutdown, connection-timeout and policy-violation are
// protocols.ErrThrottled.
func (k kind) upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, k.name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return newDialogue(s, conn, opts, k).upgrade()
	})
}

// capabilities reads the stream header and features over an established
// implicit-TLS connection (direct TLS, XEP-0368), then closes the stream.
// It is bounded like upgrade. PlaintextAuth stays empty: nothing crossed
// the network in clear.
func (k kind) capabilities(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, k.name, protocols.StageCapability, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		d := newDialogue(s, conn, opts, k)
		info := &protocols.Dialogue{Protocol: k.name}
		if err := d.open(info); err != nil {
			return info, err
		}
		if err := d.features(info); err != nil {
			return info, err
		}
		d.close()
		return info, nil
	})
}

type dialogue struct {
	s      *plaintext.Session
	opts   protocols.Options
	k      kind
	tr     *tokenReader
	domain string
}

func newDialogue(s *plaintext.Session, conn net.Conn, opts protocols.Options, k kind) *dialogue {
	domain := opts.Domain
	if domain == "" {
		domain = opts.Host
	}
	if domain == "" {
		// An address literal is a domainpart too (RFC 7622 §3.2.1).
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			domain = a.IP.String()
		}
	}
	return &dialogue{s: s, opts: opts, k: k, tr: newTokenReader(s.R, opts.MaxLine), domain: domain}
}

// fail is the error of stage.
func (d *dialogue) fail(stage, reply string, temporary bool, err error) error {
	return &protocols.Error{Protocol: d.k.name, Stage: stage, Reply: reply, Temporary: temporary, Err: err}
}

func (d *dialogue) upgrade() (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: d.k.name}
	if err := d.open(info); err != nil {
		return info, err
	}
	if err := d.features(info); err != nil {
		return info, err
	}
	info.PlaintextAuth = slices.Clone(info.AuthMechanisms)
	if !info.STARTTLSAdvertised && !d.opts.StartTLSAnyway {
		d.close()
		return info, d.fail(protocols.StageCapability, "", false, protocols.ErrNoSTARTTLS)
	}
	// RFC 6120 §5.4.2.1. Nothing may follow it, not even whitespace: the
	// server reads the next byte as TLS.
	if err := d.s.Write([]byte("<starttls xmlns='" + nsTLS + "'/>")); err != nil {
		return info, &protocols.Error{Protocol: d.k.name, Stage: protocols.StageSTARTTLS, Err: d.s.IOError(err)}
	}
	se, err := d.element(protocols.StageSTARTTLS, info)
	if err != nil {
		return info, err
	}
	switch {
	case is(se, nsTLS, "proceed"):
		// §5.4.2.3: TLS starts right after the element; read its end
		// (none is read for <proceed/>, which encoding/xml closes itself).
		if err := d.skip(protocols.StageSTARTTLS, 0); err != nil {
			return info, err
		}
		return info, nil
	case is(se, nsTLS, "failure"):
		// §5.4.2.2: the server closes the stream and the connection; the
		// client closes its stream too.
		d.close()
		return info, d.fail(protocols.StageSTARTTLS, "<failure xmlns='"+nsTLS+"'/>", false, protocols.ErrSTARTTLSRefused)
	}
	d.close()
	return info, d.fail(protocols.StageSTARTTLS, "<"+se.Name.Local+">", false, protocols.ErrUnexpectedReply)
}

// open sends the stream header and reads the server's (RFC 6120 §4.7):
// an optional XML declaration, then <stream:stream> of the kind's
// namespace.
func (d *dialogue) open(info *protocols.Dialogue) error {
	info.Set(AttrDomain, d.domain)
	var b strings.Builder
	b.WriteString(d.k.header)
	_ = xml.EscapeText(&b, []byte(d.domain))
	b.WriteString("'>")
	if err := d.s.Write([]byte(b.String())); err != nil {
		return &protocols.Error{Protocol: d.k.name, Stage: protocols.StageGreeting, Err: d.s.IOError(err)}
	}
	for n := 0; ; n++ {
		if n >= d.opts.MaxLines {
			return d.fail(protocols.StageGreeting, "", false, protocols.ErrTooManyLines)
		}
		tok, err := d.next(protocols.StageGreeting)
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.ProcInst, xml.Comment:
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) > 0 {
				return d.fail(protocols.StageGreeting, protocols.QuoteReply(string(t)), false, protocols.ErrMalformed)
			}
		case xml.StartElement:
			if !is(t, nsStreams, "stream") {
				return d.fail(protocols.StageGreeting, "<"+t.Name.Local+">", false, protocols.ErrMalformed)
			}
			if ns := attr(t, "xmlns"); ns != "" && ns != d.k.ns {
				d.close()
				return d.fail(protocols.StageGreeting, "stream of "+ns, false, protocols.ErrUnexpectedReply)
			}
			info.Banner = attr(t, "from")
			info.Set(AttrFrom, info.Banner)
			info.Set(AttrVersion, attr(t, "version"))
			return nil
		default:
			return d.fail(protocols.StageGreeting, "", false, protocols.ErrMalformed)
		}
	}
}

// features reads <stream:features> (RFC 6120 §4.3.2), or the stream error
// the server sends instead.
func (d *dialogue) features(info *protocols.Dialogue) error {
	stage := protocols.StageCapability
	se, err := d.element(stage, info)
	if err != nil {
		return err
	}
	if !is(se, nsStreams, "features") {
		d.close()
		return d.fail(stage, "<"+se.Name.Local+">", false, protocols.ErrUnexpectedReply)
	}
	budget := d.opts.MaxLines
	for {
		tok, err := d.counted(stage, &budget)
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil // </stream:features>
		case xml.StartElement:
			if err := d.feature(t, info, &budget); err != nil {
				return err
			}
		}
	}
}

// feature reads one feature, its start element read.
func (d *dialogue) feature(se xml.StartElement, info *protocols.Dialogue, budget *int) error {
	stage := protocols.StageCapability
	capability := se.Name.Local + " " + se.Name.Space
	var texts []string // the texts of its children, for <mechanism>
	required := false
	for depth := 1; depth > 0; {
		tok, err := d.counted(stage, budget)
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "required" {
				required = true
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); s != "" && depth == 2 {
				texts = append(texts, s)
			}
		}
	}
	switch {
	case is(se, nsTLS, "starttls"):
		info.STARTTLSAdvertised = true
		info.Set(AttrStartTLS, "optional")
		if required {
			info.Set(AttrStartTLS, "required")
			capability += " required"
		}
	case is(se, nsSASL, "mechanisms"):
		for _, m := range texts {
			if m = strings.ToUpper(m); !slices.Contains(info.AuthMechanisms, m) {
				info.AuthMechanisms = append(info.AuthMechanisms, m)
			}
		}
		capability += " " + strings.Join(texts, " ")
	case is(se, nsIQAuth, "auth"):
		// XEP-0078: a password, in clear or digested, with no SASL.
		if !slices.Contains(info.AuthMechanisms, "IQ-AUTH") {
			info.AuthMechanisms = append(info.AuthMechanisms, "IQ-AUTH")
		}
	case is(se, nsCaps, "c"):
		node := attr(se, "node")
		capability += " node=" + node
		if info.Software == "" {
			info.Software = guessSoftware(node)
		}
	}
	info.Capabilities = append(info.Capabilities, strings.TrimSpace(capability))
	return nil
}

// element returns the next element at the stream's top level (whitespace
// between is allowed, RFC 6120 §4.6.1), turning a stream error into the
// error of stage (§4.9).
func (d *dialogue) element(stage string, info *protocols.Dialogue) (xml.StartElement, error) {
	for n := 0; ; n++ {
		if n >= d.opts.MaxLines {
			return xml.StartElement{}, d.fail(stage, "", false, protocols.ErrTooManyLines)
		}
		tok, err := d.next(stage)
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return xml.StartElement{}, d.fail(stage, protocols.QuoteReply(string(t)), false, protocols.ErrMalformed)
			}
		case xml.EndElement:
			// </stream:stream>: the server closed the stream.
			return xml.StartElement{}, d.fail(stage, "</stream:stream>", false, protocols.ErrUnexpectedReply)
		case xml.StartElement:
			if is(t, nsStreams, "error") {
				return t, d.streamError(stage, info)
			}
			return t, nil
		}
	}
}

// throttling are the stream error conditions of a server shedding load
// (RFC 6120 §4.9.3): come back later.
var throttling = []string{"resource-constraint", "system-shutdown", "connection-timeout", "policy-violation"}

// streamError reads a stream error's condition and text (RFC 6120 §4.9.2)
// and returns the error it means at stage.
func (d *dialogue) streamError(stage string, info *protocols.Dialogue) error {
	condition, text := "", ""
	budget := d.opts.MaxLines
	for depth := 1; depth > 0; {
		tok, err := d.counted(stage, &budget)
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Space == nsErrors && t.Name.Local != "text" && condition == "" {
				condition = t.Name.Local
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 2 {
				text += string(t)
			}
		}
	}
	info.Set(AttrStreamError, condition)
	reply := "stream error " + condition
	if text = strings.TrimSpace(text); text != "" {
		reply += ": " + text
	}
	switch {
	case slices.Contains(throttling, condition):
		return d.fail(stage, reply, true, protocols.ErrThrottled)
	case condition == "host-unknown" || condition == "host-gone":
		// RFC 6120 §4.9.3.6, §4.9.3.5: the stream's to= names a domain
		// the server does not (or no longer) serve.
		return d.fail(stage, reply, false, protocols.ErrUnknownDomain)
	}
	return d.fail(stage, reply, false, protocols.ErrUnexpectedReply)
}

// skip reads to the end of the element just started (depth 0 within it).
func (d *dialogue) skip(stage string, depth int) error {
	budget := d.opts.MaxLines
	for depth >= 0 {
		tok, err := d.counted(stage, &budget)
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// counted reads the next token, one of budget.
func (d *dialogue) counted(stage string, budget *int) (xml.Token, error) {
	if *budget--; *budget < 0 {
		return nil, d.fail(stage, "", false, protocols.ErrTooManyLines)
	}
	return d.next(stage)
}

// next reads the next token, turning failures into an *Error of stage.
func (d *dialogue) next(stage string) (xml.Token, error) {
	tok, err := d.tr.next()
	switch err {
	case nil:
		return tok, nil
	case protocols.ErrLineTooLong, protocols.ErrMalformed:
		return nil, d.fail(stage, "", false, err)
	}
	return nil, &protocols.Error{Protocol: d.k.name, Stage: stage, Err: d.s.IOError(err)}
}

// close ends the stream politely (RFC 6120 §4.4) and waits a little for
// the server's close.
func (d *dialogue) close() { d.s.Quit("</stream:stream>") }
