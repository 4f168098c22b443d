package output

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/quic"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/sniff"
)

// Schema names of the sniff records (docs/schema/sniff.md). A later
// version only adds fields; a change of meaning gets a new name.
const (
	SniffFlowSchema   = "tlsmap.sniff/1"
	SniffClientSchema = "tlsmap.sniff.client/1"
	SniffTotalsSchema = "tlsmap.sniff.totals/1"
)

// TimeLayout is RFC 3339 with nanoseconds, always nine digits, in UTC.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func snTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeLayout)
}

// FlowRecord is the JSON shape of one sniffed connection (schema
// tlsmap.sniff/1): one object per line in --format jsonl.
type FlowRecord struct {
	Schema string `json:"schema"` // SniffFlowSchema

	Client   string `json:"client"`   // "ip:port", "[v6]:port"
	Server   string `json:"server"`   // "ip:port", "[v6]:port"
	Protocol string `json:"protocol"` // https, tls, smtp, imap, pop3 …
	StartTLS bool   `json:"starttls"`

	SNI             string   `json:"sni"`
	ALPN            []string `json:"alpn"`
	OfferedVersions []string `json:"offered_versions"` // "TLSv1.3", "TLSv1.2" … highest first
	// Version is the negotiated version, "" when no ServerHello was seen.
	Version string `json:"version"`
	// Cipher is the negotiated suite "0xC02F" and CipherName its IANA
	// name; both "" when no ServerHello was seen.
	Cipher              string   `json:"cipher"`
	CipherName          string   `json:"cipher_name"`
	OfferedCiphers      []string `json:"offered_ciphers"`      // "0xC02F", wire order, GREASE and SCSVs kept
	Groups              []string `json:"groups"`               // supported_groups by name ("x25519"), wire order
	SignatureAlgorithms []string `json:"signature_algorithms"` // by name ("rsa_pss_rsae_sha256")
	KeyShareGroups      []string `json:"key_share_groups"`     // by name

	HRR       bool   `json:"hrr"`        // the server sent a HelloRetryRequest
	Alert     string `json:"alert"`      // "fatal handshake_failure"; "" when none
	AlertFrom string `json:"alert_from"` // "client", "server" or ""
	SSLv2     bool   `json:"sslv2"`      // SSLv2-format ClientHello

	Legacy        bool     `json:"legacy"`
	LegacyReasons []string `json:"legacy_reasons"` // negotiated, offered, sslv2-hello
	Label         string   `json:"label"`          // from --fingerprints; "" when unknown

	JA3  string `json:"ja3"`
	JA3S string `json:"ja3s"`
	JA4  string `json:"ja4"`

	FirstSeen string `json:"first_seen"` // RFC 3339, nanoseconds, UTC
	LastSeen  string `json:"last_seen"`
	Packets   uint64 `json:"packets"`
	Bytes     uint64 `json:"bytes"`
	Truncated string `json:"truncated"` // why data may be missing; "" when complete

	// QUICVersion is the QUIC version of a "quic" connection ("v1", "v2",
	// "draft-29"), "" for TLS over TCP.
	QUICVersion string `json:"quic_version"`

	// Via is, when a PROXY protocol header at the start of the client's
	// stream named the client, the connection's own client (the
	// balancer), "ip:port"; "" otherwise. The proxy_ fields are that
	// header's: its version (0: none), the address the client connected
	// to, the SNI the client gave the balancer, and, when the balancer
	// terminated TLS, whether the client used TLS and its version and
	// cipher in the balancer's words ("TLSv1.2", OpenSSL names).
	Via              string `json:"via"`
	ProxyVersion     int    `json:"proxy_version"`
	ProxyDestination string `json:"proxy_destination"`
	ProxyAuthority   string `json:"proxy_authority"`
	ProxyTLS         bool   `json:"proxy_tls"`
	ProxyTLSVersion  string `json:"proxy_tls_version"`
	ProxyTLSCipher   string `json:"proxy_tls_cipher"`
	// Forwarded are, for a plaintext HTTP connection a balancer made, its
	// requests grouped by the client a forwarded-for header named and the
	// TLS version the balancer's TLS header reported.
	Forwarded []ForwardedRecord `json:"forwarded"`

	// ProxyTarget is the destination of a proxy's tunnel (http-connect,
	// socks4, socks4a, socks5); Prefix the first bytes of the client
	// stream of a tls-after-prefix flow. Both "" otherwise.
	ProxyTarget string `json:"proxy_target"`
	Prefix      string `json:"prefix"`
}

