package realserver

import (
	"os/exec"
	"slices"
)

// openSSLCommand is openssl s_server for cfg on addr. -www answers each
// connection and returns to accept, so the server takes any number of
// connections, one at a time: the others wait in the listen backlog.
func openSSLCommand(cfg Config, cert Cert, addr string) (*exec.Cmd, error) {
	args := []string{"s_server", "-accept", addr, "-cert", cert.CertFile, "-key", cert.KeyFile, "-www", "-quiet"}
	args = append(args, slices.Clone(cfg.Args)...)
	return exec.Command("openssl", args...), nil
}
