// Package truthprobe is the exhaustive truth of the real-server tests: it
// offers one cipher suite per ClientHello, for every code point it is
// given at every version asked, reads the server's first flight (to
// ServerHelloDone for SSLv3 … TLS 1.2, to the ServerHello for TLS 1.3) and
// classifies each (version, suite) pair as accepted, chosen-not-completed
// or rejected.
//
// It is written apart from the scanner on purpose and uses the standard
// library only: it shares no code with tlsmap's wire codec (protocols/tls),
// scan engine or registry, so that a bug there cannot hide in the truth.
// Its ClientHello is built and its answers are parsed here, byte by byte,
// from RFC 5246, RFC 6101 and RFC 8446.
package truthprobe

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Wire versions.
const (
	SSL30 uint16 = 0x0300
	TLS10 uint16 = 0x0301
	TLS11 uint16 = 0x0302
	TLS12 uint16 = 0x0303
	TLS13 uint16 = 0x0304
)

// AllVersions are SSLv3 … TLS 1.3.
var AllVersions = []uint16{SSL30, TLS10, TLS11, TLS12, TLS13}

// Verdict classifies one (version, suite) pair.
type Verdict uint8

const (
	// Rejected: an alert, a close or reset, or a ServerHello for another
	// version than asked.
	Rejected Verdict = iota
	// Accepted: a ServerHello (TLS 1.3: or a HelloRetryRequest) for the
	// version and suite, and for TLS ≤ 1.2 the flight up to
	// ServerHelloDone.
	Accepted
	// ChosenNotCompleted: a ServerHello for the version and suite, then an
	// alert, close or reset before ServerHelloDone.
	ChosenNotCompleted
	// Inconclusive: a timeout (twice), or an answer that makes no sense.
	Inconclusive
)

func (v Verdict) String() string {
	switch v {
	case Rejected:
		return "rejected"
	case Accepted:
		return "accepted"
	case ChosenNotCompleted:
		return "chosen-not-completed"
	case Inconclusive:
		return "inconclusive"
	}
	return fmt.Sprintf("verdict(%d)", uint8(v))
}

// Answer is what one probe found.
type Answer struct {
	Verdict Verdict
	Reason  string
}

// Options configures a truth run.
type Options struct {
	// Addr is the server, "127.0.0.1:port".
	Addr string
	// ServerName is sent as SNI (TLS 1.0 and later); "" sends none.
	ServerName string
	// Timeout bounds each connection (0: 5 s).
	Timeout time.Duration
	// Parallel is how many connections are open at once (0: 32).
	Parallel int
	// Dial, when set, opens each connection instead of a TCP dial to
	// Addr (a STARTTLS dialogue, say).
	Dial func(ctx context.Context) (net.Conn, error)
}

// Truth is what a server accepts, one suite per hello.
type Truth struct {
	// Accepted, ChosenNotCompleted and Inconclusive map each version to
	// its suites of that verdict, ascending.
	Accepted           map[uint16][]uint16
	ChosenNotCompleted map[uint16][]uint16
	Inconclusive       map[uint16][]uint16
	// Reasons holds the reason of every chosen-not-completed and
	// inconclusive pair.
	Reasons map[[2]uint16]string
	// Hellos is the number of connections opened; Elapsed the time.
	Hellos  int
	Elapsed time.Duration
}

