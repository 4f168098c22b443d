package sniff

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// expectation is one upstream tool's claim about one connection (or,
// when client is invalid, about some connection of the capture).
type expectation struct {
	source         string // "zeek:<log>", "arkime:<file>", "suricata:<file>", "foxio:<file>"
	client, server netip.AddrPort
	fields         map[string]string // version, cipher, sni, ja3, ja3s, ja4, ja4s
}

func (e expectation) id() string {
	return fmt.Sprintf("%s %s->%s", e.source, e.client, e.server)
}

// publicExpectations maps a capture (relative to testdata/public) to its
// expectation files. A Zeek log given as "file#section" takes the rows
// of one "#file section" block.
var publicExpectations = map[string][]string{
	"zeek/testing/btest/Traces/tls/tls1.2.pcap":                                  {"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.tls-1.2/ssl.log"},
	"zeek/testing/btest/Traces/tls/tls1_1.pcap":                                  {"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.tls1_1/ssl.log", "zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log#tls1_1.pcap"},
	"zeek/testing/btest/Traces/tls/dhe.pcap":                                     {"zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log#dhe.pcap"},
	"zeek/testing/btest/Traces/tls/ecdhe.pcap":                                   {"zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log#ecdhe.pcap"},
	"zeek/testing/btest/Traces/tls/ssl.v3.pcap":                                  {"zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log#ssl.v3.pcap"},
	"zeek/testing/btest/Traces/tls/tls13_wolfssl.pcap":                           {"zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log#tls13_wolfssl.pcap"},
	"zeek/testing/btest/Traces/tls/tls13draft23-chrome67.0.3368.0-canary.pcap":   {"zeek/testing/btest/Baseline/scripts.policy.protocols.ssl.ssl-log-ext/ssl-all.log#tls13draft23-chrome67.0.3368.0-canary.pcap"},
	"zeek/testing/btest/Traces/tls/smtp-starttls.pcap":                           {"zeek/testing/btest/Baseline/scripts.base.protocols.smtp.starttls/ssl.log"},
	"zeek/testing/btest/Traces/tls/imap-starttls.pcap":                           {"zeek/testing/btest/Baseline/scripts.base.protocols.imap.starttls/ssl.log"},
	"zeek/testing/btest/Traces/tls/pop3-starttls.pcap":                           {"zeek/testing/btest/Baseline/scripts.base.protocols.pop3.starttls/ssl.log"},
	"zeek/testing/btest/Traces/tls/xmpp-starttls.pcap":                           {"zeek/testing/btest/Baseline/scripts.base.protocols.xmpp.starttls/ssl.log"},
	"zeek/testing/btest/Traces/tls/chrome-1250-tls-x25519-kyber.pcap":            {"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.tls13/ssl-out.log"},
	"zeek/testing/btest/Traces/tls/hrr.pcap":                                     {"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.tls13/ssl-out.log"},
	"zeek/testing/btest/Traces/tls/tls-fragmented-handshake.pcap.gz":             {"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.fragment/ssl.log"},
	"zeek/testing/btest/Traces/tls/tls-1.2-handshake-failure.pcap":               {"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.tls-1.2-handshake-failure/ssl.log"},
	"zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap": {"zeek/testing/btest/Baseline/scripts.base.protocols.quic.chromium/ssl.log", "zeek/testing/btest/Baseline/scripts.base.protocols.quic.chromium/quic.log"},
	"foxio-ja4/pcap/tls-handshake.pcapng":                                        {"foxio-ja4/zeek/tests/Traces/Scripts.ja4-tls-handshake/ssl.log", "foxio-ja4/python/test/testdata/tls-handshake.pcapng.json"},
}

// multiCaptureLogs hold rows of captures we do not have: rows whose
// connection is not in the capture are skipped, not failures.
var multiCaptureLogs = map[string]bool{
	"zeek/testing/btest/Baseline/scripts.base.protocols.ssl.tls13/ssl-out.log": true,
	// The FoxIO Zeek baseline was produced from a longer recording than the
	// copied tls-handshake.pcapng: its ports do not occur in the copy.
	"foxio-ja4/zeek/tests/Traces/Scripts.ja4-tls-handshake/ssl.log": true,
}

