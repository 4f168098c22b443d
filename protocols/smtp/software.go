package smtp

import "strings"

// knownSoftware maps words of SMTP greetings and EHLO replies to server
// software, most specific first. Each needle matches as whole words,
// ignoring case.
var knownSoftware = []struct{ needle, name string }{
	{"microsoft esmtp mail service", "Microsoft Exchange"},
	{"microsoft exchange", "Microsoft Exchange"},
	{"postfix", "Postfix"},
	{"exim", "Exim"},
	{"sendmail", "Sendmail"},
	{"gsmtp", "Google"}, // "220 mx.google.com ESMTP … - gsmtp"
	{"opensmtpd", "OpenSMTPD"},
	{"haraka", "Haraka"},
	{"qmail", "qmail"},
	{"zimbra", "Zimbra"},
	{"mdaemon", "MDaemon"},
	{"kerio connect", "Kerio Connect"},
	{"communigate", "CommuniGate Pro"},
	{"mailenable", "MailEnable"},
	{"smartermail", "SmarterMail"},
	{"hmailserver", "hMailServer"},
	{"axigen", "Axigen"},
	{"icewarp", "IceWarp"},
	{"mailcow", "mailcow"},
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
