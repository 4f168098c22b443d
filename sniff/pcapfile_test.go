package sniff

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/tlsmap/tlsmap/internal/pcaptest"
)

// openFiles is OpenFiles for a test.
func openFiles(t testing.TB, names ...string) *FileSource {
	t.Helper()
	s, err := OpenFiles(nil, names...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads a source to its end, collecting packets (copied) and the
// errors it reported on the way.
func readAll(t testing.TB, src PacketSource) (pkts [][]byte, cis []gopacket.CaptureInfo, lts []layers.LinkType, errs []error) {
	t.Helper()
	for i := 0; i < 1e7; i++ {
		data, ci, lt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			errs = append(errs, err)
			if len(errs) > 1000 {
				t.Fatalf("more than 1000 errors: %v", errs[:3])
			}
			continue
		}
		pkts = append(pkts, bytes.Clone(data))
		cis = append(cis, ci)
		lts = append(lts, lt)
	}
	t.Fatal("source never ended")
	return
}

// TestReadersAgreeWithPcapgo reads every capture of the repository with
// our readers and with gopacket's pcapgo (through internal/pcaptest):
// the same packets, times and link types.
func TestReadersAgreeWithPcapgo(t *testing.T) {
	pub, caps := publicCaptures(t)
	var paths []string
	for _, c := range caps {
		paths = append(paths, filepath.Join(pub, c))
	}
	own, _ := filepath.Glob(filepath.Join("..", "testdata", "captures", "*.pcap*"))
	paths = append(paths, own...)
	for _, path := range paths {
		want, err := pcaptest.ReadPackets(path)
		if err != nil {
			t.Fatalf("pcapgo: %v", err)
		}
		pkts, cis, lts, errs := readAll(t, openFiles(t, path))
		if len(errs) > 0 {
			t.Errorf("%s: %v", path, errs)
		}
		if len(pkts) != len(want) {
			t.Errorf("%s: %d packets, pcapgo %d", path, len(pkts), len(want))
			continue
		}
		for i, w := range want {
			if !bytes.Equal(pkts[i], w.Data) || !cis[i].Timestamp.Equal(w.Time) || lts[i] != w.LinkType {
				t.Errorf("%s: packet %d: %d bytes at %v (link type %d), pcapgo %d bytes at %v (%d)", path, i+1, len(pkts[i]), cis[i].Timestamp, lts[i], len(w.Data), w.Time, w.LinkType)
				break
			}
		}
	}
}

// testPackets are frames for hand-made captures: n TCP frames of
// different sizes.
func testPackets(t *testing.T, n int) [][]byte {
	var out [][]byte
	for i := 0; i < n; i++ {
		f, _ := tcpFrame(t, "eth", cliAP, srvAP, uint32(i*1000), 1, "PA", bytes.Repeat([]byte{byte(i)}, 40+i*7))
		out = append(out, f)
	}
	return out
}

var testEpoch = time.Unix(1700000000, 123456000).UTC()

func writePcap(t *testing.T, frames [][]byte) []byte {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: testEpoch.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func writePcapng(t *testing.T, frames [][]byte) []byte {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: testEpoch.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	return b.Bytes()
}

// ngBlocks returns the offsets of a little-endian pcapng file's blocks.
func ngBlocks(b []byte) []int {
	var offs []int
	for off := 0; off+8 <= len(b); off += int(binary.LittleEndian.Uint32(b[off+4:])) {
		offs = append(offs, off)
	}
	return offs
}

// pcapRecords returns the offsets of a pcap file's records.
func pcapRecords(b []byte) []int {
	var offs []int
	for off := 24; off+16 <= len(b); off += 16 + int(binary.LittleEndian.Uint32(b[off+8:])) {
		offs = append(offs, off)
	}
	return offs
}

func source(t *testing.T, b []byte) *FileSource {
	t.Helper()
	s, err := NewReaderSource(bytes.NewReader(b), "x")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCorruptBlocks damages one record of a capture in the ways a disk or
// a copy does and requires the reader to skip exactly that record, say
// so, and read every other.
func TestCorruptBlocks(t *testing.T) {
	frames := testPackets(t, 12)
	ng := writePcapng(t, frames)
	pc := writePcap(t, frames)
	nb, pr := ngBlocks(ng), pcapRecords(pc)
	// nb: SHB, IDB, then one EPB per frame; pr: one record per frame.
	if len(nb) != 2+len(frames) || len(pr) != len(frames) {
		t.Fatalf("%d blocks, %d records", len(nb), len(pr))
	}
	damage := func(b []byte, off int, f func([]byte)) []byte {
		b = bytes.Clone(b)
		f(b[off:])
		return b
	}
	cases := []struct {
		name    string
		file    []byte
		lost    int // index of the frame that is lost
		errText string
	}{
		{"pcapng trailing length", damage(ng, nb[2+5], func(b []byte) {
			n := binary.LittleEndian.Uint32(b[4:])
			binary.LittleEndian.PutUint32(b[n-4:], n+8)
		}), 5, "block length"},
		{"pcapng leading length", damage(ng, nb[2+3], func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 7) }), 3, "bad block length 7"},
		{"pcapng interface", damage(ng, nb[2+7], func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 9) }), 7, "interface 9"},
		{"pcapng zeroed block", damage(ng, nb[2+4], func(b []byte) { clear(b[:16]) }), 4, "bad block length 0"},
		{"pcap record length", damage(pc, pr[6], func(b []byte) { binary.LittleEndian.PutUint32(b[8:], 1<<30) }), 6, "bad record header"},
		{"pcap fraction", damage(pc, pr[2], func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 2e6) }), 2, "bad record header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkts, _, _, errs := readAll(t, source(t, c.file))
			if len(errs) != 1 || !errors.Is(errs[0], ErrCorruptBlock) || !strings.Contains(errs[0].Error(), c.errText) {
				t.Fatalf("errors %v, want one ErrCorruptBlock naming %q", errs, c.errText)
			}
			var want [][]byte
			for i, f := range frames {
				if i != c.lost {
					want = append(want, f)
				}
			}
			if len(pkts) != len(want) {
				t.Fatalf("%d packets read, want %d", len(pkts), len(want))
			}
			for i := range want {
				if !bytes.Equal(pkts[i], want[i]) {
					t.Fatalf("packet %d differs", i)
				}
			}
		})
	}
}

