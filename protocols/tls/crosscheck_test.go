package tls_test

// The codec against tshark on real captures.
//
// For every capture under testdata/public that has a tshark dump
// (tshark-crosscheck/<capture>.tshark.tsv, TShark 4.0.17), every TCP
// connection is reassembled by internal/pcaptest and each direction is
// walked with the codec: LooksLikeTLS/LooksLikeSSLv2 find where TLS starts,
// ParseRecord/ParseSSLv2Record delimit the records, the Decoder turns them
// into events, and ParseClientHello, ParseServerHello and
// ParseSSLv2ClientHello decode the hellos. From that the test rebuilds,
// frame by frame, the columns tshark dumped and compares them exactly.
//
// Matching. tshark prints one row per frame that carries a ClientHello or
// ServerHello (-Y 'tls.handshake.type==1 || tls.handshake.type==2'), with
// the values of everything dissected in that frame ','-joined: all record
// versions, all handshake types, the fields of every hello. So rows are
// matched by frame number (and then tcp.stream and the endpoints must
// agree too), and the codec's side of a row is built the same way: from the
// records that complete in that frame, in stream order. A record completes
// in the frame after which all of its bytes had been captured
// (pcaptest.Stream.Ready): the frame tshark names for a PDU it reassembled
// from several segments. The decoder is fed one whole record at a time,
// which is tshark's dissection unit (a handshake message is dissected when
// the record holding its end is complete). Every TCP row must be matched by
// exactly one codec row and vice versa, and every column must be equal.
//
// tshark quirks handled here, on purpose:
//
//   - QUIC. Rows whose transport is UDP are QUIC Initials (out of scope);
//     they are counted and skipped.
//   - STARTTLS. tshark dissects TLS after the plaintext preamble of SMTP,
//     IMAP, POP3, XMPP, LDAP, MySQL and PostgreSQL. The protocol
//     recognisers are a later issue, so the start of TLS is found here by
//     trying LooksLikeTLS/LooksLikeSSLv2 at offset 0 and then at every
//     offset where a new segment's bytes begin: a peer sends its first TLS
//     record after reading the other side's go-ahead, so it starts a
//     segment. (Segment starts include "after a line ending" for the text
//     protocols and also cover the binary preambles of LDAP, MySQL and
//     PostgreSQL.) A preamble is accepted only in the captures listed in
//     ccPreamble, and each of those must have one.
//   - Odd ports. tshark finds TLS on ports other than 443 (389, 3306, 4433,
//     4443, 5222, 5228, 5432, 8443, 9090, 64132 …) by heuristics and
//     STARTTLS dissectors; the codec is port-blind. On these captures
//     neither side finds TLS the other misses (the set comparison would
//     report it), except for the out-of-order case below.
//   - Out-of-order segments. tshark 4.0 does not reassemble them by
//     default (tcp.reassemble_out_of_order is off), so in hrr.pcap it never
//     dissects the real ServerHello, whose segment (frame 11) arrives after
//     the segment that follows it (frame 9). pcaptest reassembles them; the
//     row tshark prints with -o tcp.reassemble_out_of_order:TRUE is in
//     ccTsharkAddenda. (With that option no other row of any dump changes.)
//   - SSLv2. tshark's filter also matches an SSLv2 CLIENT-MASTER-KEY,
//     because tshark puts SSLv2 message types in tls.handshake.type and
//     CLIENT-MASTER-KEY is 2 (ssl-v2.pcap frame 8). The codec side lists
//     the message type of every plaintext SSLv2 record (EventSSLv2), so
//     that row matches; it is counted apart from the hellos. SSLv2 records
//     after CLIENT-MASTER-KEY (client) and SERVER-HELLO (server) are
//     encrypted and have no message type. tshark prints 0x0002 as the
//     record version of an SSLv2 record, and puts SSLv2 cipher specs in
//     tls.handshake.cipherspec, not tls.handshake.ciphersuite, so an SSLv2
//     hello adds no cipher suites to its row.
//   - HelloRetryRequest. tshark 4.0 puts an HRR's selected_group in
//     tls.handshake.extensions_key_share_selected_group, which is not in
//     the dump, so an HRR adds no key-share group to its row; instead
//     ccCheckHRR requires the client's next ClientHello to share exactly
//     that group (RFC 8446 §4.1.4).
//   - sig_hash_alg. In a ClientHello tshark lists, in extension order, the
//     schemes of signature_algorithms (13), delegated_credentials (34, RFC
//     9345 §4.1.1) and signature_algorithms_cert (50); the codec decodes
//     only 13, so this test decodes the other two. On the server side the
//     column collects ServerKeyExchange, CertificateRequest and SCT
//     algorithms, so it is compared on ClientHello rows only.
//   - ec_point_formats in a ServerHello are decoded here; the codec's
//     ServerHello keeps that extension raw.
//   - ALPN. tshark prints every byte that is not valid UTF-8 as U+FFFD
//     (tls-non-ascii-alpn.pcapng); the codec's names are converted the same
//     way before comparing.
//   - tcp.segment.count is printed only for a frame that completed a PDU
//     reassembled from several segments; the codec side counts the frames
//     that delivered the bytes of the records completing in the frame, and
//     leaves it out when that is the frame alone.
//
// Disagreements that are understood but not fixed yet are listed in
// ccKnown; each is a codec issue, and an entry that stops occurring fails
// the test so the list cannot go stale.
//
// tshark's JA3/JA3S columns are loaded (pcaptest.TsharkRow) for the
// fingerprint issue but not compared here.

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/internal/pcaptest"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// ccCaptures is the number of captures with a tshark dump. Fewer means test
// data went missing.
const ccCaptures = 56

