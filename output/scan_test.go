package output

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/policy"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixtureResults are three endpoints: a legacy server with something for
// every finding, one that could not be reached, and one whose scan was cut
// short.
func fixtureResults() []*scan.Result {
	legacy := &scan.Result{
		Target:  scan.Target{Input: "legacy.example.com", Host: "legacy.example.com", Addr: "legacy.example.com", Port: 443, Protocol: scan.ProtoHTTPS},
		Address: "192.0.2.10:443",
		Status:  scan.StatusOK,
		SSLv2: &scan.SSLv2Result{
			Outcome: scan.Accepted,
			Kinds:   []uint32{0x0700C0, 0x020080},
		},
		Versions: []scan.VersionResult{
			{Version: tls.VersionSSL30, Outcome: scan.Rejected, Reason: "alert handshake_failure", Suites: []uint16{}, Candidates: 120},
			{Version: tls.VersionTLS10, Outcome: scan.Accepted, Suites: []uint16{0x002F, 0x000A, 0x0005, 0xC013, 0xC02F}, ServerOrder: ptr(true), Candidates: 370},
			{Version: tls.VersionTLS11, Outcome: scan.Inconclusive, Reason: "timeout after 5s", Suites: []uint16{}, Candidates: 140},
			{Version: tls.VersionTLS12, Outcome: scan.Accepted,
				Suites:      []uint16{0xC030, 0xC02F, 0xCCA8, 0x009E, 0x002F, 0x0018},
				ServerOrder: ptr(true), ChaChaPriority: ptr(true),
				Inconclusive: []uint16{0xC0A0, 0x00BA}, InconclusiveReason: "server closed the connection after the ClientHello",
				ChosenNotCompleted:       []uint16{0x0032},
				ChosenNotCompletedReason: "ServerHello for 0x0032, then alert internal_error before ServerHelloDone",
				Poisons:                  []uint16{0x008C},
				PoisonReason:             "a hello listing 0x008C and 0xC02F is refused (alert handshake_failure); without 0x008C's kind the server chooses 0xC02F",
				CertByOffer:              "a hello without ECDSA suites gets 0x002F, refused while an ECDSA suite is listed: the server picks its certificate by the offer",
				Candidates:               370},
			{Version: tls.VersionTLS13, Outcome: scan.Accepted, Suites: []uint16{0x1301, 0x1302, 0x1303}, ServerOrder: ptr(false), Candidates: 5},
		},
		Groups: []scan.GroupResult{
			{Kind: scan.GroupTLS13, Version: tls.VersionTLS13, Outcome: scan.Accepted, Groups: []uint16{0x001D, 0x0017}, ServerOrder: ptr(true)},
			{Kind: scan.GroupECDHE, Version: tls.VersionTLS12, Outcome: scan.Accepted, Groups: []uint16{0x0017, 0x0018, 0x001D}, ServerOrder: ptr(false)},
			{Kind: scan.GroupFFDHE, Version: tls.VersionTLS12, Outcome: scan.Rejected, Reason: "server sends its own prime", Groups: []uint16{}},
		},
		DHPrimeBits: 1024,
		Cert: &scan.CertInfo{
			Chain: []scan.CertSummary{{
				Subject: "CN=www.example.org", Issuer: "CN=Example Legacy CA, O=Example",
				SANs: []string{"www.example.org", "example.org"}, Serial: "0a1b2c",
				NotBefore: t0.AddDate(0, -11, 0), NotAfter: t0.AddDate(0, 0, 12), DaysToExpiry: 12,
				KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA1-RSA",
				SHA256: strings.Repeat("ab", 32),
			}, {
				Subject: "CN=Example Legacy CA, O=Example", Issuer: "CN=Example Legacy CA, O=Example",
				Serial: "01", NotBefore: t0.AddDate(-5, 0, 0), NotAfter: t0.AddDate(5, 0, 0), DaysToExpiry: 1826,
				KeyType: "RSA", KeyBits: 4096, SignatureAlgorithm: "SHA256-RSA", SelfSigned: true, IsCA: true,
				SHA256: strings.Repeat("cd", 32),
			}},
			Verified: false, VerifyError: "x509: certificate signed by unknown authority",
			HostnameMatch: false, HostnameError: "x509: certificate is valid for www.example.org, example.org, not legacy.example.com",
			Version: tls.VersionTLS12, CipherSuite: 0xC030, Library: scan.LibraryZcrypto,
		},
		Handshakes: scan.Handshakes{SSLv2: 1, Versions: 5, Suites: 19, Order: 9, Groups: 8, Certificate: 1, Retries: 2, Total: 43},
		Started:    t0,
		Duration:   2140 * time.Millisecond,
	}
	unreachable := &scan.Result{
		Target:   scan.Target{Input: "nowhere.invalid:8443", Host: "nowhere.invalid", Addr: "nowhere.invalid", Port: 8443, Protocol: scan.ProtoTLS},
		Status:   scan.StatusUnreachable,
		Error:    scan.Failure{Stage: scan.StageResolve, Reason: "no such host"},
		Started:  t0.Add(time.Second),
		Duration: 12 * time.Millisecond,
	}
	cut := &scan.Result{
		Target:  scan.Target{Input: "[2001:db8::1]:443", Addr: "2001:db8::1", Port: 443, Protocol: scan.ProtoHTTPS},
		Address: "[2001:db8::1]:443",
		Status:  scan.StatusInconclusive, Error: scan.Failure{Reason: scan.ReasonCancelled},
		Versions: []scan.VersionResult{
			{Version: tls.VersionTLS12, Outcome: scan.Accepted, Suites: []uint16{0xC02B}, Candidates: 337},
			{Version: tls.VersionTLS13, Outcome: scan.Inconclusive, Reason: scan.ReasonCancelled, Suites: []uint16{}, Candidates: 5},
		},
		CertError:  scan.Failure{Stage: scan.StageHandshake, Reason: scan.ReasonCancelled},
		Handshakes: scan.Handshakes{Versions: 2, Suites: 1, Certificate: 1, Total: 4},
		Started:    t0.Add(2 * time.Second),
		Duration:   800 * time.Millisecond,
	}
	// An auto target (--starttls auto): PostgreSQL, found by trying its
	// dialogue on a silent port.
	detected := &scan.Result{
		Target:  scan.Target{Input: "db.example.com:5432", Host: "db.example.com", Addr: "db.example.com", Port: 5432, Protocol: "postgres"},
		Address: "192.0.2.54:5432",
		Status:  scan.StatusOK,
		Versions: []scan.VersionResult{
			{Version: tls.VersionTLS12, Outcome: scan.Accepted, Suites: []uint16{0xC030}, Candidates: 337},
		},
		Dialogue:    &protocols.Dialogue{Protocol: "postgres", STARTTLSAdvertised: true, Attributes: map[string]string{"sslrequest": "S"}},
		Detected:    &scan.Detection{Protocol: "postgres", Evidence: "the server is silent; the postgres dialogue of port 5432 answered", Connections: 2},
		CertSkipped: "skipped by --versions-only (--cert checks it)",
		Handshakes:  scan.Handshakes{Versions: 1, Total: 1},
		Started:     t0.Add(3 * time.Second),
		Duration:    400 * time.Millisecond,
	}
	return []*scan.Result{legacy, unreachable, cut, mailResult(), detected, sniResult()} // mailResult: mail_test.go
}

