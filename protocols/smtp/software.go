package smtp

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of SMTP greetings and EHLO replies to server
// software, most specific first. Each needle matches as whole words,
// ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "microsoft esmtp mail service", Name: "Microsoft Exchange"},
	{Needle: "microsoft exchange", Name: "Microsoft Exchange"},
	{Needle: "postfix", Name: "Postfix"},
	{Needle: "exim", Name: "Exim"},
	{Needle: "sendmail", Name: "Sendmail"},
	{Needle: "gsmtp", Name: "Google"}, // "220 mx.google.com ESMTP … - gsmtp"
	{Needle: "opensmtpd", Name: "OpenSMTPD"},
	{Needle: "haraka", Name: "Haraka"},
	{Needle: "qmail", Name: "qmail"},
	{Needle: "zimbra", Name: "Zimbra"},
	{Needle: "mdaemon", Name: "MDaemon"},
	{Needle: "kerio connect", Name: "Kerio Connect"},
	{Needle: "communigate", Name: "CommuniGate Pro"},
	{Needle: "mailenable", Name: "MailEnable"},
	{Needle: "smartermail", Name: "SmarterMail"},
	{Needle: "hmailserver", Name: "hMailServer"},
	{Needle: "axigen", Name: "Axigen"},
	{Needle: "icewarp", Name: "IceWarp"},
	{Needle: "mailcow", Name: "mailcow"},
}

// guessSoftware names the server software a banner reveals, or "".
func guessSoftware(banner string) string {
	return plaintext.GuessSoftware(knownSoftware, banner)
}
