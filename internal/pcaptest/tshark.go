package pcaptest

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// TsharkRow is one row of a .tshark.tsv dump: one frame that carried a
// ClientHello or ServerHello (tshark's -Y 'tls.handshake.type==1 ||
// tls.handshake.type==2'). tshark prints fields per frame, so every list
// holds the values of all the records and messages dissected in that frame,
// in order, ','-joined in the file. Lists are nil when the column is empty.
type TsharkRow struct {
	Frame     int
	Time      string // frame.time_epoch, as printed
	Src, Dst  netip.AddrPort
	Transport string // "tcp" or "udp"
	// Stream is tcp.stream or udp.stream: tshark's 0-based conversation
	// index in order of first packet.
	Stream int
	// SegmentCount is tcp.segment.count: the number of TCP segments of the
	// reassembled PDU, or 0 when the PDU was not reassembled.
	SegmentCount int

	RecordVersions    []uint16 // tls.record.version, one per record in the frame
	HandshakeTypes    []uint8  // tls.handshake.type, one per message in the frame
	HandshakeVersions []uint16 // tls.handshake.version (hellos only)
	SupportedVersions []uint16 // tls.handshake.extensions.supported_version
	CipherSuites      []uint16 // tls.handshake.ciphersuite
	ExtensionTypes    []uint16 // tls.handshake.extension.type
	SupportedGroups   []uint16 // tls.handshake.extensions_supported_group
	KeyShareGroups    []uint16 // tls.handshake.extensions_key_share_group
	ECPointFormats    []uint8  // tls.handshake.extensions_ec_point_format
	// SigHashAlgs is tls.handshake.sig_hash_alg: it also collects the
	// algorithms of ServerKeyExchange, CertificateRequest and the SCTs of
	// a Certificate dissected in the same frame.
	SigHashAlgs []uint16
	ServerNames []string // tls.handshake.extensions_server_name
	// ALPN is tls.handshake.extensions_alpn_str. tshark prints every byte
	// that is not valid UTF-8 as U+FFFD, and a protocol name containing ','
	// cannot be told apart from two names.
	ALPN []string

	// tshark's own JA3/JA3S (GREASE removed), kept for the fingerprint
	// tests. Empty when tshark printed none.
	JA3Full, JA3, JA3SFull, JA3S string

	// Raw maps every column name to its text as printed.
	Raw map[string]string
}

// LoadTshark reads a .tshark.tsv file (see ParseTshark).
func LoadTshark(path string) ([]TsharkRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pcaptest: %w", err)
	}
	defer f.Close()
	return ParseTshark(f, path)
}

