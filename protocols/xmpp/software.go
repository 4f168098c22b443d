package xmpp

import "github.com/tlsmap/tlsmap/protocols/internal/plaintext"

// knownSoftware maps words of the entity-capabilities node a server
// advertises in its stream features (XEP-0115) to server software.
var knownSoftware = []plaintext.Software{
	{Needle: "ejabberd", Name: "ejabberd"},
	{Needle: "prosody", Name: "Prosody"},
	{Needle: "openfire", Name: "Openfire"},
	{Needle: "igniterealtime", Name: "Openfire"},
	{Needle: "tigase", Name: "Tigase"},
	{Needle: "mongooseim", Name: "MongooseIM"},
	{Needle: "jabberd", Name: "jabberd"},
	{Needle: "m-link", Name: "Isode M-Link"},
	{Needle: "metronome", Name: "Metronome"},
}

// guessSoftware names the server software a caps node reveals, or "".
func guessSoftware(node string) string {
	return plaintext.GuessSoftware(knownSoftware, node)
}
