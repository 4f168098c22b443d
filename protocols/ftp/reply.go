package ftp

import (
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// reply is one FTP reply (RFC 959 §4.2).
type reply struct {
	code  int
	lines []string // the lines as sent, without line endings
	bad   string   // the malformed line, with ErrMalformed
}

// String is the reply's lines joined with "\n", for Error.Reply.
func (r reply) String() string { return strings.Join(r.lines, "\n") }

// text is the reply's text without codes: the first line's after the
// code, the inner lines as they are (a leading space trimmed), the last
// line's after its code.
func (r reply) text() string {
	var out []string
	for i, l := range r.lines {
		switch {
		case i == 0 || i == len(r.lines)-1 && len(l) >= 3 && isCode(l[:3]):
			if len(l) > 4 {
				out = append(out, l[4:])
			}
		default:
			out = append(out, strings.TrimPrefix(l, " "))
		}
	}
	return strings.Join(out, "\n")
}

// readReply reads one reply: "ddd text" or "ddd" alone, or a multi-line
// reply "ddd-text", inner lines of any text, and a last line starting
// with the same code and a space (RFC 959 §4.2). More than maxLines lines
// is protocols.ErrTooManyLines.
func readReply(lr *plaintext.LineReader, maxLines int) (reply, error) {
	var r reply
	line, err := lr.ReadLine()
	if err != nil {
		return r, err
	}
	code, more, ok := parseFirstLine(line)
	if !ok {
		r.bad = line
		return r, protocols.ErrMalformed
	}
	r.code, r.lines = code, []string{line}
	for more {
		if len(r.lines) >= maxLines {
			return r, protocols.ErrTooManyLines
		}
		if line, err = lr.ReadLine(); err != nil {
			return r, err
		}
		r.lines = append(r.lines, line)
		more = !endsReply(line, line[:min(len(line), 3)] == r.lines[0][:3])
	}
	return r, nil
}

// parseFirstLine reads the code of a reply's first line and whether the
// reply goes on (a '-' after the code). The code's first digit is 1 to 5
// (RFC 959 §4.2.1).
func parseFirstLine(line string) (code int, more, ok bool) {
	if len(line) < 3 || line[0] < '1' || line[0] > '5' || !isCode(line[:3]) {
		return 0, false, false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	switch {
	case len(line) == 3, line[3] == ' ':
		return code, false, true
	case line[3] == '-':
		return code, true, true
	}
	return 0, false, false
}

// endsReply reports whether a line of a multi-line reply is its last:
// the reply's code (sameCode) followed by a space, or alone.
func endsReply(line string, sameCode bool) bool {
	return sameCode && (len(line) == 3 || line[3] == ' ')
}

func isCode(s string) bool {
	return len(s) == 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
