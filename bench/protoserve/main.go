// Command protoserve starts the real servers of internal/protoserver
// (slapd, vsftpd, Prosody, PostgreSQL, MariaDB, xrdp, INN, InspIRCd …) on loopback, prints one URL a line ("ldap://127.0.0.1:389")
// once all accept connections, and stops them on SIGINT or SIGTERM. It is
// how scripts/make-captures.sh and the protocol benchmarks get servers
// outside a Go test. It needs root and sends nothing anywhere.
//
// With -well-known the servers listen on their protocols' well-known
// ports (389, 636 …: run it in a network namespace of its own), so that a
// capture of their implicit-TLS ports is labelled by port.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tlsmap/tlsmap/internal/protoserver"
)

func main() {
	wellKnown := flag.Bool("well-known", false, "listen on the well-known ports (in a network namespace of its own)")
	xmppHosts := flag.String("xmpp-hosts", "", "comma-separated further `domains` Prosody serves (direct TLS picks the domain by SNI)")
	flag.Parse()
	var hosts []string
	if *xmppHosts != "" {
		hosts = strings.Split(*xmppHosts, ",")
	}
	os.Exit(run(*wellKnown, hosts))
}

func run(wellKnown bool, xmppHosts []string) int {
	ports := func(p ...int) []int {
		if wellKnown {
			return p
		}
		return nil
	}
	port := func(p int) int {
		if wellKnown {
			return p
		}
		return 0
	}
	servers := []protoserver.Starter{
		protoserver.Slapd(protoserver.SlapdOptions{Ports: ports(389, 636), GlobalCatalog: ports(3268, 3269)}),
		protoserver.Vsftpd(protoserver.VsftpdOptions{Ports: ports(21, 990)}),
		protoserver.Prosody(protoserver.ProsodyOptions{Ports: ports(5222, 5269, 5223, 5270), Hosts: xmppHosts}),
		protoserver.Postgres(protoserver.PostgresOptions{Port: port(5432)}),
		protoserver.MariaDB(protoserver.MariaDBOptions{Port: port(3306)}),
		protoserver.Xrdp(protoserver.XrdpOptions{Port: port(3389)}),
		protoserver.ManageSieve(protoserver.ManageSieveOptions{Port: port(4190)}),
		protoserver.Inn(protoserver.InnOptions{Ports: ports(119, 563)}),
		protoserver.InspIRCd(protoserver.InspIRCdOptions{Ports: ports(6667, 6697)}),
	}
	// From the start: a SIGINT or SIGTERM while the servers start stops
	// the starting, and the deferred Close stops those already running.
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "tlsmap-protoserve-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		return 1
	}
	var running []*protoserver.Server
	defer func() {
		for _, s := range running {
			_ = s.Close()
		}
	}()
	for i, start := range servers {
		sub := fmt.Sprintf("%s/%d", dir, i)
		if err := os.Mkdir(sub, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			return 1
		}
		ctx, cancel := context.WithTimeout(sig, time.Minute)
		s, err := start(ctx, sub)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			return 1
		}
		running = append(running, s)
	}
	// All at once, when every server accepts connections.
	for _, s := range running {
		for _, u := range s.URLs() {
			fmt.Println(u)
		}
	}
	<-sig.Done()
	// A second signal (timeout and pkill both sending one) must not kill
	// protoserve while the deferred Close stops the servers: INN's and the
	// others' processes would be left running.
	signal.Ignore(os.Interrupt, syscall.SIGTERM)
	return 0
}