// TestTruncatedFiles cuts a capture inside its last record: every
// complete packet is read, then ErrTruncatedCapture.
func TestTruncatedFiles(t *testing.T) {
	frames := testPackets(t, 5)
	for name, b := range map[string][]byte{"pcap": writePcap(t, frames), "pcapng": writePcapng(t, frames)} {
		for _, cut := range []int{1, 10, 30} {
			pkts, _, _, errs := readAll(t, source(t, b[:len(b)-cut]))
			if len(pkts) != 4 || len(errs) != 1 || !errors.Is(errs[0], ErrTruncatedCapture) {
				t.Errorf("%s cut by %d: %d packets, errors %v; want 4 and one ErrTruncatedCapture", name, cut, len(pkts), errs)
			}
		}
	}
}

// TestZeroBombs reads files that are a valid header followed by many
// megabytes of zeros (gzip-compressed, as a hostile capture would be): the
// reader gives up after a bounded search with ErrCorruptCapture instead of
// counting billions of empty records.
func TestZeroBombs(t *testing.T) {
	frames := testPackets(t, 3)
	for name, head := range map[string][]byte{"pcap": writePcap(t, frames), "pcapng": writePcapng(t, frames)} {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(head)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 64; i++ { // 64 MiB of zeros, a 64 KiB file
			zw.Write(zeros)
		}
		zw.Close()
		start := time.Now()
		pkts, _, _, errs := readAll(t, source(t, gz.Bytes()))
		// pcap: a zero record header is a valid empty record, and the
		// first maxEmptyRun of them are believed (and counted as empty).
		want := 3
		if name == "pcap" {
			want += maxEmptyRun
		}
		if len(pkts) != want || len(errs) != 1 || !errors.Is(errs[0], ErrCorruptCapture) {
			t.Errorf("%s: %d packets, errors %v; want %d and one ErrCorruptCapture", name, len(pkts), errs, want)
		}
		t.Logf("%s: %v: %v", name, time.Since(start), errs)
	}
}

