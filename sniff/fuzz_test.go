package sniff

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// requireSeeds fails when a committed seed corpus is missing or empty: a
// fuzz test whose corpus vanished would otherwise test nothing.
func requireSeeds(f *testing.F, name string) {
	f.Helper()
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if len(seeds) == 0 {
		f.Fatalf("no seed corpus in testdata/fuzz/%s", name)
	}
}

// FuzzPacket feeds random packets (link type chosen by the first byte)
// through one Sniffer: no panic, and buffering stays within its bounds.
func FuzzPacket(f *testing.F) {
	requireSeeds(f, "FuzzPacket")
	lts := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypePPP, layers.LinkTypePPPEthernet}
	s := New(Config{MaxFlows: 64, MaxBuffer: 8 << 10, MaxMemory: 1 << 20, ProxyProtocol: true, HTTPForwarded: true, TLSHeader: "X-SSL-Protocol"},
		func(f *Flow) { Observations(f, "") })
	ts := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, lt uint8, data []byte) {
		ts = ts.Add(time.Millisecond)
		s.Packet(data, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, lts[int(lt)%len(lts)])
		st := s.Stats()
		if st.FlowsActive > 64 || st.Buffered > 1<<20+2*(8<<10) || st.Buffered < 0 {
			t.Fatalf("bounds broken: %+v", st)
		}
		// Every packet is counted once.
		sum := st.Decoded + st.UDP + st.Fragments
		for _, n := range st.NotDecoded {
			sum += n
		}
		if sum != st.Packets || len(st.NotDecoded) > maxSkipReasons+1 {
			t.Fatalf("%d packets, %d accounted for: %+v", st.Packets, sum, st)
		}
	})
}

// FuzzStream plays random client and server bytes as one TCP connection,
// in segments whose sizes come from the input.
func FuzzStream(f *testing.F) {
	requireSeeds(f, "FuzzStream")
	f.Fuzz(func(t *testing.T, c2s, s2c []byte, mss uint8) {
		m := int(mss)%200 + 1
		c := newConv(t, "raw", cliAP, srvAP)
		c.handshake()
		for len(c2s) > 0 || len(s2c) > 0 {
			n := min(m, len(c2s))
			c.send(true, c2s[:n], m)
			c2s = c2s[n:]
			n = min(m, len(s2c))
			c.send(false, s2c[:n], m)
			s2c = s2c[n:]
		}
		flows, s := run(t, Config{MaxBuffer: 16 << 10, ProxyProtocol: true, HTTPForwarded: true, TLSHeader: "X-SSL-Protocol"}, c.lt, c.pkts)
		if len(flows) > 1 {
			t.Fatalf("%d flows from one connection", len(flows))
		}
		for _, f := range flows {
			obs := Observations(f, "")
			if f.HasEvidence() != (len(obs) > 0) && !(len(f.Requests) == 0 && f.RequestsMore == 0 && f.Proxy != nil && len(obs) > 0) {
				t.Fatalf("evidence %v, %d observations: %+v", f.HasEvidence(), len(obs), f)
			}
			if f.Proxy != nil && f.Client.Addr() == f.Via.Addr() && f.Client.Port() == f.Via.Port() && f.Via.IsValid() {
				t.Fatalf("client via itself: %+v", f)
			}
		}
		if b := s.Stats().Buffered; b != 0 {
			t.Fatalf("%d bytes buffered after Flush", b)
		}
	})
}

// TestWriteSeeds regenerates the seed corpora (SNIFF_WRITE_SEEDS=1).
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("SNIFF_WRITE_SEEDS") == "" {
		t.Skip("set SNIFF_WRITE_SEEDS=1 to rewrite testdata/fuzz seeds")
	}
	write := func(dir string, i int, vals ...string) {
		os.MkdirAll(filepath.Join("testdata", "fuzz", dir), 0o755)
		body := "go test fuzz v1\n"
		for _, v := range vals {
			body += v + "\n"
		}
		if err := os.WriteFile(filepath.Join("testdata", "fuzz", dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ch, sh := testHellos(t, 0)
	i := 0
	for li, enc := range []string{"eth", "raw", "sll", "sll2", "null"} {
		c := newConv(t, enc, cliAP, srvAP)
		c.handshake()
		c.send(true, ch, 1400)
		c.send(false, sh, 1400)
		for _, p := range c.pkts {
			write("FuzzPacket", i, fmt.Sprintf("byte(%d)", li), fmt.Sprintf("[]byte(%q)", p))
			i++
		}
	}
	for _, enc := range []string{"gre", "erspan2", "erspan3", "vxlan", "qinq", "pppoe", "pppoe-vlan", "mpls", "mpls-pw", "gre-mpls", "ipip", "ipip6", "ppp"} {
		c := newConv(t, enc, cli6, srv6)
		c.send(true, ch, 1400)
		lt := 0
		if enc == "ppp" {
			lt = 5
		}
		write("FuzzPacket", i, fmt.Sprintf("byte(%d)", lt), fmt.Sprintf("[]byte(%q)", c.pkts[0]))
		i++
	}
	write("FuzzStream", 0, fmt.Sprintf("[]byte(%q)", ch), fmt.Sprintf("[]byte(%q)", sh), "byte(100)")
	write("FuzzStream", 1, fmt.Sprintf("[]byte(%q)", ch), "[]byte(\"\")", "byte(7)")
	write("FuzzStream", 2, fmt.Sprintf("[]byte(%q)", "EHLO x\r\nSTARTTLS\r\n"+string(ch)), fmt.Sprintf("[]byte(%q)", "220 mx ESMTP\r\n250 ok\r\n220 go ahead\r\n"+string(sh)), "byte(50)")
	write("FuzzStream", 3, "[]byte(\"\\x80\\x2e\\x01\\x03\\x01\")", "[]byte(\"\\x15\\x03\\x03\\x00\\x02\\x02\\x28\")", "byte(3)")
}
