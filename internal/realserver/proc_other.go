//go:build !unix

package realserver

import (
	"os"
	"syscall"
)

// groupAttr: no process groups off Unix (the servers the tests start,
// openssl and nginx as Debian packages, are not expected here: StartT
// reports them missing).
func groupAttr() *syscall.SysProcAttr { return nil }

// terminate stops the server: without SIGTERM, at once.
func terminate(p *os.Process) { p.Kill() }

// kill stops the server at once.
func kill(p *os.Process) { p.Kill() }
