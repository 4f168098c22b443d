package sniff

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

var reportT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// reportFlow is a flow from client to server that offered the versions
// offered (highest first) and negotiated version (0: no ServerHello).
func reportFlow(client, server string, version tls.Version, offered ...tls.Version) *Flow {
	f := &Flow{
		Client:          netip.MustParseAddrPort(client),
		Server:          netip.MustParseAddrPort(server),
		Protocol:        "https",
		OfferedVersions: offered,
		ClientHello:     []byte{1, 0, 0, 0},
		Version:         version,
		FirstSeen:       reportT0,
		LastSeen:        reportT0.Add(time.Second),
	}
	if version != 0 {
		f.Cipher = 0xC014
	}
	return f
}

const (
	v10 = tls.VersionTLS10
	v11 = tls.VersionTLS11
	v12 = tls.VersionTLS12
	v13 = tls.VersionTLS13
	v30 = tls.VersionSSL30
)

func TestLegacyReasons(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *Flow
		want []string
	}{
		{"tls1.3 client and server", reportFlow("10.0.0.1:1000", "10.0.0.9:443", v13, v13, v12), nil},
		{"modern client, legacy server", reportFlow("10.0.0.1:1000", "10.0.0.9:443", v10, v12, v11, v10), []string{ReasonNegotiated}},
		{"legacy-only client, no server hello", reportFlow("10.0.0.1:1000", "10.0.0.9:443", 0, v11, v10), []string{ReasonOffered}},
		{"legacy both", reportFlow("10.0.0.1:1000", "10.0.0.9:443", v10, v10), []string{ReasonNegotiated, ReasonOffered}},
		{"ssl3", reportFlow("10.0.0.1:1000", "10.0.0.9:443", v30, v30), []string{ReasonNegotiated, ReasonOffered}},
		{"grease ignored", reportFlow("10.0.0.1:1000", "10.0.0.9:443", v13, 0x0A0A, v13, v12), nil},
		{"tls1.3 draft is not legacy", reportFlow("10.0.0.1:1000", "10.0.0.9:443", 0, 0x7f17, v12), nil},
		{"no hello at all", &Flow{}, nil},
	} {
		if got := LegacyReasons(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	f := reportFlow("10.0.0.1:1000", "10.0.0.9:443", v12, v12)
	f.SSLv2 = true
	if got := LegacyReasons(f); !reflect.DeepEqual(got, []string{ReasonSSLv2Hello}) {
		t.Errorf("SSLv2 hello: %v", got)
	}
}

func TestLoadFingerprints(t *testing.T) {
	const good = `fingerprint,label
# known clients
4e9d43688ef48b6b1fbe71f290acfc8f, Python 3.11 TLS 1.0

T10D230600_44099CDA8A52_195413A0CC0F,not a JA4: upper case
`
	if _, err := LoadFingerprints(strings.NewReader(good), "fp.csv"); err == nil || !strings.Contains(err.Error(), "fp.csv:5:") {
		t.Errorf("upper-case JA4: %v, want an error at fp.csv:5", err)
	}
	fp, err := LoadFingerprints(strings.NewReader(strings.Replace(good, "T10D230600_44099CDA8A52_195413A0CC0F", "t10d230600_44099cda8a52_195413a0cc0f", 1)), "fp.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 2 || fp["4e9d43688ef48b6b1fbe71f290acfc8f"] != "Python 3.11 TLS 1.0" {
		t.Errorf("fingerprints %v", fp)
	}
	f := &Flow{JA3: "4e9d43688ef48b6b1fbe71f290acfc8f", JA4: "t10d230600_44099cda8a52_195413a0cc0f"}
	if got := fp.Label(f); got != "not a JA4: upper case" {
		t.Errorf("JA4 wins over JA3: got %q", got)
	}
	f.JA4 = "t13d1516h2_8daaf6152771_e5627efa2ab1"
	if got := fp.Label(f); got != "Python 3.11 TLS 1.0" {
		t.Errorf("JA3 label: got %q", got)
	}
	if got := Fingerprints(nil).Label(f); got != "" {
		t.Errorf("nil fingerprints: %q", got)
	}

	for _, tc := range []struct{ in, want string }{
		{"abc,x\n", ":1: \"abc\" is neither"},
		{"# c\n4e9d43688ef48b6b1fbe71f290acfc8f\n", ":2: want 2 fields"},
		{"4e9d43688ef48b6b1fbe71f290acfc8f,a,b\n", ":1: want 2 fields"},
		{"4e9d43688ef48b6b1fbe71f290acfc8f,\n", ":1: empty label"},
		{"4e9d43688ef48b6b1fbe71f290acfc8f,\"unterminated\n", "bad.csv:1"},
	} {
		_, err := LoadFingerprints(strings.NewReader(tc.in), "bad.csv")
		if !errors.Is(err, ErrFingerprints) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want ErrFingerprints with %q", tc.in, err, tc.want)
		}
	}
}

