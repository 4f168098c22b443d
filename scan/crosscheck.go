package scan

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// crossCheck compares the answers of one record with each other (docs/
// scan-algorithm.md, "Cross-checks"); every disagreement is added to
// res.Contradictions and makes the versions it names inconclusive.
//
//   - A version refused by a lower-version ServerHello names a version
//     the server claims to speak: when that version is refused itself,
//     neither refusal is believed.
//   - The certificate handshake's version and suite must be accepted by
//     the enumeration; a TLS 1.0 or 1.1 handshake cannot use an AEAD
//     suite (RFC 5288 §4, RFC 5246 §1.2: AEAD suites are TLS 1.2's).
//   - TLS 1.3 is accepted only on a ServerHello: when every TLS 1.3
//     probe got a HelloRetryRequest (as the empty key_share asks) and the
//     certificate handshake did not negotiate TLS 1.3, one hello with a
//     key share for the HelloRetryRequest's group must get one.
func (e *endpoint) crossCheck(ctx context.Context, res *Result) {
	contradict := func(msg string, vs ...tls.Version) {
		res.Contradictions = append(res.Contradictions, msg)
		for _, v := range vs {
			if vr := res.Version(v); vr != nil && vr.Outcome != Inconclusive {
				// What the version accepted is no longer known either.
				vr.Outcome, vr.Reason = Inconclusive, "contradiction: "+msg
				if len(vr.Suites) > 0 {
					vr.Inconclusive = append(slices.Clone(vr.Suites), vr.Inconclusive...)
					vr.InconclusiveReason = vr.Reason
					vr.Suites, vr.ServerOrder, vr.OrderIncomplete, vr.ChaChaPriority = []uint16{}, nil, false, nil
				}
			}
		}
	}
	// The refusals are compared as the enumeration left them: a version
	// made inconclusive here still names its lower version.
	type pair struct {
		v, w   tls.Version
		reason string
	}
	var pairs []pair
	for _, vr := range res.Versions {
		if vr.lowerTo == 0 || vr.Outcome != Rejected {
			continue
		}
		if w := res.Version(vr.lowerTo); w != nil && w.Outcome == Rejected {
			pairs = append(pairs, pair{vr.Version, w.Version, w.Reason})
		}
	}
	for _, p := range pairs {
		v, w := p.v.String(), p.w.String()
		contradict(fmt.Sprintf("%s hellos were answered with %s, which is refused itself (%s)", v, w, p.reason), p.v, p.w)
	}

	if c := res.Cert; c != nil && c.Version != 0 {
		vr := res.Version(c.Version)
		name := c.Version.String()
		completed := res.CertError.IsZero()
		switch {
		case vr == nil:
		case vr.Outcome == Rejected:
			contradict(fmt.Sprintf("the certificate handshake negotiated %s with 0x%04X, which the enumeration found refused (%s)", name, c.CipherSuite, vr.Reason), c.Version)
		case vr.Outcome == Accepted && !e.opts.versionsOnly(c.Version) &&
			!slices.Contains(vr.Suites, c.CipherSuite) && !slices.Contains(vr.Inconclusive, c.CipherSuite) &&
			(completed || !slices.Contains(vr.ChosenNotCompleted, c.CipherSuite)):
			contradict(fmt.Sprintf("the certificate handshake negotiated %s with 0x%04X, which the enumeration did not find accepted", name, c.CipherSuite), c.Version)
		}
		if s, ok := ciphers.ByID(c.CipherSuite); ok && s.AEAD && c.Version < tls.VersionTLS12 && c.Version >= tls.VersionSSL30 {
			contradict(fmt.Sprintf("the certificate handshake negotiated %s with the AEAD suite 0x%04X, which only TLS 1.2 and later can use", name, c.CipherSuite), c.Version)
		}
	}

	if vr := res.Version(tls.VersionTLS13); vr != nil && vr.Outcome == Accepted {
		e.mu.Lock()
		sh, group := e.serverHello13, e.hrrGroup
		e.mu.Unlock()
		if !sh && (res.Cert == nil || res.Cert.Version != tls.VersionTLS13) {
			if why, ok := e.confirm13(ctx, vr.Suites, group); !ok && ctx.Err() == nil {
				contradict("TLS 1.3 was only answered with HelloRetryRequests: "+why, tls.VersionTLS13)
			}
		}
	}
}

// confirm13 sends a TLS 1.3 hello with key shares for group (the retry
// a HelloRetryRequest asks for, when a share for it can be made), x25519
// and secp256r1, and reports whether a ServerHello answered it;
// otherwise what did.
func (e *endpoint) confirm13(ctx context.Context, suites []uint16, group uint16) (string, bool) {
	groups := []uint16{tls.GroupX25519, tls.GroupP256}
	if group != 0 && !slices.Contains(groups, group) {
		if _, err := tls.GenerateKeyShare(group, e.opts.Rand); err == nil {
			groups = append([]uint16{group}, groups...)
		}
	}
	var names []string
	for _, g := range groups {
		names = append(names, groupName(g))
	}
	with := "a hello with key shares for " + strings.Join(names, ", ")
	hello, err := buildHello(helloParams{
		version: tls.VersionTLS13, suites: suites, host: e.target.Host, alpn: e.target.Protocol.ALPN(),
		groups: groups, shares13: groups, rand: e.opts.Rand,
	})
	if err != nil {
		return "no " + with + ": " + err.Error(), false
	}
	// A drop is no answer: on an unstable endpoint it is asked again.
	var a answer
	for try := range maxRechecks {
		a = e.probe(ctx, probeReq{purpose: forVerify, version: tls.VersionTLS13, hello: hello, offered: suites, alpn: len(e.target.Protocol.ALPN()) > 0})
		if a.drop == dropNone || !sleepCtx(ctx, e.backoff(try)) {
			break
		}
	}
	switch {
	case a.kind == ansHello && !a.hrr:
		return "", true
	case a.kind == ansHello:
		return with + " got another HelloRetryRequest", false
	}
	return with + " got: " + a.reason, false
}

func groupName(id uint16) string {
	if g, ok := ciphers.GroupByID(id); ok {
		return g.Name
	}
	return fmt.Sprintf("0x%04X", id)
}

// partialFailure reports whether a scanned endpoint has an inconclusive
// version, and the Failure naming them.
func partialFailure(res *Result) (Failure, bool) {
	var names []string
	reason := ""
	if res.SSLv2 != nil && res.SSLv2.Outcome == Inconclusive {
		names, reason = append(names, "SSLv2"), res.SSLv2.Reason
	}
	for _, v := range res.Versions {
		if v.Outcome == Inconclusive {
			names = append(names, v.Name())
			if reason == "" {
				reason = v.Reason
			}
		}
	}
	if len(names) == 0 {
		return Failure{}, false
	}
	return Failure{Stage: StageHello, Reason: strings.Join(names, ", ") + " inconclusive: " + reason}, true
}
