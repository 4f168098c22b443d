package tls

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

// decRec frames payload as records (split at 2^14).
func decRec(typ ContentType, v Version, payload []byte) []byte {
	return AppendRecord(nil, typ, v, payload)
}

// decHello returns a ClientHello message; tls13 adds supported_versions
// with TLS 1.3 and a key share.
func decHello(t testing.TB, tls13 bool) []byte {
	t.Helper()
	m := &ClientHello{
		Version:            VersionTLS12,
		Random:             bytes.Repeat([]byte{0x77}, 32),
		SessionID:          bytes.Repeat([]byte{0x88}, 32),
		CipherSuites:       []uint16{0x1301, 0xc02f, 0x002f},
		CompressionMethods: []uint8{0},
		Extensions:         []Extension{ServerNameExtension("example.com"), SupportedGroupsExtension(0x1d, 0x17)},
	}
	if tls13 {
		m.Extensions = append(m.Extensions, SupportedVersionsExtension(0x0a0a, 0x0304, 0x0303),
			KeyShareExtension(KeyShare{Group: 0x1d, Data: bytes.Repeat([]byte{9}, 32)}))
	}
	msg, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// decServerMessages returns the messages of a TLS 1.2 ECDHE server flight:
// ServerHello, Certificate (three 1.2 KB certificates), ServerKeyExchange,
// ServerHelloDone.
func decServerMessages(t testing.TB) [][]byte {
	r := recRand(31)
	certs := [][]byte{recBytes(r, 1200), recBytes(r, 1100), recBytes(r, 1300)}
	return [][]byte{
		shMustMarshal(t, shTLS12()),
		MarshalCertificate(certs),
		MarshalServerKeyExchangeECDHE(0x17, append([]byte{4}, recBytes(r, 64)...)),
		MarshalServerHelloDone(),
	}
}

// decServerFlight frames the server flight the way many servers do: the
// ServerHello alone, the Certificate across two records, the second of
// which also holds the ServerKeyExchange and the ServerHelloDone.
func decServerFlight(t testing.TB) []byte {
	msgs := decServerMessages(t)
	cert := msgs[1]
	out := decRec(ContentHandshake, VersionTLS12, msgs[0])
	out = append(out, decRec(ContentHandshake, VersionTLS12, cert[:2000])...)
	rest := slices.Concat(cert[2000:], msgs[2], msgs[3])
	return append(out, decRec(ContentHandshake, VersionTLS12, rest)...)
}

// decCollect feeds chunks to a fresh decoder, draining it after each, and
// returns the events (messages copied) and the final error (nil when it
// only needs more input).
func decCollect(maxMessage int, chunks [][]byte) ([]Event, error) {
	d := NewDecoder(maxMessage)
	var evs []Event
	drain := func() error {
		for {
			ev, err := d.Next()
			if err == ErrNeedMore {
				return nil
			}
			if err != nil {
				return err
			}
			ev.Message = slices.Clone(ev.Message)
			evs = append(evs, ev)
		}
	}
	for _, c := range chunks {
		_, werr := d.Write(c)
		if err := drain(); err != nil {
			if werr == nil || werr.Error() != err.Error() {
				return evs, fmt.Errorf("Write returned %v, Next %v", werr, err)
			}
			return evs, err
		}
		if werr != nil {
			return evs, fmt.Errorf("Write returned %v but Next did not", werr)
		}
	}
	return evs, nil
}

// decChunks splits data into pieces of the given sizes (cycled).
func decChunks(data []byte, sizes ...int) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := min(max(sizes[i%len(sizes)], 1), len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

func decEventsEqual(a, b []Event) bool {
	return slices.EqualFunc(a, b, func(x, y Event) bool {
		return x.Kind == y.Kind && x.RecordType == y.RecordType && x.RecordVersion == y.RecordVersion &&
			x.HandshakeType == y.HandshakeType && bytes.Equal(x.Message, y.Message) && x.Alert == y.Alert && x.Length == y.Length
	})
}

func decErrEqual(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// decCheckChunkings decodes data whole, one byte at a time, split in two at
// every offset and in random chunks, and checks that all agree; it returns
// the events and error.
func decCheckChunkings(t *testing.T, maxMessage int, data []byte) ([]Event, error) {
	t.Helper()
	want, wantErr := decCollect(maxMessage, [][]byte{data})
	check := func(how string, chunks [][]byte) {
		t.Helper()
		got, err := decCollect(maxMessage, chunks)
		if !decEventsEqual(got, want) || !decErrEqual(err, wantErr) {
			t.Fatalf("%s: %d events, err %v; whole: %d events, err %v", how, len(got), err, len(want), wantErr)
		}
	}
	check("one byte", decChunks(data, 1))
	for i := 1; i < len(data); i++ {
		check(fmt.Sprintf("split at %d", i), [][]byte{data[:i], data[i:]})
	}
	r := recRand(uint64(len(data)))
	for range 50 {
		sizes := make([]int, 8)
		for i := range sizes {
			sizes[i] = 1 + r.IntN(700)
		}
		check(fmt.Sprint("chunks ", sizes), decChunks(data, sizes...))
	}
	return want, wantErr
}

// decKinds summarises events for comparisons.
func decKinds(evs []Event) string {
	var s []string
	for _, ev := range evs {
		switch ev.Kind {
		case EventHandshake:
			s = append(s, ev.HandshakeType.String())
		case EventAlert:
			s = append(s, "alert:"+ev.Alert.String())
		case EventEncrypted:
			s = append(s, fmt.Sprintf("encrypted:%v:%d", ev.RecordType, ev.Length))
		default:
			s = append(s, ev.Kind.String())
		}
	}
	return fmt.Sprint(s)
}

func TestDecoderServerFlight(t *testing.T) {
	msgs := decServerMessages(t)
	evs, err := decCheckChunkings(t, 0, decServerFlight(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 {
		t.Fatalf("events: %s", decKinds(evs))
	}
	for i, ev := range evs {
		if ev.Kind != EventHandshake || ev.RecordType != ContentHandshake || ev.RecordVersion != VersionTLS12 ||
			!bytes.Equal(ev.Message, msgs[i]) || ev.Length != len(msgs[i]) {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	if _, err := ParseServerHello(evs[0].Message); err != nil {
		t.Error(err)
	}
	if certs, err := ParseCertificate(evs[1].Message, false); err != nil || len(certs) != 3 {
		t.Error(len(certs), err)
	}
	if ske, err := ParseServerKeyExchangeECDHE(evs[2].Message); err != nil || ske.Group != 0x17 {
		t.Error(ske, err)
	}
	if err := ParseServerHelloDone(evs[3].Message); err != nil {
		t.Error(err)
	}
}

func TestDecoderSeveralMessagesInOneRecord(t *testing.T) {
	msgs := decServerMessages(t)
	evs, err := decCheckChunkings(t, 0, decRec(ContentHandshake, VersionTLS10, slices.Concat(msgs...)))
	if err != nil || len(evs) != 4 {
		t.Fatalf("%s, %v", decKinds(evs), err)
	}
	for i := range msgs {
		if !bytes.Equal(evs[i].Message, msgs[i]) || evs[i].RecordVersion != VersionTLS10 {
			t.Fatalf("message %d differs", i)
		}
	}
}

func TestDecoderMessageAcrossThreeRecords(t *testing.T) {
	cert := decServerMessages(t)[1]
	// The header itself is split: 2 bytes in the first record. The
	// message reports the version of the record it began in.
	data := slices.Concat(
		decRec(ContentHandshake, VersionTLS10, cert[:2]),
		decRec(ContentHandshake, VersionTLS12, cert[2:1500]),
		decRec(ContentHandshake, VersionTLS12, cert[1500:]),
	)
	evs, err := decCheckChunkings(t, 0, data)
	if err != nil || len(evs) != 1 || !bytes.Equal(evs[0].Message, cert) || evs[0].RecordVersion != VersionTLS10 {
		t.Fatalf("%s, %v", decKinds(evs), err)
	}
	// A message larger than a record (2^14) across records.
	big := MarshalCertificate([][]byte{make([]byte, 40000)})
	evs, err = decCollect(0, [][]byte{decRec(ContentHandshake, VersionTLS12, big)})
	if err != nil || len(evs) != 1 || !bytes.Equal(evs[0].Message, big) {
		t.Fatalf("big: %s, %v", decKinds(evs), err)
	}
}

func TestDecoderAlertMidStream(t *testing.T) {
	sh := shMustMarshal(t, shTLS12())
	alert := Alert{AlertLevelFatal, AlertHandshakeFailure}.Marshal()
	data := slices.Concat(
		decRec(ContentHandshake, VersionTLS12, sh[:10]),
		decRec(ContentAlert, VersionTLS12, Alert{AlertLevelWarning, AlertUnrecognizedName}.Marshal()), // inside a message: let through
		decRec(ContentHandshake, VersionTLS12, sh[10:]),
		decRec(ContentAlert, VersionTLS12, append(slices.Clone(alert), AlertLevelWarning, AlertCloseNotify)), // two alerts
	)
	evs, err := decCheckChunkings(t, 0, data)
	if err != nil {
		t.Fatal(err)
	}
	want := "[alert:warning unrecognized_name server_hello alert:fatal handshake_failure alert:warning close_notify]"
	if decKinds(evs) != want {
		t.Fatalf("got %s\nwant %s", decKinds(evs), want)
	}
	if evs[2].RecordType != ContentAlert || evs[2].Length != 4 {
		t.Fatalf("alert event %+v", evs[2])
	}
}

func TestDecoderCCSThenEncrypted(t *testing.T) {
	r := recRand(41)
	cke := slices.Concat([]byte{16, 0, 0, 33, 32}, recBytes(r, 32))
	finished := slices.Concat([]byte{1, 0, 0, 36}, recBytes(r, 36)) // starts like a ClientHello, wrong length
	for _, offers13 := range []bool{false, true} {
		data := slices.Concat(
			decRec(ContentHandshake, VersionTLS10, decHello(t, offers13)),
			decRec(ContentHandshake, VersionTLS12, cke),
			decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
			decRec(ContentHandshake, VersionTLS12, finished),
			decRec(ContentHandshake, VersionTLS12, []byte{2, 0, 0, 38, 3, 3}), // hello-shaped, wrong length
			decRec(ContentApplicationData, VersionTLS12, recBytes(r, 1000)),
			decRec(ContentAlert, VersionTLS12, recBytes(r, 26)),
			decRec(ContentAlert, VersionTLS12, Alert{AlertLevelWarning, AlertCloseNotify}.Marshal()),
			decRec(ContentAlert, VersionTLS12, []byte{0xf3, 0x9c}), // encrypted-looking 2 bytes
			decRec(ContentChangeCipherSpec, VersionTLS12, []byte{0x55, 0x66}),
			decRec(ContentHeartbeat, VersionTLS12, []byte{1, 2, 3}),
			decRec(ContentApplicationData, VersionTLS12, nil),
		)
		evs, err := decCheckChunkings(t, 0, data)
		if err != nil {
			t.Fatal(err)
		}
		want := "[client_hello client_key_exchange change_cipher_spec encrypted:handshake:40 encrypted:handshake:6 " +
			"encrypted:application_data:1000 encrypted:alert:26 alert:warning close_notify encrypted:alert:2 " +
			"encrypted:change_cipher_spec:2 encrypted:heartbeat:3 encrypted:application_data:0]"
		if decKinds(evs) != want {
			t.Fatalf("offers13=%v:\n got %s\nwant %s", offers13, decKinds(evs), want)
		}
		for _, ev := range evs {
			if ev.Kind == EventEncrypted && ev.Message != nil {
				t.Fatal("encrypted event retains its payload")
			}
		}
	}
}

func TestDecoderTLS13MiddleboxCompat(t *testing.T) {
	r := recRand(43)
	hrr := shMustMarshal(t, shHRR())
	sh := shMustMarshal(t, shTLS13())
	server := slices.Concat(
		decRec(ContentHandshake, VersionTLS12, hrr),
		decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
		decRec(ContentHandshake, VersionTLS12, sh), // RFC 8446 D.4: still plaintext
		decRec(ContentApplicationData, VersionTLS12, recBytes(r, 3000)),
	)
	evs, err := decCheckChunkings(t, 0, server)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decKinds(evs), "[server_hello change_cipher_spec server_hello encrypted:application_data:3000]"; got != want {
		t.Fatalf("server:\n got %s\nwant %s", got, want)
	}
	if m, err := ParseServerHello(evs[2].Message); err != nil || m.HelloRetryRequest || m.KeyShareGroup != 0x1d {
		t.Fatalf("second ServerHello: %+v, %v", m, err)
	}

	ch := decHello(t, true)
	client := slices.Concat(
		decRec(ContentHandshake, VersionTLS10, ch),
		decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
		decRec(ContentHandshake, VersionTLS12, ch),
		decRec(ContentApplicationData, VersionTLS12, recBytes(r, 53)),
	)
	evs, err = decCheckChunkings(t, 0, client)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decKinds(evs), "[client_hello change_cipher_spec client_hello encrypted:application_data:53]"; got != want {
		t.Fatalf("client:\n got %s\nwant %s", got, want)
	}
	// Without a TLS 1.3 offer, the same bytes after the CCS are encrypted.
	old := slices.Concat(
		decRec(ContentHandshake, VersionTLS10, decHello(t, false)),
		decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
		decRec(ContentHandshake, VersionTLS12, ch),
	)
	evs, err = decCollect(0, [][]byte{old})
	if err != nil || decKinds(evs) != fmt.Sprintf("[client_hello change_cipher_spec encrypted:handshake:%d]", len(ch)) {
		t.Fatalf("TLS 1.2 client: %s, %v", decKinds(evs), err)
	}
}

func TestDecoderSSLv2(t *testing.T) {
	compat := v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, make([]byte, 32))
	cke := slices.Concat([]byte{16, 0, 0, 4, 0, 2, 9, 9})
	data := slices.Concat(compat, decRec(ContentHandshake, VersionTLS10, cke), decRec(ContentChangeCipherSpec, VersionTLS10, []byte{1}))
	evs, err := decCheckChunkings(t, 0, data)
	if err != nil {
		t.Fatal(err)
	}
	if decKinds(evs) != "[sslv2 client_key_exchange change_cipher_spec]" {
		t.Fatalf("compat: %s", decKinds(evs))
	}
	if evs[0].RecordVersion != VersionSSL20 || evs[0].RecordType != 0 || evs[0].Length != len(compat)-2 {
		t.Fatalf("sslv2 event %+v", evs[0])
	}
	m, err := ParseSSLv2ClientHello(evs[0].Message)
	if err != nil || m.Version != VersionTLS10 {
		t.Fatalf("%+v, %v", m, err)
	}

	// A real SSL 2.0 client stays in SSLv2 records, 3-byte headers
	// included.
	pure := v2MustBuild(t, VersionSSL20, v2Specs, nil, make([]byte, 16))
	padded := []byte{0x00, 5, 2, 2, 0xa, 0xb, 0, 0}
	evs, err = decCheckChunkings(t, 0, slices.Concat(pure, padded, MarshalSSLv2Error(SSLv2ErrNoCipher)))
	if err != nil || decKinds(evs) != "[sslv2 sslv2 sslv2]" || !bytes.Equal(evs[1].Message, padded[3:]) {
		t.Fatalf("pure: %s, %v", decKinds(evs), err)
	}

	sh := v2MustMarshalSH(t, v2RandomServerHello(3))
	evs, err = decCheckChunkings(t, 0, sh)
	if err != nil || len(evs) != 1 {
		t.Fatalf("server: %s, %v", decKinds(evs), err)
	}
	if _, err := ParseSSLv2ServerHello(evs[0].Message); err != nil {
		t.Fatal(err)
	}

	// An SSLv2 record larger than the cap.
	if _, err := decCollect(40, [][]byte{pure}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("cap: %v", err)
	}
	// The first SSLv2 record must carry an SSLv2 message type.
	if _, err := decCollect(0, [][]byte{{0x80, 2, 9, 0}}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("type 9: %v", err)
	}
}

func TestDecoderMaxMessage(t *testing.T) {
	sh := shMustMarshal(t, shSSL3())
	exact := slices.Concat([]byte{11, 0, 0, 96}, make([]byte, 96)) // 100 bytes
	over := slices.Concat([]byte{11, 0, 0, 97}, make([]byte, 97))
	data := slices.Concat(decRec(ContentHandshake, VersionSSL30, sh), decRec(ContentHandshake, VersionSSL30, exact))
	evs, err := decCheckChunkings(t, 100, data)
	if err != nil || len(evs) != 2 {
		t.Fatalf("exact: %s, %v", decKinds(evs), err)
	}
	data = slices.Concat(decRec(ContentHandshake, VersionSSL30, sh), decRec(ContentHandshake, VersionSSL30, over[:4]))
	evs, err = decCheckChunkings(t, 100, data)
	if !errors.Is(err, ErrTooLarge) || len(evs) != 1 {
		t.Fatalf("over: %s, %v", decKinds(evs), err)
	}
	// A huge declared length fails at its header, before any body arrives.
	d := NewDecoder(0)
	if _, err := d.Write(decRec(ContentHandshake, VersionTLS12, []byte{11, 0xff, 0xff, 0xff})); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("default cap: %v", err)
	}
}

func TestDecoderErrors(t *testing.T) {
	sh := shMustMarshal(t, shTLS12())
	tests := map[string]struct {
		data []byte
		want error
		evs  int
	}{
		"http":                {[]byte("GET / HTTP/1.1\r\n"), ErrMalformed, 0},
		"smtp":                {[]byte("220 mail.example ESMTP\r\n"), ErrMalformed, 0},
		"bad version":         {[]byte{22, 2, 0, 0, 1, 1}, ErrMalformed, 0},
		"record too large":    {[]byte{23, 3, 3, 0x48, 0x01}, ErrTooLarge, 0},
		"ccs mid-message":     {slices.Concat(decRec(ContentHandshake, VersionTLS12, sh[:20]), decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1})), ErrUnexpected, 0},
		"app data mid-msg":    {slices.Concat(decRec(ContentHandshake, VersionTLS12, sh[:20]), decRec(ContentApplicationData, VersionTLS12, []byte{1})), ErrUnexpected, 0},
		"ccs two bytes":       {decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1, 1}), ErrMalformed, 0},
		"ccs value 2":         {decRec(ContentChangeCipherSpec, VersionTLS12, []byte{2}), ErrMalformed, 0},
		"ccs empty":           {decRec(ContentChangeCipherSpec, VersionTLS12, nil), ErrMalformed, 0},
		"alert odd":           {decRec(ContentAlert, VersionTLS12, []byte{2, 40, 1}), ErrMalformed, 0},
		"alert empty":         {decRec(ContentAlert, VersionTLS12, nil), ErrMalformed, 0},
		"alert level 3":       {slices.Concat(decRec(ContentHandshake, VersionTLS12, sh), decRec(ContentAlert, VersionTLS12, []byte{3, 40})), ErrMalformed, 1},
		"second alert bad":    {decRec(ContentAlert, VersionTLS12, []byte{2, 40, 0, 0}), ErrMalformed, 1},
		"garbage after hello": {slices.Concat(decRec(ContentHandshake, VersionTLS12, sh), []byte("\r\n")), ErrMalformed, 1},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			evs, err := decCheckChunkings(t, 0, tt.data)
			if !errors.Is(err, tt.want) || len(evs) != tt.evs {
				t.Fatalf("%s, err %v; want %d events, %v", decKinds(evs), err, tt.evs, tt.want)
			}
			recCheckErr(t, err)
		})
	}
	// Errors are sticky, and plaintext fails on its first byte.
	d := NewDecoder(0)
	if n, err := d.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")); !errors.Is(err, ErrMalformed) || n > RecordHeaderLen {
		t.Fatalf("n=%d, %v", n, err)
	}
	if _, err := d.Write(decRec(ContentHandshake, VersionTLS12, sh)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("after error: %v", err)
	}
	for range 2 {
		if _, err := d.Next(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Next after error: %v", err)
		}
	}
	// A zero-length handshake record is skipped.
	evs, err := decCollect(0, [][]byte{slices.Concat(decRec(ContentHandshake, VersionTLS12, nil), decRec(ContentHandshake, VersionTLS12, sh))})
	if err != nil || decKinds(evs) != "[server_hello]" {
		t.Fatalf("empty record: %s, %v", decKinds(evs), err)
	}
}

