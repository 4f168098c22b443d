package scan_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	gotls "crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/truthprobe"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// gnutlsPriority enables every version, cipher and MAC GnuTLS has, and
// the PSK, anonymous and SRP key exchanges without credentials for PSK
// and SRP: GnuTLS then fails a hello whose first PSK suite it meets
// (list poisoning).
const gnutlsPriority = "NORMAL:+VERS-ALL:+PSK:+DHE-PSK:+ECDHE-PSK:+RSA-PSK:+ANON-DH:+ANON-ECDH:+SRP:+SRP-RSA:+CIPHER-ALL:+MAC-ALL:+SIGN-ALL:+COMP-ALL"

// lighttpdGnuTLSPriority is gnutlsPriority without RSA-PSK and SRP, in
// server order, for lighttpd's mod_gnutls (its "gnutls-override").
// lighttpd sets no PSK, anonymous or SRP credentials, so GnuTLS leaves
// those suites out rather than fail on them; and with RSA-PSK or SRP in
// the priority GnuTLS 3.7 answers every TLS 1.3 hello
// GNUTLS_E_NO_CIPHER_SUITES (gnutls-serv with gnutlsPriority too).
const lighttpdGnuTLSPriority = "NORMAL:+VERS-ALL:+PSK:+DHE-PSK:+ECDHE-PSK:+ANON-DH:+ANON-ECDH:+CIPHER-ALL:+MAC-ALL:+SIGN-ALL:+COMP-ALL:%SERVER_PRECEDENCE"

// mailGnuTLSPriority is lighttpdGnuTLSPriority in the client's order,
// for Exim (tls_require_ciphers) and Courier-IMAP (TLS_PRIORITY, with
// %SERVER_PRECEDENCE added): neither sets PSK credentials, and Exim sets
// no anonymous ones either, so a hello whose suite GnuTLS settles on is
// one of those fails ("Insufficient credentials" in Exim's log) — list
// poisoning. With RSA-PSK or SRP, Exim too answers every TLS 1.3 hello
// "No supported cipher suites".
const mailGnuTLSPriority = "NORMAL:+VERS-ALL:+PSK:+DHE-PSK:+ECDHE-PSK:+ANON-DH:+ANON-ECDH:+CIPHER-ALL:+MAC-ALL:+SIGN-ALL:+COMP-ALL"