// sniResult is an IP target scanned without a name whose server picks its
// certificate by SNI (haproxy with an RSA and an ECDSA one): the SNI check
// got another leaf.
func sniResult() *scan.Result {
	return &scan.Result{
		Target:  scan.Target{Input: "192.0.2.80", Addr: "192.0.2.80", Port: 443, Protocol: scan.ProtoHTTPS},
		Address: "192.0.2.80:443",
		Status:  scan.StatusOK,
		Versions: []scan.VersionResult{
			{Version: tls.VersionTLS12, Outcome: scan.Accepted, Suites: []uint16{0xC030, 0xC02F}, ServerOrder: ptr(true), Candidates: 337},
			{Version: tls.VersionTLS13, Outcome: scan.Accepted, Suites: []uint16{0x1302, 0x1301}, ServerOrder: ptr(true), Candidates: 5},
		},
		Cert: &scan.CertInfo{
			Chain: []scan.CertSummary{{
				Subject: "CN=db.example.com", Issuer: "CN=Example CA, O=Example",
				SANs: []string{"db.example.com", "192.0.2.80"}, Serial: "2a",
				NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(0, 2, 0), DaysToExpiry: 61,
				KeyType: "RSA", KeyBits: 2048, SignatureAlgorithm: "SHA256-RSA",
				SHA256: strings.Repeat("ef", 32),
			}},
			Verified: true, Version: tls.VersionTLS13, CipherSuite: 0x1302, Library: scan.LibraryZcrypto,
		},
		SNICheck: &scan.SNICheck{
			Name: "db.example.com", Outcome: scan.SNIDiffers,
			Leaf: &scan.CertSummary{
				Subject: "CN=db.example.com", Issuer: "CN=Example CA, O=Example",
				SANs: []string{"db.example.com", "192.0.2.80"}, Serial: "2b",
				NotBefore: t0.AddDate(0, -1, 0), NotAfter: t0.AddDate(0, 2, 0), DaysToExpiry: 61,
				KeyType: "ECDSA", KeyBits: 256, Curve: "P-256", SignatureAlgorithm: "SHA256-RSA",
				SHA256: strings.Repeat("12", 32),
			},
		},
		Handshakes: scan.Handshakes{Versions: 2, Suites: 3, Order: 2, Certificate: 2, Total: 9},
		Started:    t0.Add(4 * time.Second),
		Duration:   300 * time.Millisecond,
	}
}

