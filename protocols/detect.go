package protocols

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNotDetected is wrapped by the error of a Detect that found no
// protocol.
var ErrNotDetected = errors.New("protocols: no protocol detected")

// DetectOptions tune Detect.
type DetectOptions struct {
	// Port is the endpoint's port: a silent server is tried with the
	// client-first protocol whose scheme has it, and a greeting that fits
	// several protocols prefers the one whose port it is.
	Port uint16
	// GreetingWait is how long Detect waits for a server that speaks
	// first (0: 3 s); an earlier deadline of the context wins.
	GreetingWait time.Duration
	// Dialogue are the options of a dialogue run to confirm a protocol
	// (when Try is nil).
	Dialogue Options
	// Try, when set, confirms that the endpoint speaks scheme s of p: it
	// opens a connection of its own, runs the dialogue and reports how it
	// ended (nil: upgraded). Nil runs p.Upgrade on a connection from
	// Detect's dial with Dialogue.
	Try func(ctx context.Context, p *Protocol, s Scheme) error
}

// Detection is what Detect found, and from what.
type Detection struct {
	// Protocol is the protocol detected; nil when the endpoint is taken
	// for TLS from the first byte of an unknown application (a silent
	// server on a port no protocol claims).
	Protocol *Protocol
	// Scheme is the scheme to scan it with: the protocol's scheme on the
	// port, else its first of the same form; the zero Scheme when
	// Protocol is nil.
	Scheme Scheme
	// Evidence says how it was found: "greeting \"220 mx ESMTP
	// Postfix\"", "the server is silent; the rdp dialogue of port 3389
	// answered" …
	Evidence string
	// Connections is the number of connections Detect opened (Try's
	// included).
	Connections int
}

