package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/proxyproto"
	"github.com/tlsmap/tlsmap/scan"
)

// mailFlags are the mail options of tlsmap scan (docs/mail.md).
type mailFlags struct {
	starttls   protocolFlag
	helo       *string
	anyway     *bool
	xmppDomain *string
	probe      *bool
	proxy      proxyProtocolFlag
}

// proxyProtocolFlag is scan's --proxy-protocol: v1 or v2.
type proxyProtocolFlag struct {
	checked
	v proxyproto.Version
}

func (f *proxyProtocolFlag) String() string {
	if f.v == 0 {
		return ""
	}
	return f.v.String()
}

func (f *proxyProtocolFlag) Set(s string) error {
	v, err := proxyproto.ParseVersion(strings.ToLower(s))
	if err != nil {
		return f.fail(fmt.Errorf("--proxy-protocol: %w", err), "v1 is the text header (HAProxy send-proxy), v2 the binary one (send-proxy-v2)")
	}
	f.v = v
	return nil
}

// protocolFlag is --starttls: the STARTTLS protocol of bare host:port
// targets, or auto (the protocol found from what the port answers).
type protocolFlag struct{ p scan.Protocol }

func (f *protocolFlag) String() string { return string(f.p) }

func (f *protocolFlag) Set(s string) error {
	p := scan.Protocol(s)
	if !p.STARTTLS() && p != scan.ProtoAuto {
		names := append(starttlsNames(), string(scan.ProtoAuto))
		return fmt.Errorf("want %s or %s, not %q", strings.Join(names[:len(names)-1], ", "), names[len(names)-1], s)
	}
	f.p = p
	return nil
}

// starttlsNames are the registered STARTTLS schemes (smtp, submission,
// imap, pop3).
func starttlsNames() []string {
	var names []string
	for _, p := range scan.STARTTLSProtocols() {
		names = append(names, string(p))
	}
	return names
}

// addMailFlags registers --starttls, --helo, --starttls-anyway,
// --xmpp-domain, --login-probe and --proxy-protocol on fs.
func addMailFlags(fs *flag.FlagSet) *mailFlags {
	m := &mailFlags{}
	fs.Var(&m.starttls, "starttls", "`protocol` ("+strings.Join(starttlsNames(), ", ")+") of bare host:port targets: upgrade with STARTTLS before TLS; auto finds each port's protocol from what it answers")
	m.helo = fs.String("helo", "", "`name` sent with SMTP EHLO/HELO (default tlsmap.invalid)")
	m.anyway = fs.Bool("starttls-anyway", false, "send STARTTLS (STLS) even when the server does not advertise it")
	m.xmppDomain = fs.String("xmpp-domain", "", "XMPP `domain` named in the stream header (default: the target's host name)")
	fs.Var(&m.proxy, "proxy-protocol", "send a PROXY protocol `version` header (v1 or v2) first on every connection, for backends that require one")
	m.probe = fs.Bool("login-probe", true, "once per endpoint, try a login with a made-up name before TLS (LDAP simple bind, FTP USER) to learn whether the server takes passwords in clear")
	return m
}

// apply sets the target protocol of bare targets and a dialer whose
// dialogues (the registered protocols') take these options; opts.Timeout
// bounds each connection and its dialogue (0: scan.DefaultTimeout).
func (m *mailFlags) apply(opts *scan.Options, topts *scan.TargetOptions) {
	if m.starttls.p != "" {
		topts.STARTTLS = m.starttls.p
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = scan.DefaultTimeout
	}
	opts.Dialer = &scan.NetDialer{
		Timeout:       timeout,
		Dialogue:      protocols.Options{ClientName: *m.helo, StartTLSAnyway: *m.anyway, Timeout: timeout, Domain: *m.xmppDomain, Probe: *m.probe},
		ProxyProtocol: m.proxy.v,
	}
}
