package mysql

import (
	"bytes"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// Capability flags of the greeting and of the client's answer (the
// protocol's "Capabilities Flags"), those this package names.
const (
	capLongPassword       = 0x00000001 // MariaDB: CLIENT_MYSQL; clear when extended capabilities follow
	capProtocol41         = 0x00000200
	capSSL                = 0x00000800
	capTransactions       = 0x00002000
	capSecureConnection   = 0x00008000
	capPluginAuth         = 0x00080000
	capPluginAuthLenenc   = 0x00200000
	capSSLVerifyServerCrt = 0x40000000
)

// capNames names the capability flags by bit, lowest first.
var capNames = [32]string{
	"CLIENT_LONG_PASSWORD", "CLIENT_FOUND_ROWS", "CLIENT_LONG_FLAG", "CLIENT_CONNECT_WITH_DB",
	"CLIENT_NO_SCHEMA", "CLIENT_COMPRESS", "CLIENT_ODBC", "CLIENT_LOCAL_FILES",
	"CLIENT_IGNORE_SPACE", "CLIENT_PROTOCOL_41", "CLIENT_INTERACTIVE", "CLIENT_SSL",
	"CLIENT_IGNORE_SIGPIPE", "CLIENT_TRANSACTIONS", "CLIENT_RESERVED", "CLIENT_SECURE_CONNECTION",
	"CLIENT_MULTI_STATEMENTS", "CLIENT_MULTI_RESULTS", "CLIENT_PS_MULTI_RESULTS", "CLIENT_PLUGIN_AUTH",
	"CLIENT_CONNECT_ATTRS", "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA", "CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS", "CLIENT_SESSION_TRACK",
	"CLIENT_DEPRECATE_EOF", "CLIENT_OPTIONAL_RESULTSET_METADATA", "CLIENT_ZSTD_COMPRESSION_ALGORITHM", "CLIENT_QUERY_ATTRIBUTES",
	"MULTI_FACTOR_AUTHENTICATION", "CLIENT_CAPABILITY_EXTENSION", "CLIENT_SSL_VERIFY_SERVER_CERT", "CLIENT_REMEMBER_OPTIONS",
}

// capabilityNames lists the names of the flags set in caps, lowest bit
// first.
func capabilityNames(caps uint32) []string {
	var out []string
	for i, n := range capNames {
		if caps&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Packet framing: a 3-byte little-endian payload length and a 1-byte
// sequence number ("MySQL Packets"). A payload of 0xffffff bytes is
// continued by the next packet.
const (
	headerLen     = 4
	maxPayloadLen = 0xffffff
)

// The first byte of a greeting's payload.
const (
	protocolV10 = 0x0a // HandshakeV10, MySQL 3.21.0 and later
	protocolV9  = 0x09 // HandshakeV9, MySQL 3.20 and older
	errPacket   = 0xff // ERR_Packet: the server refuses the connection
)

// parseHeader reads a packet header.
func parseHeader(b []byte) (length uint32, seq uint8, ok bool) {
	s := cryptobyte.String(b)
	var l0, l1, l2 uint8
	if !s.ReadUint8(&l0) || !s.ReadUint8(&l1) || !s.ReadUint8(&l2) || !s.ReadUint8(&seq) {
		return 0, 0, false
	}
	return uint32(l0) | uint32(l1)<<8 | uint32(l2)<<16, seq, true
}

// greeting is what the Initial Handshake Packet says.
type greeting struct {
	protocol   uint8
	version    string // the server version string
	caps       uint32 // the capability flags
	extCaps    uint32 // MariaDB's extended capabilities (when capLongPassword is clear)
	authPlugin string
}

// parseGreeting parses the payload of a server greeting: HandshakeV10
// ("Protocol::HandshakeV10") or the HandshakeV9 of MySQL 3.20, which has
// no capability flags. ok is false for anything else (an ERR packet
// included: parseErr reads those).
func parseGreeting(payload []byte) (g greeting, ok bool) {
	s := cryptobyte.String(payload)
	if !s.ReadUint8(&g.protocol) {
		return g, false
	}
	switch g.protocol {
	case protocolV9:
		// Protocol::HandshakeV9: version, thread id, scramble.
		v, ok := readCString(&s)
		if !ok || !s.Skip(4) {
			return g, false
		}
		g.version = v
		_, ok = readCString(&s)
		return g, ok && s.Empty()
	case protocolV10:
	default:
		return g, false
	}
	v, ok := readCString(&s)
	var capLow uint16
	if !ok || !s.Skip(4) || !s.Skip(8) || !s.Skip(1) || !readUint16LE(&s, &capLow) {
		return g, false
	}
	g.version, g.caps = v, uint32(capLow)
	if s.Empty() {
		// A MySQL 3.x/4.0 greeting ends here.
		return g, true
	}
	var capHigh uint16
	var authLen uint8
	var reserved cryptobyte.String
	// character set, status flags, upper capability flags, length of the
	// auth plugin data, 10 reserved bytes (MariaDB: 6, then its extended
	// capabilities).
	if !s.Skip(1) || !s.Skip(2) || !readUint16LE(&s, &capHigh) || !s.ReadUint8(&authLen) || !s.ReadBytes((*[]byte)(&reserved), 10) {
		return g, false
	}
	g.caps |= uint32(capHigh) << 16
	if g.caps&capLongPassword == 0 {
		var ext uint32
		if !reserved.Skip(6) || !readUint32LE(&reserved, &ext) {
			return g, false
		}
		g.extCaps = ext
	}
	if g.caps&capSecureConnection != 0 {
		// auth-plugin-data-part-2: max(13, length - 8) bytes.
		n := 13
		if int(authLen)-8 > n {
			n = int(authLen) - 8
		}
		if !s.Skip(n) {
			return g, false
		}
	}
	if g.caps&capPluginAuth != 0 {
		// A NUL-terminated name; MySQL 5.5.7 to 5.5.9 left the NUL out.
		name, ok := readCString(&s)
		if !ok {
			var rest []byte
			s.ReadBytes(&rest, len(s))
			name = string(rest)
		}
		g.authPlugin = name
	}
	return g, true
}

// errResponse is an ERR packet ("ERR_Packet"): a code, a SQL state when
// the server sends one ('#' and five characters), and a message.
type errResponse struct {
	code     uint16
	sqlState string
	message  string
}

func (e errResponse) String() string {
	s := fmt.Sprintf("ERR %d", e.code)
	if e.sqlState != "" {
		s += " (" + e.sqlState + ")"
	}
	if e.message != "" {
		s += " " + e.message
	}
	return s
}

// throttled reports whether the server turns clients away for now: 1040
// ER_CON_COUNT_ERROR ("Too many connections"), 1203
// ER_TOO_MANY_USER_CONNECTIONS, 1226 ER_USER_LIMIT_REACHED, 1041
// ER_OUT_OF_RESOURCES, 1135 ER_CANT_CREATE_THREAD.
func (e errResponse) throttled() bool {
	switch e.code {
	case 1040, 1041, 1135, 1203, 1226:
		return true
	}
	return false
}

// parseErr parses an ERR packet's payload.
func parseErr(payload []byte) (e errResponse, ok bool) {
	s := cryptobyte.String(payload)
	var marker uint8
	if !s.ReadUint8(&marker) || marker != errPacket || !readUint16LE(&s, &e.code) {
		return e, false
	}
	if len(s) >= 6 && s[0] == '#' {
		var state []byte
		if !s.Skip(1) || !s.ReadBytes(&state, 5) {
			return e, false
		}
		e.sqlState = string(state)
	}
	var msg []byte
	s.ReadBytes(&msg, len(s))
	e.message = strings.TrimRight(string(msg), "\x00")
	return e, true
}

// Capabilities the SSL request asks for: 4.1 protocol and
// authentication, transactions, plugin authentication, and TLS.
const requestCaps = capLongPassword | capProtocol41 | capSSL | capTransactions | capSecureConnection | capPluginAuth

// sslRequest returns the packet a client sends to switch to TLS after
// greeting g: Protocol::SSLRequest (capability flags with CLIENT_SSL, max
// packet size, character set utf8mb4, 23 reserved bytes) with sequence
// number 1, or, for a server without CLIENT_PROTOCOL_41, the 4.0 form
// (2-byte capability flags, 3-byte max packet size).
func sslRequest(g greeting) []byte {
	var payload cryptobyte.Builder
	if g.caps&capProtocol41 != 0 {
		addUint32LE(&payload, requestCaps&(g.caps|capSSL))
		addUint32LE(&payload, 1<<24) // max packet size
		payload.AddUint8(45)         // utf8mb4_general_ci
		payload.AddBytes(make([]byte, 23))
	} else {
		caps := uint16(capLongPassword | capSSL | capTransactions)
		payload.AddUint8(uint8(caps))
		payload.AddUint8(uint8(caps >> 8))
		payload.AddBytes([]byte{0, 0, 0x01}) // max packet size 1 << 16
	}
	p := payload.BytesOrPanic()
	var b cryptobyte.Builder
	b.AddUint8(uint8(len(p)))
	b.AddUint8(uint8(len(p) >> 8))
	b.AddUint8(uint8(len(p) >> 16))
	b.AddUint8(1)
	b.AddBytes(p)
	return b.BytesOrPanic()
}

// The client's first packet, as the recogniser reads it: the capability
// flags of a HandshakeResponse41 or an SSLRequest (its first four bytes),
// or of a 4.0 HandshakeResponse320 (its first two).
func clientCaps(payload []byte, protocol41 bool) (caps uint32, ok bool) {
	s := cryptobyte.String(payload)
	if protocol41 {
		return caps, readUint32LE(&s, &caps)
	}
	var c uint16
	ok = readUint16LE(&s, &c)
	return uint32(c), ok
}

func readUint16LE(s *cryptobyte.String, v *uint16) bool {
	var b []byte
	if !s.ReadBytes(&b, 2) {
		return false
	}
	*v = uint16(b[0]) | uint16(b[1])<<8
	return true
}

func readUint32LE(s *cryptobyte.String, v *uint32) bool {
	var b []byte
	if !s.ReadBytes(&b, 4) {
		return false
	}
	*v = uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	return true
}

func addUint32LE(b *cryptobyte.Builder, v uint32) {
	b.AddUint8(uint8(v))
	b.AddUint8(uint8(v >> 8))
	b.AddUint8(uint8(v >> 16))
	b.AddUint8(uint8(v >> 24))
}

// readCString reads a NUL-terminated string and its terminator.
func readCString(s *cryptobyte.String) (string, bool) {
	i := bytes.IndexByte(*s, 0)
	var v []byte
	if i < 0 || !s.ReadBytes(&v, i) || !s.Skip(1) {
		return "", false
	}
	return string(v), true
}
