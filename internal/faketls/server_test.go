package faketls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Suites used throughout, by code point.
const (
	rsaAES128SHA       uint16 = 0x002F // TLS_RSA_WITH_AES_128_CBC_SHA
	rsaAES256SHA       uint16 = 0x0035 // TLS_RSA_WITH_AES_256_CBC_SHA
	rsa3DES            uint16 = 0x000A // TLS_RSA_WITH_3DES_EDE_CBC_SHA
	rsaRC4MD5          uint16 = 0x0004 // TLS_RSA_WITH_RC4_128_MD5
	rsaExportRC4       uint16 = 0x0003 // TLS_RSA_EXPORT_WITH_RC4_40_MD5
	dheAES128GCM       uint16 = 0x009E // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
	ecdheRSAAES128GCM  uint16 = 0xC02F // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	ecdheRSAAES256GCM  uint16 = 0xC030 // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	ecdheRSAChaCha     uint16 = 0xCCA8 // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	ecdheECDSAChaCha   uint16 = 0xCCA9 // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	tls13AES128        uint16 = 0x1301
	tls13AES256        uint16 = 0x1302
	tls13ChaCha        uint16 = 0x1303
	greaseSuite        uint16 = 0x0A0A
	groupX25519               = tls.GroupX25519
	groupP256                 = tls.GroupP256
	groupP384                 = tls.GroupP384
	sslv2RC4128MD5     uint32 = 0x010080
	sslv2RC4Export40   uint32 = 0x020080
	sslv2DES192EDE3    uint32 = 0x0700C0
	sslv2DES64CBCMD5   uint32 = 0x060040
	sslv2IDEA128CBCMD5 uint32 = 0x050080
)

// testRand is a deterministic random source for hellos and key shares.
func testRand(seed byte) io.Reader {
	return rand.NewChaCha8([32]byte{seed, 'f', 'a', 'k', 'e'})
}

// start starts a server with short timeouts and a seeded random source.
func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.HangFor == 0 {
		cfg.HangFor = 300 * time.Millisecond
	}
	if cfg.Rand == nil {
		cfg.Rand = testRand(1)
	}
	return Start(t, cfg)
}

// tls12Only is a server that accepts suites for TLS 1.2 only.
func tls12Only(suites ...uint16) Config {
	return Config{Suites: map[tls.Version][]uint16{tls.VersionTLS12: suites}}
}

// hello returns a TLS 1.2 ClientHello offering suites with
// supported_groups, ec_point_formats, signature_algorithms and
// renegotiation_info, as a typical client sends.
func hello(v tls.Version, suites ...uint16) *tls.ClientHello {
	return &tls.ClientHello{
		Version:            v,
		Random:             bytes.Repeat([]byte{0x42}, 32),
		CipherSuites:       suites,
		CompressionMethods: []uint8{0},
		Extensions: []tls.Extension{
			tls.ServerNameExtension("faketls.test"),
			tls.SupportedGroupsExtension(groupX25519, groupP256, groupP384),
			tls.ECPointFormatsExtension(0),
			tls.SignatureAlgorithmsExtension(0x0403, 0x0804, 0x0401),
			tls.RenegotiationInfoExtension(nil),
		},
	}
}

// hello13 returns a TLS 1.3 ClientHello (legacy_version 0x0303,
// supported_versions [1.3, 1.2]) with key shares for shareGroups and
// supported_groups listing groups.
func hello13(t testing.TB, suites []uint16, groups []uint16, shareGroups ...uint16) *tls.ClientHello {
	t.Helper()
	var shares []tls.KeyShare
	rnd := testRand(7)
	for _, g := range shareGroups {
		ks, err := tls.GenerateKeyShare(g, rnd)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, ks)
	}
	return &tls.ClientHello{
		Version:            tls.VersionTLS12,
		Random:             bytes.Repeat([]byte{0x13}, 32),
		SessionID:          bytes.Repeat([]byte{0x55}, 32),
		CipherSuites:       suites,
		CompressionMethods: []uint8{0},
		Extensions: []tls.Extension{
			tls.SupportedVersionsExtension(uint16(tls.VersionTLS13), uint16(tls.VersionTLS12)),
			tls.SupportedGroupsExtension(groups...),
			tls.KeyShareExtension(shares...),
			tls.SignatureAlgorithmsExtension(0x0403, 0x0804),
		},
	}
}

