package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/mailserver"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/internal/hostile"
	"github.com/tlsmap/tlsmap/internal/realserver"
	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/output"
	wire "github.com/tlsmap/tlsmap/protocols/tls"
)

// gateRun runs tlsmap with args and returns its exit code, stdout and
// stderr.
func gateRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// unusedPort returns a loopback address where nothing listens.
func unusedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// checkJUnit validates a JUnit report against the schema the output
// tests use (output/testdata/schema/JUnit.xsd) with xmllint.
func checkJUnit(t *testing.T, doc string) {
	t.Helper()
	xmllint := testenv.NeedProgram(t, "xmllint")
	f := filepath.Join(t.TempDir(), "report.xml")
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	xsd := filepath.Join("..", "..", "output", "testdata", "schema", "JUnit.xsd")
	if out, err := exec.Command(xmllint, "--noout", "--schema", xsd, f).CombinedOutput(); err != nil {
		t.Fatalf("JUnit report does not validate: %v\n%s\n%s", err, out, doc)
	}
}

// checkSARIF validates a SARIF log against the official 2.1.0 schema.
func checkSARIF(t *testing.T, doc string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "output", "testdata", "schema", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(output.SARIFSchemaURI, schemaDoc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(output.SARIFSchemaURI)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("SARIF is not JSON: %v\n%s", err, doc)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("SARIF log does not validate: %v\n%s", err, doc)
	}
}

