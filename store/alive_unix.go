//go:build unix

package store

import (
	"errors"
	"syscall"
)

// canCheckProcess: processAlive can tell.
const canCheckProcess = true

// processAlive reports whether a process with this PID runs on this host
// (EPERM: it runs, as another user).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
