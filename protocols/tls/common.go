// Package tls is tlsmap's TLS wire codec: record framing (TLS and SSLv2),
// a ClientHello builder with full control over every field, and parsers for
// the handshake messages that scan and sniff need (ClientHello, ServerHello,
// HelloRetryRequest, Alert, Certificate, ServerKeyExchange, ServerHelloDone,
// and the SSLv2 hellos).
//
// It is a codec only: it never opens connections and never performs
// cryptography beyond generating real key shares. Every parser reads with
// golang.org/x/crypto/cryptobyte and returns an error, never panics, on any
// input.
package tls

import (
	"errors"
	"fmt"
)

// ContentType is the TLS record content type (RFC 8446 §5.1).
type ContentType uint8

// Record content types.
const (
	ContentChangeCipherSpec ContentType = 20
	ContentAlert            ContentType = 21
	ContentHandshake        ContentType = 22
	ContentApplicationData  ContentType = 23
	ContentHeartbeat        ContentType = 24 // RFC 6520
)

func (c ContentType) String() string {
	switch c {
	case ContentChangeCipherSpec:
		return "change_cipher_spec"
	case ContentAlert:
		return "alert"
	case ContentHandshake:
		return "handshake"
	case ContentApplicationData:
		return "application_data"
	case ContentHeartbeat:
		return "heartbeat"
	}
	return fmt.Sprintf("content_type(%d)", uint8(c))
}

// HandshakeType is the handshake message type (RFC 8446 §4, RFC 5246 §7.4).
type HandshakeType uint8

// Handshake message types.
const (
	TypeHelloRequest       HandshakeType = 0
	TypeClientHello        HandshakeType = 1
	TypeServerHello        HandshakeType = 2
	TypeHelloVerifyRequest HandshakeType = 3 // DTLS only
	TypeNewSessionTicket   HandshakeType = 4
	TypeEndOfEarlyData     HandshakeType = 5
	// TypeHelloRetryRequestDraft is the HelloRetryRequest of TLS 1.3
	// drafts up to 21 (draft-ietf-tls-tls13-21 §4.1.4); draft 22 made it
	// a ServerHello with a special random.
	TypeHelloRetryRequestDraft HandshakeType = 6
	TypeEncryptedExtensions    HandshakeType = 8
	TypeCertificate            HandshakeType = 11
	TypeServerKeyExchange      HandshakeType = 12
	TypeCertificateRequest     HandshakeType = 13
	TypeServerHelloDone        HandshakeType = 14
	TypeCertificateVerify      HandshakeType = 15
	TypeClientKeyExchange      HandshakeType = 16
	TypeFinished               HandshakeType = 20
	TypeCertificateStatus      HandshakeType = 22 // RFC 6066 §8
	TypeKeyUpdate              HandshakeType = 24
	TypeMessageHash            HandshakeType = 254
)

func (t HandshakeType) String() string {
	switch t {
	case TypeHelloRequest:
		return "hello_request"
	case TypeClientHello:
		return "client_hello"
	case TypeServerHello:
		return "server_hello"
	case TypeHelloVerifyRequest:
		return "hello_verify_request"
	case TypeNewSessionTicket:
		return "new_session_ticket"
	case TypeEndOfEarlyData:
		return "end_of_early_data"
	case TypeHelloRetryRequestDraft:
		return "hello_retry_request"
	case TypeEncryptedExtensions:
		return "encrypted_extensions"
	case TypeCertificate:
		return "certificate"
	case TypeServerKeyExchange:
		return "server_key_exchange"
	case TypeCertificateRequest:
		return "certificate_request"
	case TypeServerHelloDone:
		return "server_hello_done"
	case TypeCertificateVerify:
		return "certificate_verify"
	case TypeClientKeyExchange:
		return "client_key_exchange"
	case TypeFinished:
		return "finished"
	case TypeCertificateStatus:
		return "certificate_status"
	case TypeKeyUpdate:
		return "key_update"
	case TypeMessageHash:
		return "message_hash"
	}
	return fmt.Sprintf("handshake_type(%d)", uint8(t))
}