// TestStackServers scans servers on TLS stacks other than OpenSSL and
// requires exactly what the one-suite-per-hello truth
// (internal/truthprobe: every registry code point at every version,
// standard library only) finds: the same accepted and chosen-not-completed
// (version, suite) pairs, the same server-order verdict and the server's
// order where it enforces one. It logs tlsmap's connections against the
// lower bound (Σ accepted + 1 per version probed).
func TestStackServers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gnutls-serv and lighttpd and runs thousands of truth hellos")
	}
	var registry []uint16
	for _, s := range ciphers.All() {
		if s.Kind == ciphers.KindSuite {
			registry = append(registry, s.ID)
		}
	}
	servers := []struct {
		name  string
		start func(t *testing.T) string
		noSNI bool // an IP target: no server_name in the truth's or tlsmap's hellos
		// proto, when set, is the target's scheme (a mail protocol), and
		// dial the truth's STARTTLS dialogue before each hello (nil for
		// implicit TLS).
		proto scan.Protocol
		dial  func(ctx context.Context, addr string) (net.Conn, error)
	}{
		{name: "gnutls-client-order", start: func(t *testing.T) string {
			return realserver.StartT(t, realserver.Config{Name: "gnutls-client-order", Software: realserver.GnuTLSServ, Priority: gnutlsPriority}).Addr
		}},
		{name: "gnutls-server-order", start: func(t *testing.T) string {
			return realserver.StartT(t, realserver.Config{Name: "gnutls-server-order", Software: realserver.GnuTLSServ,
				Priority: gnutlsPriority + ":%SERVER_PRECEDENCE", ServerOrder: true}).Addr
		}},
		{name: "go-crypto-tls", start: startGoServer},
		{name: "lighttpd-gnutls", start: func(t *testing.T) string {
			return startLighttpd(t, realserver.LighttpdGnuTLS, [2]string{"gnutls-override", lighttpdGnuTLSPriority})
		}},
		// mod_mbedtls maps few CipherString keywords but takes mbed TLS
		// suite names in Ciphersuites: every registry suite by that name.
		{name: "lighttpd-mbedtls", start: func(t *testing.T) string {
			return startLighttpd(t, realserver.LighttpdMbedTLS, [2]string{"MinProtocol", "TLSv1.0"},
				[2]string{"Ciphersuites", mbedTLSNames()})
		}},
		// CipherString goes to wolfSSL_CTX_set_cipher_list, whose "ALL" is
		// its widest (adding aNULL, eNULL or PSK changes nothing).
		// Debian's wolfSSL has no TLS 1.0: with MinProtocol TLSv1.0
		// lighttpd does not start.
		{name: "lighttpd-wolfssl", start: func(t *testing.T) string {
			return startLighttpd(t, realserver.LighttpdWolfSSL, [2]string{"MinProtocol", "TLSv1.1"},
				[2]string{"CipherString", "ALL"})
		}},
		// mod_nss parses OpenSSL's syntax: ALL, then the NULL suites.
		{name: "lighttpd-nss", start: func(t *testing.T) string {
			return startLighttpd(t, realserver.LighttpdNSS, [2]string{"MinProtocol", "TLSv1.0"},
				[2]string{"CipherString", "ALL:COMPLEMENTOFALL"})
		}},
		// JSSE with every protocol and suite it supports and nothing
		// disabled (internal/realserver's TLSServer.java), RSA, EC and
		// DSA keys. Below TLS 1.2 its DHE_DSS suites are chosen and then
		// fail with internal_error: the ServerKeyExchange is signed with
		// SHA-1, which JDK 17 refuses for a 2048-bit DSA key.
		{name: "java-jsse", start: func(t *testing.T) string {
			return realserver.StartT(t, realserver.Config{Name: "java-jsse", Software: realserver.Java}).Addr
		}},
		// stunnel: OpenSSL under a front end of its own; Debian's
		// OpenSSL 3 has no SSLv3.
		{name: "stunnel", start: func(t *testing.T) string {
			return realserver.StartT(t, realserver.Config{Name: "stunnel", Software: realserver.Stunnel,
				MinVersion: "TLSv1", Ciphers: "ALL:@SECLEVEL=0"}).Addr
		}},
		// haproxy with an RSA and an ECDSA certificate on one bind
		// chooses between them by SNI and by what the hello offers;
		// without SNI it has only its default (first) one, RSA.
		{name: "haproxy-sni", start: startHAProxy},
		{name: "haproxy-no-sni", start: startHAProxy, noSNI: true},
		// Exim 4 (GnuTLS) on SMTP with STARTTLS and on SMTP over
		// implicit TLS, in the client's order; Courier-IMAP (couriertls,
		// GnuTLS) on IMAP with STARTTLS and on IMAPS, in its own. Both
		// are Debian's, unpacked by .ci/install-deps beside Postfix and
		// Dovecot, which they conflict with.
		{name: "exim-smtp", start: func(t *testing.T) string {
			return mailserver.StartExim(t, mailserver.EximOptions{Priority: mailGnuTLSPriority}).SMTP
		}, proto: scan.ProtoSMTP, dial: smtpSTARTTLS},
		{name: "exim-smtps", start: func(t *testing.T) string {
			return mailserver.StartExim(t, mailserver.EximOptions{Priority: mailGnuTLSPriority}).SMTPS
		}, proto: scan.ProtoSMTPS},
		{name: "courier-imap", start: func(t *testing.T) string {
			return mailserver.StartCourier(t, mailserver.CourierOptions{Priority: mailGnuTLSPriority + ":%SERVER_PRECEDENCE"}).IMAP
		}, proto: scan.ProtoIMAP, dial: imapSTARTTLS},
		{name: "courier-imaps", start: func(t *testing.T) string {
			return mailserver.StartCourier(t, mailserver.CourierOptions{Priority: mailGnuTLSPriority + ":%SERVER_PRECEDENCE"}).IMAPS
		}, proto: scan.ProtoIMAPS},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			addr := srv.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			topts := truthprobe.Options{Addr: addr, ServerName: realserver.CertHost, Timeout: 5 * time.Second, Parallel: 16}
			if srv.noSNI {
				topts.ServerName = ""
			}
			if srv.dial != nil {
				topts.Dial = func(ctx context.Context) (net.Conn, error) { return srv.dial(ctx, addr) }
			}
			truth, err := truthprobe.Run(ctx, topts, nil, registry)
			if err != nil {
				t.Fatal(err)
			}
			tgt := addr
			if srv.proto != "" {
				tgt = string(srv.proto) + "://" + addr
			}
			target, err := scan.ParseTarget(tgt, scan.TargetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !srv.noSNI {
				target.Host = realserver.CertHost
			}
			start := time.Now()
			res := scan.ScanTarget(ctx, target, scan.Options{Timeout: 10 * time.Second, SkipGroups: true, SkipCert: true})
			elapsed := time.Since(start)

			bound := 1 // SSLv2
			for _, v := range truthprobe.AllVersions {
				bound += len(truth.Accepted[v]) + len(truth.ChosenNotCompleted[v]) + 1
			}
			h := res.Handshakes
			t.Logf("truth: %d hellos in %v; tlsmap: %d connections (%+v) in %v; lower bound %d (+%.0f%%)",
				truth.Hellos, truth.Elapsed.Round(time.Millisecond), h.Total, h, elapsed.Round(time.Millisecond),
				bound, 100*float64(h.Total-bound)/float64(bound))
			for _, v := range res.Versions {
				so := "unknown"
				if v.ServerOrder != nil {
					so = fmt.Sprint(*v.ServerOrder)
				}
				t.Logf("%s: truth %d accepted, %d chosen-not-completed; tlsmap %d, %d, server order %s, poisons %04x (%s)", v.Name(),
					len(truth.Accepted[uint16(v.Version)]), len(truth.ChosenNotCompleted[uint16(v.Version)]), len(v.Suites), len(v.ChosenNotCompleted), so, v.Poisons, v.PoisonReason)
			}
			for _, v := range truthprobe.AllVersions {
				for _, id := range truth.ChosenNotCompleted[v] {
					t.Logf("%s: truth chosen-not-completed %04X: %s", tls.Version(v), id, truth.Reasons[[2]uint16{v, id}])
				}
			}
			for _, d := range compareProbeTruth(ctx, topts, truth, res) {
				t.Errorf("%s: %s", srv.name, d)
			}
			// The same endpoint swept with --versions-only: every version's
			// verdict is the whole map's (the lead's first hello offers
			// every candidate, and starts over at 128 on a server that
			// fails on long lists: wolfSSL past 150 suites).
			vo := scan.ScanTarget(ctx, target, scan.Options{Timeout: 10 * time.Second, SkipGroups: true, SkipCert: true, VersionsOnly: true})
			for _, v := range res.Versions {
				if w := vo.Version(v.Version); w == nil || w.Outcome != v.Outcome {
					t.Errorf("%s: --versions-only says %s for %s, the whole map %s (%s)", srv.name, w.Outcome, v.Name(), v.Outcome, w.Reason)
				}
			}
			if vo.SSLv2 == nil || res.SSLv2 == nil || vo.SSLv2.Outcome != res.SSLv2.Outcome {
				t.Errorf("%s: --versions-only SSLv2 %+v, the whole map %+v", srv.name, vo.SSLv2, res.SSLv2)
			}
			t.Logf("--versions-only: %d connections (%+v)", vo.Handshakes.Total, vo.Handshakes)
		})
	}
}

