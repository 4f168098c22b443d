#!/usr/bin/env bash
# protocols-compare.sh — tlsmap scan vs sslscan --starttls-* vs testssl.sh -t …
# on every server of internal/protoserver (slapd, vsftpd, Prosody,
# PostgreSQL, MariaDB, xrdp, and those added since), one endpoint at a
# time, in one run: wall time and TCP connections (SYNs to the endpoint's
# port, counted by tcpdump, the same way for every tool).
#
# Everything runs inside a network namespace of its own with only loopback
# (unshare -n): the servers, the tools, and whatever names the tools try
# to resolve (testssl.sh resolves on its own even with --nodns none).
#
# Usage: bench/protocols-compare.sh   (as root, from the repository root: make bench-protocols)
#   TOOLS="tlsmap sslscan testssl"   which tools (default all three)
#   ONLY="ldap,mysql"                only the endpoints of these schemes
#   TIMEOUT=300                      bound on one tool's run, in seconds (sslscan 2.0.7
#                                    waits for an IRC greeting that a quiet server never sends)
#   -v                               each tool's output on stderr
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "protocols-compare: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (a network namespace, the servers, tcpdump)"
if [ -z "${TLSMAP_BENCH_NETNS:-}" ]; then
	exec unshare -n env TLSMAP_BENCH_NETNS=1 bash "$0" "$@"
fi
verbose=
[ "${1:-}" = -v ] && verbose=1
TOOLS=${TOOLS:-tlsmap sslscan testssl}
TIMEOUT=${TIMEOUT:-300}
GO=${GO:-go}
testssl=$(command -v testssl || command -v testssl.sh || true)
testssl_major=$(dpkg-query -W -f='${Version}' testssl.sh 2>/dev/null | grep -o '^[0-9]*\.[0-9]*' || echo 3.0)
for t in $TOOLS; do
	case $t in
	sslscan) command -v sslscan >/dev/null || die "sslscan is not installed (apt-get install -y sslscan)" ;;
	testssl) [ -n "$testssl" ] || die "testssl.sh is not installed (apt-get install -y testssl.sh)" ;;
	tlsmap) ;;
	*) die "unknown tool $t (tlsmap, sslscan, testssl)" ;;
	esac
done
command -v tcpdump >/dev/null || die "tcpdump is not installed"

ip link set lo up
# Nothing but loopback: a tool that resolves a name gets no answer.
ip -o link show | grep -qv ' lo:' && die "the namespace has more than loopback"

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT TERM

cd "$here"
CGO_ENABLED=0 $GO build -trimpath -o "$work/tlsmap" ./cmd/tlsmap
$GO build -o "$work/protoserve" ./bench/protoserve
"$work/protoserve" -well-known >"$work/urls" 2>"$work/protoserve.log" &
pids+=($!)
# protoserve prints every URL at once, when all its servers accept connections.
for _ in $(seq 1200); do
	[ -s "$work/urls" ] && sleep 0.5 && break
	kill -0 "${pids[0]}" 2>/dev/null || die "protoserve failed: $(tail -5 "$work/protoserve.log")"
	sleep 0.1
done
[ -s "$work/urls" ] || die "protoserve did not start: $(tail -5 "$work/protoserve.log")"

echo "tlsmap $("$work/tlsmap" version | cut -d' ' -f2-), $(sslscan --version 2>/dev/null | grep -o '[0-9]\+\.[0-9.]\+' | head -1 | sed 's/^/sslscan /'), $(dpkg-query -W -f='testssl.sh ${Version}' testssl.sh 2>/dev/null || true), $(openssl version | cut -d' ' -f1-2), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# args TOOL SCHEME HOSTPORT: the tool's command line for the endpoint, or
# nothing when the tool does not speak the protocol.
args() {
	local tool=$1 scheme=$2 hp=$3 st=
	case $tool in
	tlsmap)
		local extra=()
		case $scheme in xmpp | xmpp-server) extra=(--xmpp-domain localhost) ;; esac
		echo "$work/tlsmap" scan --format jsonl "${extra[@]}" "$scheme://$hp"
		;;
	sslscan)
		case $scheme in
		ldap | ftp | mysql | irc | xmpp | pop3 | imap | smtp) st=--starttls-$scheme ;;
		postgres) st=--starttls-psql ;;
		xmpp-server) st="--starttls-xmpp --xmpp-server" ;;
		rdp) st=--rdp ;;
		ldaps | ftps | xmpps | xmpps-server | ircs | nntps | https) st= ;;
		*) return 0 ;;
		esac
		case $scheme in xmpp*) hp=localhost:${hp##*:} ;; esac
		echo sslscan --no-colour $st "$hp"
		;;
	testssl)
		# testssl.sh 3.0 (Debian 12's) takes -t ftp, smtp, lmtp, pop3, imap,
		# xmpp, telnet, ldap, nntp, postgres and mysql only ("momentarily
		# only … allowed"); later versions add xmpp-server, sieve and irc.
		case $scheme in
		ldap | ftp | mysql | xmpp | postgres | nntp | pop3 | imap | smtp) st="-t $scheme" ;;
		irc | xmpp-server | sieve) [ "${testssl_major:-3.0}" = 3.0 ] && return 0 || st="-t $scheme" ;;
		ldaps | ftps | xmpps | xmpps-server | ircs | nntps | https) st= ;;
		*) return 0 ;;
		esac
		case $scheme in xmpp | xmpp-server) st="$st --xmpphost localhost" ;; esac
		echo "$testssl" --quiet --color 0 --warnings off --nodns none --sneaky -E $st "$hp"
		;;
	esac
}

