package pcaptest

import (
	"testing"
)

// tsharkTCPStreams is the number of TCP conversations tshark 4.0.17 finds in
// each capture, from
//
//	tshark -r <capture> -T fields -e tcp.stream | sort -un | grep -c .
//
// (captures with only QUIC have 0). With the first frame of every stream, it
// was compared once by hand against this package: identical for all 56.
var tsharkTCPStreams = map[string]int{
	"arkime/tests/pcap/ldap-ssl.pcap":                                            1,
	"arkime/tests/pcap/mysql-tls.pcap":                                           1,
	"arkime/tests/pcap/openssl-ssl3.pcap":                                        1,
	"arkime/tests/pcap/openssl-tls1.pcap":                                        1,
	"arkime/tests/pcap/openssl-tls1_1.pcap":                                      1,
	"arkime/tests/pcap/openssl-tls1_2-tls1.pcap":                                 1,
	"arkime/tests/pcap/quicietf.pcap":                                            0,
	"arkime/tests/pcap/smtp-starttls.pcap":                                       1,
	"arkime/tests/pcap/ssl-selfsign.pcap":                                        1,
	"arkime/tests/pcap/tls-client-sessionid.pcap":                                1,
	"arkime/tests/pcap/tls-split-client-hello.pcap":                              1,
	"arkime/tests/pcap/tls13.pcap":                                               1,
	"foxio-ja4/pcap/CVE-2018-6794.pcap":                                          3,
	"foxio-ja4/pcap/badcurveball.pcap":                                           1,
	"foxio-ja4/pcap/browsers-x509.pcapng":                                        3,
	"foxio-ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng":                  1,
	"foxio-ja4/pcap/https3-301-get.pcap":                                         1,
	"foxio-ja4/pcap/ipv6.pcapng":                                                 1,
	"foxio-ja4/pcap/latest.pcapng":                                               11,
	"foxio-ja4/pcap/quic-tls-handshake.pcapng":                                   0,
	"foxio-ja4/pcap/single-packets.pcap":                                         9,
	"foxio-ja4/pcap/tls-handshake.pcapng":                                        59,
	"foxio-ja4/pcap/tls-non-ascii-alpn.pcapng":                                   1,
	"foxio-ja4/pcap/tls12.pcap":                                                  1,
	"foxio-ja4/pcap/tls3.pcapng":                                                 26,
	"suricata-verify/tests/bug-5713-01/TLSv1-Extracted-MaliciousC2.pcap":         1,
	"suricata-verify/tests/bug-7264-tcp-3whs-ack-data-tls-01/input.pcap":         1,
	"suricata-verify/tests/ja4-cl-handshake/input.pcap":                          1,
	"suricata-verify/tests/ja4-tls-quic/input.pcap":                              1,
	"suricata-verify/tests/ja4-tls/input.pcap":                                   1,
	"suricata-verify/tests/pgsql/pgsql-upgrade-tls/input.pcap":                   2,
	"suricata-verify/tests/smtp-startssl/input.pcap":                             1,
	"suricata-verify/tests/sslv2-tls-upgrade-01/ssl-v2-s1.pcap":                  1,
	"suricata-verify/tests/tls-duplicate-hello/input.pcap":                       2,
	"suricata-verify/tests/tls/tls-certs-alert/input.pcap":                       1,
	"suricata-verify/tests/tls/tls-client-hello-frag-01/dump_mtu300.pcap":        1,
	"suricata-verify/tests/tls/tls13-draft28/tls13_draft28.pcap":                 2,
	"zeek/testing/btest/Traces/quic/chromium-115.0.5790.110-api-cirrus-com.pcap": 0,
	"zeek/testing/btest/Traces/tls/chrome-1250-tls-x25519-kyber.pcap":            1,
	"zeek/testing/btest/Traces/tls/dhe.pcap":                                     1,
	"zeek/testing/btest/Traces/tls/ecdhe.pcap":                                   1,
	"zeek/testing/btest/Traces/tls/hrr.pcap":                                     1,
	"zeek/testing/btest/Traces/tls/imap-starttls.pcap":                           1,
	"zeek/testing/btest/Traces/tls/pop3-starttls.pcap":                           1,
	"zeek/testing/btest/Traces/tls/smtp-starttls.pcap":                           1,
	"zeek/testing/btest/Traces/tls/ssl-v2.pcap":                                  1,
	"zeek/testing/btest/Traces/tls/ssl.v3.pcap":                                  3,
	"zeek/testing/btest/Traces/tls/tls-1.2-handshake-failure.pcap":               1,
	"zeek/testing/btest/Traces/tls/tls-1.2-protocol-error.pcap":                  1,
	"zeek/testing/btest/Traces/tls/tls-early-alert.pcap":                         1,
	"zeek/testing/btest/Traces/tls/tls-fragmented-handshake.pcap.gz":             1,
	"zeek/testing/btest/Traces/tls/tls1.2.pcap":                                  1,
	"zeek/testing/btest/Traces/tls/tls13_wolfssl.pcap":                           1,
	"zeek/testing/btest/Traces/tls/tls13draft23-chrome67.0.3368.0-canary.pcap":   2,
	"zeek/testing/btest/Traces/tls/tls1_1.pcap":                                  1,
	"zeek/testing/btest/Traces/tls/xmpp-starttls.pcap":                           1,
}

