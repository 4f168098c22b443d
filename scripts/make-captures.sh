#!/usr/bin/env bash
# make-captures.sh — record the project's own test captures.
#
# Real clients (openssl s_client, curl, gnutls-cli, Python's ssl module)
# talk to real servers (openssl s_server; postfix and dovecot for STARTTLS)
# on the loopback interface of a private network namespace, while tcpdump
# records each group of handshakes into testdata/captures/NAME.pcap. The
# truth for every connection — negotiated version and cipher — is taken
# from the client's own output and written to NAME.truth.json next to the
# capture. sniff/captures_test.go replays the captures through the sniffer
# and requires it to agree with the truth.
#
# Usage: sudo scripts/make-captures.sh [OUTDIR]     (default testdata/captures)
#        sudo CAPTURES=ldap,ftp scripts/make-captures.sh   (only those groups)
#
# Needs root (network namespace, tcpdump) and: ip, tcpdump, openssl, curl,
# gnutls-cli, python3, go; for the directory, file-transfer and chat groups
# the servers of internal/protoserver and their clients (ldapsearch, psql,
# the mariadb client). On
# Debian/Ubuntu:
#   apt-get install -y tcpdump gnutls-bin curl python3 openssl iproute2
#   .ci/install-deps
#
# Each connection carries a unique SNI, which is how the test matches a
# flow to its truth. The captures differ byte for byte between runs (keys
# and randoms are fresh) but their truths do not, for the same tool
# versions.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/testdata/captures}

die() { echo "make-captures: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (network namespace and tcpdump)"
for p in ip tcpdump openssl curl gnutls-cli python3; do
	command -v "$p" >/dev/null || die "$p is not installed (apt-get install -y tcpdump gnutls-bin curl python3)"
done

# write_helper FILE writes the Python half of this script: the STARTTLS mail
# server, the Python TLS client, and the parsers that turn each client's
# output into a truth record.
write_helper() {
	cat >"$1" <<'PY'
import json, os, re, socket, ssl, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))

def norm_version(v):
    v = v.strip()
    m = re.fullmatch(r"(?:TLSv?)(1(?:\.[0-3])?)", v)
    if not m:
        if v in ("SSLv3", "SSLv2"):
            return v
        raise SystemExit("unknown version %r" % v)
    n = m.group(1)
    return "TLSv" + (n if "." in n else n + ".0")

def openssl_code(name):
    # "          0xC0,0x14 - ECDHE-RSA-AES256-SHA  TLSv1 Kx=..."
    for line in open(os.path.join(HERE, "openssl-ciphers.txt")):
        f = line.split()
        if len(f) >= 3 and f[2] == name:
            hi, lo = f[0].split(",")
            return "0x%02X%02X" % (int(hi, 16), int(lo, 16))
    raise SystemExit("cipher %r not in openssl ciphers -V" % name)

def gnutls_suite(version, parts):
    # parts: ["ECDHE-SECP256R1", "RSA-SHA256", "AES-256-GCM"] or
    # ["ECDHE-SECP256R1", "AES-256-CBC", "SHA1"]. Find the one gnutls-cli -l
    # suite that fits the key exchange, cipher and MAC.
    ciphers = [p for p in parts if re.match(r"(AES|CAMELLIA|CHACHA20|3DES|ARCFOUR|GOST)", p)]
    if len(ciphers) != 1:
        raise SystemExit("gnutls: no cipher in %r" % parts)
    cipher = ciphers[0].replace("-", "_")
    suites = []
    for line in open(os.path.join(HERE, "gnutls-ciphers.txt")):
        m = re.match(r"(TLS_\S+)\s+0x([0-9a-f]{2}), 0x([0-9a-f]{2})\s+(\S+)", line)
        if m:
            suites.append((m.group(1), "0x%s%s" % (m.group(2).upper(), m.group(3).upper()), m.group(4)))
    if version == "TLSv1.3":
        want = [s for s in suites if s[2] == "TLS1.3" and s[0].startswith("TLS_" + cipher + "_")]
    else:
        kx = parts[0].split("-")[0]
        kx = {"ECDHE": "ECDHE_RSA", "DHE": "DHE_RSA", "RSA": "RSA"}[kx]
        prefix = "TLS_%s_%s" % (kx, cipher)
        mac = parts[-1] if parts[-1] != ciphers[0] and "CBC" in cipher else None
        want = [s for s in suites if s[2] != "TLS1.3" and
                (s[0] == prefix + "_" + mac if mac else s[0].startswith(prefix + "_"))]
    if len(want) != 1:
        raise SystemExit("gnutls: %d suites fit %r" % (len(want), parts))
    return want[0][0], want[0][1]

