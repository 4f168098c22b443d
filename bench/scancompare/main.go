// Command scancompare starts the local endpoints of the real-server tests
// (internal/realserver: openssl s_server and nginx setups), each behind a
// TCP proxy that counts connections, and scans each with tlsmap, sslscan
// and testssl.sh in turn, printing wall times and connection counts side
// by side, and tlsmap's enumeration connections against their lower bound.
//
// Run it through bench/scan-compare.sh (make bench-scan). It sends traffic
// only to 127.0.0.1.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tlsmap/tlsmap/internal/realserver"
)

func main() {
	tlsmap := flag.String("tlsmap", "bin/tlsmap", "tlsmap `binary`")
	configs := flag.String("configs", "", "comma-separated realserver config `names` (default all)")
	tools := flag.String("tools", "tlsmap,sslscan,testssl", "comma-separated `tools` to run")
	timeout := flag.Duration("timeout", 10*time.Minute, "bound on one tool's run against one server")
	verbose := flag.Bool("v", false, "print each tool's output to stderr")
	flag.Parse()
	if err := run(*tlsmap, *configs, strings.Split(*tools, ","), *timeout, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

// tool is one scanner and how to point it at an address.
type tool struct {
	name string
	cmd  func(addr string) (string, []string)
}

func toolsByName(tlsmap string) map[string]tool {
	return map[string]tool{
		"tlsmap": {"tlsmap", func(addr string) (string, []string) {
			return tlsmap, []string{"scan", "--format", "jsonl", addr}
		}},
		"sslscan": {"sslscan", func(addr string) (string, []string) {
			return "sslscan", []string{"--no-colour", addr}
		}},
		"testssl": {"testssl.sh -E", func(addr string) (string, []string) {
			bin := "testssl.sh"
			if _, err := exec.LookPath(bin); err != nil {
				bin = "testssl" // Debian's name
			}
			return bin, []string{"-E", "--warnings", "off", "--color", "0", addr}
		}},
	}
}

// measurement is one tool's run against one server.
type measurement struct {
	config, tool string
	wall         time.Duration
	conns        int
	err          error
	tl           *tlsmapFigures
}

// tlsmapFigures is what tlsmap says about its own run.
type tlsmapFigures struct {
	total, enum, lower, order, groups, cert int
	accepted                                int
}

func run(tlsmap string, configNames string, toolNames []string, timeout time.Duration, verbose bool) error {
	all := toolsByName(tlsmap)
	var tools []tool
	for _, n := range toolNames {
		t, ok := all[strings.TrimSpace(n)]
		if !ok {
			return fmt.Errorf("unknown tool %q (want tlsmap, sslscan, testssl)", n)
		}
		bin, _ := t.cmd("x")
		if _, err := exec.LookPath(bin); err != nil {
			fmt.Fprintf(os.Stderr, "scancompare: skipping %s: %v\n", t.name, err)
			continue
		}
		tools = append(tools, t)
	}
	var cfgs []realserver.Config
	if configNames == "" {
		cfgs = realserver.Configs()
	} else {
		for _, n := range strings.Split(configNames, ",") {
			c, ok := realserver.ConfigByName(strings.TrimSpace(n))
			if !ok {
				return fmt.Errorf("unknown config %q", n)
			}
			cfgs = append(cfgs, c)
		}
	}
	dir, err := os.MkdirTemp("", "scancompare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var results []measurement
	for _, cfg := range cfgs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		srv, err := realserver.Start(ctx, cfg, filepath.Join(dir, cfg.Name))
		cancel()
		if err != nil {
			return err
		}
		proxy, err := realserver.StartProxy(srv.Addr)
		if err != nil {
			srv.Close()
			return err
		}
		fmt.Fprintf(os.Stderr, "scancompare: %s on %s (proxy %s)\n", cfg.Name, srv.Addr, proxy.Addr)
		for _, t := range tools {
			proxy.Reset()
			bin, args := t.cmd(proxy.Addr)
			m := measurement{config: cfg.Name, tool: t.name}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			cmd := exec.CommandContext(ctx, bin, args...)
			var out bytes.Buffer
			cmd.Stdout = &out
			cmd.Stderr = &out
			start := time.Now()
			err := cmd.Run()
			m.wall = time.Since(start)
			cancel()
			// Let the proxy see the last connections close.
			time.Sleep(100 * time.Millisecond)
			m.conns = proxy.Reset()
			if err != nil && !(t.name == "tlsmap" && cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 1) {
				m.err = fmt.Errorf("%s: %w", t.name, err)
			}
			if t.name == "tlsmap" {
				m.tl, err = tlsmapFiguresOf(out.Bytes())
				if err != nil && m.err == nil {
					m.err = err
				}
			}
			if verbose {
				fmt.Fprintf(os.Stderr, "==== %s %s\n%s\n", cfg.Name, t.name, out.String())
			}
			if m.err != nil {
				fmt.Fprintf(os.Stderr, "scancompare: %s %s: %v\n%s\n", cfg.Name, t.name, m.err, tail(out.String(), 20))
			}
			results = append(results, m)
		}
		proxy.Close()
		if err := srv.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "scancompare: %s: %v\n", cfg.Name, err)
		}
	}
	report(os.Stdout, results, tools)
	return nil
}

