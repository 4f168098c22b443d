package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/tlsmap/tlsmap/internal/demo"
)

const demoHelp = `Usage: tlsmap demo [flags]

Shows tlsmap's main job without any server of your own: it starts five TLS
servers in this process on 127.0.0.1 — HTTPS (modern), HTTPS (legacy:
TLS 1.0–1.2 with CBC, 3DES, RC4), SMTP with STARTTLS, IMAPS and POP3 with
STLS — scans them with tlsmap's scan engine, makes a few client connections
of its own (some with TLS 1.0/1.1), and prints the two reports tlsmap
exists for:

  Endpoints that accept legacy TLS   (what 'tlsmap scan' finds)
  Clients that used legacy TLS       (what 'tlsmap sniff' finds)

and ends with their join, read back from a store (tlsmap report): per
endpoint, whether legacy TLS can be switched off now or which clients
block it.

The client report comes from a live capture on the loopback interface when
tlsmap may capture (root or CAP_NET_RAW, Linux), otherwise from a capture of
the same demo shipped inside tlsmap. Nothing is sent beyond loopback; it
takes a few seconds.

Exit status: 0 the demo ran and its reports are what its servers and
clients are configured to produce; 1 they are not (the differences are on
stderr) or it could not run; 2 bad flags; 130 interrupted.

Examples:
  tlsmap demo
  tlsmap demo --details            # also every endpoint's full scan report
  sudo tlsmap demo --sniff live    # require the live capture
  tlsmap demo --store demo.db && tlsmap report --store demo.db --since 3650d --format html > demo.html

Flags:
`

func runDemo(e *env, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	source := &demoSourceFlag{src: demo.SourceAuto}
	fs.Var(source, "sniff", "`source` of the client report: auto (live when permitted, else the shipped capture), live, or capture")
	iface := fs.String("interface", "", "loopback `interface` to capture live (default: the first loopback interface that is up)")
	details := fs.Bool("details", false, "also print every endpoint's full scan report")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	timeout := fs.Duration("timeout", demo.DefaultTimeout, "per-connection `timeout` of the scan")
	storeDSN := fs.String("store", "", "keep the demo's scan and connections in this `store` (an SQLite file or a postgres:// URL) for tlsmap report; default: a temporary file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), demoHelp)
		fs.PrintDefaults()
	}
	args, code, done := e.parseFlags(fs, args)
	if done {
		return code
	}
	if len(args) > 0 {
		return e.fail(exitUsage, fmt.Errorf("demo: unexpected argument %q", args[0]), "tlsmap demo takes no arguments; to scan your own servers: tlsmap scan HOST")
	}
	if *timeout <= 0 {
		return e.fail(exitUsage, fmt.Errorf("--timeout %v: must be positive", *timeout), "")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second Ctrl-C kills at once

	opts := demo.Options{Source: source.src, Interface: *iface, Timeout: *timeout, Log: e.stderr, Store: *storeDSN}
	if *quiet {
		opts.Log = io.Discard
	}
	res, err := demo.Run(ctx, opts)
	switch {
	case ctx.Err() != nil:
		return e.fail(exitInterrupted, errors.New("demo: interrupted"), "")
	case errors.Is(err, demo.ErrLive):
		return e.fail(exitFail, err, "live capture needs root or CAP_NET_RAW on Linux; --sniff auto falls back to the shipped capture")
	case err != nil:
		return e.fail(exitFail, err, "")
	}
	if err := res.WriteText(e.stdout, *details); err != nil {
		return e.fail(exitFail, fmt.Errorf("demo: writing the report: %w", err), "")
	}
	if err := res.Check(); err != nil {
		return e.fail(exitFail, err, "the demo's reports differ from what its servers and clients are configured to do: please report this as a bug")
	}
	return exitOK
}
