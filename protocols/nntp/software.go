package nntp

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of NNTP greetings and IMPLEMENTATION
// capabilities (RFC 3977 §5.2.2) to server software, most specific
// first. Each needle matches as whole words, ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "internetnews", Name: "INN"},
	{Needle: "inn", Name: "INN"},
	{Needle: "leafnode", Name: "Leafnode"},
	{Needle: "diablo", Name: "Diablo"},
	{Needle: "dnews", Name: "DNews"},
	{Needle: "typhoon", Name: "Typhoon"},
	{Needle: "twister", Name: "Twister"},
	{Needle: "cyclone", Name: "Cyclone"},
	{Needle: "highwinds", Name: "Highwinds"},
	{Needle: "microsoft nntp service", Name: "Microsoft NNTP Service"},
	{Needle: "hamster", Name: "Hamster"},
	{Needle: "papercut", Name: "Papercut"},
}

// guessSoftware names the server software text reveals, or "".
func guessSoftware(text string) string {
	return plaintext.GuessSoftware(knownSoftware, text)
}