def parse(kind, text):
    """Returns (version, cipher code, cipher name as printed, evidence)."""
    if kind == "s_client":
        p = re.search(r"^\s*Protocol\s*:\s*(\S+)\s*$", text, re.M)
        c = re.search(r"^\s*Cipher\s*:\s*(\S+)\s*$", text, re.M)
        if p and c:
            return norm_version(p.group(1)), openssl_code(c.group(1)), c.group(1), p.group(0).strip() + " / " + c.group(0).strip()
        n = re.search(r"^New, (\S+), Cipher is (\S+)$", text, re.M)
        if n:
            return norm_version(n.group(1)), openssl_code(n.group(2)), n.group(2), n.group(0)
    elif kind == "curl":
        m = re.search(r"^\* SSL connection using (\S+) / (\S+)", text, re.M)
        if m:
            return norm_version(m.group(1)), openssl_code(m.group(2)), m.group(2), m.group(0)
    elif kind == "gnutls":
        m = re.search(r"^- Description: \((TLS1\.[0-3])-X\.509\)-(.*)$", text, re.M)
        if m:
            v = norm_version(m.group(1))
            parts = re.findall(r"\(([^)]*)\)", m.group(2))
            name, code = gnutls_suite(v, parts)
            return v, code, name, m.group(0)
    elif kind == "python":
        v = re.search(r"^version: (\S+)$", text, re.M)
        c = re.search(r"^cipher: (\S+)$", text, re.M)
        if v and c:
            return norm_version(v.group(1)), openssl_code(c.group(1)), c.group(1), v.group(0) + " / " + c.group(0)
    elif kind == "psql":
        m = re.search(r"^SSL connection \(protocol: (\S+), cipher: ([^,]+),", text, re.M)
        if m:
            return norm_version(m.group(1)), openssl_code(m.group(2)), m.group(2), m.group(0)
    elif kind == "mariadb":
        v = re.search(r"^Ssl_version\t(\S+)$", text, re.M)
        c = re.search(r"^Ssl_cipher\t(\S+)$", text, re.M)
        if v and c:
            return norm_version(v.group(1)), openssl_code(c.group(1)), c.group(1), v.group(0).replace("\t", " ") + " / " + c.group(0).replace("\t", " ")
    elif kind.startswith("pinned:"):
        # A client that prints no TLS parameters (ldapsearch), pinned to
        # one version and one suite: its success names them.
        _, version, cname, success = kind.split(":", 3)
        if success in text:
            return norm_version(version), openssl_code(cname), cname, "pinned to %s %s; the client printed %r" % (version, cname, success)
        raise SystemExit("%s: the pinned client did not succeed:\n%s" % (kind, text))
    raise SystemExit("%s: no negotiated version in the client's output:\n%s" % (kind, text))

def record(name, client, server, protocol, sni, outfile, kind):
    version, code, cname, evidence = parse(kind, open(outfile, errors="replace").read())
    rec = {"client_tool": client, "server": server, "protocol": protocol, "sni": sni,
           "version": version, "cipher": code, "cipher_name": cname, "evidence": evidence}
    print(json.dumps(rec))

def rdp_relay(lhost, lport, rhost, rport):
    # [MS-RDPBCGR] 2.2.1.1: TPKT, X.224 Connection Request, RDP_NEG_REQ
    # asking for PROTOCOL_SSL (1).
    cr = bytes([3, 0, 0, 19, 14, 0xE0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 1, 0, 0, 0])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((lhost, int(lport)))
    srv.listen(8)
    import threading
    def pipe(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    def serve(c):
        try:
            r = socket.create_connection((rhost, int(rport)), timeout=5)
            r.sendall(cr)
            hdr = b""
            while len(hdr) < 4:
                d = r.recv(4 - len(hdr))
                if not d:
                    raise OSError("xrdp closed before the Connection Confirm")
                hdr += d
            n = int.from_bytes(hdr[2:4], "big") - 4
            body = b""
            while len(body) < n:
                d = r.recv(n - len(body))
                if not d:
                    raise OSError("xrdp closed in the Connection Confirm")
                body += d
            # X.224 CC (0xD0) with RDP_NEG_RSP (2) selecting PROTOCOL_SSL (1).
            if body[1] & 0xF0 != 0xD0 or len(body) < 15 or body[7] != 2 or body[11] != 1:
                raise OSError("no TLS in the Connection Confirm: " + body.hex())
            r.settimeout(None)
        except OSError as e:
            print("rdp-relay:", e, file=sys.stderr, flush=True)
            c.close()
            return
        threading.Thread(target=pipe, args=(c, r), daemon=True).start()
        threading.Thread(target=pipe, args=(r, c), daemon=True).start()
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

def tool_versions():
    def first(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True).stdout
            return out.splitlines()[0].strip() if out else ""
        except OSError:
            return ""
    return {"openssl": first(["openssl", "version"]), "curl": first(["curl", "--version"]),
            "gnutls-cli": first(["gnutls-cli", "--version"]), "python": sys.version.split()[0] + " " + ssl.OPENSSL_VERSION,
            "tcpdump": first(["tcpdump", "--version"])}

def truth(name, jsonl, work):
    conns = [json.loads(l) for l in open(jsonl) if l.strip()]
    doc = {"capture": name + ".pcap", "generator": "scripts/make-captures.sh",
           "note": "truth from each client's own output; one connection per SNI, in capture order",
           "tools": tool_versions(), "connections": conns}
    print(json.dumps(doc, indent=2))

def pinned_context(version):
    # A client context pinned to one TLS version ("1.0" … "1.3"), every
    # cipher at security level 0, no certificate check.
    v = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
         "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}[version]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.minimum_version = v
    ctx.maximum_version = v
    return ctx

def client(host, port, sni, version):
    ctx = pinned_context(version)
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            print("version: " + s.version())
            print("cipher: " + s.cipher()[0])

def nntp_client(host, port, version, form):
    # Python's own news client (nntplib): STARTTLS (RFC 4642) after the
    # greeting and CAPABILITIES, or NNTPS from the first byte; the SNI is
    # the host name, which the namespace's hosts file maps to 127.0.0.1.
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib
    ctx = pinned_context(version)
    if form == "starttls":
        n = nntplib.NNTP(host, int(port), readermode=False, timeout=5)
        n.starttls(ctx)
    else:
        n = nntplib.NNTP_SSL(host, int(port), ssl_context=ctx, readermode=False, timeout=5)
    print("version: " + n.sock.version())
    print("cipher: " + n.sock.cipher()[0])
    n.quit()

def irc_client(host, port, version, form):
    # An IRC client of this script's own: CAP LS 302, STARTTLS once the
    # server lists the tls capability (IRCv3), the handshake after its 670
    # (RPL_STARTTLS); or TLS from the first byte (ircs). The SNI is the
    # host name, which the namespace's hosts file maps to 127.0.0.1.
    ctx = pinned_context(version)
    raw = socket.create_connection((host, int(port)), timeout=5)
    if form == "starttls":
        def line():
            b = b""
            while not b.endswith(b"\n"):
                c = raw.recv(1)  # a byte at a time: nothing past 670 is read
                if not c:
                    raise SystemExit("irc: closed: " + repr(b))
                b += c
            return b.decode("utf-8", "replace").rstrip("\r\n")
        raw.sendall(b"CAP LS 302\r\n")
        caps = []
        while True:
            words = line().split(" ")
            if len(words) > 3 and words[1] == "CAP" and words[3] == "LS":
                more = words[4] == "*"
                caps += " ".join(words[5 if more else 4:]).lstrip(":").split()
                if not more:
                    break
        if "tls" not in caps:
            raise SystemExit("irc: no tls capability: %r" % caps)
        raw.sendall(b"STARTTLS\r\n")
        while True:
            words = line().split(" ")
            if len(words) > 1 and words[1] == "670":
                break
            if len(words) > 1 and words[1] in ("691", "421", "451"):
                raise SystemExit("irc: STARTTLS refused: " + " ".join(words))
    with ctx.wrap_socket(raw, server_hostname=host) as s:
        print("version: " + s.version())
        print("cipher: " + s.cipher()[0])
        s.sendall(b"QUIT\r\n")

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"record": lambda: record(*args), "truth": lambda: truth(*args), "client": lambda: client(*args), "rdp-relay": lambda: rdp_relay(*args),
     "nntp-client": lambda: nntp_client(*args), "irc-client": lambda: irc_client(*args)}[cmd]()
