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

	"github.com/tlsmap/tlsmap/protocols/quic"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/sniff"
)

var sniffT0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// sniffFixture is a small, fixed set of flows covering the shapes the
// renderers meet: legacy and modern, IPv4 and IPv6, STARTTLS, no
// ServerHello, an alert, a HelloRetryRequest, an SSLv2 hello, QUIC.
func sniffFixture() []*sniff.Flow {
	ap := netip.MustParseAddrPort
	return []*sniff.Flow{
		{
			Client: ap("192.0.2.10:50001"), Server: ap("198.51.100.1:443"), Protocol: "https",
			SNI: "legacy.example", ALPN: []string{"http/1.1"},
			OfferedVersions: []tls.Version{0x0301}, CipherSuites: []uint16{0xC014, 0xC013, 0x002F, 0x00FF},
			Groups: []uint16{0x001D, 0x0017}, ClientHello: []byte{1},
			Version: 0x0301, Cipher: 0xC014,
			JA3: "4e9d43688ef48b6b1fbe71f290acfc8f", JA3S: "bd665c27797205a73c67f1be8b8ed90f",
			JA4:       "t10d230600_44099cda8a52_195413a0cc0f",
			FirstSeen: sniffT0, LastSeen: sniffT0.Add(1500 * time.Millisecond), Packets: 12, Bytes: 1762,
		},
		{
			Client: ap("192.0.2.10:50002"), Server: ap("198.51.100.2:25"), Protocol: "smtp", StartTLS: true,
			SNI: "mail.example", OfferedVersions: []tls.Version{0x0302, 0x0301}, CipherSuites: []uint16{0xC014},
			ClientHello: []byte{1}, Version: 0x0302, Cipher: 0xC014,
			JA4:       "t11d010000_aaaaaaaaaaaa_bbbbbbbbbbbb",
			FirstSeen: sniffT0.Add(time.Minute), LastSeen: sniffT0.Add(2 * time.Minute), Packets: 20, Bytes: 3000,
		},
		{
			Client: ap("[2001:db8::7]:40000"), Server: ap("[2001:db8::1]:443"), Protocol: "https",
			SNI: "modern.example", ALPN: []string{"h2", "http/1.1"},
			OfferedVersions: []tls.Version{0x0304, 0x0303}, CipherSuites: []uint16{0x2A2A, 0x1301, 0x1302, 0xC02F},
			Groups: []uint16{0x2A2A, 0x11EC, 0x001D}, SignatureAlgorithms: []uint16{0x0403, 0x0804},
			KeyShareGroups: []uint16{0x11EC}, ClientHello: []byte{1},
			Version: 0x0304, Cipher: 0x1301, HelloRetryRequest: true,
			JA4:       "t13d0403h2_cccccccccccc_dddddddddddd",
			FirstSeen: sniffT0.Add(3 * time.Minute), LastSeen: sniffT0.Add(3 * time.Minute), Packets: 9, Bytes: 4100,
		},
		{
			Client: ap("203.0.113.5:1234"), Server: ap("198.51.100.1:443"), Protocol: "https",
			OfferedVersions: []tls.Version{0x0303, 0x0302, 0x0301, 0x0300}, CipherSuites: []uint16{0x000A},
			ClientHello: []byte{1}, SSLv2: true,
			Alert: &tls.Alert{Level: 2, Description: 40}, AlertFrom: "server",
			FirstSeen: sniffT0.Add(4 * time.Minute), LastSeen: sniffT0.Add(4 * time.Minute), Packets: 4, Bytes: 200,
			Truncated: "gap in client stream",
		},
		{
			Client: ap("192.0.2.11:55000"), Server: ap("198.51.100.3:443"), Protocol: "quic", QUICVersion: 1,
			SNI: "h3.example", ALPN: []string{"h3"}, OfferedVersions: []tls.Version{0x0304, 0x0303},
			CipherSuites: []uint16{0x1301, 0x1302, 0x1303}, Groups: []uint16{0x11EC, 0x001D},
			KeyShareGroups: []uint16{0x11EC, 0x001D}, ClientHello: []byte{1}, Version: 0x0304, Cipher: 0x1301,
			JA4:       "q13d0310h3_55b375c5d22e_cd85d2d88918",
			FirstSeen: sniffT0.Add(5 * time.Minute), LastSeen: sniffT0.Add(5 * time.Minute), Packets: 6, Bytes: 7000,
		},
		{
			Client: ap("192.0.2.12:41000"), Server: ap("198.51.100.9:1080"), Protocol: "socks5", ProxyTarget: "legacy.example:443",
			SNI: "legacy.example", OfferedVersions: []tls.Version{0x0301}, CipherSuites: []uint16{0xC014}, ClientHello: []byte{1},
			Version: 0x0301, Cipher: 0xC014,
			FirstSeen: sniffT0.Add(6 * time.Minute), LastSeen: sniffT0.Add(6 * time.Minute), Packets: 10, Bytes: 900,
		},
		{
			Client: ap("192.0.2.13:42000"), Server: ap("198.51.100.10:6667"), Protocol: sniff.ProtocolTLSAfterPrefix,
			Prefix: `CAP LS 302\r\nNICK t\r\n`, SNI: "irc.example", OfferedVersions: []tls.Version{0x0303},
			CipherSuites: []uint16{0xC02F}, ClientHello: []byte{1}, Version: 0x0303, Cipher: 0xC02F,
			FirstSeen: sniffT0.Add(7 * time.Minute), LastSeen: sniffT0.Add(7 * time.Minute), Packets: 14, Bytes: 2900,
		},
	}
}