// ParseTshark reads a tshark field dump: '#' comment lines, a header line
// of tshark field names, then one tab-separated row per frame. name is used
// in errors.
func ParseTshark(r io.Reader, name string) ([]TsharkRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var header []string
	var rows []TsharkRow
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || text == "" {
			continue
		}
		cols := strings.Split(text, "\t")
		if header == nil {
			header = cols
			continue
		}
		if len(cols) != len(header) {
			return nil, fmt.Errorf("pcaptest: %s:%d: %d columns, header has %d", name, line, len(cols), len(header))
		}
		raw := make(map[string]string, len(cols))
		for i, h := range header {
			raw[h] = cols[i]
		}
		r, err := parseRow(raw)
		if err != nil {
			return nil, fmt.Errorf("pcaptest: %s:%d: %w", name, line, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("pcaptest: %s: %w", name, err)
	}
	if header == nil {
		return nil, fmt.Errorf("pcaptest: %s: no header line", name)
	}
	return rows, nil
}

// tsharkColumns are the columns parseRow needs; a dump without one of them
// was made with another command and is rejected.
var tsharkColumns = []string{
	"frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "udp.srcport",
	"ip.dst", "ipv6.dst", "tcp.dstport", "udp.dstport", "tcp.stream", "udp.stream",
	"tcp.segment.count", "tls.record.version", "tls.handshake.type", "tls.handshake.version",
	"tls.handshake.extensions.supported_version", "tls.handshake.ciphersuite",
	"tls.handshake.extension.type", "tls.handshake.extensions_supported_group",
	"tls.handshake.extensions_key_share_group", "tls.handshake.extensions_ec_point_format",
	"tls.handshake.sig_hash_alg", "tls.handshake.extensions_server_name",
	"tls.handshake.extensions_alpn_str", "tls.handshake.ja3_full", "tls.handshake.ja3",
	"tls.handshake.ja3s_full", "tls.handshake.ja3s",
}

func parseRow(raw map[string]string) (TsharkRow, error) {
	for _, c := range tsharkColumns {
		if _, ok := raw[c]; !ok {
			return TsharkRow{}, fmt.Errorf("missing column %q", c)
		}
	}
	p := &rowParser{raw: raw}
	r := TsharkRow{Raw: raw, Time: raw["frame.time_epoch"]}
	r.Frame = p.int("frame.number")
	r.Transport = "tcp"
	if raw["tcp.stream"] == "" {
		r.Transport = "udp"
	}
	r.Stream = p.int(r.Transport + ".stream")
	r.SegmentCount = p.int("tcp.segment.count")
	src, dst := p.addr("ip.src", "ipv6.src"), p.addr("ip.dst", "ipv6.dst")
	r.Src = netip.AddrPortFrom(src, uint16(p.int(r.Transport+".srcport")))
	r.Dst = netip.AddrPortFrom(dst, uint16(p.int(r.Transport+".dstport")))

	r.RecordVersions = p.u16s("tls.record.version")
	r.HandshakeTypes = p.u8s("tls.handshake.type")
	r.HandshakeVersions = p.u16s("tls.handshake.version")
	r.SupportedVersions = p.u16s("tls.handshake.extensions.supported_version")
	r.CipherSuites = p.u16s("tls.handshake.ciphersuite")
	r.ExtensionTypes = p.u16s("tls.handshake.extension.type")
	r.SupportedGroups = p.u16s("tls.handshake.extensions_supported_group")
	r.KeyShareGroups = p.u16s("tls.handshake.extensions_key_share_group")
	r.ECPointFormats = p.u8s("tls.handshake.extensions_ec_point_format")
	r.SigHashAlgs = p.u16s("tls.handshake.sig_hash_alg")
	r.ServerNames = p.strs("tls.handshake.extensions_server_name")
	r.ALPN = p.strs("tls.handshake.extensions_alpn_str")
	r.JA3Full, r.JA3 = raw["tls.handshake.ja3_full"], raw["tls.handshake.ja3"]
	r.JA3SFull, r.JA3S = raw["tls.handshake.ja3s_full"], raw["tls.handshake.ja3s"]
	if p.err != nil {
		return TsharkRow{}, p.err
	}
	return r, nil
}

// rowParser converts columns and keeps the first error.
type rowParser struct {
	raw map[string]string
	err error
}

func (p *rowParser) fail(col, v string, err error) {
	if p.err == nil {
		p.err = fmt.Errorf("column %s: %q: %w", col, v, err)
	}
}

// uint parses tshark's integer formats: "0x"-prefixed hex or decimal.
func (p *rowParser) uint(col, v string, bits int) uint64 {
	var n uint64
	var err error
	if h, ok := strings.CutPrefix(v, "0x"); ok {
		n, err = strconv.ParseUint(h, 16, bits)
	} else {
		n, err = strconv.ParseUint(v, 10, bits)
	}
	if err != nil {
		p.fail(col, v, err)
	}
	return n
}

func (p *rowParser) int(col string) int {
	v := p.raw[col]
	if v == "" {
		return 0
	}
	return int(p.uint(col, v, 31))
}

func (p *rowParser) strs(col string) []string {
	v := p.raw[col]
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

func (p *rowParser) u16s(col string) []uint16 {
	var out []uint16
	for _, s := range p.strs(col) {
		out = append(out, uint16(p.uint(col, s, 16)))
	}
	return out
}

func (p *rowParser) u8s(col string) []uint8 {
	var out []uint8
	for _, s := range p.strs(col) {
		out = append(out, uint8(p.uint(col, s, 8)))
	}
	return out
}

func (p *rowParser) addr(v4col, v6col string) netip.Addr {
	col := v4col
	v := p.raw[v4col]
	if v == "" {
		col, v = v6col, p.raw[v6col]
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		p.fail(col, v, err)
	}
	return a
}
