package scan

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ResolveMode says which addresses of a host name are scanned.
type ResolveMode uint8

const (
	// ResolveFirst scans the first address the resolver returns (the
	// default, as a client would connect).
	ResolveFirst ResolveMode = iota
	// ResolveAll scans every address of the name, each as its own target
	// (same name for SNI and the report, one Addr each).
	ResolveAll
)

// String returns "first" or "all".
func (m ResolveMode) String() string {
	if m == ResolveAll {
		return "all"
	}
	return "first"
}

// ParseResolveMode reads "first" or "all".
func ParseResolveMode(s string) (ResolveMode, error) {
	switch strings.ToLower(s) {
	case "first", "":
		return ResolveFirst, nil
	case "all":
		return ResolveAll, nil
	}
	return 0, fmt.Errorf("scan: unknown resolve mode %q (want first or all)", s)
}

// MaxRangeAddresses is the largest number of addresses one range or CIDR
// block may hold (a /0 of IPv4, an IPv6 /96): beyond, the expression is
// refused as the mistake it almost always is.
const MaxRangeAddresses = 1 << 32

// StreamOptions configures StreamTargets.
type StreamOptions struct {
	// Target is how single targets are parsed (DefaultPort, STARTTLS).
	Target TargetOptions
	// Ports (-p) are the ports of every target written without a port and
	// without a scheme (host, IP literal, CIDR, range): one target per
	// port, its protocol ProtocolForPort(port) (or Target.STARTTLS). Nil:
	// the single default port of TargetOptions.
	Ports []uint16
	// Resolve says which addresses of a host name are scanned.
	Resolve ResolveMode
	// Resolver resolves host names (nil: net.DefaultResolver).
	Resolver *net.Resolver
	// ResolveWorkers is how many names are resolved at once (0: 16).
	// Resolved targets may therefore come out of order.
	ResolveWorkers int
	// Exclude are addresses never scanned (--exclude); see ParseExclude.
	Exclude *AddrSet
	// IncludeSpecial lets through the addresses refused by default:
	// multicast, unspecified, 255.255.255.255, and the network and
	// broadcast addresses of an expanded IPv4 CIDR block (the first
	// address of an IPv6 one, its subnet-router anycast).
	IncludeSpecial bool
	// Shard keeps only this machine's share of the targets (zero value:
	// everything).
	Shard Shard
	// SNI, when set, replaces the host name of every target.
	SNI string
	// Stdin is read for the input "-" (nil: os.Stdin).
	Stdin io.Reader
	// OnBad is called for every input that is not a target (a bad line
	// of a list, a special address written literally), with where it came
	// from ("targets.txt:12", "stdin:3", "argument"). Nil: ignored. It is
	// called from StreamTargets' goroutine.
	OnBad func(source string, err error)
	// Stats, when set, is filled as targets are produced.
	Stats *StreamStats
}

// StreamStats counts what StreamTargets did, for the summary. Fields are
// updated atomically while it runs.
type StreamStats struct {
	Emitted    atomic.Int64 // targets sent
	Duplicates atomic.Int64 // repeats of a target already sent (see StreamTargets)
	Excluded   atomic.Int64 // addresses in the exclude set
	Special    atomic.Int64 // special addresses skipped in expansions and resolutions
	Bad        atomic.Int64 // inputs that are not targets (OnBad)
	Unresolved atomic.Int64 // names that did not resolve (sent unresolved; the scan reports them unreachable)
}

