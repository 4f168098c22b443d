package output

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
	"github.com/tlsmap/tlsmap/logs"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// evidenceFixture are observations of every source shape: a legacy
// Exchange session by name and address, an outbound one, a forwarded IIS
// request and the balancer's own leg, an unknown Dovecot login, a capture
// with fingerprints, a plaintext request, and an undated line.
func evidenceFixture() []evidence.Observation {
	a, ap := netip.MustParseAddr, netip.MustParseAddrPort
	t0 := time.Date(2026, 2, 22, 13, 50, 37, 600e6, time.UTC)
	return []evidence.Observation{
		{Source: evidence.SourceExchange, Time: t0, Client: a("192.0.2.102"), ClientName: "scanner.legacy.example",
			Server: ap("10.0.0.241:25"), ServerName: "MX01", Protocol: "smtp", Transport: evidence.TransportTLS,
			Version: tls.VersionTLS10, Cipher: evidence.TextCipher("CALG_AES_256 CALG_SHA1 CALG_ECDH_EPHEM")},
		{Source: evidence.SourceExchange, Time: t0.Add(time.Hour), Client: a("10.0.0.241"), ClientName: "Internet Send",
			Server: ap("203.0.113.25:25"), Protocol: "smtp", Outbound: true, Transport: evidence.TransportTLS, Version: tls.VersionTLS11},
		{Source: evidence.SourceIIS, Time: t0.Add(24 * time.Hour), Client: a("10.9.9.9"), Balancer: true, Server: ap("10.1.1.5:443"),
			ServerName: "api.example.com", Protocol: "https", Transport: evidence.TransportTLS, Version: tls.VersionTLS12,
			Cipher: evidence.TextCipher("CALG_AES_128 CALG_SHA_256 CALG_ECDH_EPHEM"), UserAgent: "okhttp/3.12.0"},
		{Source: evidence.SourceIIS, Time: t0.Add(24 * time.Hour), Client: a("198.51.100.77"), Via: a("10.9.9.9"),
			Server: ap("10.1.1.5:443"), ServerName: "api.example.com", Protocol: "https", Transport: evidence.TransportUnknown,
			UserAgent: "okhttp/3.12.0", Count: 2},
		{Source: evidence.SourceDovecot, Time: t0.Add(2 * time.Hour), Client: a("2001:db8::9"), Server: ap("[2001:db8::1]:0"),
			Protocol: "imap", Transport: evidence.TransportTLS, User: "carol"},
		{Source: evidence.SourceCapture, Time: t0.Add(3 * time.Hour), End: t0.Add(3*time.Hour + time.Second), Client: a("192.0.2.10"),
			Server: ap("198.51.100.1:443"), ServerName: "legacy.example", Protocol: "https", Transport: evidence.TransportTLS,
			Version: tls.VersionTLS10, Cipher: evidence.SuiteCipher(0xC014), MaxOffered: tls.VersionTLS10,
			JA3: "4e9d43688ef48b6b1fbe71f290acfc8f", JA4: "t10d230600_44099cda8a52_195413a0cc0f", Label: "Python 3.11 (TLS 1.0)"},
		{Source: evidence.SourceNginx, Time: t0, Client: a("192.0.2.21"), Protocol: "http", Transport: evidence.TransportPlaintext, UserAgent: "curl/7.29.0"},
		{Source: evidence.SourceNginx, Client: a("192.0.2.22"), Protocol: "https", Transport: evidence.TransportTLS, Version: tls.VersionTLS13,
			Cipher: evidence.LookupCipher("TLS_AES_128_GCM_SHA256")},
	}
}