// ForwardedRecord is one group of forwarded requests of a flow.
type ForwardedRecord struct {
	Client     string `json:"client"` // from X-Forwarded-For / Forwarded; "" when none named one
	Host       string `json:"host"`
	UserAgent  string `json:"user_agent"`
	TLSVersion string `json:"tls_version"` // the TLS header's value, as sent
	Count      int    `json:"count"`
}

// NewFlowRecord builds the record of f; label is its fingerprint label.
func NewFlowRecord(f *sniff.Flow, label string) FlowRecord {
	r := FlowRecord{
		Schema:              SniffFlowSchema,
		Client:              addrPort(f.Client.String(), f.Client.IsValid()),
		Server:              addrPort(f.Server.String(), f.Server.IsValid()),
		Protocol:            f.Protocol,
		StartTLS:            f.StartTLS,
		ProxyTarget:         f.ProxyTarget,
		Prefix:              f.Prefix,
		SNI:                 f.SNI,
		ALPN:                nonNil(f.ALPN),
		OfferedVersions:     versionNames(f.OfferedVersions),
		OfferedCiphers:      snHexList(f.CipherSuites),
		Groups:              names(f.Groups, ciphers.GroupName),
		SignatureAlgorithms: names(f.SignatureAlgorithms, ciphers.SignatureSchemeName),
		KeyShareGroups:      names(f.KeyShareGroups, ciphers.GroupName),
		HRR:                 f.HelloRetryRequest,
		SSLv2:               f.SSLv2,
		LegacyReasons:       nonNil(sniff.LegacyReasons(f)),
		Label:               label,
		JA3:                 f.JA3,
		JA3S:                f.JA3S,
		JA4:                 f.JA4,
		FirstSeen:           snTime(f.FirstSeen),
		LastSeen:            snTime(f.LastSeen),
		Packets:             f.Packets,
		Bytes:               f.Bytes,
		Truncated:           f.Truncated,
	}
	r.Legacy = len(r.LegacyReasons) > 0
	if f.QUICVersion != 0 {
		r.QUICVersion = quic.Version(f.QUICVersion).String()
	}
	if f.HasServerHello() {
		r.Version = f.Version.String()
		r.Cipher = hex16(f.Cipher)
		r.CipherName = snSuiteName(f.Cipher)
	}
	if f.Alert != nil {
		r.Alert = f.Alert.String()
		r.AlertFrom = f.AlertFrom
	}
	r.Via = addrPort(f.Via.String(), f.Via.IsValid())
	if p := f.Proxy; p != nil {
		r.ProxyVersion = int(p.Version)
		r.ProxyDestination = addrPort(p.Destination.String(), p.Destination.IsValid())
		r.ProxyAuthority = p.Authority
		r.ProxyTLS, r.ProxyTLSVersion, r.ProxyTLSCipher = p.ClientTLS, p.TLSVersion, p.TLSCipher
	}
	r.Forwarded = []ForwardedRecord{}
	for _, q := range f.Requests {
		fr := ForwardedRecord{Host: q.Host, UserAgent: q.UserAgent, TLSVersion: q.TLSVersion, Count: q.Count}
		if q.Client.IsValid() {
			fr.Client = q.Client.String()
		}
		r.Forwarded = append(r.Forwarded, fr)
	}
	return r
}

func addrPort(s string, ok bool) string {
	if !ok {
		return ""
	}
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func versionNames(vs []tls.Version) []string {
	out := []string{}
	for _, v := range vs {
		if !tls.IsGREASE(uint16(v)) {
			out = append(out, v.String())
		}
	}
	return out
}

func snHexList(ids []uint16) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = hex16(id)
	}
	return out
}

func names(ids []uint16, name func(uint16) string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = name(id)
	}
	return out
}

// snSuiteName is the IANA name of a suite, or its hex code when unknown.
func snSuiteName(id uint16) string {
	if s, ok := ciphers.ByID(id); ok {
		return s.Name
	}
	return hex16(id)
}

// flowColumns are the CSV columns of a FlowRecord: its JSON names, in
// order; lists are joined with ';'.
var flowColumns = []string{"schema", "client", "server", "protocol", "starttls", "sni", "alpn",
	"offered_versions", "version", "cipher", "cipher_name", "offered_ciphers", "groups",
	"signature_algorithms", "key_share_groups", "hrr", "alert", "alert_from", "sslv2", "legacy",
	"legacy_reasons", "label", "ja3", "ja3s", "ja4", "first_seen", "last_seen", "packets", "bytes", "truncated", "quic_version",
	"via", "proxy_version", "proxy_destination", "proxy_authority", "proxy_tls", "proxy_tls_version", "proxy_tls_cipher", "forwarded", "proxy_target", "prefix"}

