#!/bin/sh
# mail-compare.sh: scan local Postfix (STARTTLS, wrapper mode) and Dovecot
# (IMAP, IMAPS, POP3, POP3S) endpoints with tlsmap, sslscan
# (--starttls-smtp|imap|pop3) and testssl.sh (-t smtp|imap|pop3 -E), and
# print wall times side by side with their sums (bench/mailcompare/main.go
# starts the servers through internal/mailserver and does the work).
# tlsmap's sum must be at least 5× lower than sslscan's.
#
# Usage: bench/mail-compare.sh [-v]   (as root; run from the repository root: make bench-mail)
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
if [ -n "$missing" ]; then
	echo "mail-compare: missing:$missing (apt-get install$missing)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "mail-compare: postfix and dovecot need root" >&2
	exit 1
fi

GO=${GO:-go}
BIN=${BIN:-bin/tlsmap}
mkdir -p "$(dirname "$BIN")"
CGO_ENABLED=0 $GO build -trimpath -o "$BIN" ./cmd/tlsmap
echo "tlsmap $("$BIN" version | cut -d' ' -f2-), sslscan $(sslscan --version 2>/dev/null | grep -o '[0-9]\+\.[0-9.]\+' | head -1), $(dpkg-query -W -f='testssl.sh ${Version}' testssl.sh 2>/dev/null || echo testssl.sh), $(openssl version | cut -d' ' -f1-2), $(/usr/sbin/postconf -h mail_version 2>/dev/null | sed 's/^/postfix /'), dovecot $(dovecot --version 2>/dev/null)" >&2
exec $GO run ./bench/mailcompare -tlsmap "$BIN" "$@"