func render(t *testing.T, f Format) []byte {
	t.Helper()
	var buf bytes.Buffer
	sw := NewScanWriter(&buf, f)
	for _, r := range fixtureResults() {
		if err := sw.Write(r, policy.Findings(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got:\n%s", path, got)
	}
}

func TestScanGolden(t *testing.T) {
	for _, tc := range []struct {
		f    Format
		file string
	}{
		{FormatTable, "scan.table.golden"},
		{FormatJSONL, "scan.jsonl.golden"},
		{FormatCSV, "scan.csv.golden"},
	} {
		t.Run(tc.f.String(), func(t *testing.T) { golden(t, tc.file, render(t, tc.f)) })
	}
}

func decodeJSONL(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, m)
	}
	return out
}

func TestScanJSONL(t *testing.T) {
	recs := decodeJSONL(t, render(t, FormatJSONL))
	if len(recs) != 6 {
		t.Fatalf("%d records, want 6", len(recs))
	}
	legacy := recs[0]
	if legacy["schema"] != ScanSchema || legacy["target"] != "https://legacy.example.com:443" {
		t.Errorf("schema %v target %v", legacy["schema"], legacy["target"])
	}
	// A server-order version's ciphers are in the server's order, ranked.
	var ids []string
	var ranks []float64
	for _, c := range legacy["ciphers"].([]any) {
		c := c.(map[string]any)
		if c["version"] == "TLSv1.2" {
			ids = append(ids, c["id"].(string))
			ranks = append(ranks, c["server_rank"].(float64))
		}
		if c["version"] == "TLSv1.3" && c["server_rank"] != nil {
			t.Errorf("client-order TLS 1.3 suite %v has server_rank %v", c["id"], c["server_rank"])
		}
	}
	if want := []string{"0xC030", "0xC02F", "0xCCA8", "0x009E", "0x002F", "0x0018"}; !slices.Equal(ids, want) {
		t.Errorf("TLS 1.2 ciphers %v, want the server's order %v", ids, want)
	}
	if !slices.Equal(ranks, []float64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("ranks %v", ranks)
	}
	h := legacy["handshakes"].(map[string]any)
	sum := 0.0
	for _, n := range h["by_purpose"].(map[string]any) {
		sum += n.(float64)
	}
	if sum != h["total"].(float64) {
		t.Errorf("by_purpose adds up to %v, total %v", sum, h["total"])
	}
	if recs[1]["status"] != "unreachable" || recs[1]["certificate"] != nil || len(recs[1]["versions"].([]any)) != 0 {
		t.Errorf("unreachable record: %v", recs[1])
	}
	// Only the auto target says how its protocol was found.
	for i, rec := range recs {
		d, _ := rec["detected"].(map[string]any)
		switch {
		case i != 4 && rec["detected"] != nil:
			t.Errorf("record %d: detected %v", i, rec["detected"])
		case i == 4 && (d == nil || d["protocol"] != "postgres" || rec["protocol"] != "postgres" || d["connections"] != 2.0):
			t.Errorf("auto record: target %v detected %v", rec["target"], rec["detected"])
		}
	}
}

