#!/usr/bin/env bash
# make-quic-captures.sh — record the project's QUIC test capture.
#
# A real QUIC client and server — quic-go over Go's crypto/tls, built from
# sniff/testdata/quicpeer (a module of its own: quic-go never becomes a
# dependency of tlsmap) — talk on the loopback interface of a private
# network namespace while tcpdump records the UDP packets into
# testdata/captures/quic.pcap. The truth for every connection (TLS version,
# cipher, ALPN, SNI, QUIC version, HelloRetryRequest) is what the client's
# own connection state reports; it is written to quic.truth.json next to
# the capture, in the format of scripts/make-captures.sh.
#
# The connections cover what a passive QUIC decoder must handle:
#   pq      crypto/tls's default X25519MLKEM768 key share: a ClientHello
#           over two Initial packets
#   big     150 more ALPN names: a ClientHello over four Initials
#   v2      QUIC version 2 (RFC 9369)
#   x25519  a small ClientHello in one Initial
#   hrr     the server accepts only P-256: a HelloRetryRequest, and a
#           post-quantum first ClientHello over two Initials
#   retry   the server sends a Retry first (RFC 9000 §8.1.2)
#   pq6     over IPv6
#
# Usage: sudo scripts/make-quic-captures.sh [OUTDIR]   (default testdata/captures)
#
# Needs root (network namespace, tcpdump) and: go, ip, tcpdump, openssl,
# python3; the Go module proxy (or a module cache holding quic-go) to build
# quicpeer.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/testdata/captures}

die() { echo "make-quic-captures: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace and tcpdump)"
for p in go ip tcpdump openssl python3; do
	command -v "$p" >/dev/null || die "$p is not installed"
done

ns=tlsmap-quic-$$
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

(cd "$here/sniff/testdata/quicpeer" && go build -o "$work/quicpeer" .) || die "cannot build sniff/testdata/quicpeer"

ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
inns ip link set lo up
inns sysctl -qw net.ipv6.conf.lo.disable_ipv6=0 2>/dev/null || true

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 3650 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null

serve() { # serve LOG ADDR [FLAGS] — a quicpeer server in the namespace
	local log=$1 addr=$2
	shift 2
	ip netns exec "$ns" "$work/quicpeer" serve -addr "$addr" -cert "$work/cert.pem" -key "$work/key.pem" "$@" >"$log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q '^listening' "$log" && return 0
		sleep 0.05
	done
	die "quicpeer serve $addr did not start: $(cat "$log")"
}
serve "$work/s1.log" 127.0.0.1:4433
serve "$work/s2.log" 127.0.0.1:4434 -retry
serve "$work/s6.log" '[::1]:4433'

ip netns exec "$ns" tcpdump -i lo -s 0 -U --immediate-mode -n -Z root -w "$work/quic.pcap" udp >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=($tcpdump_pid)
for _ in $(seq 100); do
	grep -q 'listening on' "$work/tcpdump.log" && break
	sleep 0.05
done
grep -q 'listening on' "$work/tcpdump.log" || die "tcpdump did not start: $(cat "$work/tcpdump.log")"

: >"$work/truth.jsonl"
dial() { # dial NAME SERVER [FLAGS] — one connection; its client's report joins the truth
	local name=$1 server=$2
	shift 2
	local sni=$name.quic.test
	inns "$work/quicpeer" dial -addr "$server" -sni "$sni" "$@" >"$work/d.out" 2>"$work/d.err" ||
		die "$sni: $(cat "$work/d.err")"
	python3 - "$server" "quicpeer dial $*" "$work/d.out" >>"$work/truth.jsonl" <<'PY'
import json, sys
server, tool, path = sys.argv[1], sys.argv[2].strip(), sys.argv[3]
r = json.load(open(path))
print(json.dumps({"client_tool": tool, "server": server, "protocol": "quic", "sni": r["sni"],
                  "version": r["version"], "cipher": r["cipher"], "cipher_name": r["cipher_name"],
                  "alpn": r["alpn"], "quic_version": r["quic_version"], "group": r["group"],
                  "hrr": r["hrr"], "alpn_offered": r["alpn_offered"]}))
PY
}
dial pq 127.0.0.1:4433
dial big 127.0.0.1:4433 -alpn-extra 150
dial v2 127.0.0.1:4433 -v2
dial x25519 127.0.0.1:4433 -curves x25519
dial hrr 127.0.0.1:4433 -curves mlkem,p256
dial retry 127.0.0.1:4434
dial pq6 '[::1]:4433'

sleep 1
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
n=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/tcpdump.log")
[ "${n:-0}" -gt 0 ] || die "tcpdump captured nothing: $(cat "$work/tcpdump.log")"

mkdir -p "$out"
cp "$work/quic.pcap" "$out/quic.pcap"
python3 - "$work/truth.jsonl" "$here/sniff/testdata/quicpeer/go.mod" >"$out/quic.truth.json" <<'PY'
import json, re, subprocess, sys
conns = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
quicgo = re.search(r"github.com/quic-go/quic-go (\S+)", open(sys.argv[2]).read()).group(1)
tools = {"go": subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip(),
         "quic-go": quicgo,
         "tcpdump": subprocess.run(["tcpdump", "--version"], capture_output=True, text=True).stdout.splitlines()[0]}
print(json.dumps({"capture": "quic.pcap", "generator": "scripts/make-quic-captures.sh",
                  "note": "truth from the quic-go client's own connection state; one connection per SNI, in capture order",
                  "tools": tools, "connections": conns}, indent=2))
PY
echo "quic: $(grep -c . "$work/truth.jsonl") connections, $n packets → $out/quic.pcap" >&2
