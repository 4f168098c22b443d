#!/usr/bin/env bash
# sniff-compare.sh — benchmark `tlsmap sniff` against tshark on a large
# capture made on the spot.
#
# 1. Creates a network namespace (tlsmap-bench-$$) whose loopback looks
#    like a span port: MTU 1500, no GSO/TSO/GRO, so frames are wire-sized.
# 2. Inside it, a small Go program (written below) runs a crypto/tls server
#    and clients: thousands of short handshakes (TLS 1.0 to 1.3, from 200
#    client addresses, one SNI each) alongside bulk TLS downloads, and
#    plaintext connections that are no known protocol (PLAIN short ones of
#    PLAIN_KB random bytes on port 8080, plus PLAIN_MB in bulk) — what the
#    prefix search scans up to its window — while tcpdump records
#    everything to big.pcap (hundreds of MB).
# 3. Times `tlsmap sniff -r big.pcap --format jsonl` and
#    `tshark -r big.pcap -Y tls.handshake.type==1 -T fields …` with
#    /usr/bin/time -v (wall time, MB/s, packets/s, peak RSS), RUNS times
#    each taking turns (medians reported, every run's wall time listed),
#    reads the capture twice over (its copy 5 minutes later) once more for
#    tlsmap's peak RSS (memory must not grow with the capture), and checks that both find the same
#    set of ClientHellos (src, sport, dst, dport).
#
# With QUIC=1 (make bench-sniff-quic) the traffic is QUIC instead: the
# quic-go client and server of sniff/testdata/quicpeer (built from the Go
# module proxy or cache) make the short handshakes and the bulk downloads,
# tcpdump records UDP, and both tools look for the ClientHellos in the
# QUIC Initial packets.
#
# Usage: sudo bench/sniff-compare.sh        (make bench-sniff)
#        sudo QUIC=1 bench/sniff-compare.sh (make bench-sniff-quic)
# Tunables (environment): HANDSHAKES (10000; QUIC 5000), BULK_MB (400; QUIC
# 200), BULK_CONNS (4), RUNS (3: timed runs of each tool), RATE (80, QUIC 40: bulk MB/s, paced so that tcpdump
# drops nothing on 2 cores), WORKDIR (a temp dir, removed at the end unless
# KEEP=1), TLSMAP (the binary; default: built from this tree into WORKDIR),
# CAPTURE_ONLY=FILE (make the capture, move it to FILE and stop: no
# tshark needed; bench/store-compare.sh uses it), SNIS (distinct SNIs of
# the handshakes; default one each).
#
# Needs root, ip, ethtool, tcpdump, tshark, capinfos, go, python3 and GNU
# time. tshark on Debian/Ubuntu:
#   echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
#   DEBIAN_FRONTEND=noninteractive apt-get install -y tshark time
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
QUIC=${QUIC:-0}
if [ "$QUIC" = 1 ]; then
	HANDSHAKES=${HANDSHAKES:-5000}
	BULK_MB=${BULK_MB:-200}
	RATE=${RATE:-40}
fi
HANDSHAKES=${HANDSHAKES:-10000}
BULK_MB=${BULK_MB:-400}
BULK_CONNS=${BULK_CONNS:-4}
RATE=${RATE:-80}
RUNS=${RUNS:-3}
PLAIN=${PLAIN:-2000}
PLAIN_KB=${PLAIN_KB:-48}
PLAIN_MB=${PLAIN_MB:-100}

