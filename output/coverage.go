package output

import (
	"cmp"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/sniff"
)

// SniffSummarySchema names the coverage record: what a sniff run read and
// what it could not see (docs/schema/sniff.md).
const SniffSummarySchema = "tlsmap.sniff.summary/1"

// Coverage is what a sniff run saw: its statistics and the gaps in them
// that could hide a handshake (sniff.Stats.Gaps, plus the caller's own,
// such as the kernel's drops of a live capture).
type Coverage struct {
	Stats sniff.Stats
	Gaps  []sniff.Gap
	// KernelDrops are the packets a live capture's kernel dropped.
	KernelDrops uint64
}

// NewCoverage is the coverage of st, with a live capture's kernel drops
// (0 for files) as one more gap.
func NewCoverage(st sniff.Stats, kernelDrops uint64) *Coverage {
	c := &Coverage{Stats: st, Gaps: st.Gaps(), KernelDrops: kernelDrops}
	if kernelDrops > 0 {
		c.Gaps = append(c.Gaps, sniff.Gap{Kind: sniff.GapKernelDrops, Count: kernelDrops})
	}
	return c
}

// Complete reports whether nothing seen could hide a handshake.
func (c *Coverage) Complete() bool { return len(c.Gaps) == 0 }

// SummaryRecord is the JSON shape of the coverage (schema
// tlsmap.sniff.summary/1), the last line of every --format jsonl output.
type SummaryRecord struct {
	Schema  string `json:"schema"` // SniffSummarySchema
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// NotDecoded counts the frames that yielded no TCP or UDP, by reason.
	NotDecoded map[string]uint64 `json:"not_decoded"`
	TCP        TCPSummary        `json:"tcp"`
	UDP        UDPSummary        `json:"udp"`
	Input      InputSummary      `json:"input"`
	// Gaps are what could hide a handshake; Complete is true when there
	// is none.
	Gaps     []GapRecord `json:"gaps"`
	Complete bool        `json:"complete"`
}

// TCPSummary counts the TCP connections by outcome.
type TCPSummary struct {
	Connections      uint64            `json:"connections"`
	TLS              uint64            `json:"tls"`
	TLSAfterProtocol map[string]uint64 `json:"tls_after_protocol"`
	TLSAfterPrefix   uint64            `json:"tls_after_prefix"`
	Plaintext        map[string]uint64 `json:"plaintext"`
	Unknown          uint64            `json:"unknown"`
	// UnknownPorts: the unknown connections by server port, the ten most
	// frequent; the rest under "other".
	UnknownPorts map[string]uint64 `json:"unknown_ports"`
	NoPayload    uint64            `json:"no_payload"`
	MidStream    uint64            `json:"mid_stream"`
	Truncated    uint64            `json:"truncated"`
	TruncatedBy  map[string]uint64 `json:"truncated_by"`
	Evicted      uint64            `json:"evicted"`
}

// UDPSummary counts the UDP flows by outcome.
type UDPSummary struct {
	Flows               uint64            `json:"flows"`
	QUIC                uint64            `json:"quic"`
	QUICConnections     uint64            `json:"quic_connections"`
	QUICUndecryptable   map[string]uint64 `json:"quic_undecryptable"`
	QUICNoClientInitial uint64            `json:"quic_no_client_initial"`
	Other               uint64            `json:"other"`
}

// InputSummary counts the damage of the input.
type InputSummary struct {
	TruncatedFiles   uint64 `json:"truncated_files"`
	CorruptBlocks    uint64 `json:"corrupt_blocks"`
	CorruptFiles     uint64 `json:"corrupt_files"`
	FragmentsDropped uint64 `json:"fragments_dropped"`
	KernelDrops      uint64 `json:"kernel_drops"`
}

// GapRecord is one gap.
type GapRecord struct {
	Kind  string            `json:"kind"`
	Count uint64            `json:"count"`
	By    map[string]uint64 `json:"by"`
}

// topPorts is how many server ports of unknown connections are listed.
const topPorts = 10

