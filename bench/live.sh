#!/usr/bin/env bash
# live.sh — live capture on a span-like port: `tlsmap sniff -i` against
# `tcpdump -w /dev/null` and `tshark -i … -w /dev/null`, on the same replay.
#
# 1. Makes a large span-like capture (bench/sniff-compare.sh with
#    CAPTURE_ONLY: ~700 MB of short TLS handshakes, bulk TLS and plaintext,
#    wire-sized frames), or takes CAPTURE=FILE.
# 2. Creates a network namespace of its own (tlsmap-live-$$) with a veth
#    pair va–vb: tcpreplay sends into va, the tools capture on vb (the
#    frames' addresses are not vb's, so the namespace's stack drops them
#    after the capture, as a span port's host would).
# 3. For each rate of RATES (Mbit/s; "top" is --topspeed with TOP_PROCS
#    tcpreplay processes at once, each on a copy of the capture with its
#    own addresses, tcprewrite --pnat, so that no two replay the same
#    connections), each tool in turn captures one replay on vb and is
#    stopped with SIGINT a second after it.
# 4. Prints one table: what tcpreplay sent (packets, the rate it reached),
#    what each tool read, the kernel drops each one reports (tcpdump's
#    "packets dropped by kernel", tshark's "packets dropped from vb",
#    tlsmap's coverage input.kernel_drops) and, for tlsmap, the
#    ClientHellos it found against those in the files (`tlsmap sniff -r`
#    on each replayed file: the reference).
#
# Each tool runs with its own default ring (tlsmap 64 MiB, tcpdump and
# tshark libpcap's 2 MiB) unless BUFFER_MB gives all three the same.
#
# Usage: sudo bench/live.sh (make bench-live)
# Tunables (environment): RATES ("500 1000 2000 top"), TOP_PROCS (2),
# CAPTURE (an existing Ethernet pcap of wire-sized frames; default: made
# on the spot), BUFFER_MB (ring of every tool, MiB; default: each one's
# own), WORKDIR (a temp dir, removed at the end unless KEEP=1), TLSMAP
# (the binary; default: built from this tree).
#
# Needs root, ip, tcpreplay, tcprewrite (Debian's tcpreplay), tcpdump,
# tshark, python3, go, and what bench/sniff-compare.sh needs to make the
# capture (ethtool, capinfos, GNU time).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
RATES=${RATES:-"500 1000 2000 top"}
TOP_PROCS=${TOP_PROCS:-2}
BUFFER_MB=${BUFFER_MB:-}