// compareProbeTruth lists every difference between the truth and a scan.
func compareProbeTruth(ctx context.Context, opts truthprobe.Options, truth *truthprobe.Truth, res *scan.Result) []string {
	var diffs []string
	if res.Status != scan.StatusOK {
		diffs = append(diffs, fmt.Sprintf("status %s (%v)", res.Status, res.Error))
	}
	hex := func(ids []uint16) string {
		var s []string
		for _, id := range ids {
			s = append(s, fmt.Sprintf("%04X", id))
		}
		return strings.Join(s, " ")
	}
	for _, v := range truthprobe.AllVersions {
		vr := res.Version(tls.Version(v))
		name := tls.Version(v).String()
		if vr == nil {
			diffs = append(diffs, name+": not in the result")
			continue
		}
		for _, inc := range truth.Inconclusive[v] {
			diffs = append(diffs, fmt.Sprintf("%s: truth inconclusive for %04X: %s", name, inc, truth.Reasons[[2]uint16{v, inc}]))
		}
		if len(vr.Inconclusive) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s: inconclusive (%s): %s", name, vr.InconclusiveReason, hex(vr.Inconclusive)))
		}
		want, got := truth.Accepted[v], slices.Sorted(slices.Values(vr.Suites))
		if !slices.Equal(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s: accepted\n  got  %s\n  want %s", name, hex(got), hex(want)))
		}
		wantCNC, gotCNC := truth.ChosenNotCompleted[v], slices.Sorted(slices.Values(vr.ChosenNotCompleted))
		if !slices.Equal(gotCNC, wantCNC) {
			diffs = append(diffs, fmt.Sprintf("%s: chosen-not-completed\n  got  %s\n  want %s", name, hex(gotCNC), hex(wantCNC)))
		}
		if len(want) < 2 || !slices.Equal(got, want) {
			continue
		}
		so, ranked, err := truthprobe.Order(ctx, opts, v, want, isAESGCM)
		if err != nil {
			diffs = append(diffs, fmt.Sprintf("%s: truth order: %v", name, err))
			continue
		}
		switch {
		case vr.ServerOrder == nil:
			diffs = append(diffs, fmt.Sprintf("%s: server order unknown, want %v", name, so))
		case *vr.ServerOrder != so:
			diffs = append(diffs, fmt.Sprintf("%s: server order %v, want %v", name, *vr.ServerOrder, so))
		case so && !slices.Equal(vr.Suites, ranked):
			diffs = append(diffs, fmt.Sprintf("%s: order\n  got  %s\n  want %s", name, hex(vr.Suites), hex(ranked)))
		}
		if !so {
			continue
		}
		// ChaCha20 priority: the best-ranked ChaCha20 suite offered ahead
		// of every suite ranked above it.
		ci := slices.IndexFunc(ranked, isChaCha)
		if ci <= 0 {
			continue
		}
		c, ok, err := truthprobe.Choose(ctx, opts, v, append([]uint16{ranked[ci]}, ranked[:ci]...))
		if err != nil || !ok {
			diffs = append(diffs, fmt.Sprintf("%s: truth ChaCha20 probe: %v", name, err))
			continue
		}
		if want := c == ranked[ci]; vr.ChaChaPriority == nil || *vr.ChaChaPriority != want {
			diffs = append(diffs, fmt.Sprintf("%s: ChaCha20 priority %v, want %v", name, vr.ChaChaPriority, want))
		}
	}
	return diffs
}

