// Package logs reads the TLS evidence servers already keep in their logs
// — Exchange SMTP protocol logs, IIS W3C logs with the crypt-* fields,
// Postfix's "TLS connection established" lines, Dovecot's login lines,
// and nginx, Apache and HAProxy access logs in their configured format —
// and turns each connection or request into an evidence.Observation.
//
// One parser per format, detected from a file's first lines (or forced by
// Config.Format). Files are streamed line by line (plain, gzip or bzip2,
// "-" for standard input): memory does not grow with the size of a log,
// only with what the parsers must remember between lines (open Exchange
// sessions, Postfix processes between connect and disconnect), which is
// bounded. A line that does not parse is counted, with its reason and
// where the first one was, and reading goes on: a malformed line is never
// fatal.
package logs

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/tlsmap/tlsmap/evidence"
)

// Config configures a Reader. Zero values select the defaults.
type Config struct {
	// Format forces the format of every file; the zero Format detects
	// each file's from its first lines.
	Format Format
	// Balancers are the addresses of load balancers and proxies: a
	// client address among them is flagged (Observation.Balancer) unless
	// a forwarded-for header names the client behind it, and they are
	// skipped when reading a forwarded-for list from the right.
	Balancers []netip.Prefix
	// TLSHeader names a request header a TLS-terminating balancer sets to
	// the client's TLS version (X-SSL-Protocol), when the access log
	// format logs it ($http_x_ssl_protocol, %{X-SSL-Protocol}i).
	TLSHeader string
	// Since and Until keep the lines with Since ≤ time < Until (zero:
	// unbounded). Lines without a time are then left out and counted.
	Since, Until time.Time
	// Location is the zone of timestamps that carry none (syslog's
	// "Mar  1 12:00:00", HAProxy's %t); default time.Local.
	Location *time.Location
	// Now gives the current time, for the year of syslog timestamps that
	// have none; default time.Now.
	Now func() time.Time
	// MaxLineBytes caps a line's length (default 64 KiB); a longer line is
	// malformed.
	MaxLineBytes int
	// MaxSessions caps the connections a parser follows across lines at
	// once (Exchange sessions, Postfix processes; default 65536); beyond
	// it the oldest is concluded early.
	MaxSessions int
	// Stdin is read for the name "-" (default os.Stdin).
	Stdin io.Reader
}

// Defaults.
const (
	DefaultMaxLineBytes = 64 << 10
	DefaultMaxSessions  = 1 << 16
)

// Stats counts what a Reader read.
type Stats struct {
	Files []FileStats
	// Lines read, and Bytes (uncompressed, newlines included).
	Lines, Bytes int64
	// Malformed counts lines that did not parse as their file's format;
	// Reasons says why, with the first such line of each reason.
	Malformed int64
	Reasons   []MalformedReason
	// Observations counts the connections and requests found (before the
	// time filter); Filtered those outside Since–Until; Undated those
	// left out because they had no time while a range was given.
	Observations, Filtered, Undated int64
	// Unknown counts the observations of class unknown (TLS of a version
	// the log does not name, or a client whose own connection the log
	// does not show) by why, in words that say what to change: "dovecot:
	// TLS logins without a version: add %k to login_log_format_elements".
	Unknown map[string]int64
	// Incomplete counts connections concluded without their end (an
	// Exchange session or Postfix process still open at the end of the
	// input, or evicted for room).
	Incomplete int64
}

// FileStats counts one file.
type FileStats struct {
	Name   string
	Format string // as detected or forced: "exchange", "nginx:…"
	Lines  int64
	// Malformed lines, and Observations found, in this file.
	Malformed, Observations int64
	// Err is why the file could not be read (or not to its end); "" when
	// it was.
	Err string
}

// MalformedReason is one reason lines did not parse, how many, and where
// the first was.
type MalformedReason struct {
	Reason string
	Count  int64
	File   string
	Line   int64
}

// Reader reads log files into observations. Not safe for concurrent use.
type Reader struct {
	cfg     Config
	emit    func(*evidence.Observation)
	parsers map[Format]parser
	st      Stats
	reasons map[string]int // index into st.Reasons
	env     env
}

// NewReader returns a Reader handing each observation to emit, which must
// not keep the pointer (copy what it keeps).
func NewReader(cfg Config, emit func(*evidence.Observation)) *Reader {
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	r := &Reader{cfg: cfg, emit: emit, parsers: map[Format]parser{}, reasons: map[string]int{}}
	r.st.Unknown = map[string]int64{}
	r.env = env{r: r, interned: map[string]string{}, ciphers: map[string]evidence.Cipher{}}
	return r
}

// Stats returns the counts so far.
func (r *Reader) Stats() Stats {
	st := r.st
	st.Files = append([]FileStats(nil), r.st.Files...)
	st.Reasons = append([]MalformedReason(nil), r.st.Reasons...)
	st.Unknown = make(map[string]int64, len(r.st.Unknown))
	for k, v := range r.st.Unknown {
		st.Unknown[k] = v
	}
	return st
}

