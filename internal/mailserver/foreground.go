package mailserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/procgroup"
)

// process is a server that runs in the foreground (Exim's -bdf,
// couriertcpd), in a process group of its own with the children it forks
// for each connection, its output in a log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startProcess starts cmd with its output on the log file and stops its
// group when the test ends (SIGTERM, SIGKILL after five seconds), before
// the removal of a tempDir made earlier.
func startProcess(t testing.TB, cmd *exec.Cmd, log string) (*process, error) {
	f, err := os.OpenFile(log, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = procgroup.Attr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.stop)
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop() {
	if p.exited() {
		return
	}
	procgroup.Terminate(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		procgroup.Kill(p.cmd.Process)
		<-p.done
	}
}

// waitAccepting waits until every address accepts connections, and fails
// at once when one of procs has exited.
func waitAccepting(procs []*process, addrs []string, deadline time.Time) error {
	for _, a := range addrs {
		for {
			for _, p := range procs {
				if p.exited() {
					return fmt.Errorf("%s exited before listening: %v\n%s", filepath.Base(p.cmd.Path), p.err, tail(p.log, 20))
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