PY
}

ns=tlsmap-captures-$$
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
	rm -rf "/etc/netns/$ns"
}
trap cleanup EXIT

ip netns add "$ns"
inns() { ip netns exec "$ns" "$@"; }
# Names of the namespace (ip netns exec mounts /etc/netns/NS/hosts over
# /etc/hosts): clients that take their SNI from the URL's host name only
# (ldapsearch, curl ftp://) get one unique name a connection.
mkdir -p "/etc/netns/$ns"
echo "127.0.0.1 localhost" >"/etc/netns/$ns/hosts"
host_add() { echo "127.0.0.1 $1" >>"/etc/netns/$ns/hosts"; }
# want GROUP: the group is recorded (CAPTURES unset, or lists it).
want() { [ -z "${CAPTURES:-}" ] || [[ ",$CAPTURES," == *",$1,"* ]]; }
inns ip link set lo up
# IPv6 on lo, so that one Python client can talk over [::1].
inns sysctl -qw net.ipv6.conf.lo.disable_ipv6=0 2>/dev/null || true

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 3650 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null

# Cipher names → code points, for the truth files.
openssl ciphers -V 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' >"$work/openssl-ciphers.txt"
gnutls-cli -l >"$work/gnutls-ciphers.txt" 2>/dev/null || true

write_helper "$work/helper.py"
helper() { python3 "$work/helper.py" "$@"; }

start_bg() { # start_bg LOG CMD... — run CMD in the namespace in the background
	local log=$1
	shift
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	pids+=($!)
}

wait_port() { # wait_port PORT — until something listens on 127.0.0.1:PORT in the namespace
	for _ in $(seq 100); do
		if inns python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),0.2).close()" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	die "nothing listens on port $1"
}

# A wait_port probe is a TCP connection without TLS: it would show up in
# the capture as a flow without hellos. Servers are started and probed
# before tcpdump starts.

tcpdump_pid=
capture_start() { # capture_start NAME [FILTER]
	: >"$work/$1.truth.jsonl"
	# Started directly (not through a shell function) so that $! is
	# tcpdump itself and SIGINT reaches it.
	ip netns exec "$ns" tcpdump -i lo -s 0 -B 16384 -U --immediate-mode -n -Z root -w "$work/$1.pcap" ${2:-tcp} >"$work/$1.tcpdump.log" 2>&1 &
	tcpdump_pid=$!
	pids+=($tcpdump_pid)
	for _ in $(seq 100); do
		grep -q 'listening on' "$work/$1.tcpdump.log" && break
		sleep 0.05
	done
	grep -q 'listening on' "$work/$1.tcpdump.log" || die "tcpdump did not start: $(cat "$work/$1.tcpdump.log")"
}

capture_stop() { # capture_stop NAME
	sleep 1
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" || true
	local n
	n=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$work/$1.tcpdump.log")
	[ "${n:-0}" -gt 0 ] || die "$1: tcpdump captured nothing: $(cat "$work/$1.tcpdump.log")"
	# A capture missing segments would not hold what the clients did.
	local dropped
	dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$work/$1.tcpdump.log")
	[ "${dropped:-0}" -eq 0 ] || die "$1: the kernel dropped $dropped packets of the capture; run again on a quieter machine"
	mkdir -p "$out"
	cp "$work/$1.pcap" "$out/$1.pcap"
	helper truth "$1" "$work/$1.truth.jsonl" "$work" >"$out/$1.truth.json"
	echo "$1: $(grep -c . "$work/$1.truth.jsonl") connections → $out/$1.pcap" >&2
}

truth() { # truth NAME CLIENT SERVER PROTOCOL SNI TOOL-OUTPUT-FILE PARSER
	helper record "$@" >>"$work/$1.truth.jsonl"
}

# ---- servers ----------------------------------------------------------------
start_bg "$work/s_server.log" openssl s_server -accept 127.0.0.1:443 -cert "$work/cert.pem" -key "$work/key.pem" \
	-cipher 'ALL:@SECLEVEL=0' -www -quiet
