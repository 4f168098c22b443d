package quic

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// knownVersions are every version Known reports true for.
var knownVersions = func() []Version {
	vs := []Version{Version1, Version2}
	for d := Version(0); d < 256; d++ {
		if v := 0xff000000 | d; v.Known() {
			vs = append(vs, v)
		}
	}
	return vs
}()

// TestInitialsAgainstTshark protects a client and a server Initial of
// every version the package knows (the RFC 9001 sample hellos) and asks
// Wireshark's own QUIC dissector, which shares no code with this package,
// to decrypt them: it must find the ClientHello (with its SNI) and the
// ServerHello (with its cipher suite) of each. This checks the salts and
// labels of the drafts, which have no published test vectors.
func TestInitialsAgainstTshark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tshark; skipped in -short mode")
	}
	tshark := testenv.NeedProgram(t, "tshark")
	if len(knownVersions) < 14 {
		t.Fatalf("only %d versions known", len(knownVersions))
	}
	path := filepath.Join(t.TempDir(), "initials.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	frame := func(sport, dport uint16, payload []byte) {
		udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{192, 0, 2, 2}}
		if sport == 443 {
			ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
		}
		udp.SetNetworkLayerForChecksum(ip)
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, udp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		ts = ts.Add(time.Millisecond)
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(buf.Bytes()), Length: len(buf.Bytes())}, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	scid := []byte{0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5}
	for i, v := range knownVersions {
		dcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, byte(i)}
		k, err := NewInitialKeys(v, dcid)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := k.Client.AppendInitial(nil, InitialPacket{Version: v, DCID: dcid, PN: 2, Payload: rfcClientPayload(t)})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := k.Server.AppendInitial(nil, InitialPacket{Version: v, SCID: scid, PN: 1, PNLen: 2, Payload: unhex(t, rfcServerPayload)})
		if err != nil {
			t.Fatal(err)
		}
		port := uint16(40000 + i)
		frame(port, 443, cp)
		frame(443, port, sp)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tshark, "-r", path, "-n", "-T", "fields",
		"-e", "udp.srcport", "-e", "quic.version", "-e", "tls.handshake.type",
		"-e", "tls.handshake.extensions_server_name", "-e", "tls.handshake.ciphersuite")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i, v := range knownVersions {
		port := 40000 + i
		// The client's line lists its offered suites, the server's the
		// chosen one.
		client := fmt.Sprintf("%d\t0x%08x\t1\texample.com\t0x1301,0x1302", port, uint32(v))
		server := fmt.Sprintf("443\t0x%08x\t2\t\t0x1301", uint32(v))
		if len(lines) != 2*len(knownVersions) {
			t.Fatalf("tshark printed %d lines for %d packets", len(lines), 2*len(knownVersions))
		}
		if lines[2*i] != client {
			t.Errorf("%v: tshark read the client Initial as %q, want %q", v, lines[2*i], client)
		}
		if lines[2*i+1] != server {
			t.Errorf("%v: tshark read the server Initial as %q, want %q", v, lines[2*i+1], server)
		}
	}
	if t.Failed() {
		t.Logf("tshark output:\n%s", out)
	}
}
