package sniff

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Legacy reasons: why a flow counts as legacy TLS. A flow may have several.
const (
	// ReasonNegotiated: the server chose TLS 1.1 or older (SSLv3, SSLv2).
	ReasonNegotiated = "negotiated"
	// ReasonOffered: the highest version the client offered is TLS 1.1
	// or older, whatever the server chose (or when no ServerHello was
	// seen).
	ReasonOffered = "offered"
	// ReasonSSLv2Hello: the ClientHello came in the SSLv2 record format.
	ReasonSSLv2Hello = "sslv2-hello"
)

// LegacyReasons says why f used or offered legacy TLS: the server
// negotiated TLS 1.1 or older, or the client offered nothing newer than
// TLS 1.1, or its hello was in the SSLv2 format. It returns nil for a flow
// that is not legacy (or carried no TLS hello at all).
func LegacyReasons(f *Flow) []string {
	var r []string
	if v := f.NegotiatedVersion(); v != 0 && v <= tls.VersionTLS11 {
		r = append(r, ReasonNegotiated)
	}
	if v := MaxOffered(f); v != 0 && v <= tls.VersionTLS11 {
		r = append(r, ReasonOffered)
	}
	if f.SSLv2 {
		r = append(r, ReasonSSLv2Hello)
	}
	return r
}

// IsLegacy reports whether LegacyReasons(f) is not empty.
func IsLegacy(f *Flow) bool { return len(LegacyReasons(f)) > 0 }

// MaxOffered is the newest version the client offered (by
// tls.Version.Rank; GREASE and unknown code points ignored, a TLS 1.3
// draft counts as TLS 1.3), or 0 when no ClientHello was seen.
func MaxOffered(f *Flow) tls.Version {
	var m tls.Version
	for _, v := range f.OfferedVersions {
		if v.Rank() > m.Rank() {
			m = v
		}
	}
	if m.IsTLS13() {
		return tls.VersionTLS13
	}
	return m
}

// Fingerprints names known clients by fingerprint: a JA3 hash (32 hex
// digits, as Flow.JA3) or a JA4 string (as Flow.JA4).
type Fingerprints map[string]string

// ErrFingerprints is wrapped by every error of LoadFingerprints.
var ErrFingerprints = errors.New("sniff: bad fingerprint file")

var (
	ja3Pattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	// JA4: protocol, version, SNI, counts, ALPN; then two 12-hex hashes
	// (FoxIO JA4 specification, "JA4_a_b_c").
	ja4Pattern = regexp.MustCompile(`^[tqd][0-9s][0-9a-z][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$`)
)

// LoadFingerprints reads a fingerprint file: CSV lines "fingerprint,label"
// where fingerprint is a JA3 hash or a JA4 string; lines starting with '#'
// and blank lines are skipped, and a first line "fingerprint,label" is a
// header. A bad line is an error naming the file (name) and line number.
func LoadFingerprints(r io.Reader, name string) (Fingerprints, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	fp := Fingerprints{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return fp, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%w: %s:%d: %v", ErrFingerprints, name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrFingerprints, name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("%w: %s:%d: want 2 fields (fingerprint,label), got %d", ErrFingerprints, name, line, len(rec))
		}
		key, label := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if first && strings.EqualFold(key, "fingerprint") && strings.EqualFold(label, "label") {
			continue
		}
		if ja3Pattern.MatchString(strings.ToLower(key)) {
			key = strings.ToLower(key)
		} else if !ja4Pattern.MatchString(key) {
			return nil, fmt.Errorf("%w: %s:%d: %q is neither a JA3 hash (32 hex digits) nor a JA4 fingerprint (t13d1516h2_8daaf6152771_e5627efa2ab1)", ErrFingerprints, name, line, key)
		}
		if label == "" {
			return nil, fmt.Errorf("%w: %s:%d: empty label for %s", ErrFingerprints, name, line, key)
		}
		fp[key] = label
	}
}

// Label returns the label of f's JA4, else of its JA3, else "".
func (fp Fingerprints) Label(f *Flow) string {
	if l, ok := fp[f.JA4]; ok && f.JA4 != "" {
		return l
	}
	if l, ok := fp[f.JA3]; ok && f.JA3 != "" {
		return l
	}
	return ""
}

// DefaultSetLimit is how many distinct values each set of a ClientSummary
// keeps (SNIs, servers, suites, fingerprints …).
const DefaultSetLimit = evidence.DefaultSetLimit

// ClientSummary aggregates the legacy (and unknown-version) flows of one
// client: the same summary tlsmap logs gives, from evidence.Report.
type ClientSummary = evidence.ClientSummary

// Totals counts flows over the whole input (evidence.Totals).
type Totals = evidence.Totals

// ReportConfig configures a Report. Zero values select the defaults.
type ReportConfig struct {
	// Fingerprints labels known clients.
	Fingerprints Fingerprints
	// SetLimit caps each set of a ClientSummary (default DefaultSetLimit).
	SetLimit int
	// MaxClients caps the client addresses tracked (default 1<<20).
	MaxClients int
}

// Report aggregates flows per client address into the legacy-client
// report: each flow becomes its evidence (Observations) in an
// evidence.Report, the one the logs command fills from server logs. Add
// every flow; Clients and Totals may be called at any time. Its memory is
// bounded by MaxClients and SetLimit, not by the number of flows. A
// Report is not safe for concurrent use.
type Report struct {
	fp Fingerprints
	ev *evidence.Report
}

// NewReport returns an empty report.
func NewReport(cfg ReportConfig) *Report {
	return &Report{fp: cfg.Fingerprints, ev: evidence.NewReport(evidence.ReportConfig{SetLimit: cfg.SetLimit, MaxClients: cfg.MaxClients})}
}

// NoServerHello is the name Totals.ByVersion and ClientSummary.Negotiated
// count flows under when a ClientHello was seen without a ServerHello.
const NoServerHello = "none"

// Add counts one flow. Flows that tell nothing of a client's TLS
// (plaintext, or nothing seen) are ignored.
func (r *Report) Add(f *Flow) {
	for _, o := range Observations(f, r.fp.Label(f)) {
		r.ev.Add(&o)
	}
}

// Clients returns the summaries of the clients with a legacy or
// unknown-version flow, most legacy connections first, then by address.
func (r *Report) Clients() []*ClientSummary { return r.ev.Clients() }

// Totals returns the totals so far (the maps are copies).
func (r *Report) Totals() Totals { return r.ev.Totals() }

// Evidence is the report's evidence.Report.
func (r *Report) Evidence() *evidence.Report { return r.ev }