// StreamTargets reads target expressions and sends the targets they stand
// for on out, in order (but for resolved names, see ResolveWorkers), and
// closes out when done. It never holds an expanded range in memory: a /8
// costs what a /32 costs, up front.
//
// Each input is an argument: "-" reads stdin and "@FILE" reads FILE, one
// expression a line ('#' starts a comment at the start of a line or after
// a blank; blank lines are skipped); anything else is one expression:
//
//	host, host:port, IP, IP:port, [IPv6]:port, scheme://host[:port]   see ParseTarget
//	10.0.0.0/24, 2001:db8::/120                                      CIDR blocks
//	10.0.0.1-50, 10.0.0.1-10.0.1.255, 2001:db8::1-2001:db8::ff       ranges
//	10.0.0.0/24:8443, [2001:db8::/120]:8443, smtps://10.0.0.0/28     with a port or scheme
//
// Host names are resolved (opts.Resolve) to IP literals: Host keeps the
// name (SNI, the report), Addr the address. A name that does not resolve is
// sent unresolved, for ScanTarget to report unreachable.
//
// Duplicates: a target is sent once however often the inputs name it —
// exactly, for any mix of literals, ranges and CIDR blocks — because
// ranges are remembered as merged address intervals per port (memory grows
// with the number of range expressions, never with their size) and
// literals in a set (memory grows with the number of distinct literal
// lines). A name and an address are different targets even when the name
// resolves to the address (the SNI differs); so are a name's two addresses.
//
// Invalid inputs are reported to opts.OnBad and skipped. StreamTargets
// returns early with ctx's error when ctx is done, and with an error when a
// list cannot be read.
func StreamTargets(ctx context.Context, inputs []string, opts StreamOptions, out chan<- Target) error {
	defer close(out)
	p := newProducer(ctx, opts, out)
	err := p.run(inputs)
	if werr := p.wait(); err == nil {
		err = werr
	}
	return err
}

// producer is StreamTargets' state: one goroutine expands and filters,
// a pool resolves names.
type producer struct {
	ctx   context.Context
	opts  StreamOptions
	out   chan<- Target
	stats *StreamStats

	// seenRanges: per (port, protocol), the intervals already expanded.
	seenRanges map[portProto]*AddrSet
	// seenLits: the literal targets already sent (or handed to the
	// resolvers); litIPs counts the IP literals among them.
	seenLits map[litKey]struct{}
	litIPs   int

	names chan Target
	wg    sync.WaitGroup
	buf   []byte // canonical-form scratch for shard hashing
}

type portProto struct {
	port  uint16
	proto Protocol
}

type litKey struct {
	addr  netip.Addr // IP literal (zero for names)
	name  string     // host name (empty for IP literals)
	port  uint16
	proto Protocol
}

func newProducer(ctx context.Context, opts StreamOptions, out chan<- Target) *producer {
	if opts.Stats == nil {
		opts.Stats = &StreamStats{}
	}
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Resolver == nil {
		opts.Resolver = net.DefaultResolver
	}
	if opts.ResolveWorkers <= 0 {
		opts.ResolveWorkers = 16
	}
	return &producer{
		ctx: ctx, opts: opts, out: out, stats: opts.Stats,
		seenRanges: map[portProto]*AddrSet{},
		seenLits:   map[litKey]struct{}{},
	}
}

func (p *producer) run(inputs []string) error {
	for _, in := range inputs {
		var err error
		switch {
		case in == "-":
			err = p.readList("stdin", p.opts.Stdin)
		case strings.HasPrefix(in, "@"):
			err = p.readFile(in[1:])
		default:
			err = p.expr(in, "argument")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// wait closes the resolvers' queue and waits for them.
func (p *producer) wait() error {
	if p.names != nil {
		close(p.names)
		p.wg.Wait()
	}
	return p.ctx.Err()
}

func (p *producer) readFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("scan: target list: %w", err)
	}
	defer f.Close()
	return p.readList(name, f)
}

// readList reads one expression a line.
func (p *producer) readList(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := ListLine(sc.Text())
		if s == "" {
			continue
		}
		if err := p.expr(s, name+":"+strconv.Itoa(line)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("scan: reading %s: %w", name, err)
	}
	return nil
}

// ListLine returns the expression of one line of a target list: the line
// without its comment ('#' at the start or after a blank) and surrounding
// blanks.
func ListLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			s = s[:i]
			break
		}
	}
	return strings.TrimSpace(s)
}

// bad reports an input that is not a target.
func (p *producer) bad(source string, err error) {
	p.stats.Bad.Add(1)
	if p.opts.OnBad != nil {
		p.opts.OnBad(source, err)
	}
}

// expr handles one target expression. Only a cancelled ctx is an error.
func (p *producer) expr(s, source string) error {
	r, isRange, err := ParseRange(s, p.opts.Target)
	if err != nil {
		p.bad(source, err)
		return nil
	}
	if isRange {
		return p.expand(r)
	}
	ts, err := p.parseSingle(s)
	if err != nil {
		p.bad(source, err)
		return nil
	}
	for _, t := range ts {
		if !p.opts.Shard.keep(&p.buf, t) {
			continue
		}
		if t.Host == "" {
			if err := p.literal(t, source); err != nil {
				return err
			}
			continue
		}
		k := litKey{name: t.Addr, port: t.Port, proto: t.Protocol}
		if _, dup := p.seenLits[k]; dup {
			p.stats.Duplicates.Add(1)
			continue
		}
		p.seenLits[k] = struct{}{}
		if err := p.resolveLater(t); err != nil {
			return err
		}
	}
	return nil
}