// tlsmapFiguresOf reads tlsmap's JSON Lines record.
func tlsmapFiguresOf(out []byte) (*tlsmapFigures, error) {
	var rec struct {
		Handshakes struct {
			Total     int            `json:"total"`
			ByPurpose map[string]int `json:"by_purpose"`
		} `json:"handshakes"`
		Versions []struct {
			Version  string `json:"version"`
			Outcome  string `json:"outcome"`
			Accepted int    `json:"accepted"`
		} `json:"versions"`
	}
	line, _, _ := bytes.Cut(out, []byte("\n"))
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, fmt.Errorf("tlsmap output: %w", err)
	}
	f := &tlsmapFigures{total: rec.Handshakes.Total}
	p := rec.Handshakes.ByPurpose
	f.enum = p["sslv2"] + p["versions"] + p["suites"]
	f.order, f.groups, f.cert = p["order"], p["groups"], p["certificate"]
	// Lower bound of enumeration: one connection per accepted suite, plus
	// the refusal that ends each version (a rejected version: just that).
	for _, v := range rec.Versions {
		if v.Version == "SSLv2" {
			f.lower++ // one SERVER-HELLO lists every shared kind
			continue
		}
		f.lower += v.Accepted + 1
		f.accepted += v.Accepted
	}
	return f, nil
}

func report(w io.Writer, results []measurement, tools []tool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "server\t")
	for _, t := range tools {
		fmt.Fprintf(tw, "%s wall\t%s conns\t", t.name, t.name)
	}
	fmt.Fprint(tw, "\n")
	byKey := map[string]measurement{}
	var order []string
	for _, m := range results {
		if _, ok := byKey[m.config+"\x00"]; !ok {
			byKey[m.config+"\x00"] = m
			order = append(order, m.config)
		}
		byKey[m.config+"\x00"+m.tool] = m
	}
	for _, c := range order {
		fmt.Fprintf(tw, "%s\t", c)
		for _, t := range tools {
			m := byKey[c+"\x00"+t.name]
			mark := ""
			if m.err != nil {
				mark = " (failed)"
			}
			fmt.Fprintf(tw, "%.2fs%s\t%d\t", m.wall.Seconds(), mark, m.conns)
		}
		fmt.Fprint(tw, "\n")
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "server\taccepted suites\ttlsmap total\tproxy count\tenumeration\tlower bound\torder\tgroups\tcertificate\t\n")
	for _, c := range order {
		m, ok := byKey[c+"\x00tlsmap"]
		if !ok || m.tl == nil {
			continue
		}
		f := m.tl
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c, f.accepted, f.total, m.conns, f.enum, f.lower, f.order, f.groups, f.cert)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nenumeration = sslv2 + versions + suites probes; lower bound = Σ over probed versions of (accepted suites + 1).")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