// ccMaxMessage is the decoder's handshake message cap here: the largest a
// uint24 length allows, so that the whole stream is decoded as tshark
// decodes it. (tls-fragmented-handshake.pcap.gz has a Certificate message
// larger than DefaultMaxMessage.)
const ccMaxMessage = 1<<24 - 1

// ccPreamble lists the captures whose TLS starts after a plaintext
// preamble (STARTTLS and other in-protocol upgrades).
var ccPreamble = map[string]string{
	"arkime/tests/pcap/ldap-ssl.pcap":                          "LDAP StartTLS extended operation",
	"arkime/tests/pcap/mysql-tls.pcap":                         "MySQL greeting and SSL request",
	"arkime/tests/pcap/smtp-starttls.pcap":                     "SMTP STARTTLS",
	"suricata-verify/tests/pgsql/pgsql-upgrade-tls/input.pcap": "PostgreSQL SSLRequest",
	"suricata-verify/tests/smtp-startssl/input.pcap":           "SMTP STARTTLS",
	"zeek/testing/btest/Traces/tls/imap-starttls.pcap":         "IMAP STARTTLS",
	"zeek/testing/btest/Traces/tls/pop3-starttls.pcap":         "POP3 STLS",
	"zeek/testing/btest/Traces/tls/smtp-starttls.pcap":         "SMTP STARTTLS",
	"zeek/testing/btest/Traces/tls/xmpp-starttls.pcap":         "XMPP starttls",
}

// ccTsharkAddenda are rows tshark prints only with an option the committed
// dumps were not made with, as tab-separated columns in the dump's header
// order. See the out-of-order quirk above.
var ccTsharkAddenda = map[string][][]string{
	// tshark -r hrr.pcap -o tcp.reassemble_out_of_order:TRUE -Y 'frame.number==11' -T fields …
	"zeek/testing/btest/Traces/tls/hrr.pcap": {{
		"11", "1556554523.061083000", "64.233.185.139", "", "443", "", "10.192.48.168", "", "63564", "",
		"0", "", "2", "0x0303,0x0303", "2", "0x0303", "0x0304", "0x1302", "51,43", "", "23", "", "", "", "",
		"", "", "771,4866,51-43", "907bf3ecef1c987c889946b737b43de8",
	}},
}

// ccKnown lists disagreements that are understood and accepted for now,
// keyed by "<capture>#<frame>#<what>", where what is a tshark field name,
// "missing" (a tshark row without a codec row), "extra" (the reverse) or
// "decoder"/"record"/"parse" (a codec error in that frame). Each one is a
// codec issue to fix; the reason says which.
var ccKnown = map[string]string{}

