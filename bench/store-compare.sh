#!/usr/bin/env bash
# store-compare.sh — what --store costs `tlsmap sniff` on a large capture.
#
# 1. Makes the ~700 MB capture of bench/sniff-compare.sh (its generator in
#    a network namespace, recorded with tcpdump; CAPTURE_ONLY), or takes
#    CAPTURE=FILE.
# 2. Starts a PostgreSQL of its own (Debian's binaries, as the postgres
#    user, in WORKDIR, on a free 127.0.0.1 port).
# 3. Times, RUNS times each, in turn: `tlsmap sniff -r big.pcap` (the
#    legacy-client report, no store); the same with `--store` into a fresh
#    SQLite file; into a fresh PostgreSQL database; into an SQLite file and
#    a PostgreSQL database made before (schema in place, holding another
#    capture: the daily case, without the one-time migration); into SQLite
#    with `--store-flows`; and once more into the SQLite store that already
#    holds the file (hashed, reported, not stored again).
# 4. Prints the median wall and CPU time of each (and, for PostgreSQL,
#    the CPU its server spent on the run's connections), the overhead
#    over the plain sniff with PASS or FAIL against TARGET, and checks
#    that every store holds as many connections as the sniff reported.
#
# On a machine of two cores shared with other work a run's time varies by
# tens of percent: the medians of RUNS interleaved runs are the figures,
# and the spread of the plain runs says how far to trust them. Only the
# counts decide the exit status; PASS and FAIL are printed.
#
# Usage: sudo bench/store-compare.sh        (make bench-store)
# Tunables (environment): RUNS (9), TARGET (20: the most --store may cost
# over the plain sniff, percent of the median wall time), CAPTURE (an
# existing capture: skips step 1), WORKDIR (removed at the end unless
# KEEP=1), TLSMAP (the binary;
# default built from this tree), and sniff-compare.sh's HANDSHAKES,
# BULK_MB, BULK_CONNS, RATE, SNIS. By default every handshake has an SNI
# of its own, so that every connection is a row of its own in the store
# (the most it can cost); SNIS=50, 50 names over 200 clients and 6
# versions, is closer to a span port's traffic (600 rows a day).
#
# Needs root, GNU time, python3 (with its sqlite3 module), PostgreSQL
# (apt-get install postgresql), and what sniff-compare.sh needs to make
# the capture (ip, ethtool, tcpdump, capinfos, go).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-9}
TARGET=${TARGET:-20}
die() { echo "store-compare: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace, tcpdump, PostgreSQL as postgres)"
[ -x /usr/bin/time ] || die "GNU time is not installed (apt-get install -y time)"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pgbin" ] || die "PostgreSQL is not installed (apt-get install -y postgresql)"

work=${WORKDIR:-$(mktemp -d /tmp/tlsmap-store-bench.XXXXXX)}
mkdir -p "$work"
chmod 755 "$work"
cleanup() {
	[ -f "$work/pg/data/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true
	if [ "${KEEP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

if [ -z "${TLSMAP:-}" ]; then
	(cd "$here" && CGO_ENABLED=0 "${GO:-go}" build -trimpath -o "$work/tlsmap" ./cmd/tlsmap) || die "building tlsmap failed"
	TLSMAP=$work/tlsmap
fi
capture=${CAPTURE:-}
if [ -z "$capture" ]; then
	capture=$work/big.pcap
	echo "== making the capture (bench/sniff-compare.sh)" >&2
	# A work directory of its own (a WORKDIR given here is this script's).
	WORKDIR=$work/make-capture CAPTURE_ONLY=$capture TLSMAP=$TLSMAP bash "$here/bench/sniff-compare.sh"
fi
size=$(stat -c %s "$capture")
printf '== capture: %s, %.1f MB\n' "$capture" "$(echo "$size/1000000" | bc -l)" >&2

# ---- PostgreSQL -------------------------------------------------------------------
mkdir -p "$work/pg"
chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg/data" -U tlsmap -A trust --no-sync -E UTF8 --locale=C >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
	-o "-c listen_addresses=127.0.0.1 -p $port -k $work/pg -c shared_buffers=256MB" start >/dev/null
pg() { echo "postgres://tlsmap@127.0.0.1:$port/$1?sslmode=disable"; }
postmaster=$(head -1 "$work/pg/data/postmaster.pid")
# The CPU time (clock ticks) of the postmaster's reaped children: the
# backends of the connections that have ended.
pgticks() { awk '{print $16 + $17}' "/proc/$postmaster/stat"; }
psql_() { "$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U tlsmap -d "$1" -tA -c "$2"; }

# ---- measure ----------------------------------------------------------------------
measure() { # measure NAME CMD...: wall (ms, from date), CPU and RSS (GNU time)
	local name=$1 t0 t1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" ||
		die "$name failed: $(tail -5 "$work/$name.err")"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >"$work/$name.wall"
}
pgidle() { # wait until the backends of tlsmap's connections are gone (reaped)
	for _ in $(seq 40); do
		[ -z "$(pgrep -P "$postmaster" -f 'postgres: tlsmap')" ] && return
		sleep 0.05
	done
}
pgmeasure() { # pgmeasure NAME CMD...: measure, and the server's CPU for it
	local before
	pgidle
	before=$(pgticks)
	measure "$@"
	pgidle
	echo $(($(pgticks) - before)) >"$work/$1.server"
}
echo "== load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# A capture of no packets: what makes a store "made before".
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))' >"$work/empty.pcap"
for i in $(seq "$RUNS"); do
	echo "== run $i of $RUNS" >&2
	measure "plain-$i" "$TLSMAP" sniff -r "$capture"
	rm -f "$work/s$i.db"*
	measure "sqlite-$i" "$TLSMAP" sniff -r "$capture" --store "$work/s$i.db"
	psql_ postgres "CREATE DATABASE b$i"
	pgmeasure "postgres-$i" "$TLSMAP" sniff -r "$capture" --store "$(pg b$i)"
	rm -f "$work/e$i.db"*
	"$TLSMAP" sniff -r "$work/empty.pcap" --store "$work/e$i.db" >/dev/null 2>&1 || die "making e$i.db failed"
	measure "sqlite-made-$i" "$TLSMAP" sniff -r "$capture" --store "$work/e$i.db"
	psql_ postgres "CREATE DATABASE e$i"
	"$TLSMAP" sniff -r "$work/empty.pcap" --store "$(pg e$i)" >/dev/null 2>&1 || die "making database e$i failed"
	pgmeasure "postgres-made-$i" "$TLSMAP" sniff -r "$capture" --store "$(pg e$i)"
	rm -f "$work/f$i.db"*
	measure "flows-$i" "$TLSMAP" sniff -r "$capture" --store "$work/f$i.db" --store-flows
	measure "again-$i" "$TLSMAP" sniff -r "$capture" --store "$work/s$i.db"
done
# What the sniff reported, and what each store holds.
reported=$(sed -n 's/^Legacy clients: .* (\([0-9]*\) of \([0-9]*\) TLS connections)$/\2/p; s/^No client .*(\([0-9]*\) TLS connections.*/\1/p' "$work/plain-1.out")
in_sqlite=$(python3 - "$work/s1.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT SUM(connections) FROM evidence").fetchone()[0])
PY
)
in_pg=$(psql_ b1 "SELECT SUM(connections) FROM evidence")
in_made=$(python3 - "$work/e1.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT SUM(connections) FROM evidence").fetchone()[0])
PY
)
in_pg_made=$(psql_ e1 "SELECT SUM(connections) FROM evidence")
in_flows=$(python3 - "$work/f1.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM flows").fetchone()[0])
PY
)

