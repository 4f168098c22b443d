package evidence

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		o    Observation
		want Class
		key  string
	}{
		{Observation{Transport: TransportTLS, Version: tls.VersionTLS10}, ClassLegacy, "TLSv1.0"},
		{Observation{Transport: TransportTLS, Version: tls.VersionSSL30}, ClassLegacy, "SSLv3"},
		{Observation{Transport: TransportTLS, Version: tls.VersionTLS12}, ClassModern, "TLSv1.2"},
		{Observation{Transport: TransportTLS, Version: 0x7f17}, ClassModern, "TLSv1.3-draft-23"},
		// A log that says "TLS" and no version is never modern.
		{Observation{Transport: TransportTLS}, ClassUnknown, "unknown"},
		{Observation{Transport: TransportUnknown}, ClassUnknown, "unknown"},
		{Observation{Transport: TransportPlaintext}, ClassPlaintext, "plaintext"},
		// Captures: the highest version offered counts too.
		{Observation{Transport: TransportTLS, MaxOffered: tls.VersionTLS11}, ClassLegacy, "none"},
		{Observation{Transport: TransportTLS, MaxOffered: tls.VersionTLS13}, ClassModern, "none"},
		{Observation{Transport: TransportTLS, MaxOffered: tls.VersionTLS13, Version: tls.VersionTLS10}, ClassLegacy, "TLSv1.0"},
		{Observation{Transport: TransportTLS, MaxOffered: tls.VersionTLS12, SSLv2Hello: true, Version: tls.VersionTLS12}, ClassLegacy, "TLSv1.2"},
	} {
		if got := tc.o.Class(); got != tc.want {
			t.Errorf("%+v: class %v, want %v", tc.o, got, tc.want)
		}
		if got := tc.o.VersionKey(); got != tc.key {
			t.Errorf("%+v: version key %q, want %q", tc.o, got, tc.key)
		}
		if (tc.want == ClassLegacy) != (len(tc.o.LegacyReasons()) > 0) {
			t.Errorf("%+v: reasons %v for class %v", tc.o, tc.o.LegacyReasons(), tc.want)
		}
	}
}

func TestSources(t *testing.T) {
	for s := SourceCapture; s <= SourceHAProxy; s++ {
		back, err := ParseSource(s.String())
		if err != nil || back != s {
			t.Errorf("ParseSource(%q) = %v, %v", s, back, err)
		}
	}
	if _, err := ParseSource("unknown"); err == nil {
		t.Error("ParseSource(unknown) succeeded")
	}
}

func TestCipher(t *testing.T) {
	c := LookupCipher("ECDHE-RSA-AES256-GCM-SHA384")
	if !c.Known || c.ID != 0xC030 || c.String() != "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" || c.Code() != "0xC030" {
		t.Errorf("OpenSSL name: %+v %s", c, c)
	}
	if c := LookupCipher("TLS_AES_128_GCM_SHA256"); !c.Known || c.ID != 0x1301 {
		t.Errorf("IANA name: %+v", c)
	}
	if c := LookupCipher("NOT-A-SUITE"); c.Known || c.Text != "NOT-A-SUITE" || c.Code() != "" {
		t.Errorf("unknown name: %+v", c)
	}
	if !LookupCipher("-").IsZero() || !LookupCipher("").IsZero() {
		t.Error(`"-" is not the zero cipher`)
	}
	for in, want := range map[string]tls.Version{"TLSv1": tls.VersionTLS10, "TLSv1.0": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11,
		"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13, "SSLv3": tls.VersionSSL30, "SSLv2": tls.VersionSSL20} {
		if v, ok := ParseVersionName([]byte(in)); !ok || v != want {
			t.Errorf("ParseVersionName(%q) = %v, %v", in, v, ok)
		}
	}
	for _, bad := range []string{"", "-", "TLS", "tlsv1.2", "TLSv1.4"} {
		if _, ok := ParseVersionName([]byte(bad)); ok {
			t.Errorf("ParseVersionName(%q) succeeded", bad)
		}
	}
}

func TestSet(t *testing.T) {
	s := NewSet[string](2)
	for _, v := range []string{"a", "", "b", "a", "c", "d", "c"} {
		s.Add(v)
	}
	if !slices.Equal(s.Items(), []string{"a", "b"}) {
		t.Errorf("items %v", s.Items())
	}
	if n, atLeast := s.More(); n != 2 || atLeast {
		t.Errorf("more %d %v", n, atLeast)
	}
	if got := s.Strings(); !slices.Equal(got, []string{"a", "b", "+2 more"}) {
		t.Errorf("strings %v", got)
	}
	big := NewSet[int](1)
	for i := 1; i <= overflowLimit+10; i++ {
		big.Add(i)
	}
	if n, atLeast := big.More(); n != overflowLimit || !atLeast {
		t.Errorf("capped: %d %v", n, atLeast)
	}
}

var day = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func obs(client string, v tls.Version, at time.Duration) Observation {
	return Observation{Source: SourceNginx, Time: day.Add(at), Client: netip.MustParseAddr(client), Transport: TransportTLS,
		Version: v, Protocol: "https", UserAgent: "ua-" + client}
}