// wire marshals a hello into records, padded out of 256–511 bytes like
// every client of this project.
func wire(t testing.TB, ch *tls.ClientHello) []byte {
	t.Helper()
	if err := ch.PadForF5(); err != nil {
		t.Fatal(err)
	}
	b, err := ch.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply is what a server answered to one probe.
type reply struct {
	sh        *tls.ServerHello
	certs     [][]byte
	ske       *tls.ServerKeyExchange
	done      bool // ServerHelloDone
	alert     *tls.Alert
	ccs       bool
	v2hello   *tls.SSLv2ServerHello
	v2err     tls.SSLv2ErrorCode
	raw       []byte
	decodeErr error // the answer is not TLS
	closed    bool  // FIN before a complete answer
	reset     bool  // RST
	timeout   bool  // nothing complete before the deadline
	elapsed   time.Duration
	records   []tls.Version // the record version of each handshake message
}

// summary is a one-line description for failure messages.
func (r *reply) summary() string {
	switch {
	case r.alert != nil:
		return "alert " + r.alert.String()
	case r.sh != nil:
		return fmt.Sprintf("ServerHello %v suite 0x%04X hrr=%v", r.sh.NegotiatedVersion(), r.sh.CipherSuite, r.sh.HelloRetryRequest)
	case r.v2hello != nil:
		return fmt.Sprintf("SSLv2 SERVER-HELLO %06X", r.v2hello.CipherSpecs)
	case r.v2err != 0:
		return "SSLv2 " + r.v2err.String()
	case r.reset:
		return "reset"
	case r.closed:
		return fmt.Sprintf("closed after %d bytes", len(r.raw))
	case r.timeout:
		return "timeout"
	case r.decodeErr != nil:
		return fmt.Sprintf("not TLS (%v): %q", r.decodeErr, r.raw)
	}
	return "nothing"
}

// probe sends msg on a fresh connection and reads the answer up to
// ServerHelloDone, a TLS 1.3 ServerHello or HelloRetryRequest, an alert or
// an SSLv2 message, or until the server closes or deadline passes.
func probe(t testing.TB, addr string, msg []byte, deadline time.Duration) *reply {
	t.Helper()
	cl := dial(t, addr)
	defer cl.c.Close()
	return cl.converse(t, msg, deadline)
}

// client is one connection to a server and the decoder of what it sends.
type client struct {
	c   net.Conn
	dec *tls.Decoder
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return &client{c: c, dec: tls.NewDecoder(0)}
}

// converse writes msg and reads the answer (see probe). Events decoded but
// not consumed by an earlier call come first.
func (cl *client) converse(t testing.TB, msg []byte, deadline time.Duration) *reply {
	t.Helper()
	begin := time.Now()
	_ = cl.c.SetDeadline(begin.Add(deadline))
	if _, err := cl.c.Write(msg); err != nil {
		t.Fatalf("write hello: %v", err)
	}
	r := &reply{}
	buf := make([]byte, 4096)
	for {
		for {
			ev, err := cl.dec.Next()
			if errors.Is(err, tls.ErrNeedMore) {
				break
			}
			if err != nil {
				r.decodeErr = err
				r.elapsed = time.Since(begin)
				return r
			}
			if r.event(t, ev) {
				r.elapsed = time.Since(begin)
				return r
			}
		}
		n, err := cl.c.Read(buf)
		r.raw = append(r.raw, buf[:n]...)
		_, _ = cl.dec.Write(buf[:n])
		if n > 0 {
			continue
		}
		r.elapsed = time.Since(begin)
		var ne net.Error
		switch {
		case errors.Is(err, io.EOF):
			r.closed = true
		case errors.Is(err, syscall.ECONNRESET):
			r.reset = true
		case errors.As(err, &ne) && ne.Timeout():
			r.timeout = true
		default:
			t.Fatalf("read: %v", err)
		}
		return r
	}
}

// event records one decoded event and reports whether the answer is
// complete.
func (r *reply) event(t testing.TB, ev tls.Event) bool {
	t.Helper()
	switch ev.Kind {
	case tls.EventAlert:
		a := ev.Alert
		r.alert = &a
		return true
	case tls.EventChangeCipherSpec:
		r.ccs = true
	case tls.EventSSLv2:
		switch ev.Message[0] {
		case tls.SSLv2MsgServerHello:
			h, err := tls.ParseSSLv2ServerHello(ev.Message)
			if err != nil {
				t.Fatalf("SSLv2 SERVER-HELLO: %v", err)
			}
			r.v2hello = h
		case tls.SSLv2MsgError:
			code, err := tls.ParseSSLv2Error(ev.Message)
			if err != nil {
				t.Fatalf("SSLv2 ERROR: %v", err)
			}
			r.v2err = code
		default:
			t.Fatalf("SSLv2 message type %d", ev.Message[0])
		}
		return true
	case tls.EventHandshake:
		r.records = append(r.records, ev.RecordVersion)
		var err error
		switch ev.HandshakeType {
		case tls.TypeServerHello:
			r.sh, err = tls.ParseServerHello(ev.Message)
			if err == nil && (r.sh.HelloRetryRequest || r.sh.NegotiatedVersion() == tls.VersionTLS13) {
				return true
			}
		case tls.TypeCertificate:
			r.certs, err = tls.ParseCertificate(ev.Message, false)
		case tls.TypeServerKeyExchange:
			if r.sh == nil {
				t.Fatal("ServerKeyExchange before ServerHello")
			}
			if suiteOf(r.sh.CipherSuite).ske == skeECDHE {
				r.ske, err = tls.ParseServerKeyExchangeECDHE(ev.Message)
			} else {
				r.ske, err = tls.ParseServerKeyExchangeDHE(ev.Message)
			}
		case tls.TypeServerHelloDone:
			err = tls.ParseServerHelloDone(ev.Message)
			r.done = true
		default:
			t.Fatalf("unexpected %v", ev.HandshakeType)
		}
		if err != nil {
			t.Fatalf("%v: %v", ev.HandshakeType, err)
		}
		return r.done
	default:
		t.Fatalf("unexpected event %v", ev.Kind)
	}
	return false
}

// wantSuite checks that r is a complete ServerHello answer for v and suite.
func wantSuite(t *testing.T, r *reply, v tls.Version, suite uint16) {
	t.Helper()
	if r.sh == nil {
		t.Fatalf("want ServerHello %v 0x%04X, got %s", v, suite, r.summary())
	}
	if got := r.sh.NegotiatedVersion(); got != v {
		t.Errorf("version = %v, want %v", got, v)
	}
	if r.sh.CipherSuite != suite {
		t.Errorf("suite = 0x%04X, want 0x%04X", r.sh.CipherSuite, suite)
	}
	if v < tls.VersionTLS13 && !r.done {
		t.Errorf("no ServerHelloDone: %s", r.summary())
	}
}

// wantAlert checks that r is a fatal alert desc.
func wantAlert(t *testing.T, r *reply, desc uint8) {
	t.Helper()
	if r.alert == nil || r.alert.Level != tls.AlertLevelFatal || r.alert.Description != desc {
		t.Fatalf("want fatal %s, got %s", tls.AlertDescriptionName(desc), r.summary())
	}
}

func TestSuitePreference(t *testing.T) {
	order := []uint16{ecdheRSAAES256GCM, ecdheRSAAES128GCM, rsaAES128SHA}
	tests := []struct {
		name    string
		server  bool
		offered []uint16
		want    uint16
	}{
		{"client order", false, []uint16{rsaAES128SHA, ecdheRSAAES256GCM}, rsaAES128SHA},
		{"client order skips unknown", false, []uint16{greaseSuite, 0x0067, ecdheRSAAES128GCM, ecdheRSAAES256GCM}, ecdheRSAAES128GCM},
		{"server order", true, []uint16{rsaAES128SHA, ecdheRSAAES128GCM, ecdheRSAAES256GCM}, ecdheRSAAES256GCM},
		{"server order among offered", true, []uint16{rsaAES128SHA, ecdheRSAAES128GCM}, ecdheRSAAES128GCM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tls12Only(order...)
			cfg.ServerPreference = tt.server
			s := start(t, cfg)
			r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, tt.offered...)), 2*time.Second)
			wantSuite(t, r, tls.VersionTLS12, tt.want)
		})
	}
}

func TestPrioritizeChaCha(t *testing.T) {
	order := []uint16{ecdheRSAAES128GCM, ecdheRSAAES256GCM, ecdheECDSAChaCha, ecdheRSAChaCha}
	tests := []struct {
		name     string
		prio     bool
		offered  []uint16
		want     uint16
		wantNote string
	}{
		{"chacha first, prioritised", true, []uint16{ecdheRSAChaCha, ecdheRSAAES128GCM}, ecdheRSAChaCha, ""},
		{"GREASE then chacha", true, []uint16{greaseSuite, ecdheRSAChaCha, ecdheRSAAES128GCM}, ecdheRSAChaCha, ""},
		{"server's chacha order", true, []uint16{ecdheRSAChaCha, ecdheECDSAChaCha, ecdheRSAAES128GCM}, ecdheECDSAChaCha, ""},
		{"aes first", true, []uint16{ecdheRSAAES256GCM, ecdheRSAChaCha}, ecdheRSAAES256GCM, ""},
		{"chacha first, not prioritised", false, []uint16{ecdheRSAChaCha, ecdheRSAAES128GCM}, ecdheRSAAES128GCM, ""},
		{"unaccepted first suite", true, []uint16{0xCCAA, ecdheRSAChaCha, ecdheRSAAES128GCM}, ecdheRSAAES128GCM, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tls12Only(order...)
			cfg.ServerPreference = true
			cfg.PrioritizeChaCha = tt.prio
			s := start(t, cfg)
			r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, tt.offered...)), 2*time.Second)
			wantSuite(t, r, tls.VersionTLS12, tt.want)
		})
	}
}

