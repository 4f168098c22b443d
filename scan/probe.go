package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Read limits of a probe: what the server may send before the probe has
// what it needs. A hello-only probe needs the ServerHello (the rest of the
// flight is read, at most, up to the limit); a key exchange probe also
// reads the Certificate chain.
const (
	maxHelloBytes = 64 << 10
	maxSKEBytes   = 1 << 20
)

// answerKind classifies what a server did with one ClientHello.
type answerKind uint8

const (
	ansHello      answerKind = iota + 1 // ServerHello or HelloRetryRequest for the asked version, offered suite
	ansSSLv2Hello                       // SSLv2 SERVER-HELLO to an SSLv2 hello
	ansAlert                            // a fatal alert (or close_notify)
	ansSSLv2Error                       // SSLv2 ERROR
	ansClosed                           // EOF before any byte
	ansReset                            // TCP reset before any byte
	ansLower                            // a lower version than asked
	ansHigher                           // a higher (or unrelated) version than asked
	ansUnoffered                        // a suite that was not offered
	ansTimeout                          // the deadline passed
	ansGarbage                          // bytes that are not TLS
	ansMalformed                        // TLS, but not a valid answer
	ansTooLarge                         // more than the read limit without a decision
	ansDialError                        // no connection
	ansCancelled                        // ctx was cancelled
	ansIncomplete                       // a ServerHello for the asked version and an offered suite, then a failure before ServerHelloDone
)

// answer is the classified result of one probe.
type answer struct {
	kind   answerKind
	reason string // readable: "alert handshake_failure", "timeout after 5s"

	version tls.Version // the negotiated version of a ServerHello
	suite   uint16      // the chosen suite of a ServerHello or HelloRetryRequest
	hrr     bool        // a HelloRetryRequest
	group   uint16      // HelloRetryRequest selected_group or ServerHello key_share group
	alert   tls.Alert
	ske     *tls.ServerKeyExchange // with probeReq.readSKE, when one came
	sslv2   *tls.SSLv2ServerHello
	err     error // the underlying error, for dial failures
	// drop says how the connection failed when it did at the transport
	// level: a reset, a close before the answer was complete, a TCP
	// refusal (docs/scan-algorithm.md, "Consistent refusals").
	drop dropKind
}

// dropKind is a connection failure below TLS: what a flaky network, a
// connection limiter or a firewall does as well as a server refusing.
type dropKind uint8

const (
	dropNone    dropKind = iota
	dropReset            // TCP reset
	dropClosed           // FIN before the answer was complete
	dropRefused          // the TCP connection was refused
)

// String names the drop as the reasons do: "reset", "closed", "refused".
func (d dropKind) String() string {
	switch d {
	case dropReset:
		return "reset"
	case dropClosed:
		return "closed"
	case dropRefused:
		return "refused"
	}
	return ""
}

// outcome maps an answer to the outcome of what it probed. A chosen suite
// that the server could not complete (ansIncomplete) is neither: callers
// that care handle it first.
func (a answer) outcome() Outcome {
	switch a.kind {
	case ansHello, ansSSLv2Hello:
		return Accepted
	case ansAlert, ansSSLv2Error, ansClosed, ansReset, ansLower:
		return Rejected
	}
	return Inconclusive
}

// spokeTLS reports whether the server answered in TLS (or SSLv2): a
// ServerHello of any kind, an alert, an SSLv2 message.
func (a answer) spokeTLS() bool {
	switch a.kind {
	case ansHello, ansIncomplete, ansSSLv2Hello, ansAlert, ansSSLv2Error, ansLower, ansHigher, ansUnoffered:
		return true
	}
	return false
}

// retryable reports whether the same probe may answer otherwise: network
// trouble, not a semantic answer.
func (a answer) retryable() bool {
	switch a.kind {
	case ansTimeout, ansGarbage, ansMalformed, ansTooLarge, ansDialError:
		return true
	}
	return false
}

// purpose says why a probe was sent; Handshakes counts by it.
type purpose uint8

const (
	forSSLv2 purpose = iota
	forVersion
	forSuites
	forOrder
	forGroups
	forPoison
	forVerify // re-probes of a refusal on a dropped connection, and their control
)

// probeReq is one probe: the hello bytes and what to check the answer
// against.
type probeReq struct {
	purpose purpose
	version tls.Version // asked: tls.VersionSSL20 … VersionTLS13
	hello   []byte      // the records to send
	offered []uint16    // the suites offered (TLS)
	readSKE bool        // read on to the ServerKeyExchange (TLS ≤ 1.2)
	alpn    bool        // the hello offered ALPN (Protocol.ALPN), so a ServerHello may answer it
}

