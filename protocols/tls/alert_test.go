package tls

import (
	"errors"
	"strconv"
	"testing"
)

func TestParseAlert(t *testing.T) {
	tests := []struct {
		in      []byte
		want    Alert
		wantErr error
	}{
		{[]byte{2, 40}, Alert{AlertLevelFatal, AlertHandshakeFailure}, nil},
		{[]byte{1, 0}, Alert{AlertLevelWarning, AlertCloseNotify}, nil},
		{[]byte{2, 200}, Alert{AlertLevelFatal, 200}, nil},
		{nil, Alert{}, ErrTruncated},
		{[]byte{2}, Alert{}, ErrTruncated},
		{[]byte{2, 40, 0}, Alert{}, ErrMalformed},
		{[]byte{0, 40}, Alert{}, ErrMalformed},
		{[]byte{3, 40}, Alert{}, ErrMalformed},
		{[]byte{3}, Alert{}, ErrMalformed},
	}
	for _, tt := range tests {
		got, err := ParseAlert(tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseAlert(%x): err = %v, want %v", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAlert(%x) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestAlertRoundTrip(t *testing.T) {
	for level := range 256 {
		for desc := range 256 {
			a := Alert{uint8(level), uint8(desc)}
			got, err := ParseAlert(a.Marshal())
			valid := level == 1 || level == 2
			if valid != (err == nil) || (valid && got != a) {
				t.Fatalf("%v: got %v, %v", a, got, err)
			}
		}
	}
	recNoPrefixParses(t, "alert", Alert{AlertLevelFatal, AlertDecodeError}.Marshal(), func(b []byte) error {
		_, err := ParseAlert(b)
		return err
	})
}

func TestAlertNames(t *testing.T) {
	want := map[uint8]string{
		0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
		22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
		42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
		45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
		49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
		70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
		86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
		109: "missing_extension", 110: "unsupported_extension", 111: "certificate_unobtainable",
		112: "unrecognized_name", 113: "bad_certificate_status_response",
		114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
		120: "no_application_protocol", 121: "ech_required",
	}
	for d := range 256 {
		name, ok := want[uint8(d)]
		if !ok {
			name = "alert(" + strconv.Itoa(d) + ")"
		}
		if got := AlertDescriptionName(uint8(d)); got != name {
			t.Errorf("AlertDescriptionName(%d) = %q, want %q", d, got, name)
		}
	}
	strs := map[Alert]string{
		{AlertLevelFatal, AlertHandshakeFailure}: "fatal handshake_failure",
		{AlertLevelWarning, AlertCloseNotify}:    "warning close_notify",
		{AlertLevelFatal, AlertProtocolVersion}:  "fatal protocol_version",
		{7, 255}:                                 "level(7) alert(255)",
	}
	for a, s := range strs {
		if a.String() != s {
			t.Errorf("%#v.String() = %q, want %q", a, a.String(), s)
		}
	}
}

func alFuzzSeeds(testing.TB) map[string][]byte {
	return map[string][]byte{
		"handshake-failure": {2, 40},
		"close-notify":      {1, 0},
		"protocol-version":  {2, 70},
		"bad-level":         {9, 40},
		"three-bytes":       {2, 40, 0},
		"one-byte":          {2},
	}
}

func FuzzParseAlert(f *testing.F) {
	recRequireSeeds(f, "FuzzParseAlert")
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAlert(data)
		if err != nil {
			recCheckErr(t, err)
			return
		}
		if string(a.Marshal()) != string(data) {
			t.Fatalf("Marshal(ParseAlert(%x)) = %x", data, a.Marshal())
		}
		if a.String() == "" {
			t.Fatal("empty String")
		}
	})
}