// expectationExceptions lists expectations we knowingly do not meet, by
// expectation id and field, with the reason. A listed exception that is
// met fails the test (it is stale).
var expectationExceptions = map[string]string{
	"foxio:foxio-ja4/python/test/testdata/tls-non-ascii-alpn.pcapng.json 192.168.1.168:50112->142.251.16.94:443 ja4": "the JA4 spec (since FoxIO PR #156) takes the hex nibbles of a non-alphanumeric ALPN (bd); FoxIO Python and Rust still print 99 (FoxIO issue #326)",
	"suricata:suricata-verify/tests/bug-5713-02-ja4/test.yaml invalid AddrPort->invalid AddrPort ja4":                "known Suricata divergence: hello without signature_algorithms (SOURCES.md)",
}

func init() {
	// FoxIO python JSON and Arkime .test files sit beside or mirror their
	// captures.
	for _, n := range []string{"tls3.pcapng", "tls-non-ascii-alpn.pcapng", "badcurveball.pcap", "chrome-cloudflare-quic-with-secrets.pcapng", "browsers-x509.pcapng", "latest.pcapng", "https3-301-get.pcap", "ipv6.pcapng", "tls12.pcap", "CVE-2018-6794.pcap", "single-packets.pcap", "quic-tls-handshake.pcapng"} {
		k := "foxio-ja4/pcap/" + n
		publicExpectations[k] = append(publicExpectations[k], "foxio-ja4/python/test/testdata/"+n+".json")
	}
	// The FoxIO Rust snapshots of the captures with QUIC (their QUIC
	// streams; the Python outputs have none).
	for _, n := range []string{"tls-handshake.pcapng", "tls3.pcapng", "chrome-cloudflare-quic-with-secrets.pcapng", "quic-tls-handshake.pcapng"} {
		k := "foxio-ja4/pcap/" + n
		publicExpectations[k] = append(publicExpectations[k], "foxio-ja4/rust/ja4/src/snapshots/ja4__insta@"+n+".snap")
	}
	for _, n := range []string{"openssl-ssl3", "openssl-tls1", "openssl-tls1_1", "openssl-tls1_2-tls1", "ssl-selfsign", "tls-client-sessionid", "tls-split-client-hello", "tls13", "smtp-starttls", "ldap-ssl", "mysql-tls", "quicietf"} {
		k := "arkime/tests/pcap/" + n + ".pcap"
		publicExpectations[k] = append(publicExpectations[k], "arkime/tests/pcap/"+n+".test")
	}
}

func loadExpectations(t *testing.T, pub, file string) []expectation {
	t.Helper()
	section := ""
	if i := strings.IndexByte(file, '#'); i >= 0 {
		file, section = file[:i], file[i+1:]
	}
	switch {
	case strings.HasSuffix(file, ".log"):
		return loadZeek(t, filepath.Join(pub, file), file, section)
	case strings.HasSuffix(file, ".test"):
		return loadArkime(t, filepath.Join(pub, file), file)
	case strings.HasSuffix(file, ".json"):
		return loadFoxIO(t, filepath.Join(pub, file), file)
	case strings.HasSuffix(file, ".yaml"):
		return loadSuricata(t, filepath.Join(pub, file), file)
	case strings.HasSuffix(file, ".snap"):
		return loadFoxIORust(t, filepath.Join(pub, file), file)
	}
	t.Fatalf("unknown expectation format %s", file)
	return nil
}

func ap(host, port string) netip.AddrPort {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}
	}
	p, _ := strconv.Atoi(port)
	return netip.AddrPortFrom(a, uint16(p))
}

