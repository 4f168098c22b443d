package faketls

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// errNotHello: the first message of the stream is not a ClientHello.
var errNotHello = errors.New("faketls: first message is not a ClientHello")

// httpBadRequest is what an HTTP server answers to TLS bytes.
const httpBadRequest = "HTTP/1.1 400 Bad Request\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 49\r\n" +
	"\r\n" +
	"Client sent an HTTP request to an HTTPS server.\r\n"

// situation says what a refusal refuses, which decides RefuseDefault and
// the alert.
type situation uint8

const (
	refuseVersion situation = iota
	refuseSuites
	refuseIntolerance
)

// handle serves one connection. Every path ends by returning; the caller
// closes the connection. Nothing here panics on any input: the codec
// parses, and a parse error closes the connection.
func (s *Server) handle(c net.Conn) {
	cfg := &s.cfg
	_ = c.SetDeadline(time.Now().Add(cfg.timeout()))

	switch {
	case cfg.Banner != "":
		// A server that speaks first (SSH, SMTP): the banner, then
		// close when the client says anything.
		if _, err := io.WriteString(c, cfg.Banner); err != nil {
			return
		}
		var b [512]byte
		_, _ = c.Read(b[:])
		s.finish(c)
		return
	case cfg.HTTP:
		var b [4096]byte
		if _, err := c.Read(b[:]); err != nil {
			return
		}
		if _, err := io.WriteString(c, httpBadRequest); err != nil {
			return
		}
		s.finish(c)
		return
	case cfg.Silent:
		_ = c.SetDeadline(time.Now().Add(cfg.hangFor()))
		if ch, _, err := readHello(c, tls.NewDecoder(0), nil); err == nil {
			s.record(ch)
		}
		_, _ = io.Copy(io.Discard, c)
		return
	}

	dec := tls.NewDecoder(0)
	buf := make([]byte, 4096)
	ch, msgLen, err := readHello(c, dec, buf)
	if err == nil {
		s.record(ch)
	}
	// The F5 bug hangs on the length alone, whatever the content.
	if cfg.Intolerant256to511 && msgLen >= 256 && msgLen <= 511 {
		s.hang(c)
		return
	}
	if err != nil || cfg.CloseAfterHello {
		return
	}
	if cfg.Garbage {
		if b, err := s.garbage(); err == nil {
			_, _ = c.Write(b)
		}
		s.wait(c)
		return
	}
	offered := len(ch.CipherSuites)
	if ch.SSLv2 {
		offered = len(ch.SSLv2CipherSpecs)
	}
	if cfg.MaxSuites > 0 && offered > cfg.MaxSuites {
		if cfg.Intolerance == RefuseAlert && cfg.IntoleranceAlert != 0 {
			s.alert(c, cfg.IntoleranceAlert, alertVersion(ch))
			return
		}
		s.refuse(c, cfg.Intolerance, refuseIntolerance, alertVersion(ch))
		return
	}
	if cfg.RequireExtensions && !ch.SSLv2 && len(ch.Extensions) == 0 {
		s.alert(c, tls.AlertHandshakeFailure, alertVersion(ch))
		return
	}
	if _, ok := s.chooseALPN(ch); cfg.RequireALPN && !ok {
		s.alert(c, tls.AlertNoApplicationProtocol, alertVersion(ch))
		return
	}
	if ch.Version == tls.VersionSSL20 && cfg.VersionOverride == 0 {
		s.answerSSLv2(c, ch)
		return
	}
	s.answerTLS(c, ch, dec, buf)
}

// readHello reads the first message of the stream and parses it as a TLS
// or SSLv2 ClientHello. msgLen is the length of a TLS ClientHello message
// (header included) even when it does not parse, 0 otherwise.
func readHello(c net.Conn, dec *tls.Decoder, buf []byte) (ch *tls.ClientHello, msgLen int, err error) {
	ev, err := tls.ReadEvent(c, dec, buf)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case ev.Kind == tls.EventHandshake && ev.HandshakeType == tls.TypeClientHello:
		ch, err = tls.ParseClientHello(ev.Message)
		if err != nil {
			return nil, ev.Length, err
		}
		ch.RecordVersion = ev.RecordVersion
		return ch, ev.Length, nil
	case ev.Kind == tls.EventSSLv2:
		ch, err = tls.ParseSSLv2ClientHello(ev.Message)
		return ch, 0, err
	}
	return nil, 0, errNotHello
}