func TestDecoderNeedMore(t *testing.T) {
	d := NewDecoder(0)
	if _, err := d.Next(); err != ErrNeedMore || !errors.Is(err, ErrTruncated) {
		t.Fatalf("empty decoder: %v", err)
	}
	flight := decServerFlight(t)
	if _, err := d.Write(flight[:7]); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Next(); err != ErrNeedMore {
		t.Fatalf("partial: %v", err)
	}
	if d.Buffered() != 2 {
		t.Fatalf("Buffered = %d, want 2", d.Buffered())
	}
	// Reset starts a new stream, even after an error.
	_, _ = d.Write([]byte("x"))
	d.Reset()
	if _, err := d.Write(flight); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := d.Next(); err != nil {
			break
		}
		n++
	}
	if n != 4 || d.Buffered() != 0 {
		t.Fatalf("after Reset: %d events, %d buffered", n, d.Buffered())
	}
}

func TestReadEvent(t *testing.T) {
	flight := decServerFlight(t)
	msgs := decServerMessages(t)
	for name, r := range map[string]func() io.Reader{
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(flight)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(flight)) },
		"data+EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(flight)) },
	} {
		d := NewDecoder(0)
		rd := r()
		buf := make([]byte, 100)
		for i := range msgs {
			ev, err := ReadEvent(rd, d, buf)
			if err != nil || !bytes.Equal(ev.Message, msgs[i]) {
				t.Fatalf("%s: event %d: %v", name, i, err)
			}
		}
		if _, err := ReadEvent(rd, d, buf); err != io.EOF {
			t.Fatalf("%s: at end: %v", name, err)
		}
	}
	// A stream that stops inside a record.
	d := NewDecoder(0)
	rd := bytes.NewReader(flight[:len(flight)-1])
	for range 3 {
		if _, err := ReadEvent(rd, d, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadEvent(rd, d, nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("cut stream: %v", err)
	}
	// Reader errors and decoder errors come through.
	boom := errors.New("boom")
	if _, err := ReadEvent(iotest.ErrReader(boom), NewDecoder(0), nil); err != boom {
		t.Fatalf("reader error: %v", err)
	}
	if _, err := ReadEvent(bytes.NewReader([]byte("+OK POP3\r\n")), NewDecoder(0), nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("plaintext: %v", err)
	}
}

func TestDecoderAllocations(t *testing.T) {
	flight := decServerFlight(t)
	chunks := decChunks(flight, 100)
	d := NewDecoder(0)
	run := func() {
		d.Reset()
		for _, c := range chunks {
			if _, err := d.Write(c); err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := d.Next(); err != nil {
					break
				}
			}
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per flight, want 0", n)
	}
}

func TestDecoderBoundedMemory(t *testing.T) {
	// 16 MB of application data in 1000-byte writes after a handshake:
	// nothing is copied or kept.
	d := NewDecoder(0)
	rec := decRec(ContentApplicationData, VersionTLS12, make([]byte, MaxPlaintext))
	if _, err := d.Write(decRec(ContentHandshake, VersionTLS12, shMustMarshal(t, shTLS12()))); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		for _, c := range decChunks(rec, 1000) {
			if _, err := d.Write(c); err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := d.Next(); err != nil {
					break
				}
			}
			if d.Buffered() > RecordHeaderLen {
				t.Fatalf("Buffered = %d", d.Buffered())
			}
		}
	}
	if cap(d.hs) > 1024 || cap(d.coll) > 0 || cap(d.queue) > 16 {
		t.Fatalf("buffers grew: hs %d, coll %d, queue %d", cap(d.hs), cap(d.coll), cap(d.queue))
	}
}

