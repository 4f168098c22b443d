package nntp

import (
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// response is one NNTP response (RFC 3977 §3.2): the initial line and,
// for the codes that have one, the lines of its data block.
type response struct {
	code int
	line string   // the initial line, as sent
	data []string // the data block's lines, unstuffed, without the "." terminator
}

// text is the initial line's text after the code and one space.
func (r response) text() string {
	if len(r.line) > 4 {
		return r.line[4:]
	}
	return ""
}

// parseStatus reads the code of an initial response line: three digits,
// the first 1 to 5 (RFC 3977 §3.2), then a space or the end of the line.
func parseStatus(line string) (int, bool) {
	if len(line) < 3 || line[0] < '1' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2]) ||
		len(line) > 3 && line[3] != ' ' {
		return 0, false
	}
	return int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0'), true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// readResponse reads one response: its initial line and, when multi
// says the code has one, its data block (RFC 3977 §3.1.1: lines ended by
// a line holding a single "."; a line starting with "." had one more
// prepended). More than maxLines lines in the block is
// protocols.ErrTooManyLines; a line that is no status line is
// protocols.ErrMalformed (r.line holds it).
func readResponse(lr *plaintext.LineReader, maxLines int, multi func(code int) bool) (response, error) {
	var r response
	line, err := lr.ReadLine()
	if err != nil {
		return r, err
	}
	r.line = line
	code, ok := parseStatus(line)
	if !ok {
		return r, protocols.ErrMalformed
	}
	r.code = code
	if !multi(code) {
		return r, nil
	}
	for {
		line, err := lr.ReadLine()
		if err != nil {
			return r, err
		}
		if line == "." {
			return r, nil
		}
		if len(r.data) >= maxLines {
			return r, protocols.ErrTooManyLines
		}
		r.data = append(r.data, strings.TrimPrefix(line, "."))
	}
}
