package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestFactKey pins the evidence key's construction (stores made earlier
// hold rows under it): the first 16 bytes of the SHA-256 of the day and
// the fields, each string prefixed with its length, written here field by
// field.
func TestFactKey(t *testing.T) {
	k := factKey{day: 20514, evidence: EvidenceCapture, client: "10.1.2.3", via: "192.0.2.9", server: "192.0.2.1:443", protocol: "https",
		version: 0x0303, cipher: 0xC02F, offered: "TLSv1.2;TLSv1.1", sni: "a.example", ja3: "0123456789abcdef0123456789abcdef",
		ja4: "t12d1209h2_d34a8e72043a_b39be8c56a14", legacy: LegacyOffered}
	h := sha256.New()
	str := func(s string) {
		binary.Write(h, binary.BigEndian, uint32(len(s)))
		h.Write([]byte(s))
	}
	binary.Write(h, binary.BigEndian, uint64(k.day))
	for _, s := range []string{string(k.evidence), k.client, k.via, k.server, k.protocol} {
		str(s)
	}
	binary.Write(h, binary.BigEndian, k.version)
	binary.Write(h, binary.BigEndian, k.cipher)
	h.Write([]byte{byte(k.legacy)})
	for _, s := range []string{k.offered, k.sni, k.ja3, k.ja4} {
		str(s)
	}
	want := h.Sum(nil)[:16]
	if got := k.key(); !bytes.Equal(got, want) {
		t.Fatalf("key %x, want %x", got, want)
	}
	long := k
	long.sni = string(bytes.Repeat([]byte("x"), 1000)) // longer than the stack buffer
	if bytes.Equal(long.key(), want) || len(long.key()) != 16 {
		t.Fatalf("key of a long SNI: %x", long.key())
	}
}

func TestChunks(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 255, 256, 257, 500, 511, 512, 1000, 2000, 10007} {
		sum, sizes := 0, map[int]bool{}
		prev := rowsPerStatement
		for _, c := range chunks(n) {
			if c > prev || c <= 0 || c&(c-1) != 0 {
				t.Fatalf("chunks(%d) = %v: not powers of two, largest first", n, chunks(n))
			}
			if c < rowsPerStatement && sizes[c] {
				t.Fatalf("chunks(%d) = %v: a size below the full one twice", n, chunks(n))
			}
			sizes[c] = true
			sum += c
			prev = c
		}
		if sum != n {
			t.Fatalf("chunks(%d) = %v: sum %d", n, chunks(n), sum)
		}
	}
}

// TestNameCaches checks that an ingest's cached names are the names made
// afresh, for lists the cache keeps and lists it passes by.
func TestNameCaches(t *testing.T) {
	in := &Ingest{}
	lists := [][]uint16{nil, {0x0304}, {0x0304, 0x0303}, {0x0303, 0x0304}, {0x0a0a, 0x0304, 0x0303}, {0x0303, 0x0302, 0x0301, 0x0300},
		{0x0304, 0x0303, 0x0302, 0x0301, 0x0300}, {0, 0x0303}, {0x0303, 0}, {0x0002}}
	for round := 0; round < 2; round++ {
		for _, vs := range lists {
			if got, want := in.versionList(vs), versionList(vs); got != want {
				t.Errorf("versionList(%04x) = %q, want %q", vs, got, want)
			}
		}
		for _, a := range []string{"10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "fe80::1%eth0"} {
			addr := netip.MustParseAddr(a)
			if got, want := in.clientName(addr), addr.Unmap().String(); got != want {
				t.Errorf("clientName(%s) = %q, want %q", a, got, want)
			}
		}
	}
	for i := 0; i < 2*nameCacheSize; i++ {
		vs := []uint16{uint16(i + 1), 0x0303}
		if got, want := in.versionList(vs), versionList(vs); got != want {
			t.Fatalf("versionList(%04x) = %q, want %q", vs, got, want)
		}
	}
	if len(in.versions) > nameCacheSize {
		t.Fatalf("%d versions cached, more than %d", len(in.versions), nameCacheSize)
	}
}