// NewSummaryRecord builds the coverage record.
func NewSummaryRecord(c *Coverage) SummaryRecord {
	st := c.Stats
	r := SummaryRecord{Schema: SniffSummarySchema, Packets: st.Packets, Bytes: st.Bytes, NotDecoded: map[string]uint64{},
		Complete: c.Complete(), Gaps: []GapRecord{}}
	for k, n := range st.NotDecoded {
		r.NotDecoded[k.String()] += n
	}
	o := st.TCP
	r.TCP = TCPSummary{Connections: o.Total, TLS: o.TLS, TLSAfterProtocol: nonNilCounts(o.TLSAfter), TLSAfterPrefix: o.TLSAfterPrefix,
		Plaintext: nonNilCounts(o.Plaintext), Unknown: o.Unknown, UnknownPorts: map[string]uint64{}, NoPayload: o.NoPayload,
		MidStream: o.MidStream, Truncated: o.Truncated, TruncatedBy: nonNilCounts(o.TruncatedBy), Evicted: o.Evicted}
	ports := slices.Collect(maps.Keys(o.UnknownPorts))
	slices.SortFunc(ports, func(a, b uint16) int {
		return cmp.Or(cmp.Compare(o.UnknownPorts[b], o.UnknownPorts[a]), cmp.Compare(a, b))
	})
	for i, p := range ports {
		if i < topPorts {
			r.TCP.UnknownPorts[strconv.Itoa(int(p))] = o.UnknownPorts[p]
		} else {
			r.TCP.UnknownPorts["other"] += o.UnknownPorts[p]
		}
	}
	r.UDP = UDPSummary{Flows: st.UDPFlows, QUIC: st.QUICFlowsDecoded, QUICConnections: st.QUICConns,
		QUICUndecryptable: map[string]uint64{}, QUICNoClientInitial: st.QUICFlowsNoClientInitial, Other: st.UDPFlowsOther}
	for v, n := range st.QUICFlowsUndecryptable {
		r.UDP.QUICUndecryptable[fmt.Sprintf("0x%08x", uint32(v))] += n
	}
	r.Input = InputSummary{TruncatedFiles: st.Truncated, CorruptBlocks: st.CorruptBlocks, CorruptFiles: st.CorruptFiles,
		FragmentsDropped: st.FragsDropped, KernelDrops: c.KernelDrops}
	for _, g := range c.Gaps {
		r.Gaps = append(r.Gaps, GapRecord{Kind: g.Kind.String(), Count: g.Count, By: nonNilCounts(g.By)})
	}
	return r
}

func nonNilCounts[K comparable](m map[K]uint64) map[K]uint64 {
	if m == nil {
		return map[K]uint64{}
	}
	return maps.Clone(m)
}

// WriteCoverage writes the coverage after a report: in a table, a
// "Coverage" section; in jsonl, one SummaryRecord; in csv, a footer
// after an empty line — its own header "schema,section,key,count" and one
// row per count (docs/schema/sniff.md).
func WriteCoverage(w io.Writer, f Format, c *Coverage) error {
	switch f {
	case FormatJSONL:
		return newJSONLEncoder(w).Encode(NewSummaryRecord(c))
	case FormatCSV:
		return writeCoverageCSV(w, NewSummaryRecord(c))
	}
	_, err := io.WriteString(w, coverageTable(c))
	return err
}

