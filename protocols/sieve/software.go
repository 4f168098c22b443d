package sieve

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of the IMPLEMENTATION capability to server
// software, most specific first. Each needle matches as whole words,
// ignoring case.
var knownSoftware = []plaintext.Software{
	{Needle: "dovecot", Name: "Dovecot"},
	{Needle: "cyrus", Name: "Cyrus"},
	{Needle: "stalwart", Name: "Stalwart"},
	{Needle: "sieveshell", Name: "sieveshell"},
}

// guessSoftware names the server software an IMPLEMENTATION reveals, or "".
func guessSoftware(impl string) string {
	return plaintext.GuessSoftware(knownSoftware, impl)
}