// Run probes every suite at every version (nil: AllVersions), in parallel.
func Run(ctx context.Context, opts Options, versions, suites []uint16) (*Truth, error) {
	start := time.Now()
	if versions == nil {
		versions = AllVersions
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 32
	}
	p := &prober{opts: opts}
	type job struct{ v, s uint16 }
	jobs := make(chan job)
	tr := &Truth{
		Accepted: map[uint16][]uint16{}, ChosenNotCompleted: map[uint16][]uint16{},
		Inconclusive: map[uint16][]uint16{}, Reasons: map[[2]uint16]string{},
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range opts.Parallel {
		wg.Go(func() {
			for j := range jobs {
				a := p.probe(ctx, j.v, j.s)
				mu.Lock()
				switch a.Verdict {
				case Accepted:
					tr.Accepted[j.v] = append(tr.Accepted[j.v], j.s)
				case ChosenNotCompleted:
					tr.ChosenNotCompleted[j.v] = append(tr.ChosenNotCompleted[j.v], j.s)
					tr.Reasons[[2]uint16{j.v, j.s}] = a.Reason
				case Inconclusive:
					tr.Inconclusive[j.v] = append(tr.Inconclusive[j.v], j.s)
					tr.Reasons[[2]uint16{j.v, j.s}] = a.Reason
				}
				mu.Unlock()
			}
		})
	}
	for _, v := range versions {
		for _, s := range suites {
			select {
			case jobs <- job{v, s}:
			case <-ctx.Done():
			}
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("truthprobe: %w", err)
	}
	for _, m := range []map[uint16][]uint16{tr.Accepted, tr.ChosenNotCompleted, tr.Inconclusive} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
	tr.Hellos = int(p.hellos.Load())
	tr.Elapsed = time.Since(start)
	return tr, nil
}

// Probe offers suite alone at version v, retrying once after a timeout.
func Probe(ctx context.Context, opts Options, v, suite uint16) Answer {
	p := &prober{opts: opts}
	return p.probe(ctx, v, suite)
}

type prober struct {
	opts   Options
	hellos atomic.Int64
}

func (p *prober) probe(ctx context.Context, v, suite uint16) Answer {
	var a Answer
	for range 2 {
		a = p.once(ctx, v, suite)
		if a.Verdict != Inconclusive || ctx.Err() != nil {
			break
		}
	}
	return a
}

func (p *prober) once(ctx context.Context, v, suite uint16) Answer {
	timeout := p.opts.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.Conn
	var err error
	if p.opts.Dial != nil {
		conn, err = p.opts.Dial(dctx)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", p.opts.Addr)
	}
	if err != nil {
		return Answer{Inconclusive, "dial: " + err.Error()}
	}
	defer conn.Close()
	p.hellos.Add(1)
	_ = conn.SetDeadline(time.Now().Add(timeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	hello, err := clientHello(v, []uint16{suite}, p.opts.ServerName)
	if err != nil {
		return Answer{Inconclusive, err.Error()}
	}
	if _, err := conn.Write(hello); err != nil {
		return Answer{Rejected, "write: " + err.Error()}
	}
	a, _ := readFlight(&recordReader{r: conn}, v, []uint16{suite})
	return a
}

// Choose offers suites, in that order, at version v and returns the suite
// the server chose (accepted or chosen-not-completed), or false.
func Choose(ctx context.Context, opts Options, v uint16, suites []uint16) (uint16, bool, error) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.Conn
	var err error
	if opts.Dial != nil {
		conn, err = opts.Dial(dctx)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(dctx, "tcp", opts.Addr)
	}
	if err != nil {
		return 0, false, fmt.Errorf("truthprobe: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	hello, err := clientHello(v, suites, opts.ServerName)
	if err != nil {
		return 0, false, err
	}
	if _, err := conn.Write(hello); err != nil {
		return 0, false, nil
	}
	a, chosen := readFlight(&recordReader{r: conn}, v, suites)
	if a.Verdict == Inconclusive {
		return 0, false, fmt.Errorf("truthprobe: %s", a.Reason)
	}
	return chosen, a.Verdict == Accepted || a.Verdict == ChosenNotCompleted, nil
}

// Order returns whether the server enforces its own order among accepted
// (two or more suites of version v): two suites offered in both orders;
// when it does, ranked is the server's order, found by offering the
// suites not yet ranked, in ascending ID order but with the first of them
// that lead reports true in front, until one is left. (Servers whose
// choice depends on the client's first suite — Go prefers ChaCha20 unless
// the client lists AES-GCM first, OpenSSL's PRIORITIZE_CHACHA — are thus
// ranked for a client that leads with what lead picks, AES-GCM in the
// tests.)
func Order(ctx context.Context, opts Options, v uint16, accepted []uint16, lead func(uint16) bool) (serverOrder bool, ranked []uint16, err error) {
	ids := slices.Sorted(slices.Values(accepted))
	if len(ids) < 2 {
		return false, ids, nil
	}
	a, ok1, err := Choose(ctx, opts, v, []uint16{ids[0], ids[1]})
	if err != nil {
		return false, nil, err
	}
	b, ok2, err := Choose(ctx, opts, v, []uint16{ids[1], ids[0]})
	if err != nil {
		return false, nil, err
	}
	if !ok1 || !ok2 {
		return false, nil, fmt.Errorf("truthprobe: 0x%04x and 0x%04x refused together at 0x%04x", ids[0], ids[1], v)
	}
	if a != b {
		return false, ids, nil
	}
	rest := ids
	for len(rest) > 1 {
		offer := slices.Clone(rest)
		if i := slices.IndexFunc(offer, lead); i > 0 {
			x := offer[i]
			offer = append([]uint16{x}, slices.Delete(offer, i, i+1)...)
		}
		c, ok, err := Choose(ctx, opts, v, offer)
		if err != nil {
			return false, nil, err
		}
		if !ok || !slices.Contains(rest, c) {
			return false, nil, fmt.Errorf("truthprobe: no choice among %04x at 0x%04x", rest, v)
		}
		ranked = append(ranked, c)
		rest = slices.DeleteFunc(slices.Clone(rest), func(x uint16) bool { return x == c })
	}
	return true, append(ranked, rest...), nil
}

// clientHello builds one ClientHello record offering suites at version v.
func clientHello(v uint16, suites []uint16, serverName string) ([]byte, error) {
	var body []byte
	legacy := v
	if v == TLS13 {
		legacy = TLS12
	}
	body = appendU16(body, legacy)
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return nil, err
	}
	body = append(body, random...)
	if v == TLS13 {
		// RFC 8446 Appendix D.4: a 32-byte session id.
		sid := make([]byte, 32)
		_, _ = rand.Read(sid)
		body = append(body, 32)
		body = append(body, sid...)
	} else {
		body = append(body, 0)
	}
	body = appendU16(body, uint16(2*len(suites)))
	for _, suite := range suites {
		body = appendU16(body, suite)
	}
	body = append(body, 1, 0) // compression: null

	if v != SSL30 {
		exts, err := extensions(v, serverName)
		if err != nil {
			return nil, err
		}
		// RFC 7685: pad the message (4-byte header, body, 2-byte
		// extensions length) to at least 512 bytes.
		if n := 4 + len(body) + 2 + len(exts); n < 512 {
			pad := 512 - n - 4
			if pad < 0 {
				pad = 0
			}
			exts = appendU16(exts, 0x0015)
			exts = appendU16(exts, uint16(pad))
			exts = append(exts, make([]byte, pad)...)
		}
		body = appendU16(body, uint16(len(exts)))
		body = append(body, exts...)
	}
	msg := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	recVersion := TLS10
	if v == SSL30 {
		recVersion = SSL30
	}
	rec := []byte{22}
	rec = appendU16(rec, recVersion)
	rec = appendU16(rec, uint16(len(msg)))
	return append(rec, msg...), nil
}

// Groups and signature schemes offered: every deployed one, so that a
// server's certificate and curves find something.
var (
	groups = []uint16{
		0x001D, 0x0017, 0x0018, 0x0019, 0x001E, // x25519, P-256, P-384, P-521, x448
		0x001A, 0x001B, 0x001C, // brainpool
		0x0100, 0x0101, 0x0102, 0x0103, 0x0104, // ffdhe2048 … 8192
		0x0015, 0x0016, 0x0013, 0x0014, 0x0012, 0x0011, 0x0010, 0x000F, 0x000E, 0x000D, // older curves
	}
	sigSchemes = []uint16{
		0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
		0x081a, 0x081b, 0x081c, 0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302,
		0x0203, 0x0201, 0x0202, 0x0402, 0x0502, 0x0602, 0x0101,
	}
)

func extensions(v uint16, serverName string) ([]byte, error) {
	var b []byte
	ext := func(typ uint16, data []byte) {
		b = appendU16(b, typ)
		b = appendU16(b, uint16(len(data)))
		b = append(b, data...)
	}
	if serverName != "" {
		// RFC 6066 §3.
		var sni []byte
		sni = appendU16(sni, uint16(3+len(serverName)))
		sni = append(sni, 0)
		sni = appendU16(sni, uint16(len(serverName)))
		sni = append(sni, serverName...)
		ext(0x0000, sni)
	}
	ext(0x000a, u16List(groups))     // supported_groups
	ext(0x000b, []byte{1, 0})        // ec_point_formats: uncompressed
	ext(0x000d, u16List(sigSchemes)) // signature_algorithms
	ext(0xff01, []byte{0})           // renegotiation_info
	ext(0x0017, nil)                 // extended_master_secret
	ext(0x0023, nil)                 // session_ticket
	if v == TLS13 {
		ext(0x002b, []byte{2, 0x03, 0x04}) // supported_versions: TLS 1.3
		ext(0x002d, []byte{1, 1})          // psk_key_exchange_modes: psk_dhe_ke
		// RFC 8446 §4.2.8: valid x25519 and P-256 shares.
		var shares []byte
		for _, g := range []struct {
			id    uint16
			curve ecdh.Curve
		}{{0x001D, ecdh.X25519()}, {0x0017, ecdh.P256()}} {
			k, err := g.curve.GenerateKey(rand.Reader)
			if err != nil {
				return nil, err
			}
			pub := k.PublicKey().Bytes()
			shares = appendU16(shares, g.id)
			shares = appendU16(shares, uint16(len(pub)))
			shares = append(shares, pub...)
		}
		ext(0x0033, append(appendU16(nil, uint16(len(shares))), shares...))
	}
	return b, nil
}

func u16List(vs []uint16) []byte {
	b := appendU16(nil, uint16(2*len(vs)))
	for _, v := range vs {
		b = appendU16(b, v)
	}
	return b
}

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

// hrrRandom is RFC 8446 §4.1.3's HelloRetryRequest random.
var hrrRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

var alertNames = map[byte]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 40: "handshake_failure",
	42: "bad_certificate", 47: "illegal_parameter", 50: "decode_error", 51: "decrypt_error",
	70: "protocol_version", 71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
	90: "user_canceled", 109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
}

func alertName(d byte) string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("alert %d", d)
}

// readFlight classifies the server's answer to a hello offering suites at
// v, and returns the suite chosen.
func readFlight(r *recordReader, v uint16, suites []uint16) (Answer, uint16) {
	a, chosen := readFlightAnswer(r, v, suites)
	return a, chosen
}

func readFlightAnswer(r *recordReader, v uint16, suites []uint16) (ans Answer, chosen uint16) {
	sawHello := false
	fail := func(what string) (Answer, uint16) {
		if sawHello {
			return Answer{ChosenNotCompleted, what + " after ServerHello"}, chosen
		}
		return Answer{Rejected, what}, 0
	}
	for {
		typ, msg, err := r.next()
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				if sawHello {
					// The ServerHello chose the suite; the rest of the
					// flight is slow, not refused.
					return Answer{Accepted, ""}, chosen
				}
				return Answer{Inconclusive, "timeout"}, 0
			case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return fail("close")
			case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
				return fail("reset")
			case errors.Is(err, errSSLv2):
				return fail("SSLv2 answer")
			}
			return fail(err.Error())
		}
		if typ == 21 { // alert
			if len(msg) == 2 && msg[0] == 1 && msg[1] != 0 {
				continue // RFC 5246 §7.2: a warning (unrecognized_name) goes on
			}
			d := byte(0)
			if len(msg) == 2 {
				d = msg[1]
			}
			return fail("alert " + alertName(d))
		}
		if typ == 20 && sawHello { // change_cipher_spec after a TLS 1.3 HRR/SH
			continue
		}
		if typ != 22 {
			return Answer{Inconclusive, fmt.Sprintf("record type %d", typ)}, 0
		}
		// msg is one handshake message.
		switch msg[0] {
		case 2: // ServerHello
			if sawHello {
				return Answer{Inconclusive, "second ServerHello"}, 0
			}
			sv, ss, hrr, err := parseServerHello(msg[4:])
			if err != nil {
				return Answer{Inconclusive, "ServerHello: " + err.Error()}, 0
			}
			if sv != v {
				return Answer{Rejected, fmt.Sprintf("ServerHello for version 0x%04x", sv)}, 0
			}
			if !slices.Contains(suites, ss) {
				return Answer{Inconclusive, fmt.Sprintf("ServerHello for suite 0x%04x, not offered", ss)}, 0
			}
			chosen = ss
			if v == TLS13 || hrr {
				return Answer{Accepted, ""}, chosen
			}
			sawHello = true
		case 14: // ServerHelloDone
			if !sawHello {
				return Answer{Inconclusive, "ServerHelloDone before ServerHello"}, 0
			}
			return Answer{Accepted, ""}, chosen
		default: // Certificate, ServerKeyExchange, CertificateRequest, CertificateStatus
			if !sawHello {
				return Answer{Inconclusive, fmt.Sprintf("handshake message %d before ServerHello", msg[0])}, 0
			}
		}
	}
}