die() { echo "sniff-compare: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace, tcpdump)"
CAPTURE_ONLY=${CAPTURE_ONLY:-}
need=(ip ethtool tcpdump capinfos go python3)
[ -n "$CAPTURE_ONLY" ] || need+=(tshark)
for p in "${need[@]}"; do
	command -v "$p" >/dev/null || die "$p is not installed (see the header of $0)"
done
[ -x /usr/bin/time ] || die "GNU time is not installed (apt-get install -y time)"

ns=tlsmap-bench-$$
work=${WORKDIR:-$(mktemp -d /tmp/tlsmap-bench.XXXXXX)}
mkdir -p "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

# ---- the traffic generator ----------------------------------------------------
mkdir -p "$work/gen"
cat >"$work/gen/main.go" <<'GO'
// Command gen makes TLS traffic on loopback for the sniff benchmark: a
// crypto/tls server, many short handshakes and a few bulk downloads.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	mrand "math/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	handshakes := flag.Int("handshakes", 6000, "short connections")
	snis := flag.Int("snis", 0, "distinct SNIs of the short connections (0: one each)")
	bulkMB := flag.Int("bulk-mb", 320, "MB downloaded in bulk, in total")
	bulkConns := flag.Int("bulk-conns", 4, "bulk connections")
	workers := flag.Int("workers", 8, "concurrent handshakes")
	rate := flag.Int("rate", 80, "MB/s of bulk data, all connections together (tcpdump must keep up)")
	plain := flag.Int("plain", 0, "short plaintext connections (random bytes, no known protocol) on port 8080")
	plainKB := flag.Int("plain-kb", 48, "KiB a short plaintext connection downloads")
	plainMB := flag.Int("plain-mb", 0, "MB downloaded in plaintext over one connection")
	flag.Parse()

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench.test"},
		DNSNames: []string{"*.bench.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	srv := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS10}
	ln, err := tls.Listen("tcp", "127.0.0.1:443", srv)
	if err != nil {
		log.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				var n uint64
				if binary.Read(c, binary.BigEndian, &n) != nil {
					return
				}
				// Paced: each connection gets its share of -rate.
				share := float64(*rate<<20) / float64(max(1, *bulkConns))
				start := time.Now()
				var sent uint64
				for sent < n {
					k := min(n-sent, uint64(len(chunk)))
					if _, err := c.Write(chunk[:k]); err != nil {
						return
					}
					sent += k
					if ahead := time.Duration(float64(sent)/share*float64(time.Second)) - time.Since(start); ahead > 0 {
						time.Sleep(ahead)
					}
				}
			}(c)
		}
	}()

	// The plaintext server: a request line, then the asked-for bytes of
	// noise (0x16 among them, as in any binary payload).
	noise := make([]byte, 64<<10)
	mrand.New(mrand.NewSource(1)).Read(noise)
	pln, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := pln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				var n uint64
				if binary.Read(c, binary.BigEndian, &n) != nil {
					return
				}
				share := float64(*rate<<20) / float64(max(1, *bulkConns))
				start := time.Now()
				for sent := uint64(0); sent < n; {
					k := min(n-sent, uint64(len(noise)))
					if _, err := c.Write(noise[:k]); err != nil {
						return
					}
					sent += k
					if ahead := time.Duration(float64(sent)/share*float64(time.Second)) - time.Since(start); ahead > 0 {
						time.Sleep(ahead)
					}
				}
			}(c)
		}
	}()
	plainGet := func(i int, n uint64) error {
		d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 2, byte(1+i%200))}}
		c, err := d.Dial("tcp", "127.0.0.1:8080")
		if err != nil {
			return err
		}
		defer c.Close()
		binary.Write(c, binary.BigEndian, n)
		got, err := io.Copy(io.Discard, c)
		if err == nil && uint64(got) != n {
			err = fmt.Errorf("%d of %d bytes", got, n)
		}
		return err
	}

	versions := []uint16{tls.VersionTLS10, tls.VersionTLS11, tls.VersionTLS12, tls.VersionTLS13, tls.VersionTLS12, tls.VersionTLS13}
	dial := func(i int, v uint16, sni string) (*tls.Conn, error) {
		d := &net.Dialer{Timeout: 10 * time.Second,
			LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(1+i%200))}}
		return tls.DialWithDialer(d, "tcp", "127.0.0.1:443",
			&tls.Config{ServerName: sni, InsecureSkipVerify: true, MinVersion: v, MaxVersion: v})
	}
	var wg sync.WaitGroup
	var ok, failed atomic.Int64
	start := time.Now()
	per := uint64(*bulkMB) << 20 / uint64(max(1, *bulkConns))
	for b := range *bulkConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(b, tls.VersionTLS13-uint16(b%2), fmt.Sprintf("bulk%d.bench.test", b))
			if err != nil {
				log.Printf("bulk %d: %v", b, err)
				failed.Add(1)
				return
			}
			defer c.Close()
			binary.Write(c, binary.BigEndian, per)
			if n, err := io.Copy(io.Discard, c); err != nil || uint64(n) != per {
				log.Printf("bulk %d: %d bytes, %v", b, n, err)
				failed.Add(1)
				return
			}
			ok.Add(1)
		}()
	}
	if *plainMB > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := plainGet(0, uint64(*plainMB)<<20); err != nil {
				log.Printf("plain bulk: %v", err)
				failed.Add(1)
				return
			}
			ok.Add(1)
		}()
	}
	jobs := make(chan int)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if i < 0 { // a plaintext connection
					if err := plainGet(-i, uint64(*plainKB)<<10); err != nil {
						failed.Add(1)
					} else {
						ok.Add(1)
					}
					continue
				}
				sni := i
				if *snis > 0 {
					sni = i % *snis
				}
				c, err := dial(i, versions[i%len(versions)], fmt.Sprintf("h%d.bench.test", sni))
				if err != nil {
					failed.Add(1)
					continue
				}
				binary.Write(c, binary.BigEndian, uint64(512))
				io.Copy(io.Discard, c)
				c.Close()
				ok.Add(1)
			}
		}()
	}
	// The plaintext connections interleaved with the handshakes.
	step, p := max(1, *handshakes/max(1, *plain)), 0
	for i := range *handshakes {
		jobs <- i
		if p < *plain && i%step == 0 {
			jobs <- -1 - p
			p++
		}
	}
	for ; p < *plain; p++ {
		jobs <- -1 - p
	}
	close(jobs)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "gen: %d connections ok, %d failed, in %v\n", ok.Load(), failed.Load(), time.Since(start).Round(time.Millisecond))
	if failed.Load() > 0 {
		os.Exit(1)
	}
}
GO
(cd "$work/gen" && GOFLAGS= GO111MODULE=off "${GO:-go}" build -o "$work/gen/gen" main.go) || die "building the generator failed"
if [ "$QUIC" = 1 ]; then
	(cd "$here/sniff/testdata/quicpeer" && "${GO:-go}" build -o "$work/quicpeer" .) || die "building sniff/testdata/quicpeer failed"
