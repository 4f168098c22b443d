package output

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
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

	Status string `json:"status"` // ok, partial, unreachable, dialogue-error, inconclusive, not-started
	// Error is why status is not ok (scan.Failure): "stage: reason", or
	// the reason alone when no stage failed ("cancelled"); ErrorStage the
	// stage alone (resolve, dial, preamble, hello; "" when none).
	Error      string `json:"error"`
	ErrorStage string `json:"error_stage"`

	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`

	Handshakes HandshakesRecord `json:"handshakes"`
	Versions   []VersionRecord  `json:"versions"`
	// Contradictions are answers of the endpoint that disagree with each
	// other (scan.Result.Contradictions); [] when none.
	Contradictions []string       `json:"contradictions"`
	Ciphers        []CipherRecord `json:"ciphers"`
	Groups         []GroupRecord  `json:"groups"`

	DHPrimeBits int         `json:"dh_prime_bits"` // 0: unknown or no DHE suite
	Certificate *CertRecord `json:"certificate"`   // null when not fetched
	// CertificateError is why the certificate handshake failed
	// (scan.Result.CertError, a scan.Failure) as "stage: reason";
	// CertificateErrorStage the stage alone (dial, handshake, verify; ""
	// when it did not fail).
	CertificateError      string `json:"certificate_error"`
	CertificateErrorStage string `json:"certificate_error_stage"`
	// CertificateSkipped is why the certificate handshake did not run on
	// an endpoint that accepted a version (scan.Result.CertSkipped): its
	// certificate was not checked. "" when it ran or nothing was accepted.
	CertificateSkipped string `json:"certificate_skipped"`
	// SNICheck is the certificate handshake repeated with SNI on an IP
	// target scanned without a name (scan.Result.SNICheck); null when it
	// did not run.
	SNICheck *SNICheckRecord `json:"sni_check"`

	// Dialogue is the plaintext mail dialogue (output/mail.go); null for
	// implicit TLS.
	Dialogue *protocols.Dialogue `json:"dialogue"`

	// Findings are policy.Findings of the result, most severe first.
	Findings []FindingRecord `json:"findings"`

	// Detected says how the protocol of an auto target (--starttls
	// auto) was found (scan.Detection); null when the scheme was given or
	// implied by the port.
	Detected *scan.Detection `json:"detected"`
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
	// ChosenNotCompleted are suite IDs the server chose and then failed on
	// before ServerHelloDone: not accepted.
	ChosenNotCompleted       []string `json:"chosen_not_completed"`
	ChosenNotCompletedReason string   `json:"chosen_not_completed_reason"`
	// Poisons are suite IDs shown to make the server fail a whole hello
	// that lists them.
	Poisons      []string `json:"poisons"`
	PoisonReason string   `json:"poison_reason"`
	// CertByOffer: how suites refused while an ECDSA suite was listed
	// were found without one (the server picks its certificate by the
	// offer); "" when not seen.
	CertByOffer string `json:"cert_by_offer"`

	// inconclusiveCiphers and cncCiphers describe Inconclusive and
	// ChosenNotCompleted for the CSV and the table (not in the JSON: the
	// ids are enough there).
	inconclusiveCiphers []CipherRecord
	cncCiphers          []CipherRecord
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

// SNICheckRecord is the SNI check of an IP target (scan.SNICheck).
type SNICheckRecord struct {
	Name    string `json:"name"`    // the server name sent
	Outcome string `json:"outcome"` // same, differs, inconclusive
	// Error is why it is inconclusive, as "stage: reason" (a
	// scan.Failure); "" otherwise.
	Error string `json:"error"`
	// Leaf is the leaf presented with SNI when it differs; null
	// otherwise.
	Leaf *SNILeafRecord `json:"leaf"`
	// Note is the sentence the table prints (scan.SNICheck.Note); ""
	// when the same leaf came back.
	Note string `json:"note"`
}

// SNILeafRecord is the other leaf of an SNI check, in short.
type SNILeafRecord struct {
	Subject string   `json:"subject"`
	SANs    []string `json:"sans"`
	KeyType string   `json:"key_type"`
	KeyBits int      `json:"key_bits"`
	Curve   string   `json:"curve"`
	SHA256  string   `json:"sha256"`
}

func newSNICheckRecord(c *scan.SNICheck) *SNICheckRecord {
	if c == nil {
		return nil
	}
	rec := &SNICheckRecord{Name: c.Name, Outcome: c.Outcome.String(), Error: c.Error.String(), Note: c.Note()}
	if l := c.Leaf; l != nil {
		sans := l.SANs
		if sans == nil {
			sans = []string{}
		}
		rec.Leaf = &SNILeafRecord{Subject: l.Subject, SANs: sans, KeyType: l.KeyType, KeyBits: l.KeyBits, Curve: l.Curve, SHA256: l.SHA256}
	}
	return rec
}

// FindingRecord is one finding (policy.Finding). IDs are stable
// (docs/schema/scan.md lists them).
type FindingRecord struct {
	ID       policy.FindingID `json:"id"`
	Severity policy.Severity  `json:"severity"`
	Message  string           `json:"message"`
	// Versions and Suites are what the finding is about, when it is about
	// versions or suites ("TLSv1.0"; "0x000A", SSLv2 kinds "0x0700C0").
	Versions []string `json:"versions,omitempty"`
	Suites   []string `json:"suites,omitempty"`
}

func newFindingRecords(fs []policy.Finding) []FindingRecord {
	out := make([]FindingRecord, 0, len(fs))
	for _, f := range fs {
		fr := FindingRecord{ID: f.ID, Severity: f.Severity, Message: f.Message}
		for _, v := range f.Versions {
			fr.Versions = append(fr.Versions, v.String())
		}
		for _, id := range f.Suites {
			fr.Suites = append(fr.Suites, hex16(id))
		}
		for _, k := range f.SSLv2Kinds {
			fr.Suites = append(fr.Suites, sslv2ID(k))
		}
		out = append(out, fr)
	}
	return out
}

// NewScanRecord converts a result and its findings (policy.Findings) to
// the JSON record.
func NewScanRecord(r *scan.Result, fs []policy.Finding) ScanRecord {
	rec := ScanRecord{
		Schema:   ScanSchema,
		Target:   r.Target.String(),
		Input:    r.Target.Input,
		Host:     r.Target.Host,
		Port:     int(r.Target.Port),
		Protocol: string(r.Target.Protocol),
		Address:  r.Address,
		Status:   string(r.Status),
		Error:    r.Error.String(),
		Started:  r.Started.UTC(),

		ErrorStage: string(r.Error.Stage),
		DurationMS: r.Duration.Milliseconds(),
		Handshakes: HandshakesRecord{
			Total: r.Handshakes.Total,
			ByPurpose: map[string]int{
				"sslv2": r.Handshakes.SSLv2, "versions": r.Handshakes.Versions, "suites": r.Handshakes.Suites,
				"order": r.Handshakes.Order, "groups": r.Handshakes.Groups, "certificate": r.Handshakes.Certificate,
				"poison": r.Handshakes.Poison, "verify": r.Handshakes.Verify, "dialogue": r.Handshakes.Dialogue,
			},
			Retries: r.Handshakes.Retries,
		},
		Versions:              []VersionRecord{},
		Contradictions:        append([]string{}, r.Contradictions...),
		Ciphers:               []CipherRecord{},
		Groups:                []GroupRecord{},
		DHPrimeBits:           r.DHPrimeBits,
		CertificateError:      r.CertError.String(),
		CertificateErrorStage: string(r.CertError.Stage),
		CertificateSkipped:    r.CertSkipped,
		SNICheck:              newSNICheckRecord(r.SNICheck),
		Dialogue:              dialogueRecord(r.Dialogue),
		Findings:              newFindingRecords(fs),
		Detected:              r.Detected,
	}
	if r.SSLv2 != nil {
		rec.Versions = append(rec.Versions, VersionRecord{
			Version: "SSLv2", Outcome: string(r.SSLv2.Outcome), Reason: r.SSLv2.Reason,
			Accepted: len(r.SSLv2.Kinds), Inconclusive: []string{}, ChosenNotCompleted: []string{}, Poisons: []string{},
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
			ChosenNotCompleted: hexList(v.ChosenNotCompleted), ChosenNotCompletedReason: v.ChosenNotCompletedReason,
			Poisons: hexList(v.Poisons), PoisonReason: v.PoisonReason, CertByOffer: v.CertByOffer,
		}
		for _, id := range v.Inconclusive {
			vr.inconclusiveCiphers = append(vr.inconclusiveCiphers, newCipherRecord(v.Name(), id))
		}
		for _, id := range v.ChosenNotCompleted {
			vr.cncCiphers = append(vr.cncCiphers, newCipherRecord(v.Name(), id))
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
			Kind: string(g.Kind), Version: g.Version.String(), Outcome: string(g.Outcome), Reason: g.Reason,
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
			cr.Version = tls.Version(c.Version).String()
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

// hex16 writes id as fmt's "0x%04X" does ("0xC02F"), without fmt: a
// record has one for each offered suite.
func hex16(id uint16) string {
	const digits = "0123456789ABCDEF"
	b := [6]byte{'0', 'x', digits[id>>12], digits[id>>8&0xF], digits[id>>4&0xF], digits[id&0xF]}
	return string(b[:])
}

func sslv2ID(id uint32) string { return fmt.Sprintf("0x%06X", id) }

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
		sw.enc = newJSONLEncoder(w)
	case FormatCSV:
		sw.rows = NewRowWriter(w, FormatCSV)
	}
	return sw
}

// Write writes one endpoint's result and its findings (policy.Findings).
func (sw *ScanWriter) Write(r *scan.Result, fs []policy.Finding) error {
	defer func() { sw.n++ }()
	switch sw.format {
	case FormatJSONL:
		return sw.enc.Encode(NewScanRecord(r, fs))
	case FormatCSV:
		rec := NewScanRecord(r, fs)
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
		return WriteScanReport(sw.w, r, fs)
	}
}

// Flush writes what is buffered.
func (sw *ScanWriter) Flush() error {
	if sw.rows != nil {
		return sw.rows.Flush()
	}
	return nil
}
