//go:build unix

package realserver

import (
	"os"
	"syscall"
)

// groupAttr starts the server in its own process group, so that its
// workers (nginx's) are signalled with it.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// terminate asks the server's process group to stop (SIGTERM).
func terminate(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGTERM) }

// kill stops the server's process group at once (SIGKILL).
func kill(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGKILL) }