// isAESGCM: an ECDHE AES-GCM suite, what browsers list first (and what
// Go's server looks for to prefer AES over ChaCha20).
func isAESGCM(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Kex == "ECDHE" && s.Enc == "AES" && s.Mode == "GCM"
}

func isChaCha(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Enc == "CHACHA20_POLY1305"
}

// startHAProxy runs haproxy from TLS 1.0 with every OpenSSL suite and its
// default TLS 1.3 ones.
func startHAProxy(t *testing.T) string {
	return realserver.StartT(t, realserver.Config{Name: "haproxy", Software: realserver.HAProxy,
		MinVersion: "TLSv1.0", Ciphers: "ALL:@SECLEVEL=0"}).Addr
}

// startLighttpd runs lighttpd on one of its TLS modules with the given
// ssl.openssl.ssl-conf-cmd pairs.
func startLighttpd(t *testing.T, module string, confCmd ...[2]string) string {
	return realserver.StartT(t, realserver.Config{Name: "lighttpd-" + module, Software: realserver.Lighttpd,
		TLSModule: module, ConfCmd: confCmd}).Addr
}

// mbedTLSNames lists every registry suite under mbed TLS's name for it
// (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 is TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256),
// for mod_mbedtls's Ciphersuites, which takes mbed TLS names and skips,
// with a log line, those the library does not have.
func mbedTLSNames() string {
	var names []string
	for _, s := range ciphers.All() {
		if s.Kind == ciphers.KindSuite && strings.HasPrefix(s.Name, "TLS_") {
			names = append(names, strings.ReplaceAll(s.Name, "_", "-"))
		}
	}
	return strings.Join(names, ":")
}

