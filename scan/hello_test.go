package scan

import (
	"slices"
	"testing"

	"github.com/tlsmap/tlsmap/ciphers"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// parseHello decodes the records buildHello wrote.
func parseHello(t *testing.T, b []byte) *tls.ClientHello {
	t.Helper()
	d := tls.NewDecoder(0)
	if _, err := d.Write(b); err != nil {
		t.Fatal(err)
	}
	ev, err := d.Next()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := tls.ParseClientHello(ev.Message)
	if err != nil {
		t.Fatal(err)
	}
	ch.RecordVersion = ev.RecordVersion
	return ch
}

// TestSSLv3Band checks that the SSLv3 lengths sslv3Offerable refuses are
// exactly those whose hello falls in the 256–511-byte range.
func TestSSLv3Band(t *testing.T) {
	cands := candidates(tls.VersionSSL30)
	for n := 1; n <= len(cands); n++ {
		b, err := buildHello(helloParams{version: tls.VersionSSL30, suites: cands[:n], rand: seeded(uint64(n))})
		if err != nil {
			t.Fatal(err)
		}
		l := len(b) - 5
		if inBand := l >= 256 && l <= 511; inBand == sslv3Offerable(n) {
			t.Errorf("%d suites: a %d-byte hello, offerable %v", n, l, sslv3Offerable(n))
		}
	}
}

func TestBuildHello(t *testing.T) {
	for _, v := range tlsVersions {
		cands := candidates(v)
		for n := 1; n <= len(cands); n += 7 {
			if v == tls.VersionSSL30 && !sslv3Offerable(n) {
				continue
			}
			b, err := buildHello(helloParams{version: v, suites: cands[:n], host: "example.com", rand: seeded(uint64(n))})
			if err != nil {
				t.Fatal(err)
			}
			ch := parseHello(t, b)
			if l := len(b) - 5; l >= 256 && l <= 511 {
				t.Errorf("%s, %d suites: a %d-byte hello", tls.Version(v).String(), n, l)
			}
			if !slices.Equal(ch.CipherSuites, cands[:n]) {
				t.Errorf("%s: suites changed", tls.Version(v).String())
			}
			// A ServerHello is checked against sentExtensions: it must
			// name every extension the hello carries.
			for _, x := range ch.Extensions {
				if !slices.Contains(sentExtensions(v), x.Type) {
					t.Errorf("%s: hello sends extension 0x%04X that sentExtensions does not list", tls.Version(v).String(), x.Type)
				}
			}
			switch v {
			case tls.VersionSSL30:
				if ch.HasExtensions || ch.RecordVersion != tls.VersionSSL30 || ch.Version != tls.VersionSSL30 {
					t.Errorf("SSLv3 hello: extensions %v record %s", ch.HasExtensions, ch.RecordVersion)
				}
			case tls.VersionTLS13:
				if ch.Version != tls.VersionTLS12 || !slices.Equal(ch.SupportedVersions, []uint16{0x0304}) ||
					ch.KeyShareGroups == nil || len(ch.KeyShareGroups) != 0 || len(ch.SessionID) != 32 {
					t.Errorf("TLS 1.3 hello: %+v", ch)
				}
			default:
				if ch.Version != tls.Version(v) || ch.RecordVersion != tls.VersionTLS10 || ch.ServerName != "example.com" ||
					!slices.Equal(ch.SupportedGroups, groups12()) || ch.SupportedVersions != nil {
					t.Errorf("%s hello: %+v", tls.Version(v).String(), ch)
				}
			}
		}
	}
	b, err := buildHello(helloParams{version: tls.VersionTLS13, suites: []uint16{0x1301}, keyShare13: true, rand: seeded(1)})
	if err != nil {
		t.Fatal(err)
	}
	if ch := parseHello(t, b); !slices.Equal(ch.KeyShareGroups, []uint16{tls.GroupX25519}) || ch.ServerName != "" {
		t.Errorf("key share %04x, SNI %q", ch.KeyShareGroups, ch.ServerName)
	}
}

func TestCandidates(t *testing.T) {
	for _, v := range tlsVersions {
		c := candidates(v)
		want := registryIDs(v)
		if v != tls.VersionTLS13 {
			want = allSuiteIDs()
		}
		if !slices.Equal(sorted(c), want) {
			t.Errorf("%s: candidates are not the registry's", tls.Version(v).String())
		}
		// The suites that need a credential besides a certificate come
		// last, PSK suites at the very end; within each part the
		// version's own suites first.
		for i := 1; i < len(c); i++ {
			a, _ := ciphers.ByID(c[i-1])
			b, _ := ciphers.ByID(c[i])
			if pa, pb := poisonTier(a), poisonTier(b); pa > pb || pa == pb && !inSpec(v, c[i-1]) && inSpec(v, c[i]) {
				t.Errorf("%s: %04x before %04x", tls.Version(v).String(), c[i-1], c[i])
				break
			}
		}
	}
	if c := candidates(tls.VersionTLS12); c[0] != 0xC02B {
		t.Errorf("TLS 1.2 starts with %04x", c[0])
	}
	if c := candidates(tls.VersionTLS13); !slices.Equal(c[:5], []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}) {
		t.Errorf("TLS 1.3 starts with %04x", c[:5])
	}
}

func TestNoChaChaFirst(t *testing.T) {
	in := []uint16{0xCCA8, 0xCCA9, 0xC02F, 0xC030}
	if got := noChaChaFirst(in); !slices.Equal(got, []uint16{0xC02F, 0xCCA8, 0xCCA9, 0xC030}) {
		t.Errorf("got %04x", got)
	}
	if got := noChaChaFirst([]uint16{0xCCA8, 0xCCA9}); !slices.Equal(got, []uint16{0xCCA8, 0xCCA9}) {
		t.Errorf("all ChaCha: %04x", got)
	}
}
