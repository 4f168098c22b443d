package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/sniff"
)

// Every way OpenLive can refuse maps to an exit code and a hint; this runs
// on every OS, whichever of them OpenLive can return there (off Linux the
// script sniff_errors.txtar also runs the unsupported case end to end).
func TestLiveFailure(t *testing.T) {
	other := errors.New("sniff: live capture on eth0: bad things")
	for _, tc := range []struct {
		name     string
		iface    string
		err      error
		code     int
		msg      string // the error printed
		hintWant string // a part of the hint; "" for none
	}{
		{"unsupported", "en0", &sniff.LiveError{Interface: "en0", Err: sniff.ErrLiveUnsupported}, exitFail,
			"sniff: live capture on en0: only supported on Linux", "tlsmap sniff -r FILE"},
		{"permission", "eth0", &sniff.LiveError{Interface: "eth0", Err: sniff.ErrLivePermission}, exitFail,
			"live capture on eth0 needs root or CAP_NET_RAW", "setcap cap_net_raw"},
		{"no interface", "eth9", &sniff.LiveError{Interface: "eth9", Err: sniff.ErrNoInterface}, exitUsage,
			"sniff: live capture on eth9: no such interface", "ip link"},
		{"other", "eth0", other, exitFail, other.Error(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, hint, err := liveFailure(tc.iface, tc.err)
			if code != tc.code {
				t.Errorf("code %d, want %d", code, tc.code)
			}
			if err == nil || err.Error() != tc.msg {
				t.Errorf("error %v, want %q", err, tc.msg)
			}
			if (tc.hintWant == "") != (hint == "") || !strings.Contains(hint, tc.hintWant) {
				t.Errorf("hint %q, want one containing %q", hint, tc.hintWant)
			}
		})
	}
}