// sniffCoverage is a coverage with a gap of most kinds.
func sniffCoverage() *Coverage {
	st := sniff.Stats{Packets: 1234, Bytes: 567890,
		NotDecoded: map[sniff.Skip]uint64{{Kind: sniff.SkipLinkType, Code: 147}: 300, {Kind: sniff.SkipEtherType, Code: 0x0806}: 12},
		TCP: sniff.TCPOutcomes{Total: 15, TLS: 5, TLSAfter: map[string]uint64{"smtp": 1, "socks5": 1}, TLSAfterPrefix: 1,
			Plaintext: map[string]uint64{"imap": 1}, Unknown: 3, UnknownPorts: map[uint16]uint64{8080: 2, 9000: 1},
			NoPayload: 1, MidStream: 1, Truncated: 1, TruncatedBy: map[string]uint64{"snaplen": 1}},
		UDPFlows: 4, QUICFlowsDecoded: 1, QUICConns: 1, QUICFlowsUndecryptable: map[quic.Version]uint64{0x51303530: 1}, UDPFlowsOther: 2,
		CorruptBlocks: 1}
	return NewCoverage(st, 0)
}

func renderFlows(t *testing.T, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	fp := sniff.Fingerprints{"t10d230600_44099cda8a52_195413a0cc0f": "Python 3.11 (TLS 1.0)"}
	fw := NewFlowWriter(&buf, f, fp)
	for _, fl := range sniffFixture() {
		if err := fw.Write(fl); err != nil {
			t.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func renderLegacy(t *testing.T, f Format) []byte {
	t.Helper()
	fp := sniff.Fingerprints{"t10d230600_44099cda8a52_195413a0cc0f": "Python 3.11 (TLS 1.0)"}
	r := sniff.NewReport(sniff.ReportConfig{Fingerprints: fp, SetLimit: 2})
	for _, fl := range sniffFixture() {
		r.Add(fl)
	}
	// A third legacy flow of 192.0.2.10 to a third server, beyond the
	// set limit of 2: the report says "+1 more".
	extra := *sniffFixture()[0]
	extra.Server, extra.SNI = netip.MustParseAddrPort("198.51.100.3:995"), "pop.example"
	extra.Protocol = "pop3"
	r.Add(&extra)
	var buf bytes.Buffer
	if err := WriteLegacyReport(&buf, f, r, sniffCoverage()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sniffGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Join("testdata", "sniff"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, filepath.Join("sniff", name), got)
}

func TestSniffGolden(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatJSONL, FormatCSV} {
		sniffGolden(t, "flows."+f.String()+".golden", renderFlows(t, f))
		sniffGolden(t, "legacy."+f.String()+".golden", renderLegacy(t, f))
	}
	// No legacy client: the table says so, the CSV still has its header.
	r := sniff.NewReport(sniff.ReportConfig{})
	r.Add(sniffFixture()[2])
	for _, f := range []Format{FormatTable, FormatCSV} {
		var buf bytes.Buffer
		if err := WriteLegacyReport(&buf, f, r, NewCoverage(sniff.Stats{Packets: 9, Bytes: 4100, TCP: sniff.TCPOutcomes{Total: 1, TLS: 1}}, 0)); err != nil {
			t.Fatal(err)
		}
		sniffGolden(t, "legacy-none."+f.String()+".golden", buf.Bytes())
	}
	// No legacy client, but gaps: no all-clear.
	var buf bytes.Buffer
	if err := WriteLegacyReport(&buf, FormatTable, r, sniffCoverage()); err != nil {
		t.Fatal(err)
	}
	sniffGolden(t, "legacy-gaps.table.golden", buf.Bytes())
	if bytes.Contains(buf.Bytes(), []byte("(1 TLS connection from 1 client).")) {
		t.Errorf("all-clear wording despite gaps:\n%s", buf.Bytes())
	}
	for _, want := range []string{"— but 300 frames were not decoded (link type 147 300)", "1 connection began before the capture (no hello seen)", "1 hello was cut (snaplen 1)",
		"1 QUIC flow was of a version tlsmap cannot decrypt (0x51303530 1)", "and 1 damaged block was skipped: legacy clients may hide there."} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("verdict without %q:\n%s", want, buf.Bytes())
		}
	}
}

// TestSniffLegacyKernelDrops: a live capture's kernel drops are a line of
// their own under the verdict, with legacy clients found or none, and a
// gap of the coverage.
func TestSniffLegacyKernelDrops(t *testing.T) {
	st := sniff.Stats{Packets: 9, Bytes: 4100, TCP: sniff.TCPOutcomes{Total: 1, TLS: 1}}
	for _, tc := range []struct {
		name  string
		flows []*sniff.Flow
		drops uint64
		want  []string
	}{
		{"legacy-drops", sniffFixture()[:2], 4711, []string{"Legacy clients: 1 of 1 (2 of 2 TLS connections)\nKernel drops:   the kernel dropped 4711 packets; some hellos may be missing",
			"Not seen:     4711 packets were dropped by the kernel"}},
		{"legacy-none-drops", sniffFixture()[2:3], 1, []string{"— but 1 packet was dropped by the kernel: legacy clients may hide there.\nKernel drops:   the kernel dropped 1 packet; some hellos may be missing"}},
	} {
		r := sniff.NewReport(sniff.ReportConfig{})
		for _, fl := range tc.flows {
			r.Add(fl)
		}
		var buf bytes.Buffer
		if err := WriteLegacyReport(&buf, FormatTable, r, NewCoverage(st, tc.drops)); err != nil {
			t.Fatal(err)
		}
		sniffGolden(t, tc.name+".table.golden", buf.Bytes())
		for _, want := range tc.want {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("%s: no %q in\n%s", tc.name, want, buf.Bytes())
			}
		}
	}
	// Without drops, no such line.
	if b := renderLegacy(t, FormatTable); bytes.Contains(b, []byte("Kernel drops:")) {
		t.Errorf("kernel drops line without drops:\n%s", b)
	}
}

