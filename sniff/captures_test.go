package sniff

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/testenv"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// capturesTruth is a testdata/captures/*.truth.json file, written by
// scripts/make-captures.sh from each client's own output.
type capturesTruth struct {
	Capture     string         `json:"capture"`
	Connections []capturesConn `json:"connections"`
}

// capturesConn is one connection of a truth file.
type capturesConn struct {
	ClientTool string `json:"client_tool"`
	Server     string `json:"server"`
	Protocol   string `json:"protocol"`
	SNI        string `json:"sni"`
	Version    string `json:"version"`
	Cipher     string `json:"cipher"`
	CipherName string `json:"cipher_name"`
}

// TestProjectCaptures replays the captures the project records itself
// (scripts/make-captures.sh: openssl s_client, curl, gnutls-cli, Python and
// STARTTLS mail clients against real servers on loopback) and requires
// the sniffer to find every connection with the version, cipher, SNI,
// server and protocol its client reported.
func TestProjectCaptures(t *testing.T) {
	truths, err := filepath.Glob(filepath.Join("..", "testdata", "captures", "*.truth.json"))
	if err != nil {
		t.Fatal(err)
	}
	// An emptied folder must fail, not pass having checked nothing.
	if len(truths) < 5 {
		t.Fatalf("found %d truth files under testdata/captures, want at least 5 (scripts/make-captures.sh makes them)", len(truths))
	}
	for _, path := range truths {
		name := strings.TrimSuffix(filepath.Base(path), ".truth.json")
		t.Run(name, func(t *testing.T) {
			var truth capturesTruth
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &truth); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(truth.Connections) == 0 {
				t.Fatalf("%s lists no connection", path)
			}
			// The STARTTLS protocols whose recogniser is wired in; the
			// connections of the others are checked once it is.
			wired := map[string]bool{"https": true, "tls": true, "quic": true}
			for _, r := range DefaultRecognizers() {
				wired[r(nil, nil).Protocol] = true
			}
			var missing []string
			flows, st := sniffFile(t, filepath.Join(filepath.Dir(path), truth.Capture), Config{Recognizers: DefaultRecognizers()})
			// A flow is matched to its truth by SNI; the flows of clients
			// that send none (the mariadb client) by order, as the truth
			// lists them in the order they were made, one at a time.
			bySNI := map[string]*Flow{}
			var noSNI []*Flow
			for _, f := range flows {
				switch {
				case !f.HasClientHello():
				case f.SNI == "":
					noSNI = append(noSNI, f)
				case bySNI[f.SNI] != nil:
					t.Errorf("two flows with SNI %q", f.SNI)
				default:
					bySNI[f.SNI] = f
				}
			}
			slices.SortStableFunc(noSNI, func(a, b *Flow) int { return a.FirstSeen.Compare(b.FirstSeen) })
			wantNoSNI := 0
			for _, c := range truth.Connections {
				if c.SNI == "" {
					wantNoSNI++
				}
			}
			if len(noSNI) != wantNoSNI {
				t.Errorf("%d flows with a ClientHello without SNI, the truth has %d connections without", len(noSNI), wantNoSNI)
			}
			want := 0
			for _, c := range truth.Connections {
				if wired[c.Protocol] {
					want++
				} else if !slices.Contains(missing, c.Protocol) {
					missing = append(missing, c.Protocol)
				}
			}
			if len(bySNI)+len(noSNI) < want {
				t.Errorf("%d flows with a ClientHello, the truth has %d connections (stats %+v)", len(bySNI), want, st)
			}
			for sni := range bySNI {
				if !slices.ContainsFunc(truth.Connections, func(c capturesConn) bool { return c.SNI == sni }) {
					t.Errorf("a flow with SNI %q that the truth does not list", sni)
				}
			}
			for _, c := range truth.Connections {
				if !wired[c.Protocol] {
					continue
				}
				var f *Flow
				if c.SNI != "" {
					f = bySNI[c.SNI]
				} else if len(noSNI) > 0 {
					f, noSNI = noSNI[0], noSNI[1:]
				}
				if f == nil {
					t.Errorf("%s (SNI %s): no flow", c.ClientTool, c.SNI)
					continue
				}
				got := fmt.Sprintf("%s %s 0x%04X %s %s", f.Server, f.Protocol, f.Cipher, f.Version, f.SNI)
				want := fmt.Sprintf("%s %s %s %s %s", c.Server, c.Protocol, c.Cipher, c.Version, c.SNI)
				if got != want {
					t.Errorf("%s:\n got %s\nwant %s (cipher %s)", c.ClientTool, got, want, c.CipherName)
				}
				// Through a proxy the flow names the destination the client
				// asked for: s_server on 443, by name or by address.
				if f.Protocol == "http-connect" || strings.HasPrefix(f.Protocol, "socks") {
					if f.ProxyTarget != c.SNI+":443" && f.ProxyTarget != "127.0.0.1:443" {
						t.Errorf("%s: proxy target %q, want %s:443 or 127.0.0.1:443", c.ClientTool, f.ProxyTarget, c.SNI)
					}
				} else if f.ProxyTarget != "" {
					t.Errorf("%s: proxy target %q without a proxy", c.ClientTool, f.ProxyTarget)
				}
				// The truth's clients all offered exactly the version they
				// negotiated as their highest.
				if v := tls.Version(MaxOffered(f)).String(); v != c.Version {
					t.Errorf("%s: highest offered version %s, want %s", c.ClientTool, v, c.Version)
				}
				if wantLegacy := c.Version == "TLSv1.0" || c.Version == "TLSv1.1"; IsLegacy(f) != wantLegacy {
					t.Errorf("%s: IsLegacy = %v, want %v", c.ClientTool, IsLegacy(f), wantLegacy)
				}
			}
			if len(missing) > 0 {
				testenv.Missing(t, fmt.Sprintf("%s: no STARTTLS recogniser for %v in testRecognizers yet; those connections were not checked", name, missing))
			}
		})
	}
}