func TestScanCSV(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(render(t, FormatCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], ScanCSVColumns) {
		t.Fatalf("header %v", rows[0])
	}
	col := func(row []string, name string) string { return row[slices.Index(ScanCSVColumns, name)] }
	count := map[string]int{}
	for _, row := range rows[1:] {
		if len(row) != len(ScanCSVColumns) {
			t.Fatalf("row %v has %d cells", row, len(row))
		}
		count[col(row, "target")+" "+col(row, "version")+" "+col(row, "suite_outcome")]++
	}
	want := map[string]int{
		"https://legacy.example.com:443 SSLv2 accepted":               2,
		"https://legacy.example.com:443 SSLv3 ":                       1,
		"https://legacy.example.com:443 TLSv1.0 accepted":             5,
		"https://legacy.example.com:443 TLSv1.1 ":                     1,
		"https://legacy.example.com:443 TLSv1.2 accepted":             6,
		"https://legacy.example.com:443 TLSv1.2 inconclusive":         2,
		"https://legacy.example.com:443 TLSv1.2 chosen-not-completed": 1,
		"https://legacy.example.com:443 TLSv1.3 accepted":             3,
		"tls://nowhere.invalid:8443  ":                                1,
		"https://[2001:db8::1]:443 TLSv1.2 accepted":                  1,
		"https://[2001:db8::1]:443 TLSv1.3 ":                          1,
		"smtp://mx.example.com:25 TLSv1.2 accepted":                   1,
		"postgres://db.example.com:5432 TLSv1.2 accepted":             1,
		"https://192.0.2.80:443 TLSv1.2 accepted":                     2,
		"https://192.0.2.80:443 TLSv1.3 accepted":                     2,
	}
	for key, n := range count {
		if want[key] != n {
			t.Errorf("%d rows %q, want %d", n, key, want[key])
		}
	}
	for key, n := range want {
		if count[key] != n {
			t.Errorf("%d rows %q, want %d", count[key], key, n)
		}
	}
	if len(rows)-1 != 2+1+5+1+9+3+1+2+1+1+4 {
		t.Errorf("%d rows, want 30", len(rows)-1)
	}
}

