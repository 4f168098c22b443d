package irc

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps the vendor prefixes of IRCv3 capability names
// ("inspircd.org/poison", "unrealircd.org/link-security") and words of
// NOTICEs to server software, most specific first. Each needle matches as
// whole words, ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "inspircd", Name: "InspIRCd"},
	{Needle: "unrealircd", Name: "UnrealIRCd"},
	{Needle: "solanum", Name: "Solanum"},
	{Needle: "ergo.chat", Name: "Ergo"},
	{Needle: "oragono.io", Name: "Ergo"},
	{Needle: "znc.in", Name: "ZNC"},
	{Needle: "twitch.tv", Name: "Twitch"},
}

// guessSoftware names the server software text reveals, or "".
func guessSoftware(text string) string {
	return plaintext.GuessSoftware(knownSoftware, text)
}
