package realserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Wire versions, as OpenSSLTruth reports them.
const (
	TLS10 uint16 = 0x0301
	TLS11 uint16 = 0x0302
	TLS12 uint16 = 0x0303
	TLS13 uint16 = 0x0304
)

// TruthOptions configures OpenSSLTruth.
type TruthOptions struct {
	// ServerName is sent as SNI; "" sends none.
	ServerName string
	// Versions to examine (nil: TLS10, TLS11, TLS12, TLS13). OpenSSL 3
	// has no SSLv3 or SSLv2 client any more.
	Versions []uint16
	// Parallel is how many s_client processes run at once (0: 8).
	Parallel int
	// Timeout bounds each s_client run (0: 15 s).
	Timeout time.Duration
	// STARTTLS, when set ("smtp", "imap", "pop3", "ldap", "ftp" …), is
	// passed to every s_client run as -starttls: the handshake follows
	// that protocol's plaintext upgrade. "" for implicit TLS.
	STARTTLS string
	// XMPPHost is s_client's -xmpphost, the domain of an XMPP stream
	// header ("" lets s_client use the host of the address).
	XMPPHost string
	// VersionsOnly examines the versions alone (Truth.Suites stays
	// empty): one s_client run a version.
	VersionsOnly bool
}

// Truth is what an endpoint accepts according to openssl s_client.
type Truth struct {
	// Versions maps each examined version to whether the server completed
	// a handshake at it when offered every suite OpenSSL has.
	Versions map[uint16]bool
	// Suites maps each accepted version to its accepted suites: in the
	// server's order when ServerOrder[v], otherwise ascending by ID.
	Suites map[uint16][]uint16
	// ServerOrder maps a version with two or more accepted suites to
	// whether the server chose the same of two suites offered in both
	// orders.
	ServerOrder map[uint16]bool
	// ChaChaPriority maps a version whose server order ranks an AES suite
	// above a ChaCha20 one to whether a client offering ChaCha20 first
	// gets ChaCha20 (OpenSSL's -prioritize_chacha).
	ChaChaPriority map[uint16]bool
	// Names maps every suite OpenSSL knows to its OpenSSL name.
	Names map[uint16]string
	// Runs is the number of s_client processes run; Elapsed the time.
	Runs    int
	Elapsed time.Duration
}

// opensslSuite is one line of openssl ciphers -V.
type opensslSuite struct {
	id   uint16
	name string
	min  string // the lowest version that can use it: SSLv3, TLSv1, TLSv1.2, TLSv1.3
}

