package demo

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/policy"
	tlswire "github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/readiness"
	"github.com/tlsmap/tlsmap/scan"
)

// Headings of the two reports; tests and scripts look for them.
const (
	HeadingEndpoints = "Endpoints that accept legacy TLS"
	HeadingClients   = "Clients that used legacy TLS"
)

// legacyFindings are the findings of legacy versions (SSLv2, SSLv3,
// TLS 1.0, 1.1): what a team switching legacy TLS off wants gone.
var legacyFindings = []policy.FindingID{policy.FindingSSLv2, policy.FindingSSLv3, policy.FindingTLS10, policy.FindingTLS11}

// legacyVersions returns the legacy versions an endpoint accepted, by
// name, oldest first, from its findings.
func legacyVersions(fs []policy.Finding) []string {
	var vs []string
	for _, id := range legacyFindings {
		for _, f := range fs {
			if f.ID == id {
				for _, v := range f.Versions {
					vs = append(vs, tlswire.Version(v).String())
				}
			}
		}
	}
	return vs
}

// acceptedVersions lists every version r accepted, by name, oldest first.
func acceptedVersions(r *scan.Result) []string {
	var vs []string
	if r.SSLv2 != nil && r.SSLv2.Outcome == scan.Accepted {
		vs = append(vs, "SSLv2")
	}
	for _, vr := range r.Versions {
		if vr.Outcome == scan.Accepted {
			vs = append(vs, vr.Name())
		}
	}
	return vs
}

// suiteCount counts the distinct suites r accepted, and of them those
// graded weak or insecure.
func suiteCount(r *scan.Result) (all, weak int) {
	seen := map[uint16]bool{}
	for _, vr := range r.Versions {
		for _, id := range vr.Suites {
			if seen[id] {
				continue
			}
			seen[id] = true
			all++
			if s, ok := ciphers.ByID(id); ok && (s.Grade == ciphers.GradeWeak || s.Grade == ciphers.GradeInsecure) {
				weak++
			}
		}
	}
	return all, weak
}

// WriteText writes the demo's report for people: the servers, the
// endpoints that accept legacy TLS, the clients that used it, and who the
// clients were. With details, every endpoint's full scan report follows.
func (r *Result) WriteText(w io.Writer, details bool) error {
	ew := &errWriter{w: w}
	ew.printf("tlsmap demo: %d servers in this process on %s, scanned by tlsmap's scan engine while its\n", len(r.Endpoints), serverAddr)
	ew.printf("sniffer watched, plus a few clients of the demo's own. Nothing was sent beyond loopback.\n\n")

	ew.printf("Servers (certificates from a CA made at start; the names resolve nowhere: tlsmap dials\n%s and sends them as SNI)\n", serverAddr)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, e := range r.Endpoints {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", e.Name, e.URL(), e.Settings)
	}
	tw.Flush()

	r.writeEndpoints(ew)
	r.writeClients(ew)
	r.writeReadiness(ew)

	if details {
		ew.printf("\nFull scan reports (what 'tlsmap scan' prints for each endpoint)\n\n")
		for i, s := range r.Scan {
			if s != nil && ew.err == nil {
				ew.err = output.WriteScanReport(ew.w, s, r.findings(i))
				ew.printf("\n")
			}
		}
	}
	ew.printf("\nDone in %s (scan %s).", round(r.Elapsed), round(r.ScanTime))
	if !details {
		ew.printf(" 'tlsmap demo --details' adds the full scan reports.")
	}
	ew.printf("\n")
	return ew.err
}

