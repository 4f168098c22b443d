package mailserver

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// SniffCap is how much of each direction the sniffer buffers for the
// recognisers; the capture checks cut the streams there too.
const SniffCap = 16 << 10

// MailCaptures are the public captures (testdata/public, see SOURCES.md)
// holding a STARTTLS exchange (mail, and the other protocols of
// protocols/), with the protocol and the server port of the flows that
// must be recognised as Upgraded (but for the connections listed in
// Plain: that protocol in clear, recognised as Plaintext). Every other TCP
// flow of every public capture must not be claimed by the recogniser, and
// the flows of another protocol's STARTTLS must be NotThis for it.
var MailCaptures = map[string]struct {
	Protocol string
	Port     uint16
	Plain    []int // connection numbers (Flow.Index) that stay in clear
}{
	"zeek/testing/btest/Traces/tls/smtp-starttls.pcap": {"smtp", 25, nil},
	"zeek/testing/btest/Traces/tls/imap-starttls.pcap": {"imap", 143, nil},
	"zeek/testing/btest/Traces/tls/pop3-starttls.pcap": {"pop3", 110, nil},
	"suricata-verify/tests/smtp-startssl/input.pcap":   {"smtp", 25, nil},
	"arkime/tests/pcap/smtp-starttls.pcap":             {"smtp", 25, nil},
	"arkime/tests/pcap/ldap-ssl.pcap":                  {"ldap", 389, nil},
	"zeek/testing/btest/Traces/tls/xmpp-starttls.pcap": {"xmpp", 5222, nil},
	// A libpq connection with SSL, then one without (the capture's
	// test.yaml: a StartupMessage in clear).
	"suricata-verify/tests/pgsql/pgsql-upgrade-tls/input.pcap": {"postgres", 5432, []int{1}},
	"arkime/tests/pcap/mysql-tls.pcap":                         {"mysql", 3306, nil},
}

// NegativeCaptures are captures of other protocols that look like mail at
// a glance (a plaintext preamble, then TLS; or plain text): every flow in
// them must be NotThis for every mail recogniser, at every step.
var NegativeCaptures = []string{
	"foxio-ja4/pcap/CVE-2018-6794.pcap",
	"foxio-ja4/pcap/single-packets.pcap",
}

// Flow is one TCP connection of a public capture, both directions cut at
// SniffCap.
type Flow struct {
	Capture string // path under testdata/public
	Index   int    // connection number, as tshark's tcp.stream
	Server  string
	C2S     []byte
	S2C     []byte
	// Steps are the prefix lengths (client, server) after each frame that
	// delivered data, in capture order: what a sniffer calling the
	// recogniser as bytes arrive would pass.
	Steps [][2]int
	// Want is the protocol expected Upgraded on this flow ("" for none);
	// Plain the protocol expected Plaintext on it.
	Want, Plain string
	// Negative is true for the flows of NegativeCaptures.
	Negative bool
}