// parseServerHello reads RFC 5246 §7.4.1.3 / RFC 8446 §4.1.3: the
// negotiated version (supported_versions when present), the suite, and
// whether it is a HelloRetryRequest.
func parseServerHello(b []byte) (version, suite uint16, hrr bool, err error) {
	bad := errors.New("truncated")
	if len(b) < 2+32+1 {
		return 0, 0, false, bad
	}
	version = uint16(b[0])<<8 | uint16(b[1])
	hrr = slices.Equal(b[2:34], hrrRandom)
	b = b[34:]
	sidLen := int(b[0])
	if len(b) < 1+sidLen+3 {
		return 0, 0, false, bad
	}
	b = b[1+sidLen:]
	suite = uint16(b[0])<<8 | uint16(b[1])
	b = b[3:] // suite, compression
	if len(b) < 2 {
		return version, suite, hrr, nil // no extensions (SSLv3)
	}
	n := int(b[0])<<8 | int(b[1])
	b = b[2:]
	if len(b) < n {
		return 0, 0, false, bad
	}
	b = b[:n]
	for len(b) >= 4 {
		typ := uint16(b[0])<<8 | uint16(b[1])
		l := int(b[2])<<8 | int(b[3])
		if len(b) < 4+l {
			return 0, 0, false, bad
		}
		if typ == 0x002b && l == 2 { // supported_versions
			version = uint16(b[4])<<8 | uint16(b[5])
		}
		b = b[4+l:]
	}
	return version, suite, hrr, nil
}

