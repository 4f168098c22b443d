package mailserver

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
)

// startProcess starts a server that runs in the foreground (Exim's -bdf,
// couriertcpd) in a process group of its own, with the children it forks
// for each connection, its output on the log file, and stops its group
// when the test ends (before the removal of a tempDir made earlier).
func startProcess(t testing.TB, cmd *exec.Cmd, log string) (*procgroup.Process, error) {
	p, err := procgroup.Start(cmd, log)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p, nil
}

// waitAccepting waits until every address accepts connections, and fails
// at once when one of procs has exited.
func waitAccepting(procs []*procgroup.Process, addrs []string, deadline time.Time) error {
	for _, a := range addrs {
		for {
			for _, p := range procs {
				if p.Exited() {
					return fmt.Errorf("%s exited before listening: %v\n%s", filepath.Base(p.Cmd.Path), p.Err(), tail(p.Log, 20))
				}
			}
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s does not accept connections: %w", a, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}