func renderEvidence(t *testing.T, f Format) []byte {
	t.Helper()
	agg := evidence.NewAggregator(0)
	rep := evidence.NewReport(evidence.ReportConfig{})
	for _, o := range evidenceFixture() {
		agg.Add(&o)
		rep.Add(&o)
	}
	var buf bytes.Buffer
	if err := WriteEvidence(&buf, f, agg, rep.Totals()); err != nil {
		t.Fatal(err)
	}
	if f == FormatTable {
		if err := WriteClientReport(&buf, f, ClientReport{ClientSchema: LogsClientSchema, TotalsSchema: LogsTotalsSchema,
			Clients: rep.Clients(), Totals: rep.Totals()}); err != nil {
			t.Fatal(err)
		}
	}
	st := logs.Stats{Files: []logs.FileStats{{Name: "u_ex260222.log", Format: "iis", Lines: 10, Malformed: 1, Observations: 3}},
		Lines: 10, Bytes: 1000, Malformed: 1, Observations: 8,
		Reasons: []logs.MalformedReason{{Reason: "iis: bad c-ip", Count: 1, File: "u_ex260222.log", Line: 7}},
		Unknown: map[string]int64{"dovecot: TLS logins without a version: add %k to login_log_format_elements": 1}}
	if err := WriteLogsInput(&buf, f, st); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEvidenceGolden(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatJSONL, FormatCSV} {
		sniffGolden(t, "evidence."+f.String()+".golden", renderEvidence(t, f))
	}
}

func TestEvidenceJSONL(t *testing.T) {
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(renderEvidence(t, FormatJSONL)), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		recs = append(recs, m)
	}
	schemas := map[string]int{}
	for _, r := range recs {
		schemas[r["schema"].(string)]++
	}
	if !reflect.DeepEqual(schemas, map[string]int{EvidenceSchema: 8, EvidenceTotalsSchema: 1, LogsInputSchema: 1}) {
		t.Errorf("schemas %v", schemas)
	}
	byClient := map[string]map[string]any{}
	for _, r := range recs {
		if r["schema"] == EvidenceSchema {
			byClient[r["client"].(string)] = r
		}
	}
	for client, want := range map[string]map[string]any{
		"192.0.2.102":   {"class": "legacy", "day": "2026-02-22", "cipher": "", "cipher_name": "CALG_AES_256 CALG_SHA1 CALG_ECDH_EPHEM", "direction": "inbound"},
		"10.0.0.241":    {"class": "legacy", "direction": "outbound", "client_name": "Internet Send"},
		"198.51.100.77": {"class": "unknown", "via": "10.9.9.9", "transport": "unknown", "count": float64(2), "version": ""},
		"10.9.9.9":      {"balancer": true, "class": "modern"},
		"2001:db8::9":   {"class": "unknown", "server": "2001:db8::1", "user": "carol"},
		"192.0.2.10":    {"cipher": "0xC014", "cipher_name": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "max_offered": "TLSv1.0", "label": "Python 3.11 (TLS 1.0)", "last_seen": "2026-02-22T16:50:38.600000000Z"},
		"192.0.2.21":    {"class": "plaintext"},
		"192.0.2.22":    {"day": "", "first_seen": "", "cipher": "0x1301", "class": "modern"},
	} {
		r := byClient[client]
		for k, v := range want {
			if r[k] != v {
				t.Errorf("%s: %s = %v, want %v", client, k, r[k], v)
			}
		}
	}
}

// TestEvidenceSchemaDocumented requires every JSON field of the evidence
// records to be described in docs/schema/evidence.md.
func TestEvidenceSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "schema", "evidence.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{EvidenceSchema, EvidenceTotalsSchema, LogsInputSchema, LogsClientSchema, LogsTotalsSchema} {
		if !bytes.Contains(doc, []byte(name)) {
			t.Errorf("docs/schema/evidence.md does not name %s", name)
		}
	}
	check := func(typ reflect.Type, row bool) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Anonymous {
				continue // TotalsRecord: documented in sniff.md, its rows repeated here
			}
			tag := strings.Split(f.Tag.Get("json"), ",")[0]
			pattern := "(?m)^\\| `" + regexp.QuoteMeta(tag) + "` "
			if !row {
				pattern = "`" + regexp.QuoteMeta(tag) + "`"
			}
			if !regexp.MustCompile(pattern).Match(doc) {
				t.Errorf("%s.%s (%q) is not documented in docs/schema/evidence.md", typ.Name(), f.Name, tag)
			}
		}
	}
	for _, v := range []any{EvidenceRecord{}, EvidenceTotalsRecord{}, TotalsRecord{}, LogsInputRecord{}} {
		check(reflect.TypeOf(v), true)
	}
	for _, v := range []any{LogsFileRecord{}, MalformedRecord{}, UnknownCountEntry{}} {
		check(reflect.TypeOf(v), false)
	}
}