// ccRow is the codec's view of one frame, in tshark's columns.
type ccRow struct {
	frame  int
	stream int
	dir    pcaptest.Dir
	src    string // endpoints, as netip.AddrPort strings
	dst    string
	segs   int // tcp.segment.count
	// segFrames are the frames that delivered the records completing in
	// this frame.
	segFrames map[int]bool

	recordVersions    []uint16
	handshakeTypes    []uint8
	helloVersions     []uint16
	supportedVersions []uint16
	cipherSuites      []uint16
	extensionTypes    []uint16
	supportedGroups   []uint16
	keyShareGroups    []uint16
	ecPointFormats    []uint8
	sigHashAlgs       []uint16
	serverNames       []string
	alpn              []string

	clientHellos, serverHellos, hrrs, sslv2Hellos, sslv2Other int
}

// hasHello reports whether tshark's row filter selects the frame.
func (r *ccRow) hasHello() bool {
	return slices.Contains(r.handshakeTypes, 1) || slices.Contains(r.handshakeTypes, 2)
}

// ccTotals counts what was matched.
type ccTotals struct {
	captures, rows, quic, preambles                           int
	clientHellos, serverHellos, hrrs, sslv2Hellos, sslv2Other int
}

func (a *ccTotals) add(b ccTotals) {
	a.captures += b.captures
	a.rows += b.rows
	a.quic += b.quic
	a.preambles += b.preambles
	a.clientHellos += b.clientHellos
	a.serverHellos += b.serverHellos
	a.hrrs += b.hrrs
	a.sslv2Hellos += b.sslv2Hellos
	a.sslv2Other += b.sslv2Other
}

func (a ccTotals) String() string {
	return fmt.Sprintf("%d ClientHellos (%d SSLv2-format) and %d ServerHellos (%d HelloRetryRequests) matched, "+
		"plus %d SSLv2 CLIENT-MASTER-KEY, in %d tshark rows across %d captures (%d QUIC rows skipped, %d directions after a preamble)",
		a.clientHellos+a.sslv2Hellos, a.sslv2Hellos, a.serverHellos, a.hrrs, a.sslv2Other, a.rows, a.captures, a.quic, a.preambles)
}

// ccReporter routes a disagreement either to ccKnown or to t.Errorf.
type ccReporter struct {
	t       *testing.T
	capture string
	mu      *sync.Mutex
	seen    map[string]bool // ccKnown keys that occurred
}

func (r ccReporter) report(frame int, what, format string, args ...any) {
	r.t.Helper()
	msg := fmt.Sprintf(format, args...)
	key := fmt.Sprintf("%s#%d#%s", r.capture, frame, what)
	if why, ok := ccKnown[key]; ok {
		r.mu.Lock()
		r.seen[key] = true
		r.mu.Unlock()
		r.t.Logf("KNOWN CODEC ISSUE frame %d %s: %s [%s]", frame, what, msg, why)
		return
	}
	r.t.Errorf("frame %d %s: %s", frame, what, msg)
}