// BenchmarkDecoder feeds a TLS 1.2 server flight (ServerHello, three
// certificates, ServerKeyExchange, ServerHelloDone in three records, about
// 3.8 KB) in chunks of the given size, as sniff and scan do.
func BenchmarkDecoder(b *testing.B) {
	flight := decServerFlight(b)
	for _, size := range []int{64, 536, 1460, len(flight)} {
		chunks := decChunks(flight, size)
		b.Run(fmt.Sprint("chunk=", size), func(b *testing.B) {
			d := NewDecoder(0)
			b.SetBytes(int64(len(flight)))
			b.ReportAllocs()
			for b.Loop() {
				d.Reset()
				n := 0
				for _, c := range chunks {
					if _, err := d.Write(c); err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := d.Next(); err != nil {
							break
						}
						n++
					}
				}
				if n != 4 {
					b.Fatalf("%d events", n)
				}
			}
		})
	}
}

// BenchmarkDecoderAppData feeds full application_data records in
// 1460-byte chunks: the bulk of what sniff pushes through a decoder.
func BenchmarkDecoderAppData(b *testing.B) {
	var stream []byte
	for range 64 {
		stream = append(stream, decRec(ContentApplicationData, VersionTLS12, make([]byte, MaxPlaintext))...)
	}
	chunks := decChunks(stream, 1460)
	d := NewDecoder(0)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		for _, c := range chunks {
			if _, err := d.Write(c); err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := d.Next(); err != nil {
					break
				}
			}
		}
	}
}