// PublicFlows reads every capture under testdata/public and returns its
// TCP connections. Finding no capture, or missing one of MailCaptures or
// NegativeCaptures, fails the test.
func PublicFlows(t testing.TB) []Flow {
	t.Helper()
	pub, err := pcaptest.PublicDir()
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	err = filepath.WalkDir(pub, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if !d.IsDir() && (strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng") || strings.HasSuffix(name, ".pcap.gz")) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	seen := map[string]bool{}
	var flows []Flow
	for _, path := range paths {
		rel, _ := filepath.Rel(pub, path)
		rel = filepath.ToSlash(rel)
		c, err := pcaptest.ReadTCP(path)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		seen[rel] = true
		mc, isMail := MailCaptures[rel]
		negative := false
		for _, n := range NegativeCaptures {
			negative = negative || n == rel
		}
		for _, conn := range c.Conns {
			f := Flow{Capture: rel, Index: conn.Index, Server: conn.Server.String(), Negative: negative}
			if isMail && conn.Server.Port() == mc.Port {
				if slices.Contains(mc.Plain, conn.Index) {
					f.Plain = mc.Protocol
				} else {
					f.Want = mc.Protocol
				}
			}
			cs, ss := conn.Streams[pcaptest.ClientToServer], conn.Streams[pcaptest.ServerToClient]
			f.C2S = cs.Data[:min(len(cs.Data), SniffCap)]
			f.S2C = ss.Data[:min(len(ss.Data), SniffCap)]
			f.Steps = steps(cs, ss, len(f.C2S), len(f.S2C))
			flows = append(flows, f)
		}
	}
	if len(paths) == 0 {
		t.Fatal("no capture under testdata/public")
	}
	for name := range MailCaptures {
		if !seen[name] {
			t.Fatalf("mail capture %s is missing", name)
		}
	}
	for _, name := range NegativeCaptures {
		if !seen[name] {
			t.Fatalf("negative capture %s is missing", name)
		}
	}
	return flows
}

// steps merges the two directions' chunks by frame.
func steps(cs, ss *pcaptest.Stream, cmax, smax int) [][2]int {
	type ev struct {
		frame int
		dir   int
		end   int
	}
	var evs []ev
	for d, s := range []*pcaptest.Stream{cs, ss} {
		for _, ch := range s.Chunks() {
			evs = append(evs, ev{ch.Frame, d, ch.Offset + len(ch.Data)})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].frame < evs[j].frame })
	var out [][2]int
	var cur [2]int
	for _, e := range evs {
		cur[e.dir] = e.end
		out = append(out, [2]int{min(cur[0], cmax), min(cur[1], smax)})
	}
	return out
}

// CheckRecognizer runs a mail recogniser over every public flow, whole and
// step by step, and checks that:
//
//   - every flow of MailCaptures for its protocol ends Upgraded, with
//     offsets where LooksLikeTLS (or LooksLikeSSLv2 for a client) holds
//     on both streams, is never NotThis on the way, and once Upgraded
//     keeps the same offsets;
//   - every flow of MailCaptures' Plain for its protocol ends Plaintext,
//     and is never Upgraded or NotThis on the way;
//   - no other flow is ever Upgraded or Plaintext (no plaintext is called
//     TLS, no other protocol is called this one), and the flows of
//     NegativeCaptures and of another protocol (STARTTLS or in clear)
//     are NotThis once they hold data.
//
// It returns one line per capture that the recogniser labelled, for the
// test log.
func CheckRecognizer(t *testing.T, name string, rec protocols.Recognizer) []string {
	t.Helper()
	return checkRecognizer(t, name, rec, true)
}

// CheckNotClaimed runs the checks of CheckRecognizer for a protocol no
// public capture holds: no public flow is ever Upgraded or Plaintext for
// it, and the flows of NegativeCaptures and of the other protocols'
// STARTTLS are NotThis.
func CheckNotClaimed(t *testing.T, name string, rec protocols.Recognizer) []string {
	t.Helper()
	return checkRecognizer(t, name, rec, false)
}

func checkRecognizer(t *testing.T, name string, rec protocols.Recognizer, needFlows bool) []string {
	t.Helper()
	flows := PublicFlows(t)
	labelled := map[string][]string{}
	others := map[string][]string{}
	want := 0
	for _, f := range flows {
		id := fmt.Sprintf("%s#%d (%s)", f.Capture, f.Index, f.Server)
		final := rec(f.C2S, f.S2C)
		checkRecognition(t, id, len(f.C2S), len(f.S2C), final)
		if f.Want == name {
			want++
			if final.State != protocols.Upgraded || final.Protocol != name {
				t.Errorf("%s: %v (%s), want upgraded %s", id, final.State, final.Reason, name)
				continue
			}
			if !tls.LooksLikeTLS(f.C2S[final.ClientOffset:]) && !tls.LooksLikeSSLv2(f.C2S[final.ClientOffset:]) {
				t.Errorf("%s: client bytes at %d are not TLS: %q", id, final.ClientOffset, f.C2S[final.ClientOffset:min(len(f.C2S), final.ClientOffset+16)])
			}
			if !tls.LooksLikeTLS(f.S2C[final.ServerOffset:]) {
				t.Errorf("%s: server bytes at %d are not TLS: %q", id, final.ServerOffset, f.S2C[final.ServerOffset:min(len(f.S2C), final.ServerOffset+16)])
			}
			labelled[f.Capture] = append(labelled[f.Capture], fmt.Sprintf("flow %d upgraded at c2s %d / s2c %d", f.Index, final.ClientOffset, final.ServerOffset))
		} else if f.Plain == name {
			if final.State != protocols.Plaintext || final.Protocol != name {
				t.Errorf("%s: %v (%s), want plaintext %s", id, final.State, final.Reason, name)
				continue
			}
			labelled[f.Capture] = append(labelled[f.Capture], fmt.Sprintf("flow %d plaintext (%s)", f.Index, final.Reason))
		} else {
			switch final.State {
			case protocols.Upgraded, protocols.Plaintext:
				t.Errorf("%s: %v (%s) on a flow that is not %s STARTTLS", id, final.State, final.Reason, name)
			}
			if (f.Negative || f.Want != "" || f.Plain != "") && len(f.C2S)+len(f.S2C) > 0 && final.State != protocols.NotThis {
				t.Errorf("%s: %v, want not-this", id, final.State)
			}
		}
		var upgradedAt *protocols.Recognition
		for _, st := range f.Steps {
			r := rec(f.C2S[:st[0]], f.S2C[:st[1]])
			checkRecognition(t, id, st[0], st[1], r)
			switch {
			case (f.Want == name || f.Plain == name) && r.State == protocols.NotThis:
				t.Errorf("%s: not-this after %d/%d bytes (%s)", id, st[0], st[1], r.Reason)
			case f.Plain == name && r.State == protocols.Upgraded:
				t.Errorf("%s: upgraded after %d/%d bytes", id, st[0], st[1])
			case f.Plain == name:
			case f.Want != name && (r.State == protocols.Upgraded || r.State == protocols.Plaintext):
				t.Errorf("%s: %v after %d/%d bytes (%s)", id, r.State, st[0], st[1], r.Reason)
			}
			if r.State == protocols.Upgraded {
				if upgradedAt != nil && (upgradedAt.ClientOffset != r.ClientOffset || upgradedAt.ServerOffset != r.ServerOffset) {
					t.Errorf("%s: offsets moved from %d/%d to %d/%d", id, upgradedAt.ClientOffset, upgradedAt.ServerOffset, r.ClientOffset, r.ServerOffset)
				}
				upgradedAt = &r
			}
		}
		if f.Want != name && f.Plain != name {
			key := "all other flows"
			if _, ok := MailCaptures[f.Capture]; ok {
				key = f.Capture + " (other flows)"
			}
			others[key] = append(others[key], final.State.String())
		}
	}
	if needFlows && want == 0 {
		t.Fatalf("no public flow is expected to be %s STARTTLS", name)
	}
	var out []string
	for c, ls := range labelled {
		out = append(out, c+": "+strings.Join(ls, "; "))
	}
	for c, ls := range others {
		n := map[string]int{}
		for _, s := range ls {
			n[s]++
		}
		out = append(out, fmt.Sprintf("%s: %d flows %v", c, len(ls), n))
	}
	sort.Strings(out)
	return out
}

// checkRecognition checks what every Recognition must satisfy.
func checkRecognition(t *testing.T, id string, clen, slen int, r protocols.Recognition) {
	t.Helper()
	if r.State > protocols.Upgraded {
		t.Errorf("%s: state %d", id, r.State)
	}
	if r.State == protocols.Upgraded && (r.ClientOffset < 0 || r.ClientOffset > clen || r.ServerOffset < 0 || r.ServerOffset > slen) {
		t.Errorf("%s: offsets %d/%d out of %d/%d", id, r.ClientOffset, r.ServerOffset, clen, slen)
	}
}
