package tls

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var recUpdateCorpus = flag.Bool("update-server-corpus", false,
	"rewrite the testdata/fuzz seeds of the record, stream, ServerHello, Certificate, ServerKeyExchange, Alert and SSLv2 fuzz tests")

// recFuzzTargets lists the fuzz targets of the record and server-side code
// and their seed generators. TestServerFuzzCorpus checks the committed
// seeds against them.
var recFuzzTargets = map[string]func(testing.TB) map[string][]byte{
	"FuzzParseRecord":                 recFuzzSeeds,
	"FuzzDecoder":                     decFuzzSeeds,
	"FuzzParseServerHello":            shFuzzSeeds,
	"FuzzParseDraftHelloRetryRequest": drHRRFuzzSeeds,
	"FuzzParseAlert":                  alFuzzSeeds,
	"FuzzParseCertificate":            certFuzzSeeds,
	"FuzzParseServerKeyExchange":      skeFuzzSeeds,
	"FuzzParseSSLv2ClientHello":       v2CHFuzzSeeds,
	"FuzzParseSSLv2ServerHello":       v2SHFuzzSeeds,
}

// recCorpusFile is the Go fuzzing corpus encoding of one []byte argument.
func recCorpusFile(data []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
}

// TestServerFuzzCorpus checks that every generated seed is committed, byte
// for byte (run with -update-server-corpus to rewrite them). Files beyond
// the generated ones (crashers found by fuzzing) are left alone.
func TestServerFuzzCorpus(t *testing.T) {
	for target, gen := range recFuzzTargets {
		dir := filepath.Join("testdata", "fuzz", target)
		seeds := gen(t)
		if len(seeds) < 5 {
			t.Errorf("%s: only %d seeds", target, len(seeds))
		}
		if *recUpdateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, data := range seeds {
			path := filepath.Join(dir, name)
			want := recCorpusFile(data)
			if *recUpdateCorpus {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is missing or stale (err %v); rerun with -update-server-corpus", path, err)
			}
		}
	}
}

// recRequireSeeds fails the fuzz test when its committed seed directory is
// missing or nearly empty, so a moved folder cannot silently fuzz nothing.
func recRequireSeeds(f *testing.F, target string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil || len(files) < 5 {
		f.Fatalf("testdata/fuzz/%s has %d seed files (err %v); regenerate with -update-server-corpus", target, len(files), err)
	}
}

// recCheckErr fails unless err is a *ParseError wrapping one of the four
// sentinels.
func recCheckErr(t testing.TB, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || (pe.Err != ErrTruncated && pe.Err != ErrMalformed && pe.Err != ErrUnexpected && pe.Err != ErrTooLarge) {
		t.Fatalf("error %v is not a ParseError with a sentinel", err)
	}
}

// recNoPrefixParses checks that no strict prefix of msg parses.
func recNoPrefixParses(t *testing.T, name string, msg []byte, parse func([]byte) error) {
	t.Helper()
	if err := parse(msg); err != nil {
		t.Fatalf("%s: whole message does not parse: %v", name, err)
	}
	for i := range len(msg) {
		err := parse(slices.Clone(msg[:i]))
		if err == nil {
			t.Fatalf("%s: prefix of %d/%d bytes parses", name, i, len(msg))
		}
		recCheckErr(t, err)
	}
}

// recRand returns a deterministic generator for a test.
func recRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x746c736d6170)) }