python3 - "$work" "$RUNS" "$size" "$TARGET" "$(getconf CLK_TCK)" "$reported" "$in_sqlite" "$in_pg" "$in_flows" "$in_made" "$in_pg_made" <<'PY'
import os, re, statistics, sys
work, runs, size, target, tck = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
reported, in_sqlite, in_pg, in_flows, in_made, in_pg_made = sys.argv[6:12]

def measured(name):
    t = open(f"{work}/{name}.time").read()
    wall = int(open(f"{work}/{name}.wall").read()) / 1e6
    cpu = float(re.search(r"User time \(seconds\): ([\d.]+)", t).group(1)) + float(re.search(r"System time \(seconds\): ([\d.]+)", t).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    server = int(open(f"{work}/{name}.server").read()) / tck if os.path.exists(f"{work}/{name}.server") else None
    return wall, cpu, rss, server

rows, spread = {}, {}
for name, label in (("plain", "tlsmap sniff -r big.pcap"), ("sqlite", "  --store FILE (SQLite)"), ("postgres", "  --store postgres://"),
                    ("sqlite-made", "  --store FILE, made before"), ("postgres-made", "  --store postgres://, made before"),
                    ("flows", "  --store FILE --store-flows"), ("again", "  --store FILE, stored before")):
    ts = [measured(f"{name}-{i}") for i in range(1, runs + 1)]
    server = None if ts[0][3] is None else statistics.median(t[3] for t in ts)
    rows[name] = (label, statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts), max(t[2] for t in ts), server)
    spread[name] = (min(t[0] for t in ts), max(t[0] for t in ts))
