package all_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/sniff"
)

// toy is a protocol that exists only in this file: the client says
// "HELLO", the server answers "GO" (or "NO"), and TLS starts on both sides
// after those lines. Registering it here, and nothing else, must make scan
// dial it and sniff recognise it: the contract, not scan or sniff, knows
// the protocols.
var toy = &protocols.Protocol{
	Name:        "toy",
	Schemes:     []protocols.Scheme{{Name: "toy", Port: 1, Form: protocols.STARTTLS}},
	ClientFirst: true,
	Upgrade:     toyUpgrade,
	Recognize:   toyRecognize,
}

func init() { protocols.Register(toy) }

const (
	toyHello = "HELLO\r\n"
	toyGo    = "GO\r\n"
	toyNo    = "NO\r\n"
)

// toyDialogues and toyProbes count the toy dialogues run, and those asked
// to probe (Options.Probe).
var toyDialogues, toyProbes atomic.Int64

// toyUpgrade speaks the toy dialogue, bounded by ctx and opts.Timeout.
func toyUpgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	toyDialogues.Add(1)
	if opts.Probe {
		toyProbes.Add(1)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	deadline := time.Now().Add(opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	fail := func(reply string, err error) (*protocols.Dialogue, error) {
		return &protocols.Dialogue{Protocol: "toy", Banner: reply}, &protocols.Error{Protocol: "toy", Stage: protocols.StageSTARTTLS, Reply: reply, Err: err}
	}
	if _, err := io.WriteString(conn, toyHello); err != nil {
		return nil, &protocols.Error{Protocol: "toy", Stage: protocols.StageSTARTTLS, Err: err}
	}
	reply := make([]byte, len(toyGo))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return nil, &protocols.Error{Protocol: "toy", Stage: protocols.StageSTARTTLS, Err: err}
	}
	switch string(reply) {
	case toyGo:
		return &protocols.Dialogue{Protocol: "toy", Banner: "GO", STARTTLSAdvertised: true}, nil
	case toyNo:
		return fail("NO", protocols.ErrSTARTTLSRefused)
	}
	return fail(strings.TrimSpace(string(reply)), protocols.ErrUnexpectedReply)
}

// toyRecognize finds the toy dialogue in captured streams.
func toyRecognize(c2s, s2c []byte) protocols.Recognition {
	r := protocols.Recognition{Protocol: "toy", State: protocols.NeedMore}
	prefix := func(b []byte, want string) bool {
		return bytes.HasPrefix(b, []byte(want)) || bytes.HasPrefix([]byte(want), b)
	}
	switch {
	case !prefix(c2s, toyHello) || !prefix(s2c, toyGo) && !prefix(s2c, toyNo):
		r.State, r.Reason = protocols.NotThis, "no HELLO"
	case bytes.HasPrefix(s2c, []byte(toyNo)):
		r.State, r.Reason = protocols.Plaintext, "STARTTLS refused: NO"
	case bytes.HasPrefix(c2s, []byte(toyHello)) && bytes.HasPrefix(s2c, []byte(toyGo)):
		r.State, r.ClientOffset, r.ServerOffset = protocols.Upgraded, len(toyHello), len(toyGo)
	}
	return r
}

// toyFront is the toy server: it answers HELLO with answer and then (after
// GO) relays the connection to a TLS server, recording both directions of
// every connection.
type toyFront struct {
	addr string
	mu   sync.Mutex
	logs []*[2]bytes.Buffer // c2s, s2c of each connection
}

func startToyFront(t *testing.T, answer, tlsAddr string) *toyFront {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &toyFront{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			log := &[2]bytes.Buffer{}
			f.mu.Lock()
			f.logs = append(f.logs, log)
			f.mu.Unlock()
			wg.Go(func() { f.serve(c, answer, tlsAddr, log) })
		}
	})
	return f
}

