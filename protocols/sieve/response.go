package sieve

import (
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// response is one ManageSieve response (RFC 5804 §4): data lines (each a
// list of strings: the capability name and its value) then the status
// line OK, NO or BYE with an optional response code and text.
type response struct {
	data   [][]string
	status string // "OK", "NO" or "BYE", upper case
	code   string // the response code without parentheses ("TRYLATER")
	line   string // the status line as sent
	bad    string // the malformed line, with ErrMalformed
}

// String is the status line, for Error.Reply.
func (r response) String() string { return r.line }

// readResponse reads data lines until the status line. A data line is a
// sequence of strings separated by spaces: quoted ("…", with \" and \\,
// RFC 5804 §4) or literal ({n} or {n+} ending the line, then n bytes; the
// line goes on after them). More than maxLines lines is
// protocols.ErrTooManyLines; a literal longer than maxLit is
// protocols.ErrLineTooLong.
func readResponse(lr *plaintext.LineReader, maxLines, maxLit int) (response, error) {
	var r response
	for n := 0; ; n++ {
		if n >= maxLines {
			return r, protocols.ErrTooManyLines
		}
		line, err := lr.ReadLine()
		if err != nil {
			return r, err
		}
		if st, rest, ok := statusWord(line); ok {
			r.status, r.line = st, line
			if strings.HasPrefix(rest, "(") {
				if end := strings.IndexByte(rest, ')'); end > 0 {
					r.code, _, _ = strings.Cut(rest[1:end], " ")
					r.code = strings.ToUpper(r.code)
				}
			}
			return r, nil
		}
		var strs []string
		for {
			s, lit, ok := parseStrings(line, strs)
			strs = s
			if !ok {
				r.bad = line
				return r, protocols.ErrMalformed
			}
			if lit < 0 {
				break
			}
			// RFC 5804 §4: a literal's n octets follow the CRLF.
			if lit > maxLit {
				return r, protocols.ErrLineTooLong
			}
			b := make([]byte, lit)
			for i := range b {
				if b[i], err = lr.ReadByte(); err != nil {
					return r, err
				}
			}
			strs = append(strs, string(b))
			if n++; n >= maxLines {
				return r, protocols.ErrTooManyLines
			}
			if line, err = lr.ReadLine(); err != nil {
				return r, err
			}
		}
		r.data = append(r.data, strs)
	}
}

// statusWord reports whether line is a status line (RFC 5804 §4:
// "OK" / "NO" / "BYE", then a space or the end) and returns what follows.
func statusWord(line string) (status, rest string, ok bool) {
	word, rest, _ := strings.Cut(line, " ")
	switch w := strings.ToUpper(word); w {
	case "OK", "NO", "BYE":
		return w, rest, true
	}
	return "", "", false
}

// parseStrings appends the strings of line to strs. It stops at a literal
// announcement ending the line and returns its length (lit >= 0), or -1
// when the line is done. ok is false for anything else.
func parseStrings(line string, strs []string) (_ []string, lit int, ok bool) {
	for i := 0; ; {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			return strs, -1, len(strs) > 0 || i > 0
		}
		switch line[i] {
		case '"':
			var sb strings.Builder
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' {
					if j+1 == len(line) || line[j+1] != '"' && line[j+1] != '\\' {
						return strs, 0, false
					}
					j++
				}
				sb.WriteByte(line[j])
			}
			if j == len(line) {
				return strs, 0, false
			}
			strs = append(strs, sb.String())
			i = j + 1
		case '{':
			end := strings.IndexByte(line[i:], '}')
			if end < 0 || i+end != len(line)-1 {
				return strs, 0, false
			}
			num := strings.TrimSuffix(line[i+1:i+end], "+")
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || num == "" || num[0] == '+' {
				return strs, 0, false
			}
			return strs, n, true
		default:
			return strs, 0, false
		}
		if i < len(line) && line[i] != ' ' {
			return strs, 0, false
		}
	}
}
