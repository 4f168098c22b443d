package truthprobe_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/internal/truthprobe"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// TestAgainstFake checks the prober's three verdicts on a scripted server
// (faketls shares the codec with the scanner, but the prober does not:
// this checks the prober, not the codec): accepted suites at their
// versions and outside their RFCs, a poison (refused alone), a suite
// chosen and then failed on, a TLS 1.3 suite through a HelloRetryRequest
// or a ServerHello, and refusals.
func TestAgainstFake(t *testing.T) {
	t.Parallel()
	srv := faketls.Start(t, faketls.Config{
		Suites: map[tls.Version][]uint16{
			tls.VersionSSL30: {0x002F, 0xC013},
			tls.VersionTLS10: {0x002F, 0xC076},
			tls.VersionTLS12: {0xC02F, 0x0032, 0x00A8, 0x009C},
			tls.VersionTLS13: {0x1301, 0x1303},
		},
		Poisons:    []uint16{0x00A8},
		Incomplete: []uint16{0x0032},
		Groups13:   []uint16{tls.GroupP384}, // not shared: a HelloRetryRequest
	})
	suites := []uint16{0x002F, 0xC013, 0xC076, 0xC02F, 0x0032, 0x00A8, 0x009C, 0x1301, 0x1302, 0x1303, 0x000A}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tr, err := truthprobe.Run(ctx, truthprobe.Options{Addr: srv.Addr(), ServerName: "localhost", Timeout: 2 * time.Second}, nil, suites)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint16][]uint16{
		truthprobe.SSL30: {0x002F, 0xC013},
		truthprobe.TLS10: {0x002F, 0xC076},
		truthprobe.TLS12: {0x009C, 0xC02F},
		truthprobe.TLS13: {0x1301, 0x1303},
	}
	for _, v := range truthprobe.AllVersions {
		if !slices.Equal(tr.Accepted[v], want[v]) {
			t.Errorf("0x%04x: accepted %04x, want %04x", v, tr.Accepted[v], want[v])
		}
		if len(tr.Inconclusive[v]) > 0 {
			t.Errorf("0x%04x: inconclusive %04x", v, tr.Inconclusive[v])
		}
	}
	if got := tr.ChosenNotCompleted[truthprobe.TLS12]; !slices.Equal(got, []uint16{0x0032}) {
		t.Errorf("chosen-not-completed %04x, want 0032", got)
	}
	if tr.Hellos != len(suites)*len(truthprobe.AllVersions) || srv.Connections() != tr.Hellos {
		t.Errorf("%d hellos, server saw %d, want %d", tr.Hellos, srv.Connections(), len(suites)*5)
	}
	for _, h := range srv.Hellos() {
		if len(h.CipherSuites) != 1 {
			t.Fatalf("a hello with %d suites", len(h.CipherSuites))
		}
	}
}
