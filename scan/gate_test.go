package scan

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// gateServer accepts TLS 1.0 and TLS 1.2 with a few suites each.
func gateServer(t *testing.T) *faketls.Server {
	return faketls.Start(t, faketls.Config{Suites: map[tls.Version][]uint16{
		tls.VersionTLS10: faketls.SuiteIDs("ECDHE-RSA-AES128-SHA", "AES128-SHA", "DES-CBC3-SHA"),
		tls.VersionTLS12: faketls.SuiteIDs("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "AES128-SHA"),
	}})
}

// TestGateStops checks Options.Gate: once it says stop, the endpoint's
// probes end, the undecided parts carry ReasonGated, the group scans and
// the certificate handshake do not run, and the status stays ok.
func TestGateStops(t *testing.T) {
	full := gateServer(t)
	opts := testOptions()
	opts.SkipGroups, opts.SkipCert = false, false
	ScanTarget(context.Background(), targetOf(t, full.Addr()), opts)

	gated := gateServer(t)
	var calls atomic.Int32
	var seen []GateEvent
	opts.Gate = func(ev GateEvent) bool {
		calls.Add(1)
		seen = append(seen, ev) // the gate is called under the endpoint's lock
		return ev.Version == tls.VersionTLS10
	}
	r := ScanTarget(context.Background(), targetOf(t, gated.Addr()), opts)
	t.Logf("connections: %d without the gate, %d with; gate called %d times", full.Connections(), gated.Connections(), calls.Load())

	if r.Status != StatusOK {
		t.Errorf("status %s (%s), want ok", r.Status, r.Error)
	}
	// Six versions are probed at first, up to four connections at a time;
	// what was in flight when the gate said stop still counts.
	if gated.Connections() >= full.Connections() || gated.Connections() > 12 {
		t.Errorf("gated scan opened %d connections (full: %d)", gated.Connections(), full.Connections())
	}
	if v := r.Version(tls.VersionTLS10); v == nil || v.Outcome != Accepted {
		t.Fatalf("TLS 1.0: %+v, want accepted", v)
	}
	last := seen[len(seen)-1]
	if last.Version != tls.VersionTLS10 || last.Target.Port != targetOf(t, gated.Addr()).Port {
		t.Errorf("last gate event %+v", last)
	}
	if r.Cert != nil || r.Groups != nil || r.Handshakes.Certificate != 0 || r.Handshakes.Groups != 0 {
		t.Errorf("certificate or groups probed after the gate stopped: %+v", r.Handshakes)
	}
	gatedParts := 0
	for _, v := range r.Versions {
		if v.Reason == ReasonCancelled || v.InconclusiveReason == ReasonCancelled {
			t.Errorf("%s: reason %q / %q, want %q", v.Name(), v.Reason, v.InconclusiveReason, ReasonGated)
		}
		if v.Reason == ReasonGated || v.InconclusiveReason == ReasonGated {
			gatedParts++
			if v.Outcome == Rejected {
				t.Errorf("%s: rejected for the gate", v.Name())
			}
		}
	}
	if gatedParts == 0 {
		t.Errorf("no part reported %q: %+v", ReasonGated, r.Versions)
	}

	// Once stopped, the gate is not asked again.
	n := calls.Load()
	if slices.IndexFunc(seen, func(ev GateEvent) bool { return ev.Version == tls.VersionTLS10 }) != int(n)-1 {
		t.Errorf("gate called after it said stop: %+v", seen)
	}
}

// TestGateNeverStops checks that a gate that never says stop changes
// nothing but being called once per accepted suite.
func TestGateNeverStops(t *testing.T) {
	s := gateServer(t)
	var calls atomic.Int32
	opts := testOptions()
	opts.Gate = func(GateEvent) bool { calls.Add(1); return false }
	r := ScanTarget(context.Background(), targetOf(t, s.Addr()), opts)
	accepted := 0
	for _, v := range r.Versions {
		accepted += len(v.Suites)
		if v.Outcome == Inconclusive {
			t.Errorf("%s inconclusive: %s", v.Name(), v.Reason)
		}
	}
	if accepted != 6 || int(calls.Load()) != accepted {
		t.Errorf("%d suites accepted, gate called %d times", accepted, calls.Load())
	}
}

// TestGateCancelStillCancelled checks that the caller's cancellation is
// still "cancelled", not the gate's reason.
func TestGateCancelStillCancelled(t *testing.T) {
	s := gateServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	opts := testOptions()
	opts.Gate = func(GateEvent) bool { cancel(); return false }
	r := ScanTarget(ctx, targetOf(t, s.Addr()), opts)
	if r.Status != StatusInconclusive || r.Error.Reason != ReasonCancelled {
		t.Errorf("status %s error %q, want inconclusive %q", r.Status, r.Error, ReasonCancelled)
	}
}
