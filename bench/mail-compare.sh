#!/bin/sh
# mail-compare.sh: scan local Postfix (STARTTLS, wrapper mode) and Dovecot
# (IMAP, IMAPS, POP3, POP3S) endpoints with tlsmap, sslscan
# (--starttls-smtp|imap|pop3) and testssl.sh (-t smtp|imap|pop3 -E).
# Dovecot runs twice: in its default login mode (a new imap-login or
# pop3-login process per connection, service_count = 1, what most
# installations keep) and in its high-performance mode (service_count = 0,
# long-lived login processes, what the tests use); one row per endpoint
# per mode. Two tables: wall times with the ratios to tlsmap's, and
# connections — tlsmap's handshakes.total and its breakdown by purpose
# against the fewest a whole map takes (accepted suites + probed versions
# + accepted groups + 1 certificate, from tlsmap's own JSON), and the SYNs
# to the endpoint's port that tcpdump counted for each tool. The load
# average before and after is printed: the figures mean little on a busy
# machine. bench/mailcompare/main.go starts the servers through
# internal/mailserver and does the work. tlsmap's summed time must be at
# least 5× lower than sslscan's (Postfix with either Dovecot).
#
# Everything runs in a network namespace of its own with only loopback
# (unshare -n): the servers, the tools, and any name testssl.sh tries to
# resolve on its own.
#
# Usage: bench/mail-compare.sh [-v] [-login default|performance|both] [-syn=false]
#   (as root; run from the repository root: make bench-mail)
set -eu

need() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

missing=""
need openssl || missing="$missing openssl"
need postfix || missing="$missing postfix"
need dovecot || missing="$missing dovecot-imapd dovecot-pop3d"
need sslscan || missing="$missing sslscan"
need testssl || need testssl.sh || missing="$missing testssl.sh"
need tcpdump || missing="$missing tcpdump"
need unshare || missing="$missing util-linux"
need ip || missing="$missing iproute2"
if [ -n "$missing" ]; then
	echo "mail-compare: missing:$missing (apt-get install$missing)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "mail-compare: postfix, dovecot, tcpdump and the namespace need root" >&2
	exit 1
fi

GO=${GO:-go}
BIN=${BIN:-bin/tlsmap}
mkdir -p "$(dirname "$BIN")"
# Built outside the namespace, where the module proxy is reachable.
CGO_ENABLED=0 $GO build -trimpath -o "$BIN" ./cmd/tlsmap
$GO build -o "$(dirname "$BIN")/mailcompare" ./bench/mailcompare
echo "tlsmap $("$BIN" version | cut -d' ' -f2-), sslscan $(sslscan --version 2>/dev/null | grep -o '[0-9]\+\.[0-9.]\+' | head -1), $(dpkg-query -W -f='testssl.sh ${Version}' testssl.sh 2>/dev/null || echo testssl.sh), $(openssl version | cut -d' ' -f1-2), $(/usr/sbin/postconf -d -h mail_version 2>/dev/null | sed 's/^/postfix /'), dovecot $(dovecot --version 2>/dev/null)" >&2
# shellcheck disable=SC2016
exec unshare -n sh -c '
	ip link set lo up
	if ip -o link show | grep -qv " lo:"; then
		echo "mail-compare: the namespace has more than loopback" >&2
		exit 1
	fi
	exec "$@"' mail-compare "$(dirname "$BIN")/mailcompare" -tlsmap "$BIN" "$@"
