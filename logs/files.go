package logs

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// rotatedName splits a log file name into its base and its rotation:
// "mail.log.2.gz" is mail.log, number 2; "access.log-20260301.gz" is
// access.log, date 20260301; "mail.log" is mail.log, current.
var rotatedName = regexp.MustCompile(`^(.*?)(?:\.(\d{1,4})|-(\d{8}(?:\d{2})?))?(?:\.gz|\.bz2)?$`)

// OrderRotated returns names with every rotated set oldest first, so that
// a shell glob ("/var/log/mail.log*") reads in time order: within the
// names that share a base name in one directory, logrotate's numbered
// files from the highest number down, then dated files by date, then the
// live file. Sets keep the place of their first name; names of no set
// keep theirs.
func OrderRotated(names []string) []string {
	type entry struct {
		name  string
		group int
		rank  int64 // older first: numbered (-N), dated (date), current (max)
		index int
	}
	groups := map[string]int{}
	var es []entry
	for i, n := range names {
		dir, file := filepath.Split(n)
		m := rotatedName.FindStringSubmatch(file)
		base, rank := file, int64(1)<<62
		if n != "-" && m != nil && m[1] != "" {
			base = m[1]
			switch {
			case m[2] != "":
				k, _ := strconv.ParseInt(m[2], 10, 64)
				rank = -k
			case m[3] != "":
				d, _ := strconv.ParseInt(m[3], 10, 64)
				rank = d
			}
		}
		key := dir + "\x00" + base
		if n == "-" {
			key = fmt.Sprintf("-\x00%d", i)
		}
		g, ok := groups[key]
		if !ok {
			g = len(groups)
			groups[key] = g
		}
		es = append(es, entry{n, g, rank, i})
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		switch {
		case a.group != b.group:
			return a.group - b.group
		case a.rank < b.rank:
			return -1
		case a.rank > b.rank:
			return 1
		}
		return a.index - b.index
	})
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.name
	}
	return out
}

// Probe tells the format of a file from its first lines (decompressing
// it if need be) without reading the rest: the check a command makes
// before reading anything. With Config.Format set it returns that.
func (r *Reader) Probe(name string) (Format, error) {
	if r.cfg.Format.Kind != KindAuto {
		return r.cfg.Format, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return Format{}, fmt.Errorf("logs: %w", err)
	}
	defer f.Close()
	head, err := readHead(f, r.cfg.MaxLineBytes)
	if err != nil {
		return Format{}, fmt.Errorf("logs: %s: %w", name, err)
	}
	k, hint, ok := r.detect(head)
	if !ok {
		return Format{}, fmt.Errorf("%w: %s: cannot tell the format from its first lines: %s", ErrFormat, name, hint)
	}
	return Format{Kind: k}, nil
}

// readHead reads up to n bytes of rd's content, decompressed.
func readHead(rd io.Reader, n int) ([]byte, error) {
	br := bufio.NewReaderSize(rd, 64<<10)
	magic, _ := br.Peek(3)
	var src io.Reader = br
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		src = zr
	case len(magic) >= 3 && string(magic) == "BZh":
		src = bzip2.NewReader(br)
	}
	head, err := io.ReadAll(io.LimitReader(src, int64(n)))
	if err != nil && len(head) == 0 {
		return nil, err
	}
	if i := strings.LastIndexByte(string(head), '\n'); i >= 0 && len(head) == n {
		head = head[:i+1]
	}
	return head, nil
}