// Columns implements Tabular.
func (r FlowRecord) Columns() []string { return flowColumns }

// Cells implements Tabular.
func (r FlowRecord) Cells() []string {
	j := func(s []string) string { return strings.Join(s, ";") }
	b := strconv.FormatBool
	return []string{r.Schema, r.Client, r.Server, r.Protocol, b(r.StartTLS), r.SNI, j(r.ALPN),
		j(r.OfferedVersions), r.Version, r.Cipher, r.CipherName, j(r.OfferedCiphers), j(r.Groups),
		j(r.SignatureAlgorithms), j(r.KeyShareGroups), b(r.HRR), r.Alert, r.AlertFrom, b(r.SSLv2), b(r.Legacy),
		j(r.LegacyReasons), r.Label, r.JA3, r.JA3S, r.JA4, r.FirstSeen, r.LastSeen,
		strconv.FormatUint(r.Packets, 10), strconv.FormatUint(r.Bytes, 10), r.Truncated, r.QUICVersion,
		r.Via, strconv.Itoa(r.ProxyVersion), r.ProxyDestination, r.ProxyAuthority, b(r.ProxyTLS), r.ProxyTLSVersion,
		r.ProxyTLSCipher, forwardedCell(r.Forwarded), r.ProxyTarget, r.Prefix}
}

// forwardedCell is the CSV cell of the forwarded requests:
// "client/tls_version×count", ';'-joined.
func forwardedCell(fs []ForwardedRecord) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("%s/%s×%d", f.Client, f.TLSVersion, f.Count)
	}
	return strings.Join(parts, ";")
}

// FlowTableRecord is a FlowRecord as a terminal table row: the columns a
// person reads, the rest left to jsonl and csv.
type FlowTableRecord struct{ FlowRecord }

var flowTableColumns = []string{"client", "server", "protocol", "sni", "offered", "version", "cipher", "alert", "legacy", "label", "ja4"}

// Columns implements Tabular.
func (r FlowTableRecord) Columns() []string { return flowTableColumns }

// Cells implements Tabular.
func (r FlowTableRecord) Cells() []string {
	offered := ""
	if n := len(r.OfferedVersions); n > 0 {
		offered = r.OfferedVersions[0]
		if n > 1 {
			offered += "…" + r.OfferedVersions[n-1]
		}
	}
	legacy := ""
	if r.Legacy {
		legacy = strings.Join(r.LegacyReasons, ",")
	}
	proto := r.Protocol
	if r.StartTLS {
		proto += "+starttls"
	}
	server := r.Server
	if r.ProxyTarget != "" {
		server += "→" + r.ProxyTarget
	}
	return []string{r.Client, server, proto, r.SNI, offered, r.Version, r.CipherName, r.Alert, legacy, r.Label, r.JA4}
}

// FlowWriter streams flows in one format: jsonl and csv as they come, the
// table at Flush.
type FlowWriter struct {
	format Format
	rw     *RowWriter
	fp     sniff.Fingerprints
}

// NewFlowWriter returns a FlowWriter writing f to w; fp (may be nil)
// labels the flows.
func NewFlowWriter(w io.Writer, f Format, fp sniff.Fingerprints) *FlowWriter {
	return &FlowWriter{format: f, rw: NewRowWriter(w, f), fp: fp}
}

// Write writes one flow.
func (fw *FlowWriter) Write(f *sniff.Flow) error {
	r := NewFlowRecord(f, fw.fp.Label(f))
	if fw.format == FormatTable {
		return fw.rw.Write(FlowTableRecord{r})
	}
	return fw.rw.Write(r)
}

// Flush writes what is buffered.
func (fw *FlowWriter) Flush() error { return fw.rw.Flush() }

// versionsDesc orders version names newest first ("TLSv1.3" before its
// drafts, before "TLSv1.2" … "SSLv3"; tls.Version.Rank), then names that
// are no version, "none" and "unknown" last.
func versionsDesc(a, b string) int {
	va, ea := tls.ParseVersion(a)
	vb, eb := tls.ParseVersion(b)
	switch {
	case ea == nil && eb == nil:
		return cmp.Or(vb.Compare(va), cmp.Compare(a, b))
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	isNone := func(s string) int {
		if s == sniff.NoServerHello || s == "unknown" {
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(isNone(a), isNone(b)), cmp.Compare(a, b))
}

// countList renders a count map, by key (versions highest first) or by
// count, most first.
func countList(m map[string]int, eq, sep string, byKeyDesc bool) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if byKeyDesc {
			return versionsDesc(a, b)
		}
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + eq + strconv.Itoa(m[k])
	}
	return strings.Join(parts, sep)
}