// OpenSSLTruth computes, with nothing but openssl s_client, which suites
// the TLS server at addr ("host:port") accepts at each version, and the
// order it enforces if it does.
//
// For each version it first offers every suite OpenSSL knows; a version
// that fails is not accepted. For an accepted one it offers each suite
// that can be used at it, one suite per connection: the suite is accepted
// when s_client completes a handshake at that version with that suite.
// For two or more accepted suites it offers two in both orders; when the
// server picks the same both times it enforces its order, which is then
// read by offering all accepted suites but those already ranked until one
// is left (in ascending ID order, so ChaCha20 is never first in TLS ≤ 1.2).
//
// The suites are those of openssl ciphers -V 'ALL:COMPLEMENTOFALL' and the
// five TLS 1.3 suites; PSK and SRP suites are offered too, though
// s_client cannot offer them without a PSK or SRP login and so never finds
// them accepted.
func OpenSSLTruth(ctx context.Context, addr string, opts TruthOptions) (*Truth, error) {
	start := time.Now()
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Second
	}
	versions := opts.Versions
	if versions == nil {
		versions = []uint16{TLS10, TLS11, TLS12, TLS13}
	}
	known, err := opensslSuites(ctx)
	if err != nil {
		return nil, err
	}
	c := &client{addr: addr, opts: opts, sem: make(chan struct{}, opts.Parallel)}
	tr := &Truth{
		Versions:       map[uint16]bool{},
		Suites:         map[uint16][]uint16{},
		ServerOrder:    map[uint16]bool{},
		ChaChaPriority: map[uint16]bool{},
		Names:          map[uint16]string{},
	}
	byName := map[string]uint16{}
	for _, s := range known {
		tr.Names[s.id] = s.name
		byName[s.name] = s.id
	}

	// Versions, all at once.
	verOK := make([]bool, len(versions))
	var wg sync.WaitGroup
	errs := make([]error, len(versions))
	for i, v := range versions {
		var names []string
		for _, s := range usable(known, v) {
			names = append(names, s.name)
		}
		wg.Go(func() {
			got, err := c.handshake(ctx, v, names)
			verOK[i], errs[i] = got != "", err
		})
	}
	wg.Wait()
	for i, v := range versions {
		if errs[i] != nil {
			return nil, errs[i]
		}
		tr.Versions[v] = verOK[i]
	}

	if opts.VersionsOnly {
		tr.Runs = int(c.runs.Load())
		tr.Elapsed = time.Since(start)
		return tr, nil
	}

	// Suites, one per connection, every version at once.
	type job struct {
		v uint16
		s opensslSuite
	}
	var jobs []job
	for i, v := range versions {
		if verOK[i] {
			for _, s := range usable(known, v) {
				jobs = append(jobs, job{v, s})
			}
		}
	}
	accepted := make([]bool, len(jobs))
	errs = make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() {
			got, err := c.handshake(ctx, j.v, []string{j.s.name})
			accepted[i], errs[i] = got == j.s.name, err
		})
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if accepted[i] {
			tr.Suites[j.v] = append(tr.Suites[j.v], j.s.id)
		}
	}

	// Order, per version.
	for _, v := range versions {
		ids := tr.Suites[v]
		slices.Sort(ids)
		if len(ids) < 2 {
			continue
		}
		name := func(id uint16) string { return tr.Names[id] }
		first, err := c.handshake(ctx, v, []string{name(ids[0]), name(ids[1])})
		if err != nil {
			return nil, err
		}
		second, err := c.handshake(ctx, v, []string{name(ids[1]), name(ids[0])})
		if err != nil {
			return nil, err
		}
		if first == "" || second == "" {
			return nil, fmt.Errorf("realserver: %s refused %s+%s at %s after accepting each alone", addr, name(ids[0]), name(ids[1]), versionName(v))
		}
		tr.ServerOrder[v] = first == second
		if !tr.ServerOrder[v] {
			continue
		}
		var ranked []uint16
		rest := slices.Clone(ids)
		for len(rest) > 1 {
			var names []string
			for _, id := range rest {
				names = append(names, name(id))
			}
			got, err := c.handshake(ctx, v, names)
			if err != nil {
				return nil, err
			}
			id, ok := byName[got]
			if !ok || !slices.Contains(rest, id) {
				return nil, fmt.Errorf("realserver: %s chose %q at %s from %s", addr, got, versionName(v), strings.Join(names, ":"))
			}
			ranked = append(ranked, id)
			rest = slices.DeleteFunc(rest, func(x uint16) bool { return x == id })
		}
		tr.Suites[v] = append(ranked, rest...)

		// ChaCha20 priority: the best-ranked ChaCha20 suite offered
		// first, ahead of everything ranked above it.
		order := tr.Suites[v]
		ci := slices.IndexFunc(order, func(id uint16) bool { return strings.Contains(name(id), "CHACHA20") })
		if ci <= 0 {
			continue
		}
		names := []string{name(order[ci])}
		for _, id := range order[:ci] {
			names = append(names, name(id))
		}
		got, err := c.handshake(ctx, v, names)
		if err != nil {
			return nil, err
		}
		tr.ChaChaPriority[v] = got == name(order[ci])
	}
	tr.Runs = int(c.runs.Load())
	tr.Elapsed = time.Since(start)
	return tr, nil
}

// usable returns the suites OpenSSL can use at v.
func usable(known []opensslSuite, v uint16) []opensslSuite {
	var out []opensslSuite
	for _, s := range known {
		switch s.min {
		case "TLSv1.3":
			if v == TLS13 {
				out = append(out, s)
			}
		case "TLSv1.2":
			if v == TLS12 {
				out = append(out, s)
			}
		default: // SSLv3, TLSv1
			if v <= TLS12 {
				out = append(out, s)
			}
		}
	}
	return out
}

