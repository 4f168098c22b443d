package irc

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line Recognize waits for before deciding the
// stream is not IRC: DefaultMaxLine, RFC 1459 §2.3's 512 bytes and the
// IRCv3 message tags.
const maxWireLine = DefaultMaxLine

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are IRC, and where they switch
// to TLS. The client's first line must be an IRC command (CAP, STARTTLS,
// NICK, USER, PASS …, RFC 2812 §3); the server's first line a message
// with a prefix, or one of the commands servers send without one (NOTICE
// AUTH, PING, ERROR, CAP). The server does not answer in lock-step — it
// may talk first, and NOTICEs and PINGs come at any time — so each
// client STARTTLS is paired with the server's next answer to one, in
// order: 670 (RPL_STARTTLS) gives Upgraded, with the offsets right after
// the STARTTLS line and after the 670 line; 691 (ERR_STARTTLS), or 421
// and 451 naming STARTTLS, give Plaintext with the reply as Reason, and a
// later STARTTLS is still found. Upgraded is withdrawn (Plaintext) when a
// side's first byte after its offset cannot start a TLS or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	if !serverShape(s2c) {
		return plaintext.NotThis(Name, "server does not speak like IRC")
	}
	if !clientShape(c2s) {
		return plaintext.NotThis(Name, "client does not send IRC commands")
	}
	first, _, sok := wireLine(s2c, 0)
	if sok {
		if m, ok := parseMessage(string(first)); !ok || !m.fromServer() {
			return plaintext.NotThis(Name, "server does not speak like IRC")
		}
	}
	if _, _, cok := wireLine(c2s, 0); !sok || !cok {
		return rec
	}
	rec.State, rec.Reason = protocols.Plaintext, "no STARTTLS yet"
	spos := 0
	for cpos := 0; cpos < len(c2s); {
		line, next, ok := wireLine(c2s, cpos)
		if !ok {
			break
		}
		cpos = next
		if m, ok := parseMessage(string(line)); !ok || m.command != "STARTTLS" {
			continue
		}
		ans, snext, found := nextAnswer(s2c, spos)
		if !found {
			if _, _, more := wireLine(c2s, cpos); !more {
				// Awaiting the answer (the client's TLS may follow).
				rec.State, rec.Reason = protocols.NeedMore, ""
				return rec
			}
			rec.Reason = "STARTTLS unanswered; the client went on in plaintext"
			continue
		}
		spos = snext
		switch ans.command {
		case "670":
			return plaintext.Upgraded(Name, "STARTTLS", c2s, s2c, cpos, spos)
		case "ERROR":
			rec.Reason = "the server closed the link: " + plaintext.Sanitize([]byte(ans.line))
			return rec
		}
		rec.Reason = "STARTTLS refused: " + plaintext.Sanitize([]byte(ans.line))
	}
	if rec.Reason == "no STARTTLS yet" {
		if m, ok := findError(s2c, spos); ok {
			rec.Reason = "the server closed the link: " + plaintext.Sanitize([]byte(m.line))
		}
	}
	return rec
}

// nextAnswer finds, from pos, the server's next answer to a STARTTLS: 670,
// 691, a 421 or 451 naming STARTTLS, or an ERROR (the link closes). It
// returns it and the offset after its line; found is false when the
// complete lines from pos hold none (a line that is no IRC message ends
// the search).
func nextAnswer(s2c []byte, pos int) (m message, next int, found bool) {
	for {
		line, n, ok := wireLine(s2c, pos)
		if !ok {
			return m, pos, false
		}
		pos = n
		if len(line) == 0 {
			continue
		}
		if m, ok = parseMessage(string(line)); !ok {
			return m, pos, false
		}
		switch m.command {
		case "670", "691", "ERROR":
			return m, pos, true
		case "421", "451":
			if len(m.params) >= 2 && strings.EqualFold(m.params[1], "STARTTLS") {
				return m, pos, true
			}
		}
	}
}

// findError finds an ERROR among the server's complete lines from pos.
func findError(s2c []byte, pos int) (message, bool) {
	for {
		line, n, ok := wireLine(s2c, pos)
		if !ok {
			return message{}, false
		}
		pos = n
		if m, ok := parseMessage(string(line)); ok && m.command == "ERROR" {
			return m, true
		}
	}
}

// serverShape reports whether s2c (possibly empty or partial) can start
// with a server's message: tags, a prefix, or a command servers send
// without one.
func serverShape(s2c []byte) bool {
	if len(s2c) > maxWireLine && bytes.IndexByte(s2c[:maxWireLine], '\n') < 0 {
		return false
	}
	if len(s2c) > 0 && (s2c[0] == ':' || s2c[0] == '@') {
		return true
	}
	return plaintext.MayStartWith(s2c, "NOTICE", "PING", "ERROR", "CAP", "AUTHENTICATE", "PASS", "CAPAB", "SERVER", "PROTOCTL")
}

// commands are the IRC commands a client may open with — registration's
// (RFC 2812 §3.1), IRCv3's CAP, AUTHENTICATE and STARTTLS, WEBIRC, a
// server link's (RFC 2813 §4.1, and the CAPAB and PROTOCTL of its
// dialects) and the common ones of a registered session — so that another
// protocol's first word (SMTP's EHLO, HTTP's GET) is not taken for IRC.
var commands = plaintext.NewCommands(`CAP STARTTLS NICK USER PASS PING PONG QUIT AUTHENTICATE WEBIRC SERVER CAPAB
		PROTOCTL SVINFO SERVICE OPER MODE JOIN PART PRIVMSG NOTICE TOPIC NAMES LIST WHO WHOIS WHOWAS ISON
		USERHOST AWAY MOTD LUSERS VERSION STATS LINKS TIME ADMIN INFO`)

// clientShape reports whether c2s (possibly empty or partial) can be the
// start of an IRC client's stream: its first word is a command, or a
// prefix of one while the word is still incomplete.
func clientShape(c2s []byte) bool {
	_, ok := commands.Start(c2s)
	return ok
}

// formatting are the control characters IRC text carries (CTCP's 0x01;
// bold, colour, hex colour, reset, monospace, reverse, italic,
// strikethrough, underline): a line holding them is still text.
const formatting = "\x01\x02\x03\x04\x0f\x11\x16\x1d\x1e\x1f"

// wireLine returns the line of a captured stream starting at pos (without
// its line ending), the offset after its LF, and whether a LF was found
// within maxWireLine bytes. As plaintext.WireLine, a line holding a
// control character is taken as incomplete — but for TAB, CR and IRC's
// formatting characters.
func wireLine(b []byte, pos int) (line []byte, next int, ok bool) {
	rest := b[pos:]
	if len(rest) > maxWireLine {
		rest = rest[:maxWireLine]
	}
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		return nil, pos, false
	}
	line = rest[:i]
	for _, c := range line {
		if c < 0x20 && c != '\t' && c != '\r' && strings.IndexByte(formatting, c) < 0 || c == 0x7f {
			return nil, pos, false
		}
	}
	return bytes.TrimRight(line, "\r"), pos + i + 1, true
}