// probe runs req, repeating it up to opts.Retries times while the answer
// is inconclusive for a reason that may pass (timeout, garbage, dial
// failure).
func (e *endpoint) probe(ctx context.Context, req probeReq) answer {
	var a answer
	throttles := 0
	for try := 0; try <= e.opts.Retries; try++ {
		if !e.waitThrottle(ctx) {
			return answer{kind: ansCancelled, reason: ReasonCancelled}
		}
		a = e.probeOnce(ctx, req, try > 0)
		if a.kind == ansDialError && errors.Is(a.err, protocols.ErrThrottled) {
			// The server asked to be left alone: back off and ask
			// again, a bounded number of times, then leave the probe
			// inconclusive with the server's reply.
			if throttles == throttleRetries || ctx.Err() != nil {
				break
			}
			throttles++
			if !e.throttled(ctx) {
				return answer{kind: ansCancelled, reason: ReasonCancelled}
			}
			try-- // a throttled answer uses up no retry
			continue
		}
		if !a.retryable() || ctx.Err() != nil {
			break
		}
	}
	return a
}

// probeOnce opens one connection, sends the hello, reads until the answer
// decides, and closes. The connection is counted once it is open.
func (e *endpoint) probeOnce(ctx context.Context, req probeReq, retry bool) answer {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return answer{kind: ansCancelled, reason: ReasonCancelled}
	}
	defer func() { <-e.sem }()
	if ctx.Err() != nil {
		return answer{kind: ansCancelled, reason: ReasonCancelled}
	}

	start := time.Now()
	conn, err := e.opts.Dialer.Dial(ctx, e.target)
	if err != nil {
		if ctx.Err() != nil {
			return answer{kind: ansCancelled, reason: ReasonCancelled}
		}
		a := answer{kind: ansDialError, reason: dialReason(err), err: err}
		if errors.Is(err, syscall.ECONNREFUSED) {
			a.drop = dropRefused
		}
		e.observe(a)
		return a
	}
	defer conn.Close()
	e.count(req.purpose, retry)

	timeout := e.opts.Timeout
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if _, err := conn.Write(req.hello); err != nil {
		a := e.ioAnswer(ctx, err, nil, "sending the ClientHello")
		e.observe(a)
		return a
	}
	limit := maxHelloBytes
	if req.readSKE {
		limit = maxSKEBytes
	}
	r := &probeReader{r: conn, limit: limit}
	a := e.readAnswer(ctx, r, req)
	if a.spokeTLS() {
		e.spokeTLS.Store(true)
		if a.drop == dropNone {
			e.answeredIn(time.Since(start))
		}
	}
	if a.kind == ansHello {
		e.mu.Lock()
		if e.control == nil {
			c := req
			e.control = &c
		}
		if a.version == tls.VersionTLS13 {
			if a.hrr && e.hrrGroup == 0 {
				e.hrrGroup = a.group
			} else if !a.hrr {
				e.serverHello13 = true
			}
		}
		e.mu.Unlock()
	}
	e.observe(a)
	return a
}

// probeReader counts what is read, keeps the first bytes for error
// messages, and stops at the limit.
type probeReader struct {
	r     io.Reader
	n     int
	limit int
	first []byte
}

var errTooLarge = errors.New("read limit")

func (p *probeReader) Read(b []byte) (int, error) {
	if p.n >= p.limit {
		return 0, errTooLarge
	}
	if len(b) > p.limit-p.n {
		b = b[:p.limit-p.n]
	}
	n, err := p.r.Read(b)
	if len(p.first) < 16 {
		p.first = append(p.first, b[:min(n, 16-len(p.first))]...)
	}
	p.n += n
	return n, err
}

