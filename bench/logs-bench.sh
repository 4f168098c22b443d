#!/usr/bin/env bash
# logs-bench.sh — `tlsmap logs` on a large generated log: throughput and
# peak memory, with `grep -c` on the same file as the floor.
#
# 1. bench/logsgen writes a log of SIZE bytes (default 1 GiB) of KIND
#    (nginx, default, or maillog): a few thousand clients, each mostly with
#    its own TLS version and user agent, in time order.
# 2. Times `grep -c TLSv1` on it (a lower bound for any reader: one pass
#    over the bytes, nothing decoded) and `tlsmap logs --format jsonl` with
#    GNU time (wall time, peak RSS), and prints lines/s and MB/s of each.
# 3. Flat RSS: tlsmap is also run on the first quarter of the file; its peak
#    RSS must not grow with the input (the script fails when the full file
#    costs more than 1.5 times the quarter's, plus 16 MiB).
# 4. Checks tlsmap's legacy count against the generator's truth.
#
# Usage: bench/logs-bench.sh                 (make bench-logs)
# Tunables (environment): SIZE (bytes, 1073741824), KIND (nginx|maillog),
# WORKDIR (a temp dir, removed unless KEEP=1), GO, TLSMAP (default: built
# from this tree).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
SIZE=${SIZE:-1073741824}
KIND=${KIND:-nginx}
GO=${GO:-go}
die() { echo "logs-bench: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "GNU time is not installed (apt-get install -y time)"

work=${WORKDIR:-$(mktemp -d /tmp/tlsmap-logs-bench.XXXXXX)}
mkdir -p "$work"
cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

tlsmap=${TLSMAP:-$work/tlsmap}
if [ -z "${TLSMAP:-}" ]; then
	(cd "$here" && CGO_ENABLED=0 "$GO" build -trimpath -o "$tlsmap" ./cmd/tlsmap)
fi
(cd "$here" && "$GO" build -o "$work/logsgen" ./bench/logsgen)

log=$work/bench.log
echo "generating $SIZE bytes of $KIND log in $log …" >&2
truth=$("$work/logsgen" -size "$SIZE" -kind "$KIND" -o "$log" 2>&1)
echo "truth: $truth" >&2
lines=$(sed -n 's/.*lines=\([0-9]*\).*/\1/p' <<<"$truth")
bytes=$(stat -c %s "$log")
legacy=$(( $(sed -n 's/.* TLSv1\.1=\([0-9]*\).*/\1/p' <<<"$truth") + $(sed -n 's/.* TLSv1=\([0-9]*\).*/\1/p' <<<"$truth") ))

case $KIND in
nginx) fmt='nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $ssl_protocol $ssl_cipher' ;;
maillog) fmt=maillog ;;
*) die "KIND is nginx or maillog" ;;
esac

measure() { # NAME OUT CMD…: runs CMD under GNU time, prints "seconds rss_kib"
	local name=$1 out=$2
	shift 2
	/usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$out"
	cat "$work/$name.time"
}

cat "$log" >/dev/null # the page cache holds the file for both readers, as far as it can
read -r g_s g_rss < <(measure grep "$work/grep.out" grep -c TLSv1 "$log")
read -r t_s t_rss < <(measure tlsmap "$work/tlsmap.jsonl" "$tlsmap" logs --log-format "$fmt" --format jsonl "$log")

quarter=$work/quarter.log
head -c $((bytes / 4)) "$log" | sed '$d' >"$quarter"
read -r q_s q_rss < <(measure quarter "$work/quarter.jsonl" "$tlsmap" logs --log-format "$fmt" --format jsonl "$quarter")

got=$(grep -o '"schema":"tlsmap.evidence.totals/1".*' "$work/tlsmap.jsonl" | sed -n 's/.*"legacy_flows":\([0-9]*\).*/\1/p')
malformed=$(grep -o '"schema":"tlsmap.logs.input/1".*' "$work/tlsmap.jsonl" | sed -n 's/.*"malformed":\([0-9]*\).*/\1/p')
mb=$(awk -v b="$bytes" 'BEGIN{printf "%.0f", b/1048576}')

printf '\n%s log, %s MiB, %s lines\n' "$KIND" "$mb" "$lines"
printf '%-28s %8s %12s %10s %10s\n' tool seconds lines/s MB/s "peak RSS"
row() { awk -v n="$1" -v s="$2" -v l="$lines" -v b="$bytes" -v r="$3" 'BEGIN{printf "%-28s %8.2f %12.0f %10.1f %7.1f MiB\n", n, s, l/s, b/1048576/s, r/1024}'; }
row "grep -c TLSv1 (floor)" "$g_s" "$g_rss"
row "tlsmap logs --format jsonl" "$t_s" "$t_rss"
printf '%-28s %8.2f %12s %10s %7.1f MiB\n' "tlsmap logs, first quarter" "$q_s" - - "$(awk -v r="$q_rss" 'BEGIN{print r/1024}')"
printf 'legacy connections: tlsmap %s, generator %s; malformed lines: %s\n' "$got" "$legacy" "$malformed"

[ "$got" = "$legacy" ] || die "tlsmap counted $got legacy connections, the generator wrote $legacy"
[ "$malformed" = 0 ] || die "tlsmap found $malformed malformed lines in a generated log"
awk -v a="$t_rss" -v q="$q_rss" 'BEGIN{exit !(a <= 1.5*q + 16384)}' || die "peak RSS grew with the input: $q_rss KiB on a quarter, $t_rss KiB on the whole"
echo "peak RSS is flat: $((q_rss / 1024)) MiB on a quarter, $((t_rss / 1024)) MiB on the whole" >&2