fi

if [ -z "${TLSMAP:-}" ]; then
	(cd "$here" && CGO_ENABLED=0 "${GO:-go}" build -trimpath -o "$work/tlsmap" ./cmd/tlsmap) || die "building tlsmap failed"
	TLSMAP=$work/tlsmap
fi

# ---- record -----------------------------------------------------------------------
ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
inns ip link set lo up mtu 1500
# Segmentation offloads off: frames on lo are then at most MTU-sized, as on
# a span port (lo may refuse some settings; what it accepts is enough).
inns ethtool -K lo gso off tso off gro off 2>/dev/null || inns ethtool -K lo tso off gso off 2>/dev/null || true

transport=tcp
[ "$QUIC" = 1 ] && transport=udp
if [ "$QUIC" = 1 ]; then
	QUIC_GO_DISABLE_GSO=true ip netns exec "$ns" "$work/quicpeer" serve -addr 127.0.0.1:443 >"$work/quicpeer.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do grep -q '^listening' "$work/quicpeer.log" && break; sleep 0.05; done
	grep -q '^listening' "$work/quicpeer.log" || die "quicpeer serve did not start: $(cat "$work/quicpeer.log")"
fi
# record ATTEMPT: one recording into big.pcap; fails when the kernel
# dropped packets (a busy machine), so that the caller records again.
record() {
	echo "== recording ($transport, attempt $1): $HANDSHAKES handshakes + $BULK_MB MB bulk over $BULK_CONNS connections" \
		"$([ "$QUIC" = 1 ] || echo "+ $PLAIN plaintext connections of $PLAIN_KB KiB + $PLAIN_MB MB plaintext bulk")" >&2
	gen_start=$(date +%s.%N)
	# tcpdump is started directly (not via a function) so $! is its pid.
	ip netns exec "$ns" tcpdump -i lo -s 0 -B 262144 -U -n -Z root -w "$work/big.pcap" "$transport" >"$work/tcpdump.log" 2>&1 &
	tcpdump_pid=$!
	pids+=("$tcpdump_pid")
	for _ in $(seq 100); do grep -q 'listening on' "$work/tcpdump.log" && break; sleep 0.05; done
	grep -q 'listening on' "$work/tcpdump.log" || die "tcpdump did not start: $(cat "$work/tcpdump.log")"
	if [ "$QUIC" = 1 ]; then
		# quic-go's UDP segmentation offload would hand tcpdump 64 KB
		# super-datagrams; without it frames are wire-sized, as on a span port.
		QUIC_GO_DISABLE_GSO=true inns "$work/quicpeer" flood -addr 127.0.0.1:443 -n "$HANDSHAKES" -bulk-mb "$BULK_MB" -bulk-conns "$BULK_CONNS" -rate "$RATE"
	else
		inns "$work/gen/gen" -handshakes "$HANDSHAKES" -snis "${SNIS:-0}" -bulk-mb "$BULK_MB" -bulk-conns "$BULK_CONNS" -rate "$RATE" \
			-plain "$PLAIN" -plain-kb "$PLAIN_KB" -plain-mb "$PLAIN_MB"
	fi
	sleep 1.5
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" || true
	gen_end=$(date +%s.%N)
	grep -E 'captured|dropped' "$work/tcpdump.log" >&2 || true
	dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/tcpdump.log")
	[ "${dropped:-1}" = 0 ]
}
# A capture with packets lost in the kernel would not be the traffic the
# generator made (hellos cut, flows mid-stream): it is made again, at most
# 3 times, and a lossy one is used only with a warning in the report.
capture_drops=0
for attempt in 1 2 3; do
	if record "$attempt"; then capture_drops=0; break; fi
	capture_drops=${dropped:-unknown}
	echo "sniff-compare: tcpdump dropped $capture_drops packets (machine busy?)" >&2