// TestCorpus reads every committed capture that has a tshark dump and checks
// the harness against tshark's view of it: the number of TCP connections,
// and for every dumped row the connection (tcp.stream is the connection's
// Index), its endpoints, and that a byte run of that direction became
// readable at that frame.
func TestCorpus(t *testing.T) {
	ccs, err := Crosschecks()
	if err != nil {
		t.Fatal(err)
	}
	if len(ccs) != len(tsharkTCPStreams) {
		t.Errorf("%d captures with a tshark dump, want %d", len(ccs), len(tsharkTCPStreams))
	}
	var rowsTCP, rowsUDP int
	for _, cc := range ccs {
		t.Run(cc.Name, func(t *testing.T) {
			want, ok := tsharkTCPStreams[cc.Name]
			if !ok {
				t.Fatalf("no expected stream count")
			}
			capt, err := ReadTCP(cc.Capture)
			if err != nil {
				t.Fatal(err)
			}
			if len(capt.Conns) != want {
				t.Errorf("%d TCP connections, tshark has %d", len(capt.Conns), want)
			}
			rows, err := LoadTshark(cc.TSV)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Transport == "udp" {
					rowsUDP++
					if capt.UDP == 0 {
						t.Errorf("frame %d: a UDP row, but no UDP in the capture", r.Frame)
					}
					continue
				}
				rowsTCP++
				if r.Stream >= len(capt.Conns) {
					t.Errorf("frame %d: tcp.stream %d, only %d connections", r.Frame, r.Stream, len(capt.Conns))
					continue
				}
				cn := capt.Conns[r.Stream]
				var d Dir
				switch {
				case r.Src == cn.Client && r.Dst == cn.Server:
					d = ClientToServer
				case r.Src == cn.Server && r.Dst == cn.Client:
					d = ServerToClient
				default:
					t.Errorf("frame %d: %v→%v is not connection %d (%v, %v)", r.Frame, r.Src, r.Dst, cn.Index, cn.Client, cn.Server)
					continue
				}
				found := false
				for _, ch := range cn.Streams[d].Chunks() {
					found = found || ch.Frame == r.Frame
				}
				if !found {
					t.Errorf("frame %d: no %v bytes of connection %d became readable at this frame", r.Frame, d, cn.Index)
				}
			}
		})
	}
	t.Logf("%d captures; %d TCP rows located, %d UDP (QUIC) rows", len(ccs), rowsTCP, rowsUDP)
	if rowsTCP == 0 {
		t.Error("no TCP rows: the dumps are empty")
	}
}

func TestLoadTshark(t *testing.T) {
	ccs, err := Crosschecks()
	if err != nil {
		t.Fatal(err)
	}
	var cc Crosscheck
	for _, c := range ccs {
		if c.Name == "arkime/tests/pcap/tls-split-client-hello.pcap" {
			cc = c
		}
	}
	if cc.TSV == "" {
		t.Fatal("tls-split-client-hello.pcap has no dump")
	}
	rows, err := LoadTshark(cc.TSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	ch := rows[0]
	if ch.Frame != 5 || ch.Transport != "tcp" || ch.Stream != 0 || ch.SegmentCount != 2 ||
		ch.Src.String() != "10.1.17.215:49927" || ch.Dst.String() != "142.250.114.100:443" {
		t.Errorf("row 0: frame %d %s stream %d segments %d %v→%v", ch.Frame, ch.Transport, ch.Stream, ch.SegmentCount, ch.Src, ch.Dst)
	}
	if len(ch.CipherSuites) != 16 || ch.CipherSuites[0] != 0x1a1a || ch.CipherSuites[15] != 0x0035 {
		t.Errorf("cipher suites %#04x", ch.CipherSuites)
	}
	if len(ch.KeyShareGroups) != 3 || ch.KeyShareGroups[1] != 0x11ec { // printed in decimal: 4588
		t.Errorf("key share groups %v", ch.KeyShareGroups)
	}
	if len(ch.ExtensionTypes) != 18 || ch.ExtensionTypes[5] != 65037 {
		t.Errorf("extension types %v", ch.ExtensionTypes)
	}
	if len(ch.ServerNames) != 1 || ch.ServerNames[0] != "clients2.google.com" ||
		len(ch.ALPN) != 2 || ch.ALPN[0] != "h2" || ch.ALPN[1] != "http/1.1" {
		t.Errorf("sni %q alpn %q", ch.ServerNames, ch.ALPN)
	}
	if ch.JA3 != "35708a08e7be9f7aa5bce7f2d5c1cecb" || ch.JA3Full == "" || ch.JA3S != "" {
		t.Errorf("ja3 %q full %q ja3s %q", ch.JA3, ch.JA3Full, ch.JA3S)
	}
	sh := rows[1]
	if len(sh.RecordVersions) != 2 || len(sh.HandshakeTypes) != 1 || sh.HandshakeTypes[0] != 2 ||
		len(sh.SupportedVersions) != 1 || sh.SupportedVersions[0] != 0x0304 || sh.JA3S != "eb1d94daa7e0344597e756a1fb6e7054" {
		t.Errorf("row 1: %+v", sh)
	}
}