// Detect finds the application protocol of an endpoint given only its
// address (tlsmap scan --starttls auto). dial opens a plain connection
// to it. Detect reads what the server says first, waiting
// opts.GreetingWait:
//
//   - A greeting is matched against the recognisers of the registered
//     server-first protocols that have a STARTTLS scheme (SMTP's 220,
//     IMAP's "* OK", POP3's "+OK", FTP's 220, MySQL's handshake packet
//     …). One fitting is the answer. Several (SMTP and FTP both greet
//     with 220) are ranked by the greeting's wording (a protocol's or
//     scheme's name in it: "ESMTP", "vsFTPd") and then the port; a tie
//     at the top is settled by running each one's dialogue (Try) until
//     one speaks it.
//   - A silent server on a port of an implicit-TLS scheme is that scheme
//     (ldaps on 636: TLS from the first byte). On the port of a
//     client-first protocol's STARTTLS scheme (LDAP, PostgreSQL, RDP …),
//     or of one whose servers may wait for the client (QuietServer: IRC),
//     it is tried with that protocol's dialogue (Try). On any other port
//     each of those protocols' dialogues is tried in turn, the first
//     that answers winning; when none does, the server is taken for TLS
//     from the first byte of an unknown application — which the
//     Evidence says.
//
// What it found is never assumed: the Evidence names it. An endpoint that
// closes without a word, a greeting no protocol fits, a client-first
// dialogue that fails and a context that ends are errors wrapping
// ErrNotDetected (or the context's error), with the Detection so far.
func Detect(ctx context.Context, dial func(context.Context) (net.Conn, error), opts DetectOptions) (Detection, error) {
	var det Detection
	if opts.GreetingWait <= 0 {
		opts.GreetingWait = 3 * time.Second
	}
	if opts.Try == nil {
		opts.Try = func(ctx context.Context, p *Protocol, s Scheme) error {
			conn, err := dial(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			_, err = p.Upgrade(ctx, conn, opts.Dialogue)
			return err
		}
	}
	try := func(p *Protocol, s Scheme) error {
		det.Connections++
		return opts.Try(ctx, p, s)
	}
	greeting, err := readGreeting(ctx, dial, opts.GreetingWait)
	det.Connections++
	switch {
	case err != nil:
		return det, err
	case len(greeting) > 0:
		return detectGreeting(&det, greeting, opts.Port, try)
	}
	// A silent server: on an implicit-TLS port, that scheme.
	if p, s, ok := ForPort(opts.Port); ok && s.Form == Implicit {
		det.Protocol, det.Scheme = p, s
		det.Evidence = fmt.Sprintf("the server is silent: TLS from the first byte, %s by port %d", s.Name, opts.Port)
		return det, nil
	}
	// On the port of a client-first protocol, that one's dialogue.
	if p, s, ok := ForPort(opts.Port); ok && (p.ClientFirst || p.QuietServer) && s.Form == STARTTLS && p.Upgrade != nil {
		det.Protocol, det.Scheme = p, s
		if err := try(p, s); err != nil && !spoke(err) {
			det.Evidence = fmt.Sprintf("the server is silent; the %s dialogue of port %d failed: %v", p.Name, opts.Port, err)
			return det, fmt.Errorf("%w: %s", ErrNotDetected, det.Evidence)
		}
		det.Evidence = fmt.Sprintf("the server is silent; the %s dialogue of port %d answered", p.Name, opts.Port)
		return det, nil
	}
	// On any other port, every client-first (or QuietServer) protocol's
	// dialogue in turn; when none answers, TLS from the first byte by
	// elimination. The QuietServer ones go first: their dialogues are
	// lines of text, which a server of another protocol refuses at once,
	// where a binary request (LDAP's, PostgreSQL's) leaves a line-reading
	// server waiting for the rest until the dialogue's timeout.
	var tried []string
	for _, quiet := range []bool{true, false} {
		for _, p := range All() {
			s, ok := firstSTARTTLS(p)
			if p.QuietServer != quiet || !(p.ClientFirst || p.QuietServer) || p.Upgrade == nil || !ok {
				continue
			}
			if err := try(p, s); err == nil || spoke(err) {
				det.Protocol, det.Scheme = p, s
				det.Evidence = fmt.Sprintf("the server is silent; the %s dialogue answered (port %d is no protocol's)", p.Name, opts.Port)
				if len(tried) > 0 {
					det.Evidence += "; " + strings.Join(tried, ", ") + " did not"
				}
				return det, nil
			}
			tried = append(tried, p.Name)
		}
	}
	det.Evidence = fmt.Sprintf("the server is silent and port %d is no protocol's; no dialogue answered (%s): TLS from the first byte, application unknown",
		opts.Port, strings.Join(tried, ", "))
	return det, nil
}

// firstSTARTTLS returns the first STARTTLS scheme of p.
func firstSTARTTLS(p *Protocol) (Scheme, bool) {
	for _, s := range p.Schemes {
		if s.Form == STARTTLS {
			return s, true
		}
	}
	return Scheme{}, false
}

// spoke reports whether a dialogue's error still shows the server speaks
// the protocol: it ended in the protocol's own terms (TLS not offered or
// refused, the server busy, the name asked for not served).
func spoke(err error) bool {
	return errors.Is(err, ErrNoSTARTTLS) || errors.Is(err, ErrSTARTTLSRefused) || errors.Is(err, ErrThrottled) ||
		errors.Is(err, ErrUnknownDomain)
}

// maxGreeting bounds what Detect reads of a greeting.
const maxGreeting = 4 << 10

// readGreeting opens a connection and returns what the server says
// within wait (nothing for a silent server), reading on for a moment
// after the first bytes so that a greeting sent in pieces arrives whole.
func readGreeting(ctx context.Context, dial func(context.Context) (net.Conn, error), wait time.Duration) ([]byte, error) {
	conn, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	deadline := time.Now().Add(wait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetReadDeadline(deadline)
	buf := make([]byte, maxGreeting)
	n := 0
	for n < len(buf) {
		m, err := conn.Read(buf[n:])
		n += m
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return buf[:n], nil
		case errors.Is(err, io.EOF) && n == 0:
			return nil, fmt.Errorf("%w: the server closed the connection without a word", ErrNotDetected)
		case err != nil:
			return buf[:n], nil
		}
		// More may follow (a multi-line greeting): a moment longer.
		if d := time.Now().Add(200 * time.Millisecond); d.Before(deadline) {
			_ = conn.SetReadDeadline(d)
		}
	}
	return buf[:n], nil
}

// candidate is a protocol a greeting fits, with its rank.
type candidate struct {
	p     *Protocol
	s     Scheme
	words bool // the greeting names it
	port  bool // the port is one of its schemes'
}

// detectGreeting picks the protocol of a greeting.
func detectGreeting(det *Detection, greeting []byte, port uint16, try func(*Protocol, Scheme) error) (Detection, error) {
	// Its first line, quoted; a binary greeting's first 48 bytes,
	// escaped.
	first := string(greeting[:min(len(greeting), 80)])
	if strings.IndexFunc(first, func(r rune) bool { return r < 0x20 && r != '\r' && r != '\n' && r != '\t' }) >= 0 {
		first = first[:min(len(first), 48)]
	} else {
		first, _, _ = strings.Cut(first, "\n")
		first = strings.TrimRight(first, "\r")
	}
	shown := strconv.Quote(first)
	lower := strings.ToLower(string(greeting))
	var cands []candidate
	for _, p := range All() {
		if p.ClientFirst || p.Recognize == nil || p.Upgrade == nil {
			continue
		}
		c := candidate{p: p}
		found := false
		for _, s := range p.Schemes {
			if s.Form != STARTTLS {
				continue
			}
			if !found || slices.Contains(s.Ports(), port) && !c.port {
				c.s, found = s, true
				c.port = slices.Contains(s.Ports(), port)
			}
			c.words = c.words || strings.Contains(lower, s.Name)
		}
		c.words = c.words || strings.Contains(lower, p.Name)
		if !found || p.Recognize(nil, greeting).State == NotThis {
			continue
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		det.Evidence = "greeting " + shown + ": no protocol fits"
		return *det, fmt.Errorf("%w: %s", ErrNotDetected, det.Evidence)
	}
	score := func(c candidate) int {
		n := 0
		if c.words {
			n += 2
		}
		if c.port {
			n++
		}
		return n
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return score(b) - score(a) })
	if len(cands) == 1 || score(cands[0]) > score(cands[1]) {
		c := cands[0]
		det.Protocol, det.Scheme = c.p, c.s
		why := ""
		switch {
		case len(cands) == 1:
		case c.words:
			why = fmt.Sprintf(" (named in it; %s fit too)", names(cands[1:]))
		default:
			why = fmt.Sprintf(" (its port; %s fit too)", names(cands[1:]))
		}
		det.Evidence = "greeting " + shown + why
		return *det, nil
	}
	// A tie: the dialogues decide, best ranked first.
	var tried []string
	for _, c := range cands {
		err := try(c.p, c.s)
		if err == nil || spoke(err) {
			det.Protocol, det.Scheme = c.p, c.s
			det.Evidence = "greeting " + shown + fmt.Sprintf(" (fits %s; the %s dialogue answered)", names(cands), c.p.Name)
			return *det, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", c.p.Name, err))
	}
	det.Evidence = "greeting " + shown + " fits " + names(cands) + ", whose dialogues all failed (" + strings.Join(tried, "; ") + ")"
	return *det, fmt.Errorf("%w: %s", ErrNotDetected, det.Evidence)
}

func names(cs []candidate) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.p.Name)
	}
	return strings.Join(out, ", ")
}
