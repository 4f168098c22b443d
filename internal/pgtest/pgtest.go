//go:build linux

// Package pgtest runs a PostgreSQL server of the tests' own: Debian's
// postgresql binaries (initdb, postgres), a cluster in a temporary
// directory, listening on a free 127.0.0.1 port only, started once per
// test binary and shared (each test gets a database of its own). As root
// the server runs as the postgres user (PostgreSQL refuses root).
//
// A package using it stops the server at the end with Main (or Stop from
// its own TestMain); the server also gets SIGQUIT when the test process
// dies.
package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tlsmap/tlsmap/internal/testenv"
)

// Cluster is the running server.
type Cluster struct {
	Port int
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
	mu   sync.Mutex
}

var (
	once     sync.Once
	shared   *Cluster
	startErr error
	missing  string
	dbSeq    atomic.Int64
)

// BinDir returns the directory of Debian's PostgreSQL server binaries
// (the newest version installed), or "" when none is.
func BinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

// DSN returns a fresh database's URL on the shared server, made for t
// (and dropped when t ends). It skips t (fails it in CI) when PostgreSQL
// is not installed.
func DSN(t testing.TB) string {
	t.Helper()
	c := Start(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	admin := c.URL("postgres")
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating database: %v\n%s", err, c.Log())
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return c.URL(name)
}

// URL returns the URL of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://tlsmap@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Log returns what the server logged.
func (c *Cluster) Log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

type lockedWriter struct{ c *Cluster }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.log.Len() < 1<<20 {
		w.c.log.Write(p)
	}
	return len(p), nil
}

// Start returns the shared server, starting it on first use.
func Start(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { shared, startErr = start() })
	if missing != "" {
		testenv.Missing(t, missing)
	}
	if startErr != nil {
		t.Fatalf("pgtest: %v", startErr)
	}
	return shared
}

func start() (*Cluster, error) {
	bin := BinDir()
	if bin == "" {
		missing = "PostgreSQL is not installed (apt-get install postgresql; .ci/install-deps does)"
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "tlsmap-pgtest-")
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			missing = "running as root and there is no postgres user to run PostgreSQL as (the postgresql package makes it)"
			return nil, nil
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	c := &Cluster{Dir: dir, log: &bytes.Buffer{}, done: make(chan struct{})}
	data := filepath.Join(dir, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", data, "-U", "tlsmap", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.Port = port
		c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
			"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port), "-c", "unix_socket_directories="+dir,
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=100", "-c", "shared_buffers=128MB", "-c", "log_min_messages=warning")
		c.cmd.Dir = dir
		c.cmd.Stdout, c.cmd.Stderr = lockedWriter{c}, lockedWriter{c}
		// SIGQUIT (immediate shutdown) should the test binary die.
		c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGQUIT}
		if err := c.cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("postgres: %v", err)
		}
		c.done = make(chan struct{})
		go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(c.cmd, c.done)
		err = c.waitReady(ctx)
		if err == nil {
			return c, nil
		}
		c.stop()
		if attempt < 3 && strings.Contains(c.Log(), "in use") {
			continue
		}
		os.RemoveAll(dir)
		return nil, fmt.Errorf("postgres did not start: %v\n%s", err, c.Log())
	}
}

func (c *Cluster) waitReady(ctx context.Context) error {
	for {
		select {
		case <-c.done:
			return errors.New("postgres exited")
		default:
		}
		db, err := sql.Open("pgx", c.URL("postgres"))
		if err == nil {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			err = db.PingContext(pctx)
			cancel()
			db.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return errors.New("postgres exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) stop() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// Stop stops the shared server, if it was started, and removes its files.
func Stop() {
	if shared != nil {
		shared.stop()
		os.RemoveAll(shared.Dir)
		shared = nil
	}
}

// Main runs the tests of a package and stops the server: call it from
// TestMain as os.Exit(pgtest.Main(m)).
func Main(m interface{ Run() int }) int {
	code := m.Run()
	Stop()
	return code
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
