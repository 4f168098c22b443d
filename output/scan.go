package output

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/scan"
)

// ScanSchema names the JSON shape of ScanRecord (docs/schema/scan.md).
// A later version only adds fields; a change of meaning gets a new name.
const ScanSchema = "tlsmap.scan/1"

// ScanRecord is the JSON shape of one scanned endpoint (schema
// docs/schema/scan.md): one object per line in --format jsonl.
type ScanRecord struct {
	Schema string `json:"schema"` // ScanSchema

	Target   string `json:"target"` // canonical "https://example.com:443"
	Input    string `json:"input"`  // as given on the command line
	Host     string `json:"host"`   // name sent as SNI; "" for an IP literal
	Port     int    `json:"port"`
	Protocol string `json:"protocol"` // https, tls, smtp …
	Address  string `json:"address"`  // ip:port dialed; "" when resolution failed

	Status string `json:"status"` // ok, unreachable, inconclusive
	Error  string `json:"error"`  // why status is not ok

	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`

	Handshakes HandshakesRecord `json:"handshakes"`
	Versions   []VersionRecord  `json:"versions"`
	Ciphers    []CipherRecord   `json:"ciphers"`
	Groups     []GroupRecord    `json:"groups"`

	DHPrimeBits      int         `json:"dh_prime_bits"` // 0: unknown or no DHE suite
	Certificate      *CertRecord `json:"certificate"`   // null when not fetched
	CertificateError string      `json:"certificate_error"`

	// Dialogue is the plaintext mail dialogue (output/mail.go); null for
	// implicit TLS.
	Dialogue *DialogueRecord `json:"dialogue"`

	Findings []Finding `json:"findings"`
}

// HandshakesRecord counts the connections a scan opened.
type HandshakesRecord struct {
	Total     int            `json:"total"`
	ByPurpose map[string]int `json:"by_purpose"` // sslv2, versions, suites, order, groups, certificate
	Retries   int            `json:"retries"`    // included in by_purpose
}

// VersionRecord is the verdict on one protocol version.
type VersionRecord struct {
	Version  string `json:"version"` // SSLv2, SSLv3, TLSv1.0 … TLSv1.3
	Outcome  string `json:"outcome"` // accepted, rejected, inconclusive
	Reason   string `json:"reason"`
	Accepted int    `json:"accepted"` // number of accepted suites (SSLv2: cipher kinds)
	// Candidates is the number of suites offered (0 for SSLv2).
	Candidates int `json:"candidates"`
	// ServerOrder: true when the server enforces its order, false when it
	// follows the client's, null when unknown.
	ServerOrder     *bool `json:"server_order"`
	OrderIncomplete bool  `json:"order_incomplete"`
	// ChaChaPriority: null when not probed.
	ChaChaPriority     *bool    `json:"chacha_priority"`
	Inconclusive       []string `json:"inconclusive"` // suite IDs left undecided
	InconclusiveReason string   `json:"inconclusive_reason"`
}

// CipherRecord is one accepted (version, suite) pair.
type CipherRecord struct {
	Version     string `json:"version"`
	ID          string `json:"id"` // "0xC02F"; SSLv2 kinds "0x0700C0"
	Name        string `json:"name"`
	OpenSSLName string `json:"openssl_name"`
	Grade       string `json:"grade"`
	Kex         string `json:"kex"`
	Auth        string `json:"auth"`
	Enc         string `json:"enc"`
	Bits        int    `json:"bits"`
	AEAD        bool   `json:"aead"`
	PFS         bool   `json:"pfs"`
	// ServerRank is the suite's 1-based place in the server's order when
	// the version's server_order is true, otherwise null.
	ServerRank *int `json:"server_rank"`
}

// GroupRecord is one key exchange group scan.
type GroupRecord struct {
	Kind               string     `json:"kind"` // tls13, ecdhe, ffdhe
	Version            string     `json:"version"`
	Outcome            string     `json:"outcome"`
	Reason             string     `json:"reason"`
	ServerOrder        *bool      `json:"server_order"`
	Groups             []GroupRef `json:"groups"`
	Inconclusive       []string   `json:"inconclusive"`
	InconclusiveReason string     `json:"inconclusive_reason"`
}

// GroupRef names a group.
type GroupRef struct {
	ID   string `json:"id"` // "0x001D"
	Name string `json:"name"`
	Bits int    `json:"bits"`
}

// CertRecord is the certificate handshake's outcome.
type CertRecord struct {
	Verified      bool   `json:"verified"`
	VerifyError   string `json:"verify_error"`
	HostnameMatch bool   `json:"hostname_match"`
	HostnameError string `json:"hostname_error"`
	Version       string `json:"version"` // negotiated by the certificate handshake
	Cipher        string `json:"cipher"`  // its suite's IANA name
	Library       string `json:"library"` // zcrypto or crypto/tls
	// Chain is the server's Certificate message, leaf first.
	Chain []CertSummaryRecord `json:"chain"`
}

// CertSummaryRecord describes one certificate.
type CertSummaryRecord struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	SANs               []string  `json:"sans"`
	Serial             string    `json:"serial"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	DaysToExpiry       int       `json:"days_to_expiry"`
	KeyType            string    `json:"key_type"`
	KeyBits            int       `json:"key_bits"`
	Curve              string    `json:"curve"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SelfSigned         bool      `json:"self_signed"`
	IsCA               bool      `json:"is_ca"`
	SHA256             string    `json:"sha256"`
	ParseError         string    `json:"parse_error"`
}

// Severity ranks a finding.
type Severity uint8

// Severities, least severe first.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// String returns "info", "low", "medium", "high" or "critical".
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	for v := SeverityInfo; v <= SeverityCritical; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("output: unknown severity %q", b)
}

// Finding is something about an endpoint that a team switching legacy TLS
// off wants to know. IDs are stable (docs/schema/scan.md lists them).
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	// Versions and Suites are what the finding is about, when it is about
	// versions or suites ("TLSv1.0"; "0x000A").
	Versions []string `json:"versions,omitempty"`
	Suites   []string `json:"suites,omitempty"`
}

// Thresholds of the findings.
const (
	CertExpiryWarnDays = 30   // "certificate expires in N days" below this
	MinDHPrimeBits     = 2048 // "DHE prime < 2048 bits" below this
)

// Findings derives the findings of r, most severe first.
func Findings(r *scan.Result) []Finding {
	var fs []Finding
	add := func(id string, sev Severity, msg string) *Finding {
		fs = append(fs, Finding{ID: id, Severity: sev, Message: msg})
		return &fs[len(fs)-1]
	}
	if r.SSLv2 != nil && r.SSLv2.Outcome == scan.Accepted {
		add("sslv2", SeverityCritical, "accepts SSLv2").Versions = []string{"SSLv2"}
	}
	for _, v := range []struct {
		ver uint16
		id  string
		sev Severity
		msg string
	}{
		{ciphers.VersionSSL30, "sslv3", SeverityCritical, "accepts SSLv3"},
		{ciphers.VersionTLS10, "tls10", SeverityHigh, "accepts TLS 1.0"},
		{ciphers.VersionTLS11, "tls11", SeverityHigh, "accepts TLS 1.1"},
	} {
		if vr := r.Version(v.ver); vr != nil && vr.Outcome == scan.Accepted {
			add(v.id, v.sev, v.msg).Versions = []string{ciphers.VersionName(v.ver)}
		}
	}

	if r.Status == scan.StatusOK && len(r.Versions) > 0 && !slices.ContainsFunc(r.Versions, func(v scan.VersionResult) bool {
		return v.Outcome != scan.Rejected
	}) && (r.SSLv2 == nil || r.SSLv2.Outcome == scan.Rejected) {
		add("no-version", SeverityMedium, "accepts no protocol version (every probe refused): is this a TLS port?")
	}

	// Suite findings: each names the accepted suites it is about, once
	// per suite, over all versions.
	type suiteRule struct {
		id    string
		sev   Severity
		msg   string
		match func(s ciphers.Suite) bool
	}
	rules := []suiteRule{
		{"null-suites", SeverityCritical, "accepts NULL suites (no encryption)", func(s ciphers.Suite) bool { return s.Null }},
		{"anon-suites", SeverityCritical, "accepts anonymous suites (no server authentication)", func(s ciphers.Suite) bool { return s.Anon }},
		{"export-suites", SeverityCritical, "accepts EXPORT suites", func(s ciphers.Suite) bool { return s.Export }},
		{"rc4-suites", SeverityHigh, "accepts RC4 suites", func(s ciphers.Suite) bool { return s.Enc == "RC4" }},
		{"des-suites", SeverityHigh, "accepts single-DES suites", func(s ciphers.Suite) bool { return s.Enc == "DES" && !s.Export }},
		{"3des-suites", SeverityMedium, "accepts 3DES suites (64-bit blocks, Sweet32)", func(s ciphers.Suite) bool { return s.Enc == "3DES_EDE" }},
	}
	accepted := acceptedSuites(r)
	for _, rule := range rules {
		var ids []string
		var vers []string
		for _, a := range accepted {
			if s, ok := ciphers.ByID(a.id); ok && rule.match(s) {
				ids = appendNew(ids, s.HexID())
				vers = appendNew(vers, a.version)
			}
		}
		if len(ids) > 0 {
			f := add(rule.id, rule.sev, rule.msg)
			f.Suites, f.Versions = ids, vers
		}
	}
	if r.SSLv2 != nil && r.SSLv2.Outcome == scan.Accepted {
		var exp []string
		for _, k := range r.SSLv2.Kinds {
			if kind, ok := ciphers.SSLv2KindByID(k); ok && kind.Export {
				exp = append(exp, sslv2ID(k))
			}
		}
		if len(exp) > 0 {
			f := add("sslv2-export", SeverityCritical, "accepts SSLv2 EXPORT cipher kinds")
			f.Suites, f.Versions = exp, []string{"SSLv2"}
		}
	}
	if len(accepted) > 0 {
		var noPFS []string
		var vers []string
		pfs := 0
		for _, a := range accepted {
			s, ok := ciphers.ByID(a.id)
			switch {
			case !ok:
			case s.PFS:
				pfs++
			default:
				noPFS = appendNew(noPFS, s.HexID())
				vers = appendNew(vers, a.version)
			}
		}
		switch {
		case pfs == 0 && len(noPFS) > 0:
			f := add("no-pfs", SeverityHigh, "no forward secrecy suites")
			f.Suites, f.Versions = noPFS, vers
		case len(noPFS) > 0:
			f := add("some-no-pfs", SeverityLow, fmt.Sprintf("%d %s without forward secrecy", len(noPFS), plural(len(noPFS), "suite", "suites")))
			f.Suites, f.Versions = noPFS, vers
		}
	}
	if r.DHPrimeBits > 0 && r.DHPrimeBits < MinDHPrimeBits {
		sev := SeverityMedium
		if r.DHPrimeBits < 1024 {
			sev = SeverityHigh
		}
		add("dh-prime", sev, fmt.Sprintf("DHE prime %d bits (< %d)", r.DHPrimeBits, MinDHPrimeBits))
	}
	if c := r.Cert; c != nil && len(c.Chain) > 0 {
		leaf := c.Chain[0]
		switch {
		case leaf.ParseError != "":
		case leaf.DaysToExpiry < 0:
			add("cert-expired", SeverityCritical, fmt.Sprintf("certificate expired %d days ago", -leaf.DaysToExpiry))
		case leaf.DaysToExpiry < CertExpiryWarnDays:
			add("cert-expiring", SeverityMedium, fmt.Sprintf("certificate expires in %d days", leaf.DaysToExpiry))
		}
		if !c.Verified {
			msg := "certificate not trusted"
			if c.VerifyError != "" {
				msg += ": " + c.VerifyError
			}
			add("cert-untrusted", SeverityHigh, msg)
		}
		if !c.HostnameMatch && c.HostnameError != "" {
			add("cert-hostname", SeverityHigh, "hostname mismatch: "+c.HostnameError)
		}
	}
	fs = append(fs, mailFindings(r)...)
	slices.SortStableFunc(fs, func(a, b Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	if fs == nil {
		fs = []Finding{}
	}
	return fs
}

type versionSuite struct {
	version string
	id      uint16
}

// acceptedSuites lists the accepted (version, suite) pairs of r.
func acceptedSuites(r *scan.Result) []versionSuite {
	var out []versionSuite
	for _, v := range r.Versions {
		for _, id := range v.Suites {
			out = append(out, versionSuite{v.Name(), id})
		}
	}
	return out
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func hex16(id uint16) string   { return fmt.Sprintf("0x%04X", id) }
func sslv2ID(id uint32) string { return fmt.Sprintf("0x%06X", id) }

// NewScanRecord converts a result to its JSON record.
func NewScanRecord(r *scan.Result) ScanRecord {
	rec := ScanRecord{
		Schema:   ScanSchema,
		Target:   r.Target.String(),
		Input:    r.Target.Input,
		Host:     r.Target.Host,
		Port:     int(r.Target.Port),
		Protocol: string(r.Target.Protocol),
		Address:  r.Address,
		Status:   string(r.Status),
		Error:    r.Error,
		Started:  r.Started.UTC(),

		DurationMS: r.Duration.Milliseconds(),
		Handshakes: HandshakesRecord{
			Total: r.Handshakes.Total,
			ByPurpose: map[string]int{
				"sslv2": r.Handshakes.SSLv2, "versions": r.Handshakes.Versions, "suites": r.Handshakes.Suites,
				"order": r.Handshakes.Order, "groups": r.Handshakes.Groups, "certificate": r.Handshakes.Certificate,
			},
			Retries: r.Handshakes.Retries,
		},
		Versions:         []VersionRecord{},
		Ciphers:          []CipherRecord{},
		Groups:           []GroupRecord{},
		DHPrimeBits:      r.DHPrimeBits,
		CertificateError: r.CertError,
		Dialogue:         newDialogueRecord(r.Dialogue),
		Findings:         Findings(r),
	}
	if r.SSLv2 != nil {
		rec.Versions = append(rec.Versions, VersionRecord{
			Version: "SSLv2", Outcome: string(r.SSLv2.Outcome), Reason: r.SSLv2.Reason,
			Accepted: len(r.SSLv2.Kinds), Inconclusive: []string{},
		})
		for _, k := range r.SSLv2.Kinds {
			c := CipherRecord{Version: "SSLv2", ID: sslv2ID(k), Grade: ciphers.GradeInsecure.String()}
			if kind, ok := ciphers.SSLv2KindByID(k); ok {
				c.Name, c.OpenSSLName, c.Bits = kind.Name, kind.OpenSSLName, kind.Bits
			}
			rec.Ciphers = append(rec.Ciphers, c)
		}
	}
	for i := range r.Versions {
		v := &r.Versions[i]
		vr := VersionRecord{
			Version: v.Name(), Outcome: string(v.Outcome), Reason: v.Reason,
			Accepted: len(v.Suites), Candidates: v.Candidates,
			ServerOrder: v.ServerOrder, OrderIncomplete: v.OrderIncomplete, ChaChaPriority: v.ChaChaPriority,
			Inconclusive: hexList(v.Inconclusive), InconclusiveReason: v.InconclusiveReason,
		}
		rec.Versions = append(rec.Versions, vr)
		ranked := v.ServerOrder != nil && *v.ServerOrder
		for j, id := range v.Suites {
			c := newCipherRecord(v.Name(), id)
			if ranked {
				rank := j + 1
				c.ServerRank = &rank
			}
			rec.Ciphers = append(rec.Ciphers, c)
		}
	}
	for _, g := range r.Groups {
		gr := GroupRecord{
			Kind: string(g.Kind), Version: ciphers.VersionName(g.Version), Outcome: string(g.Outcome), Reason: g.Reason,
			ServerOrder: g.ServerOrder, Groups: []GroupRef{}, Inconclusive: hexList(g.Inconclusive),
			InconclusiveReason: g.InconclusiveReason,
		}
		for _, id := range g.Groups {
			gr.Groups = append(gr.Groups, groupRef(id))
		}
		rec.Groups = append(rec.Groups, gr)
	}
	if c := r.Cert; c != nil {
		cr := &CertRecord{
			Verified: c.Verified, VerifyError: c.VerifyError,
			HostnameMatch: c.HostnameMatch, HostnameError: c.HostnameError,
			Library: c.Library, Chain: []CertSummaryRecord{},
		}
		if c.Version != 0 {
			cr.Version = ciphers.VersionName(c.Version)
		}
		if c.CipherSuite != 0 {
			cr.Cipher = suiteName(c.CipherSuite)
		}
		for _, s := range c.Chain {
			sans := s.SANs
			if sans == nil {
				sans = []string{}
			}
			cr.Chain = append(cr.Chain, CertSummaryRecord{
				Subject: s.Subject, Issuer: s.Issuer, SANs: sans, Serial: s.Serial,
				NotBefore: s.NotBefore.UTC(), NotAfter: s.NotAfter.UTC(), DaysToExpiry: s.DaysToExpiry,
				KeyType: s.KeyType, KeyBits: s.KeyBits, Curve: s.Curve, SignatureAlgorithm: s.SignatureAlgorithm,
				SelfSigned: s.SelfSigned, IsCA: s.IsCA, SHA256: s.SHA256, ParseError: s.ParseError,
			})
		}
		rec.Certificate = cr
	}
	return rec
}

func newCipherRecord(version string, id uint16) CipherRecord {
	c := CipherRecord{Version: version, ID: hex16(id)}
	if s, ok := ciphers.ByID(id); ok {
		c.Name, c.OpenSSLName, c.Kex, c.Auth, c.Enc, c.Bits, c.AEAD, c.PFS =
			s.Name, s.OpenSSLName, s.Kex, s.Auth, s.Enc, s.Bits, s.AEAD, s.PFS
		if s.Grade != ciphers.GradeNone {
			c.Grade = s.Grade.String()
		}
	}
	return c
}

func suiteName(id uint16) string {
	if s, ok := ciphers.ByID(id); ok {
		return s.Name
	}
	return hex16(id)
}

func groupRef(id uint16) GroupRef {
	g := GroupRef{ID: hex16(id), Name: ciphers.GroupName(id)}
	if info, ok := ciphers.GroupByID(id); ok {
		g.Bits = info.Bits
	}
	return g
}

func hexList(ids []uint16) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, hex16(id))
	}
	return out
}

// ScanCSVColumns are the columns of --format csv (docs/schema/scan.md).
var ScanCSVColumns = []string{
	"target", "address", "status", "error",
	"version", "version_outcome", "version_reason", "server_order",
	"suite_outcome", "server_rank", "id", "name", "openssl_name", "grade", "kex", "auth", "enc", "bits", "pfs",
}

// scanRow is one CSV row.
type scanRow []string

func (r scanRow) Columns() []string { return ScanCSVColumns }
func (r scanRow) Cells() []string   { return r }

// csvRows flattens a record: one row per (version, suite), accepted or
// inconclusive; a version without suites has one row with empty suite
// columns, and an endpoint without versions one row with only its own.
func csvRows(rec *ScanRecord) []scanRow {
	base := []string{rec.Target, rec.Address, rec.Status, rec.Error}
	var rows []scanRow
	row := func(cells ...string) {
		r := append(slices.Clone(base), cells...)
		for len(r) < len(ScanCSVColumns) {
			r = append(r, "")
		}
		rows = append(rows, r)
	}
	for _, v := range rec.Versions {
		vcells := []string{v.Version, v.Outcome, v.Reason, optBool(v.ServerOrder)}
		n := 0
		for _, c := range rec.Ciphers {
			if c.Version != v.Version {
				continue
			}
			n++
			rank := ""
			if c.ServerRank != nil {
				rank = strconv.Itoa(*c.ServerRank)
			}
			row(append(vcells, "accepted", rank, c.ID, c.Name, c.OpenSSLName, c.Grade, c.Kex, c.Auth, c.Enc,
				strconv.Itoa(c.Bits), strconv.FormatBool(c.PFS))...)
		}
		for _, id := range v.Inconclusive {
			n++
			var c CipherRecord
			if x, err := strconv.ParseUint(strings.TrimPrefix(id, "0x"), 16, 16); err == nil {
				c = newCipherRecord(v.Version, uint16(x))
			}
			row(append(vcells, "inconclusive", "", id, c.Name, c.OpenSSLName, c.Grade, c.Kex, c.Auth, c.Enc,
				strconv.Itoa(c.Bits), strconv.FormatBool(c.PFS))...)
		}
		if n == 0 {
			row(vcells...)
		}
	}
	if len(rec.Versions) == 0 {
		row()
	}
	return rows
}

func optBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// ScanWriter writes scan results as they come, in one format: a report
// per endpoint (table), one JSON object per endpoint (jsonl) or one row
// per endpoint, version and suite (csv).
type ScanWriter struct {
	format Format
	w      io.Writer
	enc    *json.Encoder
	rows   *RowWriter
	n      int
}

// NewScanWriter returns a ScanWriter writing f to w.
func NewScanWriter(w io.Writer, f Format) *ScanWriter {
	sw := &ScanWriter{format: f, w: w}
	switch f {
	case FormatJSONL:
		sw.enc = json.NewEncoder(w)
		sw.enc.SetEscapeHTML(false)
	case FormatCSV:
		sw.rows = NewRowWriter(w, FormatCSV)
	}
	return sw
}

// Write writes one endpoint's result.
func (sw *ScanWriter) Write(r *scan.Result) error {
	defer func() { sw.n++ }()
	switch sw.format {
	case FormatJSONL:
		return sw.enc.Encode(NewScanRecord(r))
	case FormatCSV:
		rec := NewScanRecord(r)
		for _, row := range csvRows(&rec) {
			if err := sw.rows.Write(row); err != nil {
				return err
			}
		}
		// Rows are flushed per endpoint, so an interrupted scan keeps
		// what finished.
		return sw.rows.Flush()
	default:
		if sw.n > 0 {
			if _, err := io.WriteString(sw.w, "\n"); err != nil {
				return err
			}
		}
		return WriteScanReport(sw.w, r)
	}
}

// Flush writes what is buffered.
func (sw *ScanWriter) Flush() error {
	if sw.rows != nil {
		return sw.rows.Flush()
	}
	return nil
}

// WriteScanReport writes the terminal report of one endpoint.
func WriteScanReport(w io.Writer, r *scan.Result) error {
	rec := NewScanRecord(r)
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
		if v.Accepted == 0 && len(v.Inconclusive) == 0 {
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
		for _, id := range v.Inconclusive {
			c := CipherRecord{ID: id}
			if x, err := strconv.ParseUint(strings.TrimPrefix(id, "0x"), 16, 16); err == nil {
				c = newCipherRecord(v.Version, uint16(x))
			}
			p("    %s\t%s\t%s\tinconclusive: %s", c.ID, dash(c.Name), dash(c.OpenSSLName), v.InconclusiveReason)
		}
		if err := tw.Flush(); err != nil {
			return err
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

func purposeSummary(h HandshakesRecord) string {
	var parts []string
	for _, k := range []string{"sslv2", "versions", "suites", "order", "groups", "certificate"} {
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