func loadZeek(t *testing.T, path, name, section string) []expectation {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []expectation
	var fields []string
	in := section == ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if s, ok := strings.CutPrefix(line, "#file "); ok {
			in = section == "" || strings.TrimSpace(s) == section
			continue
		}
		if s, ok := strings.CutPrefix(line, "#fields\t"); ok {
			fields = strings.Split(s, "\t")
			continue
		}
		if strings.HasPrefix(line, "#") || !in || fields == nil {
			continue
		}
		row := map[string]string{}
		for i, v := range strings.Split(line, "\t") {
			if i < len(fields) && v != "-" && v != "(empty)" {
				row[fields[i]] = v
			}
		}
		e := expectation{source: "zeek:" + name, client: ap(row["id.orig_h"], row["id.orig_p"]), server: ap(row["id.resp_h"], row["id.resp_p"]), fields: map[string]string{}}
		if strings.HasSuffix(name, "/quic.log") {
			// Zeek's QUIC log: the QUIC version (hex, "1"), the SNI and
			// the client's first ALPN protocol.
			e.fields["quic_version"] = row["version"]
			e.fields["sni"] = row["server_name"]
			e.fields["alpn0"] = row["client_protocol"]
			out = append(out, e)
			continue
		}
		e.fields["version"] = row["version"] // "" = no version negotiated
		if c, ok := row["cipher"]; ok {
			e.fields["cipher"] = c
		}
		if v, ok := row["server_name"]; ok {
			e.fields["sni"] = v
		}
		for _, k := range []string{"ja4", "ja4s"} {
			if v, ok := row[k]; ok {
				e.fields[k] = v
			}
		}
		out = append(out, e)
	}
	return out
}

// loadFoxIORust reads the QUIC streams (transport: udp) of a FoxIO Rust
// insta snapshot: a YAML list of streams whose top-level keys are read
// line by line. Its TCP streams are covered by the Python outputs.
func loadFoxIORust(t *testing.T, path, name string) []expectation {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(strings.TrimPrefix(string(b), "---\n"), "\n---\n")
	if !ok {
		t.Fatalf("%s: no insta header", name)
	}
	var out []expectation
	var rows []map[string]string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "- ") {
			rows = append(rows, map[string]string{})
			line = "  " + line[2:]
		}
		if len(rows) == 0 || !strings.HasPrefix(line, "  ") || strings.HasPrefix(line, "   ") {
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
			rows[len(rows)-1][k] = strings.Trim(v, `"'`)
		}
	}
	for _, r := range rows {
		if r["transport"] != "udp" || r["ja4"] == "" {
			continue
		}
		e := expectation{source: "foxio-rust:" + name, client: ap(r["src"], r["src_port"]), server: ap(r["dst"], r["dst_port"]),
			fields: map[string]string{"ja4": r["ja4"]}}
		if v := r["tls_server_name"]; v != "" {
			e.fields["sni"] = v
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no QUIC stream", name)
	}
	return out
}

func loadArkime(t *testing.T, path, name string) []expectation {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sessions []struct {
			Body struct {
				Source struct {
					IP   string
					Port int
				} `json:"source"`
				Destination struct {
					IP   string
					Port int
				} `json:"destination"`
				TLS map[string]any `json:"tls"`
			} `json:"body"`
		} `json:"sessions3"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []expectation
	for _, s := range doc.Sessions {
		if s.Body.TLS == nil {
			continue
		}
		e := expectation{source: "arkime:" + name, client: ap(s.Body.Source.IP, strconv.Itoa(s.Body.Source.Port)), server: ap(s.Body.Destination.IP, strconv.Itoa(s.Body.Destination.Port)), fields: map[string]string{}}
		for k, f := range map[string]string{"version": "version", "cipher": "cipher", "ja3": "ja3", "ja3s": "ja3s", "ja4": "ja4"} {
			if v, _ := s.Body.TLS[k].([]any); len(v) == 1 {
				e.fields[f], _ = v[0].(string)
			}
		}
		out = append(out, e)
	}
	return out
}

func loadFoxIO(t *testing.T, path, name string) []expectation {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []expectation
	for _, r := range rows {
		str := func(k string) string { s, _ := r[k].(string); return s }
		if str("JA4.1") == "" {
			continue
		}
		e := expectation{source: "foxio:" + name, client: ap(str("src"), str("srcport")), server: ap(str("dst"), str("dstport")), fields: map[string]string{"ja4": str("JA4.1")}}
		if d := str("domain"); d != "" {
			e.fields["sni"] = d
		}
		if s := str("JA4S"); s != "" {
			e.fields["ja4s"] = s
		}
		out = append(out, e)
	}
	return out
}

// loadSuricata reads the tls.version and tls.sni matches of a test.yaml's
// checks (a line-based reading is enough for these files).
func loadSuricata(t *testing.T, path, name string) []expectation {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []expectation
	var cur *expectation
	for _, line := range strings.Split(string(b), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "- filter:") {
			out = append(out, expectation{source: "suricata:" + name, fields: map[string]string{}})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			continue
		}
		for k, f := range map[string]string{"tls.version:": "version", "tls.sni:": "sni", "tls.ja3.hash:": "ja3", "tls.ja3s.hash:": "ja3s", "tls.ja4:": "ja4", "quic.ja4:": "ja4", "quic.sni:": "sni"} {
			if v, ok := strings.CutPrefix(l, k); ok {
				cur.fields[f] = strings.Trim(strings.TrimSpace(v), `"'`)
			}
		}
	}
	return slices.DeleteFunc(out, func(e expectation) bool { return len(e.fields) == 0 })
}

