package imap

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of IMAP greetings to server software, most
// specific first. Each needle matches as whole words, ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "dovecot", Name: "Dovecot"},
	{Needle: "courier-imap", Name: "Courier"},
	{Needle: "courier", Name: "Courier"},
	{Needle: "cyrus", Name: "Cyrus"},
	{Needle: "microsoft exchange", Name: "Microsoft Exchange"},
	{Needle: "gimap", Name: "Google"}, // "* OK Gimap ready for requests from …"
	{Needle: "zimbra", Name: "Zimbra"},
	{Needle: "kerio connect", Name: "Kerio Connect"},
	{Needle: "hmailserver", Name: "hMailServer"},
	{Needle: "mdaemon", Name: "MDaemon"},
	{Needle: "icewarp", Name: "IceWarp"},
	{Needle: "axigen", Name: "Axigen"},
	{Needle: "archiveopteryx", Name: "Archiveopteryx"},
	{Needle: "communigate", Name: "CommuniGate Pro"},
	{Needle: "uw imap", Name: "UW IMAP"},
}

// guessSoftware names the server software a banner reveals, or "".
func guessSoftware(banner string) string {
	return plaintext.GuessSoftware(knownSoftware, banner)
}
