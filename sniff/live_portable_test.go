package sniff

import (
	"errors"
	"runtime"
	"testing"
)

// OpenLive's contract on every OS: no interface is an error; off Linux
// any interface fails with ErrLiveUnsupported, on Linux a missing one
// with ErrNoInterface (and never ErrLiveUnsupported).
func TestOpenLivePortable(t *testing.T) {
	if _, err := OpenLive(t.Context(), LiveConfig{}); err == nil {
		t.Error("OpenLive without an interface: no error")
	}
	src, err := OpenLive(t.Context(), LiveConfig{Interface: "tlsmap-nope0"})
	if err == nil {
		src.Close()
		t.Fatal("OpenLive(tlsmap-nope0): no error")
	}
	var lerr *LiveError
	if !errors.As(err, &lerr) || lerr.Interface != "tlsmap-nope0" {
		t.Errorf("OpenLive(tlsmap-nope0) = %v, want a *LiveError naming the interface", err)
	}
	if runtime.GOOS == "linux" {
		if errors.Is(err, ErrLiveUnsupported) || !errors.Is(err, ErrNoInterface) {
			t.Errorf("on Linux: OpenLive(tlsmap-nope0) = %v, want ErrNoInterface", err)
		}
		return
	}
	if !errors.Is(err, ErrLiveUnsupported) {
		t.Errorf("on %s: OpenLive(tlsmap-nope0) = %v, want ErrLiveUnsupported", runtime.GOOS, err)
	}
	want := "sniff: live capture on tlsmap-nope0: only supported on Linux, not on " + runtime.GOOS
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