func (r *Result) writeEndpoints(ew *errWriter) {
	type row struct {
		ep       Endpoint
		res      *scan.Result
		findings []policy.Finding
		legacy   []string
	}
	var rows []row
	handshakes, nLegacy := 0, 0
	for i, e := range r.Endpoints {
		res := r.Scan[i]
		if res == nil {
			res = &scan.Result{Target: e.Target, Status: scan.StatusInconclusive, Error: scan.Failure{Reason: "not scanned"}}
		}
		handshakes += res.Handshakes.Total
		fs := r.findings(i)
		lv := legacyVersions(fs)
		if len(lv) > 0 {
			nLegacy++
		}
		rows = append(rows, row{e, res, fs, lv})
	}
	// Legacy first, then as configured.
	rank := func(rw row) int {
		if len(rw.legacy) > 0 {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(rank(a), rank(b)) })

	ew.printf("\n== %s ==\n", HeadingEndpoints)
	ew.printf("tlsmap scan: %d endpoints, %d handshakes in %s; %d accept TLS 1.1 or older\n\n",
		len(rows), handshakes, round(r.ScanTime), nLegacy)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  ENDPOINT\tTARGET\tACCEPTS\tSUITES\tVERDICT\n")
	for _, rw := range rows {
		all, weak := suiteCount(rw.res)
		verdict := "ok: TLS 1.2 and newer only"
		switch {
		case rw.res.Status != scan.StatusOK:
			verdict = fmt.Sprintf("%s: %s", rw.res.Status, rw.res.Error)
		case len(rw.legacy) > 0:
			verdict = "LEGACY: accepts " + strings.Join(rw.legacy, ", ")
		}
		suites := fmt.Sprintf("%d", all)
		if weak > 0 {
			suites += fmt.Sprintf(" (%d weak)", weak)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", rw.ep.Name, rw.ep.URL(), strings.Join(acceptedVersions(rw.res), " "), suites, verdict)
	}
	tw.Flush()

	ew.printf("\nWhat to act on (findings of medium severity and above; the demo's certificates expire in\n")
	ew.printf("%v by design, so their expiry is left out)\n", certLifetime)
	for _, rw := range rows {
		auth := r.PlaintextAuth[rw.ep.Name]
		var lines []string
		for _, f := range rw.findings {
			if f.Severity < policy.SeverityMedium || f.ID == policy.FindingCertExpiring {
				continue
			}
			msg := f.Message
			if len(f.Suites)+len(f.SSLv2Kinds) > 0 {
				msg += ": " + suiteNames(f, 3)
			}
			lines = append(lines, fmt.Sprintf("%-8s  %s", strings.ToUpper(f.Severity.String()), msg))
		}
		if len(auth) > 0 {
			lines = append(lines, fmt.Sprintf("%-8s  offers login in clear, before TLS: %s (seen in tlsmap's STARTTLS dialogue)", "NOTE", strings.Join(auth, ", ")))
		}
		if len(lines) == 0 {
			continue
		}
		ew.printf("  %s  %s\n", rw.ep.Name, rw.ep.URL())
		for _, l := range lines {
			ew.printf("    %s\n", l)
		}
	}
}

// suiteNames names the suites and SSLv2 kinds of f, up to max of them
// ("TLS_RSA_WITH_RC4_128_SHA, … +2 more").
func suiteNames(f policy.Finding, max int) string {
	var names []string
	for _, id := range f.Suites {
		name := fmt.Sprintf("0x%04X", id)
		if s, ok := ciphers.ByID(id); ok {
			name = s.Name
		}
		names = append(names, name)
	}
	for _, k := range f.SSLv2Kinds {
		names = append(names, fmt.Sprintf("0x%06X", k))
	}
	if len(names) > max {
		names = append(names[:max], fmt.Sprintf("+%d more", len(names)-max))
	}
	return strings.Join(names, ", ")
}

// findings returns the findings of endpoint i (nil when not scanned).
func (r *Result) findings(i int) []policy.Finding {
	if i < len(r.Findings) {
		return r.Findings[i]
	}
	return nil
}

func (r *Result) writeClients(ew *errWriter) {
	ew.printf("\n== %s ==\n", HeadingClients)
	switch {
	case r.Live:
		ew.printf("tlsmap sniff, live on %s: %d demo client connections", r.Interface, r.ClientFlows)
		if want := countConns(r.Clients); r.ClientFlows < want {
			ew.printf(" of the %d made (the capture missed some)", want)
		}
		if r.ScannerFlows > 0 {
			ew.printf("; the scanner's own %d connections (from %s) left out", r.ScannerFlows, scannerAddr)
		}
		if r.LiveDrops > 0 {
			ew.printf("; the kernel dropped %d frames", r.LiveDrops)
		}
		ew.printf("\n\n")
	default:
		when := "an earlier run"
		if !r.CaptureTime.IsZero() {
			when = "a run on " + r.CaptureTime.UTC().Format("2006-01-02")
		}
		ew.printf("tlsmap sniff, from the capture shipped with tlsmap: this demo's clients as tcpdump recorded them\n")
		ew.printf("on lo in %s (%s; same clients and server names, other ports)\n", when, ShippedCaptureName)
		if r.Fallback != "" {
			ew.printf("Not live: %s\n", r.Fallback)
		}
		ew.printf("\n")
	}
	if r.Sniff != nil && ew.err == nil {
		ew.err = output.WriteLegacyReport(ew.w, output.FormatTable, r.Sniff, output.NewCoverage(r.SniffStats, r.LiveDrops))
	}

	ew.printf("\nThe demo's clients (each from its own loopback address)\n")
	if !r.ClientsBound {
		ew.printf("  (this system would not bind them: this run's clients all used %s)\n", serverAddr)
	}
	for _, c := range r.Clients {
		ew.printf("  %s  %s\n", c.Addr, c.Who)
		for _, cc := range c.Conns {
			what := ""
			switch {
			case cc.Version != 0 && cc.Err == nil:
				what = fmt.Sprintf("%s  %s", tlswire.Version(cc.Version).String(), tls.CipherSuiteName(cc.Suite))
			case cc.Version != 0:
				what = fmt.Sprintf("%s  %s, then %v", tlswire.Version(cc.Version).String(), tls.CipherSuiteName(cc.Suite), cc.Err)
			default:
				what = fmt.Sprintf("refused: %v", cc.Err)
			}
			if ep, ok := r.endpoint(cc.Endpoint); ok && !sniffable(ep.Target.Protocol) {
				what += fmt.Sprintf("  (not in the client report: the sniffer has no %s STARTTLS recogniser yet)", strings.ToUpper(ep.Target.Protocol.String()))
			}
			ew.printf("      -> %-13s %s\n", cc.Endpoint, what)
		}
	}
	ew.printf("  %s  tlsmap scan itself (its probes are not in the client report)\n", scannerAddr)
}

// writeReadiness ends the demo with the join of both reports: the
// readiness table tlsmap report prints from the store.
func (r *Result) writeReadiness(ew *errWriter) {
	if r.Readiness == nil {
		return
	}
	ew.printf("\n== Readiness: can legacy TLS be switched off? (tlsmap report, from the store) ==\n")
	if ew.err == nil {
		ew.err = output.WriteReadinessTable(ew.w, r.Readiness)
	}
}

// Check verifies the run against what the demo's servers and clients are
// configured to do: every endpoint scanned, exactly the legacy ones
// reported legacy, and every legacy client, and no modern one, in the
// client report. A demo that fails its own check says so instead of
// showing a wrong report.
func (r *Result) Check() error {
	var errs []error
	for i, e := range r.Endpoints {
		res := r.Scan[i]
		switch {
		case res == nil:
			errs = append(errs, fmt.Errorf("demo: %s was not scanned", e.Name))
		case res.Status != scan.StatusOK:
			errs = append(errs, fmt.Errorf("demo: scan of %s: %s: %s", e.Name, res.Status, res.Error))
		case e.Legacy != (len(legacyVersions(r.findings(i))) > 0):
			errs = append(errs, fmt.Errorf("demo: %s is configured legacy=%v but the scan found legacy versions %v", e.Name, e.Legacy, legacyVersions(r.findings(i))))
		}
	}
	if r.Sniff == nil {
		return errors.Join(append(errs, errors.New("demo: no sniff report"))...)
	}
	legacy := map[string]bool{}
	for _, c := range r.Sniff.Clients() {
		legacy[c.Client.String()] = true
	}
	errs = append(errs, r.checkReadiness()...)
	for _, c := range r.Clients {
		want := r.legacyVisible(c)
		if got := legacy[c.Addr.String()]; got != want {
			errs = append(errs, fmt.Errorf("demo: client %s (%s): in the legacy report %v, want %v", c.Addr, c.Who, got, want))
		}
	}
	return errors.Join(errs...)
}

// legacyVisible reports whether the client offers nothing newer than
// TLS 1.1 on some connection the sniffer can see.
func (r *Result) legacyVisible(c Client) bool {
	return slices.ContainsFunc(c.Conns, func(cc ClientConn) bool {
		ep, ok := r.endpoint(cc.Endpoint)
		return ok && sniffable(ep.Target.Protocol) && cc.Max <= tls.VersionTLS11
	})
}

func (r *Result) endpoint(name string) (Endpoint, bool) {
	for _, e := range r.Endpoints {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// checkReadiness verifies the readiness verdicts: a modern endpoint is
// done; a legacy one is blocked by exactly the demo clients that use
// legacy TLS with it where the sniffer can see it, else ready (the modern
// client's connection is evidence), or no evidence when the sniffer sees
// none of its traffic.
func (r *Result) checkReadiness() []error {
	if r.Readiness == nil {
		return []error{errors.New("demo: no readiness report")}
	}
	var errs []error
	for i, e := range r.Endpoints {
		res := r.Scan[i]
		if res == nil {
			continue
		}
		ep := r.Readiness.Endpoint(res.Address)
		if ep == nil {
			errs = append(errs, fmt.Errorf("demo: %s (%s) is not in the readiness report", e.Name, res.Address))
			continue
		}
		want, blockers := readiness.Done, 0
		if e.Legacy {
			for _, c := range r.Clients {
				if slices.ContainsFunc(c.Conns, func(cc ClientConn) bool { return cc.Endpoint == e.Name && cc.Max <= tls.VersionTLS11 }) {
					blockers++
				}
			}
			switch {
			case !sniffable(e.Target.Protocol):
				want, blockers = readiness.NoEvidence, 0
			case blockers > 0:
				want = readiness.Blocked
			default:
				want = readiness.Ready
			}
		}
		if ep.Verdict != want || ep.BlockedBy() != blockers {
			errs = append(errs, fmt.Errorf("demo: %s: readiness %s (blocked by %d), want %s (blocked by %d)", e.Name, ep.Verdict, ep.BlockedBy(), want, blockers))
		}
	}
	return errs
}
