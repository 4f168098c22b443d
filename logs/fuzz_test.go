package logs

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
)

// needSeeds fails a fuzz test whose committed corpus is missing: an empty
// seed glob would fuzz nothing.
func needSeeds(f *testing.F, name string) {
	f.Helper()
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
	if err != nil || len(seeds) < 3 {
		f.Fatalf("testdata/fuzz/%s holds %d seed files; the committed corpus is missing", name, len(seeds))
	}
}

// fuzzRead reads data as one log of format fm and checks what every
// parser must hold: nothing panics, every line is counted once,
// malformed lines are counted with their reasons, and each observation
// is of the format's source with a class.
func fuzzRead(t *testing.T, fm Format, data []byte) {
	r := NewReader(Config{Format: fm, Location: time.UTC, Now: func() time.Time { return fixedNow }, MaxSessions: 8},
		func(o *evidence.Observation) {
			if o.Source == evidence.SourceUnknown {
				t.Fatalf("observation without a source: %+v", o)
			}
			if o.Class() > evidence.ClassLegacy {
				t.Fatalf("class %v", o.Class())
			}
			if o.Via.IsValid() && o.Via == o.Client {
				t.Fatalf("client %v via itself", o.Client)
			}
		})
	err := r.Read(context.Background(), bytes.NewReader(data), "fuzz")
	r.Close()
	st := r.Stats()
	if err != nil && fm.Kind != KindAuto {
		// Only a broken gzip or bzip2 stream may fail a forced format.
		if len(data) < 2 || !(data[0] == 0x1f && data[1] == 0x8b || bytes.HasPrefix(data, []byte("BZh"))) {
			t.Fatalf("Read: %v", err)
		}
		return
	}
	if err != nil {
		return
	}
	if len(data) > 0 && data[0] == 0x1f || bytes.HasPrefix(data, []byte("BZh")) {
		return // compressed: lines are not those of data
	}
	lines := int64(bytes.Count(data, []byte("\n")))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		lines++
	}
	if st.Lines != lines {
		t.Fatalf("%d lines counted, %d in the input", st.Lines, lines)
	}
	var sum int64
	for _, r := range st.Reasons {
		sum += r.Count
	}
	if sum != st.Malformed || st.Malformed > st.Lines {
		t.Fatalf("malformed %d, reasons sum to %d, %d lines", st.Malformed, sum, st.Lines)
	}
}

func FuzzExchange(f *testing.F) {
	needSeeds(f, "FuzzExchange")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, Format{Kind: KindExchange}, data) })
}

func FuzzIIS(f *testing.F) {
	needSeeds(f, "FuzzIIS")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, Format{Kind: KindIIS}, data) })
}

func FuzzMaillog(f *testing.F) {
	needSeeds(f, "FuzzMaillog")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, Format{Kind: KindMaillog}, data) })
}

// FuzzAccess reads arbitrary lines with each access-log kind's example
// format and with the test servers' formats.
func FuzzAccess(f *testing.F) {
	needSeeds(f, "FuzzAccess")
	var formats []Format
	for _, s := range []string{
		"nginx:" + ExamplePattern(KindNginx),
		"apache:" + ExamplePattern(KindApache),
		"haproxy:" + ExamplePattern(KindHAProxy),
		`nginx:$remote_addr [$time_iso8601] $ssl_protocol $http_x_forwarded_for $proxy_protocol_addr $realip_remote_addr $msec`,
		`apache:%{c}a %a %A %{local}p %t "%{Forwarded}i" %{SSL_PROTOCOL}x`,
		`haproxy:%ci:%cp %fi:%fp [%T] %[ssl_fc_protocol] %[req.hdr(x-forwarded-for)] %{+Q}r`,
	} {
		fm, err := ParseFormat(s)
		if err != nil {
			f.Fatal(err)
		}
		formats = append(formats, fm)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fm := range formats {
			fuzzRead(t, fm, data)
		}
	})
}

// FuzzDetect reads arbitrary input with the format detected: an error
// only when the format cannot be told.
func FuzzDetect(f *testing.F) {
	needSeeds(f, "FuzzDetect")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, Format{}, data) })
}

// FuzzParseFormat compiles arbitrary format strings: nothing panics,
// and a format that compiles reads a line of its own literals.
func FuzzParseFormat(f *testing.F) {
	needSeeds(f, "FuzzParseFormat")
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := ParseFormat(s)
		if err != nil {
			return
		}
		if fm.Kind == KindNginx || fm.Kind == KindApache || fm.Kind == KindHAProxy {
			fuzzRead(t, fm, []byte("127.0.0.1 TLSv1.2 x\n- - -\n"))
		}
	})
}
