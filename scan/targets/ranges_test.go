package targets

import (
	"errors"
	"testing"

	"github.com/tlsmap/tlsmap/scan"
)

func TestParseRangeErrors(t *testing.T) {
	for _, s := range []string{
		"10.0.0.5-4", "10.0.0.1-256", "10.0.0.0/33", "2001:db8::/64", "10.0.0.0/8:0", "10.0.0.0/8:", "[2001:db8::/120",
		"10.0.0.1-2001:db8::1", "fe80::1%eth0/120",
	} {
		_, isRange, err := ParseRange(s, scan.TargetOptions{})
		if !isRange || err == nil || !errors.Is(err, scan.ErrBadTarget) {
			t.Errorf("ParseRange(%q): range %v, err %v", s, isRange, err)
		} else {
			t.Logf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"example.com", "my-host.example.com", "https://10.0.0.1/index.html", "10.0.0.1", "[2001:db8::1]:443"} {
		if _, isRange, err := ParseRange(s, scan.TargetOptions{}); isRange || err != nil {
			t.Errorf("ParseRange(%q): range %v, err %v", s, isRange, err)
		}
	}
}
