package mysql

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade reads the server's greeting on a fresh connection and, when it
// offers CLIENT_SSL (or with Options.StartTLSAnyway), sends the SSL
// request packet: on success the connection is positioned at the server's
// first TLS byte — the request has no answer — and the caller's
// ClientHello goes next. Nothing past the greeting packet is read.
//
// A greeting without CLIENT_SSL is protocols.ErrNoSTARTTLS: the server
// offers no TLS, so everything the client sends, its login included, would
// cross the network in clear. A greeting that is an ERR packet is
// protocols.ErrThrottled when the server turns clients away for now (1040
// Too many connections …) and protocols.ErrUnexpectedReply otherwise
// (1130 host not allowed …).
//
// It keeps the contract of protocols.Protocol.Upgrade: bounded by ctx and
// Options.Timeout, a *protocols.Error naming the stage
// (protocols.StageGreeting, protocols.StageSTARTTLS for the request), the
// Dialogue returned also on failure. A dialogue that will not upgrade ends
// without a word: before the login, the protocol has no goodbye.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return dialogue(s, opts)
	})
}

func dialogue(s *plaintext.Session, opts protocols.Options) (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	fail := func(stage, reply string, temporary bool, err error) error {
		return &protocols.Error{Protocol: Name, Stage: stage, Reply: reply, Temporary: temporary, Err: err}
	}
	payload, err := readPacket(s, opts.MaxLine)
	if err != nil {
		return info, err
	}
	if len(payload) > 0 && payload[0] == errPacket {
		e, ok := parseErr(payload)
		if !ok {
			return info, fail(protocols.StageGreeting, protocols.QuoteReply(string(payload)), false, protocols.ErrMalformed)
		}
		info.Banner = e.String()
		if e.throttled() {
			return info, fail(protocols.StageGreeting, e.String(), true, protocols.ErrThrottled)
		}
		return info, fail(protocols.StageGreeting, e.String(), false, protocols.ErrUnexpectedReply)
	}
	g, ok := parseGreeting(payload)
	if !ok {
		return info, fail(protocols.StageGreeting, protocols.QuoteReply(string(payload)), false, protocols.ErrMalformed)
	}
	describe(info, g)
	if !info.STARTTLSAdvertised && !opts.StartTLSAnyway {
		return info, fail(protocols.StageGreeting, "", false, protocols.ErrNoSTARTTLS)
	}
	if err := s.Write(sslRequest(g)); err != nil {
		return info, fail(protocols.StageSTARTTLS, "", false, s.IOError(err))
	}
	return info, nil
}

// describe fills the Dialogue from a greeting.
func describe(info *protocols.Dialogue, g greeting) {
	info.Banner = g.version
	info.Software = guessSoftware(g.version)
	info.Capabilities = capabilityNames(g.caps)
	info.STARTTLSAdvertised = g.caps&capSSL != 0
	info.Set(AttrProtocolVersion, strconv.Itoa(int(g.protocol)))
	caps := fmt.Sprintf("0x%08x", g.caps)
	if g.caps&capLongPassword == 0 && g.protocol == protocolV10 {
		caps += fmt.Sprintf(" 0x%08x", g.extCaps)
	}
	info.Set(AttrCapabilities, caps)
	if g.authPlugin != "" {
		info.Set(AttrAuthPlugin, g.authPlugin)
		info.AuthMechanisms = []string{g.authPlugin}
		// The one plugin that sends the password as it is.
		if strings.EqualFold(g.authPlugin, "mysql_clear_password") {
			info.PlaintextAuth = []string{g.authPlugin}
		}
	}
}

// readPacket reads one packet (its header, then its payload) and nothing
// more; a payload longer than max bytes fails with
// protocols.ErrLineTooLong before it is read.
func readPacket(s *plaintext.Session, max int) ([]byte, error) {
	fail := func(reply string, err error) error {
		return &protocols.Error{Protocol: Name, Stage: protocols.StageGreeting, Reply: reply, Err: err}
	}
	var hdr [headerLen]byte
	if _, err := io.ReadFull(s.Conn(), hdr[:]); err != nil {
		return nil, fail("", s.IOError(err))
	}
	n, seq, _ := parseHeader(hdr[:])
	switch {
	case seq != 0:
		return nil, fail(fmt.Sprintf("a first packet numbered %d", seq), protocols.ErrMalformed)
	case n == 0:
		return nil, fail("an empty greeting", protocols.ErrMalformed)
	case int64(n) > int64(max):
		return nil, fail(fmt.Sprintf("a greeting of %d bytes", n), protocols.ErrLineTooLong)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(s.Conn(), payload); err != nil {
		return nil, fail("", s.IOError(err))
	}
	return payload, nil
}

// knownSoftware names the server software of a greeting's version
// string, most specific first. Oracle's MySQL names nothing ("8.0.36"),
// so an unnamed version stays unnamed.
var knownSoftware = []plaintext.Software{
	{Needle: "mariadb", Name: "MariaDB"},
	{Needle: "percona", Name: "Percona Server"},
	{Needle: "tidb", Name: "TiDB"},
	{Needle: "vitess", Name: "Vitess"},
	{Needle: "proxysql", Name: "ProxySQL"},
}

func guessSoftware(version string) string { return plaintext.GuessSoftware(knownSoftware, version) }