// writeCoverageCSV writes the footer rows.
func writeCoverageCSV(w io.Writer, r SummaryRecord) error {
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"schema", "section", "key", "count"})
	row := func(section, key string, n uint64) {
		cw.Write([]string{r.Schema, section, key, strconv.FormatUint(n, 10)})
	}
	rows := func(section string, m map[string]uint64) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			row(section, k, m[k])
		}
	}
	row("read", "packets", r.Packets)
	row("read", "bytes", r.Bytes)
	rows("not_decoded", r.NotDecoded)
	t := r.TCP
	for _, kv := range []struct {
		k string
		n uint64
	}{{"connections", t.Connections}, {"tls", t.TLS}, {"tls_after_prefix", t.TLSAfterPrefix}, {"unknown", t.Unknown},
		{"no_payload", t.NoPayload}, {"mid_stream", t.MidStream}, {"truncated", t.Truncated}, {"evicted", t.Evicted}} {
		row("tcp", kv.k, kv.n)
	}
	rows("tcp.tls_after_protocol", t.TLSAfterProtocol)
	rows("tcp.plaintext", t.Plaintext)
	rows("tcp.unknown_ports", t.UnknownPorts)
	rows("tcp.truncated_by", t.TruncatedBy)
	u := r.UDP
	row("udp", "flows", u.Flows)
	row("udp", "quic", u.QUIC)
	row("udp", "quic_connections", u.QUICConnections)
	row("udp", "quic_no_client_initial", u.QUICNoClientInitial)
	row("udp", "other", u.Other)
	rows("udp.quic_undecryptable", u.QUICUndecryptable)
	in := r.Input
	row("input", "truncated_files", in.TruncatedFiles)
	row("input", "corrupt_blocks", in.CorruptBlocks)
	row("input", "corrupt_files", in.CorruptFiles)
	row("input", "fragments_dropped", in.FragmentsDropped)
	row("input", "kernel_drops", in.KernelDrops)
	for _, g := range r.Gaps {
		row("gaps", g.Kind, g.Count)
	}
	complete := uint64(0)
	if r.Complete {
		complete = 1
	}
	row("complete", "complete", complete)
	cw.Flush()
	return cw.Error()
}

