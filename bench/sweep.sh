#!/usr/bin/env bash
# sweep.sh: tlsmap at scale. Inside a network namespace of its own (so
# nothing leaves the machine, and its kernel limits are raised without
# touching the host's):
#
#  1. a version-only sweep of PREFIX (default 127.0.0.0/20, 4,096
#     endpoints) on port 443, against nginx listening on every address
#     (all of 127/8 is local); every endpoint must be reported exactly once
#     with the expected versions (bench/sweep checks the JSON Lines);
#  2. a version-only sweep of BIG (default 127.64.0.0/16, 65,536 endpoints)
#     on a port where nothing listens (each connection refused at once):
#     the producer, scheduler and writer at full speed, for memory.
#
# It prints endpoints/s and peak RSS (/usr/bin/time -v) of both.
#
# Usage (root; make bench-sweep): bench/sweep.sh
# Environment: GO, BIN, PREFIX, BIG, CONCURRENCY (default 256), TIMEOUT.
set -euo pipefail

GO=${GO:-go}
BIN=${BIN:-bin/tlsmap}
PREFIX=${PREFIX:-127.0.0.0/20}
BIG=${BIG:-127.64.0.0/16}
CONCURRENCY=${CONCURRENCY:-256}
TIMEOUT=${TIMEOUT:-5s}

if [ "$(id -u)" != 0 ]; then
	echo "sweep: needs root (ip netns)" >&2
	exit 1
fi
missing=""
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$missing nginx-light"
[ -x /usr/bin/time ] || missing="$missing time"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
	echo "sweep: installing$missing" >&2
	apt-get install -y $missing >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y $missing >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

mkdir -p "$(dirname "$BIN")"
CGO_ENABLED=0 $GO build -trimpath -o "$BIN" ./cmd/tlsmap
BIN=$(realpath "$BIN")
$GO build -o "$BIN-sweepcheck" ./bench/sweep

NS=tlsmap-sweep-$$
WORK=$(mktemp -d)
cleanup() {
	if [ -f "$WORK/nginx.pid" ]; then
		kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
		sleep 0.2
	fi
	ip netns del "$NS" 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"; rm -f "$BIN-sweepcheck"
}
trap cleanup EXIT INT TERM

ip netns add "$NS"
inns() { ip netns exec "$NS" "$@"; }
inns ip link set lo up
# Limits of this namespace only: ephemeral ports, TIME_WAIT reuse, queues.
inns sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 \
	net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# An ECDSA P-256 certificate: signing is cheap, so the server is not what
# is measured. TLS 1.2 and 1.3 only.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=sweep.test -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
cat >"$WORK/nginx.conf" <<CONF
daemon on;
worker_processes auto;
worker_rlimit_nofile 65535;
pid $WORK/nginx.pid;
error_log $WORK/error.log crit;
events { worker_connections 16384; multi_accept on; }
http {
	access_log off;
	server {
		listen 443 ssl backlog=65535;
		ssl_certificate $WORK/cert.pem;
		ssl_certificate_key $WORK/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		return 204;
	}
}
CONF
inns "$NGINX" -c "$WORK/nginx.conf" -e "$WORK/error.log"
sleep 0.3

# sweep NAME TARGET ENDPOINTS ARGS…: run tlsmap in the namespace, print rate and RSS.
sweep() {
	local name=$1 target=$2 n=$3
	shift 3
	local start end
	start=$(date +%s.%N)
	inns /usr/bin/time -v -o "$WORK/$name.time" "$BIN" scan --format jsonl --versions-only --no-cert \
		--include-special --no-progress --concurrency "$CONCURRENCY" --timeout "$TIMEOUT" "$@" "$target" \
		>"$WORK/$name.jsonl" 2>"$WORK/$name.err" || true
	end=$(date +%s.%N)
	local rss wall
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.time")
	wall=$(echo "$end - $start" | bc -l)
	printf '%s: %s endpoints in %.2f s = %.0f endpoints/s; peak RSS %.1f MB; %s\n' "$name" "$n" "$wall" \
		"$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(tail -n1 "$WORK/$name.err")"
}

echo "tlsmap $("$BIN" version | cut -d' ' -f2-), $("$NGINX" -v 2>&1), $(openssl version | cut -d' ' -f1-2), $(nproc) cores, concurrency $CONCURRENCY"

# 1. The sweep against nginx.
n=$((1 << (32 - ${PREFIX#*/})))
sweep versions "$PREFIX:443" "$n"
"$BIN-sweepcheck" -prefix "$PREFIX" -port 443 -status ok \
	-expect 'SSLv2=rejected,SSLv3=rejected,TLSv1.0=rejected,TLSv1.1=rejected,TLSv1.2=accepted,TLSv1.3=accepted' \
	<"$WORK/versions.jsonl"
echo "  handshakes per endpoint: $(jq -s 'map(.handshakes.total) | add / length' "$WORK/versions.jsonl" 2>/dev/null || echo '?')"

# 2. A /16 where nothing listens: memory of producer, scheduler, writer.
n=$((1 << (32 - ${BIG#*/})))
sweep refused "$BIG:444" "$n" --retries 0
"$BIN-sweepcheck" -prefix "$BIG" -port 444 -status unreachable <"$WORK/refused.jsonl"
