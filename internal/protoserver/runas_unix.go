//go:build unix

package protoserver

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"

	"github.com/tlsmap/tlsmap/internal/procgroup"
)

// runAs makes cmd run as the system user name (Prosody's and InspIRCd's
// packages create theirs), in a process group of its own, and returns
// the user's uid and gid for the files it must own.
func runAs(cmd *exec.Cmd, name string) (uid, gid int, err error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("user %s: %w (is its package installed?)", name, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	cmd.SysProcAttr = procgroup.Attr()
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	cmd.Env = append(os.Environ(), "HOME="+u.HomeDir, "USER="+name, "LOGNAME="+name)
	return uid, gid, nil
}