// TestPolicyExitCodes scans real servers under a policy: a modern one
// (openssl s_server, TLS 1.2 and 1.3 AEAD) passes, a legacy one (openssl
// s_server TLS 1.0) and a legacy SMTP STARTTLS one (postfix) fail, a closed port is
// inconclusive, a bad policy file is a usage error; the JUnit and SARIF
// reports of these runs validate against their schemas.
func TestPolicyExitCodes(t *testing.T) {
	modernCfg, _ := realserver.ConfigByName("openssl-aead")
	legacyCfg, _ := realserver.ConfigByName("openssl-tls10")
	modern := realserver.StartT(t, modernCfg)
	legacy := realserver.StartT(t, legacyCfg)
	// Postfix as internal/mailserver configures it accepts TLS 1.0–1.3:
	// a legacy SMTP STARTTLS server.
	smtpLegacy := mailserver.StartPostfix(t, mailserver.PostfixOptions{}).SMTP
	closed := unusedPort(t)
	common := []string{"scan", "--no-cert", "--timeout", "3s", "--no-progress"}

	t.Run("pass", func(t *testing.T) {
		code, _, stderr := gateRun(t, append(common, "--policy", "modern", "tls://"+modern.Addr)...)
		if code != scanExitPass {
			t.Fatalf("modern server under modern: exit %d, want %d\n%s", code, scanExitPass, stderr)
		}
		if !strings.Contains(stderr, "policy modern: 1 pass, 0 fail, 0 inconclusive") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("violation", func(t *testing.T) {
		code, _, stderr := gateRun(t, append(common, "--policy", "tls12-min", "tls://"+legacy.Addr, "tls://"+modern.Addr)...)
		if code != scanExitViolation {
			t.Fatalf("exit %d, want %d\n%s", code, scanExitViolation, stderr)
		}
		if !strings.Contains(stderr, "min-version: accepts TLSv1.0 (the minimum is TLSv1.2)") {
			t.Errorf("stderr lacks the violation:\n%s", stderr)
		}
	})
	t.Run("smtp violation", func(t *testing.T) {
		code, _, stderr := gateRun(t, append(common, "--policy", "tls12-min", "smtp://"+smtpLegacy)...)
		if code != scanExitViolation || !strings.Contains(stderr, "accepts TLSv1.0") {
			t.Fatalf("legacy SMTP: exit %d, want %d\n%s", code, scanExitViolation, stderr)
		}
	})
	t.Run("inconclusive", func(t *testing.T) {
		code, _, stderr := gateRun(t, append(common, "--policy", "tls12-min", "tls://"+closed, "tls://"+modern.Addr)...)
		if code != scanExitIncomplete {
			t.Fatalf("closed port: exit %d, want %d\n%s", code, scanExitIncomplete, stderr)
		}
		if !strings.Contains(stderr, "reachable: inconclusive: unreachable") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
	t.Run("violation beats unreachable", func(t *testing.T) {
		code, _, _ := gateRun(t, append(common, "--policy", "tls12-min", "tls://"+closed, "tls://"+legacy.Addr)...)
		if code != scanExitViolation {
			t.Fatalf("exit %d, want %d", code, scanExitViolation)
		}
	})
	t.Run("bad policy", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(f, []byte("min_version: tls1.2\nrequire_pfs: yes please\n"), 0o644)
		code, stdout, stderr := gateRun(t, append(common, "--policy", f, "tls://"+modern.Addr)...)
		if code != scanExitUsage || stdout != "" {
			t.Fatalf("bad policy: exit %d, want %d; stdout %q", code, scanExitUsage, stdout)
		}
		if !strings.Contains(stderr, "error: policy: invalid: "+f+": line 2") || !strings.Contains(stderr, "\nhint: ") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})

	all := []string{"tls://" + modern.Addr, "tls://" + legacy.Addr, "smtp://" + smtpLegacy, "tls://" + closed}
	t.Run("junit", func(t *testing.T) {
		code, stdout, stderr := gateRun(t, append(append(common, "--policy", "mozilla-intermediate", "--format", "junit"), all...)...)
		if code != scanExitViolation {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		checkJUnit(t, stdout)
		var doc struct {
			Suites []struct {
				Failures int `xml:"failures,attr"`
				Errors   int `xml:"errors,attr"`
				Cases    []struct {
					Classname string `xml:"classname,attr"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(stdout), &doc); err != nil {
			t.Fatal(err)
		}
		if s := doc.Suites[0]; s.Failures == 0 || s.Errors != 1 || len(s.Cases) == 0 {
			t.Errorf("suite %+v", s)
		}
	})
	t.Run("sarif", func(t *testing.T) {
		code, stdout, stderr := gateRun(t, append(append(common, "--policy", "tls12-min", "--format", "sarif"), all...)...)
		if code != scanExitViolation {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		checkSARIF(t, stdout)
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID string `json:"ruleId"`
					Kind   string `json:"kind"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(stdout), &log); err != nil {
			t.Fatal(err)
		}
		fails := 0
		for _, r := range log.Runs[0].Results {
			if r.Kind == "fail" && r.RuleID == "min-version" {
				fails++
			}
		}
		// One result per violation: TLS 1.0 on the s_server, TLS 1.0 and
		// TLS 1.1 on postfix.
		if fails != 3 {
			t.Errorf("%d min-version failures, want 3:\n%s", fails, stdout)
		}
	})
}

// TestPolicyGate scans a scripted server that accepts TLS 1.0 under
// tls12-min with and without --gate: both fail, the gated scan with far
// fewer connections, its unprobed parts "stopped by --gate".
func TestPolicyGate(t *testing.T) {
	cfg := faketls.Config{Suites: map[wire.Version][]uint16{
		wire.VersionTLS10: faketls.SuiteIDs("ECDHE-RSA-AES128-SHA", "AES128-SHA", "DES-CBC3-SHA"),
		wire.VersionTLS12: faketls.SuiteIDs("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA", "AES128-SHA"),
	}}
	scanWith := func(gate bool) (int, int, string) {
		s := faketls.Start(t, cfg)
		args := []string{"scan", "--no-cert", "--no-progress", "--timeout", "3s", "--format", "jsonl", "--policy", "tls12-min"}
		if gate {
			args = append(args, "--gate")
		}
		code, stdout, stderr := gateRun(t, append(args, s.Addr())...)
		if code != scanExitViolation {
			t.Fatalf("gate=%v: exit %d, want %d\n%s", gate, code, scanExitViolation, stderr)
		}
		return s.Connections(), code, stdout
	}
	full, _, _ := scanWith(false)
	gated, _, out := scanWith(true)
	t.Logf("connections: %d without --gate, %d with", full, gated)
	if gated >= full || gated > 12 { // probes in flight when the gate stops still count
		t.Errorf("--gate opened %d connections, the full scan %d", gated, full)
	}
	if !strings.Contains(out, "stopped by --gate") {
		t.Errorf("no part is reported \"stopped by --gate\":\n%s", out)
	}
}

// TestPolicyUsage checks the flags' usage errors.
func TestPolicyUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--gate", "127.0.0.1:1"}, "error: --gate needs --policy"},
		{[]string{"--format", "junit", "127.0.0.1:1"}, "error: --format junit needs --policy"},
		{[]string{"--policy", "ancient", "127.0.0.1:1"}, "error: policy: unknown profile \"ancient\""},
	} {
		code, stdout, stderr := gateRun(t, append([]string{"scan"}, tt.args...)...)
		if code != scanExitUsage || stdout != "" || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "hint:") && strings.Contains(tt.want, "profile") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q", tt.args, code, stdout, stderr, scanExitUsage, tt.want)
		}
	}
	code, stdout, _ := gateRun(t, "scan", "--list-policies")
	if code != exitOK || !strings.Contains(stdout, "mozilla-intermediate") || !strings.Contains(stdout, "- min-version: TLSv1.2") {
		t.Errorf("--list-policies: %d\n%s", code, stdout)
	}
}

// TestPolicyBehindLimiter runs the built binary with --policy tls12-min
// against a TLS 1.0-accepting server behind a connection limiter that
// serves the first N connections and then closes, resets or refuses every
// later one: whatever N, the gate exits 1 (TLS 1.0 seen) or 2 (not seen),
// never 0.
func TestPolicyBehindLimiter(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "tlsmap")
	goTool := testenv.NeedProgram(t, "go")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	back := faketls.Start(t, faketls.Config{
		Suites: map[wire.Version][]uint16{
			wire.VersionTLS10: {0xC013, 0x002F},
			wire.VersionTLS12: {0xC02F, 0xC013},
		},
	})
	for _, drop := range []hostile.Drop{hostile.FIN, hostile.RST, hostile.Refuse} {
		for _, limit := range []int{1, 3, 6, 12, 25, 1000} {
			t.Run(fmt.Sprintf("%s-after-%d", drop, limit), func(t *testing.T) {
				t.Parallel()
				h := hostile.Start(t, hostile.Config{Backend: back.Addr(), Limit: limit, LimitDrop: drop})
				cmd := exec.Command(bin, "scan", "--policy", "tls12-min", "--format", "jsonl", "--no-groups",
					"--timeout", "500ms", "--backoff-after", "0", h.Addr())
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				t.Logf("exit %d, %d connections", code, h.Connections())
				if code != 1 && code != 2 {
					t.Errorf("exit %d, want 1 or 2 (never 0 on a TLS 1.0 server); %d connections\nstdout:\n%s\nstderr:\n%s", code, h.Connections(), stdout.String(), stderr.String())
				}
				if limit == 1000 && code != 1 {
					t.Errorf("no limit reached: exit %d, want 1 (TLS 1.0 accepted)\nstderr:\n%s", code, stderr.String())
				}
			})
		}
	}
}

// TestScanHintXMPPDomain: an XMPP server that does not serve the domain
// its stream named (host-unknown) is a dialogue error, and the summary
// hints at --xmpp-domain.
func TestScanHintXMPPDomain(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 4096)
				if _, err := c.Read(buf); err != nil {
					return
				}
				_, _ = c.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' version='1.0'>" +
					"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>"))
			}()
		}
	}()
	code, stdout, stderr := gateRun(t, "scan", "--format", "jsonl", "xmpp://"+ln.Addr().String())
	if code != scanExitIncomplete || !strings.Contains(stdout, `"status":"dialogue-error"`) ||
		!strings.Contains(stderr, "hint: 1 XMPP server does not serve the domain") || !strings.Contains(stderr, "--xmpp-domain") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}