func TestTLS13KeyShare(t *testing.T) {
	cfg := Config{
		Suites:   map[tls.Version][]uint16{tls.VersionTLS13: {tls13AES128, tls13AES256, tls13ChaCha}},
		Groups13: []uint16{groupX25519, groupP256, groupP384},
	}
	s := start(t, cfg)
	tests := []struct {
		name      string
		groups    []uint16
		shares    []uint16
		wantGroup uint16
		wantLen   int
		wantHRR   bool
	}{
		{"share for the server's first", []uint16{groupP256, groupX25519}, []uint16{groupP256, groupX25519}, groupX25519, 32, false},
		{"share for a later group beats HRR", []uint16{groupX25519, groupP256}, []uint16{groupP256}, groupP256, 65, false},
		{"share not the server's: HRR", []uint16{tls.GroupP521, groupP384}, []uint16{tls.GroupP521}, groupP384, 0, true},
		{"empty key_share: HRR for server's first listed", []uint16{groupP384, groupP256}, nil, groupP256, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := hello13(t, []uint16{tls13ChaCha, tls13AES128}, tt.groups, tt.shares...)
			r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
			wantSuite(t, r, tls.VersionTLS13, tls13ChaCha)
			if r.sh == nil {
				return
			}
			if r.sh.HelloRetryRequest != tt.wantHRR {
				t.Errorf("HelloRetryRequest = %v, want %v", r.sh.HelloRetryRequest, tt.wantHRR)
			}
			if r.sh.KeyShareGroup != tt.wantGroup {
				t.Errorf("group = 0x%04X, want 0x%04X", r.sh.KeyShareGroup, tt.wantGroup)
			}
			if r.sh.Version != tls.VersionTLS12 || !bytes.Equal(r.sh.SessionID, ch.SessionID) {
				t.Errorf("legacy_version %v, session id %x: want 0x0303 and the client's", r.sh.Version, r.sh.SessionID)
			}
			if r.records[0] != tls.VersionTLS12 {
				t.Errorf("record version %v, want TLSv1.2", r.records[0])
			}
			if !tt.wantHRR {
				share := keyShareData(t, r.sh)
				if len(share) != tt.wantLen {
					t.Errorf("key_exchange is %d bytes, want %d", len(share), tt.wantLen)
				}
			}
		})
	}
}

// keyShareData returns the key_exchange of a ServerHello's key_share: the
// group (2 bytes) and a 2-byte length come first (RFC 8446 §4.2.8).
func keyShareData(t *testing.T, sh *tls.ServerHello) []byte {
	t.Helper()
	for _, e := range sh.Extensions {
		if e.Type == tls.ExtKeyShare {
			if len(e.Data) < 4 {
				t.Fatalf("key_share %x", e.Data)
			}
			return e.Data[4:]
		}
	}
	t.Fatal("no key_share extension")
	return nil
}

func TestTLS13HelloRetry(t *testing.T) {
	cfg := Config{
		Suites:   map[tls.Version][]uint16{tls.VersionTLS13: {tls13AES128}},
		Groups13: []uint16{groupP384, groupX25519},
	}
	s := start(t, cfg)
	for _, tt := range []struct {
		name   string
		second []uint16 // key shares of the second hello
		want   uint16   // group of the ServerHello, 0 for illegal_parameter
	}{
		{"second hello with the share", []uint16{groupP384}, groupP384},
		{"second hello without it", []uint16{groupX25519}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cl := dial(t, s.Addr())
			defer cl.c.Close()
			groups := []uint16{groupX25519, groupP384}
			r := cl.converse(t, wire(t, hello13(t, []uint16{tls13AES128}, groups)), 2*time.Second)
			if r.sh == nil || !r.sh.HelloRetryRequest || r.sh.KeyShareGroup != groupP384 {
				t.Fatalf("want HelloRetryRequest for secp384r1, got %s", r.summary())
			}
			if r.sh.SupportedVersion != tls.VersionTLS13 {
				t.Errorf("HRR supported_version %v", r.sh.SupportedVersion)
			}
			// Middlebox compatibility (RFC 8446 D.4): change_cipher_spec,
			// then the second hello.
			second := wire(t, hello13(t, []uint16{tls13AES128}, groups, tt.second...))
			second = append(tls.AppendRecord(nil, tls.ContentChangeCipherSpec, tls.VersionTLS12, []byte{1}), second...)
			r2 := cl.converse(t, second, 2*time.Second)
			if tt.want == 0 {
				wantAlert(t, r2, tls.AlertIllegalParameter)
				return
			}
			wantSuite(t, r2, tls.VersionTLS13, tls13AES128)
			if r2.sh != nil && (r2.sh.HelloRetryRequest || r2.sh.KeyShareGroup != tt.want) {
				t.Errorf("second answer: %s group 0x%04X", r2.summary(), r2.sh.KeyShareGroup)
			}
		})
	}
	if got := len(s.Hellos()); got != 4 {
		t.Errorf("Hellos() has %d, want 4", got)
	}
}

func TestTLS13Refusals(t *testing.T) {
	cfg := Config{
		Suites:   map[tls.Version][]uint16{tls.VersionTLS13: {tls13AES128}},
		Groups13: []uint16{groupX25519},
	}
	s := start(t, cfg)
	t.Run("no common group", func(t *testing.T) {
		r := probe(t, s.Addr(), wire(t, hello13(t, []uint16{tls13AES128}, []uint16{groupP256}, groupP256)), 2*time.Second)
		wantAlert(t, r, tls.AlertHandshakeFailure)
	})
	t.Run("no common suite", func(t *testing.T) {
		r := probe(t, s.Addr(), wire(t, hello13(t, []uint16{tls13AES256}, []uint16{groupX25519}, groupX25519)), 2*time.Second)
		wantAlert(t, r, tls.AlertHandshakeFailure)
	})
	t.Run("TLS 1.3 only, asked 1.2", func(t *testing.T) {
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, ecdheRSAAES128GCM)), 2*time.Second)
		wantAlert(t, r, tls.AlertProtocolVersion)
	})
}

