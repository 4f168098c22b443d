// Package proxyproto reads and writes the PROXY protocol header that load
// balancers (HAProxy's send-proxy and send-proxy-v2, AWS NLB, nginx,
// stunnel …) put at the start of a connection to a backend to name the
// real client: version 1, one line of text, and version 2, a binary header
// with type-length-value extensions (TLVs) such as the client's TLS
// version and cipher as the balancer negotiated them (PP2_TYPE_SSL).
//
// Section numbers are those of HAProxy's "The PROXY protocol, Versions 1 &
// 2" (doc/proxy-protocol.txt), the specification every implementation
// follows.
//
// sniff reads a header at the start of a captured client stream with
// Parse; scan writes one before the TLS handshake with Header.Marshal.
package proxyproto

import (
	"errors"
	"fmt"
	"net/netip"
)

// Version is the header format.
type Version uint8

// Header formats (§2.1, §2.2).
const (
	V1 Version = 1 // text: "PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n"
	V2 Version = 2 // binary, with TLVs
)

func (v Version) String() string {
	switch v {
	case V1:
		return "v1"
	case V2:
		return "v2"
	}
	return fmt.Sprintf("version(%d)", uint8(v))
}

// ParseVersion reads "v1", "1", "v2" or "2".
func ParseVersion(s string) (Version, error) {
	switch s {
	case "v1", "1":
		return V1, nil
	case "v2", "2":
		return V2, nil
	}
	return 0, fmt.Errorf("proxyproto: unknown version %q (want v1 or v2)", s)
}

// Command says whether the header relays a connection (§2.2, 13th byte).
type Command uint8

// Commands.
const (
	// CommandLocal: the balancer opened the connection on its own (a
	// health check); the addresses are the connection's own. Version 1's
	// "UNKNOWN" family parses as CommandLocal too (§2.1: the receiver uses
	// the real connection's parameters).
	CommandLocal Command = 0x0
	// CommandProxy: the connection is relayed for Source.
	CommandProxy Command = 0x1
)

func (c Command) String() string {
	switch c {
	case CommandLocal:
		return "LOCAL"
	case CommandProxy:
		return "PROXY"
	}
	return fmt.Sprintf("command(%d)", uint8(c))
}

// Transport is the family and transport byte of a version 2 header (§2.2,
// 14th byte): the family in the high nibble, the protocol in the low one.
// Version 1 knows TCP4, TCP6 and UNKNOWN (Unspec).
type Transport uint8

// Transports (§2.2 "In practice, the following protocol bytes are
// expected").
const (
	Unspec     Transport = 0x00
	TCP4       Transport = 0x11
	UDP4       Transport = 0x12
	TCP6       Transport = 0x21
	UDP6       Transport = 0x22
	UnixStream Transport = 0x31
	UnixDgram  Transport = 0x32
)

func (t Transport) String() string {
	switch t {
	case Unspec:
		return "UNSPEC"
	case TCP4:
		return "TCP4"
	case UDP4:
		return "UDP4"
	case TCP6:
		return "TCP6"
	case UDP6:
		return "UDP6"
	case UnixStream:
		return "UNIX-STREAM"
	case UnixDgram:
		return "UNIX-DGRAM"
	}
	return fmt.Sprintf("transport(0x%02x)", uint8(t))
}

// addrLen is the length of the address block of t (§2.2 union proxy_addr).
func (t Transport) addrLen() int {
	switch t {
	case TCP4, UDP4:
		return 4 + 4 + 2 + 2
	case TCP6, UDP6:
		return 16 + 16 + 2 + 2
	case UnixStream, UnixDgram:
		return 108 + 108
	}
	return 0
}