func TestAggregator(t *testing.T) {
	a := NewAggregator(0)
	for i, o := range []Observation{
		obs("192.0.2.1", tls.VersionTLS10, 0),
		obs("192.0.2.1", tls.VersionTLS10, time.Hour),
		obs("192.0.2.1", tls.VersionTLS12, 2*time.Hour),
		obs("192.0.2.1", tls.VersionTLS10, 24*time.Hour), // the next day: its own record
		{Source: SourceNginx, Time: day, Client: netip.MustParseAddr("::ffff:192.0.2.1"), Transport: TransportTLS,
			Version: tls.VersionTLS10, Protocol: "https", UserAgent: "ua-192.0.2.1", Count: 3}, // mapped: the same client
	} {
		if i == 1 {
			o.End = day.Add(90 * time.Minute)
		}
		a.Add(&o)
	}
	recs := a.Records()
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s %s %s %d %s–%s %v", r.Day.Format("01-02"), r.Client, r.Version, r.Count,
			r.FirstSeen.Format("15:04"), r.LastSeen.Format("15:04"), r.Class()))
	}
	want := []string{
		"03-01 192.0.2.1 TLSv1.0 5 10:00–11:30 legacy",
		"03-01 192.0.2.1 TLSv1.2 1 12:00–12:00 modern",
		"03-02 192.0.2.1 TLSv1.0 1 10:00–10:00 legacy",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\n%v\nwant\n%v", got, want)
	}
}

// TestAggregatorBound: a full table first drops user and user agent from
// new keys, then drops (and counts) what still does not fit.
func TestAggregatorBound(t *testing.T) {
	a := NewAggregator(2)
	o1 := obs("192.0.2.1", tls.VersionTLS10, 0)
	o2 := obs("192.0.2.2", tls.VersionTLS10, 0)
	a.Add(&o1)
	a.Add(&o2)
	o3 := o1
	o3.UserAgent = "another"
	a.Add(&o3) // folds into… nothing: 192.0.2.1 without an agent is no key yet
	st := a.Stats()
	if a.Len() != 2 || st.Dropped != 1 || st.Folded != 0 {
		t.Errorf("len %d, stats %+v", a.Len(), st)
	}
	b := NewAggregator(2)
	p1 := obs("192.0.2.1", tls.VersionTLS10, 0)
	p1.UserAgent = ""
	b.Add(&p1)
	b.Add(&o2)
	b.Add(&o3) // 192.0.2.1 with an agent: folds into the record without one
	if st := b.Stats(); b.Len() != 2 || st.Folded != 1 || st.Dropped != 0 {
		t.Errorf("len %d, stats %+v", b.Len(), st)
	}
}

func TestReport(t *testing.T) {
	r := NewReport(ReportConfig{SetLimit: 2})
	add := func(o Observation) { r.Add(&o) }
	add(obs("192.0.2.1", tls.VersionTLS12, 0))
	add(obs("192.0.2.1", tls.VersionTLS10, time.Minute))
	add(obs("192.0.2.2", 0, 2*time.Minute)) // TLS, version unknown
	add(obs("192.0.2.2", tls.VersionTLS11, 3*time.Minute))
	add(obs("192.0.2.3", 0, 4*time.Minute))
	add(obs("192.0.2.4", tls.VersionTLS13, 5*time.Minute))
	add(Observation{Source: SourcePostfix, Transport: TransportPlaintext, Client: netip.MustParseAddr("192.0.2.5")})
	add(Observation{Source: SourcePostfix, Transport: TransportTLS, Version: tls.VersionTLS10, ClientName: "mx", Outbound: true, Count: 2})
	tot := r.Totals()
	if tot.Flows != 8 || tot.LegacyFlows != 4 || tot.UnknownFlows != 2 || tot.PlaintextFlows != 1 ||
		tot.Clients != 5 || tot.LegacyClients != 3 || tot.UnknownClients != 1 {
		t.Errorf("totals %+v", tot)
	}
	if tot.ByVersion["TLSv1.0"] != 3 || tot.ByVersion["unknown"] != 2 || tot.BySource["postfix"] != 2 {
		t.Errorf("by version %v, by source %v", tot.ByVersion, tot.BySource)
	}
	var got []string
	for _, c := range r.Clients() {
		got = append(got, fmt.Sprintf("%s %d/%d/%d %v", c.ID(), c.LegacyConnections, c.UnknownConnections, c.Connections, c.Negotiated))
	}
	want := []string{
		"mx 2/0/2 map[TLSv1.0:2]",
		"192.0.2.2 1/1/2 map[TLSv1.1:1 unknown:1]", // as many legacy as .1, and an unknown one more
		"192.0.2.1 1/0/2 map[TLSv1.0:1]",
		"192.0.2.3 0/1/1 map[unknown:1]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("clients:\n%v\nwant\n%v", got, want)
	}
	c := r.Clients()[1]
	if !c.FirstSeen.Equal(day.Add(2*time.Minute)) || !c.LastSeen.Equal(day.Add(3*time.Minute)) {
		t.Errorf("span %v–%v", c.FirstSeen, c.LastSeen)
	}
}

func TestReportMaxClients(t *testing.T) {
	r := NewReport(ReportConfig{MaxClients: 1})
	for _, c := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.2"} {
		o := obs(c, tls.VersionTLS10, 0)
		r.Add(&o)
	}
	if tot := r.Totals(); tot.Clients != 1 || tot.DroppedClients != 2 || tot.Flows != 3 {
		t.Errorf("totals %+v", tot)
	}
}