func TestECDHECurve(t *testing.T) {
	tests := []struct {
		name    string
		curves  []uint16
		groups  []uint16 // nil: no supported_groups extension
		offered []uint16
		want    uint16 // suite; 0 for handshake_failure
		curve   uint16
	}{
		{"server preference", []uint16{groupP384, groupX25519}, []uint16{groupX25519, groupP384}, []uint16{ecdheRSAAES128GCM}, ecdheRSAAES128GCM, groupP384},
		{"only common one", []uint16{groupP384, groupX25519}, []uint16{groupP256, groupX25519}, []uint16{ecdheRSAAES128GCM}, ecdheRSAAES128GCM, groupX25519},
		{"no supported_groups: server's first", []uint16{groupP256, groupX25519}, nil, []uint16{ecdheRSAAES128GCM}, ecdheRSAAES128GCM, groupP256},
		{"no common curve, RSA left", []uint16{groupP384}, []uint16{groupX25519}, []uint16{ecdheRSAAES128GCM, rsaAES128SHA}, rsaAES128SHA, 0},
		{"no common curve", []uint16{groupP384}, []uint16{groupX25519}, []uint16{ecdheRSAAES128GCM}, 0, 0},
		{"P-521 and an unimplemented curve", []uint16{0x0016, tls.GroupP521}, []uint16{tls.GroupP521, 0x0016}, []uint16{ecdheRSAAES128GCM}, ecdheRSAAES128GCM, 0x0016},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tls12Only(ecdheRSAAES128GCM, rsaAES128SHA)
			cfg.Curves = tt.curves
			s := start(t, cfg)
			ch := hello(tls.VersionTLS12, tt.offered...)
			ch.Extensions = slices.DeleteFunc(ch.Extensions, func(e tls.Extension) bool { return e.Type == tls.ExtSupportedGroups })
			if tt.groups != nil {
				ch.Extensions = append(ch.Extensions, tls.SupportedGroupsExtension(tt.groups...))
			}
			r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
			if tt.want == 0 {
				wantAlert(t, r, tls.AlertHandshakeFailure)
				return
			}
			wantSuite(t, r, tls.VersionTLS12, tt.want)
			if len(r.certs) != 1 {
				t.Errorf("%d certificates, want 1", len(r.certs))
			}
			if tt.curve == 0 {
				if r.ske != nil {
					t.Errorf("ServerKeyExchange for an RSA suite")
				}
				return
			}
			if r.ske == nil || r.ske.Group != tt.curve {
				t.Fatalf("ServerKeyExchange %+v, want curve 0x%04X", r.ske, tt.curve)
			}
			if want := serverShareLen(tt.curve); len(r.ske.PublicKey) != want {
				t.Errorf("public key %d bytes, want %d", len(r.ske.PublicKey), want)
			}
			if !hasExt(r.sh, tls.ExtECPointFormats) || !r.sh.SecureRenegotiation {
				t.Errorf("ServerHello extensions %v: want ec_point_formats and renegotiation_info", r.sh.Extensions)
			}
		})
	}
}

func hasExt(sh *tls.ServerHello, typ uint16) bool {
	return slices.ContainsFunc(sh.Extensions, func(e tls.Extension) bool { return e.Type == typ })
}

func TestDHE(t *testing.T) {
	tests := []struct {
		name   string
		bits   int
		ffdhe  []uint16
		groups []uint16
		want   int    // prime bits; 0 for handshake_failure
		prime  uint16 // the ffdhe group whose prime is expected
	}{
		{"default size", 0, nil, []uint16{groupX25519}, 2048, 0},
		{"1024 bits", 1024, nil, nil, 1024, 0},
		{"export size", 512, nil, nil, 512, 0},
		{"ffdhe negotiated", 1024, []uint16{tls.GroupFFDHE3072, tls.GroupFFDHE2048}, []uint16{groupX25519, tls.GroupFFDHE2048, tls.GroupFFDHE3072}, 3072, tls.GroupFFDHE3072},
		{"ffdhe not listed by client", 1024, []uint16{tls.GroupFFDHE2048}, []uint16{groupX25519}, 1024, 0},
		{"RFC 7919 §4: no common ffdhe", 1024, []uint16{tls.GroupFFDHE2048}, []uint16{tls.GroupFFDHE4096}, 0, 0},
		{"server without RFC 7919", 1024, nil, []uint16{tls.GroupFFDHE4096}, 1024, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				Suites:      map[tls.Version][]uint16{tls.VersionTLS12: {dheAES128GCM}},
				DHPrimeBits: tt.bits,
				FFDHE:       tt.ffdhe,
			}
			s := start(t, cfg)
			ch := hello(tls.VersionTLS12, dheAES128GCM)
			ch.Extensions = slices.DeleteFunc(ch.Extensions, func(e tls.Extension) bool { return e.Type == tls.ExtSupportedGroups })
			if tt.groups != nil {
				ch.Extensions = append(ch.Extensions, tls.SupportedGroupsExtension(tt.groups...))
			}
			r := probe(t, s.Addr(), wire(t, ch), 3*time.Second)
			if tt.want == 0 {
				wantAlert(t, r, tls.AlertHandshakeFailure)
				return
			}
			wantSuite(t, r, tls.VersionTLS12, dheAES128GCM)
			if r.ske == nil || r.ske.Kind.String() != "DHE" {
				t.Fatalf("ServerKeyExchange %+v", r.ske)
			}
			if r.ske.DHPrimeBits != tt.want {
				t.Errorf("prime %d bits, want %d", r.ske.DHPrimeBits, tt.want)
			}
			p := new(big.Int).SetBytes(r.ske.DHPrime)
			if tt.prime != 0 && p.Cmp(ffdhePrime(tt.prime)) != 0 {
				t.Errorf("prime is not ffdhe 0x%04X", tt.prime)
			}
			if tt.prime == 0 && p.Cmp(dhPrime(tt.want)) != 0 {
				t.Errorf("prime is not the fixed %d-bit prime", tt.want)
			}
			y := new(big.Int).SetBytes(r.ske.PublicKey)
			if !bytes.Equal(r.ske.DHGenerator, []byte{2}) || y.Sign() <= 0 || y.Cmp(p) >= 0 {
				t.Errorf("g = %x, y out of range", r.ske.DHGenerator)
			}
		})
	}
	t.Run("export suite in TLS 1.0", func(t *testing.T) {
		s := start(t, Config{Suites: map[tls.Version][]uint16{tls.VersionTLS10: {0x0014}}, DHPrimeBits: 512})
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS10, 0x0014)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS10, 0x0014)
		if r.ske == nil || r.ske.DHPrimeBits != 512 {
			t.Errorf("ServerKeyExchange %+v, want a 512-bit prime", r.ske)
		}
	})
}