start_bg "$work/s_server6.log" openssl s_server -accept '[::1]:443' -cert "$work/cert.pem" -key "$work/key.pem" \
	-cipher 'ALL:@SECLEVEL=0' -www -quiet
# Postfix (SMTP STARTTLS) and Dovecot (IMAP STARTTLS, POP3 STLS), with
# tlsmap's test configurations (internal/mailserver), started by
# bench/mailcompare -serve, which prints their URLs and waits for SIGTERM.
if want starttls; then
(cd "$here" && go build -o "$work/mailserve" ./bench/mailcompare) || die "cannot build bench/mailcompare"
ip netns exec "$ns" "$work/mailserve" -serve >"$work/mailserve.out" 2>"$work/mailserve.log" &
pids+=($!)
for _ in $(seq 300); do
	[ "$(wc -l <"$work/mailserve.out")" -ge 6 ] && break
	sleep 0.1
done
[ "$(wc -l <"$work/mailserve.out")" -ge 6 ] || die "postfix/dovecot did not start: $(tail -5 "$work/mailserve.log")"
mail_port() { sed -n "s#^$1://127.0.0.1:##p" "$work/mailserve.out"; }
smtp_port=$(mail_port smtp) imap_port=$(mail_port imap) pop3_port=$(mail_port pop3)
fi
wait_port 443

