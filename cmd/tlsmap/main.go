// Command tlsmap maps which TLS versions and cipher suites servers accept
// (scan) and which clients still negotiate legacy TLS (sniff).
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Exit codes shared by every command. docs/exit-codes.md documents them.
const (
	exitOK    = 0
	exitFail  = 1 // the command ran and found what it was asked to flag
	exitUsage = 2 // bad flags, bad arguments, unknown names

	exitInterrupted = 130 // stopped by SIGINT or SIGTERM (128 + SIGINT)
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"scan", "map the versions and cipher suites servers accept", runScan},
		{"sniff", "report the clients that negotiate or offer TLS 1.0/1.1, from captures or live", runSniff},
		{"logs", "report the clients that used TLS 1.0/1.1, from servers' logs (Exchange, IIS, Postfix, Dovecot, nginx, Apache, HAProxy)", runLogs},
		{"report", "per server: can legacy TLS be switched off, and which clients block it (from a store)", runReport},
		{"ciphers", "list and look up cipher suites, versions, groups and signature schemes", runCiphers},
		{"demo", "run the main job on built-in servers and clients on loopback (no outside servers)", runDemo},
		{"version", "print the version", func(e *env, _ []string) int {
			fmt.Fprintf(e.stdout, "tlsmap %s\n", version)
			return exitOK
		}},
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			for _, c := range commands() {
				if c.name == args[1] {
					return c.run(e, []string{"-h"})
				}
			}
		}
		usage(e.stdout)
		return exitOK
	case "--version", "-version":
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	return e.fail(exitUsage, fmt.Errorf("unknown command %q", args[0]), "run 'tlsmap help' for the list of commands")
}

func usage(w io.Writer) {
	fmt.Fprint(w, "tlsmap maps legacy TLS: which servers accept TLS 1.0/1.1 and weak ciphers, and which clients still use them.\n\nUsage:\n  tlsmap <command> [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'tlsmap help <command>' for a command's flags and examples.\n")
}

// fail prints an error and an optional hint, the only place errors reach
// the user, and returns code.
func (e *env) fail(code int, err error, hint string) int {
	for _, line := range strings.Split(err.Error(), "\n") {
		if h, ok := strings.CutPrefix(line, "hint: "); ok { // a hint carried in the error (policy.go)
			fmt.Fprintf(e.stderr, "hint: %s\n", clip(h))
			continue
		}
		fmt.Fprintf(e.stderr, "error: %s\n", clip(line))
	}
	if hint != "" {
		fmt.Fprintf(e.stderr, "hint: %s\n", clip(hint))
	}
	return code
}

// maxMessage is the longest line of an error or warning: an input quoted
// in it (a 1 MB target) is cut there.
const maxMessage = 240

// clip cuts s to maxMessage bytes, at a rune boundary, marking the cut.
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes more)", len(s)-cut)
}

// parseFlags parses a command's flags, which may stand before, between or
// after its positional arguments ("--" ends the flags). It returns the
// positional arguments, and done=true with the exit code when the command
// must stop (help asked for, or a usage error already printed).
func (e *env) parseFlags(fs *flag.FlagSet, args []string) (pos []string, code int, done bool) {
	// flag writes its messages and the usage to the buffer; they reach
	// stderr unless a typed value's error (flags.go) replaces them.
	var msgs bytes.Buffer
	fs.SetOutput(&msgs)
	defer fs.SetOutput(e.stderr)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			e.stderr.Write(msgs.Bytes())
			return nil, exitOK, true
		}
		if err != nil {
			if u := failedValue(fs); u != nil {
				return nil, e.fail(exitUsage, u.err, u.hint), true
			}
			// flag's own text and the whole usage are replaced by the
			// error: and hint: lines.
			return nil, e.fail(exitUsage, flagError(fs.Name(), err), "run 'tlsmap help "+fs.Name()+"' for the flags"), true
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, false
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), exitOK, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagError rewrites an error of flag.FlagSet.Parse for the error: line.
func flagError(cmd string, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("%s: unknown flag %s", cmd, name)
	}
	return fmt.Errorf("%s: %s", cmd, msg)
}

// failedValue returns the error of the typed flag value whose Set failed,
// or nil.
func failedValue(fs *flag.FlagSet) *usageError {
	var u *usageError
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := f.Value.(setErrorer); ok && u == nil {
			u = v.setError()
		}
	})
	return u
}