// TestCorruptThenGood: damage in the first of two files loses only that
// file's rest; the second is read.
func TestCorruptCaptureThenNextFile(t *testing.T) {
	frames := testPackets(t, 4)
	dir := t.TempDir()
	bad := writePcap(t, frames)
	bad = append(bad[:pcapRecords(bad)[2]], make([]byte, maxResync+100)...)
	os.WriteFile(filepath.Join(dir, "a.pcap"), bad, 0o644)
	os.WriteFile(filepath.Join(dir, "b.pcapng"), writePcapng(t, frames), 0o644)
	pkts, _, _, errs := readAll(t, openFiles(t, filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcapng")))
	if len(pkts) != 6+maxEmptyRun || len(errs) != 1 || !errors.Is(errs[0], ErrCorruptCapture) || !strings.Contains(errs[0].Error(), "a.pcap") {
		t.Errorf("%d packets, errors %v; want 2+%d empty+4 and one ErrCorruptCapture naming a.pcap", len(pkts), errs, maxEmptyRun)
	}
}

// TestRunCountsDamage: the Sniffer counts what the source reported.
func TestRunCountsDamage(t *testing.T) {
	frames := testPackets(t, 6)
	ng := writePcapng(t, frames)
	nb := ngBlocks(ng)
	binary.LittleEndian.PutUint32(ng[nb[3]+4:], 5)
	s := New(Config{}, nil)
	if err := s.Run(t.Context(), source(t, ng[:len(ng)-3])); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.CorruptBlocks != 1 || st.Truncated != 1 || len(st.Warnings) != 2 || st.Packets != 4 {
		t.Errorf("corrupt %d, truncated %d, %d packets, warnings %q", st.CorruptBlocks, st.Truncated, st.Packets, st.Warnings)
	}
}

// TestUnknownLinkType: a capture of a link type the sniffer does not
// decode has its frames counted under that link type, and a warning.
func TestUnknownLinkType(t *testing.T) {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	w.WriteFileHeader(65535, layers.LinkType(147))
	for i := 0; i < 7; i++ {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: testEpoch, CaptureLength: 20, Length: 20}, make([]byte, 20))
	}
	s := New(Config{}, nil)
	if err := s.Run(t.Context(), source(t, b.Bytes())); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	k := Skip{Kind: SkipLinkType, Code: 147}
	if st.NotDecoded[k] != 7 || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "link type 147") {
		t.Errorf("not decoded %v, warnings %q", st.NotDecoded, st.Warnings)
	}
}

// TestTimestampResolutions: pcapng if_tsresol in powers of 10 and of 2,
// and if_tsoffset.
func TestTimestampResolutions(t *testing.T) {
	for _, c := range []struct {
		resol  uint8
		offset int64
		ts     uint64
		want   time.Time
	}{
		{6, 0, 1700000000_123456, time.Unix(1700000000, 123456000)},
		{9, 0, 1700000000_123456789, time.Unix(1700000000, 123456789)},
		{3, 10, 1700000000_123, time.Unix(1700000010, 123000000)},
		{0x80 | 10, 0, 1700000000<<10 | 512, time.Unix(1700000000, 500000000)},
	} {
		iface := ngInterface{unitsPerSec: tsUnits(c.resol), offset: c.offset}
		if got := iface.time(c.ts); !got.Equal(c.want) {
			t.Errorf("resol %#x: %v, want %v", c.resol, got, c.want.UTC())
		}
	}
	if tsUnits(20) != 0 || tsUnits(0x80|64) != 0 {
		t.Error("overflowing resolutions accepted")
	}
}

// FuzzCaptureFile reads random files: no panic, an end is reached, and
// every packet fits its capture info.
func FuzzCaptureFile(f *testing.F) {
	requireSeeds(f, "FuzzCaptureFile")
	f.Fuzz(func(t *testing.T, b []byte) {
		src, err := NewReaderSource(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		for i := 0; ; i++ {
			if i > len(b)+10 {
				t.Fatalf("more records than bytes")
			}
			data, ci, _, err := src.ReadPacket()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrCorruptBlock) && !errors.Is(err, ErrCorruptCapture) && !errors.Is(err, ErrTruncatedCapture) {
					t.Fatalf("unexpected error %v", err)
				}
				continue
			}
			if len(data) != ci.CaptureLength || ci.Length < ci.CaptureLength {
				t.Fatalf("%d bytes, capture info %+v", len(data), ci)
			}
		}
	})
}

// TestWriteCaptureSeeds writes the FuzzCaptureFile seeds
// (SNIFF_WRITE_SEEDS=1).
func TestWriteCaptureSeeds(t *testing.T) {
	if os.Getenv("SNIFF_WRITE_SEEDS") == "" {
		t.Skip("set SNIFF_WRITE_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	frames := testPackets(t, 3)
	ng, pc := writePcapng(t, frames), writePcap(t, frames)
	bad := bytes.Clone(ng)
	binary.LittleEndian.PutUint32(bad[ngBlocks(bad)[3]+4:], 13)
	seeds := [][]byte{ng, pc, bad, pc[:len(pc)-5], ng[:60]}
	dir := filepath.Join("testdata", "fuzz", "FuzzCaptureFile")
	os.MkdirAll(dir, 0o755)
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