// opensslSuites lists every suite OpenSSL knows.
func opensslSuites(ctx context.Context) ([]opensslSuite, error) {
	out, err := run(ctx, "", "openssl", "ciphers", "-V", "-ciphersuites", AllTLS13Suites, allSuites)
	if err != nil {
		return nil, fmt.Errorf("realserver: %w", err)
	}
	var suites []opensslSuite
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		// "0xC0,0x2F - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH ..."
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[1] != "-" {
			continue
		}
		hi, lo, ok := strings.Cut(f[0], ",")
		if !ok {
			return nil, fmt.Errorf("realserver: openssl ciphers: bad line %q", sc.Text())
		}
		h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 8)
		l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 8)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("realserver: openssl ciphers: bad line %q", sc.Text())
		}
		suites = append(suites, opensslSuite{id: uint16(h)<<8 | uint16(l), name: f[2], min: f[3]})
	}
	if len(suites) < 50 {
		return nil, fmt.Errorf("realserver: openssl ciphers listed only %d suites:\n%s", len(suites), out)
	}
	return suites, nil
}

// client runs s_client against one address.
type client struct {
	addr string
	opts TruthOptions
	sem  chan struct{}
	runs atomic.Int64
}

// handshake runs s_client offering names (suites, in that order) at
// version v only, and returns the suite negotiated, "" when none was (a
// refusal, or a handshake at another version).
func (c *client) handshake(ctx context.Context, v uint16, names []string) (string, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
	defer func() { <-c.sem }()
	c.runs.Add(1)

	args := []string{"s_client", "-connect", c.addr}
	switch v {
	case TLS10:
		args = append(args, "-tls1")
	case TLS11:
		args = append(args, "-tls1_1")
	case TLS12:
		args = append(args, "-tls1_2")
	case TLS13:
		args = append(args, "-tls1_3")
	default:
		return "", fmt.Errorf("realserver: s_client cannot do version 0x%04x", v)
	}
	list := strings.Join(names, ":")
	if v == TLS13 {
		args = append(args, "-ciphersuites", list, "-cipher", "ALL:@SECLEVEL=0")
	} else {
		args = append(args, "-cipher", list+":@SECLEVEL=0")
	}
	if c.opts.STARTTLS != "" {
		args = append(args, "-starttls", c.opts.STARTTLS)
	}
	if c.opts.XMPPHost != "" {
		args = append(args, "-xmpphost", c.opts.XMPPHost)
	}
	if c.opts.ServerName != "" {
		args = append(args, "-servername", c.opts.ServerName)
	} else {
		args = append(args, "-noservername")
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, "openssl", args...)
	cmd.Stdin = nil // EOF at once: s_client closes after the handshake
	out, err := cmd.CombinedOutput()
	if rctx.Err() != nil {
		return "", fmt.Errorf("realserver: openssl %s: %w\n%s", strings.Join(args, " "), context.Cause(rctx), out)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return "", fmt.Errorf("realserver: openssl s_client: %w", err)
	}
	// A refused handshake exits 1: that is data, not an error.
	return negotiated(out, v), nil
}

// negotiated reads the suite s_client negotiated from its output, "" when
// the handshake failed or ran at another version than v.
//
//	New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256
//	    Protocol  : TLSv1.2
//
// The first line names the suite's own lowest version, not the session's;
// the second, in the SSL-Session block, the session's, but TLS 1.3 prints
// that block only for a session ticket, which s_client may not wait for.
// A TLS 1.3 suite, though, is only ever negotiated at TLS 1.3.
func negotiated(out []byte, v uint16) string {
	suite, suiteVersion, proto := "", "", ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "New, "); ok {
			if sv, name, ok := strings.Cut(rest, ", Cipher is "); ok {
				suiteVersion, suite = sv, name
			}
		}
		if after, ok := strings.CutPrefix(line, "Protocol  :"); ok && proto == "" {
			proto = strings.TrimSpace(after)
		}
	}
	if suite == "" || suite == "(NONE)" {
		return ""
	}
	if v == TLS13 {
		if suiteVersion != "TLSv1.3" {
			return ""
		}
	} else if suiteVersion == "TLSv1.3" || proto != versionName(v) {
		return ""
	}
	return suite
}

// versionName is OpenSSL's name of a version.
func versionName(v uint16) string {
	switch v {
	case TLS10:
		return "TLSv1"
	case TLS11:
		return "TLSv1.1"
	case TLS12:
		return "TLSv1.2"
	case TLS13:
		return "TLSv1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