die() { echo "live: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace, live capture)"
for p in ip tcpreplay tcprewrite tcpdump tshark python3 "${GO:-go}"; do
	command -v "$p" >/dev/null || die "$p is not installed (.ci/install-deps installs it)"
done

ns=tlsmap-live-$$
work=${WORKDIR:-$(mktemp -d /tmp/tlsmap-live.XXXXXX)}
mkdir -p "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

if [ -z "${TLSMAP:-}" ]; then
	(cd "$here" && CGO_ENABLED=0 "${GO:-go}" build -trimpath -o "$work/tlsmap" ./cmd/tlsmap) || die "building tlsmap failed"
	TLSMAP=$work/tlsmap
fi
if [ -z "${CAPTURE:-}" ]; then
	echo "== making the capture (bench/sniff-compare.sh CAPTURE_ONLY)" >&2
	CAPTURE_ONLY=$work/span.pcap TLSMAP=$TLSMAP WORKDIR=$work/make bash "$here/bench/sniff-compare.sh" ||
		die "making the capture failed"
	CAPTURE=$work/span.pcap
fi
[ -r "$CAPTURE" ] || die "no capture $CAPTURE"

# The copies of the capture the top-speed replays send, each with its own
# addresses (127.0.0.0/8 of the loopback recording moved to 11/8, 12/8 …).
copies=("$CAPTURE")
for i in $(seq 2 "$TOP_PROCS"); do
	tcprewrite --pnat="127.0.0.0/8:$((9 + i)).0.0.0/8" -i "$CAPTURE" -o "$work/copy$i.pcap" || die "tcprewrite failed"
	copies+=("$work/copy$i.pcap")
done
# The reference: the ClientHellos in each file, as tlsmap reads them from it.
hellos() { # hellos JSONL: flow records with a ClientHello
	python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("schema") == "tlsmap.sniff/1" and r.get("offered_versions"):
        n += 1
print(n)' "$1"
}
refs=()
for f in "${copies[@]}"; do
	"$TLSMAP" sniff -r "$f" --format jsonl >"$work/ref.jsonl" || die "tlsmap sniff -r $f failed"
	refs+=("$(hellos "$work/ref.jsonl")")
done
echo "== capture: $CAPTURE, $(stat -c %s "$CAPTURE") bytes, ${refs[0]} ClientHellos (tlsmap sniff -r)" >&2

ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
inns ip link set lo up
inns ip link add va type veth peer name vb
inns ip link set va up
inns ip link set vb up
sleep 1 # the links' own first packets (IPv6 router solicitations) go by

tlsmap_buf=()
tcpdump_buf=()
tshark_buf=()
if [ -n "$BUFFER_MB" ]; then
	tlsmap_buf=(--buffer "$BUFFER_MB")
	tcpdump_buf=(-B $((BUFFER_MB * 1024)))
	tshark_buf=(-B "$BUFFER_MB")
fi

# replay RATE: tcpreplay into va; prints "packets mbps".
replay() {
	local rate=$1 procs=1 i
	local -a speed=(--mbps="$rate") rpids=()
	if [ "$rate" = top ]; then
		procs=$TOP_PROCS
		speed=(--topspeed)
	fi
	for i in $(seq 1 "$procs"); do
		inns tcpreplay -i va "${speed[@]}" -K "${copies[$((i - 1))]}" >"$work/replay$i.log" 2>&1 &
		rpids[i]=$!
	done
	for i in $(seq 1 "$procs"); do
		wait "${rpids[i]}" || die "tcpreplay failed: $(tail -5 "$work/replay$i.log")"
	done
	python3 - "$work" "$procs" <<'PY'
import re, sys
work, procs = sys.argv[1], int(sys.argv[2])
pk = mbps = 0.0
for i in range(1, procs + 1):
    t = open(f"{work}/replay{i}.log").read()
    pk += int(re.search(r"Successful packets:\s+(\d+)", t).group(1))
    mbps += float(re.search(r"Rated: [\d.]+ Bps, ([\d.]+) Mbps", t).group(1))
print(int(pk), round(mbps))
PY
}

# waitfor FILE TEXT: until the tool says it captures.
waitfor() {
	for _ in $(seq 200); do grep -q "$2" "$1" && return 0; sleep 0.05; done
	die "no \"$2\" in $1: $(tail -5 "$1")"
}

results=$work/results.tsv
: >"$results"
for rate in $RATES; do
	procs=1
	[ "$rate" = top ] && procs=$TOP_PROCS
	ref=0
	for i in $(seq 1 "$procs"); do ref=$((ref + refs[i - 1])); done
	for tool in tlsmap tcpdump tshark; do
		out=$work/$tool.out err=$work/$tool.err
		case $tool in
		tlsmap)
			ip netns exec "$ns" "$TLSMAP" sniff -i vb "${tlsmap_buf[@]}" --stats-interval 1s --format jsonl >"$out" 2>"$err" &
			ready=stats: ;;
		tcpdump)
			ip netns exec "$ns" tcpdump -i vb -n "${tcpdump_buf[@]}" -w /dev/null >"$out" 2>"$err" &
			ready="listening on" ;;
		tshark)
			ip netns exec "$ns" tshark -i vb -n "${tshark_buf[@]}" -w /dev/null >"$out" 2>"$err" &
			ready="Capturing on" ;;
		esac
		# Started directly (ip netns exec execs the tool), not through a
		# function, so that $! is the tool itself, which SIGINT stops.
		tpid=$!
		pids+=("$tpid")
		waitfor "$err" "$ready"
		sleep 1
		echo "== $rate: $tool" >&2
		replay "$rate" >"$work/replay.res"
		read -r sent mbps <"$work/replay.res"
		sleep 1
		kill -INT "$tpid"
		for _ in $(seq 300); do kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$tpid" 2>/dev/null && { kill -KILL "$tpid"; die "$tool did not stop on SIGINT"; }
		wait "$tpid" || true
		python3 - "$tool" "$out" "$err" "$rate" "$sent" "$mbps" "$ref" >>"$results" <<'PY'
import json, re, sys
tool, out, err, rate, sent, mbps, ref = sys.argv[1:]
e = open(err).read()
def num(pat, text):
    m = re.search(pat, text, re.M)
    return int(m.group(1)) if m else None
if tool == "tlsmap":
    hellos, summ = 0, None
    for line in open(out):
        r = json.loads(line)
        if r.get("schema") == "tlsmap.sniff/1" and r.get("offered_versions"):
            hellos += 1
        elif r.get("schema") == "tlsmap.sniff.summary/1":
            summ = r
    read, drops, found = summ["packets"], summ["input"]["kernel_drops"], str(hellos)
elif tool == "tcpdump":
    read, drops, found = num(r"^(\d+) packets captured", e), num(r"^(\d+) packets dropped by kernel", e), "-"
else:
    read, drops, found = num(r"^(\d+) packets captured", e), num(r"^(\d+) packets dropped from", e) or 0, "-"
print("\t".join(str(x) for x in (rate, tool, sent, mbps, read, drops, found, ref)))
PY
	done
done

bufs="each tool's default ring (tlsmap 64 MiB, libpcap 2 MiB)"
[ -n "$BUFFER_MB" ] && bufs="a $BUFFER_MB MiB ring each"
python3 - "$results" "$bufs" "$(nproc)" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"\nLive capture on a veth pair, {sys.argv[2]}, {sys.argv[3]} cores")
print("(sent Mbit/s: what tcpreplay reached, added up over its processes; at top speed the")
print("capturing tool and the senders share the cores, so each tool's replay differs)\n")
hdr = ("rate", "tool", "sent pkts", "sent Mbit/s", "read pkts", "kernel drops", "drops %", "ClientHellos found / in the files")
fmt = "| {:<6} | {:<7} | {:>9} | {:>11} | {:>9} | {:>12} | {:>7} | {:>33} |"
print(fmt.format(*hdr))
print("|" + "|".join("-" * len(c) for c in fmt.format(*hdr).split("|")[1:-1]) + "|")
for rate, tool, sent, mbps, read, drops, found, ref in rows:
    pct = f"{100 * int(drops) / int(sent):.1f}" if drops not in ("None", "") and int(sent) else "?"
    hel = f"{found} / {ref}" if found != "-" else "-"
    print(fmt.format(rate, tool, sent, mbps, read, drops, pct, hel))
PY
