//go:build unix

package procgroup

import (
	"os"
	"syscall"
)

// Attr makes a command start in its own process group.
func Attr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// Terminate asks p's process group to stop (SIGTERM).
func Terminate(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGTERM) }

// Kill stops p's process group at once (SIGKILL).
func Kill(p *os.Process) { syscall.Kill(-p.Pid, syscall.SIGKILL) }
