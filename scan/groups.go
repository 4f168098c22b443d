package scan

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// groupAnswer is what one group probe found.
type groupAnswer struct {
	kind   groupAnswerKind
	group  uint16 // groupFound
	reason string
	bits   int // the DHE prime size, when a ServerKeyExchange carried one
}

type groupAnswerKind uint8

const (
	groupFound        groupAnswerKind = iota + 1 // the server chose group
	groupRefused                                 // no offered group is acceptable
	groupInconclusive                            // undecided; the remaining candidates too
)

// groupTry probes with offer as the candidate groups, in order.
type groupTry func(ctx context.Context, offer []uint16) groupAnswer

// scanGroups runs the group scans that the accepted suites allow, in
// parallel: TLS 1.3 groups, TLS ≤ 1.2 curves, RFC 7919 groups, and the DHE
// prime size (docs/scan-algorithm.md, "Groups").
func (e *endpoint) scanGroups(ctx context.Context, res *Result) {
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		results = map[GroupKind]GroupResult{}
	)
	put := func(g GroupResult) {
		mu.Lock()
		results[g.Kind] = g
		mu.Unlock()
	}
	if v := res.Version(tls.VersionTLS13); v != nil && v.Outcome == Accepted {
		suites := slices.Clone(v.Suites)
		wg.Go(func() { put(e.groupsTLS13(ctx, suites)) })
	}
	if v, suites := bestVersion(res, isECDHESuite); v != 0 {
		wg.Go(func() { put(e.groupsECDHE(ctx, v, suites)) })
	}
	if v, suites := bestVersion(res, isDHESuite); v != 0 {
		wg.Go(func() {
			g, ownBits := e.groupsFFDHE(ctx, v, suites)
			put(g)
			bits := ownBits
			if bits == 0 {
				bits = e.dhPrimeBits(ctx, v, suites)
			}
			mu.Lock()
			res.DHPrimeBits = bits
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, k := range []GroupKind{GroupTLS13, GroupECDHE, GroupFFDHE} {
		if g, ok := results[k]; ok {
			res.Groups = append(res.Groups, g)
		}
	}
}

// bestVersion returns the highest accepted TLS ≤ 1.2 version with accepted
// suites that keep, and those suites.
func bestVersion(res *Result, keep func(uint16) bool) (tls.Version, []uint16) {
	for i := len(res.Versions) - 1; i >= 0; i-- {
		v := res.Versions[i]
		if v.Version > tls.VersionTLS12 || v.Outcome != Accepted {
			continue
		}
		var suites []uint16
		for _, id := range v.Suites {
			if keep(id) {
				suites = append(suites, id)
			}
		}
		if len(suites) > 0 {
			return v.Version, suites
		}
	}
	return 0, nil
}

// isECDHESuite: an ECDHE suite authenticated by a certificate, whose
// ServerKeyExchange names the curve.
func isECDHESuite(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Kex == "ECDHE" && (s.Auth == "RSA" || s.Auth == "ECDSA")
}

// isDHESuite: a DHE suite authenticated by a certificate.
func isDHESuite(id uint16) bool {
	s, ok := ciphers.ByID(id)
	return ok && s.Kex == "DHE" && (s.Auth == "RSA" || s.Auth == "DSS")
}

// groupsTLS13 finds the TLS 1.3 groups by HelloRetryRequest elimination:
// supported_groups lists the remaining candidates, key_share is empty, and
// the HelloRetryRequest names the server's choice.
func (e *endpoint) groupsTLS13(ctx context.Context, suites []uint16) GroupResult {
	try := func(ctx context.Context, offer []uint16) groupAnswer {
		hello, err := buildHello(helloParams{
			version: tls.VersionTLS13, suites: suites, host: e.target.Host, alpn: e.target.Protocol.ALPN(),
			groups: offer, rand: e.opts.Rand,
		})
		if err != nil {
			return groupAnswer{kind: groupInconclusive, reason: err.Error()}
		}
		a := e.probe(ctx, probeReq{purpose: forGroups, version: tls.VersionTLS13, hello: hello, offered: suites, alpn: len(e.target.Protocol.ALPN()) > 0})
		switch {
		case a.kind == ansHello && !a.hrr:
			// RFC 8446 §4.2.8: a server_share must be for a group the
			// client sent a share for; none was sent.
			return groupAnswer{kind: groupInconclusive,
				reason: fmt.Sprintf("protocol error: ServerHello with a key share for 0x%04X though none was sent", a.group)}
		case a.kind == ansHello:
			return groupAnswer{kind: groupFound, group: a.group}
		case a.outcome() == Rejected && a.drop == dropNone: // a drop is no refusal of a group
			return groupAnswer{kind: groupRefused, reason: a.reason}
		}
		return groupAnswer{kind: groupInconclusive, reason: a.reason}
	}
	g := eliminateGroups(ctx, groups13(), try)
	g.Kind, g.Version = GroupTLS13, tls.VersionTLS13
	return g
}

// groupsECDHE finds the TLS ≤ 1.2 curves: only ECDHE suites offered,
// supported_groups the remaining curves, the ServerKeyExchange names the
// choice.
func (e *endpoint) groupsECDHE(ctx context.Context, v tls.Version, suites []uint16) GroupResult {
	try := func(ctx context.Context, offer []uint16) groupAnswer {
		a := e.skeProbe(ctx, v, suites, offer)
		switch {
		case a.kind == ansHello && a.ske == nil:
			return groupAnswer{kind: groupInconclusive, reason: "no ServerKeyExchange after an ECDHE suite"}
		case a.kind == ansHello && a.ske.Kind != tls.KeyExchangeECDHE:
			return groupAnswer{kind: groupInconclusive, reason: "ServerKeyExchange is not ECDHE"}
		case a.kind == ansHello && a.ske.CurveType != tls.CurveTypeNamedCurve:
			return groupAnswer{kind: groupInconclusive, reason: "explicit curve parameters instead of a named curve"}
		case a.kind == ansHello:
			return groupAnswer{kind: groupFound, group: a.ske.Group}
		case a.outcome() == Rejected && a.drop == dropNone: // a drop is no refusal of a group
			return groupAnswer{kind: groupRefused, reason: a.reason}
		}
		return groupAnswer{kind: groupInconclusive, reason: a.reason}
	}
	g := eliminateGroups(ctx, registryGroups("ecdhe"), try)
	g.Kind, g.Version = GroupECDHE, v
	return g
}

// groupsFFDHE finds the RFC 7919 groups: DHE suites with the remaining
// ffdhe groups in supported_groups; dh_p identifies the group. A server
// that answers with a prime of its own ignores RFC 7919: ownBits is then
// that prime's size.
func (e *endpoint) groupsFFDHE(ctx context.Context, v tls.Version, suites []uint16) (g GroupResult, ownBits int) {
	try := func(ctx context.Context, offer []uint16) groupAnswer {
		a := e.skeProbe(ctx, v, suites, offer)
		switch {
		case a.kind == ansHello && (a.ske == nil || a.ske.Kind != tls.KeyExchangeDHE):
			return groupAnswer{kind: groupInconclusive, reason: "no DHE ServerKeyExchange after a DHE suite"}
		case a.kind == ansHello:
			if id := tls.FFDHEGroupOfPrime(a.ske.DHPrime); id != 0 {
				return groupAnswer{kind: groupFound, group: id, bits: a.ske.DHPrimeBits}
			}
			return groupAnswer{kind: groupRefused, bits: a.ske.DHPrimeBits,
				reason: fmt.Sprintf("server uses its own %d-bit prime, not an RFC 7919 group", a.ske.DHPrimeBits)}
		case a.outcome() == Rejected && a.drop == dropNone: // a drop is no refusal of a group
			return groupAnswer{kind: groupRefused, reason: a.reason}
		}
		return groupAnswer{kind: groupInconclusive, reason: a.reason}
	}
	probes := 0
	wrapped := func(ctx context.Context, offer []uint16) groupAnswer {
		ga := try(ctx, offer)
		if probes == 0 && ga.kind == groupRefused && ga.bits > 0 {
			ownBits = ga.bits
		}
		probes++
		return ga
	}
	g = eliminateGroups(ctx, registryGroups("ffdhe"), wrapped)
	g.Kind, g.Version = GroupFFDHE, v
	return g, ownBits
}

// dhPrimeBits reads the size of the server's own DHE prime: DHE suites
// offered with elliptic curves only in supported_groups, so that no RFC
// 7919 group is negotiated.
func (e *endpoint) dhPrimeBits(ctx context.Context, v tls.Version, suites []uint16) int {
	a := e.skeProbe(ctx, v, suites, registryGroups("ecdhe"))
	if a.kind == ansHello && a.ske != nil && a.ske.Kind == tls.KeyExchangeDHE {
		return a.ske.DHPrimeBits
	}
	return 0
}

// skeProbe offers suites with groups in supported_groups and reads on to
// the ServerKeyExchange.
func (e *endpoint) skeProbe(ctx context.Context, v tls.Version, suites, groups []uint16) answer {
	hello, err := buildHello(helloParams{version: v, suites: suites, host: e.target.Host, alpn: e.target.Protocol.ALPN(), groups: groups, rand: e.opts.Rand})
	if err != nil {
		return answer{kind: ansMalformed, reason: err.Error()}
	}
	return e.probe(ctx, probeReq{purpose: forGroups, version: v, hello: hello, offered: suites, readSKE: true, alpn: len(e.target.Protocol.ALPN()) > 0})
}

// eliminateGroups offers every remaining candidate, removes the one the
// server picks and repeats until it refuses; then decides whether the
// server enforces its order, as for suites.
func eliminateGroups(ctx context.Context, cands []uint16, try groupTry) GroupResult {
	g := GroupResult{Groups: []uint16{}}
	type record struct {
		offered []uint16
		chosen  uint16
	}
	var records []record
	remaining := slices.Clone(cands)
	for len(remaining) > 0 {
		if ctx.Err() != nil {
			g.Inconclusive, g.InconclusiveReason = remaining, ReasonCancelled
			break
		}
		ga := try(ctx, remaining)
		switch ga.kind {
		case groupFound:
			if !slices.Contains(remaining, ga.group) {
				g.Inconclusive = remaining
				g.InconclusiveReason = fmt.Sprintf("server chose group 0x%04X which was not offered", ga.group)
				remaining = nil
				continue
			}
			records = append(records, record{offered: remaining, chosen: ga.group})
			g.Groups = append(g.Groups, ga.group)
			remaining = slices.DeleteFunc(slices.Clone(remaining), func(id uint16) bool { return id == ga.group })
			continue
		case groupRefused:
			if len(g.Groups) == 0 {
				g.Reason = ga.reason
			}
		default:
			g.Inconclusive, g.InconclusiveReason = remaining, ga.reason
		}
		break
	}
	switch {
	case len(g.Groups) > 0:
		g.Outcome = Accepted
	case len(g.Inconclusive) > 0:
		g.Outcome, g.Reason = Inconclusive, g.InconclusiveReason
	default:
		g.Outcome = Rejected
	}
	if len(g.Groups) < 2 || ctx.Err() != nil {
		return g
	}
	// Server order: proven when a choice was offered after another
	// accepted group; otherwise one probe with a pair reversed.
	accepted := func(id uint16) bool { return slices.Contains(g.Groups, id) }
	var pair [2]uint16
	for _, r := range records {
		at := slices.Index(r.offered, r.chosen)
		for i, y := range r.offered {
			if y == r.chosen || !accepted(y) {
				continue
			}
			if i < at {
				yes := true
				g.ServerOrder = &yes
				return g
			}
			if pair == [2]uint16{} {
				pair = [2]uint16{r.chosen, y}
			}
		}
	}
	if pair == [2]uint16{} {
		return g
	}
	ga := try(ctx, []uint16{pair[1], pair[0]})
	if ga.kind == groupFound && (ga.group == pair[0] || ga.group == pair[1]) {
		yes := ga.group == pair[0]
		g.ServerOrder = &yes
	}
	return g
}
