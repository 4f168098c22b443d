#!/bin/sh
# scan-compare.sh: scan local openssl s_server and nginx endpoints with
# tlsmap, sslscan and testssl.sh, and print wall times and connection
# counts side by side (bench/scancompare/main.go does the work; every
# connection goes to 127.0.0.1 through a counting proxy).
#
# Usage: bench/scan-compare.sh [-configs openssl-tls10,nginx-modern] [-tools tlsmap,sslscan] [-v]
# Run from the repository root (make bench-scan does).
set -eu

need() {
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]
}

missing=""
need openssl || missing="$missing openssl"
need nginx || missing="$missing nginx-light"
need sslscan || missing="$missing sslscan"
need testssl || need testssl.sh || missing="$missing testssl.sh"
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "scan-compare: installing$missing" >&2
		apt-get install -y $missing >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y $missing >/dev/null; }
	else
		echo "scan-compare: missing:$missing (apt-get install$missing)" >&2
		exit 1
	fi
fi

GO=${GO:-go}
BIN=${BIN:-bin/tlsmap}
mkdir -p "$(dirname "$BIN")"
CGO_ENABLED=0 $GO build -trimpath -o "$BIN" ./cmd/tlsmap
echo "tlsmap $("$BIN" version | cut -d' ' -f2-), sslscan $(sslscan --version 2>/dev/null | grep -o '[0-9]\+\.[0-9.]\+' | head -1), $(dpkg-query -W -f='testssl.sh ${Version}' testssl.sh 2>/dev/null || echo testssl.sh), $(openssl version | cut -d' ' -f1-2), $(/usr/sbin/nginx -v 2>&1 || nginx -v 2>&1)" >&2
exec $GO run ./bench/scancompare -tlsmap "$BIN" "$@"
