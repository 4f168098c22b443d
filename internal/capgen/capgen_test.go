package capgen

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

var testdata = filepath.Join("..", "..", "testdata")

func read(t *testing.T, name string) []Frame {
	t.Helper()
	fs, err := ReadPcap(filepath.Join(testdata, "captures", name))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestCommittedCaptures regenerates every derived capture from the real
// ones and requires the committed files to be exactly that: they are what
// scripts/make-captures.sh makes, nothing edited by hand. (zeros.pcap.gz is
// compared inflated, its packets and the start of its zeros: compressing
// 256 MiB again would make the test slow.)
func TestCommittedCaptures(t *testing.T) {
	tlsFs, quicFs := read(t, "openssl.pcap"), read(t, "quic.pcap")
	for _, tc := range []struct {
		path string
		gen  func(io.Writer) error
	}{
		{"captures/pppoe.pcap", func(w io.Writer) error {
			fs, err := Encap(tlsFs, PPPoE)
			if err != nil {
				return err
			}
			return WritePcap(w, 1, fs)
		}},
		{"captures/mpls.pcap", func(w io.Writer) error {
			fs, err := Encap(tlsFs, MPLS)
			if err != nil {
				return err
			}
			return WritePcap(w, 1, fs)
		}},
		{"hostile/coverage.pcapng", func(w io.Writer) error { _, err := Coverage(w, tlsFs, quicFs, CutAt); return err }},
		{"hostile/linktype147.pcap", func(w io.Writer) error { return UnknownLinkType(w, tlsFs) }},
		{"hostile/corrupt.pcapng", func(w io.Writer) error { return CorruptBlock(w, tlsFs, CorruptFrame) }},
		{"hostile/reordered.pcap", func(w io.Writer) error { return Reordered(w, tlsFs, ReorderedConns) }},
	} {
		var b bytes.Buffer
		if err := tc.gen(&b); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		committed, err := os.ReadFile(filepath.Join(testdata, tc.path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), committed) {
			t.Errorf("testdata/%s differs from what capgen makes (%d bytes, committed %d): rerun scripts/make-captures.sh", tc.path, b.Len(), len(committed))
		}
	}
	// zeros.pcap.gz: the packets, then zeros.
	var head bytes.Buffer
	if err := WritePcap(&head, 1, retimed(tlsFs)); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(testdata, "hostile", "zeros.pcap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, head.Len()+1<<20)
	if _, err := io.ReadFull(zr, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:head.Len()], head.Bytes()) || slices.ContainsFunc(got[head.Len():], func(c byte) bool { return c != 0 }) {
		t.Error("zeros.pcap.gz is not the packets followed by zeros")
	}
}

func retimed(fs []Frame) []Frame {
	fs = append([]Frame(nil), fs...)
	retime(fs)
	return fs
}

// TestTsharkDecodesEncapsulations: Wireshark's dissectors, which share
// no code with tlsmap, find in pppoe.pcap and mpls.pcap the same
// ClientHellos (client, server, SNI) and ServerHellos (cipher) as in the
// capture they were made from.
func TestTsharkDecodesEncapsulations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark; skipped in -short mode")
	}
	tshark := testenv.NeedProgram(t, "tshark")
	dump := func(name string) []string {
		out, err := exec.Command(tshark, "-n", "-r", filepath.Join(testdata, "captures", name), "-Y", "tls.handshake.type == 1 || tls.handshake.type == 2",
			"-T", "fields", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "tcp.dstport",
			"-e", "tls.handshake.type", "-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.ciphersuite", "-e", "pppoe.session_id", "-e", "mpls.label").Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", name, err)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	strip := func(lines []string, keep int) []string {
		var out []string
		for _, l := range lines {
			f := strings.Split(l, "\t")
			out = append(out, strings.Join(f[:keep], "\t"))
		}
		return out
	}
	want := strip(dump("openssl.pcap"), 7)
	if len(want) != 8 {
		t.Fatalf("tshark finds %d hellos in openssl.pcap, want 8:\n%s", len(want), strings.Join(want, "\n"))
	}
	for _, name := range []string{"pppoe.pcap", "mpls.pcap"} {
		lines := dump(name)
		if got := strip(lines, 7); !slices.Equal(got, want) {
			t.Errorf("%s: tshark finds\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, l := range lines {
			f := strings.Split(l, "\t")
			if name == "pppoe.pcap" && f[7] != "0x1234" || name == "mpls.pcap" && f[8] != "16,1000" {
				t.Errorf("%s: tshark did not decode the encapsulation: %q", name, l)
			}
		}
	}
}
