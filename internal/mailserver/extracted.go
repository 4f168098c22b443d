package mailserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// ExtractedRoot is where .ci/install-deps unpacks the Debian packages
// that cannot be installed beside the others (apt-get download, then
// dpkg-deb -x into one folder a set): exim4-daemon-light is a
// mail-transport-agent, which postfix is too, and courier-imap an
// imap-server, which dovecot-imapd is too. TLSMAP_EXTRACTED, when set,
// replaces it.
const ExtractedRoot = "/opt/tlsmap/extracted"

// unpacked is one set of unpacked packages: its folder, a root file
// system of its own (usr/sbin/exim4 …).
type unpacked string

// needUnpacked returns the set name under ExtractedRoot, skipping the
// test (failing it in CI) when one of files (paths inside the set) is
// missing.
func needUnpacked(t testing.TB, name string, files ...string) unpacked {
	t.Helper()
	root := os.Getenv("TLSMAP_EXTRACTED")
	if root == "" {
		root = ExtractedRoot
	}
	u := unpacked(filepath.Join(root, name))
	for _, f := range files {
		if _, err := os.Stat(u.path(f)); err != nil {
			testenv.Missing(t, fmt.Sprintf("%s is not unpacked (.ci/install-deps unpacks %s into %s)", f, name, u))
		}
	}
	return u
}

// path is rel (usr/sbin/exim4) inside the set.
func (u unpacked) path(rel string) string { return filepath.Join(string(u), rel) }

// libraryPath is the LD_LIBRARY_PATH setting that finds the libraries
// the set brings (the dynamic linker knows only the installed ones): its
// usr/lib and the multiarch folders (usr/lib/x86_64-linux-gnu …).
func (u unpacked) libraryPath() string {
	dirs := []string{u.path("usr/lib")}
	for _, pat := range []string{"usr/lib/*-linux-gnu*", "lib/*-linux-gnu*"} {
		m, _ := filepath.Glob(u.path(pat))
		dirs = append(dirs, m...)
	}
	return "LD_LIBRARY_PATH=" + strings.Join(dirs, ":")
}
