package irc

import "strings"

// message is one IRC message (RFC 2812 §2.3.1), its IRCv3 tags dropped.
type message struct {
	line    string   // as sent, without its line ending
	prefix  string   // the prefix without ':' ("irc.example.net", "nick!user@host"), or ""
	command string   // upper case: "NOTICE", "CAP", "670"
	params  []string // the last one is the trailing parameter when sent after ':'
}

// trailing is the message's last parameter, or "".
func (m message) trailing() string {
	if len(m.params) == 0 {
		return ""
	}
	return m.params[len(m.params)-1]
}

// parseMessage parses one line: optional IRCv3 tags ("@a=b;c "), an
// optional prefix (":name "), then the command — letters, or three digits
// (RFC 2812 §2.3.1) — and its parameters, separated by one or more
// spaces, the last one after ':' taking the rest of the line.
func parseMessage(line string) (message, bool) {
	m := message{line: line}
	rest := line
	var ok bool
	if strings.HasPrefix(rest, "@") {
		// IRCv3 message tags: up to the first space.
		if _, rest, ok = strings.Cut(rest, " "); !ok {
			return m, false
		}
		rest = strings.TrimLeft(rest, " ")
	}
	if strings.HasPrefix(rest, ":") {
		if m.prefix, rest, ok = strings.Cut(rest[1:], " "); !ok || m.prefix == "" {
			return m, false
		}
		rest = strings.TrimLeft(rest, " ")
	}
	m.command, rest, _ = strings.Cut(rest, " ")
	if !validCommand(m.command) {
		return m, false
	}
	m.command = strings.ToUpper(m.command)
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return m, true
		}
		if rest[0] == ':' {
			m.params = append(m.params, rest[1:])
			return m, true
		}
		var p string
		p, rest, _ = strings.Cut(rest, " ")
		m.params = append(m.params, p)
	}
}

// validCommand reports whether c is a command (1 to 32 letters) or a
// numeric reply (three digits).
func validCommand(c string) bool {
	if len(c) == 3 && isDigit(c[0]) && isDigit(c[1]) && isDigit(c[2]) {
		return true
	}
	if len(c) == 0 || len(c) > 32 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isLetter(c[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// bareCommands are the commands a server sends without a prefix: RFC
// 1459's "NOTICE AUTH", PING, ERROR, IRCv3's CAP and AUTHENTICATE, and
// the opening of a server link (PASS, CAPAB, SERVER, PROTOCTL). Any other
// message of a server has a prefix: a line without one that is none of
// these is not IRC.
var bareCommands = map[string]bool{}

func init() {
	for _, c := range strings.Fields("NOTICE PING PONG ERROR CAP AUTHENTICATE PASS CAPAB SERVER PROTOCTL") {
		bareCommands[c] = true
	}
}

// fromServer reports whether m can be a server's message: it has a
// prefix, or its command is one servers send without one.
func (m message) fromServer() bool { return m.prefix != "" || bareCommands[m.command] }

// serverName is the prefix when it names a server (no nick!user@host).
func (m message) serverName() string {
	if strings.ContainsAny(m.prefix, "!@") {
		return ""
	}
	return m.prefix
}