func decFuzzSeeds(t testing.TB) map[string][]byte {
	r := recRand(51)
	ch := decHello(t, true)
	cke := slices.Concat([]byte{16, 0, 0, 33, 32}, recBytes(r, 32))
	seeds := map[string][]byte{
		"server-flight": decServerFlight(t),
		"tls13-hrr": slices.Concat(
			decRec(ContentHandshake, VersionTLS12, shMustMarshal(t, shHRR())),
			decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
			decRec(ContentHandshake, VersionTLS12, shMustMarshal(t, shTLS13())),
			decRec(ContentApplicationData, VersionTLS12, recBytes(r, 100))),
		"client-tls12": slices.Concat(
			decRec(ContentHandshake, VersionTLS10, decHello(t, false)),
			decRec(ContentHandshake, VersionTLS12, cke),
			decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
			decRec(ContentHandshake, VersionTLS12, recBytes(r, 40)),
			decRec(ContentAlert, VersionTLS12, recBytes(r, 26))),
		"client-tls13-compat": slices.Concat(
			decRec(ContentHandshake, VersionTLS10, ch),
			decRec(ContentChangeCipherSpec, VersionTLS12, []byte{1}),
			decRec(ContentHandshake, VersionTLS12, ch)),
		"alert": slices.Concat(
			decRec(ContentHandshake, VersionTLS12, shMustMarshal(t, shSSL3())),
			decRec(ContentAlert, VersionTLS12, Alert{AlertLevelFatal, AlertHandshakeFailure}.Marshal())),
		"sslv2-compat": slices.Concat(
			v2MustBuild(t, VersionTLS10, []uint32{0x010080, 0x00002f}, nil, recBytes(r, 32)),
			decRec(ContentHandshake, VersionTLS10, cke)),
		"sslv2-server": slices.Concat(v2MustMarshalSH(t, v2RandomServerHello(7)), []byte{0x00, 5, 2, 2, 0xa, 0xb, 0, 0}),
		"split-message": slices.Concat(
			decRec(ContentHandshake, VersionTLS10, ch[:3]),
			decRec(ContentHandshake, VersionTLS10, ch[3:50]),
			decRec(ContentHandshake, VersionTLS10, ch[50:])),
	}
	return seeds
}

