package scan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/proxyproto"
)

// Dialer opens the connections of a scan. The connection it returns is
// positioned at the first byte of the TLS handshake: for STARTTLS
// protocols the plaintext dialogue is done. Implementations must honour
// ctx for the whole call and be safe for concurrent use. Errors should be
// *StageError (StageDial or StagePreamble).
type Dialer interface {
	Dial(ctx context.Context, t Target) (net.Conn, error)
}

// Upgrader runs the plaintext dialogue of a STARTTLS scheme on conn and
// returns once the server is ready for a ClientHello, in place of the
// registered protocol's Upgrade (NetDialer.Upgraders: tests, the demo). It
// must set its own deadlines on conn (NetDialer sets one covering the dial
// and the dialogue) and honour ctx.
type Upgrader func(ctx context.Context, conn net.Conn, t Target) error

// NetDialer is the default Dialer: a TCP connection to the target's
// address, then, for a STARTTLS scheme, the plaintext dialogue of the
// scheme's protocol in the protocols registry (protocols.ForScheme).
type NetDialer struct {
	// Timeout bounds the TCP connect and the dialogue together (0: 5 s).
	Timeout time.Duration
	// Dialogue are the options of every plaintext dialogue (the SMTP
	// EHLO name, StartTLSAnyway …); a zero Timeout is the NetDialer's,
	// Host the target's.
	Dialogue protocols.Options
	// Record, when set, is called with the dialogue of every successful
	// upgrade, and of every one that completed but will not upgrade
	// (STARTTLS not advertised or refused), from the scan's goroutines: it
	// must be safe for concurrent use. ScanTarget keeps the first of each
	// endpoint in Result.Dialogue whether or not Record is set.
	Record func(Target, *protocols.Dialogue)
	// Upgraders replace the registered dialogue of a scheme. A STARTTLS
	// scheme with neither fails with a StagePreamble error; implicit TLS
	// needs none.
	Upgraders map[Protocol]Upgrader
	// Dialer is the underlying dialer (nil: a zero net.Dialer).
	Dialer *net.Dialer
	// DialContext, when set, makes the connection in place of Dialer (as
	// http.Transport's does: a proxy's dialer, or in-memory connections
	// in tests).
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)
	// ProxyProtocol, when set (proxyproto.V1 or V2), writes a PROXY
	// protocol header first on every connection, as a load balancer
	// would, for backends that accept connections only with one. The
	// header names the connection's own endpoints (the sender's
	// getsockname/getpeername, as the specification has a proxy do for
	// connections of its own).
	ProxyProtocol proxyproto.Version
}

// ErrNoUpgrader is wrapped by the error of a STARTTLS target for which no
// dialogue is registered.
var ErrNoUpgrader = errors.New("scan: no STARTTLS upgrader for protocol")

// Dial implements Dialer. It dials t.Addr (an IP literal once ScanTarget
// has resolved the name) and t.Port.
//
// With Dialogue.Probe, the first Dial of an endpoint (under ScanTarget)
// first runs the registered dialogue with its probe on a connection of
// its own, which it closes after the dialogue (a probe may leave the
// dialogue unable to upgrade: vsftpd closes the connection after
// refusing USER before TLS); what that dialogue learnt is the endpoint's
// Result.Dialogue.
func (d *NetDialer) Dial(ctx context.Context, t Target) (net.Conn, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if d.Dialogue.Probe && t.Protocol.STARTTLS() && d.Upgraders[t.Protocol] == nil {
		if slot, ok := ctx.Value(dialogueKey{}).(*dialogueSlot); ok && slot.claimProbe() {
			if conn, err := d.dial(ctx, t, timeout, true); err == nil {
				conn.Close()
			}
		}
	}
	return d.dial(ctx, t, timeout, false)
}