func TestSSLv2(t *testing.T) {
	challenge := bytes.Repeat([]byte{0xC7}, 16)
	v2hello := func(t *testing.T, v tls.Version, kinds ...uint32) []byte {
		b, err := tls.BuildSSLv2ClientHello(v, kinds, nil, challenge)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v2 := Config{SSLv2Kinds: []uint32{sslv2DES192EDE3, sslv2RC4128MD5, sslv2RC4Export40}}
	t.Run("intersection in client order", func(t *testing.T) {
		s := start(t, v2)
		r := probe(t, s.Addr(), v2hello(t, tls.VersionSSL20, sslv2RC4Export40, sslv2IDEA128CBCMD5, sslv2DES192EDE3), 2*time.Second)
		if r.v2hello == nil {
			t.Fatalf("want SERVER-HELLO, got %s", r.summary())
		}
		if want := []uint32{sslv2RC4Export40, sslv2DES192EDE3}; !slices.Equal(r.v2hello.CipherSpecs, want) {
			t.Errorf("kinds %06X, want %06X", r.v2hello.CipherSpecs, want)
		}
		chain, _ := defaultChain()
		if !bytes.Equal(r.v2hello.Certificate, chain[0]) || r.v2hello.Version != tls.VersionSSL20 || len(r.v2hello.ConnectionID) < 16 {
			t.Errorf("SERVER-HELLO %+v", r.v2hello)
		}
		if hs := s.Hellos(); len(hs) != 1 || !hs[0].SSLv2 {
			t.Errorf("Hellos() = %v", hs)
		}
	})
	t.Run("nothing shared", func(t *testing.T) {
		s := start(t, v2)
		r := probe(t, s.Addr(), v2hello(t, tls.VersionSSL20, sslv2DES64CBCMD5), 2*time.Second)
		if r.v2err != tls.SSLv2ErrNoCipher {
			t.Fatalf("want NO-CIPHER-ERROR, got %s", r.summary())
		}
	})
	t.Run("server without SSLv2", func(t *testing.T) {
		s := start(t, tls12Only(rsaAES128SHA))
		r := probe(t, s.Addr(), v2hello(t, tls.VersionSSL20, sslv2RC4128MD5), 2*time.Second)
		wantAlert(t, r, tls.AlertProtocolVersion)
	})
	t.Run("compatible hello to an SSLv2-only server", func(t *testing.T) {
		s := start(t, v2)
		r := probe(t, s.Addr(), v2hello(t, tls.VersionTLS10, uint32(rsaAES128SHA), sslv2RC4128MD5), 2*time.Second)
		if r.v2hello == nil || !slices.Equal(r.v2hello.CipherSpecs, []uint32{sslv2RC4128MD5}) {
			t.Fatalf("want SERVER-HELLO [RC4-MD5], got %s", r.summary())
		}
	})
	t.Run("compatible hello to a TLS server", func(t *testing.T) {
		cfg := v2
		cfg.Suites = map[tls.Version][]uint16{tls.VersionTLS10: {rsaAES128SHA}}
		s := start(t, cfg)
		r := probe(t, s.Addr(), v2hello(t, tls.VersionTLS10, sslv2RC4128MD5, uint32(rsaAES128SHA)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS10, rsaAES128SHA)
	})
}

func TestSSLv3(t *testing.T) {
	s := start(t, Config{Suites: map[tls.Version][]uint16{tls.VersionSSL30: {rsaRC4MD5, rsaExportRC4}}})
	ch := hello(tls.VersionSSL30, rsaExportRC4, rsaRC4MD5)
	ch.RecordVersion = tls.VersionSSL30
	r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
	wantSuite(t, r, tls.VersionSSL30, rsaExportRC4)
	if r.sh != nil && (r.sh.HasExtensions || len(r.sh.Extensions) > 0) {
		t.Errorf("SSLv3 ServerHello with extensions %v", r.sh.Extensions)
	}
	for _, v := range r.records {
		if v != tls.VersionSSL30 {
			t.Errorf("record version %v, want SSLv3", v)
		}
	}
}

func TestRejectVersion(t *testing.T) {
	suites := map[tls.Version][]uint16{
		tls.VersionTLS10: {rsaAES128SHA},
		tls.VersionTLS12: {rsaAES128SHA},
	}
	tests := []struct {
		name   string
		refuse Refusal
		asked  tls.Version
		check  func(t *testing.T, r *reply)
	}{
		{"default alert", RefuseDefault, tls.VersionTLS11, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertProtocolVersion) }},
		{"alert", RefuseAlert, tls.VersionTLS11, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertProtocolVersion) }},
		{"negotiate down", RefuseNegotiateDown, tls.VersionTLS11, func(t *testing.T, r *reply) { wantSuite(t, r, tls.VersionTLS10, rsaAES128SHA) }},
		{"nothing lower", RefuseNegotiateDown, tls.VersionSSL30, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertProtocolVersion) }},
		{"close", RefuseClose, tls.VersionTLS11, wantClosed},
		{"reset", RefuseReset, tls.VersionTLS11, wantReset},
		{"hang", RefuseHang, tls.VersionTLS11, wantHang},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Config{Suites: suites, RejectVersion: tt.refuse})
			r := probe(t, s.Addr(), wire(t, hello(tt.asked, rsaAES128SHA)), 2*time.Second)
			tt.check(t, r)
		})
	}
	t.Run("TLS 1.3 asked of a TLS 1.2 server", func(t *testing.T) {
		// A server without TLS 1.3 ignores supported_versions and
		// answers legacy_version (RFC 8446 §4.2.1, Appendix D).
		s := start(t, Config{Suites: suites})
		ch := hello13(t, []uint16{tls13AES128, rsaAES128SHA}, []uint16{groupX25519}, groupX25519)
		r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, rsaAES128SHA)
	})
	t.Run("downgrade sentinel", func(t *testing.T) {
		cfg := Config{Suites: map[tls.Version][]uint16{tls.VersionTLS12: {rsaAES128SHA}, tls.VersionTLS11: {rsaAES128SHA}, tls.VersionTLS13: {tls13AES128}}}
		s := start(t, cfg)
		for v, want := range map[tls.Version]string{tls.VersionTLS12: "DOWNGRD\x01", tls.VersionTLS11: "DOWNGRD\x00"} {
			r := probe(t, s.Addr(), wire(t, hello(v, rsaAES128SHA)), 2*time.Second)
			wantSuite(t, r, v, rsaAES128SHA)
			if r.sh != nil && string(r.sh.Random[24:]) != want {
				t.Errorf("%v: random ends %q, want %q", v, r.sh.Random[24:], want)
			}
		}
	})
}

func wantClosed(t *testing.T, r *reply) {
	t.Helper()
	if !r.closed || len(r.raw) != 0 {
		t.Fatalf("want a close without answer, got %s", r.summary())
	}
}

func wantReset(t *testing.T, r *reply) {
	t.Helper()
	if !r.reset || len(r.raw) != 0 {
		t.Fatalf("want a reset, got %s", r.summary())
	}
}

// wantHang expects no answer, then the close at the end of the test
// servers' 300 ms HangFor.
func wantHang(t *testing.T, r *reply) {
	t.Helper()
	if !r.closed || len(r.raw) != 0 || r.elapsed < 250*time.Millisecond {
		t.Fatalf("want silence for HangFor then a close, got %s after %v", r.summary(), r.elapsed)
	}
}