// answerTLS answers a TLS (or SSLv2-compatible) ClientHello.
func (s *Server) answerTLS(c net.Conn, ch *tls.ClientHello, dec *tls.Decoder, buf []byte) {
	v, asked, ok := s.chooseVersion(ch)
	if !ok {
		// An SSLv2-capable server answers in SSLv2 a compatible hello
		// for a version it does not have.
		if ch.SSLv2 && len(s.cfg.SSLv2Kinds) > 0 {
			s.answerSSLv2(c, ch)
			return
		}
		r := s.cfg.RejectVersion
		if r == RefuseNegotiateDown {
			v, ok = s.lowerVersion(ch, asked)
		}
		if !ok {
			s.refuse(c, r, refuseVersion, alertVersion(ch))
			return
		}
	}
	if v == tls.VersionTLS13 {
		s.answerTLS13(c, ch, dec, buf)
		return
	}
	s.answerTLS12(c, ch, v)
}

// answerTLS12 answers with a TLS ≤ 1.2 (or SSLv3) first flight:
// ServerHello, Certificate, ServerKeyExchange when the suite has one, and
// ServerHelloDone, packed into handshake records of version v.
func (s *Server) answerTLS12(c net.Conn, ch *tls.ClientHello, v tls.Version) {
	curve, curveOK := s.chooseCurve(ch)
	ffdhe, dhOK := s.chooseFFDHE(ch)
	ecdsaCert := s.cfg.CertByOffer && slices.ContainsFunc(ch.CipherSuites, ecdsaAuth)
	usable := func(id uint16) bool {
		switch {
		case s.cfg.CertByOffer && ecdsaCert && !ecdsaAuth(id) && suiteOf(id).cert,
			s.cfg.CertByOffer && !ecdsaCert && ecdsaAuth(id):
			// A suite of the certificate the hello did not get.
			return false
		case needsCurve(id):
			return curveOK
		case needsDH(id):
			return dhOK
		}
		return true
	}
	suite, ok := s.chooseSuite(v, ch.CipherSuites, usable)
	if s.cfg.UnofferedSuite != 0 {
		suite, ok = s.cfg.UnofferedSuite, true
		if !curveOK {
			curve = tls.GroupX25519
			if cs := s.cfg.curves(); len(cs) > 0 {
				curve = cs[0]
			}
		}
	}
	if !ok || slices.Contains(s.cfg.Poisons, suite) {
		s.refuse(c, s.cfg.RejectSuites, refuseSuites, v)
		return
	}
	flight, err := s.flight12(ch, v, suite, curve, ffdhe)
	if err != nil {
		return
	}
	if slices.Contains(s.cfg.Incomplete, suite) {
		// The ServerHello alone (its record comes first in the
		// flight), then a fatal internal_error.
		flight, err = s.helloOnly(ch, v, suite)
		if err != nil {
			return
		}
		if !s.cfg.IncompleteClose {
			a := tls.Alert{Level: tls.AlertLevelFatal, Description: tls.AlertInternalError}
			flight = tls.AppendRecord(flight, tls.ContentAlert, v, a.Marshal())
		}
		if _, err := c.Write(flight); err != nil {
			return
		}
		s.finish(c)
		return
	}
	if _, err := c.Write(flight); err != nil {
		return
	}
	s.wait(c)
}

// flight12 builds the TLS ≤ 1.2 first flight.
func (s *Server) flight12(ch *tls.ClientHello, v tls.Version, suite, curve, ffdhe uint16) ([]byte, error) {
	random, err := s.serverRandom(v)
	if err != nil {
		return nil, err
	}
	sid, err := s.randBytes(32)
	if err != nil {
		return nil, err
	}
	sh := &tls.ServerHello{Version: v, Random: random, SessionID: sid, CipherSuite: suite}
	// RFC 6101 has no extensions: an SSLv3 ServerHello ends after the
	// compression method.
	if v > tls.VersionSSL30 {
		sh.Extensions = s.extensions12(ch, suite)
	}
	msgs, err := sh.Marshal()
	if err != nil {
		return nil, err
	}
	info := suiteOf(suite)
	// RFC 5246 §7.4.2: Certificate.
	if info.cert {
		cert := tls.MarshalCertificate(s.chain)
		if cert == nil {
			return nil, fmt.Errorf("faketls: certificate chain too large")
		}
		msgs = append(msgs, cert...)
	}
	// RFC 5246 §7.4.3, RFC 8422 §5.4: ServerKeyExchange.
	switch info.ske {
	case skeECDHE:
		pub, err := serverShare(curve, s.rand)
		if err != nil {
			return nil, err
		}
		ske := tls.MarshalServerKeyExchangeECDHE(curve, pub)
		if ske == nil {
			return nil, fmt.Errorf("faketls: ECDHE public key for 0x%04X too large", curve)
		}
		msgs = append(msgs, ske...)
	case skeDHE:
		p := ffdhePrime(ffdhe)
		if p == nil {
			p = dhPrime(s.cfg.dhPrimeBits())
		}
		y, err := s.dhPublic(p)
		if err != nil {
			return nil, err
		}
		ske := tls.MarshalServerKeyExchangeDHE(p.Bytes(), []byte{2}, y)
		if ske == nil {
			return nil, fmt.Errorf("faketls: DH prime too large")
		}
		msgs = append(msgs, ske...)
	}
	// RFC 5246 §7.4.5: ServerHelloDone.
	msgs = append(msgs, tls.MarshalServerHelloDone()...)
	return s.handshakeRecords(nil, v, msgs), nil
}

