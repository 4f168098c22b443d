package plaintext

import (
	"bytes"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/tls"
)

// WireLine returns the line of a captured stream starting at pos (without
// its line ending), the offset after its LF, and whether a LF was found
// within max bytes. A line holding a control character other than TAB and
// CR is treated as incomplete: it is not text, so nothing after it is
// parsed.
func WireLine(b []byte, pos, max int) (line []byte, next int, ok bool) {
	rest := b[pos:]
	if len(rest) > max {
		rest = rest[:max]
	}
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		return nil, pos, false
	}
	line = rest[:i]
	for _, c := range line {
		if c < 0x20 && c != '\t' && c != '\r' || c == 0x7f {
			return nil, pos, false
		}
	}
	return bytes.TrimRight(line, "\r"), pos + i + 1, true
}

// BodyLine returns the next line of a message body (SMTP DATA, a POP3
// multi-line response): any bytes up to a LF, bounded only by the stream.
func BodyLine(b []byte, pos int) (line []byte, next int, ok bool) {
	i := bytes.IndexByte(b[pos:], '\n')
	if i < 0 {
		return nil, pos, false
	}
	return b[pos : pos+i], pos + i + 1, true
}

// SkipBody skips a dot-terminated body (RFC 5321 §4.1.1.4, RFC 1939 §3)
// starting at pos and returns the offset after its "." line; ok is false
// when the body does not end within b.
func SkipBody(b []byte, pos int) (next int, ok bool) {
	for {
		l, n, ok := BodyLine(b, pos)
		if !ok {
			return pos, false
		}
		pos = n
		if string(bytes.TrimRight(l, "\r")) == "." {
			return pos, true
		}
	}
}

// Sanitize makes a wire line fit for a Reason: printable, at most 200
// bytes.
func Sanitize(line []byte) string {
	return protocols.QuoteReply(string(bytes.TrimRight(line, "\r")))
}

// NotThis is the recognition of a flow that is not protocol name.
func NotThis(name, reason string) protocols.Recognition {
	return protocols.Recognition{Protocol: name, State: protocols.NotThis, Reason: reason}
}

// Upgraded checks that what follows each offset can be TLS (tls.MaybeTLS:
// a hello or an alert record, an SSLv2 record, or too few bytes yet to
// tell) before calling the flow of protocol name Upgraded. Otherwise the
// flow stays Plaintext: verb (the protocol's word for it, "STARTTLS",
// "STLS") was accepted but a side went on in plaintext.
func Upgraded(name, verb string, c2s, s2c []byte, co, so int) protocols.Recognition {
	if co < len(c2s) && !tls.MaybeTLS(c2s[co:]) {
		return protocols.Recognition{Protocol: name, State: protocols.Plaintext, Reason: verb + " accepted but the client went on in plaintext"}
	}
	if so < len(s2c) && !tls.MaybeTLS(s2c[so:]) {
		return protocols.Recognition{Protocol: name, State: protocols.Plaintext, Reason: verb + " accepted but the server went on in plaintext"}
	}
	return protocols.Recognition{Protocol: name, State: protocols.Upgraded, ClientOffset: co, ServerOffset: so}
}

// MayStartWith reports whether b (possibly empty or partial) can start
// with one of words, in any case, followed by a space or a line end: the
// shape of a greeting ("* OK", "+OK") before it is complete.
func MayStartWith(b []byte, words ...string) bool {
	for _, w := range words {
		n := min(len(b), len(w))
		if !bytes.EqualFold(b[:n], []byte(w[:n])) {
			continue
		}
		if len(b) <= len(w) {
			return true
		}
		switch b[len(w)] {
		case ' ', '\r', '\n':
			return true
		}
	}
	return false
}

// Commands is the set of words a protocol's client may open with, for a
// recogniser's first look at the client's stream: another protocol's
// first word (HTTP's GET, SMTP's EHLO) is not one of them.
type Commands struct {
	set     map[string]bool
	longest int
}

// NewCommands makes the set of the whitespace-separated words (upper
// case).
func NewCommands(words string) Commands {
	c := Commands{set: map[string]bool{}}
	for _, w := range strings.Fields(words) {
		c.set[w] = true
		c.longest = max(c.longest, len(w))
	}
	return c
}

// Start reports whether b (possibly empty or partial) can be the start of
// a client's stream: its first word, ended by a space or a line end, is
// one of the commands (in any case), or, while it is still incomplete, a
// prefix of one. end is where the first word ends, -1 while it is
// incomplete.
func (c Commands) Start(b []byte) (end int, ok bool) {
	head := b[:min(len(b), c.longest+1)]
	if end = bytes.IndexAny(head, " \r\n"); end >= 0 {
		return end, c.set[strings.ToUpper(string(head[:end]))]
	}
	if len(head) > c.longest {
		return -1, false
	}
	for w := range c.set {
		if len(head) <= len(w) && strings.EqualFold(string(head), w[:len(head)]) {
			return -1, true
		}
	}
	return -1, false
}
