package main

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/internal/demo"
	"github.com/tlsmap/tlsmap/output"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/scan"
	"github.com/tlsmap/tlsmap/scan/targets"
)

// The typed flag values of the commands: each parses its text in Set, so
// that a command reads values, not strings to parse again. A bad value is
// a usage error whose message and hint parseFlags prints as the error:
// and hint: lines (instead of flag's own "invalid value" line and the
// whole usage).

// usageError is the error of a typed flag value, with its hint.
type usageError struct {
	err  error
	hint string
}

func (u *usageError) Error() string { return u.err.Error() }
func (u *usageError) Unwrap() error { return u.err }

// checked is embedded by the typed values: it keeps the error of their
// last Set for parseFlags.
type checked struct{ failed *usageError }

func (c *checked) fail(err error, hint string) error {
	c.failed = &usageError{err: err, hint: hint}
	return c.failed
}

func (c *checked) setError() *usageError { return c.failed }

// setErrorer is a typed value whose Set failed.
type setErrorer interface{ setError() *usageError }

// formatFlag is --format: an output format, or (scan with a policy) one of
// the gate's report formats, junit or sarif.
type formatFlag struct {
	checked
	f       output.Format
	report  string // "junit" or "sarif"; "" for an output format
	reports bool   // whether junit and sarif are accepted
}

func (v *formatFlag) String() string {
	if v.report != "" {
		return v.report
	}
	return v.f.String()
}

func (v *formatFlag) Set(s string) error {
	if n := strings.ToLower(s); v.reports && (n == formatJUnit || n == formatSARIF) {
		v.f, v.report = output.FormatTable, n
		return nil
	}
	f, err := output.ParseFormat(s)
	if err != nil {
		return v.fail(err, "")
	}
	v.f, v.report = f, ""
	return nil
}

// versionsFlag is a comma-separated list of versions to scan (--versions,
// --ciphers); nil when not given.
type versionsFlag struct {
	checked
	name string // the flag, for errors: "--versions"
	vs   []tls.Version
}

func (v *versionsFlag) String() string {
	var names []string
	for _, x := range v.vs {
		names = append(names, tls.Version(x).String())
	}
	return strings.Join(names, ",")
}

func (v *versionsFlag) Set(s string) error {
	vs, err := parseVersions(v.name, s)
	if err != nil {
		return v.fail(err, "versions are ssl2, ssl3, tls1.0, tls1.1, tls1.2, tls1.3, comma-separated")
	}
	v.vs = vs
	return nil
}

// parseVersions parses "tls1.0,tls1.2" into wire versions, oldest first;
// flag names the flag in errors.
func parseVersions(flag, s string) ([]tls.Version, error) {
	var vs []tls.Version
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		var v tls.Version
		switch strings.ToLower(part) {
		case "ssl2", "sslv2", "ssl2.0", "sslv2.0":
			v = tls.VersionSSL20
		default:
			tv, err := tls.ParseVersion(part)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
			v = tv
		}
		if !slices.Contains(scan.AllVersions, v) {
			return nil, fmt.Errorf("%s: %s cannot be scanned (want ssl2, ssl3, tls1.0 … tls1.3)", flag, v)
		}
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	return vs, nil
}

// portsFlag is -p: "25,465,443" (duplicates dropped, order kept).
type portsFlag struct {
	checked
	ports []uint16
}

func (v *portsFlag) String() string {
	var s []string
	for _, p := range v.ports {
		s = append(s, strconv.Itoa(int(p)))
	}
	return strings.Join(s, ",")
}

func (v *portsFlag) Set(s string) error {
	var ps []uint16
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		n, err := strconv.ParseUint(part, 10, 16)
		if err != nil || n == 0 {
			return v.fail(fmt.Errorf("-p: port %q: want 1-65535", part), "e.g. -p 443,8443 or -p 25,465,587,993,995,443")
		}
		if !slices.Contains(ps, uint16(n)) {
			ps = append(ps, uint16(n))
		}
	}
	v.ports = ps
	return nil
}

// resolveFlag is --resolve: first or all.
type resolveFlag struct {
	checked
	m targets.ResolveMode
}

func (v *resolveFlag) String() string { return v.m.String() }

func (v *resolveFlag) Set(s string) error {
	m, err := targets.ParseResolveMode(s)
	if err != nil {
		return v.fail(fmt.Errorf("--resolve: %w", err), "")
	}
	v.m = m
	return nil
}

// shardFlag is --shard I/N.
type shardFlag struct {
	checked
	s targets.Shard
}

func (v *shardFlag) String() string {
	if v.s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", v.s.Index, v.s.Count)
}