base_wall, base_cpu = rows["plain"][1], rows["plain"][2]
load = os.getloadavg()
print(f"capture: {size/1e6:.1f} MB; median of {runs} runs, interleaved; load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
print(f"plain sniff's wall time over the runs: {spread['plain'][0]:.3f}-{spread['plain'][1]:.3f} s")
print(f"{'':34} {'wall s':>7} {'over':>7} {'fastest':>7} {'over':>7} {'cpu s':>7} {'over':>6} {'server':>7} {'MB/s':>6} {'RSS MB':>6}  target <{target:.0f}%")
failed = []
base_fast = spread["plain"][0]
for name, (label, wall, cpu, rss, server) in rows.items():
    over = fover = cover = verdict = ""
    fast = spread[name][0]
    if name != "plain":
        over, cover = f"{100*(wall/base_wall-1):+.1f}%", f"{100*(cpu/base_cpu-1):+.0f}%"
        fover = f"{100*(fast/base_fast-1):+.1f}%"
        verdict = "PASS" if 100 * (wall / base_wall - 1) < target else "FAIL"
        if verdict == "FAIL":
            failed.append(label.strip())
    srv = "" if server is None else f"{server:7.2f}"
    print(f"{label:34} {wall:7.3f} {over:>7} {fast:7.3f} {fover:>7} {cpu:7.2f} {cover:>6} {srv:>7} {size/1e6/wall:6.0f} {rss:6.0f}  {verdict}")
print("wall: median elapsed time; fastest: the fastest run's; cpu: tlsmap's user+system time; server: the PostgreSQL backends' CPU for the run (not in cpu)")
# "stored before" opens the store and finds the file there: it does no
# store work, so its distance from the plain sniff is this run's noise
# (and the store's opening).
noise = 100 * (rows["again"][1] / base_wall - 1)
print(f"noise: 'stored before' does no store work; it came out at {noise:+.1f}% (median), "
      f"{100*(spread['again'][0]/base_fast-1):+.1f}% (fastest); differences of that size are not the store's")
print(f"target: --store costs less than {target:.0f}% of the plain sniff's median wall time: " +
      ("PASS in every configuration" if not failed else "FAIL: " + "; ".join(failed)))
print(f"TLS connections reported {reported}; stored: SQLite {in_sqlite}, PostgreSQL {in_pg}, made before {in_made} and {in_pg_made}; flow records {in_flows}")
ok = reported == in_sqlite == in_pg == in_made == in_pg_made
print("counts agree" if ok else "COUNTS DIFFER")
sys.exit(0 if ok else 1)
PY