// parseSingle parses a single target, one per -p port when it has neither
// port nor scheme.
func (p *producer) parseSingle(s string) ([]Target, error) {
	t, err := ParseTarget(s, p.opts.Target)
	if err != nil {
		return nil, err
	}
	if len(p.opts.Ports) == 0 || hasPortOrScheme(s) {
		return []Target{t}, nil
	}
	ts := make([]Target, 0, len(p.opts.Ports))
	for _, port := range p.opts.Ports {
		u := t
		u.Port, u.Protocol = port, p.protocolFor(port)
		ts = append(ts, u)
	}
	return ts, nil
}

func (p *producer) protocolFor(port uint16) Protocol {
	if p.opts.Target.STARTTLS != "" {
		return p.opts.Target.STARTTLS
	}
	return ProtocolForPort(port)
}

// hasPortOrScheme reports whether a single-target expression names its
// port or scheme (so -p does not apply).
func hasPortOrScheme(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	if strings.HasPrefix(s, "[") {
		return strings.Contains(s, "]:")
	}
	return strings.Count(s, ":") == 1
}

// literal sends an IP-literal target after the special, exclude and
// duplicate checks.
func (p *producer) literal(t Target, source string) error {
	a, err := netip.ParseAddr(t.Addr)
	if err != nil { // cannot happen for a parsed IP literal
		p.bad(source, fmt.Errorf("%w %q: %v", ErrBadTarget, t.Input, err))
		return nil
	}
	if !p.opts.IncludeSpecial {
		if why := specialAddr(a); why != "" {
			p.bad(source, fmt.Errorf("%w %q: %s is a %s address (--include-special scans it)", ErrBadTarget, t.Input, a, why))
			return nil
		}
	}
	if p.opts.Exclude.Contains(a) {
		p.stats.Excluded.Add(1)
		return nil
	}
	if set := p.seenRanges[portProto{t.Port, t.Protocol}]; set.Contains(a) {
		p.stats.Duplicates.Add(1)
		return nil
	}
	k := litKey{addr: a, port: t.Port, proto: t.Protocol}
	if _, dup := p.seenLits[k]; dup {
		p.stats.Duplicates.Add(1)
		return nil
	}
	p.seenLits[k] = struct{}{}
	p.litIPs++
	return p.send(t)
}

