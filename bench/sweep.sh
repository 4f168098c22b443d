#!/usr/bin/env bash
# sweep.sh: tlsmap at scale. Inside a network namespace of its own (so
# nothing leaves the machine, and its kernel limits are raised without
# touching the host's):
#
#  1. a version-only sweep of PREFIX (default 127.0.0.0/20, 4,096
#     endpoints) on port 443, against nginx listening on every address
#     (all of 127/8 is local): the README's command as written, a run tuned
#     by hand, the old defaults, and the peers zgrab2 and tlsx from the Go
#     module proxy; every tlsmap run must report every endpoint exactly once
#     with the expected versions (bench/sweep checks the JSON Lines);
#  2. a version-only sweep of BIG (default 127.64.0.0/16, 65,536 endpoints)
#     on a port where nothing listens (each connection refused at once):
#     the producer, scheduler and writer at full speed, for memory.
#
# It prints endpoints/s and peak RSS (/usr/bin/time -v) of both.
#
# Usage (root; make bench-sweep): bench/sweep.sh
# Environment: GO, BIN, PREFIX, BIG, CONCURRENCY (default 256: the tuned
# run and the peers), TIMEOUT, PEERS (0: no zgrab2 and tlsx).
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
command -v jq >/dev/null 2>&1 || missing="$missing jq"
command -v bc >/dev/null 2>&1 || missing="$missing bc"
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

# timed NAME ENDPOINTS CMD…: run CMD in the namespace (its output in
# NAME.out, its errors in NAME.err), print wall time, endpoints/s, peak
# RSS and its last line on stderr (tlsmap's summary).
timed() {
	local name=$1 n=$2
	shift 2
	local start end
	start=$(date +%s.%N)
	inns /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || true
	end=$(date +%s.%N)
	local rss wall
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.time")
	wall=$(echo "$end - $start" | bc -l)
	printf '%-34s %5s endpoints in %6.2f s = %5.0f endpoints/s; peak RSS %5.1f MB; %s\n' "$name:" "$n" "$wall" \
		"$(echo "$n / $wall" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(grep -v '^\[' "$WORK/$name.err" | tail -n1 | cut -c1-120)"
	echo "$wall" >"$WORK/$name.wall"
}
# handshakes NAME: tlsmap's connections per endpoint.
handshakes() { jq -s 'map(.handshakes.total) | add / length' "$WORK/$1.out" 2>/dev/null || echo '?'; }