// startGoServer runs a Go crypto/tls server in the test: TLS 1.0 to 1.3,
// every suite Go has (the insecure ones included), an RSA certificate.
func startGoServer(t *testing.T) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: realserver.CertHost},
		DNSNames: []string{realserver.CertHost}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	var suites []uint16
	for _, s := range gotls.CipherSuites() {
		suites = append(suites, s.ID)
	}
	for _, s := range gotls.InsecureCipherSuites() {
		suites = append(suites, s.ID)
	}
	cfg := &gotls.Config{
		Certificates: []gotls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   gotls.VersionTLS10,
		CipherSuites: suites,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := gotls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
				_ = tc.Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

// smtpSTARTTLS dials addr and asks for TLS as an SMTP client does (RFC
// 3207): the greeting, EHLO, STARTTLS, and the 220 that ends the
// plaintext; the hello comes next.
func smtpSTARTTLS(ctx context.Context, addr string) (net.Conn, error) {
	return plainDialogue(ctx, addr, func(r *bufio.Reader, w io.Writer) error {
		for _, step := range []struct{ send, want string }{{"", "220"}, {"EHLO truth.tlsmap.test", "250"}, {"STARTTLS", "220"}} {
			if step.send != "" {
				if _, err := io.WriteString(w, step.send+"\r\n"); err != nil {
					return err
				}
			}
			for { // a reply's lines are "250-…" up to the last, "250 …"
				line, err := r.ReadString('\n')
				if err != nil {
					return err
				}
				if !strings.HasPrefix(line, step.want) {
					return fmt.Errorf("smtp: %q answered %q", step.send, line)
				}
				if len(line) > 3 && line[3] == ' ' {
					break
				}
			}
		}
		return nil
	})
}

// imapSTARTTLS dials addr and asks for TLS as an IMAP client does (RFC
// 3501 §6.2.1): the greeting, then STARTTLS and its tagged OK.
func imapSTARTTLS(ctx context.Context, addr string) (net.Conn, error) {
	return plainDialogue(ctx, addr, func(r *bufio.Reader, w io.Writer) error {
		if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
			return fmt.Errorf("imap: greeting %q (%v)", line, err)
		}
		if _, err := io.WriteString(w, "t1 STARTTLS\r\n"); err != nil {
			return err
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if strings.HasPrefix(line, "t1 ") {
				if !strings.HasPrefix(line, "t1 OK") {
					return fmt.Errorf("imap: STARTTLS answered %q", line)
				}
				return nil
			}
		}
	})
}

// plainDialogue dials addr and runs a plaintext dialogue on the
// connection, under ctx's deadline. The server says nothing after the
// dialogue's last reply until the client's hello, so nothing is left in
// the reader's buffer.
func plainDialogue(ctx context.Context, addr string, dialogue func(*bufio.Reader, io.Writer) error) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	r := bufio.NewReader(c)
	if err := dialogue(r, c); err != nil {
		c.Close()
		return nil, err
	}
	if r.Buffered() > 0 {
		c.Close()
		return nil, fmt.Errorf("%d bytes after the dialogue", r.Buffered())
	}
	return c, nil
}