func TestRejectSuites(t *testing.T) {
	tests := []struct {
		refuse Refusal
		check  func(t *testing.T, r *reply)
	}{
		{RefuseDefault, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertHandshakeFailure) }},
		{RefuseAlert, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertHandshakeFailure) }},
		{RefuseNegotiateDown, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertHandshakeFailure) }},
		{RefuseClose, wantClosed},
		{RefuseReset, wantReset},
		{RefuseHang, wantHang},
	}
	for _, tt := range tests {
		t.Run(tt.refuse.String(), func(t *testing.T) {
			cfg := tls12Only(rsaAES128SHA)
			cfg.RejectSuites = tt.refuse
			s := start(t, cfg)
			r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, rsa3DES, rsaAES256SHA)), 2*time.Second)
			tt.check(t, r)
		})
	}
}

func TestMaxSuites(t *testing.T) {
	offer := func(n int) []uint16 {
		suites := make([]uint16, 0, n)
		for i := range n - 1 {
			suites = append(suites, 0xFE00+uint16(i)) // unassigned
		}
		return append(suites, rsaAES128SHA)
	}
	tests := []struct {
		name   string
		action Refusal
		n      int
		check  func(t *testing.T, r *reply)
	}{
		{"at the limit", RefuseDefault, 64, func(t *testing.T, r *reply) { wantSuite(t, r, tls.VersionTLS12, rsaAES128SHA) }},
		{"over: default close", RefuseDefault, 65, wantClosed},
		{"over: alert", RefuseAlert, 65, func(t *testing.T, r *reply) { wantAlert(t, r, tls.AlertHandshakeFailure) }},
		{"over: reset", RefuseReset, 65, wantReset},
		{"over: hang", RefuseHang, 65, wantHang},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tls12Only(rsaAES128SHA)
			cfg.MaxSuites, cfg.Intolerance = 64, tt.action
			s := start(t, cfg)
			r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, offer(tt.n)...)), 2*time.Second)
			tt.check(t, r)
		})
	}
}

func TestIntolerant256to511(t *testing.T) {
	cfg := tls12Only(rsaAES128SHA)
	cfg.Intolerant256to511 = true
	s := start(t, cfg)
	for _, tt := range []struct {
		name string
		pad  bool
		size int // wanted ClientHello message size, when not padded
	}{
		{"256 bytes", false, 256},
		{"511 bytes", false, 511},
		{"255 bytes", false, 255},
		{"padded to 512", true, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch := hello(tls.VersionTLS12, rsaAES128SHA)
			var msg []byte
			if tt.pad {
				msg = wire(t, ch)
			} else {
				msg = sizedHello(t, ch, tt.size)
			}
			r := probe(t, s.Addr(), msg, 2*time.Second)
			if tt.pad || tt.size < 256 {
				wantSuite(t, r, tls.VersionTLS12, rsaAES128SHA)
				return
			}
			wantHang(t, r)
		})
	}
}

// sizedHello marshals ch with a padding extension that makes the
// ClientHello message exactly size bytes (header included).
func sizedHello(t *testing.T, ch *tls.ClientHello, size int) []byte {
	t.Helper()
	base, err := ch.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	n := size - len(base) - 4 // a padding extension has a 4-byte header
	if n < 0 {
		if size < len(base) {
			// Drop extensions until the hello is small enough.
			ch.Extensions = nil
			base, _ = ch.Marshal()
			n = size - len(base) - 4
		}
	}
	if n < 0 {
		t.Fatalf("cannot make a %d-byte hello from %d bytes", size, len(base))
	}
	ch.Extensions = append(ch.Extensions, tls.PaddingExtension(n))
	msg, err := ch.Marshal()
	if err != nil || len(msg) != size {
		t.Fatalf("hello of %d bytes (%v), want %d", len(msg), err, size)
	}
	b, err := ch.MarshalRecords()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBrokenServers(t *testing.T) {
	t.Run("unoffered suite", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA, ecdheRSAAES128GCM)
		cfg.UnofferedSuite = ecdheRSAAES256GCM
		s := start(t, cfg)
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, rsaAES128SHA)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, ecdheRSAAES256GCM)
		if r.ske == nil || r.ske.Group != groupX25519 {
			t.Errorf("ServerKeyExchange %+v", r.ske)
		}
	})
	t.Run("unoffered suite with nothing in common", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA)
		cfg.UnofferedSuite = 0x00FF
		s := start(t, cfg)
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, rsa3DES)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, 0x00FF)
	})
	t.Run("unoffered TLS 1.3 suite", func(t *testing.T) {
		cfg := Config{Suites: map[tls.Version][]uint16{tls.VersionTLS13: {tls13AES128}}, UnofferedSuite: tls13ChaCha}
		s := start(t, cfg)
		r := probe(t, s.Addr(), wire(t, hello13(t, []uint16{tls13AES128}, []uint16{groupX25519})), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS13, tls13ChaCha)
	})
	t.Run("version override", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA)
		cfg.VersionOverride = tls.VersionTLS12
		s := start(t, cfg)
		for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11} {
			r := probe(t, s.Addr(), wire(t, hello(v, rsaAES128SHA)), 2*time.Second)
			wantSuite(t, r, tls.VersionTLS12, rsaAES128SHA)
		}
	})
	t.Run("version override to 1.3", func(t *testing.T) {
		cfg := Config{Suites: map[tls.Version][]uint16{tls.VersionTLS13: {tls13AES128}}, VersionOverride: tls.VersionTLS13}
		s := start(t, cfg)
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, tls13AES128, rsaAES128SHA)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS13, tls13AES128)
		if r.sh != nil && r.sh.KeyShareGroup != groupX25519 {
			t.Errorf("group 0x%04X", r.sh.KeyShareGroup)
		}
	})
}

func TestNotTLS(t *testing.T) {
	msg := func(t *testing.T) []byte { return wire(t, hello(tls.VersionTLS12, rsaAES128SHA)) }
	t.Run("silent", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA)
		cfg.Silent = true
		s := start(t, cfg)
		r := probe(t, s.Addr(), msg(t), 2*time.Second)
		wantHang(t, r)
		if len(s.Hellos()) != 1 {
			t.Errorf("silent server parsed %d hellos, want 1", len(s.Hellos()))
		}
	})
	t.Run("silent until the client gives up", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA)
		cfg.Silent, cfg.HangFor = true, time.Minute
		s := start(t, cfg)
		r := probe(t, s.Addr(), msg(t), 200*time.Millisecond)
		if !r.timeout || len(r.raw) != 0 {
			t.Fatalf("want a client timeout, got %s", r.summary())
		}
		// Close ends the minute-long hang at once.
		begin := time.Now()
		s.Close()
		if d := time.Since(begin); d > time.Second {
			t.Errorf("Close took %v", d)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA)
		cfg.Garbage = true
		s := start(t, cfg)
		r := probe(t, s.Addr(), msg(t), 2*time.Second)
		if r.decodeErr == nil || len(r.raw) == 0 || tls.LooksLikeTLS(r.raw) || tls.LooksLikeSSLv2(r.raw) {
			t.Fatalf("want non-TLS bytes, got %s", r.summary())
		}
	})
	t.Run("close after hello", func(t *testing.T) {
		cfg := tls12Only(rsaAES128SHA)
		cfg.CloseAfterHello = true
		s := start(t, cfg)
		wantClosed(t, probe(t, s.Addr(), msg(t), 2*time.Second))
	})
	t.Run("HTTP", func(t *testing.T) {
		s := start(t, Config{HTTP: true})
		r := probe(t, s.Addr(), msg(t), 2*time.Second)
		if !strings.HasPrefix(string(r.raw), "HTTP/1.1 400 Bad Request\r\n") {
			t.Fatalf("got %s", r.summary())
		}
	})
	t.Run("SSH banner", func(t *testing.T) {
		const banner = "SSH-2.0-OpenSSH_9.6\r\n"
		s := start(t, Config{Banner: banner})
		cl := dial(t, s.Addr())
		defer cl.c.Close()
		_ = cl.c.SetDeadline(time.Now().Add(2 * time.Second))
		got := make([]byte, len(banner))
		if _, err := io.ReadFull(cl.c, got); err != nil || string(got) != banner {
			t.Fatalf("banner %q, %v", got, err)
		}
		r := cl.converse(t, msg(t), 2*time.Second)
		wantClosed(t, r)
	})
}

