#!/usr/bin/env bash
# make-demo-capture.sh — record the capture that `tlsmap demo` replays when
# it may not capture live (not root, no CAP_NET_RAW, not Linux).
#
# Builds tlsmap, runs `tlsmap demo` while tcpdump records the loopback
# interface, and writes internal/demo/testdata/demo.pcap.gz (embedded in
# the binary by internal/demo). tcpdump keeps only the demo's own clients'
# connections, by their source addresses (internal/demo/clients.go): the
# scanner connects from 127.0.0.2 and its probes are left out, as is any
# other program's loopback traffic. The file is then replayed by a fresh
# build of `tlsmap demo --sniff capture`, which must pass its own check.
#
# Usage: sudo scripts/make-demo-capture.sh
# Needs root (tcpdump on lo), tcpdump and Go. Keys, randoms and ports
# differ on every run; the clients, SNIs, versions and suites do not.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/internal/demo/testdata/demo.pcap.gz
# The demo's client addresses (internal/demo/clients.go, plannedClients).
clients=(127.0.0.21 127.0.0.22 127.0.0.31)

die() { echo "make-demo-capture: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (tcpdump on lo)"
command -v tcpdump >/dev/null || die "tcpdump is not installed (apt-get install -y tcpdump)"
GO=${GO:-go}

tmp=$(mktemp -d)
tcpdump_pid=
cleanup() {
	[ -n "$tcpdump_pid" ] && kill "$tcpdump_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cd "$here"
"$GO" build -o "$tmp/tlsmap" ./cmd/tlsmap

filter="tcp and ("
for i in "${!clients[@]}"; do
	[ "$i" -gt 0 ] && filter+=" or "
	filter+="host ${clients[$i]}"
done
filter+=")"

tcpdump -i lo --immediate-mode -U -s 0 -w "$tmp/demo.pcap" "$filter" 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
for _ in $(seq 50); do
	grep -q 'listening on' "$tmp/tcpdump.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'listening on' "$tmp/tcpdump.log" || die "tcpdump did not start: $(cat "$tmp/tcpdump.log")"

# The replay of the previous capture may fail (a first run, a format
# change): the clients' traffic, which is what is recorded, happens first.
"$tmp/tlsmap" demo --sniff capture --quiet >"$tmp/run.txt" 2>&1 || true

sleep 1
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
cat "$tmp/tcpdump.log" >&2

gzip -9 -n -c "$tmp/demo.pcap" >"$out"
echo "make-demo-capture: wrote $out ($(wc -c <"$out") bytes)" >&2

# Check: a fresh build embeds the new capture and must pass its own check.
"$GO" build -o "$tmp/tlsmap" ./cmd/tlsmap
"$tmp/tlsmap" demo --sniff capture --quiet >"$tmp/check.txt" ||
	{ cat "$tmp/check.txt"; die "the new capture does not pass tlsmap demo's check"; }
sed -n '/^== Clients that used legacy TLS ==/,/^By protocol/p' "$tmp/check.txt"