func TestCrosscheckTshark(t *testing.T) {
	ccs, err := pcaptest.Crosschecks()
	if err != nil {
		t.Fatal(err)
	}
	if len(ccs) != ccCaptures {
		t.Errorf("%d captures with a tshark dump, want %d", len(ccs), ccCaptures)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var total ccTotals
	perSource := map[string]*ccTotals{}
	for _, cc := range ccs {
		t.Run(cc.Name, func(t *testing.T) {
			tot := ccCheckCapture(t, cc, ccReporter{t: t, capture: cc.Name, mu: &mu, seen: seen})
			total.add(tot)
			src, _, _ := strings.Cut(cc.Name, "/")
			if perSource[src] == nil {
				perSource[src] = &ccTotals{}
			}
			perSource[src].add(tot)
		})
	}
	for _, src := range slices.Sorted(maps.Keys(perSource)) {
		t.Logf("%s: %v", src, *perSource[src])
	}
	t.Logf("TOTAL: %v", total)
	for _, k := range slices.Sorted(maps.Keys(ccKnown)) {
		if !seen[k] {
			t.Errorf("known issue %s did not occur (fixed?): remove it from ccKnown", k)
		}
	}
	if total.clientHellos == 0 || total.serverHellos == 0 {
		t.Error("no hellos matched: the harness is broken")
	}
}

// ccLoadTshark loads a dump plus its addenda.
func ccLoadTshark(t *testing.T, cc pcaptest.Crosscheck) []pcaptest.TsharkRow {
	t.Helper()
	rows, err := pcaptest.LoadTshark(cc.TSV)
	if err != nil {
		t.Fatal(err)
	}
	add := ccTsharkAddenda[cc.Name]
	if len(add) == 0 {
		return rows
	}
	f, err := os.Open(cc.TSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var header string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "#") {
			header = sc.Text()
			break
		}
	}
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, cols := range add {
		b.WriteString(strings.Join(cols, "\t") + "\n")
	}
	extra, err := pcaptest.ParseTshark(strings.NewReader(b.String()), cc.Name+" addenda")
	if err != nil {
		t.Fatal(err)
	}
	return append(rows, extra...)
}

// ccCheckCapture walks one capture with the codec and compares it with its
// tshark dump.
func ccCheckCapture(t *testing.T, cc pcaptest.Crosscheck, rep ccReporter) ccTotals {
	tot := ccTotals{captures: 1}
	capt, err := pcaptest.ReadTCP(cc.Capture)
	if err != nil {
		t.Fatal(err)
	}
	codec := map[int]*ccRow{}
	for _, conn := range capt.Conns {
		var hellos [2][]ccHello
		for _, d := range []pcaptest.Dir{pcaptest.ClientToServer, pcaptest.ServerToClient} {
			var pre int
			pre, hellos[d] = ccWalk(rep, conn, d, codec)
			if pre > 0 {
				tot.preambles++
				t.Logf("stream %d %v: TLS starts after a %d-byte preamble", conn.Index, d, pre)
				if _, ok := ccPreamble[cc.Name]; !ok {
					t.Errorf("stream %d %v: TLS starts after %d bytes of preamble, and this capture is not in ccPreamble", conn.Index, d, pre)
				}
			}
		}
		ccCheckHRR(t, conn, hellos[pcaptest.ClientToServer], hellos[pcaptest.ServerToClient])
	}
	if why, ok := ccPreamble[cc.Name]; ok && tot.preambles == 0 {
		t.Errorf("listed in ccPreamble (%s), but TLS starts at offset 0 in every direction", why)
	}

	want := map[int]pcaptest.TsharkRow{}
	for _, r := range ccLoadTshark(t, cc) {
		if r.Transport == "udp" {
			tot.quic++
			continue
		}
		if _, dup := want[r.Frame]; dup {
			t.Errorf("the dump has frame %d twice", r.Frame)
		}
		want[r.Frame] = r
	}
	frames := map[int]bool{}
	for f, r := range codec {
		if r.hasHello() {
			frames[f] = true
		}
	}
	for f := range want {
		frames[f] = true
	}
	for _, f := range slices.Sorted(maps.Keys(frames)) {
		w, inTSV := want[f]
		g := codec[f]
		switch {
		case !inTSV:
			rep.report(f, "extra", "the codec found a hello tshark did not (stream %d %v, handshake types %v)", g.stream, g.dir, g.handshakeTypes)
			continue
		case g == nil || !g.hasHello():
			rep.report(f, "missing", "tshark has a hello the codec did not find (stream %d %v→%v, handshake types %v)", w.Stream, w.Src, w.Dst, w.HandshakeTypes)
			continue
		}
		tot.rows++
		tot.clientHellos += g.clientHellos
		tot.serverHellos += g.serverHellos
		tot.hrrs += g.hrrs
		tot.sslv2Hellos += g.sslv2Hellos
		tot.sslv2Other += g.sslv2Other
		for _, d := range ccCompare(g, w) {
			rep.report(f, d.field, "codec %s, tshark %s", d.codec, d.tshark)
		}
	}
	return tot
}

