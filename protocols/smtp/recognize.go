package smtp

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// maxWireLine is the longest line Recognize waits for before deciding the
// stream is not line-based SMTP. RFC 5321 §4.5.3.1 allows 512 bytes for a
// command line and for a reply line; servers and clients stay far below
// 2 KiB in practice.
const maxWireLine = 2048

// Recognize decides whether two captured byte streams (client to server,
// server to client, each as far as seen) are SMTP, and where they switch
// to TLS. It pairs the client's commands with the server's replies in
// order (RFC 5321 §4.3; with PIPELINING, RFC 2920, the order is kept): the
// greeting answers no command, DATA's body and BDAT's chunk (RFC 3030) are
// skipped, every other line gets one reply. When the reply to STARTTLS is
// 220 the result is Upgraded, with the offsets right after the STARTTLS
// line and after the 220 reply; a refused STARTTLS gives Plaintext with
// the reply as Reason, and a later STARTTLS in the same flow is still
// found. Upgraded is withdrawn (Plaintext) when a side's first byte after
// its offset cannot start a TLS or SSLv2 record.
//
// It is a pure function and reads nothing beyond the slices' lengths.
func Recognize(c2s, s2c []byte) protocols.Recognition {
	rec := protocols.Recognition{Protocol: Name, State: protocols.NeedMore}
	notThis := func(reason string) protocols.Recognition { return plaintext.NotThis(Name, reason) }

	replies, ok := parseReplies(s2c)
	if !ok {
		return notThis("server does not send SMTP replies")
	}
	if !clientShape(c2s) {
		return notThis("client does not start with EHLO, HELO or LHLO")
	}
	if _, _, ok := wireLine(c2s, 0); !ok || len(replies) == 0 {
		return rec
	}
	rec.State = protocols.Plaintext
	rec.Reason = "no STARTTLS yet"
	if g := replies[0]; g.code != 220 {
		rec.Reason = "greeting " + plaintext.Sanitize(g.first)
	}

	ri := 1 // replies[0] is the greeting
	for pos := 0; pos < len(c2s); {
		line, next, ok := wireLine(c2s, pos)
		if !ok {
			break
		}
		pos = next
		verb, arg, _ := bytes.Cut(bytes.TrimSpace(line), []byte(" "))
		switch strings.ToUpper(string(verb)) {
		case "STARTTLS":
			if ri >= len(replies) {
				rec.State, rec.Reason = protocols.NeedMore, ""
				return rec
			}
			r := replies[ri]
			ri++
			if r.code != 220 {
				// RFC 3207 §4: 454 or 501; the client may carry on in
				// plaintext or try again.
				rec.Reason = "STARTTLS refused: " + plaintext.Sanitize(r.first)
				continue
			}
			return plaintext.Upgraded(Name, "STARTTLS", c2s, s2c, pos, r.end)
		case "DATA":
			if ri >= len(replies) {
				return rec
			}
			r := replies[ri]
			ri++
			if r.code != 354 {
				continue
			}
			// RFC 5321 §4.1.1.4: the body ends with a line holding a
			// single ".", which the end-of-data reply answers.
			if pos, ok = plaintext.SkipBody(c2s, pos); !ok {
				return rec
			}
			ri++
		case "BDAT":
			// RFC 3030 §2: "BDAT" SP chunk-size [SP "LAST"], then exactly
			// chunk-size bytes of data; one reply per BDAT.
			size, _, _ := bytes.Cut(arg, []byte(" "))
			n, err := strconv.Atoi(string(size))
			if err != nil || n < 0 || n > len(c2s)-pos {
				return rec
			}
			pos += n
			ri++
		default:
			// Every other line, SASL responses of AUTH included (RFC
			// 4954 §4), gets exactly one reply.
			ri++
		}
	}
	return rec
}

// wireReply is one complete reply found in the server's stream.
type wireReply struct {
	code  int
	end   int    // offset just past the reply's last line
	first []byte // the first line, for Reasons
}

// parseReplies splits s2c into complete replies. It returns ok=false when
// the stream cannot be SMTP: its first line (or the start of it) is not a
// reply line, or no line ends within maxWireLine bytes. A malformed line
// after the first stops the parsing without deciding anything.
func parseReplies(s2c []byte) (replies []wireReply, ok bool) {
	replies = make([]wireReply, 0, bytes.Count(s2c, []byte("\n")))
	var cur *wireReply
	pos := 0
	for pos < len(s2c) {
		line, next, complete := wireLine(s2c, pos)
		if !complete {
			if pos == 0 && !partialReplyShape(s2c) {
				return nil, false
			}
			break
		}
		code, more, _, good := parseReplyLine(string(line))
		if !good || pos == 0 && !greetingCode(code) {
			if pos == 0 {
				return nil, false
			}
			break
		}
		if cur == nil {
			cur = &wireReply{first: line}
		}
		pos = next
		if !more {
			cur.code, cur.end = code, pos
			replies = append(replies, *cur)
			cur = nil
		}
	}
	return replies, true
}

// greetingCode reports whether code can open an SMTP session: 220, or
// a refusal (RFC 5321 §3.1 and §4.2.2: 554, 421; RFC 7504 §3: 521), 4yz
// or 5yz. A 2yz other than 220 is another protocol's greeting (NNTP's
// 200 and 201).
func greetingCode(code int) bool { return code == 220 || code/100 == 4 || code/100 == 5 }

// partialReplyShape checks the start of an incomplete first line: a
// greeting code (greetingCode) so far.
func partialReplyShape(b []byte) bool {
	if len(b) > maxWireLine {
		return false
	}
	if len(b) >= 2 && b[0] == '2' && (b[1] != '2' || len(b) >= 3 && b[2] != '0') {
		return false
	}
	for i := 0; i < len(b) && i < 4; i++ {
		switch {
		case i == 0 && (b[i] < '2' || b[i] > '5'),
			i > 0 && i < 3 && !isDigit(b[i]),
			i == 3 && b[i] != ' ' && b[i] != '-' && b[i] != '\r':
			return false
		}
	}
	return true
}

// clientVerbs are the commands a client may open with: EHLO or HELO (RFC
// 5321 §4.1.1.1), LHLO (LMTP, RFC 2033), or QUIT after a 554 greeting.
var clientVerbs = []string{"EHLO", "HELO", "LHLO", "QUIT"}

// clientShape reports whether c2s (possibly empty or partial) can be the
// start of an SMTP client's stream: its first word is one of clientVerbs,
// or a prefix of one while the word is still incomplete.
func clientShape(c2s []byte) bool {
	head := c2s[:min(len(c2s), maxWireLine)]
	end := bytes.IndexAny(head, " \r\n")
	for _, v := range clientVerbs {
		if end >= 0 && bytes.EqualFold(head[:end], []byte(v)) {
			return true
		}
		if end < 0 && len(head) <= len(v) && bytes.EqualFold(head, []byte(v[:len(head)])) {
			return true
		}
	}
	return false
}

// wireLine is plaintext.WireLine bounded by maxWireLine.
func wireLine(b []byte, pos int) ([]byte, int, bool) { return plaintext.WireLine(b, pos, maxWireLine) }