# ---- openssl s_client ---------------------------------------------------------
if want openssl; then
capture_start openssl
# Each version with a different cipher list, so that the suites differ too
# (static RSA key exchange, CBC, ChaCha20, TLS 1.3 default).
for vc in 1:AES128-SHA 1_1:ECDHE-RSA-AES128-SHA 1_2:ECDHE-RSA-CHACHA20-POLY1305 1_3:DEFAULT; do
	v=${vc%%:*} c=${vc#*:}
	sni=tls${v/_/}.openssl.test
	inns openssl s_client -connect 127.0.0.1:443 -tls$v -cipher "$c:@SECLEVEL=0" -servername "$sni" \
		</dev/null >"$work/o.out" 2>&1 || true
	truth openssl "openssl s_client -tls$v -cipher $c" 127.0.0.1:443 https "$sni" "$work/o.out" s_client
done
capture_stop openssl
fi

# ---- curl ---------------------------------------------------------------------
if want curl; then
capture_start curl
for v in 1.0 1.1 1.2 1.3; do
	sni=tls${v/./}.curl.test
	inns curl -v -sk --tlsv$v --tls-max $v --ciphers 'DEFAULT:@SECLEVEL=0' \
		--resolve "$sni:443:127.0.0.1" "https://$sni/" -o /dev/null >"$work/c.out" 2>&1 || true
	truth curl "curl --tlsv$v --tls-max $v" 127.0.0.1:443 https "$sni" "$work/c.out" curl
done
capture_stop curl
fi

# ---- gnutls-cli ---------------------------------------------------------------
if want gnutls; then
capture_start gnutls
for v in 1.0 1.1 1.2 1.3; do
	sni=tls${v/./}.gnutls.test
	inns gnutls-cli --insecure --priority "NORMAL:-VERS-ALL:+VERS-TLS$v" --sni-hostname "$sni" -p 443 127.0.0.1 \
		</dev/null >"$work/g.out" 2>&1 || true
	truth gnutls "gnutls-cli --priority NORMAL:-VERS-ALL:+VERS-TLS$v" 127.0.0.1:443 https "$sni" "$work/g.out" gnutls
done
capture_stop gnutls
fi

# ---- Python ssl ---------------------------------------------------------------
if want python; then
capture_start python
for v in 1.0 1.1 1.2 1.3; do
	sni=tls${v/./}.python.test
	inns python3 "$work/helper.py" client 127.0.0.1 443 "$sni" "$v" >"$work/p.out" 2>&1 || true
	truth python "python3 ssl TLSv$v" 127.0.0.1:443 https "$sni" "$work/p.out" python
done
sni=tls10.ipv6.python.test
inns python3 "$work/helper.py" client ::1 443 "$sni" 1.0 >"$work/p.out" 2>&1 || true
truth python "python3 ssl TLSv1.0 over IPv6" '[::1]:443' https "$sni" "$work/p.out" python
capture_stop python
fi

# ---- STARTTLS (SMTP, IMAP, POP3) ------------------------------------------------
if want starttls; then
capture_start starttls
mail() { # mail PROTO PORT VERSIONFLAG
	local sni=${1}-${3#-}.starttls.test
	sni=${sni//_/}
	inns openssl s_client -connect "127.0.0.1:$2" -starttls "$1" "$3" -cipher 'ALL:@SECLEVEL=0' -servername "$sni" \
		</dev/null >"$work/m.out" 2>&1 || true
	truth starttls "openssl s_client -starttls $1 $3" "127.0.0.1:$2" "$1" "$sni" "$work/m.out" s_client
}
mail smtp "$smtp_port" -tls1_2
mail imap "$imap_port" -tls1
mail pop3 "$pop3_port" -tls1_1
mail smtp "$smtp_port" -tls1_3
capture_stop starttls
fi

# ---- directory, file transfer, chat ---------------------------------------------
# internal/protoserver's servers (slapd, vsftpd, Prosody, managesieved, INN …) on their well-known
# ports in the namespace, started by bench/protoserve, which prints their
# URLs.
if want ldap || want ftp || want xmpp || want postgres || want mysql || want rdp || want sieve || want nntp || want irc; then
	(cd "$here" && go build -o "$work/protoserve" ./bench/protoserve) || die "cannot build bench/protoserve"
	# Direct TLS to Prosody picks the domain by SNI: the capture's names for
	# it are domains of its own.
	ip netns exec "$ns" "$work/protoserve" -well-known -xmpp-hosts xmpps-tls11.openssl.test,xmpps-server-tls1.openssl.test \
		>"$work/protoserve.out" 2>"$work/protoserve.log" &
	pids+=($!)
	# It prints every URL at once, when all its servers accept connections.
	for _ in $(seq 600); do
		grep -q '^xmpps-server://' "$work/protoserve.out" && break
		sleep 0.1
	done
	grep -q '^xmpps-server://' "$work/protoserve.out" || die "protoserve did not start: $(tail -5 "$work/protoserve.log")"
fi

# ---- LDAP (slapd: StartTLS on 389, LDAPS on 636) ----------------------------------
if want ldap; then
	capture_start ldap
	# ldapsearch prints no TLS parameters: each run is pinned to one version
	# and one suite (LDAPTLS_CIPHER_SUITE is a GnuTLS priority string), so
	# that its success names them.
	ldapsearch_pinned() { # ldapsearch_pinned ldap|ldaps VERSION OPENSSL-NAME PRIORITY
		local port=389 zz=-ZZ v=${2#TLSv}
		[ "$1" = ldaps ] && port=636 zz=
		local sni=${1}-tls${v/./}.ldapsearch.test
		host_add "$sni"
		inns env LDAPTLS_REQCERT=never LDAPTLS_CIPHER_SUITE="$4" \
			ldapsearch -x $zz -H "$1://$sni:$port" -b "" -s base namingContexts >"$work/l.out" 2>&1 || true
		truth ldap "ldapsearch $zz -H $1:// (LDAPTLS_CIPHER_SUITE=$4)" "127.0.0.1:$port" ldap "$sni" "$work/l.out" "pinned:$2:$3:result: 0 Success"
	}
	ldapsearch_pinned ldap TLSv1.0 AES128-SHA "NONE:+VERS-TLS1.0:+AES-128-CBC:+SHA1:+RSA:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
	ldapsearch_pinned ldap TLSv1.1 ECDHE-RSA-AES256-SHA "NONE:+VERS-TLS1.1:+AES-256-CBC:+SHA1:+ECDHE-RSA:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
	ldapsearch_pinned ldap TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 "NONE:+VERS-TLS1.2:+AES-128-GCM:+AEAD:+ECDHE-RSA:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
	ldapsearch_pinned ldap TLSv1.3 TLS_AES_256_GCM_SHA384 "NONE:+VERS-TLS1.3:+AES-256-GCM:+AEAD:+ECDHE-RSA:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
	ldapsearch_pinned ldaps TLSv1.0 ECDHE-RSA-AES128-SHA "NONE:+VERS-TLS1.0:+AES-128-CBC:+SHA1:+ECDHE-RSA:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
	ldapsearch_pinned ldaps TLSv1.2 AES256-GCM-SHA384 "NONE:+VERS-TLS1.2:+AES-256-GCM:+AEAD:+RSA:+COMP-NULL:+SIGN-ALL:+GROUP-ALL"
	# gnutls-cli and s_client print what they negotiated.
	sni=ldap-tls11.gnutls.test
	inns gnutls-cli --insecure --starttls-proto=ldap --priority "NORMAL:-VERS-ALL:+VERS-TLS1.1" --sni-hostname "$sni" -p 389 127.0.0.1 \
		</dev/null >"$work/g.out" 2>&1 || true
	truth ldap "gnutls-cli --starttls-proto=ldap --priority NORMAL:-VERS-ALL:+VERS-TLS1.1" 127.0.0.1:389 ldap "$sni" "$work/g.out" gnutls
	sni=ldap-tls1.openssl.test
	inns openssl s_client -connect 127.0.0.1:389 -starttls ldap -tls1 -cipher 'ALL:@SECLEVEL=0' -servername "$sni" \
		</dev/null >"$work/o.out" 2>&1 || true
	truth ldap "openssl s_client -starttls ldap -tls1" 127.0.0.1:389 ldap "$sni" "$work/o.out" s_client
	capture_stop ldap
fi

# ---- FTP (vsftpd: AUTH TLS on 21, implicit FTPS on 990) ---------------------------
if want ftp; then
	capture_start ftp
	# curl logs in as anonymous after TLS, which vsftpd refuses: the
	# handshake, which is what counts here, is done by then.
	ftp_curl() { # ftp_curl ftp|ftps PORT VERSION
		local sni=${1}-tls${3/./}.curl.test
		host_add "$sni"
		inns curl -v -sk --ssl-reqd --tlsv$3 --tls-max "$3" --ciphers 'DEFAULT:@SECLEVEL=0' \
			"$1://$sni:$2/" -o /dev/null >"$work/c.out" 2>&1 || true
		truth ftp "curl $1:// --ssl-reqd --tlsv$3 --tls-max $3" "127.0.0.1:$2" ftp "$sni" "$work/c.out" curl
	}
	ftp_curl ftp 21 1.0
	ftp_curl ftp 21 1.1
	ftp_curl ftp 21 1.2
	ftp_curl ftp 21 1.3
	ftp_curl ftps 990 1.0
	ftp_curl ftps 990 1.3
	sni=ftp-tls12.gnutls.test
	inns gnutls-cli --insecure --starttls-proto=ftp --priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" --sni-hostname "$sni" -p 21 127.0.0.1 \
		</dev/null >"$work/g.out" 2>&1 || true
	truth ftp "gnutls-cli --starttls-proto=ftp --priority NORMAL:-VERS-ALL:+VERS-TLS1.2" 127.0.0.1:21 ftp "$sni" "$work/g.out" gnutls
	sni=ftp-tls11.openssl.test
	inns openssl s_client -connect 127.0.0.1:21 -starttls ftp -tls1_1 -cipher 'AES256-SHA:@SECLEVEL=0' -servername "$sni" \
		</dev/null >"$work/o.out" 2>&1 || true
	truth ftp "openssl s_client -starttls ftp -tls1_1 -cipher AES256-SHA" 127.0.0.1:21 ftp "$sni" "$work/o.out" s_client
	capture_stop ftp
fi

# ---- NNTP (INN's nnrpd: STARTTLS on 119, NNTPS on 563) ---------------------------
if want nntp; then
	capture_start nntp
	nntp_sclient() { # nntp_sclient PORT VERSIONFLAG [CIPHER]
		local sni=nntp-${2#-}.openssl.test starttls=(-starttls nntp)
		[ "$1" = 563 ] && sni=nntps-${2#-}.openssl.test starttls=()
		sni=${sni//_/}
		inns openssl s_client -connect "127.0.0.1:$1" "${starttls[@]}" "$2" -cipher "${3:-ALL}:@SECLEVEL=0" -servername "$sni" \
			</dev/null >"$work/o.out" 2>&1 || true
		truth nntp "openssl s_client ${starttls[*]} $2${3:+ -cipher $3}" "127.0.0.1:$1" nntp "$sni" "$work/o.out" s_client
	}
	nntp_sclient 119 -tls1
	nntp_sclient 119 -tls1_1 AES128-SHA
	nntp_sclient 119 -tls1_3
	nntp_sclient 563 -tls1
	nntp_sclient 563 -tls1_2
	sni=nntp-tls12.gnutls.test
	inns gnutls-cli --insecure --starttls-proto=nntp --priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" --sni-hostname "$sni" -p 119 127.0.0.1 \
		</dev/null >"$work/g.out" 2>&1 || true
	truth nntp "gnutls-cli --starttls-proto=nntp --priority NORMAL:-VERS-ALL:+VERS-TLS1.2" 127.0.0.1:119 nntp "$sni" "$work/g.out" gnutls
	# Python's nntplib, a news client of its own.
	nntp_python() { # nntp_python PORT VERSION starttls|implicit
		local sni=nntp-$3-tls${2/./}.nntplib.test
		host_add "$sni"
		inns python3 "$work/helper.py" nntp-client "$sni" "$1" "$2" "$3" >"$work/p.out" 2>&1 || true
		truth nntp "python3 nntplib ($3) TLS $2" "127.0.0.1:$1" nntp "$sni" "$work/p.out" python
	}
	nntp_python 119 1.0 starttls
	nntp_python 119 1.2 starttls
	nntp_python 563 1.1 implicit
	capture_stop nntp
fi

# ---- IRC (InspIRCd: STARTTLS on 6667, IRCv3's tls capability; ircs on 6697) ------
if want irc; then
	capture_start irc
	irc_sclient() { # irc_sclient PORT VERSIONFLAG [CIPHER]
		# GnuTLS refuses a server name with an underscore (not a host
		# name): -tls1_1 is named tls11.
		local v=${2#-} starttls=(-starttls irc)
		v=${v//_/}
		local sni=irc-$v.openssl.test
		[ "$1" = 6697 ] && sni=ircs-$v.openssl.test starttls=()
		inns openssl s_client -connect "127.0.0.1:$1" "${starttls[@]}" "$2" -cipher "${3:-ALL}:@SECLEVEL=0" -servername "$sni" \
			</dev/null >"$work/o.out" 2>&1 || true
		truth irc "openssl s_client ${starttls[*]} $2${3:+ -cipher $3}" "127.0.0.1:$1" irc "$sni" "$work/o.out" s_client
	}
	irc_sclient 6667 -tls1
	irc_sclient 6667 -tls1_1 AES128-SHA
	irc_sclient 6667 -tls1_3
	irc_sclient 6697 -tls1
	irc_sclient 6697 -tls1_2
	# The script's own IRC client (Python's ssl): CAP LS, STARTTLS, 670.
	irc_python() { # irc_python PORT VERSION starttls|implicit
		local sni=irc-$3-tls${2/./}.python.test
		host_add "$sni"
		inns python3 "$work/helper.py" irc-client "$sni" "$1" "$2" "$3" >"$work/p.out" 2>&1 || true
		truth irc "python3 IRC client ($3) TLS $2" "127.0.0.1:$1" irc "$sni" "$work/p.out" python
	}
	irc_python 6667 1.0 starttls
	irc_python 6667 1.2 starttls
	irc_python 6697 1.1 implicit
	capture_stop irc
fi

# ---- XMPP (Prosody: STARTTLS on 5222 and 5269, direct TLS on 5223 and 5270) -------
# Prosody serves the domain "localhost"; the SNI of each connection is its
# own.
if want xmpp; then
	capture_start xmpp
	xmpp_sclient() { # xmpp_sclient xmpp|xmpp-server PORT VERSIONFLAG
		local sni=${1}-${3#-}.openssl.test
		sni=${sni//_/}
		inns openssl s_client -connect "127.0.0.1:$2" -starttls "$1" -xmpphost localhost "$3" -cipher 'ALL:@SECLEVEL=0' \
			-servername "$sni" </dev/null >"$work/o.out" 2>&1 || true
		truth xmpp "openssl s_client -starttls $1 -xmpphost localhost $3" "127.0.0.1:$2" "$1" "$sni" "$work/o.out" s_client
	}
	xmpp_sclient xmpp 5222 -tls1
	xmpp_sclient xmpp 5222 -tls1_3
	xmpp_sclient xmpp-server 5269 -tls1_1
	xmpp_sclient xmpp-server 5269 -tls1_2
	sni=xmpp-tls12.gnutls.test
	inns gnutls-cli --insecure --starttls-proto=xmpp --priority "NORMAL:-VERS-ALL:+VERS-TLS1.2" --sni-hostname "$sni" -p 5222 localhost \
		</dev/null >"$work/g.out" 2>&1 || true
	truth xmpp "gnutls-cli --starttls-proto=xmpp --priority NORMAL:-VERS-ALL:+VERS-TLS1.2" 127.0.0.1:5222 xmpp "$sni" "$work/g.out" gnutls
	# Direct TLS (XEP-0368): labelled by port.
	for pv in 5223:xmpp:-tls1_1:xmpps-tls11 5270:xmpp-server:-tls1:xmpps-server-tls1; do
		IFS=: read -r port proto v sni <<<"$pv"
		sni=$sni.openssl.test
		inns openssl s_client -connect "127.0.0.1:$port" "$v" -cipher 'ALL:@SECLEVEL=0' -servername "$sni" \
			</dev/null >"$work/o.out" 2>&1 || true
		truth xmpp "openssl s_client $v (direct TLS)" "127.0.0.1:$port" "$proto" "$sni" "$work/o.out" s_client
	done
	capture_stop xmpp
fi

# ---- PostgreSQL (SSLRequest on 5432) --------------------------------------------
# psql prints the negotiated protocol and cipher (\conninfo). libpq takes its
# SNI from the host name. OpenSSL's default security level forbids TLS 1.0/1.1
# with SHA-1 signatures in libpq, which has no cipher option: a configuration
# file of the client's own lowers it.
if want postgres || want mysql; then
	cat >"$work/openssl-seclevel0.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
CipherString = ALL:@SECLEVEL=0
MinProtocol = TLSv1
CNF
fi
if want postgres; then
	capture_start postgres
	pg_psql() { # pg_psql VERSION
		local sni=pg-tls${1/./}.psql.test
		host_add "$sni"
		inns env OPENSSL_CONF="$work/openssl-seclevel0.cnf" PGCONNECT_TIMEOUT=5 psql -X \
			"host=$sni port=5432 user=postgres dbname=postgres sslmode=require ssl_min_protocol_version=TLSv$1 ssl_max_protocol_version=TLSv$1" \
			-c '\conninfo' >"$work/p.out" 2>&1 || true
		truth postgres "psql sslmode=require ssl_min/max_protocol_version=TLSv$1" 127.0.0.1:5432 postgres "$sni" "$work/p.out" psql
	}
	pg_psql 1
	pg_psql 1.1
	pg_psql 1.2
	pg_psql 1.3
	sni=pg-tls1.openssl.test
	inns openssl s_client -connect 127.0.0.1:5432 -starttls postgres -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' -servername "$sni" \
		</dev/null >"$work/o.out" 2>&1 || true
	truth postgres "openssl s_client -starttls postgres -tls1 -cipher AES128-SHA" 127.0.0.1:5432 postgres "$sni" "$work/o.out" s_client
	capture_stop postgres
fi

# ---- MySQL protocol (MariaDB: the SSL request after the greeting, 3306) ---------
# The mariadb client sends no SNI: the truth lists its connections with an
# empty SNI in the order they were made, one at a time, and the test takes
# the capture's flows without SNI in the order they began. It prints the
# session's Ssl_version and Ssl_cipher.
if want mysql; then
	capture_start mysql
	my_client() { # my_client VERSION
		inns env OPENSSL_CONF="$work/openssl-seclevel0.cnf" mariadb --no-defaults -h 127.0.0.1 -P 3306 -u root \
			--ssl --ssl-verify-server-cert=0 --tls-version="TLSv$1" --connect-timeout=5 -B -N \
			-e "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')" \
			>"$work/m.out" 2>&1 || true
		truth mysql "mariadb --ssl --tls-version=TLSv$1" 127.0.0.1:3306 mysql "" "$work/m.out" mariadb
	}
	my_client 1.0
	my_client 1.1
	my_client 1.2
	my_client 1.3
	for v in -tls1 -tls1_2; do
		sni=mysql${v//_/}.openssl.test
		inns openssl s_client -connect 127.0.0.1:3306 -starttls mysql "$v" -cipher 'ALL:@SECLEVEL=0' -servername "$sni" \
			</dev/null >"$work/o.out" 2>&1 || true
		truth mysql "openssl s_client -starttls mysql $v" 127.0.0.1:3306 mysql "$sni" "$work/o.out" s_client
	done
	capture_stop mysql
fi

# ---- RDP (xrdp: X.224 Connection Request for PROTOCOL_SSL, then TLS, 3389) ------
# xfreerdp does not run without a display. openssl s_client speaks TLS after
# a preamble it cannot send itself: a relay (helper.py rdp-relay) sends the
# X.224 Connection Request, reads the Connection Confirm, then passes bytes
# both ways between s_client and xrdp. Only the relay's leg to 3389 is
# recorded.
if want rdp; then
	start_bg "$work/rdp-relay.log" python3 "$work/helper.py" rdp-relay 127.0.0.1 13389 127.0.0.1 3389
	wait_port 13389
	capture_start rdp 'tcp port 3389'
	for v in -tls1 -tls1_1 -tls1_2 -tls1_3; do
		sni=rdp${v//_/}.openssl.test
		inns openssl s_client -connect 127.0.0.1:13389 "$v" -cipher 'ALL:@SECLEVEL=0' -servername "$sni" \
			</dev/null >"$work/o.out" 2>&1 || true
		truth rdp "openssl s_client $v after the X.224 preamble (relay)" 127.0.0.1:3389 rdp "$sni" "$work/o.out" s_client
	done
	capture_stop rdp
fi

# ---- ManageSieve (Dovecot's managesieved: STARTTLS on 4190) ----------------------
# s_client and gnutls-cli both speak ManageSieve's STARTTLS and print what
# they negotiated.
if want sieve; then
	capture_start sieve
	for v in -tls1 -tls1_2; do
		sni=sieve${v//_/}.openssl.test
		inns openssl s_client -connect 127.0.0.1:4190 -starttls sieve "$v" -cipher 'ALL:@SECLEVEL=0' -servername "$sni" \
			</dev/null >"$work/o.out" 2>&1 || true
		truth sieve "openssl s_client -starttls sieve $v" 127.0.0.1:4190 sieve "$sni" "$work/o.out" s_client
	done
	sni=sieve-tls13.gnutls.test
	inns gnutls-cli --insecure --starttls-proto=sieve --priority "NORMAL:-VERS-ALL:+VERS-TLS1.3" --sni-hostname "$sni" -p 4190 127.0.0.1 \
		</dev/null >"$work/g.out" 2>&1 || true
	truth sieve "gnutls-cli --starttls-proto=sieve --priority NORMAL:-VERS-ALL:+VERS-TLS1.3" 127.0.0.1:4190 sieve "$sni" "$work/g.out" gnutls
	sni=sieve-tls11.gnutls.test
	inns gnutls-cli --insecure --starttls-proto=sieve --priority "NORMAL:-VERS-ALL:+VERS-TLS1.1" --sni-hostname "$sni" -p 4190 127.0.0.1 \
		</dev/null >"$work/g.out" 2>&1 || true
	truth sieve "gnutls-cli --starttls-proto=sieve --priority NORMAL:-VERS-ALL:+VERS-TLS1.1" 127.0.0.1:4190 sieve "$sni" "$work/g.out" gnutls
	capture_stop sieve
fi

# ---- proxies: HTTP CONNECT (tinyproxy) and SOCKS4/4a/5 (dante) --------------------
# curl, pinned to a TLS version, reaches s_server on 443 through each proxy.
# Only the client-proxy leg is recorded (the proxy's own connection to the
# server would be a second flow with the same hello); the truth's server is
# the proxy, its protocol the proxy's.
if want proxy; then
	for p in tinyproxy danted; do
		command -v "$p" >/dev/null || die "$p is not installed (apt-get install -y tinyproxy dante-server)"
	done
	printf '%s\n' 'User nobody' 'Group nogroup' 'Port 3128' 'Listen 127.0.0.1' 'Timeout 30' 'MaxClients 20' \
		'Allow 127.0.0.1' 'ConnectPort 443' >"$work/tinyproxy.conf"
	printf '%s\n' 'logoutput: stderr' 'internal: 127.0.0.1 port = 1080' 'external: 127.0.0.1' \
		'socksmethod: none' 'clientmethod: none' 'user.privileged: root' 'user.unprivileged: nobody' \
		'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }' \
		'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 command: connect }' >"$work/danted.conf"
	start_bg "$work/tinyproxy.log" tinyproxy -d -c "$work/tinyproxy.conf"
	start_bg "$work/danted.log" danted -f "$work/danted.conf"
	wait_port 3128
	wait_port 1080
	capture_start proxy 'tcp port 3128 or tcp port 1080'
	proxied() { # proxied PROTOCOL PROXY VERSION CURL-PROXY-FLAGS...
		local proto=$1 proxy=$2 v=$3
		shift 3
		local sni=tls${v/./}.$proto.test
		host_add "$sni"
		inns curl -v -sk --tlsv$v --tls-max $v --ciphers 'DEFAULT:@SECLEVEL=0' "$@" "https://$sni/" -o /dev/null >"$work/x.out" 2>&1 || true
		truth proxy "curl --tlsv$v --tls-max $v $*" "$proxy" "$proto" "$sni" "$work/x.out" curl
	}
	proxied http-connect 127.0.0.1:3128 1.0 -x http://127.0.0.1:3128
	proxied http-connect 127.0.0.1:3128 1.2 -x http://127.0.0.1:3128
	proxied socks5 127.0.0.1:1080 1.0 --socks5-hostname 127.0.0.1:1080
	proxied socks5 127.0.0.1:1080 1.1 --socks5 127.0.0.1:1080
	proxied socks4 127.0.0.1:1080 1.0 --socks4 127.0.0.1:1080
	# SOCKS4A is left out: dante rejects its host-name requests (91); the
	# recogniser is tested on synthetic streams (protocols/socks).
	capture_stop proxy
fi

# ---- derived captures: encapsulations, coverage, hostile files ------------------
# internal/capgen rewrites the real captures above: openssl.pcap's packets
# inside PPPoE and inside an MPLS label stack (tshark decodes them the same
# way: internal/capgen's tests check it), the mixed capture of the coverage
# test (with quic.pcap from scripts/make-quic-captures.sh), and the damaged
# files the sniffer must account for. Deterministic: the same openssl.pcap
# and quic.pcap give the same files.
if want derived; then
	(cd "$here" && go build -o "$work/capgen" ./internal/capgen/cmd/capgen) || die "cannot build internal/capgen"
	"$work/capgen" encap pppoe "$out/openssl.pcap" "$out/pppoe.pcap"
	"$work/capgen" encap mpls "$out/openssl.pcap" "$out/mpls.pcap"
	hostile=${HOSTILE:-$here/testdata/hostile}
	mkdir -p "$hostile"
	"$work/capgen" coverage "$out/openssl.pcap" "$out/quic.pcap" "$hostile/coverage.pcapng"
	"$work/capgen" hostile "$out/openssl.pcap" "$hostile"
	echo "derived: pppoe.pcap, mpls.pcap → $out; coverage and hostile captures → $hostile" >&2
fi

echo "done: $(ls "$out"/*.pcap | wc -l) captures in $out" >&2