// helloOnly is the ServerHello of a TLS ≤ 1.2 flight, in a record.
func (s *Server) helloOnly(ch *tls.ClientHello, v tls.Version, suite uint16) ([]byte, error) {
	random, err := s.serverRandom(v)
	if err != nil {
		return nil, err
	}
	sid, err := s.randBytes(32)
	if err != nil {
		return nil, err
	}
	sh := &tls.ServerHello{Version: v, Random: random, SessionID: sid, CipherSuite: suite}
	if v > tls.VersionSSL30 {
		sh.Extensions = s.extensions12(ch, suite)
	}
	msg, err := sh.Marshal()
	if err != nil {
		return nil, err
	}
	return s.handshakeRecords(nil, v, msg), nil
}

// handshakeRecords appends msgs framed as handshake records of version v,
// each at most RecordSize bytes when it is set.
func (s *Server) handshakeRecords(dst []byte, v tls.Version, msgs []byte) []byte {
	n := s.cfg.RecordSize
	if n <= 0 {
		return tls.AppendRecord(dst, tls.ContentHandshake, v, msgs)
	}
	for len(msgs) > 0 {
		k := min(n, len(msgs))
		dst = tls.AppendRecord(dst, tls.ContentHandshake, v, msgs[:k])
		msgs = msgs[k:]
	}
	return dst
}

// extensions12 are the ServerHello extensions of TLS 1.0–1.2: only answers
// to what the client offered (RFC 5246 §7.4.1.4).
func (s *Server) extensions12(ch *tls.ClientHello, suite uint16) []tls.Extension {
	var exts []tls.Extension
	// RFC 5746 §3.6: the extension or the SCSV asks for renegotiation_info.
	if hasExtension(ch, tls.ExtRenegotiationInfo) || slices.Contains(ch.CipherSuites, scsvRenegotiation) {
		exts = append(exts, tls.RenegotiationInfoExtension(nil))
	}
	// RFC 7627 §5.1.
	if hasExtension(ch, tls.ExtExtendedMasterSecret) {
		exts = append(exts, tls.ExtendedMasterSecretExtension())
	}
	// RFC 8422 §5.2: ec_point_formats answers the client's, for ECC suites.
	if needsCurve(suite) && hasExtension(ch, tls.ExtECPointFormats) {
		exts = append(exts, tls.ECPointFormatsExtension(0))
	}
	// RFC 7301 §3.1.
	if p, ok := s.chooseALPN(ch); ok {
		exts = append(exts, tls.ServerHelloALPN(p))
	}
	return exts
}

