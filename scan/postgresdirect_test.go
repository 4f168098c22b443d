package scan_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/faketls"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

// TestPostgresDirectALPN: PostgreSQL 17's direct TLS refuses a hello
// without the ALPN protocol "postgresql" (no_application_protocol). The
// postgres-direct scheme offers it in every hello (the registry's
// Scheme.ALPN), so its scan finds what the server accepts, suites
// included; a tls:// scan of the same server, without ALPN, is refused
// at every version. (Debian 12 ships PostgreSQL 15, which has no direct
// TLS: faketls plays the server.)
func TestPostgresDirectALPN(t *testing.T) {
	cfg := faketls.Old()
	cfg.ALPN, cfg.RequireALPN = []string{"postgresql"}, true
	srv := faketls.Start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := scan.Options{Timeout: 5 * time.Second, SkipGroups: true, SkipCert: true,
		Versions: []tls.Version{tls.VersionTLS10, tls.VersionTLS12, tls.VersionTLS13}}

	target, err := scan.ParseTarget("postgres-direct://"+srv.Addr(), scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if target.Protocol.STARTTLS() || !slices.Equal(target.Protocol.ALPN(), []string{"postgresql"}) || scan.Protocol("postgres-direct").DefaultPort() != 5432 {
		t.Fatalf("target %+v: ALPN %q", target, target.Protocol.ALPN())
	}
	res := scan.ScanTarget(ctx, target, opts)
	if res.Status != scan.StatusOK {
		t.Fatalf("status %s (%s)", res.Status, res.Error)
	}
	for _, v := range opts.Versions {
		vr := res.Version(v)
		want := cfg.Suites[v]
		got := slices.Clone(vr.Suites)
		slices.Sort(got)
		want = slices.Clone(want)
		slices.Sort(want)
		if vr == nil || vr.Outcome != scan.Accepted || !slices.Equal(got, want) {
			t.Errorf("%s: %+v, want accepted with %d suites", v, vr, len(want))
		}
	}
	for _, h := range srv.Hellos() {
		if !slices.Equal(h.ALPN, []string{"postgresql"}) {
			t.Fatalf("a hello offered ALPN %q", h.ALPN)
		}
	}

	plain, err := scan.ParseTarget("tls://"+srv.Addr(), scan.TargetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res = scan.ScanTarget(ctx, plain, opts)
	for _, v := range opts.Versions {
		if vr := res.Version(v); vr == nil || vr.Outcome != scan.Rejected {
			t.Errorf("tls:// %s: %+v, want rejected (no ALPN)", v, vr)
		}
	}
}