// serve runs one connection; every byte it reads or writes is logged (the
// relay only starts after the dialogue, so the two writers never race).
func (f *toyFront) serve(c net.Conn, answer, tlsAddr string, log *[2]bytes.Buffer) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	hello := make([]byte, len(toyHello))
	if _, err := io.ReadFull(c, hello); err != nil || string(hello) != toyHello {
		return
	}
	f.mu.Lock()
	log[0].Write(hello)
	log[1].WriteString(answer)
	f.mu.Unlock()
	if _, err := io.WriteString(c, answer); err != nil || answer != toyGo {
		return
	}
	up, err := net.Dial("tcp", tlsAddr)
	if err != nil {
		return
	}
	defer up.Close()
	_ = up.SetDeadline(time.Now().Add(10 * time.Second))
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&logWriter{f: f, w: up, buf: &log[0]}, c)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = io.Copy(&logWriter{f: f, w: c, buf: &log[1]}, up)
	<-done
}

// logWriter writes to w and logs what it wrote.
type logWriter struct {
	f   *toyFront
	w   io.Writer
	buf *bytes.Buffer
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.f.mu.Lock()
	l.buf.Write(p)
	l.f.mu.Unlock()
	return l.w.Write(p)
}

// TestRegisteredProtocolIsScannedAndSniffed: a protocol registered only
// in this test file is parsed as a target scheme, scanned through its
// Upgrade (its dialogue kept in the result, its refusal reported through
// the shared sentinel), and recognised by sniff in the scan's own
// traffic, with nothing of it in scan or sniff.
func TestRegisteredProtocolIsScannedAndSniffed(t *testing.T) {
	srv := faketls.Start(t, faketls.Intermediate())
	front := startToyFront(t, toyGo, srv.Addr())

	// The scheme, its form and its port come from the registry.
	target, err := scan.ParseTarget("toy://"+front.addr, scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !target.Protocol.STARTTLS() || scan.Protocol("toy").DefaultPort() != 1 || scan.ProtocolForPort(1) != "toy" {
		t.Fatalf("target %+v: the registry's toy scheme is not used", target)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := scan.Options{
		Timeout: 5 * time.Second, VersionsOnly: true, SkipGroups: true, SkipCert: true,
		Versions: []tls.Version{tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13},
	}
	res := scan.ScanTarget(ctx, target, opts)
	if res.Status != scan.StatusOK {
		t.Fatalf("status %s (%s)", res.Status, res.Error)
	}
	for v, want := range map[tls.Version]scan.Outcome{tls.VersionTLS10: scan.Rejected, tls.VersionTLS12: scan.Accepted, tls.VersionTLS13: scan.Accepted} {
		if vr := res.Version(v); vr == nil || vr.Outcome != want {
			t.Errorf("%s: %+v, want %s", v, vr, want)
		}
	}
	if d := res.Dialogue; d == nil || d.Protocol != "toy" || d.Banner != "GO" || !d.STARTTLSAdvertised {
		t.Errorf("dialogue %+v", res.Dialogue)
	}
	if len(srv.Hellos()) == 0 {
		t.Fatal("no ClientHello reached the TLS server behind the toy dialogue")
	}

	// A refusal goes through the shared sentinel to the endpoint's error.
	refusing := startToyFront(t, toyNo, srv.Addr())
	rt, err := scan.ParseTarget("toy://"+refusing.addr, scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r := scan.ScanTarget(ctx, rt, opts); r.Status != scan.StatusUnreachable || r.Error != (scan.Failure{Stage: scan.StagePreamble, Reason: "STARTTLS refused: NO"}) || r.Dialogue == nil {
		t.Errorf("refused: status %s (%q), dialogue %+v", r.Status, r.Error, r.Dialogue)
	}

	// Sniff the scan's own traffic: one accepted connection, replayed as
	// packets.
	var c2s, s2c []byte
	front.mu.Lock()
	for _, l := range front.logs {
		if s := l[1].Bytes(); len(s) > len(toyGo) && s[len(toyGo)] == 0x16 {
			c2s, s2c = bytes.Clone(l[0].Bytes()), bytes.Clone(s)
			break
		}
	}
	front.mu.Unlock()
	if c2s == nil {
		t.Fatal("no recorded connection reached a ServerHello")
	}
	var flows []*sniff.Flow
	s := sniff.New(sniff.Config{Recognizers: sniff.DefaultRecognizers()}, func(f *sniff.Flow) { flows = append(flows, f) })
	for _, p := range tcpSession(t, c2s, s2c) {
		s.Packet(p.data, p.ci, layers.LinkTypeEthernet)
	}
	s.Flush()
	if len(flows) != 1 {
		t.Fatalf("%d flows, want 1", len(flows))
	}
	f := flows[0]
	if f.Protocol != "toy" || !f.StartTLS || f.ClientHello == nil || f.Client != cliAP {
		t.Errorf("flow: protocol %q starttls %v hello %v client %v", f.Protocol, f.StartTLS, f.ClientHello != nil, f.Client)
	}
}

// TestProbeOncePerEndpoint: a scan asked to probe (Options.Probe) runs
// the probe on one dialogue of the endpoint, on a connection of its own,
// not on each of its many connections, and keeps that dialogue.
func TestProbeOncePerEndpoint(t *testing.T) {
	srv := faketls.Start(t, faketls.Intermediate())
	front := startToyFront(t, toyGo, srv.Addr())
	target, err := scan.ParseTarget("toy://"+front.addr, scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dialogues, probes := toyDialogues.Load(), toyProbes.Load()
	res := scan.ScanTarget(context.Background(), target, scan.Options{
		Timeout: 5 * time.Second, SkipGroups: true, SkipCert: true,
		Dialer: &scan.NetDialer{Timeout: 5 * time.Second, Dialogue: protocols.Options{Probe: true}},
	})
	if n, p := toyDialogues.Load()-dialogues, toyProbes.Load()-probes; n < 10 || p != 1 {
		t.Errorf("%d dialogues, %d of them probing; want many, one", n, p)
	}
	if res.Dialogue == nil {
		t.Error("no dialogue kept")
	}
}

// TestRegisterRefusesClashes: a second protocol with a name, scheme or
// port already taken is a programming error.
func TestRegisterRefusesClashes(t *testing.T) {
	for _, p := range []*protocols.Protocol{
		{Name: "toy"},
		{Name: "toy2", Schemes: []protocols.Scheme{{Name: "smtp", Port: 2525, Form: protocols.Implicit}}},
		{Name: "toy3", Schemes: []protocols.Scheme{{Name: "toy3", Port: 443, Form: protocols.Implicit}}},
		{Name: "toy4", Schemes: []protocols.Scheme{{Name: "toy4", Port: 4, Form: protocols.STARTTLS}}}, // no Upgrade
		{Name: "Toy5"},
		{Name: "toy6", Schemes: []protocols.Scheme{{Name: "toy6", Port: 6, Form: protocols.Implicit, AlsoPorts: []uint16{3268}}}},
		{Name: "toy7", Schemes: []protocols.Scheme{{Name: "toy7", Port: 7, Form: protocols.Implicit, AlsoPorts: []uint16{7}}}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", p)
				}
			}()
			protocols.Register(p)
		}()
	}
	if _, ok := protocols.Lookup("toy2"); ok {
		t.Error("a refused protocol was registered")
	}
}

// TestRegistry: the protocols tlsmap ships with, by name, scheme and port.
func TestRegistry(t *testing.T) {
	for _, tc := range []struct {
		port   uint16
		scheme string
		name   string
		form   protocols.Form
	}{
		{443, "https", "https", protocols.Implicit},
		{25, "smtp", "smtp", protocols.STARTTLS}, {587, "submission", "smtp", protocols.STARTTLS}, {465, "smtps", "smtp", protocols.Implicit},
		{143, "imap", "imap", protocols.STARTTLS}, {993, "imaps", "imap", protocols.Implicit},
		{110, "pop3", "pop3", protocols.STARTTLS}, {995, "pop3s", "pop3", protocols.Implicit},
		{389, "ldap", "ldap", protocols.STARTTLS}, {636, "ldaps", "ldap", protocols.Implicit},
		{21, "ftp", "ftp", protocols.STARTTLS}, {990, "ftps", "ftp", protocols.Implicit},
		{5222, "xmpp", "xmpp", protocols.STARTTLS}, {5223, "xmpps", "xmpp", protocols.Implicit},
		{5269, "xmpp-server", "xmpp-server", protocols.STARTTLS}, {5270, "xmpps-server", "xmpp-server", protocols.Implicit},
	} {
		p, s, ok := protocols.ForPort(tc.port)
		p2, s2, ok2 := protocols.ForScheme(tc.scheme)
		if !ok || !ok2 || p != p2 || s.Name != s2.Name || p.Name != tc.name || s.Name != tc.scheme || s.Form != tc.form || s.Port != tc.port {
			t.Errorf("port %d / scheme %s: %v %+v, %v %+v", tc.port, tc.scheme, p, s, p2, s2)
		}
		if l, _ := protocols.Lookup(tc.name); l != p {
			t.Errorf("Lookup(%s) = %v", tc.name, l)
		}
		if tc.form == protocols.STARTTLS && (p.Upgrade == nil || p.Recognize == nil) {
			t.Errorf("%s: STARTTLS without Upgrade or Recognize", tc.scheme)
		}
	}
	// Further well-known ports of a scheme (Scheme.AlsoPorts): the
	// scheme's URL keeps its own default port.
	for port, scheme := range map[uint16]string{3268: "ldap", 3269: "ldaps"} {
		_, s, ok := protocols.ForPort(port)
		_, s2, _ := protocols.ForScheme(scheme)
		if !ok || s.Name != scheme || s.Port != s2.Port || s.Port == port {
			t.Errorf("port %d: %+v, want scheme %s", port, s, scheme)
		}
	}
	if _, _, ok := protocols.ForPort(8443); ok {
		t.Error("port 8443 has a protocol")
	}
	e := &protocols.Error{Protocol: "x", Stage: "s", Reply: "421 go\naway", Err: protocols.ErrThrottled}
	if !errors.Is(e, protocols.ErrThrottled) || e.Error() != "x: s: throttled: 421 go?away" {
		t.Errorf("%q does not unwrap to its sentinel or reads badly", e)
	}
}

var (
	cliAP = netip.MustParseAddrPort("10.0.0.1:40000")
	srvAP = netip.MustParseAddrPort("10.0.0.2:4444")
)

type packet struct {
	data []byte
	ci   gopacket.CaptureInfo
}

// tcpSession frames a TCP connection from cliAP to srvAP: the handshake,
// the toy dialogue and then the rest of each direction, and the close.
func tcpSession(t *testing.T, c2s, s2c []byte) []packet {
	var out []packet
	seq := [2]uint32{1000, 5000} // client, server
	when := time.Unix(1_700_000_000, 0)
	frame := func(fromClient bool, syn, ack, fin bool, payload []byte) {
		src, dst, i := cliAP, srvAP, 0
		if !fromClient {
			src, dst, i = srvAP, cliAP, 1
		}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq[i], Ack: seq[1-i], SYN: syn, ACK: ack, FIN: fin, PSH: len(payload) > 0, Window: 65535}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 1, 2, 3, 4, 5}, DstMAC: net.HardwareAddr{0, 1, 2, 3, 4, 6}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		seq[i] += uint32(len(payload))
		if syn || fin {
			seq[i]++
		}
		when = when.Add(time.Millisecond)
		data := bytes.Clone(buf.Bytes())
		out = append(out, packet{data, gopacket.CaptureInfo{Timestamp: when, CaptureLength: len(data), Length: len(data)}})
	}
	frame(true, true, false, false, nil)
	frame(false, true, true, false, nil)
	frame(true, false, true, false, nil)
	frame(true, false, true, false, c2s[:len(toyHello)])
	frame(false, false, true, false, s2c[:len(toyGo)])
	for _, side := range []struct {
		client bool
		rest   []byte
	}{{true, c2s[len(toyHello):]}, {false, s2c[len(toyGo):]}} {
		for b := side.rest; len(b) > 0; {
			n := min(len(b), 1400)
			frame(side.client, false, true, false, b[:n])
			b = b[n:]
		}
	}
	frame(true, false, true, true, nil)
	frame(false, false, true, true, nil)
	return out
}
