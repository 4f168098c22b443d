package imap

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line Recognize waits for before deciding the
// stream is not IMAP. RFC 7162 §4 recommends clients accept lines of 8 KiB;
// greetings and the commands before STARTTLS are far shorter.
const maxWireLine = 8192

// commands are the IMAP commands a client may send (RFC 3501 §6, RFC 9051
// §6 and common extensions). A client's first command must be one of
// them, which tells IMAP from other line protocols that a tagged line
// would otherwise fit ("GET / HTTP/1.1").
var commands = map[string]bool{
	"CAPABILITY": true, "NOOP": true, "LOGOUT": true, "STARTTLS": true, "AUTHENTICATE": true,
	"LOGIN": true, "SELECT": true, "EXAMINE": true, "CREATE": true, "DELETE": true, "RENAME": true,
	"SUBSCRIBE": true, "UNSUBSCRIBE": true, "LIST": true, "LSUB": true, "NAMESPACE": true,
	"STATUS": true, "APPEND": true, "IDLE": true, "CHECK": true, "CLOSE": true, "UNSELECT": true,
	"EXPUNGE": true, "SEARCH": true, "FETCH": true, "STORE": true, "COPY": true, "MOVE": true,
	"UID": true, "ENABLE": true, "ID": true, "COMPRESS": true, "GETQUOTA": true,
	"GETQUOTAROOT": true, "SETQUOTA": true, "GETACL": true, "SETACL": true, "MYRIGHTS": true,
	"LISTRIGHTS": true, "DELETEACL": true, "XLIST": true, "GETMETADATA": true,
	"SETMETADATA": true, "SORT": true, "THREAD": true,
}

// greetings are the three greetings of RFC 3501 §7.1.
var greetings = []string{"* OK", "* PREAUTH", "* BYE"}

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are IMAP, and where they switch
// to TLS. The server must greet with "* OK", "* PREAUTH" or "* BYE"; the
// client's first line must be "tag SP command" with a known command. The
// client's tagged STARTTLS is matched with the server's tagged response of
// the same tag, in order (clients that reuse one tag for every command,
// as in "." tags, are paired by position among the commands of that tag);
// literals (RFC 3501 §4.3, RFC 7888) in either direction are skipped. A
// tagged OK gives Upgraded, with the offsets right after the STARTTLS line
// and after the OK line; NO or BAD gives Plaintext with the response as
// Reason, and a later STARTTLS is still found. Upgraded is withdrawn
// (Plaintext) when a side's first byte after its offset cannot start a TLS
// or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	notThis := func(reason string) protocols.Recognition { return plaintext.NotThis(Name, reason) }
	if !serverShape(s2c) {
		return notThis("server does not greet with * OK, * PREAUTH or * BYE")
	}
	cmds := parseLines(c2s)
	if !clientShape(c2s, cmds) {
		return notThis("client does not start with a tagged IMAP command")
	}
	resps := parseLines(s2c)
	if len(cmds) == 0 || len(resps) == 0 {
		return rec
	}
	rec.State, rec.Reason = protocols.Plaintext, "no STARTTLS yet"
	if bytes.EqualFold(resps[0].word, []byte("BYE")) {
		rec.Reason = "server said BYE: " + plaintext.Sanitize(resps[0].text)
	}

	// The n-th command with a tag is answered by the n-th tagged status
	// response with it.
	tagged := map[string][]wireLine{}
	for _, r := range resps {
		if isStatus(r.word) {
			tagged[string(r.tag)] = append(tagged[string(r.tag)], r)
		}
	}
	seen := map[string]int{}
	for _, c := range cmds {
		if !isCommand(c.word) || !validTag(c.tag) {
			continue // a SASL response or an IDLE's DONE: no tagged answer
		}
		n := seen[string(c.tag)]
		seen[string(c.tag)]++
		if !bytes.EqualFold(c.word, []byte("STARTTLS")) {
			continue
		}
		answers := tagged[string(c.tag)]
		if n >= len(answers) {
			rec.State, rec.Reason = protocols.NeedMore, ""
			return rec
		}
		r := answers[n]
		if !bytes.EqualFold(r.word, []byte("OK")) {
			rec.Reason = "STARTTLS refused: " + plaintext.Sanitize(r.text)
			continue
		}
		return plaintext.Upgraded(Name, "STARTTLS", c2s, s2c, c.end, r.end)
	}
	return rec
}

// serverShape reports whether s2c (possibly empty or partial) can start
// with an IMAP greeting.
func serverShape(s2c []byte) bool { return plaintext.MayStartWith(s2c, greetings...) }

// clientShape reports whether c2s (possibly empty or partial) can start
// with a tagged IMAP command.
func clientShape(c2s []byte, cmds []wireLine) bool {
	if len(c2s) == 0 {
		return true
	}
	if len(cmds) > 0 {
		return validTag(cmds[0].tag) && isCommand(cmds[0].word)
	}
	// No complete line yet: what there is must be a tag, and after the
	// first space a prefix of a command.
	if len(c2s) > maxWireLine {
		return false
	}
	tag, rest, spaced := bytes.Cut(c2s, []byte(" "))
	if !spaced {
		return validTag(tag)
	}
	if !validTag(tag) {
		return false
	}
	word, _, done := bytes.Cut(rest, []byte(" "))
	if w := bytes.TrimRight(word, "\r"); len(w) < len(word) {
		word, done = w, true
	}
	u := strings.ToUpper(string(word))
	for c := range commands {
		if done && c == u || !done && strings.HasPrefix(c, u) {
			return true
		}
	}
	return false
}

// validTag reports whether s is an IMAP tag: one or more ASTRING-CHARs
// other than "+" (RFC 3501 §9: tag = 1*<any ASTRING-CHAR except "+">).
func validTag(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return true
}

// isCommand reports whether word is one of commands, in any case.
func isCommand(word []byte) bool {
	var buf [16]byte
	if len(word) > len(buf) {
		return false
	}
	for i, c := range word {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	return commands[string(buf[:len(word)])]
}

// isStatus reports whether word is a tagged status: OK, NO or BAD.
func isStatus(word []byte) bool {
	return bytes.EqualFold(word, []byte("OK")) || bytes.EqualFold(word, []byte("NO")) || bytes.EqualFold(word, []byte("BAD"))
}

// wireLine is one line (with any literals it announces) of either stream.
type wireLine struct {
	tag  []byte // first word
	word []byte // second word
	text []byte // the first line, without its line ending
	end  int    // offset after the line's LF (and after its literals)
}

// parseLines splits a stream into complete lines, skipping the literals
// they announce. It stops at the first incomplete line, at a line longer
// than maxWireLine and at one holding a control character other than TAB
// and CR (binary data: nothing after it is parsed).
func parseLines(b []byte) []wireLine {
	out := make([]wireLine, 0, bytes.Count(b, []byte("\n")))
	for pos := 0; pos < len(b); {
		var text []byte
		for {
			rest := b[pos:min(len(b), pos+maxWireLine)]
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				return out
			}
			line := bytes.TrimRight(rest[:i], "\r")
			for _, c := range line {
				if c < 0x20 && c != '\t' || c == 0x7f {
					return out
				}
			}
			if text == nil {
				text = line
			}
			pos += i + 1
			n, ok := literalSize(string(line))
			if !ok {
				break
			}
			if n > len(b)-pos {
				return out
			}
			pos += n
		}
		tag, rest, _ := bytes.Cut(text, []byte(" "))
		word, _, _ := bytes.Cut(rest, []byte(" "))
		out = append(out, wireLine{tag: tag, word: word, text: text, end: pos})
	}
	return out
}
