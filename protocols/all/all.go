// Package all registers every application protocol tlsmap knows with the
// protocols registry. scan and sniff import it; adding a protocol is its
// package and one line here.
package all

import (
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/ftp"
	"github.com/tlsmap/tlsmap/protocols/httpconnect"
	"github.com/tlsmap/tlsmap/protocols/https"
	"github.com/tlsmap/tlsmap/protocols/imap"
	"github.com/tlsmap/tlsmap/protocols/irc"
	"github.com/tlsmap/tlsmap/protocols/ldap"
	"github.com/tlsmap/tlsmap/protocols/mysql"
	"github.com/tlsmap/tlsmap/protocols/nntp"
	"github.com/tlsmap/tlsmap/protocols/pop3"
	"github.com/tlsmap/tlsmap/protocols/postgres"
	"github.com/tlsmap/tlsmap/protocols/rdp"
	"github.com/tlsmap/tlsmap/protocols/sieve"
	"github.com/tlsmap/tlsmap/protocols/smtp"
	"github.com/tlsmap/tlsmap/protocols/socks"
	"github.com/tlsmap/tlsmap/protocols/xmpp"
)

func init() {
	protocols.Register(
		https.Protocol,
		smtp.Protocol,
		imap.Protocol,
		pop3.Protocol,
		ldap.Protocol,
		ftp.Protocol,
		xmpp.Client,
		xmpp.Server,
		postgres.Protocol,
		mysql.Protocol,
		rdp.Protocol,
		sieve.Protocol,
		nntp.Protocol,
		irc.Protocol,
		// Proxy tunnels (sniff only: Recognize, no scheme).
		httpconnect.Protocol,
		socks.Protocol5,
		socks.Protocol4,
		socks.Protocol4a,
	)
}