# run NAME PORT CMD... — runs CMD with tcpdump counting the SYNs to PORT;
# prints "SECONDS CONNECTIONS EXIT".
run() {
	local name=$1 port=$2
	shift 2
	tcpdump -i lo -n -B 16384 --immediate-mode -w "$work/syn.pcap" "tcp dst port $port and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn" \
		>"$work/tcpdump.log" 2>&1 &
	local td=$!
	for _ in $(seq 100); do
		grep -q 'listening on' "$work/tcpdump.log" && break
		sleep 0.05
	done
	local t0 t1 rc=0
	t0=$(date +%s.%N)
	timeout "$TIMEOUT" "$@" >"$work/$name.out" 2>&1 || rc=$?
	t1=$(date +%s.%N)
	sleep 0.3
	kill -INT "$td"
	wait "$td" || true
	local syns drops
	syns=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/tcpdump.log")
	drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/tcpdump.log")
	[ "${drops:-0}" = 0 ] || syns="${syns}+"
	[ -n "$verbose" ] && { echo "== $name: $*" >&2; cat "$work/$name.out" >&2; }
	echo "$(echo "$t1 - $t0" | bc) ${syns:-?} $rc"
}

printf '%-32s' endpoint
for t in $TOOLS; do printf '%26s' "$t"; done
echo
declare -A sum
while read -r url; do
	scheme=${url%%://*}
	hp=${url#*://}
	port=${hp##*:}
	if [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$scheme,"* ]]; then continue; fi
	printf '%-32s' "$scheme://$hp"
	for t in $TOOLS; do
		cmd=$(args "$t" "$scheme" "$hp")
		if [ -z "$cmd" ]; then
			printf '%26s' "—"
			continue
		fi
		# shellcheck disable=SC2086
		read -r secs conns rc < <(run "$t-$scheme" "$port" $cmd)
		note=
		if [ "$rc" = 124 ]; then
			note=" TIMEOUT"
		elif [ "$rc" != 0 ] && { [ "$t" != tlsmap ] || [ "$rc" -gt 2 ]; }; then
			note=" rc=$rc"
		fi
		# A peer that gave up says so in its output, whatever its exit code
		# (sslscan's LDAP STARTTLS exits 0 after "ERROR: …").
		if [ "$t" != tlsmap ] && grep -q -E '^ERROR|Fatal error|[Cc]ouldn.t connect|Unable to|not a TLS|doesn.t seem to be a TLS' "$work/$t-$scheme.out"; then
			note=" FAILED$note"
		fi
		if [ "$t" = tlsmap ]; then
			hs=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    if l.startswith("{") and "\"handshakes\"" in l:
        d = json.loads(l); print(d["handshakes"]["total"], d.get("status", "")); break' "$work/$t-$scheme.out" 2>/dev/null || true)
			[ "${hs#* }" = ok ] || note=" status=${hs#* }$note"
			# Its own count, next to tcpdump's when they differ.
			[ "${hs%% *}" = "$conns" ] || note=" (says ${hs%% *})$note"
		fi
		printf '%26s' "$(printf '%.2fs %sc%s' "$secs" "$conns" "$note")"
		sum[$t]=$(echo "${sum[$t]:-0} + $secs" | bc)
		sum[$t.n]=$((${sum[$t.n]:-0} + 1))
	done
	echo
done <"$work/urls"
printf '%-32s' "sum (endpoints)"
for t in $TOOLS; do printf '%26s' "$(printf '%.1fs (%d)' "${sum[$t]:-0}" "${sum[$t.n]:-0}")"; done
echo
echo "(c = TCP connections to the endpoint's port; — = the tool does not speak the protocol;"
echo " FAILED = the tool's output says it could not scan the endpoint; status= tlsmap's status when not ok)"