// dial opens one connection and runs its dialogue, with the protocol's
// probe when probe is set.
func (d *NetDialer) dial(ctx context.Context, t Target, timeout time.Duration, probe bool) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d.connect(ctx, t)
	if err != nil {
		return nil, err
	}
	if probe {
		if slot, ok := ctx.Value(dialogueKey{}).(*dialogueSlot); ok {
			slot.probeConnected()
		}
	}
	if !t.Protocol.STARTTLS() {
		return conn, nil
	}
	up := d.upgrader(t, timeout, probe)
	if up == nil {
		conn.Close()
		return nil, &StageError{Stage: StagePreamble, Err: fmt.Errorf("%w %s", ErrNoUpgrader, t.Protocol)}
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	err = up(ctx, conn, t)
	stop()
	if err != nil {
		conn.Close()
		return nil, &StageError{Stage: StagePreamble, Err: err}
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// connect opens a TCP connection to t and writes the PROXY header, within
// ctx.
func (d *NetDialer) connect(ctx context.Context, t Target) (net.Conn, error) {
	dial := d.DialContext
	if dial == nil {
		nd := d.Dialer
		if nd == nil {
			nd = &net.Dialer{}
		}
		dial = nd.DialContext
	}
	conn, err := dial(ctx, "tcp", net.JoinHostPort(t.Addr, strconv.Itoa(int(t.Port))))
	if err != nil {
		return nil, &StageError{Stage: StageDial, Err: err}
	}
	if d.ProxyProtocol != 0 {
		if err := writeProxyHeader(ctx, conn, d.ProxyProtocol); err != nil {
			conn.Close()
			return nil, &StageError{Stage: StageDial, Err: err}
		}
	}
	return conn, nil
}

// writeProxyHeader writes a PROXY protocol header of version v naming
// conn's own endpoints, within ctx's deadline.
func writeProxyHeader(ctx context.Context, conn net.Conn, v proxyproto.Version) error {
	local, ok1 := conn.LocalAddr().(*net.TCPAddr)
	remote, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return fmt.Errorf("scan: PROXY header: not a TCP connection")
	}
	b, err := proxyproto.New(v, local.AddrPort(), remote.AddrPort()).Marshal()
	if err != nil {
		return fmt.Errorf("scan: PROXY header: %w", err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetWriteDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetWriteDeadline(time.Unix(1, 0)) })
	_, err = conn.Write(b)
	stop()
	_ = conn.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("scan: writing the PROXY header: %w", err)
	}
	return nil
}

// upgrader returns the dialogue of t's scheme: an Upgraders entry, else
// the registered protocol's Upgrade (with its probe when probe is set),
// which records what the server said.
func (d *NetDialer) upgrader(t Target, timeout time.Duration, probe bool) Upgrader {
	if up := d.Upgraders[t.Protocol]; up != nil {
		return up
	}
	p, _, ok := t.Protocol.scheme()
	if !ok || p.Upgrade == nil {
		return nil
	}
	opts := d.Dialogue
	if opts.Timeout <= 0 {
		opts.Timeout = timeout
	}
	opts.Host = t.Host
	opts.Probe = probe
	if probe {
		// The probe's own further connections (RDP's second Connection
		// Request), bounded by the dialogue's context.
		opts.Dial = func(ctx context.Context) (net.Conn, error) { return d.connect(ctx, t) }
	}
	return func(ctx context.Context, conn net.Conn, t Target) error {
		dl, err := p.Upgrade(ctx, conn, opts)
		// What the server said is a finding when the upgrade succeeded,
		// when the dialogue completed but will not upgrade, and, for the
		// probing dialogue, when only its last request failed.
		var pe *protocols.Error
		keep := err == nil || errors.Is(err, protocols.ErrNoSTARTTLS) || errors.Is(err, protocols.ErrSTARTTLSRefused) ||
			probe && errors.As(err, &pe) && pe.Stage == protocols.StageSTARTTLS
		if dl != nil && keep {
			if s, ok := ctx.Value(dialogueKey{}).(*dialogueSlot); ok {
				s.set(dl, probe)
			}
			if d.Record != nil {
				d.Record(t, dl)
			}
		}
		return err
	}
}

// resolve returns t with Addr replaced by an IP literal: the first address
// the resolver returns for a host name (in the resolver's order). An IP
// literal is returned as is.
func resolve(ctx context.Context, r *net.Resolver, t Target) (Target, error) {
	host := t.Addr
	if ip := net.ParseIP(stripZone(host)); ip != nil {
		return t, nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	if err != nil {
		return t, &StageError{Stage: StageResolve, Err: err}
	}
	if len(addrs) == 0 {
		return t, &StageError{Stage: StageResolve, Err: fmt.Errorf("no address for %s", host)}
	}
	t.Addr = addrs[0].IP.String()
	if addrs[0].Zone != "" {
		t.Addr += "%" + addrs[0].Zone
	}
	return t, nil
}

func stripZone(h string) string {
	for i := 0; i < len(h); i++ {
		if h[i] == '%' {
			return h[:i]
		}
	}
	return h
}
