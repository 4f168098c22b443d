//go:build !unix

package mailserver

import "os"

// processAlive reports whether a process with this pid exists (postfix
// and dovecot, which write the pid files, are Unix daemons: this twin
// only keeps the package building elsewhere).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

// killPID stops the process.
func killPID(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
		p.Release()
	}
}
