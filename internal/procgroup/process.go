package procgroup

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Process is a server started in a process group of its own (Attr), with
// the children it forks, its output in a log file.
type Process struct {
	Cmd  *exec.Cmd
	Log  string
	done chan struct{}
	err  error
}

// Start starts cmd with its standard input, output and error on the log
// file (vsftpd writes its start-up errors to file descriptor 0), in a
// process group of its own unless cmd.SysProcAttr is already set (a
// caller that runs it as another user sets its own, a group's too).
func Start(cmd *exec.Cmd, log string) (*Process, error) {
	f, err := os.OpenFile(log, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, f, f
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = Attr()
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Process{Cmd: cmd, Log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process exited (Wait's error), once Exited.
func (p *Process) Err() error {
	if !p.Exited() {
		return nil
	}
	return p.err
}

// Stop ends the process and its group: SIGTERM, SIGKILL after five
// seconds. It reports a process that had exited before.
func (p *Process) Stop() error {
	if p.Exited() {
		return fmt.Errorf("%s had exited: %v", filepath.Base(p.Cmd.Path), p.err)
	}
	Terminate(p.Cmd.Process)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		Kill(p.Cmd.Process)
		<-p.done
	}
	return nil
}

// Tail returns the last n lines of a file (a server's log, for an error).
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
