package irc

import (
	"slices"
	"strings"
	"testing"

	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

func TestParseMessage(t *testing.T) {
	cases := []struct {
		line    string
		ok      bool
		prefix  string
		command string
		params  []string
	}{
		{":irc.example.net NOTICE * :*** Looking up your hostname...", true, "irc.example.net", "NOTICE", []string{"*", "*** Looking up your hostname..."}},
		{":srv CAP * LS * :a b c", true, "srv", "CAP", []string{"*", "LS", "*", "a b c"}},
		{"@time=x;msgid=y :srv 670 * :go", true, "srv", "670", []string{"*", "go"}},
		{"PING :12345", true, "", "PING", []string{"12345"}},
		{"ping 12345", true, "", "PING", []string{"12345"}},
		{"NOTICE AUTH :*** hi", true, "", "NOTICE", []string{"AUTH", "*** hi"}},
		{":n!u@h PRIVMSG #c :hello  there ", true, "n!u@h", "PRIVMSG", []string{"#c", "hello  there "}},
		{":srv   421  *  STARTTLS   :Unknown", true, "srv", "421", []string{"*", "STARTTLS", "Unknown"}},
		{":srv 005 n :", true, "srv", "005", []string{"n", ""}},
		{"QUIT", true, "", "QUIT", nil},
		{":srv", false, "", "", nil},
		{": NOTICE x", false, "", "", nil},
		{"@tags-only", false, "", "", nil},
		{":srv 67 x", false, "", "", nil},
		{":srv 6700 x", false, "", "", nil},
		{":srv N0TICE x", false, "", "", nil},
		{"+OK POP3", false, "", "", nil},
		{"* OK IMAP", false, "", "", nil},
		{"", false, "", "", nil},
	}
	for _, tc := range cases {
		m, ok := parseMessage(tc.line)
		if ok != tc.ok {
			t.Errorf("%q: ok %v, want %v", tc.line, ok, tc.ok)
			continue
		}
		if ok && (m.prefix != tc.prefix || m.command != tc.command || !slices.Equal(m.params, tc.params)) {
			t.Errorf("%q: %q %q %q, want %q %q %q", tc.line, m.prefix, m.command, m.params, tc.prefix, tc.command, tc.params)
		}
	}
	// A numeric without a prefix parses but is no server's message.
	if m, ok := parseMessage("220 mx ESMTP"); !ok || m.fromServer() {
		t.Errorf("220 mx ESMTP: %+v %v", m, ok)
	}
}

// parserSeeds seed FuzzParseMessage (go test -run TestParserCorpus
// -update-fuzz-corpus).
var parserSeeds = prototest.ParserSeeds{Target: "FuzzParseMessage", Seeds: map[string][]byte{
	"notice":      []byte(":irc.example.net NOTICE * :*** Looking up your hostname..."),
	"cap-more":    []byte(":srv CAP * LS * :account-notify sasl=PLAIN,EXTERNAL tls"),
	"tags":        []byte("@time=2024-01-01T00:00:00.000Z;msgid=x :srv 670 * :go"),
	"ping":        []byte("PING :12345"),
	"spaces":      []byte(":srv   421  *  STARTTLS   :Unknown"),
	"empty-trail": []byte(":srv 005 n :"),
	"bad-prefix":  []byte(": NOTICE x"),
	"smtp":        []byte("220 mx ESMTP"),
	"formatting":  []byte(":srv NOTICE * :\x02bold\x02 \x0304red"),
}}

func TestParserCorpus(t *testing.T) { parserSeeds.TestCorpus(t) }

// FuzzParseMessage: parseMessage never panics, and what it accepts has a
// valid command, parameters none of which but the last holds a space or
// is empty, and a prefix without spaces.
func FuzzParseMessage(f *testing.F) {
	parserSeeds.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, ok := parseMessage(string(b))
		if !ok {
			return
		}
		if !validCommand(m.command) || m.command != strings.ToUpper(m.command) {
			t.Fatalf("command %q", m.command)
		}
		if strings.Contains(m.prefix, " ") {
			t.Fatalf("prefix %q", m.prefix)
		}
		for i, p := range m.params {
			if i < len(m.params)-1 && (p == "" || strings.Contains(p, " ")) {
				t.Fatalf("parameter %d %q of %q", i, p, m.params)
			}
		}
		if m.line != string(b) {
			t.Fatalf("line %q", m.line)
		}
	})
}
