//go:build !unix

package protoserver

import (
	"errors"
	"os/exec"
)

// runAs: another user needs a Unix system (the servers are Debian's).
func runAs(*exec.Cmd, string) (uid, gid int, err error) {
	return 0, 0, errors.New("protoserver: running as another user needs a unix system")
}