// recBytes returns n deterministic pseudo-random bytes.
func recBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestParseRecord(t *testing.T) {
	big := make([]byte, MaxRecordPayload)
	tests := []struct {
		name    string
		in      []byte
		want    Record
		n       int
		wantErr error
	}{
		{"handshake", []byte{22, 3, 1, 0, 2, 0xaa, 0xbb}, Record{ContentHandshake, VersionTLS10, []byte{0xaa, 0xbb}}, 7, nil},
		{"trailing bytes stay", []byte{21, 3, 3, 0, 2, 2, 40, 22, 3}, Record{ContentAlert, VersionTLS12, []byte{2, 40}}, 7, nil},
		{"ssl3", []byte{23, 3, 0, 0, 0}, Record{ContentApplicationData, VersionSSL30, []byte{}}, 5, nil},
		{"tls13 version", []byte{20, 3, 4, 0, 1, 1}, Record{ContentChangeCipherSpec, VersionTLS13, []byte{1}}, 6, nil},
		{"lenient minor", []byte{24, 3, 0x99, 0, 1, 1}, Record{ContentHeartbeat, 0x0399, []byte{1}}, 6, nil},
		{"max length", append([]byte{23, 3, 3, 0x48, 0x00}, big...), Record{ContentApplicationData, VersionTLS12, big}, 5 + len(big), nil},
		{"empty", nil, Record{}, 0, ErrTruncated},
		{"short header", []byte{22, 3, 1, 0}, Record{}, 0, ErrTruncated},
		{"short payload", []byte{22, 3, 1, 0, 3, 1, 2}, Record{}, 0, ErrTruncated},
		{"unknown type", []byte{25, 3, 3, 0, 0}, Record{}, 0, ErrMalformed},
		{"type zero", []byte{0, 3, 3, 0, 0}, Record{}, 0, ErrMalformed},
		{"bad type with 1 byte", []byte{'G'}, Record{}, 0, ErrMalformed},
		{"major 2", []byte{22, 2, 0, 0, 0}, Record{}, 0, ErrMalformed},
		{"major 0x7f (draft code point)", []byte{22, 0x7f, 0x1c, 0, 0}, Record{}, 0, ErrMalformed},
		{"bad major with 2 bytes", []byte{22, 0x20}, Record{}, 0, ErrMalformed},
		{"too long", []byte{23, 3, 3, 0x48, 0x01}, Record{}, 0, ErrTooLarge},
		{"too long, header only", []byte{23, 3, 3, 0xff, 0xff}, Record{}, 0, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, n, err := ParseRecord(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				recCheckErr(t, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.n || rec.Type != tt.want.Type || rec.Version != tt.want.Version || !bytes.Equal(rec.Payload, tt.want.Payload) {
				t.Fatalf("got %+v n=%d, want %+v n=%d", rec, n, tt.want, tt.n)
			}
		})
	}
}

func TestRecordPrefixes(t *testing.T) {
	rec := AppendRecord(nil, ContentHandshake, VersionTLS12, shMustMarshal(t, shTLS12()))
	recNoPrefixParses(t, "record", rec, func(b []byte) error {
		_, _, err := ParseRecord(b)
		return err
	})
	v2 := v2MustBuild(t, VersionTLS10, []uint32{0x00002f}, nil, make([]byte, 16))
	recNoPrefixParses(t, "SSLv2 record", v2, func(b []byte) error {
		_, _, err := ParseSSLv2Record(b)
		return err
	})
}

func TestAppendRecord(t *testing.T) {
	r := recRand(1)
	for _, size := range []int{0, 1, 100, MaxPlaintext - 1, MaxPlaintext, MaxPlaintext + 1, 3*MaxPlaintext + 7} {
		payload := recBytes(r, size)
		prefix := []byte("keep")
		out := AppendRecord(slices.Clone(prefix), ContentHandshake, VersionTLS12, payload)
		if !bytes.HasPrefix(out, prefix) {
			t.Fatalf("size %d: prefix lost", size)
		}
		rest := out[len(prefix):]
		var got []byte
		records := 0
		for len(rest) > 0 {
			rec, n, err := ParseRecord(rest)
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if rec.Type != ContentHandshake || rec.Version != VersionTLS12 || len(rec.Payload) > MaxPlaintext {
				t.Fatalf("size %d: bad record %v %v len %d", size, rec.Type, rec.Version, len(rec.Payload))
			}
			got = append(got, rec.Payload...)
			rest = rest[n:]
			records++
		}
		wantRecords := max(1, (size+MaxPlaintext-1)/MaxPlaintext)
		if records != wantRecords || !bytes.Equal(got, payload) {
			t.Fatalf("size %d: %d records (want %d), payload equal %v", size, records, wantRecords, bytes.Equal(got, payload))
		}
	}
}

func TestParseSSLv2Record(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		payload []byte
		n       int
		wantErr error
	}{
		{"two-byte header", []byte{0x80, 3, 0, 0, 1, 9}, []byte{0, 0, 1}, 5, nil},
		{"two-byte header, max high byte", append([]byte{0x81, 0x00}, make([]byte, 256)...), make([]byte, 256), 258, nil},
		{"three-byte header with padding", []byte{0x00, 4, 2, 1, 2, 3, 4}, []byte{1, 2, 3, 4}, 7, nil},
		{"three-byte header, escape bit", []byte{0x40, 1, 0, 7}, []byte{7}, 4, nil},
		{"empty input", nil, nil, 0, ErrTruncated},
		{"one byte", []byte{0x80}, nil, 0, ErrTruncated},
		{"three-byte header cut", []byte{0x00, 4}, nil, 0, ErrTruncated},
		{"body cut", []byte{0x80, 3, 0, 0}, nil, 0, ErrTruncated},
		{"zero length", []byte{0x80, 0}, nil, 0, ErrMalformed},
		{"padding beyond length", []byte{0x00, 2, 3, 1, 2}, nil, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, n, err := ParseSSLv2Record(tt.in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || n != tt.n || !bytes.Equal(payload, tt.payload) {
				t.Fatalf("got %x n=%d err=%v, want %x n=%d", payload, n, err, tt.payload, tt.n)
			}
		})
	}
}

func TestAppendSSLv2Record(t *testing.T) {
	for _, size := range []int{1, 127, 128, 255, 256, MaxSSLv2RecordPayload} {
		payload := recBytes(recRand(uint64(size)), size)
		out, err := AppendSSLv2Record(nil, payload)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseSSLv2Record(out)
		if err != nil || n != len(out) || !bytes.Equal(got, payload) {
			t.Fatalf("size %d: round trip failed: n=%d err=%v", size, n, err)
		}
	}
	if _, err := AppendSSLv2Record(nil, make([]byte, MaxSSLv2RecordPayload+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: err = %v", err)
	}
	if _, err := AppendSSLv2Record(nil, nil); !errors.Is(err, ErrMalformed) {
		t.Errorf("empty: err = %v", err)
	}
}

// recFlightSamples returns the first bytes of real-shaped streams that the
// recognisers must accept.
func recPositiveTLS(t testing.TB) map[string][]byte {
	sh := shMustMarshal(t, shTLS12())
	hrr := shMustMarshal(t, shHRR())
	ch := []byte{1, 0, 0, 41, 3, 3}
	ch = append(ch, make([]byte, 32)...)
	ch = append(ch, 0, 0, 2, 0, 0x2f, 1, 0)
	return map[string][]byte{
		"server hello":       AppendRecord(nil, ContentHandshake, VersionTLS12, sh),
		"hrr":                AppendRecord(nil, ContentHandshake, VersionTLS12, hrr),
		"client hello tls10": AppendRecord(nil, ContentHandshake, VersionTLS10, ch),
		"client hello ssl3":  AppendRecord(nil, ContentHandshake, VersionSSL30, ch),
		"alert":              AppendRecord(nil, ContentAlert, VersionTLS12, Alert{AlertLevelFatal, AlertHandshakeFailure}.Marshal()),
		"alert tls10":        AppendRecord(nil, ContentAlert, VersionTLS10, Alert{AlertLevelFatal, AlertProtocolVersion}.Marshal()),
		// A ClientHello split into records of 1 and 4 bytes.
		"fragmented 1": slices.Concat(AppendRecord(nil, ContentHandshake, VersionTLS10, ch[:1]), AppendRecord(nil, ContentHandshake, VersionTLS10, ch[1:])),
		"fragmented 4": slices.Concat(AppendRecord(nil, ContentHandshake, VersionTLS10, ch[:4]), AppendRecord(nil, ContentHandshake, VersionTLS10, ch[4:])),
	}
}

// recTextNegatives are plaintext protocol openings that must never be taken
// for TLS or SSLv2.
var recTextNegatives = []string{
	"220 mail.example ESMTP\r\n",
	"220 mail.example ESMTP Postfix (Debian/GNU)\r\n",
	"* OK IMAP4rev1\r\n",
	"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n",
	"+OK POP3\r\n",
	"GET / HTTP/1.1\r\n",
	"POST /x HTTP/1.0\r\n",
	"SSH-2.0-OpenSSH_9.2\r\n",
	"HTTP/1.1 200 OK\r\n",
	"HTTP/1.1 400 Bad Request\r\n",
	"EHLO client\r\n",
	"STARTTLS\r\n",
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
}

func TestLooksLikeTLS(t *testing.T) {
	for name, b := range recPositiveTLS(t) {
		if !LooksLikeTLS(b) {
			t.Errorf("%s: not recognised: % x", name, b[:min(len(b), 12)])
		}
		// Recognition is possible from the first 11 bytes (7 for an
		// alert), never from fewer than 6.
		if !LooksLikeTLS(b[:min(len(b), 11)]) {
			t.Errorf("%s: not recognised from 11 bytes", name)
		}
		if LooksLikeTLS(b[:5]) {
			t.Errorf("%s: recognised from 5 bytes", name)
		}
	}
	for _, s := range recTextNegatives {
		if LooksLikeTLS([]byte(s)) {
			t.Errorf("%q taken for TLS", s)
		}
	}
	v2 := v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, make([]byte, 32))
	if LooksLikeTLS(v2) {
		t.Error("SSLv2 hello taken for TLS")
	}
	bad := map[string][]byte{
		"app data first":      {23, 3, 3, 0, 40, 1, 0, 0, 36, 3, 3},
		"ccs first":           {20, 3, 3, 0, 1, 1},
		"certificate first":   {22, 3, 3, 0, 40, 11, 0, 0, 36, 3, 3},
		"minor 5":             {22, 3, 5, 0, 40, 1, 0, 0, 36, 3, 3},
		"record too long":     {22, 3, 1, 0x40, 1, 1, 0, 0, 36, 3, 3},
		"empty record":        {22, 3, 1, 0, 0, 1, 0, 0},
		"hello too short":     {22, 3, 1, 0, 40, 1, 0, 0, 10, 3, 3},
		"hello version 2":     {22, 3, 1, 0, 40, 1, 0, 0, 36, 2, 0},
		"alert length 3":      {21, 3, 3, 0, 3, 2, 40, 0},
		"alert level 3":       {21, 3, 3, 0, 2, 3, 40},
		"handshake, 6 bytes":  {22, 3, 1, 0, 40, 3},
		"ssl3 record major 2": {22, 2, 0, 0, 40, 1, 0, 0, 36, 3, 3},
	}
	for name, b := range bad {
		if LooksLikeTLS(b) {
			t.Errorf("%s: taken for TLS", name)
		}
	}
	r := recRand(7)
	hits := 0
	for range 100000 {
		if LooksLikeTLS(recBytes(r, 16)) {
			hits++
		}
	}
	if hits > 0 {
		t.Errorf("%d of 100000 random 16-byte strings taken for TLS", hits)
	}
}

