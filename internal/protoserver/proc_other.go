//go:build !unix

package protoserver

import "os/exec"

// The servers of this package are Debian's; elsewhere they do not start.

func setProcessGroup(*exec.Cmd) {}

func signalGroup(cmd *exec.Cmd, kill bool) { _ = cmd.Process.Kill() }