// answerTLS13 answers with a TLS 1.3 ServerHello, or a HelloRetryRequest
// and then, if the client sends a second ClientHello, a ServerHello.
func (s *Server) answerTLS13(c net.Conn, ch *tls.ClientHello, dec *tls.Decoder, buf []byte) {
	suite, ok := s.chooseSuite(tls.VersionTLS13, ch.CipherSuites, func(uint16) bool { return true })
	if s.cfg.UnofferedSuite != 0 {
		suite, ok = s.cfg.UnofferedSuite, true
	}
	if !ok || slices.Contains(s.cfg.Poisons, suite) {
		s.refuse(c, s.cfg.RejectSuites, refuseSuites, tls.VersionTLS12)
		return
	}
	group, share, ok := s.chooseGroup13(ch)
	if !ok && s.cfg.VersionOverride == tls.VersionTLS13 {
		group, share, ok = tls.GroupX25519, true, true
		if gs := s.cfg.groups13(); len(gs) > 0 {
			group = gs[0]
		}
	}
	if !ok {
		// RFC 8446 §4.1.1: no common group is a handshake_failure.
		s.alert(c, tls.AlertHandshakeFailure, tls.VersionTLS12)
		return
	}
	if share {
		s.serverHello13(c, ch, suite, group)
		return
	}

	// RFC 8446 §4.1.4: HelloRetryRequest naming the selected group.
	hrr := &tls.ServerHello{
		Version:     tls.VersionTLS12,
		Random:      []byte(tls.HelloRetryRequestRandom),
		SessionID:   ch.SessionID,
		CipherSuite: suite,
		Extensions: []tls.Extension{
			tls.ServerHelloSupportedVersion(tls.VersionTLS13),
			tls.HRRKeyShare(group),
		},
	}
	if err := s.write13(c, ch, hrr); err != nil {
		return
	}
	// RFC 8446 §4.1.2: the client answers with a second ClientHello
	// carrying a share for the group (after a change_cipher_spec in
	// middlebox compatibility mode, Appendix D.4).
	_ = c.SetDeadline(time.Now().Add(s.cfg.timeout()))
	for {
		ev, err := tls.ReadEvent(c, dec, buf)
		if err != nil {
			return
		}
		if ev.Kind == tls.EventChangeCipherSpec {
			continue
		}
		if ev.Kind != tls.EventHandshake || ev.HandshakeType != tls.TypeClientHello {
			return
		}
		ch2, err := tls.ParseClientHello(ev.Message)
		if err != nil {
			return
		}
		ch2.RecordVersion = ev.RecordVersion
		s.record(ch2)
		// RFC 8446 §4.1.4: a second hello without a share for the
		// selected group is an illegal_parameter.
		if !slices.Contains(ch2.KeyShareGroups, group) {
			s.alert(c, tls.AlertIllegalParameter, tls.VersionTLS12)
			return
		}
		s.serverHello13(c, ch2, suite, group)
		return
	}
}

// serverHello13 sends a TLS 1.3 ServerHello with a key share for group,
// then waits.
func (s *Server) serverHello13(c net.Conn, ch *tls.ClientHello, suite, group uint16) {
	random, err := s.randBytes(32)
	if err != nil {
		return
	}
	pub, err := serverShare(group, s.rand)
	if err != nil {
		return
	}
	// RFC 8446 §4.1.3: legacy_version 0x0303, the client's session id
	// echoed, supported_versions and key_share.
	sh := &tls.ServerHello{
		Version:     tls.VersionTLS12,
		Random:      random,
		SessionID:   ch.SessionID,
		CipherSuite: suite,
		Extensions: []tls.Extension{
			tls.ServerHelloSupportedVersion(tls.VersionTLS13),
			tls.ServerHelloKeyShare(group, pub),
		},
	}
	if err := s.write13(c, ch, sh); err != nil {
		return
	}
	s.wait(c)
}

// write13 writes a TLS 1.3 ServerHello or HelloRetryRequest in a record of
// version 0x0303 (RFC 8446 §5.1), followed by a change_cipher_spec when
// the client is in middlebox compatibility mode (a non-empty
// legacy_session_id, RFC 8446 Appendix D.4).
func (s *Server) write13(c net.Conn, ch *tls.ClientHello, sh *tls.ServerHello) error {
	msg, err := sh.Marshal()
	if err != nil {
		return err
	}
	out := s.handshakeRecords(nil, tls.VersionTLS12, msg)
	if len(ch.SessionID) > 0 {
		out = tls.AppendRecord(out, tls.ContentChangeCipherSpec, tls.VersionTLS12, []byte{1})
	}
	_, err = c.Write(out)
	return err
}

// answerSSLv2 answers an SSLv2 CLIENT-HELLO: a SERVER-HELLO with the
// shared cipher kinds, ERROR NO-CIPHER when there are none
// (draft-hickman-netscape-ssl-00), or, for a server without SSLv2, the
// RejectVersion refusal.
func (s *Server) answerSSLv2(c net.Conn, ch *tls.ClientHello) {
	if len(s.cfg.SSLv2Kinds) == 0 {
		s.refuse(c, s.cfg.RejectVersion, refuseVersion, alertVersion(ch))
		return
	}
	shared := s.sharedSSLv2Kinds(ch)
	if len(shared) == 0 {
		_, _ = c.Write(tls.MarshalSSLv2Error(tls.SSLv2ErrNoCipher))
		s.finish(c)
		return
	}
	connID, err := s.randBytes(16)
	if err != nil {
		return
	}
	var cert []byte
	if len(s.chain) > 0 {
		cert = s.chain[0]
	}
	out, err := tls.MarshalSSLv2ServerHello(&tls.SSLv2ServerHello{
		CertificateType: tls.SSLv2CertificateTypeX509,
		Version:         tls.VersionSSL20,
		Certificate:     cert,
		CipherSpecs:     shared,
		ConnectionID:    connID,
	})
	if err != nil {
		return
	}
	if _, err := c.Write(out); err != nil {
		return
	}
	s.wait(c)
}