// TestBadInput sends random bytes and every strict prefix of a valid hello
// (then half-closes): the server must close without answering, and keep
// serving.
func TestBadInput(t *testing.T) {
	s := start(t, tls12Only(rsaAES128SHA))
	full := wire(t, hello(tls.VersionTLS12, rsaAES128SHA))
	var inputs [][]byte
	for _, n := range []int{1, 3, 5, 6, 9, 40, len(full) / 2, len(full) - 1} {
		inputs = append(inputs, full[:n])
	}
	rnd := rand.New(rand.NewChaCha8([32]byte{9}))
	for range 20 {
		b := make([]byte, 1+rnd.IntN(600))
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		inputs = append(inputs, b)
	}
	// Well-framed records holding nonsense.
	inputs = append(inputs,
		tls.AppendRecord(nil, tls.ContentHandshake, tls.VersionTLS12, []byte{1, 0, 0, 3, 3, 3, 0}),
		tls.AppendRecord(nil, tls.ContentHandshake, tls.VersionTLS12, []byte{2, 0, 0, 0}),
		tls.AppendRecord(nil, tls.ContentAlert, tls.VersionTLS12, []byte{2, 40}),
		tls.AppendRecord(nil, tls.ContentApplicationData, tls.VersionTLS12, []byte("GET / HTTP/1.1\r\n")),
		[]byte{0x80, 0x03, 0x01, 0x00, 0x02},
	)
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Go(func() {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			if _, err := c.Write(in); err != nil {
				t.Error(err)
				return
			}
			_ = c.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(c)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("input %d (%x): %v", i, in, err)
			}
			if len(got) != 0 {
				t.Errorf("input %d (%x): answered %x", i, in, got)
			}
		})
	}
	wg.Wait()
	wantSuite(t, probe(t, s.Addr(), full, 2*time.Second), tls.VersionTLS12, rsaAES128SHA)
}

// TestConcurrent probes one server from many goroutines and checks the
// counts.
func TestConcurrent(t *testing.T) {
	cfg := tls12Only(ecdheRSAAES128GCM, rsaAES128SHA)
	cfg.Suites[tls.VersionTLS13] = []uint16{tls13AES128}
	s := start(t, cfg)
	const n = 32
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i%2 == 0 {
				wantSuite(t, probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, ecdheRSAAES128GCM)), 3*time.Second), tls.VersionTLS12, ecdheRSAAES128GCM)
				return
			}
			ch := hello13(t, []uint16{tls13AES128}, []uint16{groupX25519}, groupX25519)
			wantSuite(t, probe(t, s.Addr(), wire(t, ch), 3*time.Second), tls.VersionTLS13, tls13AES128)
		})
	}
	wg.Wait()
	if got := s.Connections(); got != n {
		t.Errorf("Connections() = %d, want %d", got, n)
	}
	if got := len(s.Hellos()); got != n {
		t.Errorf("Hellos() has %d, want %d", got, n)
	}
	for _, h := range s.Hellos() {
		if h.ServerName != "" && h.ServerName != "faketls.test" {
			t.Errorf("hello for %q", h.ServerName)
		}
	}
}

func TestExtensions12(t *testing.T) {
	cfg := tls12Only(rsaAES128SHA)
	cfg.ALPN = []string{"h2", "http/1.1"}
	s := start(t, cfg)
	t.Run("echoes what the client offered", func(t *testing.T) {
		ch := hello(tls.VersionTLS12, rsaAES128SHA)
		ch.Extensions = append(ch.Extensions, tls.ExtendedMasterSecretExtension(), tls.ALPNExtension("http/1.1", "h2"))
		r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, rsaAES128SHA)
		if r.sh.ALPN != "h2" || !r.sh.ExtendedMasterSecret || !r.sh.SecureRenegotiation || hasExt(r.sh, tls.ExtECPointFormats) {
			t.Errorf("ServerHello extensions %+v", r.sh)
		}
	})
	t.Run("SCSV and no extensions", func(t *testing.T) {
		ch := hello(tls.VersionTLS12, rsaAES128SHA, scsvRenegotiation)
		ch.Extensions = nil
		r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, rsaAES128SHA)
		if !r.sh.SecureRenegotiation || len(r.sh.Extensions) != 1 {
			t.Errorf("ServerHello extensions %v, want renegotiation_info alone", r.sh.Extensions)
		}
	})
}

// TestFullRegistry offers every registry suite of each version alone to a
// FullRegistry server and checks that each is answered with a complete,
// well-formed first flight.
func TestFullRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of connections")
	}
	for _, v := range []tls.Version{tls.VersionSSL30, tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(v.String(), func(t *testing.T) {
			s := start(t, FullRegistry(v))
			suites := ciphers.ForVersion(v)
			if len(suites) == 0 {
				t.Fatal("no suites")
			}
			sem := make(chan struct{}, 16)
			var wg sync.WaitGroup
			for _, suite := range suites {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					var ch *tls.ClientHello
					if v == tls.VersionTLS13 {
						ch = hello13(t, []uint16{suite.ID}, []uint16{groupX25519})
					} else {
						ch = hello(v, suite.ID)
					}
					r := probe(t, s.Addr(), wire(t, ch), 5*time.Second)
					if r.sh == nil || r.sh.CipherSuite != suite.ID || (v < tls.VersionTLS13 && !r.done) {
						t.Errorf("%s: %s", suite.Name, r.summary())
						return
					}
					info := suiteOf(suite.ID)
					if v < tls.VersionTLS13 && (info.ske != skeNone) != (r.ske != nil) {
						t.Errorf("%s (kex %s): ServerKeyExchange %+v", suite.Name, suite.Kex, r.ske)
					}
					if v < tls.VersionTLS13 && info.cert != (len(r.certs) > 0) {
						t.Errorf("%s (auth %s): %d certificates", suite.Name, suite.Auth, len(r.certs))
					}
				})
			}
			wg.Wait()
			if got := s.Connections(); got != len(suites) {
				t.Errorf("Connections() = %d, want %d", got, len(suites))
			}
		})
	}
	t.Run("SSLv2", func(t *testing.T) {
		s := start(t, FullRegistry(tls.VersionSSL20))
		kinds := AllSSLv2Kinds()
		b, err := tls.BuildSSLv2ClientHello(tls.VersionSSL20, kinds, nil, bytes.Repeat([]byte{1}, 16))
		if err != nil {
			t.Fatal(err)
		}
		r := probe(t, s.Addr(), b, 2*time.Second)
		if r.v2hello == nil || !slices.Equal(r.v2hello.CipherSpecs, kinds) {
			t.Fatalf("got %s", r.summary())
		}
	})
	t.Run("every group", func(t *testing.T) {
		cfg := FullRegistry(tls.VersionTLS13)
		s := start(t, cfg)
		for _, g := range cfg.Groups13 {
			r := probe(t, s.Addr(), wire(t, hello13(t, []uint16{tls13AES128}, []uint16{g})), 2*time.Second)
			if r.sh == nil || !r.sh.HelloRetryRequest || r.sh.KeyShareGroup != g {
				t.Errorf("group %s: %s", ciphers.GroupName(g), r.summary())
			}
		}
	})
}