// FuzzDecoder feeds the input whole and in chunks whose sizes come from
// its first byte, with a small and the default cap: the events and the
// error must agree, nothing may panic, and the bytes held stay bounded.
func FuzzDecoder(f *testing.F) {
	recRequireSeeds(f, "FuzzDecoder")
	f.Fuzz(func(t *testing.T, data []byte) {
		step := 1
		if len(data) > 0 {
			step = 1 + int(data[0]%64)
		}
		for _, maxMessage := range []int{512, 0} {
			want, wantErr := decCollect(maxMessage, [][]byte{data})
			got, err := decCollect(maxMessage, decChunks(data, step, 2*step+1, 1))
			if !decEventsEqual(got, want) || !decErrEqual(err, wantErr) {
				t.Fatalf("cap %d step %d: %s, %v; whole: %s, %v", maxMessage, step, decKinds(got), err, decKinds(want), wantErr)
			}
			if err != nil {
				recCheckErr(t, err)
			}
			limit := maxMessage
			if limit == 0 {
				limit = DefaultMaxMessage
			}
			d := NewDecoder(maxMessage)
			for _, c := range decChunks(data, step) {
				if _, err := d.Write(c); err != nil {
					break
				}
				for {
					if _, err := d.Next(); err != nil {
						break
					}
				}
				if d.Buffered() > limit+MaxRecordPayload+RecordHeaderLen {
					t.Fatalf("Buffered = %d", d.Buffered())
				}
			}
			for _, ev := range want {
				switch ev.Kind {
				case EventHandshake:
					if len(ev.Message) != ev.Length || len(ev.Message) < 4 || len(ev.Message) > limit {
						t.Fatalf("handshake event of %d bytes (Length %d)", len(ev.Message), ev.Length)
					}
				case EventSSLv2:
					if len(ev.Message) == 0 || len(ev.Message) > limit {
						t.Fatalf("SSLv2 event of %d bytes", len(ev.Message))
					}
				case EventEncrypted, EventAlert, EventChangeCipherSpec:
					if ev.Message != nil {
						t.Fatal("event retains a payload")
					}
				default:
					t.Fatalf("event kind %v", ev.Kind)
				}
			}
		}
	})
}