// versionOf parses the version names of Zeek, Arkime and Suricata.
func versionOf(s string) (uint16, bool) {
	s = strings.NewReplacer(" ", "", ".", "", "-", "").Replace(s)
	if i := strings.Index(s, "draft"); i >= 0 {
		n, err := strconv.Atoi(s[i+5:])
		return 0x7f00 | uint16(n), err == nil
	}
	switch s {
	case "SSLv2":
		return 0x0002, true
	case "SSLv3":
		return 0x0300, true
	case "TLSv1", "TLSv10", "TLS1", "TLS10":
		return 0x0301, true
	case "TLSv11", "TLS11":
		return 0x0302, true
	case "TLSv12", "TLS12":
		return 0x0303, true
	case "TLSv13", "TLS13":
		return 0x0304, true
	case "", "UNDETERMINED":
		return 0, true
	}
	return 0, false
}

// check compares one expectation field with a flow; it returns the
// mismatch or "".
func check(e expectation, field, want string, f *Flow) string {
	got := ""
	switch field {
	case "version":
		v, ok := versionOf(want)
		if !ok {
			return "unknown version name " + want
		}
		gv := f.Version
		if gv == 0 && strings.HasPrefix(e.source, "suricata:") && len(f.ClientHello) > 5 && !f.SSLv2 {
			// Suricata logs the client's version when no ServerHello came.
			gv = tls.Version(f.ClientHello[4])<<8 | tls.Version(f.ClientHello[5])
		}
		if gv == tls.Version(v) {
			return ""
		}
		return fmt.Sprintf("version %s, want %s (%s)", gv, tls.Version(v), want)
	case "cipher":
		s, err := ciphers.Lookup(want)
		if err != nil {
			return "unknown cipher " + want
		}
		if f.Cipher == s.ID {
			return ""
		}
		return fmt.Sprintf("cipher %04x, want %04x (%s)", f.Cipher, s.ID, want)
	case "sni":
		got = f.SNI
	case "ja3":
		got = f.JA3
	case "ja3s":
		got = f.JA3S
	case "ja4":
		got = f.JA4
	case "ja4s":
		return "" // JA4S is FoxIO-licensed: not implemented, not checked
	case "quic_version":
		got = strconv.FormatUint(uint64(f.QUICVersion), 16)
	case "alpn0":
		if len(f.ALPN) > 0 {
			got = f.ALPN[0]
		}
	}
	if got == want {
		return ""
	}
	return fmt.Sprintf("%s %q, want %q", field, got, want)
}

// fingerprinted reports whether protocols/tls provides the fingerprints
// (until it does, fingerprint fields are skipped).
func fingerprinted(field string) bool {
	switch field {
	case "ja3", "ja3s", "ja4":
		return fingerprintsAvailable
	}
	return true
}

// sniffFile runs a capture through a Sniffer and returns its flows.
func sniffFile(t testing.TB, path string, cfg Config) ([]*Flow, Stats) {
	t.Helper()
	return sniffFiles(t, cfg, path)
}

// sniffFiles runs captures, in one source, through a Sniffer and returns
// its flows.
func sniffFiles(t testing.TB, cfg Config, names ...string) ([]*Flow, Stats) {
	t.Helper()
	var flows []*Flow
	s := New(cfg, func(f *Flow) { flows = append(flows, f) })
	src, err := OpenFiles(nil, names...)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := s.Run(context.Background(), src); err != nil {
		t.Fatalf("%v: %v", names, err)
	}
	s.Flush()
	return flows, s.Stats()
}

