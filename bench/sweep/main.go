// Command sweep checks the JSON Lines of a tlsmap sweep (bench/sweep.sh):
// every expected endpoint reported exactly once, each with the expected
// version outcomes, and prints the figures.
//
//	sweep -prefix 127.0.0.0/20 -port 443 -expect 'SSLv2=rejected,TLSv1.2=accepted' < out.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/output"
)

func main() {
	prefix := flag.String("prefix", "127.0.0.0/20", "the swept CIDR block: every address must be reported once")
	port := flag.Int("port", 443, "the swept port")
	expect := flag.String("expect", "", "comma-separated VERSION=OUTCOME every endpoint must show (empty: status only)")
	status := flag.String("status", "ok", "the status every endpoint must have")
	noEnds := flag.Bool("no-ends", false, "the block's network and broadcast addresses were not swept (tlsmap scan without --include-special)")
	flag.Parse()
	if err := run(*prefix, *port, *expect, *status, *noEnds); err != nil {
		fmt.Fprintln(os.Stderr, "sweep:", err)
		os.Exit(1)
	}
}

func run(prefix string, port int, expect, status string, noEnds bool) error {
	pfx, err := netip.ParsePrefix(prefix)
	if err != nil {
		return err
	}
	want := map[string]string{}
	for _, kv := range strings.Split(expect, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			want[k] = v
		}
	}
	seen := map[netip.Addr]int{}
	var lines, bad, wrong, outside, dups int
	statuses := map[string]int{}
	examples := []string{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		lines++
		var r output.ScanRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			bad++
			continue
		}
		statuses[r.Status]++
		ap, err := netip.ParseAddrPort(strings.TrimPrefix(strings.TrimPrefix(r.Target, "https://"), "tls://"))
		if err != nil || !pfx.Contains(ap.Addr()) || int(ap.Port()) != port {
			outside++
			continue
		}
		if seen[ap.Addr()]++; seen[ap.Addr()] > 1 {
			dups++
		}
		ok := r.Status == status
		got := map[string]string{}
		for _, v := range r.Versions {
			got[v.Version] = v.Outcome
		}
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if !ok {
			wrong++
			if len(examples) < 5 {
				examples = append(examples, fmt.Sprintf("%s: %s %s %v", r.Target, r.Status, r.Error, got))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	total := 1 << (pfx.Addr().BitLen() - pfx.Bits())
	if noEnds && total > 2 {
		total -= 2
	}
	var st []string
	for k, v := range statuses {
		st = append(st, k+" "+strconv.Itoa(v))
	}
	sort.Strings(st)
	fmt.Printf("lines %d, unique endpoints %d of %d, duplicates %d, outside %d, unparsable %d, status: %s, not as expected %d\n",
		lines, len(seen), total, dups, outside, bad, strings.Join(st, ", "), wrong)
	for _, e := range examples {
		fmt.Println("  e.g.", e)
	}
	if len(seen) != total || dups > 0 || outside > 0 || bad > 0 || wrong > 0 || lines != total {
		return fmt.Errorf("the sweep is not exact")
	}
	return nil
}
