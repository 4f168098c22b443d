package nntp

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line Recognize waits for before deciding the
// stream is not NNTP (RFC 3977 §3.1: 512 octets for a command or a
// response's initial line).
const maxWireLine = 2048

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are NNTP, and where they switch
// to TLS. The server greets with 200, 201, 400 or 502 (RFC 3977 §5.1.1);
// the client's first line must be an NNTP command. Commands and responses
// are paired in order (RFC 3977 §3.5 keeps it under pipelining): one
// initial response line per command line (AUTHINFO SASL continuations
// included), followed by a dot-terminated data block after the codes
// that have one (RFC 3977 §3.1.1), and an article from the client after
// POST's 340 and IHAVE's 335, and with TAKETHIS (RFC 4644 §2.5). A 382 to
// STARTTLS (RFC 4642 §2.2.2) gives Upgraded, with the offsets right after
// the STARTTLS line and after the 382 line; any other answer gives
// Plaintext with the response as Reason, and a later STARTTLS is still
// found. Upgraded is withdrawn (Plaintext) when a side's first byte after
// its offset cannot start a TLS or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	if !serverShape(s2c) {
		return plaintext.NotThis(Name, "server does not greet like NNTP")
	}
	if !clientShape(c2s) {
		return plaintext.NotThis(Name, "client does not send NNTP commands")
	}
	greeting, spos, ok := wireLine(s2c, 0)
	if _, _, cok := wireLine(c2s, 0); !ok || !cok {
		return rec
	}
	if code, ok := parseStatus(string(greeting)); !ok || !greetingCode(code) {
		return plaintext.NotThis(Name, "server does not greet like NNTP")
	}
	rec.State, rec.Reason = protocols.Plaintext, "no STARTTLS yet"
	if code, _ := parseStatus(string(greeting)); code != 200 && code != 201 {
		rec.Reason = "greeting " + plaintext.Sanitize(greeting)
	}
	for cpos := 0; cpos < len(c2s); {
		line, next, ok := wireLine(c2s, cpos)
		if !ok {
			break
		}
		cpos = next
		verb, _, _ := strings.Cut(strings.TrimSpace(string(line)), " ")
		verb = strings.ToUpper(verb)
		if verb == "TAKETHIS" {
			// RFC 4644 §2.5: the article follows the command at once.
			if cpos, ok = plaintext.SkipBody(c2s, cpos); !ok {
				return rec
			}
		}
		resp, snext, ok := wireLine(s2c, spos)
		if !ok {
			if verb == "STARTTLS" {
				rec.State, rec.Reason = protocols.NeedMore, ""
			}
			return rec
		}
		code, ok := parseStatus(string(resp))
		if !ok {
			return rec // out of step: nothing more can be paired
		}
		spos = snext
		switch {
		case verb == "STARTTLS" && code == 382:
			return plaintext.Upgraded(Name, "STARTTLS", c2s, s2c, cpos, spos)
		case verb == "STARTTLS":
			rec.Reason = "STARTTLS refused: " + plaintext.Sanitize(resp)
		case verb == "COMPRESS" && code == 206:
			// RFC 8054 §2.2.2: both directions are compressed from here.
			rec.Reason = "COMPRESS accepted: the rest is compressed"
			return rec
		case hasData(verb, code):
			if spos, ok = plaintext.SkipBody(s2c, spos); !ok {
				return rec
			}
		case verb == "POST" && code == 340, verb == "IHAVE" && code == 335:
			// The client sends the article (RFC 3977 §6.3.1, §6.3.2),
			// then the server answers once more.
			if cpos, ok = plaintext.SkipBody(c2s, cpos); !ok {
				return rec
			}
			resp, snext, ok := wireLine(s2c, spos)
			if !ok {
				return rec
			}
			if _, ok := parseStatus(string(resp)); !ok {
				return rec
			}
			spos = snext
		}
	}
	return rec
}

// hasData reports whether the response code to verb is followed by a
// dot-terminated data block (RFC 3977 §3.2, and the older commands of RFC
// 2980 that servers still answer).
func hasData(verb string, code int) bool {
	switch code {
	case 100, 101, 215, 220, 221, 222, 224, 225, 230, 231, 282:
		return true
	case 211:
		return verb == "LISTGROUP" // GROUP's 211 is one line
	}
	return false
}

// greetingCode reports whether code can open an NNTP connection (RFC
// 3977 §5.1.1).
func greetingCode(code int) bool { return code == 200 || code == 201 || code == 400 || code == 502 }

// serverShape reports whether s2c (possibly empty or partial) can start
// with an NNTP greeting.
func serverShape(s2c []byte) bool {
	if len(s2c) > maxWireLine && bytes.IndexByte(s2c[:maxWireLine], '\n') < 0 {
		return false
	}
	return plaintext.MayStartWith(s2c, "200", "201", "400", "502")
}

// commands are the NNTP commands a client may open with — RFC 3977's,
// RFC 4642's STARTTLS, RFC 4643's AUTHINFO, RFC 4644's streaming ones,
// RFC 8054's COMPRESS and the RFC 2980 extensions servers still answer —
// so that another protocol's first word (FTP's FEAT, SMTP's EHLO) is not
// taken for NNTP.
var commands = plaintext.NewCommands(`ARTICLE BODY HEAD STAT GROUP LISTGROUP LAST NEXT POST IHAVE QUIT
		CAPABILITIES MODE DATE HELP NEWGROUPS NEWNEWS LIST OVER HDR STARTTLS AUTHINFO CHECK TAKETHIS
		COMPRESS XOVER XHDR XPAT XGTITLE XROVER XPATH SLAVE`)

// clientShape reports whether c2s (possibly empty or partial) can be the
// start of an NNTP client's stream: its first word is a command, or a
// prefix of one while the word is still incomplete.
func clientShape(c2s []byte) bool {
	end, ok := commands.Start(c2s)
	return ok && (end < 0 || !httpRequest(c2s[end:]))
}

// httpRequest reports whether the rest of a first line after its verb
// is an HTTP request's (RFC 9112 §3: a target, then HTTP/d.d): HTTP's
// POST and HEAD are NNTP commands too, whose arguments (none, or a
// message-id or an article number) never start with '/' or end with a
// protocol version.
func httpRequest(rest []byte) bool {
	rest = rest[:min(len(rest), maxWireLine)]
	if len(rest) > 1 && rest[0] == ' ' && (rest[1] == '/' || rest[1] == '*' || bytes.HasPrefix(rest[1:], []byte("http"))) {
		return true
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	fields := bytes.Fields(line)
	return len(fields) > 0 && bytes.HasPrefix(fields[len(fields)-1], []byte("HTTP/"))
}

// wireLine is plaintext.WireLine bounded by maxWireLine.
func wireLine(b []byte, pos int) ([]byte, int, bool) { return plaintext.WireLine(b, pos, maxWireLine) }