// readAnswer reads events until the answer decides (docs/scan-
// algorithm.md, "Outcomes").
func (e *endpoint) readAnswer(ctx context.Context, r *probeReader, req probeReq) answer {
	d := tls.NewDecoder(r.limit)
	buf := make([]byte, 4096)
	var got *answer // the ServerHello's answer, when reading on to the SKE
	asked := req.version.String()
	for {
		ev, err := tls.ReadEvent(r, d, buf)
		if err != nil {
			if got != nil {
				return e.afterHello(ctx, *got, err)
			}
			return e.ioAnswer(ctx, err, r, "after ClientHello")
		}
		switch ev.Kind {
		case tls.EventAlert:
			// RFC 8446 §6: a warning other than close_notify (typically
			// unrecognized_name) does not end the handshake.
			if ev.Alert.Level == tls.AlertLevelWarning && ev.Alert.Description != tls.AlertCloseNotify {
				continue
			}
			if got != nil {
				return incomplete(*got, "alert "+tls.AlertDescriptionName(ev.Alert.Description))
			}
			return answer{kind: ansAlert, alert: ev.Alert, reason: "alert " + tls.AlertDescriptionName(ev.Alert.Description)}

		case tls.EventSSLv2:
			if got != nil {
				return incomplete(*got, "an SSLv2 record")
			}
			if req.version != tls.VersionSSL20 {
				// SSLv2-framed bytes to a TLS hello: an SSLv2 server
				// answering in its own version, or garbage that happens
				// to look like an SSLv2 record header. Only a well-formed
				// SSLv2 message is the former.
				v2 := sslv2Answer(ev.Message)
				if v2.kind != ansSSLv2Hello && v2.kind != ansSSLv2Error {
					return answer{kind: ansGarbage, reason: "not TLS: SSLv2-framed bytes that are no SSLv2 message (" + v2.reason + ")"}
				}
				return answer{kind: ansLower, version: tls.VersionSSL20,
					reason: fmt.Sprintf("server answered SSLv2 to a %s hello", asked)}
			}
			return sslv2Answer(ev.Message)

		case tls.EventHandshake:
			if got == nil {
				if ev.HandshakeType != tls.TypeServerHello {
					return answer{kind: ansMalformed, reason: fmt.Sprintf("unexpected %s before ServerHello", ev.HandshakeType)}
				}
				a := helloAnswer(ev.Message, req)
				// TLS ≤ 1.2: the flight is read on to ServerHelloDone, so
				// that a suite the server chooses but cannot carry out
				// (no key for it) is not taken as accepted (docs/scan-
				// algorithm.md, "Chosen, not completed"). A HelloRetryRequest
				// or a TLS 1.3 ServerHello is the end: the rest is
				// encrypted.
				if a.kind != ansHello || a.version == tls.VersionTLS13 || a.hrr {
					return a
				}
				got = &a
				continue
			}
			switch ev.HandshakeType {
			case tls.TypeServerKeyExchange:
				if !req.readSKE {
					continue
				}
				s, _ := ciphers.ByID(got.suite)
				var ske *tls.ServerKeyExchange
				var err error
				if s.Kex == "DHE" || s.Kex == "DH" || s.Kex == "DHE_PSK" {
					ske, err = tls.ParseServerKeyExchangeDHE(ev.Message)
				} else {
					ske, err = tls.ParseServerKeyExchangeECDHE(ev.Message)
				}
				if err != nil {
					return answer{kind: ansMalformed, reason: "malformed ServerKeyExchange: " + err.Error()}
				}
				got.ske = ske
				return *got
			case tls.TypeServerHelloDone:
				return *got
			}
			// Certificate, CertificateStatus, CertificateRequest: read on.

		default:
			if got != nil {
				return *got
			}
			return answer{kind: ansMalformed, reason: fmt.Sprintf("unexpected %s record before ServerHello", ev.RecordType)}
		}
	}
}

// afterHello classifies a read error after a TLS ≤ 1.2 ServerHello that
// chose an offered suite: a close, a reset or broken bytes before
// ServerHelloDone mean the server could not carry the suite out; a timeout
// or an overlong flight leave the choice standing (the server chose it;
// whether it would finish is not known, and a choice counts as accepted).
func (e *endpoint) afterHello(ctx context.Context, got answer, err error) answer {
	switch {
	case ctx.Err() != nil:
		return answer{kind: ansCancelled, reason: ReasonCancelled}
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, errTooLarge):
		return got
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		a := incomplete(got, "connection closed")
		a.drop = dropClosed
		return a
	case isReset(err):
		a := incomplete(got, "connection reset")
		a.drop = dropReset
		return a
	}
	return incomplete(got, "malformed record")
}

// incomplete turns the answer of a ServerHello into a chosen-not-completed
// one, for what came instead of the rest of the flight.
func incomplete(got answer, what string) answer {
	got.kind = ansIncomplete
	got.reason = fmt.Sprintf("ServerHello for 0x%04X, then %s before ServerHelloDone", got.suite, what)
	return got
}