done

size=$(stat -c %s "$work/big.pcap")
packets=$(capinfos -M -c "$work/big.pcap" 2>/dev/null | sed -n 's/^Number of packets:[^0-9]*\([0-9]*\).*/\1/p')
printf '== capture: %s, %.1f MB, %s packets, made in %.0fs\n' "$work/big.pcap" "$(echo "$size/1000000" | bc -l)" \
	"$packets" "$(echo "$gen_end - $gen_start" | bc -l)" >&2

if [ -n "$CAPTURE_ONLY" ]; then
	mv "$work/big.pcap" "$CAPTURE_ONLY"
	exit 0
fi

# ---- measure ----------------------------------------------------------------------
measure() { # measure NAME RUN OUTFILE CMD...
	local name=$1 run=$2 outf=$3
	shift 3
	# A first untimed read would warm the page cache for both tools alike;
	# the capture was just written, so it is warm already.
	/usr/bin/time -v -o "$work/$name.$run.time" "$@" >"$outf" 2>"$work/$name.stderr" ||
		die "$name failed: $(tail -5 "$work/$name.stderr")"
}
# tshark picks UDP dissectors by port: a client port that another protocol
# registered (44818 is EtherNet/IP) hides the QUIC handshake on it. Told
# that port 443 is QUIC, it finds every one (tlsmap recognises QUIC by
# content, on any port).
decode_as=()
[ "$QUIC" = 1 ] && decode_as=(-d udp.port==443,quic)
# The tools take turns, RUNS times, so that a burst of load on the machine
# falls on both; the report gives each one's median and range.
for run in $(seq 1 "$RUNS"); do
	echo "== run $run/$RUNS: tlsmap sniff" >&2
	measure tlsmap "$run" "$work/tlsmap.jsonl" "$TLSMAP" sniff -r "$work/big.pcap" --format jsonl
	echo "== run $run/$RUNS: tshark" >&2
	measure tshark "$run" "$work/tshark.tsv" tshark -r "$work/big.pcap" -n "${decode_as[@]}" -Y 'tls.handshake.type==1' -T fields \
		-e ip.src -e ipv6.src -e "$transport.srcport" -e ip.dst -e ipv6.dst -e "$transport.dstport" -e tls.handshake.extensions_server_name
done
# Memory flat in capture size: the capture twice over, the second copy
# 5 minutes later (past the 2-minute idle timeout, as a long capture of
# the same traffic would be), read once; its peak RSS must be that of one
# copy, not twice it.
if command -v editcap >/dev/null && command -v mergecap >/dev/null; then
	editcap -t 300 "$work/big.pcap" "$work/later.pcap" 2>/dev/null
	mergecap -a -w "$work/twice.pcap" "$work/big.pcap" "$work/later.pcap" 2>/dev/null
	rm -f "$work/later.pcap"
	measure tlsmap-twice 1 "$work/twice.jsonl" "$TLSMAP" sniff -r "$work/twice.pcap" --format jsonl
	rm -f "$work/twice.pcap"
fi

python3 - "$work" "$size" "$packets" "$RUNS" "$capture_drops" <<'PY'
import json, re, statistics, sys
work, size, packets, runs, drops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3] or 0), int(sys.argv[4]), sys.argv[5]