// TestSniffSummaryJSONL: the summary record is the last line, with the
// counts of the coverage.
func TestSniffSummaryJSONL(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(renderLegacy(t, FormatJSONL)), []byte("\n"))
	var m map[string]any
	if err := json.Unmarshal(lines[len(lines)-1], &m); err != nil {
		t.Fatal(err)
	}
	tcp, udp := m["tcp"].(map[string]any), m["udp"].(map[string]any)
	if m["schema"] != SniffSummarySchema || m["complete"] != false || m["packets"] != 1234.0 ||
		tcp["connections"] != 15.0 || tcp["mid_stream"] != 1.0 || tcp["unknown_ports"].(map[string]any)["8080"] != 2.0 ||
		udp["quic_undecryptable"].(map[string]any)["0x51303530"] != 1.0 || len(m["gaps"].([]any)) != 5 {
		t.Errorf("summary %s", lines[len(lines)-1])
	}
}

func TestSniffFlowJSONL(t *testing.T) {
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(renderFlows(t, FormatJSONL)), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7", len(recs))
	}
	if tun, pre := recs[5], recs[6]; tun["proxy_target"] != "legacy.example:443" || tun["protocol"] != "socks5" || pre["prefix"] != `CAP LS 302\r\nNICK t\r\n` || recs[0]["prefix"] != "" {
		t.Errorf("tunnel %v, prefix %v", tun, pre)
	}
	first, v6, sslv2, q := recs[0], recs[2], recs[3], recs[4]
	if q["protocol"] != "quic" || q["quic_version"] != "v1" || first["quic_version"] != "" {
		t.Errorf("QUIC flow: %v", q)
	}
	for k, want := range map[string]any{
		"schema": SniffFlowSchema, "client": "192.0.2.10:50001", "server": "198.51.100.1:443",
		"version": "TLSv1.0", "cipher": "0xC014", "cipher_name": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
		"label": "Python 3.11 (TLS 1.0)", "legacy": true, "first_seen": "2026-03-01T12:00:00.123456789Z",
		"last_seen": "2026-03-01T12:00:01.623456789Z",
	} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
	if v6["client"] != "[2001:db8::7]:40000" || v6["hrr"] != true || v6["legacy"] != false {
		t.Errorf("IPv6 flow: %v", v6)
	}
	if got := v6["offered_versions"]; !reflect.DeepEqual(got, []any{"TLSv1.3", "TLSv1.2"}) {
		t.Errorf("offered_versions %v", got)
	}
	if got := v6["groups"]; !reflect.DeepEqual(got, []any{"GREASE", "X25519MLKEM768", "x25519"}) {
		t.Errorf("groups %v", got)
	}
	if sslv2["version"] != "" || sslv2["cipher"] != "" || sslv2["alert"] != "fatal handshake_failure" || sslv2["sslv2"] != true {
		t.Errorf("SSLv2 flow without ServerHello: %v", sslv2)
	}
	// Lists are [] rather than null, so that consumers need no null check.
	if sslv2["alpn"] == nil || sslv2["signature_algorithms"] == nil {
		t.Errorf("null lists: %v", sslv2)
	}
}

