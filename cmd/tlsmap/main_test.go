package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tlsmap/tlsmap/internal/pgtest"
)

func TestMain(m *testing.M) {
	// pgtest.Main stops the store tests' PostgreSQL once the tests end.
	testscript.Main(pgMain{m}, map[string]func(){
		"tlsmap": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

type pgMain struct{ m *testing.M }

func (p pgMain) Run() int { return pgtest.Main(p.m) }

// TestScripts runs the CLI scripts in testdata/script: each is a txtar file
// of tlsmap invocations with their expected stdout, stderr and exit codes.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// $TESTDATA is the repository's testdata directory (captures).
		Setup: func(env *testscript.Env) error {
			dir, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
			env.Setenv("TESTDATA", dir)
			return err
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// exitcode N PROGRAM ARGS... runs PROGRAM and requires exit code N;
			// its stdout and stderr are then checked like exec's.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N program [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				got := 0
				if err := ts.Exec(args[1], args[2:]...); err != nil {
					var ee *exec.ExitError
					if !errors.As(err, &ee) {
						ts.Fatalf("exitcode: %v", err)
					}
					got = ee.ExitCode()
				}
				if got != want {
					ts.Fatalf("exit code %d, want %d", got, want)
				}
			},
		},
	})
}