func TestLooksLikeSSLv2(t *testing.T) {
	pos := map[string][]byte{
		"sslv2 hello":     v2MustBuild(t, VersionSSL20, []uint32{0x010080, 0x020080, 0x0700c0}, nil, make([]byte, 16)),
		"compat tls10":    v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f, 0x000035}, nil, make([]byte, 32)),
		"compat tls12":    v2MustBuild(t, VersionTLS12, []uint32{0x00002f}, nil, make([]byte, 32)),
		"compat ssl3 sid": v2MustBuild(t, VersionSSL30, []uint32{0x00000a}, make([]byte, 16), make([]byte, 16)),
		"sslv2 server hello": v2MustMarshalSH(t, &SSLv2ServerHello{CertificateType: SSLv2CertificateTypeX509, Version: VersionSSL20,
			Certificate: make([]byte, 300), CipherSpecs: []uint32{0x010080}, ConnectionID: make([]byte, 16)}),
	}
	for name, b := range pos {
		if !LooksLikeSSLv2(b) {
			t.Errorf("%s: not recognised: % x", name, b[:13])
		}
		if LooksLikeSSLv2(b[:10]) {
			t.Errorf("%s: recognised from 10 bytes", name)
		}
		if LooksLikeTLS(b) {
			t.Errorf("%s: taken for TLS", name)
		}
	}
	for _, s := range recTextNegatives {
		if LooksLikeSSLv2([]byte(s)) {
			t.Errorf("%q taken for SSLv2", s)
		}
	}
	for name, b := range recPositiveTLS(t) {
		if LooksLikeSSLv2(b) {
			t.Errorf("TLS %s taken for SSLv2", name)
		}
	}
	good := v2MustBuild(t, VersionTLS10, []uint32{0x00002f}, nil, make([]byte, 32))
	mutate := map[string]func(b []byte){
		"tls13 version":     func(b []byte) { b[3], b[4] = 3, 4 },
		"version 0x0200":    func(b []byte) { b[3], b[4] = 2, 0 },
		"specs not mult 3":  func(b []byte) { b[6] = 4 },
		"challenge 15":      func(b []byte) { b[10] = 15 },
		"challenge 33":      func(b []byte) { b[10] = 33 },
		"record length off": func(b []byte) { b[1]++ },
		"msg type 2":        func(b []byte) { b[2] = 2 },
		"3-byte header":     func(b []byte) { b[0] &^= 0x80 },
	}
	for name, f := range mutate {
		b := slices.Clone(good)
		f(b)
		if LooksLikeSSLv2(b) {
			t.Errorf("%s: taken for SSLv2", name)
		}
	}
	r := recRand(8)
	hits := 0
	for range 100000 {
		if LooksLikeSSLv2(recBytes(r, 16)) {
			hits++
		}
	}
	if hits > 0 {
		t.Errorf("%d of 100000 random 16-byte strings taken for SSLv2", hits)
	}
}

func recFuzzSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{
		"server-hello": AppendRecord(nil, ContentHandshake, VersionTLS12, shMustMarshal(t, shTLS12())),
		"alert":        AppendRecord(nil, ContentAlert, VersionTLS10, Alert{AlertLevelFatal, AlertHandshakeFailure}.Marshal()),
		"ccs":          AppendRecord(nil, ContentChangeCipherSpec, VersionTLS12, []byte{1}),
		"app-data":     AppendRecord(nil, ContentApplicationData, VersionTLS12, recBytes(recRand(3), 64)),
		"two-records":  AppendRecord(AppendRecord(nil, ContentAlert, VersionTLS12, []byte{1, 0}), ContentChangeCipherSpec, VersionTLS12, []byte{1}),
		"sslv2-hello":  v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, make([]byte, 32)),
		"bad-version":  {22, 2, 0, 0, 1, 0},
		"too-long":     {23, 3, 3, 0xff, 0xff},
	}
	return seeds
}

func FuzzParseRecord(f *testing.F) {
	recRequireSeeds(f, "FuzzParseRecord")
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, n, err := ParseRecord(data)
		if err != nil {
			recCheckErr(t, err)
		} else {
			if n != RecordHeaderLen+len(rec.Payload) || n > len(data) || len(rec.Payload) > MaxRecordPayload {
				t.Fatalf("n = %d, payload %d, input %d", n, len(rec.Payload), len(data))
			}
			again := AppendRecord(nil, rec.Type, rec.Version, rec.Payload)
			if len(rec.Payload) <= MaxPlaintext && !bytes.Equal(again, data[:n]) {
				t.Fatalf("AppendRecord(ParseRecord(x)) = %x, want %x", again, data[:n])
			}
		}
		if payload, n, err := ParseSSLv2Record(data); err != nil {
			recCheckErr(t, err)
		} else if len(payload) == 0 || n > len(data) || n-len(payload) < 2 || n-len(payload) > 3 {
			t.Fatalf("SSLv2: n = %d, payload %d", n, len(payload))
		}
		_ = LooksLikeTLS(data)
		_ = LooksLikeSSLv2(data)
	})
}