// refuse carries out a refusal.
func (s *Server) refuse(c net.Conn, r Refusal, what situation, recVersion tls.Version) {
	if r == RefuseDefault {
		r = RefuseAlert
		if what == refuseIntolerance {
			r = RefuseClose
		}
	}
	switch r {
	case RefuseClose:
		s.finish(c)
	case RefuseReset:
		reset(c)
	case RefuseHang:
		s.hang(c)
	default: // RefuseAlert, and RefuseNegotiateDown where nothing is lower
		desc := tls.AlertHandshakeFailure
		if what == refuseVersion {
			desc = tls.AlertProtocolVersion
		}
		s.alert(c, desc, recVersion)
	}
}

// alert sends a fatal alert and closes.
func (s *Server) alert(c net.Conn, desc uint8, recVersion tls.Version) {
	a := tls.Alert{Level: tls.AlertLevelFatal, Description: desc}
	if _, err := c.Write(tls.AppendRecord(nil, tls.ContentAlert, recVersion, a.Marshal())); err != nil {
		return
	}
	s.finish(c)
}

// alertVersion is the record version of an alert sent before a version is
// agreed: the client's, within SSLv3 … TLS 1.2 (TLS 1.0 for an SSLv2
// hello).
func alertVersion(ch *tls.ClientHello) tls.Version {
	switch v := ch.Version; {
	case v < tls.VersionSSL30:
		return tls.VersionTLS10
	case v > tls.VersionTLS12:
		return tls.VersionTLS12
	default:
		return v
	}
}

// finish closes the sending side (the client sees a FIN, never a reset
// caused by unread data) and waits for the client to close, within the
// connection's deadline.
func (s *Server) finish(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	_ = c.SetReadDeadline(time.Now().Add(s.cfg.timeout()))
	_, _ = io.Copy(io.Discard, c)
}

// wait reads and discards until the client closes or the timeout passes.
func (s *Server) wait(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(s.cfg.timeout()))
	_, _ = io.Copy(io.Discard, c)
}

// hang keeps the connection open without answering for HangFor, until the
// client closes, or until the server stops (Close closes the connection).
func (s *Server) hang(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(s.cfg.hangFor()))
	_, _ = io.Copy(io.Discard, c)
}

// reset aborts the connection with a TCP RST (SO_LINGER 0).
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// garbage returns 64 random bytes that no TLS or SSLv2 parser accepts: the
// first is printable ASCII, neither a TLS content type (20–24) nor an SSLv2
// header (high bit set).
func (s *Server) garbage() ([]byte, error) {
	b, err := s.randBytes(64)
	if err != nil {
		return nil, err
	}
	b[0] = 0x20 + b[0]%0x5f
	return b, nil
}

// serverRandom returns a ServerHello.random. A server that has TLS 1.3
// and negotiates a lower version sets the downgrade sentinel of RFC 8446
// §4.1.3 in the last 8 bytes.
func (s *Server) serverRandom(v tls.Version) ([]byte, error) {
	r, err := s.randBytes(32)
	if err != nil {
		return nil, err
	}
	if s.has(tls.VersionTLS13) && s.cfg.VersionOverride == 0 {
		switch {
		case v == tls.VersionTLS12:
			copy(r[24:], "DOWNGRD\x01")
		case v < tls.VersionTLS12:
			copy(r[24:], "DOWNGRD\x00")
		}
	}
	return r, nil
}

func (s *Server) randBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return nil, fmt.Errorf("faketls: random: %w", err)
	}
	return b, nil
}

// dhPublic returns 2^x mod p for a random 256-bit x, as len(p) bytes.
func (s *Server) dhPublic(p *big.Int) ([]byte, error) {
	xb, err := s.randBytes(32)
	if err != nil {
		return nil, err
	}
	xb[0] |= 0x80
	y := new(big.Int).Exp(big.NewInt(2), new(big.Int).SetBytes(xb), p)
	return y.FillBytes(make([]byte, (p.BitLen()+7)/8)), nil
}