// TestSniffSchemaDocumented requires every JSON field of the sniff records
// to be described in docs/schema/sniff.md, and the schema names to be there.
func TestSniffSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "schema", "sniff.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{SniffFlowSchema, SniffClientSchema, SniffTotalsSchema, SniffSummarySchema} {
		if !bytes.Contains(doc, []byte(name)) {
			t.Errorf("docs/schema/sniff.md does not name %s", name)
		}
	}
	// Nested objects are documented as parent.field (tcp.mid_stream).
	var check func(typ reflect.Type, prefix string)
	check = func(typ reflect.Type, prefix string) {
		for i := range typ.NumField() {
			tag := prefix + strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if !regexp.MustCompile("(?m)^\\| `" + regexp.QuoteMeta(tag) + "` ").Match(doc) {
				t.Errorf("%s.%s (%q) is not documented in docs/schema/sniff.md", typ.Name(), typ.Field(i).Name, tag)
			}
			if ft := typ.Field(i).Type; ft.Kind() == reflect.Struct {
				check(ft, tag+".")
			}
		}
	}
	for _, v := range []any{FlowRecord{}, ClientRecord{}, TotalsRecord{}, SummaryRecord{}, GapRecord{}} {
		check(reflect.TypeOf(v), "")
	}
	// Every gap kind is documented.
	for k := sniff.GapNotDecoded; k <= sniff.GapKernelDrops; k++ {
		if !bytes.Contains(doc, []byte("`"+k.String()+"`")) {
			t.Errorf("gap kind %s is not documented", k)
		}
	}
	// The CSV columns are the JSON names.
	if got := (FlowRecord{}).Columns(); len(got) != reflect.TypeOf(FlowRecord{}).NumField() {
		t.Errorf("flow CSV has %d columns, the record %d fields", len(got), reflect.TypeOf(FlowRecord{}).NumField())
	}
}