func (v *shardFlag) Set(s string) error {
	sh, err := targets.ParseShard(s)
	if err != nil {
		return v.fail(fmt.Errorf("--shard: %w", err), "e.g. --shard 1/4 on the first of four machines")
	}
	v.s = sh
	return nil
}

// excludeFlag is --exclude, repeatable: the addresses never scanned; nil
// when not given.
type excludeFlag struct {
	checked
	set *targets.AddrSet
}

func (v *excludeFlag) String() string { return "" }

func (v *excludeFlag) Set(s string) error {
	if v.set == nil {
		v.set = &targets.AddrSet{}
	}
	if err := v.set.ParseExclude(s); err != nil {
		return v.fail(fmt.Errorf("--exclude: %w", err), "e.g. --exclude 10.0.0.0/24,10.1.2.3 or --exclude @excluded.txt")
	}
	return nil
}

// sniFlag is --sni: a DNS host name (RFC 6066 section 3: no IP literal,
// no port), kept lower-case without a trailing dot.
type sniFlag struct {
	checked
	name string
}

func (v *sniFlag) String() string { return v.name }

func (v *sniFlag) Set(s string) error {
	if err := checkSNI(s); err != nil {
		return v.fail(err, "--sni takes a host name, without port or scheme")
	}
	v.name = strings.ToLower(strings.TrimSuffix(s, "."))
	return nil
}

// checkSNI accepts a DNS host name (RFC 6066 section 3: no IP literal,
// no port).
func checkSNI(name string) error {
	t, err := scan.ParseTarget(name, scan.TargetOptions{})
	switch {
	case err != nil:
		return fmt.Errorf("--sni %q: %w", name, err)
	case t.Host == "":
		return fmt.Errorf("--sni %q: SNI cannot be an IP address (RFC 6066, section 3)", name)
	case strings.ContainsAny(name, ":/"):
		return fmt.Errorf("--sni %q: a host name, without port or scheme", name)
	}
	return nil
}

// listFlag collects a repeatable string flag (-iL FILE, -r FILE).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// sniffReportFlag is sniff's --report: legacy or flows; "" for the
// format's default.
type sniffReportFlag struct {
	checked
	view string
}

func (v *sniffReportFlag) String() string { return v.view }

func (v *sniffReportFlag) Set(s string) error {
	switch s {
	case "legacy", "flows", "evidence":
		v.view = s
		return nil
	}
	return v.fail(fmt.Errorf("sniff: unknown report %q", s), "--report is legacy (one row per client), flows (one row per connection) or evidence (one record per client, server, version, cipher and day, as tlsmap logs writes)")
}

// demoSourceFlag is demo's --sniff: auto, live or capture.
type demoSourceFlag struct {
	checked
	src demo.Source
}

func (v *demoSourceFlag) String() string { return string(v.src) }

func (v *demoSourceFlag) Set(s string) error {
	src, err := demo.ParseSource(s)
	if err != nil {
		return v.fail(err, "")
	}
	v.src = src
	return nil
}

var (
	_ flag.Value = (*formatFlag)(nil)
	_ flag.Value = (*versionsFlag)(nil)
	_ flag.Value = (*portsFlag)(nil)
	_ flag.Value = (*resolveFlag)(nil)
	_ flag.Value = (*shardFlag)(nil)
	_ flag.Value = (*excludeFlag)(nil)
	_ flag.Value = (*sniFlag)(nil)
	_ flag.Value = (*listFlag)(nil)
	_ flag.Value = (*sniffReportFlag)(nil)
	_ flag.Value = (*demoSourceFlag)(nil)
)

// concurrencyFlag is scan's --concurrency: a number of targets scanned at
// once, or auto (the zero value, the default): scan.SweepOptions.Auto,
// from 1 up to scan.DefaultMaxConcurrency.
type concurrencyFlag struct {
	checked
	n int // 0: auto
}

func (v *concurrencyFlag) String() string {
	if v.n == 0 {
		return "auto"
	}
	return strconv.Itoa(v.n)
}

func (v *concurrencyFlag) Set(s string) error {
	if strings.EqualFold(s, "auto") {
		v.n = 0
		return nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return v.fail(fmt.Errorf("--concurrency %q: a number of targets, or auto", s), "e.g. --concurrency 64, or leave it out: auto grows with the sweep up to "+strconv.Itoa(scan.DefaultMaxConcurrency))
	case n < 1:
		return v.fail(fmt.Errorf("--concurrency %d: must be at least 1", n), "")
	}
	v.n = n
	return nil
}

// sweepOptions are the scan.SweepOptions of the value.
func (v *concurrencyFlag) sweepOptions() scan.SweepOptions {
	if v.n == 0 {
		return scan.SweepOptions{Auto: true, MaxConcurrency: scan.DefaultMaxConcurrency}
	}
	return scan.SweepOptions{Concurrency: v.n}
}