echo "tlsmap $("$BIN" version | cut -d' ' -f2-), $("$NGINX" -v 2>&1), $(openssl version | cut -d' ' -f1-2), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
expect='SSLv2=rejected,SSLv3=rejected,TLSv1.0=rejected,TLSv1.1=rejected,TLSv1.2=accepted,TLSv1.3=accepted'
n=$((1 << (32 - ${PREFIX#*/})))

# 1. The README's command, as it is written (its defaults: --concurrency
#    auto, no certificate handshake; the block's network and broadcast
#    addresses are not swept).
timed readme $((n - 2)) "$BIN" scan --versions-only --format jsonl -p 443 "$PREFIX"
"$BIN-sweepcheck" -prefix "$PREFIX" -port 443 -status ok -no-ends -expect "$expect" <"$WORK/readme.out"
echo "  handshakes per endpoint: $(handshakes readme)"
# 2. Tuned by hand: a fixed concurrency of CONCURRENCY, every address.
timed "tuned (--concurrency $CONCURRENCY)" "$n" "$BIN" scan --format jsonl --versions-only --include-special --no-progress \
	--concurrency "$CONCURRENCY" --timeout "$TIMEOUT" "$PREFIX:443"
"$BIN-sweepcheck" -prefix "$PREFIX" -port 443 -status ok -expect "$expect" <"$WORK/tuned (--concurrency $CONCURRENCY).out"
# 3. The defaults before --concurrency auto: 8 at once, the certificate.
timed "old defaults (--concurrency 8 --cert)" $((n - 2)) "$BIN" scan --versions-only --format jsonl --concurrency 8 --cert -p 443 "$PREFIX"
"$BIN-sweepcheck" -prefix "$PREFIX" -port 443 -status ok -no-ends -expect "$expect" <"$WORK/old defaults (--concurrency 8 --cert).out"
echo "  handshakes per endpoint: $(handshakes 'old defaults (--concurrency 8 --cert)')"

# 4. Peers from the Go module proxy, built in a module of their own in
#    WORK (PEERS=0 skips them): zgrab2's tls module (zcrypto: no TLS 1.3,
#    no SSLv2; one pass a version, TLS 1.0 to 1.2, --senders CONCURRENCY)
#    and tlsx's version enumeration (-ve, -c CONCURRENCY).
if [ "${PEERS:-1}" = 1 ]; then
	# One module each: zgrab2 v0.2.0 needs a zcrypto that tlsx v1.1.9
	# does not build with.
	peer() { # peer NAME MODULE@VERSION PACKAGE
		mkdir -p "$WORK/peer-$1"
		(
			cd "$WORK/peer-$1"
			$GO mod init "sweep-peer-$1" >/dev/null 2>&1
			printf '//go:build tools\n\npackage peers\n\nimport _ "%s"\n' "$3" >tools.go
			$GO get "$2" >/dev/null 2>&1 && $GO mod tidy >/dev/null 2>&1 && $GO build -o "$WORK/$1" "$3"
		) || echo "sweep: building $1 ($2) from the Go module proxy failed; skipping it" >&2
	}
	peer zgrab2 github.com/zmap/zgrab2@"${ZGRAB2_VERSION:-v0.2.0}" github.com/zmap/zgrab2/cmd/zgrab2
	peer tlsx github.com/projectdiscovery/tlsx@"${TLSX_VERSION:-v1.1.9}" github.com/projectdiscovery/tlsx/cmd/tlsx
	: >"$WORK/blocklist.conf" # zgrab2 refuses to start without one
	python3 -c 'import ipaddress, sys; [print(a) for a in ipaddress.ip_network(sys.argv[1])]' "$PREFIX" >"$WORK/targets.txt"
	if [ -x "$WORK/zgrab2" ]; then
		total=0
		for v in 769:TLSv1.0 770:TLSv1.1 771:TLSv1.2; do
			timed "zgrab2 tls ${v#*:}" "$n" "$WORK/zgrab2" tls --port 443 --senders "$CONCURRENCY" --blocklist-file "$WORK/blocklist.conf" --min-version "${v%%:*}" --max-version "${v%%:*}" \
				-f "$WORK/targets.txt" -o "$WORK/zgrab2-${v%%:*}.json"
			echo "  successes: $(grep -c '"status":"success"' "$WORK/zgrab2-${v%%:*}.json")"
			total=$(echo "$total + $(cat "$WORK/zgrab2 tls ${v#*:}.wall")" | bc -l)
		done
		printf '%-34s %.2f s for TLS 1.0-1.2 (no TLS 1.3, no SSL)\n' "zgrab2, all passes:" "$total"
	fi
	if [ -x "$WORK/tlsx" ]; then
		timed "tlsx -ve" "$n" "$WORK/tlsx" -l "$WORK/targets.txt" -p 443 -ve -c "$CONCURRENCY" -silent -json -duc -nc -o "$WORK/tlsx.json"
		echo "  endpoints with tls12 and tls13: $(grep -c '"tls12".*"tls13"\|"tls13".*"tls12"' "$WORK/tlsx.json")"
	fi
fi

# 5. A /16 where nothing listens: memory of producer, scheduler, writer.
n=$((1 << (32 - ${BIG#*/})))
timed refused "$n" "$BIN" scan --format jsonl --versions-only --include-special --no-progress --retries 0 --timeout "$TIMEOUT" "$BIG:444"
"$BIN-sweepcheck" -prefix "$BIG" -port 444 -status unreachable <"$WORK/refused.out"
