package demo

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/sniff"
)

// runDemo runs the demo with src and checks what every run must show: a
// legacy endpoint, a legacy client, the self-check passing.
func runDemo(t *testing.T, src Source) (*Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Options{Source: src})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("demo (%s) took %v", src, time.Since(start))
	var out bytes.Buffer
	if err := res.WriteText(&out, false); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	text := out.String()
	if err := res.Check(); err != nil {
		t.Errorf("Check: %v\n%s", err, text)
	}
	endpoints, clients, ok := strings.Cut(text, "== "+HeadingClients+" ==")
	if !ok || !strings.Contains(endpoints, "== "+HeadingEndpoints+" ==") {
		t.Fatalf("the two reports are not both there:\n%s", text)
	}
	// A legacy endpoint, named, with what makes it legacy.
	for _, want := range []string{
		"legacy-https  https://legacy.demo.test:",
		"LEGACY: accepts TLSv1.0, TLSv1.1",
		"accepts RC4 suites",
		"smtp  smtp://mail.demo.test:",
	} {
		if !strings.Contains(endpoints, want) {
			t.Errorf("endpoint report lacks %q:\n%s", want, endpoints)
		}
	}
	// A legacy client, named, with its SNI; the modern one not in the
	// report's rows (it is listed later, among the demo's clients).
	report, _, _ := strings.Cut(clients, "The demo's clients")
	for _, want := range []string{"127.0.0.21", "legacy.demo.test", "TLSv1.0", "127.0.0.22", "mail.demo.test", "pop.demo.test", "TLSv1.1"} {
		if !strings.Contains(report, want) {
			t.Errorf("client report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "127.0.0.31") {
		t.Errorf("the modern client is in the legacy-client report:\n%s", report)
	}
	return res, text
}

// TestDemoCapture is the non-root path: the client report from the shipped
// capture.
func TestDemoCapture(t *testing.T) {
	res, text := runDemo(t, SourceCapture)
	if res.Live {
		t.Error("Live with SourceCapture")
	}
	if !strings.Contains(text, "from the capture shipped with tlsmap") {
		t.Errorf("the report does not say where the client report comes from:\n%s", text)
	}
	if res.Elapsed > 30*time.Second {
		t.Errorf("the demo took %v; it should take seconds", res.Elapsed)
	}
}

// TestDemoLive is the root path: a live capture on the loopback interface.
func TestDemoLive(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("live capture is implemented on Linux only")
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "live capture on lo needs root or CAP_NET_RAW")
	}
	res, text := runDemo(t, SourceLive)
	if !res.Live {
		t.Fatalf("not live: %s", res.Fallback)
	}
	if want := countConns(res.Clients); res.ClientFlows != want {
		t.Errorf("the live capture reported %d client connections, want %d", res.ClientFlows, want)
	}
	if res.ScannerFlows == 0 {
		t.Error("the live capture saw none of the scanner's connections")
	}
	if !strings.Contains(text, "live on ") {
		t.Errorf("the report does not say it is live:\n%s", text)
	}
}

// TestShippedCapture checks the embedded capture on its own: it must hold
// every planned client connection, or the non-root demo silently shows
// less than it claims.
func TestShippedCapture(t *testing.T) {
	if len(shippedCapture) < 1000 {
		t.Fatalf("shipped capture is %d bytes: regenerate it with scripts/make-demo-capture.sh", len(shippedCapture))
	}
	src, err := sniff.NewReaderSource(bytes.NewReader(shippedCapture), ShippedCaptureName)
	if err != nil {
		t.Fatal(err)
	}
	var flows []*sniff.Flow
	sn := sniff.New(sniffConfig(nil), func(f *sniff.Flow) { flows = append(flows, f) })
	if err := sn.Run(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	sn.Flush()
	if st := sn.Stats(); st.Truncated > 0 || st.DecodeErrors > 0 || len(st.Warnings) > 0 {
		t.Errorf("capture stats: %+v", st)
	}
	// Every connection the clients make is in the capture, and nothing
	// from the scanner.
	perClient := map[string]int{}
	for _, f := range flows {
		if f.Client.Addr() == scannerAddr {
			t.Errorf("scanner connection in the shipped capture: %v", f.Client)
		}
		perClient[f.Client.Addr().String()]++
	}
	for _, c := range plannedClients() {
		if got, want := perClient[c.Addr.String()], len(c.Conns); got != want {
			t.Errorf("client %s: %d connections in the capture, want %d", c.Addr, got, want)
		}
	}
	var snis []string
	for _, f := range flows {
		if f.SNI != "" && !slices.Contains(snis, f.SNI) {
			snis = append(snis, f.SNI)
		}
	}
	for _, want := range []string{"www.demo.test", "legacy.demo.test", "mail.demo.test", "imap.demo.test", "pop.demo.test"} {
		if !slices.Contains(snis, want) {
			t.Errorf("no flow with SNI %s in the capture (have %v)", want, snis)
		}
	}
}

// TestSMTPRefusesInjection: bytes pipelined after STARTTLS would be
// plaintext injected into the TLS session (CVE-2011-0411); the server
// drops the connection instead of starting TLS.
func TestSMTPRefusesInjection(t *testing.T) {
	srv, err := StartServers()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ep, _ := srv.Endpoint(EndpointSMTP)
	c, err := net.DialTimeout("tcp", ep.Target.DialAddress(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "220 ") {
		t.Fatalf("banner %q", l)
	}
	if _, err := c.Write([]byte("STARTTLS\r\nRSET\r\n")); err != nil {
		t.Fatal(err)
	}
	if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "220 ") {
		t.Fatalf("STARTTLS reply %q", l)
	}
	if b, err := br.ReadByte(); err == nil {
		t.Errorf("server went on after an injected command (byte %#x)", b)
	}
}

func TestParseSource(t *testing.T) {
	for _, s := range []string{"auto", "live", "capture"} {
		if got, err := ParseSource(s); err != nil || string(got) != s {
			t.Errorf("ParseSource(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseSource("file"); err == nil {
		t.Error("ParseSource(file): no error")
	}
}
