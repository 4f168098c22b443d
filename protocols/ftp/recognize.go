package ftp

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line Recognize waits for before deciding the
// stream is not FTP; greetings and FEAT lines stay far below it.
const maxWireLine = 2048

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are FTP's control connection,
// and where they switch to TLS. The server greets (RFC 959 §5.4: 220, or
// 120 then 220, or 421) and answers every command with one final reply,
// after any preliminary 1yz ones; the client opens with an FTP command.
// When the reply to AUTH TLS (or AUTH SSL, TLS-C,
// TLS-P: RFC 4217 §4, §13) is 234 the result is Upgraded, with the
// offsets right after the AUTH line and after the 234 reply; a refused
// AUTH gives Plaintext with the reply as Reason, and a later AUTH in the
// same flow is still found. Upgraded is withdrawn (Plaintext) when a
// side's first byte after its offset cannot start a TLS or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	replies, ok := parseReplies(s2c)
	if !ok {
		return plaintext.NotThis(Name, "server does not greet like FTP")
	}
	if !clientShape(c2s) {
		return plaintext.NotThis(Name, "client does not send FTP commands")
	}
	if _, _, ok := wireLine(c2s, 0); !ok || len(replies) == 0 {
		return rec
	}
	ri := 0
	if replies[0].code == 120 {
		ri++
	}
	if ri >= len(replies) {
		return rec
	}
	rec.State, rec.Reason = protocols.Plaintext, "no AUTH TLS yet"
	if g := replies[ri]; g.code != 220 {
		rec.Reason = "greeting " + plaintext.Sanitize(g.first)
	}
	ri++
	for pos := 0; pos < len(c2s); {
		line, next, ok := wireLine(c2s, pos)
		if !ok {
			break
		}
		pos = next
		// Every command gets its preliminary replies, then one final one.
		for ri < len(replies) && replies[ri].code/100 == 1 {
			ri++
		}
		verb, arg, _ := strings.Cut(strings.TrimSpace(string(line)), " ")
		if !strings.EqualFold(verb, "AUTH") || !tlsMechanism(arg) {
			ri++
			continue
		}
		if ri >= len(replies) {
			rec.State, rec.Reason = protocols.NeedMore, ""
			return rec
		}
		r := replies[ri]
		ri++
		if r.code != 234 {
			rec.Reason = "AUTH TLS refused: " + plaintext.Sanitize(r.first)
			continue
		}
		return plaintext.Upgraded(Name, "AUTH TLS", c2s, s2c, pos, r.end)
	}
	return rec
}

// tlsMechanism reports whether AUTH's argument asks for TLS: TLS, TLS-C,
// and the older SSL and TLS-P (RFC 4217 §13).
func tlsMechanism(arg string) bool {
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "TLS", "TLS-C", "SSL", "TLS-P":
		return true
	}
	return false
}

// wireReply is one complete reply found in the server's stream.
type wireReply struct {
	code  int
	end   int    // offset just past the reply's last line
	first []byte // the first line, for Reasons
}

// parseReplies splits s2c into complete replies. It returns ok=false when
// the stream cannot be FTP: its first line (or its start) is not a reply
// line of a greeting code, or no line ends within maxWireLine bytes. A
// malformed line after the first stops the parsing without deciding
// anything.
func parseReplies(s2c []byte) (replies []wireReply, ok bool) {
	replies = make([]wireReply, 0, bytes.Count(s2c, []byte("\n")))
	for pos := 0; pos < len(s2c); {
		line, next, complete := wireLine(s2c, pos)
		if !complete {
			if pos == 0 && !greetingShape(s2c) {
				return nil, false
			}
			break
		}
		code, more, good := parseFirstLine(string(line))
		if !good {
			if pos == 0 {
				return nil, false
			}
			break
		}
		if pos == 0 && !greetingCode(code) {
			return nil, false
		}
		r := wireReply{code: code, first: line}
		pos = next
		// RFC 959 §4.2: a multi-line reply ends at a line starting with
		// its code and a space; the lines between are free text.
		for more {
			l, n, complete := plaintext.BodyLine(s2c, pos)
			if !complete || n-pos > maxWireLine {
				return replies, true
			}
			pos = n
			l = bytes.TrimRight(l, "\r")
			more = !endsReply(string(l), bytes.HasPrefix(l, line[:3]))
		}
		r.end = pos
		replies = append(replies, r)
	}
	return replies, true
}

// greetingCode reports whether code can open an FTP control connection
// (RFC 959 §5.4).
func greetingCode(code int) bool { return code == 220 || code == 120 || code == 421 }

// greetingShape checks the start of an incomplete first line: "220",
// "120" or "421", then a space or a '-'.
func greetingShape(b []byte) bool {
	if len(b) > maxWireLine {
		return false
	}
	for _, g := range []string{"220", "120", "421"} {
		n := min(len(b), 3)
		if string(b[:n]) == g[:n] && (len(b) <= 3 || b[3] == ' ' || b[3] == '-' || b[3] == '\r') {
			return true
		}
	}
	return false
}

// commands are the FTP commands a client may open with — every command of
// RFC 959 §4.1, RFC 775's X forms, RFC 2228's security commands, RFC
// 2389's FEAT and OPTS, RFC 2428, RFC 2640's LANG, RFC 3659, RFC 7151's
// HOST and the CLNT some clients send — so that another protocol's first
// word (HTTP's GET, SMTP's EHLO) is not taken for FTP.
var commands = plaintext.NewCommands(`USER PASS ACCT CWD CDUP SMNT REIN QUIT PORT PASV TYPE STRU MODE RETR STOR STOU
		APPE ALLO REST RNFR RNTO ABOR DELE RMD MKD PWD LIST NLST SITE SYST STAT HELP NOOP XCWD XCUP XMKD XPWD XRMD
		AUTH ADAT PROT PBSZ CCC MIC CONF ENC FEAT OPTS EPRT EPSV LANG MDTM SIZE MLST MLSD HOST CLNT`)

// clientShape reports whether c2s (possibly empty or partial) can be the
// start of an FTP client's stream: its first word is an FTP command, or a
// prefix of one while the word is still incomplete.
func clientShape(c2s []byte) bool {
	_, ok := commands.Start(c2s)
	return ok
}

// wireLine is plaintext.WireLine bounded by maxWireLine.
func wireLine(b []byte, pos int) ([]byte, int, bool) { return plaintext.WireLine(b, pos, maxWireLine) }