def gnu_time(name):
    t = open(name).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", t)
    h, m, s = wall.groups()
    secs = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    return secs, rss, user + system

def ep(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"

ours, our_rows = set(), 0
coverage = None
for line in open(f"{work}/tlsmap.jsonl"):
    r = json.loads(line)
    if r.get("schema") == "tlsmap.sniff.summary/1":
        coverage = r
        continue
    if r.get("schema") == "tlsmap.sniff/1" and r["offered_versions"]:  # flows with a ClientHello
        our_rows += 1
        ours.add((r["client"], r["server"]))
theirs, their_rows = set(), 0
for line in open(f"{work}/tshark.tsv"):
    f = line.rstrip("\n").split("\t")
    src, src6, sport, dst, dst6, dport = f[:6]
    # a frame with several ClientHellos lists the ports once
    their_rows += 1
    theirs.add((ep(src or src6, sport.split(",")[0]), ep(dst or dst6, dport.split(",")[0])))

rows, walls = [], {}
for name, found, distinct in (("tlsmap sniff --format jsonl", our_rows, ours), ("tshark -Y tls.handshake.type==1", their_rows, theirs)):
    key = "tlsmap" if name.startswith("tlsmap") else "tshark"
    t = [gnu_time(f"{work}/{key}.{i}.time") for i in range(1, runs + 1)]
    secs = statistics.median(x[0] for x in t)
    cpu = statistics.median(x[2] for x in t)
    rss = max(x[1] for x in t)
    walls[key] = [x[0] for x in t]
    rows.append((name, secs, cpu, size / 1e6 / secs, packets / secs, rss / 1024, found, len(distinct)))

print(f"capture: {size/1e6:.1f} MB, {packets} packets")
if drops != "0":
    print(f"WARNING: the kernel dropped {drops} packets while recording, 3 attempts: the capture is not the generated traffic (both tools read the same file, so the comparison stands)")
if coverage:
    t = coverage["tcp"]
    print(f"tlsmap coverage: TCP {t['connections']} connections (TLS {t['tls']}, after a prefix {t['tls_after_prefix']}, unknown {t['unknown']} {t['unknown_ports']},"
          f" no payload {t['no_payload']}, mid-stream {t['mid_stream']}, truncated {t['truncated']} {t['truncated_by']}); UDP {coverage['udp']['flows']}; complete: {coverage['complete']}")
print(f"{runs} runs each, taking turns; wall and cpu are medians, peak RSS the largest")
print(f"{'tool':34} {'wall s':>7} {'cpu s':>7} {'MB/s':>8} {'packets/s':>11} {'peak RSS MB':>12} {'ClientHellos':>13} {'connections':>12}")
for r in rows:
    print(f"{r[0]:34} {r[1]:7.2f} {r[2]:7.2f} {r[3]:8.1f} {r[4]:11.0f} {r[5]:12.1f} {r[6]:13d} {r[7]:12d}")
only_ours, only_theirs = ours - theirs, theirs - ours
for key in walls:
    print(f"  {key} wall s per run: {' '.join(f'{w:.2f}' for w in walls[key])}")
try:
    _, twice_rss, _ = gnu_time(f"{work}/tlsmap-twice.1.time")
    twice = sum(1 for line in open(f"{work}/twice.jsonl") if (r := json.loads(line)).get("schema") == "tlsmap.sniff/1" and r["offered_versions"])
    print(f"tlsmap peak RSS on the capture twice over (the copy 5 min later, {twice} ClientHellos): {twice_rss/1024:.1f} MB (once: {rows[0][5]:.1f} MB)")
except FileNotFoundError:
    pass
print(f"speed-up (wall, medians): {rows[1][1]/rows[0][1]:.1f}x (slowest tlsmap run against the fastest tshark run: {min(walls['tshark'])/max(walls['tlsmap']):.1f}x); same (src, sport, dst, dport) set: {'yes' if not only_ours and not only_theirs else 'NO'}"
      f" ({len(ours & theirs)} common, {len(only_ours)} only tlsmap, {len(only_theirs)} only tshark)")
for label, s in (("only tlsmap", only_ours), ("only tshark", only_theirs)):
    for x in sorted(s)[:5]:
        print(f"  {label}: {x[0]} -> {x[1]}")
sys.exit(0 if not only_ours and not only_theirs else 1)
PY