// TLV types of version 2 (§2.2, and §2.2.8 for the reserved ranges).
const (
	TypeALPN      uint8 = 0x01 // §2.2.1
	TypeAuthority uint8 = 0x02 // §2.2.2: the host name the client asked for (its SNI)
	TypeCRC32C    uint8 = 0x03 // §2.2.3
	TypeNoop      uint8 = 0x04 // §2.2.4
	TypeUniqueID  uint8 = 0x05 // §2.2.5
	TypeSSL       uint8 = 0x20 // §2.2.6
	TypeNetNS     uint8 = 0x30 // §2.2.7

	SubtypeSSLVersion uint8 = 0x21 // §2.2.6
	SubtypeSSLCN      uint8 = 0x22
	SubtypeSSLCipher  uint8 = 0x23
	SubtypeSSLSigAlg  uint8 = 0x24
	SubtypeSSLKeyAlg  uint8 = 0x25

	TypeMinCustom     uint8 = 0xE0 // §2.2.8: application-specific (AWS uses 0xEA, Azure 0xEE)
	TypeMaxCustom     uint8 = 0xEF
	TypeMinExperiment uint8 = 0xF0
	TypeMaxExperiment uint8 = 0xF7
)

// Client flags of the PP2_TYPE_SSL TLV (§2.2.6).
const (
	ClientSSL      uint8 = 0x01 // the client connected over SSL/TLS
	ClientCertConn uint8 = 0x02 // it sent a certificate on this connection
	ClientCertSess uint8 = 0x04 // it sent one at least once in this TLS session
)

// MaxUniqueID is the longest PP2_TYPE_UNIQUE_ID value (§2.2.5).
const MaxUniqueID = 128

// Header is one PROXY protocol header.
type Header struct {
	Version Version
	Command Command
	// Transport is the relayed connection's family and protocol; TCP4 or
	// TCP6 for version 1, Unspec for "UNKNOWN".
	Transport Transport
	// Source is the real client, Destination the address it connected to
	// (the balancer's frontend); both invalid for Unspec, unix sockets and
	// LOCAL headers.
	Source, Destination netip.AddrPort
	// SourcePath and DestinationPath are the socket paths of a unix
	// transport (§2.2: 108 bytes each, NUL-padded).
	SourcePath, DestinationPath string

	// Version 2 TLVs.
	ALPN      []byte // §2.2.1, as the client offered or negotiated it
	Authority string // §2.2.2: the SNI
	UniqueID  []byte // §2.2.5
	NetNS     string // §2.2.7
	// CRC32C is true when the header carried a checksum (it was verified:
	// a wrong one fails Parse). Marshal adds one when set.
	CRC32C bool
	// SSL is the PP2_TYPE_SSL TLV, nil when absent.
	SSL *SSL
	// Other holds the TLVs of other types (custom, experimental, future),
	// in wire order, NOOP excluded.
	Other []TLV
}

// SSL is the PP2_TYPE_SSL TLV (§2.2.6): what the balancer learnt from the
// client's TLS connection to it.
type SSL struct {
	Client uint8  // ClientSSL | ClientCertConn | ClientCertSess
	Verify uint32 // 0: the client's certificate was verified
	// Version is the TLS version as the balancer names it ("TLSv1.2",
	// OpenSSL's spelling); Cipher the suite ("ECDHE-RSA-AES128-GCM-SHA256",
	// OpenSSL's name); "" when the sub-TLV is absent.
	Version, Cipher string
	SigAlg, KeyAlg  string // of the balancer's own certificate
	CN              string // of the client certificate
}

// TLV is one type-length-value entry of a version 2 header (§2.2).
type TLV struct {
	Type  uint8
	Value []byte
}

// Errors. Every error of Parse wraps exactly one of them.
var (
	// ErrNeedMore: the bytes are a strict prefix of a header; more of the
	// stream may complete it.
	ErrNeedMore = errors.New("proxyproto: incomplete header")
	// ErrNotProxy: the bytes do not start with a PROXY header.
	ErrNotProxy = errors.New("proxyproto: not a PROXY protocol header")
	// ErrMalformed: the bytes start like a PROXY header but break the
	// specification (a receiver must drop such a connection).
	ErrMalformed = errors.New("proxyproto: malformed header")
)

// v2Signature is the 12-byte block every version 2 header starts with
// (§2.2).
const v2Signature = "\r\n\r\n\x00\r\nQUIT\n"

// v1Prefix starts every version 1 header (§2.1).
const v1Prefix = "PROXY "

// v1MaxLen is the longest version 1 line, CRLF included (§2.1).
const v1MaxLen = 107

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}