// counts renders a count map "a 3, b 1", most first, at most max entries
// (then "+N more").
func counts[K cmp.Ordered](m map[K]uint64, max int, name func(K) string) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b K) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	var parts []string
	for i, k := range keys {
		if max > 0 && i == max {
			parts = append(parts, fmt.Sprintf("+%d more", len(keys)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", name(k), m[k]))
	}
	return strings.Join(parts, ", ")
}

func ident(s string) string { return s }

// coverageTable is the table's Coverage section.
func coverageTable(c *Coverage) string {
	st := c.Stats
	var b strings.Builder
	b.WriteString("\nCoverage\n")
	fmt.Fprintf(&b, "  Read:         %d packets, %d bytes\n", st.Packets, st.Bytes)
	if len(st.NotDecoded) > 0 {
		var n uint64
		byName := map[string]uint64{}
		for k, v := range st.NotDecoded {
			n += v
			name := k.String()
			if k.Harmless() {
				name = "harmless: " + name
			}
			byName[name] += v
		}
		fmt.Fprintf(&b, "  Not decoded:  %d frames: %s\n", n, counts(byName, 6, ident))
	}
	o := st.TCP
	var parts []string
	part := func(n uint64, format string, args ...any) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf(format, args...))
		}
	}
	part(o.TLS, "TLS %d", o.TLS)
	for _, p := range slices.Sorted(maps.Keys(o.TLSAfter)) {
		part(o.TLSAfter[p], "TLS after %s %d", p, o.TLSAfter[p])
	}
	part(o.TLSAfterPrefix, "TLS after an unknown prefix %d", o.TLSAfterPrefix)
	for _, p := range slices.Sorted(maps.Keys(o.Plaintext)) {
		part(o.Plaintext[p], "plaintext %s %d", p, o.Plaintext[p])
	}
	part(o.Unknown, "unknown payload %d (port %s)", o.Unknown, counts(o.UnknownPorts, 3, func(p uint16) string { return strconv.Itoa(int(p)) }))
	part(o.NoPayload, "no payload %d", o.NoPayload)
	part(o.MidStream, "started mid-stream %d", o.MidStream)
	part(o.Truncated, "truncated %d (%s)", o.Truncated, counts(o.TruncatedBy, 0, ident))
	part(o.Evicted, "evicted %d", o.Evicted)
	fmt.Fprintf(&b, "  TCP:          %d %s", o.Total, snPlural(int(o.Total), "connection", "connections"))
	if len(parts) > 0 {
		b.WriteString(": " + strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	if st.UDPFlows > 0 {
		parts = nil
		part(st.QUICFlowsDecoded, "QUIC %d (%d %s)", st.QUICFlowsDecoded, st.QUICConns, snPlural(int(st.QUICConns), "connection", "connections"))
		var qu uint64
		byV := map[string]uint64{}
		for v, n := range st.QUICFlowsUndecryptable {
			qu += n
			byV[fmt.Sprintf("0x%08x", uint32(v))] += n
		}
		part(qu, "QUIC not decryptable %d (version %s)", qu, counts(byV, 3, ident))
		part(st.QUICFlowsNoClientInitial, "QUIC without a client Initial %d", st.QUICFlowsNoClientInitial)
		part(st.UDPFlowsOther, "other %d", st.UDPFlowsOther)
		fmt.Fprintf(&b, "  UDP:          %d %s: %s\n", st.UDPFlows, snPlural(int(st.UDPFlows), "flow", "flows"), strings.Join(parts, ", "))
	}
	if len(c.Gaps) == 0 {
		b.WriteString("  Complete:     nothing seen could hide a handshake\n")
	} else {
		fmt.Fprintf(&b, "  Not seen:     %s\n", gapPhrases(c.Gaps))
	}
	return b.String()
}

// gapPhrase says one gap in words.
func gapPhrase(g sniff.Gap) string {
	n := g.Count
	by := ""
	if len(g.By) > 0 {
		by = " (" + counts(g.By, 3, ident) + ")"
	}
	pl := func(one, many string) string { return snPlural(int(min(n, 2)), one, many) }
	switch g.Kind {
	case sniff.GapNotDecoded:
		return fmt.Sprintf("%d %s not decoded%s", n, pl("frame was", "frames were"), by)
	case sniff.GapFragments:
		return fmt.Sprintf("%d fragmented %s lost", n, pl("datagram was", "datagrams were"))
	case sniff.GapMidStream:
		return fmt.Sprintf("%d %s before the capture (no hello seen)", n, pl("connection began", "connections began"))
	case sniff.GapTruncated:
		return fmt.Sprintf("%d %s cut%s", n, pl("hello was", "hellos were"), by)
	case sniff.GapEvicted:
		return fmt.Sprintf("%d %s evicted before the hellos", n, pl("connection was", "connections were"))
	case sniff.GapQUICUndecryptable:
		return fmt.Sprintf("%d QUIC %s of a version tlsmap cannot decrypt%s", n, pl("flow was", "flows were"), by)
	case sniff.GapQUICNoInitial:
		return fmt.Sprintf("%d QUIC %s no client Initial", n, pl("flow had", "flows had"))
	case sniff.GapQUICMemory:
		return fmt.Sprintf("%d QUIC %s not decrypted (memory budget)", n, pl("datagram was", "datagrams were"))
	case sniff.GapUDPEvicted:
		return fmt.Sprintf("%d UDP %s evicted", n, pl("flow was", "flows were"))
	case sniff.GapTruncatedFile:
		return fmt.Sprintf("%d %s inside a record", n, pl("file ended", "files ended"))
	case sniff.GapCorruptBlock:
		return fmt.Sprintf("%d damaged %s skipped", n, pl("block was", "blocks were"))
	case sniff.GapCorruptFile:
		return fmt.Sprintf("%d %s cut short by damage", n, pl("file was", "files were"))
	case sniff.GapKernelDrops:
		return fmt.Sprintf("%d %s by the kernel", n, pl("packet was dropped", "packets were dropped"))
	}
	return fmt.Sprintf("%d %s", n, g.Kind)
}

// gapPhrases joins the gaps: "a, b and c".
func gapPhrases(gs []sniff.Gap) string {
	ps := make([]string, len(gs))
	for i, g := range gs {
		ps[i] = gapPhrase(g)
	}
	if len(ps) <= 1 {
		return strings.Join(ps, "")
	}
	return strings.Join(ps[:len(ps)-1], ", ") + " and " + ps[len(ps)-1]
}
