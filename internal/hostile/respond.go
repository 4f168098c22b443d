package hostile

import (
	"slices"

	"github.com/tlsmap/tlsmap/protocols/tls"
)

// Responders for Config.Respond: servers that answer every hello with
// nonsense.

// SSLv2Junk answers every hello with bytes that frame as an SSLv2 record
// (a two-byte header with the high bit set and a length) whose content is
// no SSLv2 message: what a garbage server sends by chance.
func SSLv2Junk(hello []byte) []byte {
	body := []byte{0x07, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66}
	return append([]byte{0x80, byte(len(body))}, body...)
}

// FixedServerHello answers every hello with one fixed TLS 1.0 ServerHello
// naming suite (whatever was offered) and a ServerHelloDone: a broken
// server that is the same to everyone.
func FixedServerHello(suite uint16) func([]byte) []byte {
	return func([]byte) []byte {
		sh := &tls.ServerHello{Version: tls.VersionTLS10, Random: make([]byte, 32), SessionID: make([]byte, 32), CipherSuite: suite}
		msg, err := sh.Marshal()
		if err != nil {
			panic(err)
		}
		msg = append(msg, tls.MarshalServerHelloDone()...)
		return tls.AppendRecord(nil, tls.ContentHandshake, tls.VersionTLS10, msg)
	}
}

// AlwaysLower answers every TLS hello with a ServerHello for the version
// below the one asked (TLS 1.2 to a TLS 1.3 hello, SSLv3 to a TLS 1.0
// one, 0x0200 to an SSLv3 one), naming the first offered suite, and a
// ServerHelloDone: a server that claims, to each version, to speak only
// the one below.
func AlwaysLower(hello []byte) []byte {
	ch := parseHello(hello)
	if ch == nil || len(ch.CipherSuites) == 0 {
		return nil
	}
	asked := ch.Version
	if slices.Contains(ch.SupportedVersions, uint16(tls.VersionTLS13)) {
		asked = tls.VersionTLS13
	}
	v := asked - 1
	if asked == tls.VersionSSL30 {
		v = 0x0200
	}
	sh := &tls.ServerHello{Version: v, Random: make([]byte, 32), SessionID: ch.SessionID, CipherSuite: ch.CipherSuites[0]}
	msg, err := sh.Marshal()
	if err != nil {
		return nil
	}
	msg = append(msg, tls.MarshalServerHelloDone()...)
	rv := min(v, tls.VersionTLS12)
	if rv < tls.VersionSSL30 {
		rv = tls.VersionTLS10
	}
	return tls.AppendRecord(nil, tls.ContentHandshake, rv, msg)
}

// HRROnly answers every TLS 1.3 hello with a HelloRetryRequest naming
// its first offered suite and x25519, whatever key share the hello
// carries (so the retry is never answered with a ServerHello), and any
// other hello with a protocol_version alert.
func HRROnly(hello []byte) []byte {
	ch := parseHello(hello)
	if ch == nil {
		return nil
	}
	if !slices.Contains(ch.SupportedVersions, uint16(tls.VersionTLS13)) || len(ch.CipherSuites) == 0 {
		a := tls.Alert{Level: tls.AlertLevelFatal, Description: tls.AlertProtocolVersion}
		return tls.AppendRecord(nil, tls.ContentAlert, tls.VersionTLS12, a.Marshal())
	}
	sh := &tls.ServerHello{
		Version: tls.VersionTLS12, Random: []byte(tls.HelloRetryRequestRandom), SessionID: ch.SessionID,
		CipherSuite: ch.CipherSuites[0],
		Extensions: []tls.Extension{
			tls.ServerHelloSupportedVersion(tls.VersionTLS13),
			tls.HRRKeyShare(tls.GroupX25519),
		},
	}
	msg, err := sh.Marshal()
	if err != nil {
		return nil
	}
	return tls.AppendRecord(nil, tls.ContentHandshake, tls.VersionTLS12, msg)
}
