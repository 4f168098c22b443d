package pop3

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of POP3 greetings to server software, most
// specific first. Each needle matches as whole words, ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "dovecot", Name: "Dovecot"},
	{Needle: "courier-pop3", Name: "Courier"},
	{Needle: "courier", Name: "Courier"},
	{Needle: "cyrus", Name: "Cyrus"},
	{Needle: "microsoft exchange", Name: "Microsoft Exchange"},
	{Needle: "gpop", Name: "Google"}, // "+OK Gpop ready for requests from …"
	{Needle: "zimbra", Name: "Zimbra"},
	{Needle: "kerio connect", Name: "Kerio Connect"},
	{Needle: "qpopper", Name: "Qpopper"},
	{Needle: "popa3d", Name: "popa3d"},
	{Needle: "hmailserver", Name: "hMailServer"},
	{Needle: "mdaemon", Name: "MDaemon"},
	{Needle: "icewarp", Name: "IceWarp"},
	{Needle: "axigen", Name: "Axigen"},
	{Needle: "communigate", Name: "CommuniGate Pro"},
	{Needle: "uw pop3", Name: "UW IMAP"},
}

// guessSoftware names the server software a banner reveals, or "".
func guessSoftware(banner string) string {
	return plaintext.GuessSoftware(knownSoftware, banner)
}
