package imap

import "strings"

// knownSoftware maps words of IMAP greetings to server software, most
// specific first. Each needle matches as whole words, ignoring case.
var knownSoftware = []struct{ needle, name string }{
	{"dovecot", "Dovecot"},
	{"courier-imap", "Courier"},
	{"courier", "Courier"},
	{"cyrus", "Cyrus"},
	{"microsoft exchange", "Microsoft Exchange"},
	{"gimap", "Google"}, // "* OK Gimap ready for requests from …"
	{"zimbra", "Zimbra"},
	{"kerio connect", "Kerio Connect"},
	{"hmailserver", "hMailServer"},
	{"mdaemon", "MDaemon"},
	{"icewarp", "IceWarp"},
	{"axigen", "Axigen"},
	{"archiveopteryx", "Archiveopteryx"},
	{"communigate", "CommuniGate Pro"},
	{"uw imap", "UW IMAP"},
}

// guessSoftware names the server software a banner reveals, or "".
func guessSoftware(banner string) string {
	lower := strings.ToLower(banner)
	for _, k := range knownSoftware {
		if containsWords(lower, k.needle) {
			return k.name
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