// ccFindTLS returns the offset where TLS (or SSLv2) starts in s: 0, or the
// first segment start at which the codec recognises a hello or an alert.
func ccFindTLS(s *pcaptest.Stream) (int, bool) {
	for i := range s.Data {
		if i > 0 && s.Frames[i] == s.Frames[i-1] {
			continue
		}
		if tls.LooksLikeTLS(s.Data[i:]) || tls.LooksLikeSSLv2(s.Data[i:]) {
			return i, true
		}
	}
	return 0, false
}

// ccHello is one hello found by ccWalk, for checks across directions.
type ccHello struct {
	frame int
	ch    *tls.ClientHello // or
	sh    *tls.ServerHello
}

// ccWalk decodes one direction of conn and adds what it finds to rows,
// keyed by frame. It returns the length of the plaintext preamble before
// TLS (0 when none, or when the direction has no TLS) and the TLS hellos
// in stream order.
func ccWalk(rep ccReporter, conn *pcaptest.Conn, d pcaptest.Dir, rows map[int]*ccRow) (int, []ccHello) {
	st := conn.Streams[d]
	start, ok := ccFindTLS(st)
	if !ok {
		return 0, nil
	}
	src, dst := conn.Client, conn.Server
	if d == pcaptest.ServerToClient {
		src, dst = dst, src
	}
	row := func(frame int) *ccRow {
		r := rows[frame]
		if r == nil {
			r = &ccRow{frame: frame, stream: conn.Index, dir: d, src: src.String(), dst: dst.String()}
			rows[frame] = r
		}
		return r
	}
	var hellos []ccHello
	data := st.Data
	dec := tls.NewDecoder(ccMaxMessage)
	sslv2 := data[start]&0x80 != 0
	v2First, v2Encrypted := true, false
	for off := start; off < len(data); {
		var n int
		var ver uint16
		var err error
		if sslv2 {
			var payload []byte
			payload, n, err = tls.ParseSSLv2Record(data[off:])
			ver = uint16(tls.VersionSSL20)
			if err == nil && v2First {
				// RFC 5246 Appendix E.2: after an SSLv2-compatible
				// CLIENT-HELLO the client continues in TLS records.
				if len(payload) >= 2 && payload[0] == tls.SSLv2MsgClientHello && payload[1] == 3 {
					sslv2 = false
				}
				v2First = false
			}
		} else {
			var rec tls.Record
			rec, n, err = tls.ParseRecord(data[off:])
			ver = uint16(rec.Version)
		}
		if errors.Is(err, tls.ErrTruncated) {
			break // the capture ends inside a record
		}
		if err != nil {
			rep.report(st.Frames[off], "record", "stream %d %v offset %d: %v", conn.Index, d, off, err)
			break
		}
		end := off + n
		frame := st.Ready[end-1]
		r := row(frame)
		for _, f := range st.Frames[off:end] {
			if r.segFrames == nil {
				r.segFrames = map[int]bool{}
			}
			r.segFrames[f] = true
		}
		if len(r.segFrames) > 1 {
			r.segs = len(r.segFrames)
		}
		r.recordVersions = append(r.recordVersions, ver)
		_, _ = dec.Write(data[off:end]) // an error comes out of Next, after the events before it
		for {
			ev, err := dec.Next()
			if errors.Is(err, tls.ErrNeedMore) {
				break
			}
			if err != nil {
				rep.report(frame, "decoder", "stream %d %v: %v", conn.Index, d, err)
				return start, hellos
			}
			switch ev.Kind {
			case tls.EventHandshake:
				r.handshakeTypes = append(r.handshakeTypes, uint8(ev.HandshakeType))
				switch ev.HandshakeType {
				case tls.TypeClientHello:
					ch, err := tls.ParseClientHello(ev.Message)
					if err != nil {
						rep.report(frame, "parse", "stream %d %v: %v", conn.Index, d, err)
						continue
					}
					r.addClientHello(ch)
					hellos = append(hellos, ccHello{frame: frame, ch: ch})
				case tls.TypeServerHello:
					sh, err := tls.ParseServerHello(ev.Message)
					if err != nil {
						rep.report(frame, "parse", "stream %d %v: %v", conn.Index, d, err)
						continue
					}
					r.addServerHello(sh)
					hellos = append(hellos, ccHello{frame: frame, sh: sh})
				}
			case tls.EventSSLv2:
				if v2Encrypted || len(ev.Message) == 0 {
					continue
				}
				typ := ev.Message[0]
				r.handshakeTypes = append(r.handshakeTypes, typ)
				switch typ {
				case tls.SSLv2MsgClientHello:
					ch, err := tls.ParseSSLv2ClientHello(ev.Message)
					if err != nil {
						rep.report(frame, "parse", "stream %d %v: %v", conn.Index, d, err)
						continue
					}
					r.sslv2Hellos++
					r.helloVersions = append(r.helloVersions, uint16(ch.Version))
				case tls.SSLv2MsgClientMasterKey:
					r.sslv2Other++
					v2Encrypted = true // what the client sends next is encrypted
				case tls.SSLv2MsgServerHello:
					v2Encrypted = true // SERVER-VERIFY and the rest are encrypted
				}
			}
		}
		off = end
	}
	return start, hellos
}