// Close concludes what the parsers still hold open (Exchange sessions
// without their disconnect line, …) and emits it. Call it once, after the
// last file.
func (r *Reader) Close() {
	for _, p := range r.parsers {
		r.env.fs = nil
		p.flush(&r.env)
	}
}

// ReadFile reads the named file ("-": Config.Stdin) to its end or until
// ctx is done. An error means the file could not be opened, its format
// could not be told, or reading it failed part-way (what was read
// counts); malformed lines are no error.
func (r *Reader) ReadFile(ctx context.Context, name string) error {
	if name == "-" {
		return r.Read(ctx, r.cfg.Stdin, "-")
	}
	f, err := os.Open(name)
	if err != nil {
		r.st.Files = append(r.st.Files, FileStats{Name: name, Err: err.Error()})
		return fmt.Errorf("logs: %w", err)
	}
	defer f.Close()
	return r.Read(ctx, f, name)
}

// errLineTooLong marks a line longer than MaxLineBytes.
var errLineTooLong = errors.New("line too long")

// Read reads one log from rd (gzip or bzip2 compressed, or plain); name
// is used in stats and messages.
func (r *Reader) Read(ctx context.Context, rd io.Reader, name string) error {
	r.st.Files = append(r.st.Files, FileStats{Name: name})
	fs := &r.st.Files[len(r.st.Files)-1]
	fail := func(err error) error {
		fs.Err = err.Error()
		return fmt.Errorf("logs: %s: %w", name, err)
	}
	br := bufio.NewReaderSize(rd, 64<<10)
	magic, _ := br.Peek(3)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fail(err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	case len(magic) >= 3 && string(magic) == "BZh":
		br = bufio.NewReaderSize(bzip2.NewReader(br), 64<<10)
	}
	// (Wrapped: NewReaderSize would hand back br itself, of another size.)
	lr := bufio.NewReaderSize(struct{ io.Reader }{br}, r.cfg.MaxLineBytes)

	format := r.cfg.Format
	if format.Kind == KindAuto {
		head, _ := lr.Peek(lr.Size())
		k, hint, ok := r.detect(head)
		if !ok {
			return fail(fmt.Errorf("%w: cannot tell the format from its first lines: %s", ErrFormat, hint))
		}
		format = Format{Kind: k}
	}
	fs.Format = format.String()
	p, err := r.parser(format)
	if err != nil {
		return fail(err)
	}
	r.env.fs = fs
	defer func() { r.env.fs = nil }()

	first := true
	for {
		line, err := readLine(lr)
		if len(line) > 0 || (err == nil || errors.Is(err, errLineTooLong)) {
			if fs.Lines&4095 == 0 {
				if cerr := ctx.Err(); cerr != nil {
					return cerr
				}
			}
			fs.Lines++
			r.st.Lines++
			r.st.Bytes += int64(len(line)) + 1
			r.env.lineNo = fs.Lines
			switch {
			case errors.Is(err, errLineTooLong):
				r.env.malformed(fmt.Sprintf("longer than %d bytes", r.cfg.MaxLineBytes))
			default:
				if first {
					line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
				}
				if reason := p.line(line, &r.env); reason != "" {
					r.env.malformed(reason)
				}
			}
			first = false
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fail(err)
		}
	}
}

// readLine returns the next line without its "\n" (and "\r"). A line
// longer than the buffer is skipped to its end and reported as
// errLineTooLong; the last line may lack its newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, errLineTooLong
	}
	if len(line) > 0 && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		return line, nil
	}
	if err == nil {
		err = io.EOF
	}
	return line, err
}

// parser returns the parser of a format, made on first use and kept
// across files (an Exchange session may span a log's rotation).
func (r *Reader) parser(f Format) (parser, error) {
	if p, ok := r.parsers[f]; ok {
		return p, nil
	}
	var p parser
	switch f.Kind {
	case KindExchange:
		p = newExchange(r.cfg.MaxSessions)
	case KindIIS:
		p = newIIS()
	case KindMaillog:
		p = newMaillog(r.cfg.MaxSessions)
	case KindNginx, KindApache, KindHAProxy:
		a, err := compileAccess(f.Kind, f.Pattern, r.cfg.TLSHeader)
		if err != nil {
			return nil, err
		}
		p = a
	default:
		return nil, fmt.Errorf("%w %q", ErrFormat, f.Kind)
	}
	r.parsers[f] = p
	return p, nil
}

// parser reads the lines of one format.
type parser interface {
	// line parses one line (without its newline) and emits what it finds
	// through e; it returns "" or why the line is malformed (a constant
	// string: reasons are counted).
	line(b []byte, e *env) (malformed string)
	// flush concludes what the parser holds open.
	flush(e *env)
}
