package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/tlsmap/tlsmap/output"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/mailserver"
	"github.com/tlsmap/tlsmap/internal/tlsclient"
	"github.com/tlsmap/tlsmap/internal/webserver"
	"github.com/tlsmap/tlsmap/protocols/tls"
	"github.com/tlsmap/tlsmap/sniff"
)

// balancerAddr is the address HAProxy connects to its backends from.
const balancerAddr = "127.0.0.200"

// TestHAProxyBackendCapture puts HAProxy in front of nginx and Dovecot —
// passing TLS through after a PROXY v1 header (send-proxy), and
// terminating it with the client's TLS reported in a PROXY v2 header
// (send-proxy-v2-ssl), and terminating HTTP with the client named in
// X-Forwarded-For and its version in X-SSL-Protocol — connects real
// clients from distinct loopback addresses with TLS 1.0 to 1.3, and
// captures with tcpdump only the balancer-to-backend side. From that capture the sniffer names every
// real client with the version it used, as the client itself reported —
// through the library and through tlsmap sniff's output — and with PROXY
// support off the same capture names the balancer alone.
func TestHAProxyBackendCapture(t *testing.T) {
	tlsclient.Need(t)
	ng := webserver.StartNginx(t, webserver.NginxOptions{})
	dc := mailserver.StartDovecot(t, mailserver.DovecotOptions{HAProxy: true})
	frontends := []webserver.Frontend{
		{Name: "web-pass", Mode: "tcp", Backend: ng.HTTPSProxied, ServerOptions: "send-proxy", Source: balancerAddr},
		{Name: "web-term", Mode: "tcp", TLS: true, Backend: ng.HTTPProxied, ServerOptions: "send-proxy-v2-ssl", Source: balancerAddr},
		{Name: "imap-pass", Mode: "tcp", Backend: dc.IMAPSHAProxy, ServerOptions: "send-proxy", Source: balancerAddr},
		{Name: "imap-term", Mode: "tcp", TLS: true, Backend: dc.IMAPHAProxy, ServerOptions: "send-proxy-v2-ssl", Source: balancerAddr},
		// HTTP terminated, forwarded in plaintext with the client in
		// X-Forwarded-For and its TLS version in X-SSL-Protocol.
		{Name: "web-http", Mode: "http", TLS: true, Backend: ng.HTTP, Source: balancerAddr, Lines: []string{
			"option forwardfor", "http-request set-header X-SSL-Protocol %[ssl_fc_protocol]"}},
	}
	hp := webserver.StartHAProxy(t, webserver.HAProxyOptions{Frontends: frontends})
	// Only the balancer's side: its address and the backends' ports (other
	// packages' tests share lo, and their ports may collide with ours).
	filter := "host " + balancerAddr + " and (" + webserver.PortFilter(ng.HTTPSProxied, ng.HTTPProxied, ng.HTTP, dc.IMAPSHAProxy, dc.IMAPHAProxy) + ")"

	const web = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"
	const imap = "a LOGOUT\r\n"
	var want map[string]string // client address → OpenSSL's version name
	var pcap string
	// A capture the kernel dropped packets from proves nothing either way:
	// it is taken again (a loaded machine), and the test fails if every
	// attempt lost some.
	for attempt := 1; ; attempt++ {
		capture := webserver.StartCapture(t, "lo", filter)
		want = map[string]string{}
		n := 100
		for _, f := range frontends {
			send := web
			if strings.HasPrefix(f.Name, "imap") {
				send = imap
			}
			for _, v := range tlsclient.Versions {
				src := fmt.Sprintf("127.0.0.%d", n)
				n++
				r := tlsclient.Connect(t, tlsclient.Options{Addr: hp.Addrs[f.Name], Source: src, Version: v, Send: send})
				want[src] = r.Version
			}
		}
		time.Sleep(200 * time.Millisecond) // the last backend packets
		pcap = capture.Stop(t)
		t.Logf("tcpdump: %d packets dropped by kernel (attempt %d)", capture.Dropped, attempt)
		if capture.Dropped <= 0 {
			break
		}
		if attempt == 3 {
			t.Fatalf("tcpdump: the kernel dropped packets in each of %d captures (%d in the last)", attempt, capture.Dropped)
		}
		t.Logf("tcpdump: the kernel dropped %d packets; capturing again", capture.Dropped)
	}

	read := func(cfg sniff.Config) []*sniff.Flow {
		src, err := sniff.OpenFiles(nil, pcap)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var flows []*sniff.Flow
		s := sniff.New(cfg, func(f *sniff.Flow) { flows = append(flows, f) })
		if err := s.Run(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		s.Flush()
		return flows
	}

	got := map[string]string{}
	for _, f := range read(sniff.Config{ProxyProtocol: true, HTTPForwarded: true, TLSHeader: "X-SSL-Protocol", Recognizers: sniff.DefaultRecognizers()}) {
		if len(f.Requests) > 0 && f.Proxy == nil {
			// The forwarded requests: each names its client and the
			// version the balancer negotiated with it.
			if f.Client.Addr() != netip.MustParseAddr(balancerAddr) {
				t.Errorf("forwarded requests from %v", f.Client)
			}
			for _, r := range f.Requests {
				got[r.Client.String()] = r.TLSVersion
			}
			continue
		}
		if f.Via.Addr() != netip.MustParseAddr(balancerAddr) {
			t.Errorf("flow from %v via %v: not through the balancer", f.Client, f.Via)
		}
		v := tls.Version(f.NegotiatedVersion()).String()
		if v == "TLSv1.0" {
			v = "TLSv1" // OpenSSL's name, as the clients report it
		}
		got[f.Client.Addr().String()] = v
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("from the backend capture:\n  %v\nthe clients reported:\n  %v", got, want)
	}

	// tlsmap sniff says the same: each connection's record names the real
	// client, via the balancer, with its version (the ServerHello's, or
	// the one the balancer reported for the TLS it terminated).
	sniffJSONL := func(args ...string) []map[string]any {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"sniff", "-r", pcap, "--format", "jsonl"}, args...), nil, &stdout, &stderr); code != exitOK {
			t.Fatalf("tlsmap sniff %v: exit %d: %s", args, code, stderr.String())
		}
		var recs []map[string]any
		for _, line := range bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if m["schema"] == output.SniffSummarySchema {
				continue // the coverage, last
			}
			recs = append(recs, m)
		}
		return recs
	}
	cli := map[string]string{}
	for _, r := range sniffJSONL("--tls-header", "X-SSL-Protocol") {
		if fw := r["forwarded"].([]any); len(fw) > 0 && r["proxy_version"].(float64) == 0 {
			for _, x := range fw {
				m := x.(map[string]any)
				cli[m["client"].(string)] = m["tls_version"].(string)
			}
			continue
		}
		client, _, _ := strings.Cut(r["client"].(string), ":")
		via, _, _ := strings.Cut(r["via"].(string), ":")
		if via != balancerAddr {
			t.Errorf("tlsmap sniff: %s via %q", client, via)
		}
		v := r["version"].(string)
		if v == "" {
			v = r["proxy_tls_version"].(string)
		}
		cli[client] = strings.Replace(v, "TLSv1.0", "TLSv1", 1)
	}
	if fmt.Sprint(cli) != fmt.Sprint(want) {
		t.Errorf("tlsmap sniff:\n  %v\nthe clients reported:\n  %v", cli, want)
	}
	var legacyWant, legacyGot []string
	for c, v := range want {
		if v == "TLSv1" || v == "TLSv1.1" {
			legacyWant = append(legacyWant, c)
		}
	}
	for _, r := range sniffJSONL("--report", "legacy", "--tls-header", "X-SSL-Protocol") {
		if r["schema"] == "tlsmap.sniff.client/1" {
			legacyGot = append(legacyGot, r["client"].(string))
		}
	}
	slices.Sort(legacyWant)
	slices.Sort(legacyGot)
	if !slices.Equal(legacyGot, legacyWant) {
		t.Errorf("tlsmap sniff --report legacy: %v, want %v", legacyGot, legacyWant)
	}
	for _, r := range sniffJSONL("--proxy-protocol=false") {
		if client, _, _ := strings.Cut(r["client"].(string), ":"); client != balancerAddr {
			t.Errorf("tlsmap sniff --proxy-protocol=false names %s", client)
		}
	}

	// tlsmap scan --proxy-protocol reaches the backends that take
	// connections only after a PROXY header: every version they accept is
	// found (scan's TestProxyProtocolBackends shows that without the
	// header none is).
	for _, tc := range []struct{ target, flag string }{
		{ng.HTTPSProxied, "v2"}, {"imaps://" + dc.IMAPSHAProxy, "v1"},
	} {
		var stdout, stderr bytes.Buffer
		run([]string{"scan", "--versions-only", "--no-cert", "--no-groups", "--versions", "tls1.0,tls1.1,tls1.2,tls1.3",
			"--format", "jsonl", "--proxy-protocol", tc.flag, tc.target}, nil, &stdout, &stderr)
		if n := strings.Count(stdout.String(), `"outcome":"accepted"`); n != 4 {
			t.Errorf("tlsmap scan --proxy-protocol %s %s: %d versions accepted, want 4\n%s%s", tc.flag, tc.target, n, stdout.String(), stderr.String())
		}
	}

	// Without PROXY support: the same connections, every one the
	// balancer's, and no real client's address anywhere.
	var clients []string
	for _, f := range read(sniff.Config{Recognizers: sniff.DefaultRecognizers(), AllFlows: true}) {
		clients = append(clients, f.Client.Addr().String())
		if f.Via.IsValid() || f.Proxy != nil {
			t.Errorf("PROXY off, yet %v via %v", f.Client, f.Via)
		}
	}
	slices.Sort(clients)
	clients = slices.Compact(clients)
	if len(clients) != 1 || clients[0] != balancerAddr {
		t.Errorf("PROXY off: clients %v, want only the balancer %s", clients, balancerAddr)
	}
}