// ccCheckHRR checks every HelloRetryRequest of a connection against the
// ClientHello that answers it: RFC 8446 §4.1.4 requires exactly one key
// share, for the selected group.
func ccCheckHRR(t *testing.T, conn *pcaptest.Conn, client, server []ccHello) {
	t.Helper()
	for _, h := range server {
		if h.sh == nil || !h.sh.HelloRetryRequest {
			continue
		}
		if h.sh.KeyShareGroup == 0 {
			t.Errorf("stream %d frame %d: HelloRetryRequest without a selected group", conn.Index, h.frame)
			continue
		}
		i := slices.IndexFunc(client, func(c ccHello) bool { return c.frame > h.frame })
		if i < 0 {
			continue // the capture ends before the retry
		}
		if next := client[i].ch; !slices.Equal(next.KeyShareGroups, []uint16{h.sh.KeyShareGroup}) {
			t.Errorf("stream %d frame %d: HelloRetryRequest selects group %#04x, the retry in frame %d shares %#04x",
				conn.Index, h.frame, h.sh.KeyShareGroup, client[i].frame, next.KeyShareGroups)
		}
	}
}

func (r *ccRow) addClientHello(ch *tls.ClientHello) {
	r.clientHellos++
	r.helloVersions = append(r.helloVersions, uint16(ch.Version))
	r.supportedVersions = append(r.supportedVersions, ch.SupportedVersions...)
	r.cipherSuites = append(r.cipherSuites, ch.CipherSuites...)
	for _, e := range ch.Extensions {
		r.extensionTypes = append(r.extensionTypes, e.Type)
		switch e.Type {
		case tls.ExtSignatureAlgorithms:
			r.sigHashAlgs = append(r.sigHashAlgs, ch.SignatureAlgorithms...)
		case tls.ExtSignatureAlgsCert, ccExtDelegatedCredentials:
			r.sigHashAlgs = append(r.sigHashAlgs, ccSchemeList(e.Data)...)
		}
	}
	r.supportedGroups = append(r.supportedGroups, ch.SupportedGroups...)
	r.keyShareGroups = append(r.keyShareGroups, ch.KeyShareGroups...)
	r.ecPointFormats = append(r.ecPointFormats, ch.ECPointFormats...)
	if ch.ServerName != "" {
		r.serverNames = append(r.serverNames, ch.ServerName)
	}
	for _, p := range ch.ALPN {
		r.alpn = append(r.alpn, ccTsharkString(p))
	}
}

// ccExtDelegatedCredentials is delegated_credentials (RFC 9345 §4.1.1).
const ccExtDelegatedCredentials uint16 = 34

// ccSchemeList decodes a SignatureSchemeList (RFC 8446 §4.2.3:
// SignatureScheme supported_signature_algorithms<2..2^16-2>), the body of
// signature_algorithms_cert and delegated_credentials. A malformed list
// gives what could be read, which the comparison then reports.
func ccSchemeList(data []byte) []uint16 {
	s := cryptobyte.String(data)
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) {
		return nil
	}
	var out []uint16
	var v uint16
	for list.ReadUint16(&v) {
		out = append(out, v)
	}
	return out
}

