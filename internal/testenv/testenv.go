// Package testenv lets tests ask for the real programs they run against
// (openssl, nginx, postfix, dovecot, tshark …) and decides what happens when
// one is missing: a loud skip on a developer's machine, a failure in CI.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Strict reports whether a missing program must fail the test rather than
// skip it: in CI (CI=true, as .ci/run runs) or when TLSMAP_STRICT=1.
func Strict() bool {
	return os.Getenv("TLSMAP_STRICT") == "1" || os.Getenv("CI") == "true"
}

// NeedProgram returns the path of the named program. When it is not
// installed the test is skipped with a line starting "TLSMAP-SKIP:", or, in
// strict mode, fails.
func NeedProgram(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, name+" is not installed (.ci/run installs it)")
	return ""
}

// Missing skips (or, in strict mode, fails) the test for a missing
// prerequisite described by why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if Strict() {
		t.Fatalf("TLSMAP-SKIP: %s; strict mode (CI) does not allow skipping", why)
	}
	t.Skipf("TLSMAP-SKIP: %s", why)
}