func (p *producer) send(t Target) error {
	if p.opts.SNI != "" {
		t.Host = p.opts.SNI
	}
	select {
	case p.out <- t:
		p.stats.Emitted.Add(1)
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

// expand streams the addresses of a range, port by port, skipping what an
// earlier range already covered.
func (p *producer) expand(r Range) error {
	pps := []portProto{{r.Port, r.Protocol}}
	if r.Port == 0 {
		// Neither port nor scheme: the -p ports, or the default one.
		ports := p.opts.Ports
		if len(ports) == 0 {
			proto := p.opts.Target.STARTTLS
			if proto == "" {
				proto = ProtoHTTPS
			}
			ports = []uint16{proto.DefaultPort()}
		}
		pps = pps[:0]
		for _, port := range ports {
			pps = append(pps, portProto{port, p.protocolFor(port)})
		}
	}
	lo, hi := toU128(r.First), toU128(r.Last)
	is4 := r.First.Is4()
	input := r.Input
	for _, pp := range pps {
		seen := p.seenRanges[pp]
		if seen == nil {
			seen = &AddrSet{}
			p.seenRanges[pp] = seen
		}
		gaps := seen.gaps(lo, hi)
		dups := sub(hi, lo).add64(1)
		for _, g := range gaps {
			dups = sub(dups, sub(g.hi, g.lo).add64(1))
		}
		p.stats.Duplicates.Add(int64(dups.lo))
		// The edges of a CIDR block are not scanned by default: another
		// range may still bring them.
		slo, shi := lo, hi
		if !p.opts.IncludeSpecial && r.edge(r.First) {
			slo = slo.add64(1)
		}
		if !p.opts.IncludeSpecial && r.edge(r.Last) && r.First != r.Last {
			shi = shi.sub64(1)
		}
		if slo.cmp(shi) <= 0 {
			seen.add(slo, shi)
		}
		for _, g := range gaps {
			for x := g.lo; ; x = x.add64(1) {
				if err := p.rangeAddr(r, fromU128(x, is4), pp, input); err != nil {
					return err
				}
				if x == g.hi {
					break
				}
			}
		}
	}
	return nil
}

// rangeAddr handles one address of an expanded range.
func (p *producer) rangeAddr(r Range, a netip.Addr, pp portProto, input string) error {
	t := Target{Input: input, Addr: a.String(), Port: pp.port, Protocol: pp.proto}
	if !p.opts.Shard.keep(&p.buf, t) {
		return nil
	}
	if !p.opts.IncludeSpecial && (specialAddr(a) != "" || r.edge(a)) {
		p.stats.Special.Add(1)
		return nil
	}
	if p.opts.Exclude.Contains(a) {
		p.stats.Excluded.Add(1)
		return nil
	}
	if p.litIPs > 0 {
		if _, dup := p.seenLits[litKey{addr: a, port: pp.port, proto: pp.proto}]; dup {
			p.stats.Duplicates.Add(1)
			return nil
		}
	}
	return p.send(t)
}

// resolveLater queues a named target for the resolver pool.
func (p *producer) resolveLater(t Target) error {
	if p.names == nil {
		p.names = make(chan Target, p.opts.ResolveWorkers)
		for range p.opts.ResolveWorkers {
			p.wg.Go(p.resolver)
		}
	}
	select {
	case p.names <- t:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

func (p *producer) resolver() {
	for t := range p.names {
		if p.ctx.Err() != nil {
			continue // drain
		}
		addrs, err := p.opts.Resolver.LookupNetIP(p.ctx, "ip", t.Addr)
		if err != nil || len(addrs) == 0 {
			if p.ctx.Err() != nil {
				continue
			}
			p.stats.Unresolved.Add(1)
			_ = p.send(t) // ScanTarget resolves again and reports why
			continue
		}
		var sent []netip.Addr
		for _, a := range addrs {
			a = a.Unmap()
			if slices.Contains(sent, a) {
				continue
			}
			if !p.opts.IncludeSpecial && specialAddr(a) != "" {
				p.stats.Special.Add(1)
				continue
			}
			if p.opts.Exclude.Contains(a) {
				p.stats.Excluded.Add(1)
				continue
			}
			u := t
			u.Addr = a.String()
			if p.send(u) != nil {
				break
			}
			sent = append(sent, a)
			if p.opts.Resolve == ResolveFirst {
				break
			}
		}
	}
}

// specialAddr names why a is not scanned by default, or "".
func specialAddr(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast():
		return "multicast"
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "broadcast"
	}
	return ""
}

// Range is an expanded target expression: a CIDR block or an address
// range, with an optional port and scheme.
type Range struct {
	Input       string
	First, Last netip.Addr // inclusive, same family, First <= Last
	// Bits is the prefix length of a CIDR block, -1 for a range: a block
	// has network and broadcast addresses, a range does not know them.
	Bits     int
	Port     uint16   // 0: the -p ports or the default
	Protocol Protocol // "": by port
}

// Size returns the number of addresses of r (at most MaxRangeAddresses).
func (r Range) Size() uint64 {
	return sub(toU128(r.Last), toU128(r.First)).lo + 1
}

// edge reports whether a is the network or broadcast address of r's IPv4
// block (shorter than /31), or the subnet-router anycast address (the
// first) of its IPv6 block (shorter than /127).
func (r Range) edge(a netip.Addr) bool {
	switch {
	case r.Bits < 0:
		return false
	case r.First.Is4():
		return r.Bits < 31 && (a == r.First || a == r.Last)
	default:
		return r.Bits < 127 && a == r.First
	}
}

// ParseRange parses a CIDR block or an address range (see StreamTargets).
// isRange is false, with a nil error, when s is not range syntax (then it
// may be a single target for ParseTarget).
func ParseRange(s string, opts TargetOptions) (r Range, isRange bool, err error) {
	r = Range{Input: s, Bits: -1}
	body := s
	if i := strings.Index(s, "://"); i >= 0 {
		p := Protocol(strings.ToLower(s[:i]))
		body = s[i+3:]
		if !p.valid() || !looksLikeRange(body) {
			return Range{}, false, nil // ParseTarget says what is wrong
		}
		r.Protocol = p
	} else if !looksLikeRange(body) {
		return Range{}, false, nil
	}
	fail := func(format string, args ...any) (Range, bool, error) {
		return Range{}, true, fmt.Errorf("%w %q: %s", ErrBadTarget, s, fmt.Sprintf(format, args...))
	}

	// The port: [v6 range]:port, or v4 range:port.
	portStr := ""
	switch {
	case strings.HasPrefix(body, "["):
		end := strings.IndexByte(body, ']')
		if end < 0 {
			return fail("missing ']'")
		}
		rest := body[end+1:]
		body = body[1:end]
		if rest != "" {
			if rest[0] != ':' {
				return fail("unexpected %q after ']' (want :port)", rest)
			}
			portStr = rest[1:]
			if portStr == "" {
				return fail("missing port after ':'")
			}
		}
	case !strings.Contains(body, "::") && strings.Count(body, ":") == 1:
		i := strings.IndexByte(body, ':')
		body, portStr = body[:i], body[i+1:]
		if portStr == "" {
			return fail("missing port after ':'")
		}
	}
	if portStr != "" {
		port, reason := parsePort(portStr)
		if reason != "" {
			return fail("%s", reason)
		}
		r.Port = port
	}
	if r.Port == 0 && r.Protocol != "" {
		r.Port = r.Protocol.DefaultPort()
	}
	if r.Protocol == "" && opts.STARTTLS != "" {
		r.Protocol = opts.STARTTLS
	}
	if r.Port == 0 && opts.DefaultPort != 0 {
		r.Port = opts.DefaultPort
	}
	if r.Protocol == "" && r.Port != 0 {
		r.Protocol = ProtocolForPort(r.Port)
	}

	if i := strings.IndexByte(body, '/'); i >= 0 {
		pfx, err := netip.ParsePrefix(body)
		if err != nil {
			return fail("invalid CIDR block %q", body)
		}
		if pfx.Addr().Zone() != "" {
			return fail("a CIDR block has no IPv6 zone")
		}
		pfx = pfx.Masked()
		r.First, r.Bits = pfx.Addr(), pfx.Bits()
		r.Last = lastOf(pfx)
	} else {
		i := strings.IndexByte(body, '-')
		first, err := netip.ParseAddr(body[:i])
		if err != nil || first.Zone() != "" {
			return fail("invalid first address %q of the range", body[:i])
		}
		lastStr := body[i+1:]
		var last netip.Addr
		if first.Is4() && lastStr != "" && !strings.ContainsAny(lastStr, ".:") {
			// 10.0.0.1-50: the last octet.
			n, err := strconv.ParseUint(lastStr, 10, 8)
			if err != nil {
				return fail("invalid last octet %q of the range (0-255)", lastStr)
			}
			b := first.As4()
			b[3] = byte(n)
			last = netip.AddrFrom4(b)
		} else if last, err = netip.ParseAddr(lastStr); err != nil || last.Zone() != "" {
			return fail("invalid last address %q of the range", lastStr)
		}
		if first.Is4() != last.Is4() {
			return fail("the range mixes IPv4 and IPv6")
		}
		if last.Less(first) {
			return fail("the range ends (%s) before it starts (%s)", last, first)
		}
		r.First, r.Last = first, last
	}
	if span := sub(toU128(r.Last), toU128(r.First)); span.hi != 0 || span.lo >= MaxRangeAddresses {
		return fail("more than 2^32 addresses (split it, or narrow an IPv6 block to /96 or longer)")
	}
	return r, true, nil
}

// looksLikeRange reports whether s (without scheme) is range syntax: a
// '/' (CIDR) or a '-' after an IP literal.
func looksLikeRange(s string) bool {
	t := strings.TrimPrefix(s, "[")
	if i := strings.IndexByte(t, '/'); i >= 0 {
		// A URL path ("10.0.0.1/index.html") is not a prefix length.
		rest := t[i+1:]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || (j < len(rest) && rest[j] != ':' && rest[j] != ']') {
			return false
		}
		_, err := netip.ParseAddr(t[:i])
		return err == nil
	}
	if i := strings.IndexByte(t, '-'); i >= 0 {
		_, err := netip.ParseAddr(t[:i])
		return err == nil
	}
	return false
}

// lastOf returns the last address of a masked prefix.
func lastOf(p netip.Prefix) netip.Addr {
	x := toU128(p.Addr())
	hostBits := 128 - p.Bits()
	if p.Addr().Is4() {
		hostBits = 32 - p.Bits()
	}
	return fromU128(x.or(ones(hostBits)), p.Addr().Is4())
}

// CheckTargetExpr reports what is wrong with one command-line target
// expression (not "-" or "@FILE"), exactly as StreamTargets would: so that
// a command can refuse bad arguments before it starts.
func CheckTargetExpr(s string, opts StreamOptions) error {
	_, isRange, err := ParseRange(s, opts.Target)
	if err != nil || isRange {
		return err
	}
	t, err := ParseTarget(s, opts.Target)
	if err != nil {
		return err
	}
	if t.Host == "" && !opts.IncludeSpecial {
		if a, err := netip.ParseAddr(t.Addr); err == nil {
			if why := specialAddr(a); why != "" {
				return fmt.Errorf("%w %q: %s is a %s address (--include-special scans it)", ErrBadTarget, s, a, why)
			}
		}
	}
	return nil
}

// EstimateTargets returns how many targets inputs stand for, before
// duplicates, exclusions and special addresses are taken out (an upper
// bound, for a progress bar), divided among the shards; ok is false when an
// input is a list ("-", "@FILE"), which is not read twice.
func EstimateTargets(inputs []string, opts StreamOptions) (n uint64, ok bool) {
	ports := uint64(max(1, len(opts.Ports)))
	for _, in := range inputs {
		if in == "-" || strings.HasPrefix(in, "@") {
			return 0, false
		}
		r, isRange, err := ParseRange(in, opts.Target)
		switch {
		case err != nil:
		case isRange && r.Port != 0:
			n += r.Size()
		case isRange:
			n += r.Size() * ports
		case hasPortOrScheme(in):
			n++
		default:
			n += ports
		}
	}
	if c := opts.Shard.Count; c > 1 {
		n = (n + uint64(c) - 1) / uint64(c)
	}
	return n, true
}

// AddrSet is a set of IP addresses kept as sorted, disjoint intervals:
// a /8 costs one interval. The zero value is empty; a nil *AddrSet is
// empty too. IPv4 addresses are kept in their IPv4-mapped IPv6 form.
type AddrSet struct {
	iv []interval
}

type interval struct{ lo, hi u128 }

// Add adds the addresses first … last (same family, first <= last).
func (s *AddrSet) Add(first, last netip.Addr) { s.add(toU128(first), toU128(last)) }

// AddPrefix adds a CIDR block.
func (s *AddrSet) AddPrefix(p netip.Prefix) {
	p = p.Masked()
	s.Add(p.Addr(), lastOf(p))
}

// Contains reports whether a is in s.
func (s *AddrSet) Contains(a netip.Addr) bool {
	if s == nil || len(s.iv) == 0 {
		return false
	}
	return s.contains(toU128(a.WithZone("")))
}

// Len returns the number of intervals (not addresses) s keeps.
func (s *AddrSet) Len() int { return len(s.iv) }

func (s *AddrSet) contains(x u128) bool {
	if s == nil {
		return false
	}
	i, _ := slices.BinarySearchFunc(s.iv, x, func(iv interval, x u128) int { return iv.hi.cmp(x) })
	return i < len(s.iv) && s.iv[i].lo.cmp(x) <= 0
}

// add merges [lo, hi] into s.
func (s *AddrSet) add(lo, hi u128) {
	// First interval that ends at or after lo-1 (touching merges).
	i, _ := slices.BinarySearchFunc(s.iv, lo, func(iv interval, x u128) int {
		if iv.hi.add64(1).cmp(x) < 0 && iv.hi != maxU128 {
			return -1
		}
		return 1
	})
	j := i
	for j < len(s.iv) && (hi == maxU128 || s.iv[j].lo.cmp(hi.add64(1)) <= 0) {
		lo = minU(lo, s.iv[j].lo)
		hi = maxU(hi, s.iv[j].hi)
		j++
	}
	s.iv = slices.Replace(s.iv, i, j, interval{lo, hi})
}

// gaps returns the parts of [lo, hi] not in s, in order.
func (s *AddrSet) gaps(lo, hi u128) []interval {
	var out []interval
	i, _ := slices.BinarySearchFunc(s.iv, lo, func(iv interval, x u128) int { return iv.hi.cmp(x) })
	cur := lo
	for ; i < len(s.iv) && s.iv[i].lo.cmp(hi) <= 0; i++ {
		iv := s.iv[i]
		if iv.lo.cmp(cur) > 0 {
			out = append(out, interval{cur, iv.lo.sub64(1)})
		}
		if iv.hi.cmp(hi) >= 0 {
			return out
		}
		cur = maxU(cur, iv.hi.add64(1))
	}
	return append(out, interval{cur, hi})
}

// ParseExclude adds to s the addresses of one --exclude value: a
// comma-separated list of IP addresses, CIDR blocks and ranges, or "@FILE"
// for a list of them (one a line, '#' comments).
func (s *AddrSet) ParseExclude(v string) error {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("scan: exclude list: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		line := 0
		var errs []error
		for sc.Scan() {
			line++
			if e := ListLine(sc.Text()); e != "" {
				if err := s.addExpr(e); err != nil {
					errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
				}
			}
		}
		if err := sc.Err(); err != nil {
			errs = append(errs, fmt.Errorf("scan: reading %s: %w", name, err))
		}
		return errors.Join(errs...)
	}
	var errs []error
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			errs = append(errs, s.addExpr(e))
		}
	}
	return errors.Join(errs...)
}

func (s *AddrSet) addExpr(e string) error {
	if a, err := netip.ParseAddr(e); err == nil {
		s.Add(a.WithZone(""), a.WithZone(""))
		return nil
	}
	if p, err := netip.ParsePrefix(e); err == nil {
		s.AddPrefix(p) // of any size
		return nil
	}
	r, isRange, err := ParseRange(e, TargetOptions{})
	switch {
	case err != nil:
		return fmt.Errorf("scan: bad exclusion %q: %w", e, errors.Unwrap(err))
	case !isRange || r.Port != 0 || r.Protocol != "":
		return fmt.Errorf("scan: bad exclusion %q: want an IP address, a CIDR block or a range", e)
	}
	s.Add(r.First, r.Last)
	return nil
}

// u128 is an IPv6 address (or IPv4-mapped) as a 128-bit number.
type u128 struct{ hi, lo uint64 }

var maxU128 = u128{^uint64(0), ^uint64(0)}

func toU128(a netip.Addr) u128 {
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

func fromU128(x u128, is4 bool) netip.Addr {
	if is4 {
		return netip.AddrFrom4([4]byte{byte(x.lo >> 24), byte(x.lo >> 16), byte(x.lo >> 8), byte(x.lo)})
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
	return netip.AddrFrom16(b)
}

func (x u128) cmp(y u128) int {
	switch {
	case x.hi < y.hi:
		return -1
	case x.hi > y.hi:
		return 1
	case x.lo < y.lo:
		return -1
	case x.lo > y.lo:
		return 1
	}
	return 0
}

func (x u128) add64(n uint64) u128 {
	lo, c := bits.Add64(x.lo, n, 0)
	return u128{x.hi + c, lo}
}

func (x u128) sub64(n uint64) u128 {
	lo, b := bits.Sub64(x.lo, n, 0)
	return u128{x.hi - b, lo}
}

func sub(x, y u128) u128 {
	lo, b := bits.Sub64(x.lo, y.lo, 0)
	return u128{x.hi - y.hi - b, lo}
}

func (x u128) or(y u128) u128 { return u128{x.hi | y.hi, x.lo | y.lo} }

// ones returns a number with its n low bits set.
func ones(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n >= 128:
		return maxU128
	case n >= 64:
		return u128{^uint64(0) >> (128 - n), ^uint64(0)}
	}
	return u128{0, ^uint64(0) >> (64 - n)}
}

func minU(x, y u128) u128 {
	if x.cmp(y) <= 0 {
		return x
	}
	return y
}

func maxU(x, y u128) u128 {
	if x.cmp(y) >= 0 {
		return x
	}
	return y
}