func (r *ccRow) addServerHello(sh *tls.ServerHello) {
	r.serverHellos++
	if sh.HelloRetryRequest {
		r.hrrs++
	}
	r.helloVersions = append(r.helloVersions, uint16(sh.Version))
	if sh.SupportedVersion != 0 {
		r.supportedVersions = append(r.supportedVersions, uint16(sh.SupportedVersion))
	}
	r.cipherSuites = append(r.cipherSuites, sh.CipherSuite)
	for _, e := range sh.Extensions {
		r.extensionTypes = append(r.extensionTypes, e.Type)
		if e.Type == tls.ExtECPointFormats {
			// RFC 8422 §5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>.
			s := cryptobyte.String(e.Data)
			var list cryptobyte.String
			if s.ReadUint8LengthPrefixed(&list) {
				r.ecPointFormats = append(r.ecPointFormats, list...)
			}
		}
	}
	if sh.KeyShareGroup != 0 && !sh.HelloRetryRequest {
		r.keyShareGroups = append(r.keyShareGroups, sh.KeyShareGroup)
	}
	if sh.ALPN != "" {
		r.alpn = append(r.alpn, ccTsharkString(sh.ALPN))
	}
}

// ccTsharkString renders s as tshark prints a string field: every byte
// that is not part of valid UTF-8 becomes U+FFFD.
func ccTsharkString(s string) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		var r rune
		r, w = utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // utf8.RuneError, width 1, for each invalid byte
	}
	return b.String()
}

// ccDiff is one column on which the codec and tshark disagree.
type ccDiff struct {
	field, codec, tshark string
}

// ccCompare compares the codec's row with tshark's, column by column.
func ccCompare(g *ccRow, w pcaptest.TsharkRow) []ccDiff {
	var out []ccDiff
	cmp := func(field string, codec, tshark any) {
		if c, s := fmt.Sprint(codec), fmt.Sprint(tshark); c != s {
			out = append(out, ccDiff{field, c, s})
		}
	}
	hex := func(vs []uint16) []string {
		var out []string
		for _, v := range vs {
			out = append(out, fmt.Sprintf("0x%04x", v))
		}
		return out
	}
	cmp("tcp.stream", g.stream, w.Stream)
	cmp("ip.src", g.src, w.Src)
	cmp("ip.dst", g.dst, w.Dst)
	cmp("tcp.segment.count", g.segs, w.SegmentCount)
	cmp("tls.record.version", hex(g.recordVersions), hex(w.RecordVersions))
	cmp("tls.handshake.type", g.handshakeTypes, w.HandshakeTypes)
	cmp("tls.handshake.version", hex(g.helloVersions), hex(w.HandshakeVersions))
	cmp("tls.handshake.extensions.supported_version", hex(g.supportedVersions), hex(w.SupportedVersions))
	cmp("tls.handshake.ciphersuite", hex(g.cipherSuites), hex(w.CipherSuites))
	cmp("tls.handshake.extension.type", g.extensionTypes, w.ExtensionTypes)
	cmp("tls.handshake.extensions_supported_group", hex(g.supportedGroups), hex(w.SupportedGroups))
	cmp("tls.handshake.extensions_key_share_group", g.keyShareGroups, w.KeyShareGroups)
	cmp("tls.handshake.extensions_ec_point_format", g.ecPointFormats, w.ECPointFormats)
	if g.clientHellos > 0 {
		cmp("tls.handshake.sig_hash_alg", hex(g.sigHashAlgs), hex(w.SigHashAlgs))
	}
	cmp("tls.handshake.extensions_server_name", fmt.Sprintf("%q", g.serverNames), fmt.Sprintf("%q", w.ServerNames))
	cmp("tls.handshake.extensions_alpn_str", fmt.Sprintf("%q", g.alpn), fmt.Sprintf("%q", w.ALPN))
	return out
}