// TestCanned checks that the canned configurations answer the hellos
// their real-world counterparts answer.
func TestCanned(t *testing.T) {
	t.Run("Legacy", func(t *testing.T) {
		s := start(t, Legacy())
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, rsaExportRC4, rsaAES128SHA)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS10, rsaExportRC4)
		b, _ := tls.BuildSSLv2ClientHello(tls.VersionSSL20, []uint32{sslv2RC4128MD5}, nil, bytes.Repeat([]byte{1}, 16))
		if r := probe(t, s.Addr(), b, 2*time.Second); r.v2hello == nil {
			t.Errorf("SSLv2: %s", r.summary())
		}
	})
	t.Run("Modern", func(t *testing.T) {
		s := start(t, Modern())
		r := probe(t, s.Addr(), wire(t, hello13(t, []uint16{tls13AES256}, []uint16{groupP256}, groupP256)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS13, tls13AES256)
		wantAlert(t, probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, ecdheRSAAES128GCM)), 2*time.Second), tls.AlertProtocolVersion)
	})
	t.Run("Intermediate", func(t *testing.T) {
		s := start(t, Intermediate())
		ch := hello(tls.VersionTLS12, rsaAES128SHA, dheAES128GCM)
		ch.Extensions = slices.DeleteFunc(ch.Extensions, func(e tls.Extension) bool { return e.Type == tls.ExtSupportedGroups })
		ch.Extensions = append(ch.Extensions, tls.SupportedGroupsExtension(groupX25519, tls.GroupFFDHE2048))
		r := probe(t, s.Addr(), wire(t, ch), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, dheAES128GCM)
		if r.ske == nil || new(big.Int).SetBytes(r.ske.DHPrime).Cmp(ffdhePrime(tls.GroupFFDHE2048)) != 0 {
			t.Errorf("want ffdhe2048 prime, got %+v", r.ske)
		}
	})
	t.Run("Old", func(t *testing.T) {
		s := start(t, Old())
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS10, rsa3DES, 0xC013)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS10, 0xC013) // ECDHE-RSA-AES128-SHA, server's order
		r = probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, ecdheRSAChaCha, ecdheRSAAES128GCM)), 2*time.Second)
		wantSuite(t, r, tls.VersionTLS12, ecdheRSAChaCha)
	})
}

func TestCertificateAndRecords(t *testing.T) {
	chain, err := ECDSAChain()
	if err != nil {
		t.Fatal(err)
	}
	chain = append(chain, []byte("not a certificate, sent as given"))
	cfg := tls12Only(ecdheECDSAChaCha)
	cfg.Certificate = chain
	cfg.RecordSize = 7
	s := start(t, cfg)
	r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, ecdheECDSAChaCha)), 2*time.Second)
	wantSuite(t, r, tls.VersionTLS12, ecdheECDSAChaCha)
	if len(r.certs) != 2 || !bytes.Equal(r.certs[0], chain[0]) || !bytes.Equal(r.certs[1], chain[1]) {
		t.Errorf("certificates differ from Config.Certificate")
	}
	// The flight arrived in records of at most 7 bytes, reassembled by
	// the client's decoder.
	records := 0
	for b := r.raw; len(b) > 0; records++ {
		rec, n, err := tls.ParseRecord(b)
		if err != nil {
			t.Fatalf("record %d: %v", records, err)
		}
		if len(rec.Payload) > 7 {
			t.Fatalf("record of %d bytes", len(rec.Payload))
		}
		b = b[n:]
	}
	if records < 50 {
		t.Errorf("%d records", records)
	}
}

func TestRefusalString(t *testing.T) {
	for r, want := range map[Refusal]string{RefuseDefault: "default", RefuseNegotiateDown: "negotiate-down", RefuseHang: "hang", Refusal(99): "refusal(99)"} {
		if got := r.String(); got != want {
			t.Errorf("%d: %q, want %q", r, got, want)
		}
	}
}

// TestCertByOffer: with an RSA and an ECDSA certificate picked by the
// offer, an ECDSA suite in the hello (one the server does not accept too)
// leaves only the ECDSA and anonymous suites selectable.
func TestCertByOffer(t *testing.T) {
	const (
		ecdsaAES128GCM = 0xC02B
		ecdsa3DES      = 0xC008 // not accepted: it only switches the certificate
		ecdhAnonAES128 = 0xC018
	)
	cfg := tls12Only(ecdheRSAAES128GCM, ecdsaAES128GCM, rsaAES128SHA, ecdhAnonAES128)
	cfg.CertByOffer = true
	s := start(t, cfg)
	for _, tt := range []struct {
		offered []uint16
		want    uint16 // 0: handshake_failure
	}{
		{[]uint16{ecdheRSAAES128GCM}, ecdheRSAAES128GCM},
		{[]uint16{ecdsaAES128GCM}, ecdsaAES128GCM},
		{[]uint16{ecdheRSAAES128GCM, ecdsaAES128GCM}, ecdsaAES128GCM},
		{[]uint16{rsaAES128SHA, ecdsa3DES}, 0},
		{[]uint16{rsaAES128SHA, ecdsa3DES, ecdhAnonAES128}, ecdhAnonAES128},
		{[]uint16{ecdhAnonAES128, rsaAES128SHA}, ecdhAnonAES128},
	} {
		r := probe(t, s.Addr(), wire(t, hello(tls.VersionTLS12, tt.offered...)), 2*time.Second)
		if tt.want == 0 {
			wantAlert(t, r, tls.AlertHandshakeFailure)
		} else {
			wantSuite(t, r, tls.VersionTLS12, tt.want)
		}
	}
}
