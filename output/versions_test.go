package output

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/sniff"
)

// TestScanAndSniffSpellVersionsAlike writes, for every version scan
// probes, the tlsmap.scan/1 record of a server that accepts it and the
// tlsmap.sniff/1 record of a connection that negotiated it, and checks
// that both spell it the same way — tls.Version's String, which parses
// back to the version.
func TestScanAndSniffSpellVersionsAlike(t *testing.T) {
	for _, v := range scan.AllVersions {
		want := tls.Version(v).String()

		res := &scan.Result{
			Target:  scan.Target{Input: "a.example", Host: "a.example", Addr: "a.example", Port: 443, Protocol: scan.ProtoHTTPS},
			Address: "192.0.2.1:443", Status: scan.StatusOK, Started: t0,
			Versions: []scan.VersionResult{{Version: v, Outcome: scan.Accepted, Suites: []uint16{0x002F}, Candidates: 1}},
		}
		var sb bytes.Buffer
		sw := NewScanWriter(&sb, FormatJSONL)
		if err := sw.Write(res, nil); err != nil {
			t.Fatal(err)
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
		var sr struct {
			Versions []struct{ Version string } `json:"versions"`
			Ciphers  []struct{ Version string } `json:"ciphers"`
		}
		if err := json.Unmarshal(sb.Bytes(), &sr); err != nil || len(sr.Versions) != 1 || len(sr.Ciphers) != 1 {
			t.Fatalf("%s: scan record %s: %v", want, sb.Bytes(), err)
		}

		flow := &sniff.Flow{
			Client: netip.MustParseAddrPort("192.0.2.9:50000"), Server: netip.MustParseAddrPort("192.0.2.1:443"),
			Protocol: "https", ClientHello: []byte{1}, OfferedVersions: []tls.Version{v}, Version: v, Cipher: 0x002F,
		}
		var fb bytes.Buffer
		if err := NewFlowWriter(&fb, FormatJSONL, nil).Write(flow); err != nil {
			t.Fatal(err)
		}
		var fr struct {
			Version         string   `json:"version"`
			OfferedVersions []string `json:"offered_versions"`
		}
		if err := json.Unmarshal(fb.Bytes(), &fr); err != nil || len(fr.OfferedVersions) != 1 {
			t.Fatalf("%s: sniff record %s: %v", want, fb.Bytes(), err)
		}

		for what, got := range map[string]string{
			"scan versions[].version": sr.Versions[0].Version, "scan ciphers[].version": sr.Ciphers[0].Version,
			"sniff version": fr.Version, "sniff offered_versions[]": fr.OfferedVersions[0],
		} {
			if got != want {
				t.Errorf("0x%04X: %s is %q, want %q", uint16(v), what, got, want)
			}
		}
		if back, err := tls.ParseVersion(sr.Versions[0].Version); err != nil || back != v {
			t.Errorf("0x%04X: %q parses to 0x%04X, %v", uint16(v), sr.Versions[0].Version, uint16(back), err)
		}
	}
}

// TestSniffDraftSpelling: a draft is spelt as tls.Version spells it and
// sorts between TLS 1.3 and TLS 1.2 in the tables' version order.
func TestSniffDraftSpelling(t *testing.T) {
	flow := &sniff.Flow{
		Client: netip.MustParseAddrPort("192.0.2.9:50000"), Server: netip.MustParseAddrPort("192.0.2.1:443"),
		ClientHello: []byte{1}, OfferedVersions: []tls.Version{0x0304, 0x7F1C, 0x7F17, 0x0303}, Version: 0x7F17,
	}
	r := NewFlowRecord(flow, "")
	if r.Version != "TLSv1.3-draft-23" || r.Version != tls.Version(0x7F17).String() {
		t.Errorf("version %q", r.Version)
	}
	names := []string{"none", "TLSv1.2", "TLSv1.3-draft-23", "0x1234", "TLSv1.3", "TLSv1.3-draft-28", "SSLv3"}
	want := []string{"TLSv1.3", "TLSv1.3-draft-28", "TLSv1.3-draft-23", "TLSv1.2", "SSLv3", "0x1234", "none"}
	slices.SortFunc(names, versionsDesc)
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("sorted %q, want %q", names, want)
		}
	}
}
