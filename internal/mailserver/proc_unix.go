//go:build unix

package mailserver

import "syscall"

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// killPID sends the process SIGKILL.
func killPID(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }
