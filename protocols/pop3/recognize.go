package pop3

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line Recognize waits for before deciding the
// stream is not POP3 (RFC 2449 §4: 255 octets for a command, 512 for a
// response line).
const maxWireLine = 2048

// commands are the POP3 commands (RFC 1939, RFC 2449, RFC 2595, RFC 5034,
// RFC 6856). A client's first line must start with one of them.
var commands = map[string]bool{
	"CAPA": true, "STLS": true, "USER": true, "PASS": true, "APOP": true, "AUTH": true,
	"QUIT": true, "STAT": true, "LIST": true, "RETR": true, "DELE": true, "NOOP": true,
	"RSET": true, "TOP": true, "UIDL": true, "UTF8": true, "LANG": true, "XTND": true,
}

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are POP3, and where they switch
// to TLS. The server must greet with "+OK" or "-ERR"; the client's first
// line must be a POP3 command. Commands and responses are paired in order
// (RFC 2449 §6.6 PIPELINING keeps the order): one status line per command
// line (SASL continuations "+ " included), followed by a dot-terminated
// body after +OK to CAPA, RETR, TOP, and LIST, UIDL or AUTH without an
// argument. A +OK to STLS gives Upgraded, with the offsets right after the
// STLS line and after the +OK line; -ERR gives Plaintext with the response
// as Reason, and a later STLS is still found. Upgraded is withdrawn
// (Plaintext) when a side's first byte after its offset cannot start a TLS
// or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	notThis := func(reason string) protocols.Recognition { return plaintext.NotThis(Name, reason) }
	if !serverShape(s2c) {
		return notThis("server does not greet with +OK or -ERR")
	}
	if !clientShape(c2s) {
		return notThis("client does not start with a POP3 command")
	}
	greeting, spos, ok := wireLine(s2c, 0)
	if _, _, cok := wireLine(c2s, 0); !ok || !cok {
		return rec
	}
	if _, ok, _ := status(greeting); !ok {
		return notThis("server does not greet with +OK or -ERR")
	}
	rec.State, rec.Reason = protocols.Plaintext, "no STLS yet"
	if g, _, _ := status(greeting); !g {
		rec.Reason = "server refused the connection: " + plaintext.Sanitize(greeting)
	}

	for cpos := 0; cpos < len(c2s); {
		line, next, ok := wireLine(c2s, cpos)
		if !ok {
			break
		}
		cpos = next
		verb, arg, _ := strings.Cut(string(line), " ")
		verb = strings.ToUpper(verb)
		resp, snext, ok := wireLine(s2c, spos)
		if !ok {
			if verb == "STLS" {
				rec.State, rec.Reason = protocols.NeedMore, ""
			}
			return rec
		}
		good, isStatus, cont := status(resp)
		if !isStatus && !cont {
			return rec // out of step: nothing more can be paired
		}
		spos = snext
		if verb == "STLS" {
			if good {
				return plaintext.Upgraded(Name, "STLS", c2s, s2c, cpos, spos)
			}
			rec.Reason = "STLS refused: " + plaintext.Sanitize(resp)
			continue
		}
		if good && multiline(verb, strings.TrimSpace(arg)) {
			// RFC 1939 §3: the body ends with a line holding a single ".".
			if spos, ok = plaintext.SkipBody(s2c, spos); !ok {
				return rec
			}
		}
	}
	return rec
}

// multiline reports whether a +OK to the command is followed by a
// dot-terminated body.
func multiline(verb, arg string) bool {
	switch verb {
	case "CAPA", "RETR", "TOP":
		return true
	case "LIST", "UIDL":
		return arg == ""
	case "AUTH":
		// RFC 1734 had no mechanism list; many servers answer a bare
		// AUTH with one, dot-terminated.
		return arg == ""
	}
	return false
}

// status classifies a response line: +OK (good), -ERR, or a SASL
// continuation "+ …" (RFC 5034 §4).
func status(line []byte) (good, isStatus, continuation bool) {
	switch {
	case hasWord(line, "+OK"):
		return true, true, false
	case hasWord(line, "-ERR"):
		return false, true, false
	case len(line) >= 1 && line[0] == '+' && (len(line) == 1 || line[1] == ' '):
		return false, false, true
	}
	return false, false, false
}

// hasWord reports whether line starts with word (any case) followed by a
// space or the end of the line.
func hasWord(line []byte, word string) bool {
	return len(line) >= len(word) && bytes.EqualFold(line[:len(word)], []byte(word)) &&
		(len(line) == len(word) || line[len(word)] == ' ')
}

// serverShape reports whether s2c (possibly empty or partial) can start
// with a POP3 greeting.
func serverShape(s2c []byte) bool { return plaintext.MayStartWith(s2c, "+OK", "-ERR") }

// clientShape reports whether c2s (possibly empty or partial) can start
// with a POP3 command.
func clientShape(c2s []byte) bool {
	if len(c2s) > maxWireLine && bytes.IndexByte(c2s[:maxWireLine], '\n') < 0 {
		return false
	}
	head := c2s[:min(len(c2s), 8)]
	end := bytes.IndexAny(head, " \r\n")
	if end < 0 {
		u := strings.ToUpper(string(head))
		for c := range commands {
			if strings.HasPrefix(c, u) {
				return true
			}
		}
		return false
	}
	return commands[strings.ToUpper(string(head[:end]))]
}

// wireLine is plaintext.WireLine bounded by maxWireLine.
func wireLine(b []byte, pos int) ([]byte, int, bool) { return plaintext.WireLine(b, pos, maxWireLine) }
