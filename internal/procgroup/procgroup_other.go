//go:build !unix

package procgroup

import (
	"os"
	"syscall"
)

// Attr: no process groups here.
func Attr() *syscall.SysProcAttr { return nil }

// Terminate stops p: without SIGTERM, at once.
func Terminate(p *os.Process) { p.Kill() }

// Kill stops p at once.
func Kill(p *os.Process) { p.Kill() }