var errSSLv2 = errors.New("SSLv2 record")

// recordReader returns one alert or change_cipher_spec record, or one
// handshake message reassembled from handshake records, at a time.
type recordReader struct {
	r    io.Reader
	hs   []byte // buffered handshake bytes
	read int    // bytes read in all
}

const maxFlight = 1 << 20

func (rr *recordReader) next() (typ byte, msg []byte, err error) {
	for {
		if len(rr.hs) >= 4 {
			n := int(rr.hs[1])<<16 | int(rr.hs[2])<<8 | int(rr.hs[3])
			if len(rr.hs) >= 4+n {
				msg = rr.hs[:4+n]
				rr.hs = rr.hs[4+n:]
				return 22, msg, nil
			}
		}
		var hdr [5]byte
		if _, err := io.ReadFull(rr.r, hdr[:]); err != nil {
			return 0, nil, err
		}
		if hdr[0]&0x80 != 0 {
			return 0, nil, errSSLv2
		}
		if hdr[1] != 3 {
			return 0, nil, fmt.Errorf("not TLS: % x", hdr)
		}
		n := int(hdr[3])<<8 | int(hdr[4])
		rr.read += 5 + n
		if n > 1<<14+2048 || rr.read > maxFlight {
			return 0, nil, errors.New("record too large")
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(rr.r, body); err != nil {
			return 0, nil, err
		}
		switch hdr[0] {
		case 22:
			rr.hs = append(rr.hs, body...)
		case 21, 20:
			if len(rr.hs) > 0 {
				return 0, nil, errors.New("record inside a handshake message")
			}
			return hdr[0], body, nil
		default:
			return hdr[0], body, nil
		}
	}
}