func TestReport(t *testing.T) {
	fp := Fingerprints{"t10d230600_44099cda8a52_195413a0cc0f": "old-python"}
	r := NewReport(ReportConfig{Fingerprints: fp, SetLimit: 2})
	// 10.0.0.1: a modern flow, then two legacy flows to three servers.
	r.Add(reportFlow("10.0.0.1:1000", "10.0.0.9:443", v13, v13, v12))
	a := reportFlow("10.0.0.1:1001", "10.0.0.9:443", v10, v12, v11, v10)
	a.SNI, a.JA4 = "a.example", "t10d230600_44099cda8a52_195413a0cc0f"
	r.Add(a)
	b := reportFlow("10.0.0.1:1002", "10.0.0.8:993", v11, v11, v10)
	b.Protocol, b.SNI = "imap", "b.example"
	b.FirstSeen = reportT0.Add(-time.Minute)
	r.Add(b)
	c := reportFlow("10.0.0.1:1003", "10.0.0.7:443", v11, v11)
	c.SNI = "c.example"
	c.LastSeen = reportT0.Add(time.Hour)
	r.Add(c)
	// 10.0.0.2: one legacy flow without ServerHello; IPv4-mapped IPv6
	// counts as the same address as plain IPv4.
	r.Add(reportFlow("[::ffff:10.0.0.2]:2000", "10.0.0.9:443", 0, v10))
	r.Add(reportFlow("10.0.0.2:2001", "10.0.0.9:443", v12, v12))
	// 10.0.0.3: modern only; a flow without hellos is ignored.
	r.Add(reportFlow("10.0.0.3:3000", "10.0.0.9:443", v13, v13))
	r.Add(&Flow{Client: netip.MustParseAddrPort("10.0.0.4:4000")})

	clients := r.Clients()
	if len(clients) != 2 {
		t.Fatalf("%d legacy clients, want 2", len(clients))
	}
	c1, c2 := clients[0], clients[1]
	if c1.Client.String() != "10.0.0.1" || c2.Client.String() != "10.0.0.2" {
		t.Fatalf("order: %v, %v", c1.Client, c2.Client)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("connections", [2]int{c1.Connections, c1.LegacyConnections}, [2]int{4, 3})
	check("snis", c1.ServerNames.Strings(), []string{"a.example", "b.example", "+1 more"})
	check("servers", c1.Servers.Strings(), []string{"10.0.0.9:443", "10.0.0.8:993", "+1 more"})
	check("protocols", c1.Protocols.Strings(), []string{"https", "imap"})
	check("negotiated", c1.Negotiated, map[string]int{"TLSv1.0": 1, "TLSv1.1": 2})
	check("offered", c1.Offered.Strings(), []string{"TLSv1.2", "TLSv1.1", "+1 more"})
	check("labels", c1.Labels.Strings(), []string{"old-python"})
	check("reasons", c1.Reasons.Strings(), []string{ReasonNegotiated, ReasonOffered})
	check("first", c1.FirstSeen, reportT0.Add(-time.Minute))
	check("last", c1.LastSeen, reportT0.Add(time.Hour))
	check("c2 connections", [2]int{c2.Connections, c2.LegacyConnections}, [2]int{2, 1})
	check("c2 negotiated", c2.Negotiated, map[string]int{"none": 1})
	check("c2 ciphers", len(c2.Ciphers.Strings()), 0)

	tot := r.Totals()
	check("totals", [4]int{tot.Flows, tot.LegacyFlows, tot.Clients, tot.LegacyClients}, [4]int{7, 4, 3, 2})
	check("by version", tot.ByVersion, map[string]int{"TLSv1.3": 2, "TLSv1.2": 1, "TLSv1.1": 2, "TLSv1.0": 1, "none": 1})
	check("by protocol", tot.ByProtocol, map[string]int{"https": 6, "imap": 1})

	// MaxClients bounds the table; the flows still count in the totals.
	small := NewReport(ReportConfig{MaxClients: 1})
	small.Add(reportFlow("10.0.0.1:1", "10.0.0.9:443", v10, v10))
	small.Add(reportFlow("10.0.0.2:1", "10.0.0.9:443", v10, v10))
	if tt := small.Totals(); tt.DroppedClients != 1 || tt.Flows != 2 || len(small.Clients()) != 1 {
		t.Errorf("MaxClients: %+v, %d clients", tt, len(small.Clients()))
	}
}
