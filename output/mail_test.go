package output

import (
	"bytes"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// mailResult is a STARTTLS SMTP endpoint offering AUTH before STARTTLS.
func mailResult() *scan.Result {
	return &scan.Result{
		Target:  scan.Target{Input: "smtp://mx.example.com", Host: "mx.example.com", Addr: "mx.example.com", Port: 25, Protocol: scan.ProtoSMTP},
		Address: "192.0.2.25:25",
		Status:  scan.StatusOK,
		Versions: []scan.VersionResult{
			{Version: tls.VersionTLS12, Outcome: scan.Accepted, Suites: []uint16{0xC02F}, Candidates: 337},
		},
		Dialogue: &protocols.Dialogue{
			Protocol: "smtp", Banner: "mx.example.com ESMTP Postfix", Software: "Postfix",
			Capabilities:       []string{"PIPELINING", "SIZE 10240000", "STARTTLS", "AUTH PLAIN LOGIN"},
			STARTTLSAdvertised: true, PlaintextAuth: []string{"PLAIN", "LOGIN"},
			CapabilitiesAfterTLS: []string{"PIPELINING", "AUTH PLAIN LOGIN"},
		},
		Handshakes: scan.Handshakes{Versions: 1, Total: 1},
		Started:    t0,
		Duration:   300 * time.Millisecond,
	}
}

func TestMailRecord(t *testing.T) {
	rec := NewScanRecord(mailResult(), nil)
	d := rec.Dialogue
	if d == nil || d.Software != "Postfix" || !d.STARTTLSAdvertised || len(d.PlaintextAuth) != 2 || len(d.CapabilitiesAfterTLS) != 2 {
		t.Fatalf("dialogue record %+v", d)
	}
	if rec := NewScanRecord(fixtureResults()[0], nil); rec.Dialogue != nil {
		t.Errorf("implicit TLS with a dialogue record: %+v", rec.Dialogue)
	}
	var buf bytes.Buffer
	r := mailResult()
	if err := WriteScanReport(&buf, r, policy.Findings(r)); err != nil {
		t.Fatal(err)
	}
	golden(t, "mail.table.golden", buf.Bytes())
}
