package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileIsCurrent regenerates zz_generated.go in memory and
// compares it with the committed file.
func TestGeneratedFileIsCurrent(t *testing.T) {
	got, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../zz_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("ciphers/zz_generated.go is stale; run `go generate ./ciphers` (make generate).\nfirst difference, line %d:\ncommitted: %s\ngenerated: %s", i+1, w, g)
		}
	}
}

func TestDeriveRejects(t *testing.T) {
	for _, name := range []string{
		"",
		"SSL_RSA_WITH_RC4_128_MD5",           // not the IANA grammar
		"TLS_FOO_WITH_AES_128_CBC_SHA",       // unknown key exchange
		"TLS_RSA_WITH_BLOWFISH_CBC_SHA",      // unknown cipher
		"TLS_RSA_WITH_AES_192_CBC_SHA",       // AES key size TLS never used
		"TLS_RSA_WITH_AES_128_CBC",           // no MAC
		"TLS_RSA_WITH_AES_128_CBC_SHA_SHA",   // two MACs
		"TLS_RSA_WITH_AES_128_OFB_SHA",       // unknown mode
		"TLS_RSA_WITH_RC4_64_MD5",            // RC4 size TLS never used
		"TLS_RSA_WITH_3DES_CBC_SHA",          // 3DES without EDE
		"TLS_AES_128_CBC_SHA256",             // TLS 1.3 with a non-AEAD cipher
		"TLS_AES_128_GCM",                    // TLS 1.3 without a hash
		"TLS_SHA256_SHA384",                  // mismatched integrity-only hashes
		"TLS_GOSTR341112_256_WITH_MAGMA_MGM", // MGM without L or S
		"TLS_AEGIS_512_SHA512",
		"TLS_RSA_WITH_",
	} {
		var a attrs
		if err := derive(&a, name); err == nil {
			t.Errorf("derive(%q) = nil error, want one; got %+v", name, a)
		}
	}
}

func TestGroupKindBits(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind string
		bits int
	}{
		{"x25519", "ecdhe", 253},
		{"secp256r1", "ecdhe", 256},
		{"secp521r1", "ecdhe", 521},
		{"sect163k1", "ecdhe", 163},
		{"brainpoolP384r1tls13", "ecdhe", 384},
		{"GC512A", "ecdhe", 512},
		{"ffdhe3072", "ffdhe", 3072},
		{"MLKEM768", "pq", 192},
		{"X25519MLKEM768", "pq-hybrid", 192},
		{"SecP384r1MLKEM1024", "pq-hybrid", 256},
		{"X25519Kyber768Draft00", "pq-hybrid", 192},
		{"arbitrary_explicit_prime_curves", "other", 0},
	} {
		kind, bits, err := groupKindBits(tc.name)
		if err != nil || kind != tc.kind || bits != tc.bits {
			t.Errorf("groupKindBits(%q) = %q, %d, %v; want %q, %d", tc.name, kind, bits, err, tc.kind, tc.bits)
		}
	}
	if _, _, err := groupKindBits("frodo640"); err == nil {
		t.Error("groupKindBits accepted an unknown group")
	}
}
