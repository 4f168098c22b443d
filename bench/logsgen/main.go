// Command logsgen writes a large generated log for bench/logs-bench.sh:
// nginx access lines with the TLS fields, or a Postfix and Dovecot
// maillog, from a few thousand clients each mostly with its own version
// and user agent, in time order, until the file reaches -size bytes. It
// prints the line count and the number of lines of each TLS version on
// stderr, the truth the benchmark checks tlsmap's totals against.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes to write")
	kind := flag.String("kind", "nginx", "nginx or maillog")
	clients := flag.Int("clients", 5000, "distinct client addresses")
	out := flag.String("o", "-", "output file")
	flag.Parse()
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "logsgen:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	defer bw.Flush()

	r := rand.New(rand.NewPCG(13, 13))
	versions := []string{"TLSv1.3", "TLSv1.3", "TLSv1.2", "TLSv1.2", "TLSv1.2", "TLSv1.1", "TLSv1"}
	cipher := map[string]string{"TLSv1.3": "TLS_AES_256_GCM_SHA384", "TLSv1.2": "ECDHE-RSA-AES128-GCM-SHA256",
		"TLSv1.1": "ECDHE-RSA-AES256-SHA", "TLSv1": "AES128-SHA"}
	agents := []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"curl/7.29.0", "okhttp/3.12.0", "Java/1.7.0_80", "python-requests/2.31.0", "Microsoft Office/16.0 (Windows NT 10.0; MAPI 16.0)"}
	count := map[string]int64{}
	var written, lines int64
	t := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for written < *size {
		c := r.IntN(*clients)
		v := versions[c%len(versions)]
		if r.IntN(10) == 0 {
			v = versions[r.IntN(len(versions))]
		}
		ip := fmt.Sprintf("10.%d.%d.%d", 20+c>>16, c>>8&255, 1+c&255%254)
		t = t.Add(time.Duration(r.IntN(20)) * time.Millisecond)
		var n int
		switch *kind {
		case "nginx":
			n, _ = fmt.Fprintf(bw, "%s - - [%s] \"GET /api/v1/items/%d HTTP/1.1\" 200 %d \"https://app.example.com/\" \"%s\" %s %s\n",
				ip, t.Format("02/Jan/2006:15:04:05 -0700"), r.IntN(100000), r.IntN(50000), agents[c%len(agents)], v, cipher[v])
			lines++
			count[v]++
		case "maillog":
			ts := t.Format("Jan _2 15:04:05")
			pid := 1000 + r.IntN(64)
			if r.IntN(2) == 0 {
				a, _ := fmt.Fprintf(bw, "%s mx postfix/smtpd[%d]: connect from unknown[%s]\n", ts, pid, ip)
				b, _ := fmt.Fprintf(bw, "%s mx postfix/smtpd[%d]: Anonymous TLS connection established from unknown[%s]: %s with cipher %s (256/256 bits)\n", ts, pid, ip, v, cipher[v])
				d, _ := fmt.Fprintf(bw, "%s mx postfix/smtpd[%d]: disconnect from unknown[%s] ehlo=1 starttls=1 quit=1 commands=3\n", ts, pid, ip)
				n = a + b + d
				lines += 3
			} else {
				n, _ = fmt.Fprintf(bw, "%s mx dovecot: imap-login: Login: user=<u%d>, method=PLAIN, rip=%s, lip=10.0.0.1, mpid=%d, TLS, session=<s%d>, %s with cipher %s (256/256 bits)\n",
					ts, c, ip, r.IntN(99999), lines, v, cipher[v])
				lines++
			}
			count[v]++
		default:
			fmt.Fprintln(os.Stderr, "logsgen: -kind is nginx or maillog")
			os.Exit(2)
		}
		written += int64(n)
	}
	fmt.Fprintf(os.Stderr, "lines=%d bytes=%d", lines, written)
	for _, v := range versions[1:] {
		if c, ok := count[v]; ok {
			fmt.Fprintf(os.Stderr, " %s=%d", v, c)
			delete(count, v)
		}
	}
	fmt.Fprintln(os.Stderr)
}
