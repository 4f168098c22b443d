// Package plaintext holds what the line-based plaintext dialogues (SMTP,
// IMAP, POP3 …) share, in both directions: for Upgrade a line reader that
// never reads past the line it returns and a session that bounds one
// dialogue by deadline and context; for Recognize the wire-line helpers
// (wire.go). None of it is part of the protocols contract: a binary
// dialogue (LDAP, PostgreSQL, RDP) need not use it.
package plaintext

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// LineReader reads CRLF (or bare LF) terminated lines and never reads a
// byte past the end of the line it returns, so that after the last reply
// of the plaintext dialogue the connection is positioned exactly at the
// first byte of the TLS handshake. On a net.Conn that costs one read call a
// byte; the dialogue is a few hundred bytes. Give it an io.ByteReader (a
// bufio.Reader) where over-reading does not matter.
type LineReader struct {
	r       io.Reader
	br      io.ByteReader // nil: read r one byte at a time
	max     int
	tooLong error
	n       int64 // bytes read so far
	one     [1]byte
	buf     []byte
}

func NewLineReader(r io.Reader, max int, tooLong error) *LineReader {
	lr := &LineReader{r: r, max: max, tooLong: tooLong}
	lr.br, _ = r.(io.ByteReader)
	return lr
}

func (lr *LineReader) ReadByte() (byte, error) {
	if lr.br != nil {
		c, err := lr.br.ReadByte()
		if err == nil {
			lr.n++
		}
		return c, err
	}
	for {
		n, err := lr.r.Read(lr.one[:])
		if n == 1 {
			lr.n++
			return lr.one[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// ReadLine returns the next line without its line ending. A line of more
// than max bytes (line ending included) fails with lr.tooLong as soon as
// the limit is passed; nothing beyond it is read. End of stream inside a
// line is io.ErrUnexpectedEOF; before it, io.EOF.
func (lr *LineReader) ReadLine() (string, error) {
	lr.buf = lr.buf[:0]
	for {
		c, err := lr.ReadByte()
		if err != nil {
			if err == io.EOF && len(lr.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if c == '\n' {
			b := lr.buf
			if len(b) > 0 && b[len(b)-1] == '\r' {
				b = b[:len(b)-1]
			}
			return string(b), nil
		}
		if len(lr.buf)+1 >= lr.max {
			return "", lr.tooLong
		}
		lr.buf = append(lr.buf, c)
	}
}

// Session bounds one dialogue on conn: a deadline (the earlier of ctx's and
// now+timeout), and ctx's cancellation closing conn (context.AfterFunc),
// which unblocks any read or write at once. R reads the server's lines,
// at most opts.MaxLine bytes each (protocols.ErrLineTooLong beyond).
type Session struct {
	R *LineReader

	ctx      context.Context
	conn     net.Conn
	deadline time.Time
	stop     func() bool
}

// Start begins a session on conn.
func Start(ctx context.Context, conn net.Conn, opts protocols.Options) *Session {
	deadline := time.Now().Add(opts.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	return &Session{R: NewLineReader(conn, opts.MaxLine, protocols.ErrLineTooLong), ctx: ctx, conn: conn, deadline: deadline, stop: stop}
}

// Run runs one dialogue of protocol name on conn as a Session: opts (with
// defaults filled in by the caller) bound it, and a context that ends
// while dialogue runs turns its success into an *Error of lastStage.
func Run(ctx context.Context, conn net.Conn, name, lastStage string, opts protocols.Options,
	dialogue func(*Session) (*protocols.Dialogue, error)) (*protocols.Dialogue, error) {
	s := Start(ctx, conn, opts)
	d, err := dialogue(s)
	if !s.End() && err == nil {
		err = &protocols.Error{Protocol: name, Stage: lastStage, Err: context.Cause(ctx)}
	}
	return d, err
}

// Send writes one command line, terminated by CRLF.
func (s *Session) Send(line string) error {
	_, err := io.WriteString(s.conn, line+"\r\n")
	return err
}

// Pause waits d, or less when ctx ends first (false then), or the
// session's deadline comes first (false too): a short wait before a
// request is sent again.
func (s *Session) Pause(d time.Duration) bool {
	if time.Until(s.deadline) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// Write writes b as it is: a binary dialogue's request.
func (s *Session) Write(b []byte) error {
	_, err := s.conn.Write(b)
	return err
}

// Deadline is the session's deadline: a side request made within the
// dialogue (a probe on a connection of its own) is bounded by it too.
func (s *Session) Deadline() time.Time { return s.deadline }

// Conn is the session's connection, for a binary dialogue that reads its
// messages whole (and never past them) instead of through R.
func (s *Session) Conn() net.Conn { return s.conn }

// End detaches the session from conn: it clears the deadline and reports
// false when ctx's cancellation has closed the connection.
func (s *Session) End() bool {
	if !s.stop() {
		return false
	}
	_ = s.conn.SetDeadline(time.Time{})
	return true
}

// IOError turns a read or write failure into the error to report: the
// context's cause when the context ended the dialogue, "connection closed"
// for an EOF.
func (s *Session) IOError(err error) error {
	if s.ctx.Err() != nil {
		return context.Cause(s.ctx)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errConnClosed{err}
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errTimeout{err}
	}
	return err
}

// errTimeout is the dialogue's deadline passing.
type errTimeout struct{ err error }

func (e errTimeout) Error() string { return "timed out waiting for the server" }
func (e errTimeout) Unwrap() error { return e.err }

// errConnClosed is the server closing the connection mid-dialogue.
type errConnClosed struct{ err error }

func (e errConnClosed) Error() string { return "connection closed by the server" }
func (e errConnClosed) Unwrap() error { return e.err }

// Quit politely ends a dialogue that will not upgrade: it sends cmd and
// waits a little for the reply (a line, or the server closing the
// connection, as after an LDAP UnbindRequest), ignoring any failure.
func (s *Session) Quit(cmd string) {
	if s.ctx.Err() != nil {
		return
	}
	if _, err := io.WriteString(s.conn, cmd); err != nil {
		return
	}
	// Wait at most a second for the goodbye, and never past the
	// session's deadline.
	if d := time.Now().Add(time.Second); d.Before(s.deadline) {
		_ = s.conn.SetReadDeadline(d)
	}
	_, _ = s.R.ReadLine()
}

// Software is one entry of a protocol's table of server software: a phrase
// of banners (lower case, matched as whole words) and the name it reveals.
type Software struct{ Needle, Name string }

// GuessSoftware names the server software text reveals, by the first entry
// of known (most specific first) whose needle occurs in text as whole
// words, ignoring case; "" when none does.
func GuessSoftware(known []Software, text string) string {
	lower := strings.ToLower(text)
	for _, k := range known {
		if containsWords(lower, k.Needle) {
			return k.Name
		}
	}
	return ""
}

// containsWords reports whether needle occurs in s between word
// boundaries (so "exim" does not match "maximum").
func containsWords(s, needle string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], needle)
		if i < 0 {
			return false
		}
		start, end := off+i, off+i+len(needle)
		if (start == 0 || !isWordByte(s[start-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		off = start + 1
	}
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