func publicCaptures(t *testing.T) (string, []string) {
	t.Helper()
	pub, err := pcaptest.PublicDir()
	if err != nil {
		t.Fatal(err)
	}
	var caps []string
	filepath.WalkDir(pub, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(pub, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "tshark-crosscheck/") {
			return nil
		}
		if strings.HasSuffix(rel, ".pcap") || strings.HasSuffix(rel, ".pcapng") || strings.HasSuffix(rel, ".pcap.gz") {
			caps = append(caps, rel)
		}
		return nil
	})
	if len(caps) < 50 {
		t.Fatalf("found %d captures under %s, want the 56 public ones", len(caps), pub)
	}
	return pub, caps
}

func TestPublicExpectations(t *testing.T) {
	pub, caps := publicCaptures(t)
	// Suricata test.yaml files name their capture (the one in their
	// directory, or "pcap:").
	yamls, _ := filepath.Glob(filepath.Join(pub, "suricata-verify/tests/*/test.yaml"))
	more, _ := filepath.Glob(filepath.Join(pub, "suricata-verify/tests/*/*/test.yaml"))
	for _, y := range append(yamls, more...) {
		b, _ := os.ReadFile(y)
		capture := ""
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "pcap:"); ok {
				capture = filepath.Join(filepath.Dir(y), strings.TrimSpace(v))
			}
		}
		if capture == "" {
			ps, _ := filepath.Glob(filepath.Join(filepath.Dir(y), "*.pcap"))
			if len(ps) != 1 {
				continue
			}
			capture = ps[0]
		}
		rc, _ := filepath.Rel(pub, filepath.Clean(capture))
		ry, _ := filepath.Rel(pub, y)
		rc, ry = filepath.ToSlash(rc), filepath.ToSlash(ry)
		if !slices.Contains(publicExpectations[rc], ry) {
			publicExpectations[rc] = append(publicExpectations[rc], ry)
		}
	}
	usedExc := map[string]bool{}
	perSource := map[string][2]int{} // matched, excepted
	for _, rel := range caps {
		files := publicExpectations[rel]
		if len(files) == 0 {
			continue
		}
		flows, _ := sniffFile(t, filepath.Join(pub, rel), Config{Recognizers: DefaultRecognizers()})
		var conns *pcaptest.Capture
		for _, file := range files {
			exps := loadExpectations(t, pub, file)
			base := strings.SplitN(file, "#", 2)[0]
			for _, e := range exps {
				var cands []*Flow
				for _, f := range flows {
					if !e.client.IsValid() || (f.Client == e.client && f.Server == e.server) {
						cands = append(cands, f)
					}
				}
				if len(cands) == 0 && multiCaptureLogs[base] {
					if conns == nil {
						var err error
						if conns, err = pcaptest.ReadTCP(filepath.Join(pub, rel)); err != nil {
							t.Fatal(err)
						}
					}
					in := false
					for _, c := range conns.Conns {
						in = in || c.Client == e.client && c.Server == e.server
					}
					if !in {
						continue
					}
				}
				src := strings.SplitN(e.source, ":", 2)[0]
				for field, want := range e.fields {
					if !fingerprinted(field) {
						continue
					}
					key := e.id() + " " + field
					msg := "no flow"
					for _, f := range cands {
						if msg = check(e, field, want, f); msg == "" {
							break
						}
					}
					reason, excepted := expectationExceptions[key]
					switch {
					case msg == "" && excepted:
						t.Errorf("%s: stale exception %q (%s): the expectation is met now", rel, key, reason)
					case msg == "":
						c := perSource[src]
						c[0]++
						perSource[src] = c
					case excepted:
						usedExc[key] = true
						c := perSource[src]
						c[1]++
						perSource[src] = c
					default:
						t.Errorf("%s: %s: %s", rel, key, msg)
					}
				}
			}
		}
	}
	for k, r := range expectationExceptions {
		if !usedExc[k] {
			t.Errorf("exception %q (%s) was not needed", k, r)
		}
	}
	keys := make([]string, 0, len(perSource))
	for k := range perSource {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("%-9s %4d expectations matched, %d exceptions", k, perSource[k][0], perSource[k][1])
	}
}
