package sieve

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line (and literal) Recognize waits for
// before deciding the stream is not ManageSieve; capability lines stay
// far below it.
const maxWireLine = 2048

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are ManageSieve, and where they
// switch to TLS. The server opens with its capability list, "NAME"
// ["value"] lines ended by OK (RFC 5804 §1.7), or with BYE; every client
// command gets one response ended by OK, NO or BYE. When the answer to
// STARTTLS is OK the result is Upgraded, with the offsets right after the
// STARTTLS line and after the OK line; a refused STARTTLS gives Plaintext
// with the status line as Reason. Upgraded is withdrawn (Plaintext) when a
// side's first byte after its offset cannot start a TLS or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	resps, ok := parseResponses(s2c)
	if !ok {
		return plaintext.NotThis(Name, "server does not greet like ManageSieve")
	}
	if !clientShape(c2s) {
		return plaintext.NotThis(Name, "client does not send ManageSieve commands")
	}
	if _, _, ok := wireLine(c2s, 0); !ok || len(resps) == 0 {
		return rec
	}
	rec.State, rec.Reason = protocols.Plaintext, "no STARTTLS yet"
	if g := resps[0]; g.status != "OK" {
		rec.Reason = "greeting " + plaintext.Sanitize(g.line)
	}
	ri := 1
	for pos := 0; pos < len(c2s); {
		line, next, ok := wireLine(c2s, pos)
		if !ok {
			break
		}
		pos = next
		if !strings.EqualFold(strings.TrimSpace(string(line)), "STARTTLS") {
			// Client literals ({n+} in PUTSCRIPT) are not followed; the
			// next line is taken as a command, which only delays finding
			// a STARTTLS that a client sends first anyway.
			ri++
			continue
		}
		if ri >= len(resps) {
			rec.State, rec.Reason = protocols.NeedMore, ""
			return rec
		}
		r := resps[ri]
		ri++
		if r.status != "OK" {
			rec.Reason = "STARTTLS refused: " + plaintext.Sanitize(r.line)
			continue
		}
		return plaintext.Upgraded(Name, "STARTTLS", c2s, s2c, pos, r.end)
	}
	return rec
}

// wireResponse is one complete response found in the server's stream.
type wireResponse struct {
	status string
	end    int    // offset just past the status line
	line   []byte // the status line, for Reasons
}

// parseResponses splits s2c into complete responses. It returns ok=false
// when the stream cannot be ManageSieve: its first line (or its start) is
// neither a quoted capability nor BYE, or no line ends within
// maxWireLine bytes. A malformed line after the first stops the parsing
// without deciding anything.
func parseResponses(s2c []byte) (resps []wireResponse, ok bool) {
	for pos := 0; pos < len(s2c); {
		line, next, complete := wireLine(s2c, pos)
		if !complete {
			if pos == 0 && !greetingShape(s2c) {
				return nil, false
			}
			break
		}
		if st, _, isStatus := statusWord(string(line)); isStatus {
			if pos == 0 && st != "BYE" {
				return nil, false
			}
			resps = append(resps, wireResponse{status: st, end: next, line: line})
			pos = next
			continue
		}
		_, lit, good := parseStrings(string(line), nil)
		if !good {
			if pos == 0 {
				return nil, false
			}
			break
		}
		pos = next
		if lit >= 0 {
			// RFC 5804 §4: the literal's octets, then the line goes on.
			if lit > maxWireLine || pos+lit > len(s2c) {
				return resps, true
			}
			pos += lit
			_, n, complete := plaintext.BodyLine(s2c, pos)
			if !complete || n-pos > maxWireLine {
				return resps, true
			}
			pos = n
		}
	}
	return resps, true
}

// greetingShape checks the start of an incomplete first line: a quoted
// string, or a prefix of "BYE ".
func greetingShape(b []byte) bool {
	if len(b) > maxWireLine {
		return false
	}
	if b[0] == '"' {
		return !bytes.ContainsAny(b, "\r\n")
	}
	n := min(len(b), 4)
	return strings.EqualFold(string(b[:n]), "BYE "[:n])
}

// commands are the ManageSieve commands of RFC 5804 §2, so that another
// protocol's first word (IMAP's tag, SMTP's EHLO) is not taken for
// ManageSieve.
var commands = plaintext.NewCommands(`AUTHENTICATE STARTTLS LOGOUT CAPABILITY HAVESPACE PUTSCRIPT LISTSCRIPTS
		SETACTIVE GETSCRIPT DELETESCRIPT RENAMESCRIPT CHECKSCRIPT NOOP UNAUTHENTICATE`)

// clientShape reports whether c2s (possibly empty or partial) can be the
// start of a ManageSieve client's stream: its first word is a command, or
// a prefix of one while the word is still incomplete.
func clientShape(c2s []byte) bool {
	_, ok := commands.Start(c2s)
	return ok
}

// wireLine is plaintext.WireLine bounded by maxWireLine.
func wireLine(b []byte, pos int) ([]byte, int, bool) { return plaintext.WireLine(b, pos, maxWireLine) }
