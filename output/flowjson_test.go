package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// randomFlowRecord fills every field of a FlowRecord (found by
// reflection, so that a field added later is filled too, or the test
// fails on its type) with values json.Marshal must escape: control
// characters, quotes, HTML characters, U+2028 and U+2029, bytes that are
// not UTF-8; slices nil, empty or not.
func randomFlowRecord(t *testing.T, rng *rand.Rand) FlowRecord {
	pieces := []string{"", "a", "TLSv1.3", "0xC02F", "h1.bench.test", `"`, `\`, "<", ">", "&", "\x00", "\x1f", "\b", "\f", "\n", "\r", "\t",
		"\x7f", "é", "日本", "\u2028", "\u2029", "\xff", "\xe2\x80", "\xed\xa0\x80", "😀", "\U0010ffff", " ", "/"}
	str := func() string {
		var b []byte
		for range rng.IntN(6) {
			b = append(b, pieces[rng.IntN(len(pieces))]...)
		}
		return string(b)
	}
	strs := func() []string {
		switch rng.IntN(4) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+rng.IntN(3))
		for i := range out {
			out[i] = str()
		}
		return out
	}
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(str())
			case reflect.Bool:
				f.SetBool(rng.IntN(2) == 1)
			case reflect.Int:
				f.SetInt(rng.Int64N(1<<40) - 1<<39)
			case reflect.Uint64:
				f.SetUint(rng.Uint64() >> rng.UintN(64))
			case reflect.Slice:
				switch f.Type().Elem().Kind() {
				case reflect.String:
					f.Set(reflect.ValueOf(strs()))
				case reflect.Struct:
					if rng.IntN(4) == 0 {
						break // nil
					}
					s := reflect.MakeSlice(f.Type(), rng.IntN(3), 3)
					for j := 0; j < s.Len(); j++ {
						fill(s.Index(j))
					}
					f.Set(s)
				default:
					t.Fatalf("%s.%s: no generator for %s", v.Type(), v.Type().Field(i).Name, f.Type())
				}
			default:
				t.Fatalf("%s.%s: no generator for %s", v.Type(), v.Type().Field(i).Name, f.Type())
			}
		}
	}
	var r FlowRecord
	fill(reflect.ValueOf(&r).Elem())
	return r
}

// TestFlowRecordJSON holds AppendJSON to json.Marshal's bytes.
func TestFlowRecordJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	records := []FlowRecord{{}, {Forwarded: []ForwardedRecord{}, ALPN: []string{}}}
	for range 3000 {
		records = append(records, randomFlowRecord(t, rng))
	}
	for _, r := range records {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON([]byte("x")); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Fatalf("AppendJSON:\n%q\njson.Marshal:\n%q", got, want)
		}
	}
}

// TestHex16 holds hex16 to fmt's "0x%04X" for every suite id.
func TestHex16(t *testing.T) {
	for id := 0; id <= 0xFFFF; id++ {
		if got, want := hex16(uint16(id)), fmt.Sprintf("0x%04X", id); got != want {
			t.Fatalf("hex16(%d) = %q, want %q", id, got, want)
		}
	}
}

func BenchmarkFlowRecordJSON(b *testing.B) {
	// A record of the bench capture's (bench/store-compare.sh).
	r := FlowRecord{
		Schema: SniffFlowSchema, Client: "127.0.1.6:44799", Server: "127.0.0.1:443", Protocol: "https", SNI: "h5.bench.test",
		ALPN: []string{}, OfferedVersions: []string{"TLSv1.3", "TLSv1.2"}, Version: "TLSv1.3",
		Cipher: "0x1301", CipherName: "TLS_AES_128_GCM_SHA256", OfferedCiphers: []string{"0x1301", "0x1302", "0x1303"},
		Groups:              []string{"x25519", "secp256r1", "secp384r1", "secp521r1"},
		SignatureAlgorithms: []string{"rsa_pss_rsae_sha256", "ecdsa_secp256r1_sha256", "ed25519", "rsa_pss_rsae_sha384"},
		KeyShareGroups:      []string{"x25519"},
		LegacyReasons:       []string{},
		JA3:                 "0418d0356c94b60e4a66ea1ec8bb7871",
		JA3S:                "f4febc55ea12b31ae17cfb7e614afda8",
		JA4:                 "t13d031100_55b375c5d22e_4a12575e92d6",
		FirstSeen:           "2026-12-06T20:48:22.701454000Z",
		LastSeen:            "2026-12-06T20:48:22.703111000Z",
		Packets:             16,
		Bytes:               1598,
		Forwarded:           []ForwardedRecord{},
	}
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = r.AppendJSON(buf[:0])
		}
	})
}
