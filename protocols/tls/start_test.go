package tls

import (
	"slices"
	"testing"
)

// startPositives are complete stream starts MaybeTLS must accept, with
// every prefix.
func startPositives(t testing.TB) map[string][]byte {
	pos := recPositiveTLS(t)
	pos["sslv2 client hello"] = v2MustBuild(t, VersionSSL20, []uint32{0x010080, 0x020080, 0x0700c0}, nil, make([]byte, 16))
	pos["sslv2 compat hello"] = v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, make([]byte, 32))
	pos["sslv2 server hello"] = v2MustMarshalSH(t, &SSLv2ServerHello{CertificateType: SSLv2CertificateTypeX509, Version: VersionSSL20,
		Certificate: make([]byte, 300), CipherSpecs: []uint32{0x010080}, ConnectionID: make([]byte, 16)})
	pos["sslv2 error"] = MarshalSSLv2Error(SSLv2ErrNoCipher)
	return pos
}

func TestMaybeTLS(t *testing.T) {
	for name, b := range startPositives(t) {
		for n := 0; n <= len(b); n++ {
			if !MaybeTLS(b[:n]) {
				t.Errorf("%s: the %d-byte prefix % x is not a possible start", name, n, b[:min(n, 16)])
				break
			}
		}
	}
	// Every text protocol is ruled out by its first byte.
	for _, s := range recTextNegatives {
		if s[0] == 0xff {
			continue // "\xff…" is an SSLv2 header; the message type rules it out
		}
		if MaybeTLS([]byte(s[:1])) {
			t.Errorf("%q: first byte taken for a possible start", s)
		}
	}
	// The documented decisions, byte by byte.
	tests := []struct {
		b    []byte
		want bool
	}{
		{nil, true},
		{[]byte{0x16}, true},
		{[]byte{0x15}, true},
		{[]byte{0x80}, true},
		{[]byte{0x17}, false}, // application data: not a start
		{[]byte{0x14}, false}, // change_cipher_spec
		{[]byte{'H'}, false},
		{[]byte{0x16, 3}, true},
		{[]byte{0x16, 2}, false},
		{[]byte{0x80, 0x2e}, true},
		{[]byte{0x16, 3, 4}, true},
		{[]byte{0x16, 3, 5}, false},
		{[]byte{0x80, 0x2e, 1}, true},
		{[]byte{0x80, 0x2e, 4}, true},
		{[]byte{0x80, 0x03, 0}, true},
		{[]byte{0x80, 0x2e, 2}, false}, // CLIENT-MASTER-KEY is never first
		{[]byte{0x80, 0x04, 0}, false}, // an ERROR is 3 bytes long
		{[]byte{0x80, 0x2e, 4, 2}, false},
		{[]byte{0x16, 3, 1, 0}, true},
		{[]byte{0x16, 3, 1, 0, 0}, false},
		{[]byte{0x16, 3, 1, 0x40, 1}, false},
		{[]byte{0x15, 3, 1, 0, 3}, false},
		{[]byte{0x15, 3, 1, 0, 2}, true},
		{[]byte{0x80, 0x2e, 1, 3, 4}, false}, // TLS 1.3 in an SSLv2 hello
		{[]byte{0x80, 0x2e, 1, 3, 1}, true},
		{[]byte{0x80, 0x03, 0, 0, 1}, true},
		{[]byte{0x80, 0x03, 0, 0, 3}, false},
		{[]byte{0x16, 3, 1, 0, 40, 11}, false},
		{[]byte{0x15, 3, 1, 0, 2, 3}, false},
		{[]byte{0x80, 0x2e, 1, 3, 1, 0, 0}, false}, // no cipher specs
	}
	for _, tt := range tests {
		if got := MaybeTLS(tt.b); got != tt.want {
			t.Errorf("MaybeTLS(% x) = %v, want %v", tt.b, got, tt.want)
		}
	}
	// From 13 bytes on the verdict is LooksLikeTLS || LooksLikeSSLv2 (or a
	// whole SSLv2 ERROR), and a start that is ruled out stays ruled out.
	r := recRand(9)
	for range 100000 {
		b := recBytes(r, 16)
		if r.IntN(2) == 0 {
			b[0] = []byte{0x15, 0x16, 0x80}[r.IntN(3)]
			b[1] = 3
		}
		if MaybeTLS(b) != (LooksLikeTLS(b) || LooksLikeSSLv2(b) || sslv2Start(b, true) == startYes) {
			t.Fatalf("% x: MaybeTLS disagrees with LooksLikeTLS/LooksLikeSSLv2", b)
		}
		maybeInvariants(t, b)
	}
}

// maybeInvariants are MaybeTLS's promises on any input: LooksLikeTLS and
// LooksLikeSSLv2 imply it, and a prefix of a possible start is one.
func maybeInvariants(t *testing.T, b []byte) {
	t.Helper()
	got := MaybeTLS(b)
	if (LooksLikeTLS(b) || LooksLikeSSLv2(b)) && !got {
		t.Fatalf("% x: LooksLike holds but MaybeTLS does not", b)
	}
	if got {
		for n := range len(b) {
			if !MaybeTLS(b[:n]) {
				t.Fatalf("% x is a possible start but its %d-byte prefix is not", b, n)
			}
		}
	}
	if len(b) >= 13 && got != (LooksLikeTLS(b) || LooksLikeSSLv2(b) || sslv2Start(b, true) == startYes) {
		t.Fatalf("% x: from 13 bytes MaybeTLS must be decided", b)
	}
}

func FuzzMaybeTLS(f *testing.F) {
	recRequireSeeds(f, "FuzzMaybeTLS")
	f.Fuzz(func(t *testing.T, data []byte) {
		maybeInvariants(t, data)
		if MaybeTLS(data) && len(data) > 0 && !slices.Contains([]byte{0x15, 0x16}, data[0]) && data[0]&0x80 == 0 {
			t.Fatalf("% x: a possible start with first byte 0x%02x", data, data[0])
		}
	})
}
