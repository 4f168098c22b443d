package output

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/scan"
)

// WriteScanReport writes the terminal report of one endpoint and its
// findings (policy.Findings).
func WriteScanReport(w io.Writer, r *scan.Result, fs []policy.Finding) error {
	rec := NewScanRecord(r, fs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }

	addr := rec.Address
	if addr == "" {
		addr = "-"
	}
	p("%s  (%s)", rec.Target, addr)
	status := rec.Status
	if rec.Error != "" {
		status += ": " + rec.Error
	}
	p("  status\t%s", status)
	p("  duration\t%s", time.Duration(rec.DurationMS*int64(time.Millisecond)))
	p("  handshakes\t%d (%s)", rec.Handshakes.Total, purposeSummary(rec.Handshakes))
	for _, c := range rec.Contradictions {
		p("  contradiction\t%s", c)
	}
	if d := rec.Detected; d != nil {
		what := string(d.Protocol)
		if what == "" {
			what = "nothing"
		}
		p("  detected\t%s (%s; %d %s)", what, d.Evidence, d.Connections, plural(d.Connections, "connection", "connections"))
	}
	writeDialogue(p, rec.Dialogue)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rec.Versions) == 0 {
		return nil
	}

	// Versions, one line each.
	p("")
	p("  Versions")
	for _, v := range rec.Versions {
		line := v.Outcome
		switch {
		case v.Outcome == "accepted":
			line += fmt.Sprintf(", %d %s", v.Accepted, plural(v.Accepted, "suite", "suites"))
			if v.Version == "SSLv2" {
				line = fmt.Sprintf("accepted, %d cipher %s", v.Accepted, plural(v.Accepted, "kind", "kinds"))
			}
			if v.ServerOrder != nil {
				line += ", " + orderName(*v.ServerOrder)
			}
		case v.Reason != "":
			line += " (" + v.Reason + ")"
		}
		if len(v.Inconclusive) > 0 {
			line += fmt.Sprintf("; %d inconclusive (%s)", len(v.Inconclusive), v.InconclusiveReason)
		}
		p("    %s\t%s", v.Version, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	// Suites, per accepted version.
	for _, v := range rec.Versions {
		if v.Accepted == 0 && len(v.Inconclusive) == 0 && len(v.cncCiphers) == 0 {
			continue
		}
		head := fmt.Sprintf("  %s suites", v.Version)
		if v.Version == "SSLv2" {
			head = "  SSLv2 cipher kinds"
		}
		switch {
		case v.ServerOrder != nil && *v.ServerOrder && v.OrderIncomplete:
			head += " (server order, partly ranked)"
		case v.ServerOrder != nil && *v.ServerOrder:
			head += " (server order)"
		case v.ServerOrder != nil:
			head += " (client order)"
		}
		if v.ChaChaPriority != nil {
			if *v.ChaChaPriority {
				head += ", ChaCha20 first when the client prefers it"
			} else {
				head += ", ChaCha20 priority: no"
			}
		}
		p("")
		p("%s", head)
		for _, c := range rec.Ciphers {
			if c.Version != v.Version {
				continue
			}
			p("    %s\t%s\t%s\t%s", c.ID, dash(c.Name), dash(c.OpenSSLName), dash(c.Grade))
		}
		for _, c := range v.inconclusiveCiphers {
			p("    %s\t%s\t%s\tinconclusive: %s", c.ID, dash(c.Name), dash(c.OpenSSLName), v.InconclusiveReason)
		}
		for _, c := range v.cncCiphers {
			p("    %s\t%s\t%s\tchosen, not completed (not accepted): %s", c.ID, dash(c.Name), dash(c.OpenSSLName), v.ChosenNotCompletedReason)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(v.Poisons) > 0 {
			p("    poisons %s: %s", strings.Join(v.Poisons, ", "), v.PoisonReason)
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		if v.CertByOffer != "" {
			p("    certificate chosen by the offer: %s", v.CertByOffer)
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}

	// Groups and the DHE prime.
	if len(rec.Groups) > 0 || rec.DHPrimeBits > 0 {
		p("")
		p("  Key exchange")
		for _, g := range rec.Groups {
			label := map[string]string{"tls13": "TLS 1.3 groups", "ecdhe": "ECDHE curves", "ffdhe": "FFDHE groups"}[g.Kind]
			if label == "" {
				label = g.Kind
			}
			var names []string
			for _, x := range g.Groups {
				names = append(names, x.Name)
			}
			line := g.Outcome
			if len(names) > 0 {
				line = strings.Join(names, ", ")
				if g.ServerOrder != nil {
					line += " (" + orderName(*g.ServerOrder) + ")"
				}
			} else if g.Reason != "" {
				line += " (" + g.Reason + ")"
			}
			if len(g.Inconclusive) > 0 {
				line += fmt.Sprintf("; %d inconclusive (%s)", len(g.Inconclusive), g.InconclusiveReason)
			}
			p("    %s\t%s", label, line)
		}
		if rec.DHPrimeBits > 0 {
			p("    DHE prime\t%d bits", rec.DHPrimeBits)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	// Certificate.
	if c := rec.Certificate; c != nil && len(c.Chain) > 0 {
		leaf := c.Chain[0]
		p("")
		p("  Certificate")
		p("    subject\t%s", dash(leaf.Subject))
		if len(leaf.SANs) > 0 {
			p("    SANs\t%s", strings.Join(leaf.SANs, ", "))
		}
		p("    issuer\t%s", dash(leaf.Issuer))
		p("    validity\t%s to %s (%s)", leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly), expiry(leaf.DaysToExpiry))
		key := leaf.KeyType
		if leaf.KeyBits > 0 {
			key += " " + strconv.Itoa(leaf.KeyBits)
		}
		if leaf.Curve != "" {
			key += " (" + leaf.Curve + ")"
		}
		p("    key\t%s", dash(key))
		p("    signature\t%s", dash(leaf.SignatureAlgorithm))
		trusted := "yes"
		if !c.Verified {
			trusted = "no"
			if c.VerifyError != "" {
				trusted += " (" + c.VerifyError + ")"
			}
		}
		p("    trusted\t%s", trusted)
		host := "matches"
		switch {
		case c.HostnameMatch:
		case c.HostnameError != "":
			host = "mismatch (" + c.HostnameError + ")"
		default:
			host = "not checked"
		}
		p("    hostname\t%s", host)
		if len(c.Chain) > 1 {
			p("    chain\t%d certificates", len(c.Chain))
		}
		if sc := rec.SNICheck; sc != nil && sc.Note != "" {
			p("    SNI check\t%s", sc.Note)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	} else if rec.CertificateError != "" {
		p("")
		p("  Certificate")
		p("    error\t%s", rec.CertificateError)
		if err := tw.Flush(); err != nil {
			return err
		}
	} else if why := certNotChecked(&rec); why != "" {
		// A certificate not fetched is not checked: say so, so that no
		// finding about it reads as "no problem".
		p("")
		p("  Certificate")
		p("    not checked\t%s", why)
		if err := tw.Flush(); err != nil {
			return err
		}
	}

	// Findings.
	if len(rec.Findings) > 0 {
		p("")
		p("  Findings")
		for _, f := range rec.Findings {
			p("    %s\t%s", strings.ToUpper(f.Severity.String()), f.Message)
		}
	}
	return tw.Flush()
}

// certNotChecked is why an endpoint that accepted a version has neither a
// certificate nor a certificate error, or "".
func certNotChecked(rec *ScanRecord) string {
	if rec.CertificateSkipped != "" {
		return rec.CertificateSkipped
	}
	for _, v := range rec.Versions {
		if v.Outcome == string(scan.Accepted) {
			return "the certificate handshake did not run"
		}
	}
	return ""
}

func purposeSummary(h HandshakesRecord) string {
	var parts []string
	for _, k := range []string{"sslv2", "versions", "suites", "order", "groups", "certificate", "poison", "verify", "dialogue"} {
		if n := h.ByPurpose[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if h.Retries > 0 {
		parts = append(parts, fmt.Sprintf("of which retries %d", h.Retries))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func orderName(server bool) string {
	if server {
		return "server order"
	}
	return "client order"
}

func expiry(days int) string {
	switch {
	case days < 0:
		return fmt.Sprintf("expired %d days ago", -days)
	case days == 0:
		return "expires today"
	}
	return fmt.Sprintf("expires in %d days", days)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