// TestSchemaDocumented checks the JSON Lines output against the field
// tables of docs/schema/scan.md, both ways: every documented field is in
// the output of the fixture (with the documented type), and every field in
// the output is documented.
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "schema", "scan.md"))
	if err != nil {
		t.Fatal(err)
	}
	// | `versions[].server_order` | bool or null | … |
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_.\\[\\]]+)` \\| ([a-z\\[\\] ]+) \\|")
	documented := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		if strings.Contains(m[1], ".") || strings.Contains(m[2], "string") || strings.Contains(m[2], "int") ||
			strings.Contains(m[2], "bool") || strings.Contains(m[2], "object") {
			documented[m[1]] = strings.TrimSpace(m[2])
		}
	}
	// The CSV table's rows have a "from" column, not a type: keep only
	// rows whose second column is a type.
	for f, typ := range documented {
		if !regexp.MustCompile(`^(string|int|bool|object|\[string\]|\[object\])( or null)?$`).MatchString(typ) {
			delete(documented, f)
		}
	}
	if len(documented) < 60 {
		t.Fatalf("found only %d documented fields in scan.md: has the table format changed?", len(documented))
	}

	seen := map[string]map[string]bool{} // path → JSON kinds seen
	var walk func(path string, v any)
	walk = func(path string, v any) {
		if seen[path] == nil {
			seen[path] = map[string]bool{}
		}
		switch x := v.(type) {
		case map[string]any:
			seen[path]["object"] = true
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, e)
			}
		case []any:
			seen[path]["array"] = true
			for _, e := range x {
				walk(path+"[]", e)
			}
		case string:
			seen[path]["string"] = true
		case float64:
			seen[path]["number"] = true
		case bool:
			seen[path]["bool"] = true
		case nil:
			seen[path]["null"] = true
		}
	}
	for _, rec := range decodeJSONL(t, render(t, FormatJSONL)) {
		walk("", rec)
	}
	delete(seen, "")

	for f, typ := range documented {
		kinds, ok := seen[f]
		if !ok {
			t.Errorf("documented field %s is not in the output", f)
			continue
		}
		allowed := map[string]bool{}
		base, nullable := strings.CutSuffix(typ, " or null")
		switch base {
		case "string":
			allowed["string"] = true
		case "int":
			allowed["number"] = true
		case "bool":
			allowed["bool"] = true
		case "object":
			allowed["object"] = true
		case "[string]", "[object]":
			allowed["array"] = true
		}
		if nullable {
			allowed["null"] = true
		}
		for k := range kinds {
			if !allowed[k] {
				t.Errorf("field %s: documented as %s, output has a %s", f, typ, k)
			}
		}
	}
	for f, kinds := range seen {
		if _, ok := documented[f]; ok {
			continue
		}
		// Elements of a documented list of strings.
		if parent, ok := strings.CutSuffix(f, "[]"); ok && documented[parent] == "[string]" && kinds["string"] {
			continue
		}
		if parent, ok := strings.CutSuffix(f, "[]"); ok && documented[parent] == "[object]" {
			continue
		}
		t.Errorf("output field %s is not documented in docs/schema/scan.md", f)
	}
}

// TestSNICheckRendering: the table prints the SNI check's note when the
// server presents another certificate with SNI or the check could not be
// made, and nothing when it presents the same one; the JSON record always
// says what was checked.
func TestSNICheckRendering(t *testing.T) {
	other := sniResult().SNICheck.Leaf
	for _, tc := range []struct {
		name  string
		check *scan.SNICheck
		table []string // in the table; nil: no "SNI check" line
		json  string   // sni_check, marshalled
	}{
		{"not run", nil, nil, `null`},
		{"same", &scan.SNICheck{Name: "db.example.com", Outcome: scan.SNISame}, nil,
			`{"name":"db.example.com","outcome":"same","error":"","leaf":null,"note":""}`},
		{"differs", &scan.SNICheck{Name: "db.example.com", Outcome: scan.SNIDiffers, Leaf: other},
			[]string{"SNI check  with SNI db.example.com the server presents another certificate (ECDSA P-256, CN=db.example.com, sha256 1212121212121212…)", "rescan with --sni db.example.com"},
			`{"name":"db.example.com","outcome":"differs","error":"","leaf":{"subject":"CN=db.example.com","sans":["db.example.com","192.0.2.80"],"key_type":"ECDSA","key_bits":256,"curve":"P-256","sha256":"` + strings.Repeat("12", 32) + `"},"note":"with SNI db.example.com the server presents another certificate (ECDSA P-256, CN=db.example.com, sha256 1212121212121212…): the suites seen without SNI may be only those of its default certificate; rescan with --sni db.example.com"}`},
		{"inconclusive", &scan.SNICheck{Name: "db.example.com", Outcome: scan.SNIInconclusive, Error: scan.Failure{Stage: scan.StageHandshake, Reason: "timed out"}},
			[]string{"SNI check  not known whether the server presents another certificate with SNI db.example.com: that handshake failed (handshake: timed out)", "rescan with --sni db.example.com"},
			`{"name":"db.example.com","outcome":"inconclusive","error":"handshake: timed out","leaf":null,"note":"not known whether the server presents another certificate with SNI db.example.com: that handshake failed (handshake: timed out); the suites seen without SNI may be only those of its default certificate; rescan with --sni db.example.com to see"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sniResult()
			r.SNICheck = tc.check
			var buf bytes.Buffer
			if err := WriteScanReport(&buf, r, nil); err != nil {
				t.Fatal(err)
			}
			table := buf.String()
			if tc.table == nil && strings.Contains(table, "SNI check") {
				t.Errorf("table has an SNI check line:\n%s", table)
			}
			for _, want := range tc.table {
				if !strings.Contains(table, want) {
					t.Errorf("table lacks %q:\n%s", want, table)
				}
			}
			b, err := json.Marshal(NewScanRecord(r, nil).SNICheck)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.json {
				t.Errorf("sni_check\n got %s\nwant %s", b, tc.json)
			}
		})
	}
}
