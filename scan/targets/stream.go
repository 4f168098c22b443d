// Package targets turns what a user gives tlsmap scan — host names, URLs,
// IP literals, CIDR blocks, address ranges, target lists on stdin or in
// files — into a stream of scan.Target, in bounded memory, with
// duplicates, excluded addresses (AddrSet) and other shards' targets
// (Shard) left out.
//
// stream.go is the producer (Stream), ranges.go the CIDR and range
// syntax, addrset.go the address sets of --exclude, shard.go the --shard
// split, u128.go the 128-bit arithmetic the ranges and sets count with.
package targets

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tlsmap/tlsmap/scan"
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
	return 0, fmt.Errorf("targets: unknown resolve mode %q (want first or all)", s)
}

// MaxRangeAddresses is the largest number of addresses one range or CIDR
// block may hold (a /0 of IPv4, an IPv6 /96): beyond, the expression is
// refused as the mistake it almost always is.
const MaxRangeAddresses = 1 << 32

// Options configures Stream.
type Options struct {
	// Target is how single targets are parsed (DefaultPort, STARTTLS).
	Target scan.TargetOptions
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
	// called from Stream' goroutine.
	OnBad func(source string, err error)
	// Stats, when set, is filled as targets are produced.
	Stats *Stats
}

// Stats counts what Stream did, for the summary. Fields are
// updated atomically while it runs.
type Stats struct {
	Emitted    atomic.Int64 // targets sent
	Duplicates atomic.Int64 // repeats of a target already sent (see Stream)
	Excluded   atomic.Int64 // addresses in the exclude set
	Special    atomic.Int64 // special addresses skipped in expansions and resolutions
	Bad        atomic.Int64 // inputs that are not targets (OnBad)
	Unresolved atomic.Int64 // names that did not resolve (sent unresolved; the scan reports them unreachable)
}

// Stream reads target expressions and sends the targets they stand
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
// Invalid inputs are reported to opts.OnBad and skipped. Stream
// returns early with ctx's error when ctx is done, and with an error when a
// list cannot be read.
func Stream(ctx context.Context, inputs []string, opts Options, out chan<- scan.Target) error {
	defer close(out)
	p := newProducer(ctx, opts, out)
	err := p.run(inputs)
	if werr := p.wait(); err == nil {
		err = werr
	}
	return err
}

// producer is Stream' state: one goroutine expands and filters,
// a pool resolves names.
type producer struct {
	ctx   context.Context
	opts  Options
	out   chan<- scan.Target
	stats *Stats

	// seenRanges: per (port, protocol), the intervals already expanded.
	seenRanges map[portProto]*AddrSet
	// seenLits: the literal targets already sent (or handed to the
	// resolvers); litIPs counts the IP literals among them.
	seenLits map[litKey]struct{}
	litIPs   int

	names chan scan.Target
	wg    sync.WaitGroup
	buf   []byte // canonical-form scratch for shard hashing
}

type portProto struct {
	port  uint16
	proto scan.Protocol
}

type litKey struct {
	addr  netip.Addr // IP literal (zero for names)
	name  string     // host name (empty for IP literals)
	port  uint16
	proto scan.Protocol
}

func newProducer(ctx context.Context, opts Options, out chan<- scan.Target) *producer {
	if opts.Stats == nil {
		opts.Stats = &Stats{}
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
		return fmt.Errorf("targets: target list: %w", err)
	}
	defer f.Close()
	return p.readList(name, f)
}

// readList reads one expression a line.
func (p *producer) readList(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxListLine)
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
		return listError(name, line+1, err)
	}
	return nil
}

// maxListLine is the longest line a target list may have.
const maxListLine = 1 << 20

// listError is the error of reading line of list name: a line too long
// (binary data, /dev/zero) says so rather than bufio's "token too long".
func listError(name string, line int, err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("targets: %s:%d: a line longer than %d KiB: not a target list", name, line, maxListLine>>10)
	}
	return fmt.Errorf("targets: reading %s: %w", name, err)
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
func (p *producer) parseSingle(s string) ([]scan.Target, error) {
	t, err := scan.ParseTarget(s, p.opts.Target)
	if err != nil {
		return nil, err
	}
	if len(p.opts.Ports) == 0 || hasPortOrScheme(s) {
		return []scan.Target{t}, nil
	}
	ts := make([]scan.Target, 0, len(p.opts.Ports))
	for _, port := range p.opts.Ports {
		u := t
		u.Port, u.Protocol = port, p.protocolFor(port)
		ts = append(ts, u)
	}
	return ts, nil
}

func (p *producer) protocolFor(port uint16) scan.Protocol {
	if p.opts.Target.STARTTLS != "" {
		return p.opts.Target.STARTTLS
	}
	return scan.ProtocolForPort(port)
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
func (p *producer) literal(t scan.Target, source string) error {
	a, err := netip.ParseAddr(t.Addr)
	if err != nil { // cannot happen for a parsed IP literal
		p.bad(source, fmt.Errorf("%w %q: %v", scan.ErrBadTarget, t.Input, err))
		return nil
	}
	if !p.opts.IncludeSpecial {
		if why := specialAddr(a); why != "" {
			p.bad(source, fmt.Errorf("%w %q: %s is a %s address (--include-special scans it)", scan.ErrBadTarget, t.Input, a, why))
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

func (p *producer) send(t scan.Target) error {
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
				proto = scan.ProtoHTTPS
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
	t := scan.Target{Input: input, Addr: a.String(), Port: pp.port, Protocol: pp.proto}
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
func (p *producer) resolveLater(t scan.Target) error {
	if p.names == nil {
		p.names = make(chan scan.Target, p.opts.ResolveWorkers)
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
			_ = p.send(t) // scan.ScanTarget resolves again and reports why
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
			if u.Name == "" {
				u.Name = u.Addr // the target keeps the name it was given
			}
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

// Check reports what is wrong with one command-line target
// expression (not "-" or "@FILE"), exactly as Stream would: so that
// a command can refuse bad arguments before it starts.
func Check(s string, opts Options) error {
	_, isRange, err := ParseRange(s, opts.Target)
	if err != nil || isRange {
		return err
	}
	t, err := scan.ParseTarget(s, opts.Target)
	if err != nil {
		return err
	}
	if t.Host == "" && !opts.IncludeSpecial {
		if a, err := netip.ParseAddr(t.Addr); err == nil {
			if why := specialAddr(a); why != "" {
				return fmt.Errorf("%w %q: %s is a %s address (--include-special scans it)", scan.ErrBadTarget, s, a, why)
			}
		}
	}
	return nil
}

// Estimate returns how many targets inputs stand for, before
// duplicates, exclusions and special addresses are taken out (an upper
// bound, for a progress bar), divided among the shards; ok is false when an
// input is a list ("-", "@FILE"), which is not read twice.
func Estimate(inputs []string, opts Options) (n uint64, ok bool) {
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