// helloAnswer checks a ServerHello against the probe (docs/scan-
// algorithm.md): the version asked, an offered suite.
func helloAnswer(msg []byte, req probeReq) answer {
	sh, err := tls.ParseServerHello(msg)
	if err != nil {
		return answer{kind: ansMalformed, reason: "malformed ServerHello: " + err.Error()}
	}
	asked := req.version.String()
	if req.version == tls.VersionSSL20 {
		return answer{kind: ansHigher, version: sh.NegotiatedVersion(),
			reason: fmt.Sprintf("server answered %s to an SSLv2 hello", sh.NegotiatedVersion())}
	}
	v := sh.NegotiatedVersion()
	a := answer{version: v, suite: sh.CipherSuite, hrr: sh.HelloRetryRequest, group: sh.KeyShareGroup}
	// Every field is checked against what was offered before any rule
	// reads it (docs/scan-algorithm.md, "Outcomes"): a ServerHello that
	// names an unoffered suite or answers an extension that was not sent
	// is nonsense whatever its version says, so it decides nothing — a
	// lower version in it is not a refusal.
	if v > req.version || v < tls.VersionSSL30 {
		a.kind = ansHigher
		a.reason = fmt.Sprintf("server answered %s to a %s hello", v, asked)
		return a
	}
	if !slices.Contains(req.offered, sh.CipherSuite) {
		a.kind = ansUnoffered
		a.reason = fmt.Sprintf("server chose 0x%04X which was not offered", sh.CipherSuite)
		return a
	}
	if x, ok := unsentExtension(sh, req); ok {
		a.kind = ansUnoffered
		a.reason = fmt.Sprintf("server answered extension 0x%04X which was not sent", x)
		return a
	}
	if v < req.version {
		a.kind = ansLower
		a.reason = fmt.Sprintf("server answered %s to a %s hello", tls.Version(v).String(), asked)
		return a
	}
	if sh.HelloRetryRequest && v != tls.VersionTLS13 {
		a.kind = ansMalformed
		a.reason = "HelloRetryRequest without TLS 1.3"
		return a
	}
	a.kind = ansHello
	return a
}

// unsentExtension returns the first extension of sh that answers none
// the probe's hello sent (RFC 5246 §7.4.1.4, RFC 8446 §4.2: a server
// must not send an extension the client did not offer; a
// HelloRetryRequest may carry a cookie, RFC 8446 §4.2.2).
func unsentExtension(sh *tls.ServerHello, req probeReq) (uint16, bool) {
	sent := sentExtensions(req.version)
	for _, x := range sh.Extensions {
		if slices.Contains(sent, x.Type) || sh.HelloRetryRequest && x.Type == tls.ExtCookie || req.alpn && x.Type == tls.ExtALPN {
			continue
		}
		return x.Type, true
	}
	return 0, false
}

// sslv2Answer classifies an SSLv2 record answering an SSLv2 hello.
func sslv2Answer(msg []byte) answer {
	if len(msg) > 0 && msg[0] == tls.SSLv2MsgError {
		code, err := tls.ParseSSLv2Error(msg)
		if err != nil {
			return answer{kind: ansMalformed, reason: "malformed SSLv2 ERROR: " + err.Error()}
		}
		return answer{kind: ansSSLv2Error, reason: "SSLv2 ERROR " + code.String()}
	}
	sh, err := tls.ParseSSLv2ServerHello(msg)
	if err != nil {
		return answer{kind: ansMalformed, reason: "malformed SSLv2 SERVER-HELLO: " + err.Error()}
	}
	return answer{kind: ansSSLv2Hello, version: tls.VersionSSL20, sslv2: sh}
}

// ioAnswer classifies a read or write error. r is nil for a write error.
func (e *endpoint) ioAnswer(ctx context.Context, err error, r *probeReader, when string) answer {
	received := 0
	if r != nil {
		received = r.n
	}
	switch {
	case ctx.Err() != nil:
		return answer{kind: ansCancelled, reason: ReasonCancelled}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return answer{kind: ansTimeout, reason: "timeout after " + e.opts.Timeout.String()}
	case errors.Is(err, errTooLarge):
		return answer{kind: ansTooLarge, reason: fmt.Sprintf("no decision in the first %d bytes of the answer", r.limit)}
	case received == 0 && errors.Is(err, io.EOF):
		return answer{kind: ansClosed, reason: "connection closed " + when, drop: dropClosed}
	case received == 0 && isReset(err):
		return answer{kind: ansReset, reason: "connection reset " + when, drop: dropReset}
	case errors.Is(err, tls.ErrMalformed), errors.Is(err, tls.ErrUnexpected), errors.Is(err, tls.ErrTooLarge):
		if r != nil && !tls.MaybeTLS(r.first) {
			return answer{kind: ansGarbage, reason: "not TLS: first bytes " + quoteFirst(r.first)}
		}
		return answer{kind: ansMalformed, reason: "malformed answer: " + err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		if r != nil && !tls.MaybeTLS(r.first) {
			return answer{kind: ansGarbage, reason: "not TLS: first bytes " + quoteFirst(r.first)}
		}
		return answer{kind: ansMalformed, reason: fmt.Sprintf("connection closed after %d bytes, inside a record", received), drop: dropClosed}
	case isReset(err):
		return answer{kind: ansMalformed, reason: fmt.Sprintf("connection reset after %d bytes", received), drop: dropReset}
	}
	return answer{kind: ansMalformed, reason: fmt.Sprintf("%s: %v", when, err)}
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.EPIPE)
}

// quoteFirst quotes up to 12 of the first bytes of an answer.
func quoteFirst(b []byte) string {
	return strconv.Quote(string(b[:min(len(b), 12)]))
}