// Extension type code points used by the codec (IANA "TLS ExtensionType
// Values"). The registry of names for display lives in package ciphers.
const (
	ExtServerName           uint16 = 0      // RFC 6066 §3
	ExtStatusRequest        uint16 = 5      // RFC 6066 §8
	ExtSupportedGroups      uint16 = 10     // RFC 8422 §5.1.1, RFC 8446 §4.2.7
	ExtECPointFormats       uint16 = 11     // RFC 8422 §5.1.2
	ExtSignatureAlgorithms  uint16 = 13     // RFC 8446 §4.2.3
	ExtALPN                 uint16 = 16     // RFC 7301 §3.1
	ExtSCT                  uint16 = 18     // RFC 6962 §3.3.1
	ExtPadding              uint16 = 21     // RFC 7685 §3
	ExtEncryptThenMAC       uint16 = 22     // RFC 7366 §2
	ExtExtendedMasterSecret uint16 = 23     // RFC 7627 §5.1
	ExtCompressCertificate  uint16 = 27     // RFC 8879 §3
	ExtRecordSizeLimit      uint16 = 28     // RFC 8449 §4
	ExtSessionTicket        uint16 = 35     // RFC 5077 §3.2
	ExtPreSharedKey         uint16 = 41     // RFC 8446 §4.2.11
	ExtEarlyData            uint16 = 42     // RFC 8446 §4.2.10
	ExtSupportedVersions    uint16 = 43     // RFC 8446 §4.2.1
	ExtCookie               uint16 = 44     // RFC 8446 §4.2.2
	ExtPSKKeyExchangeModes  uint16 = 45     // RFC 8446 §4.2.9
	ExtCertAuthorities      uint16 = 47     // RFC 8446 §4.2.4
	ExtSignatureAlgsCert    uint16 = 50     // RFC 8446 §4.2.3
	ExtKeyShare             uint16 = 51     // RFC 8446 §4.2.8
	ExtRenegotiationInfo    uint16 = 0xff01 // RFC 5746 §3.2
)

// Errors. Every error returned by a parser wraps exactly one of these
// sentinels, so callers can classify with errors.Is.
var (
	// ErrTruncated means the input ended before the structure did. In a
	// stream it means "feed more bytes"; in a complete message it is fatal.
	ErrTruncated = errors.New("tls: truncated")
	// ErrMalformed means the bytes cannot be the structure asked for:
	// inconsistent lengths, trailing bytes, duplicate extensions, values out
	// of range.
	ErrMalformed = errors.New("tls: malformed")
	// ErrUnexpected means a well-formed structure of another kind than the
	// one asked for (for example an alert record where a handshake was
	// expected, or a ServerHello passed to ParseClientHello).
	ErrUnexpected = errors.New("tls: unexpected message")
	// ErrTooLarge means a length field exceeds the limit the codec accepts
	// (2^14+2048 for a record, the configured cap for a handshake message).
	ErrTooLarge = errors.New("tls: too large")
)

// ParseError is the typed error of every parser: which structure, which
// field, and the sentinel it wraps.
type ParseError struct {
	What  string // the structure: "ClientHello", "record", "key_share" …
	Field string // the field being read when parsing failed; may be empty
	Err   error  // one of ErrTruncated, ErrMalformed, ErrUnexpected, ErrTooLarge
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("tls: %s: %v", e.What, trimPrefix(e.Err))
	}
	return fmt.Sprintf("tls: %s: %s: %v", e.What, e.Field, trimPrefix(e.Err))
}

func (e *ParseError) Unwrap() error { return e.Err }

func trimPrefix(err error) string {
	s := err.Error()
	if len(s) > 5 && s[:5] == "tls: " {
		return s[5:]
	}
	return s
}

func perr(what, field string, err error) error {
	return &ParseError{What: what, Field: field, Err: err}
}

// Extension is one extension as it appears on the wire: its type and its
// opaque extension_data.
type Extension struct {
	Type uint16
	Data []byte
}
