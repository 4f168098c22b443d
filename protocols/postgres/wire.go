package postgres

import (
	"bytes"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// Request codes of the messages a client may send first, each an Int32
// length (8, or 16 for CancelRequest) and an Int32 code ("Message
// Formats": SSLRequest, GSSENCRequest, CancelRequest), and the protocol
// versions a StartupMessage carries in the same place (3.0; 3.2 since
// PostgreSQL 18).
const (
	codeSSLRequest    = 80877103 // 1234 << 16 | 5679
	codeGSSENCRequest = 80877104 // 1234 << 16 | 5680
	codeCancelRequest = 80877102 // 1234 << 16 | 5678
	protocol30        = 3 << 16
	protocolMajorMask = 0xffff0000
)

// maxStartup bounds a StartupMessage's length word as PostgreSQL does
// (MAX_STARTUP_PACKET_LENGTH), for the recogniser.
const maxStartup = 10000

// sslRequest is the SSLRequest message ("Message Formats": Int32(8),
// Int32(80877103)).
var sslRequest = func() []byte {
	var b cryptobyte.Builder
	b.AddUint32(8)
	b.AddUint32(codeSSLRequest)
	return b.BytesOrPanic()
}()

// The server's one-byte answers to an SSLRequest or a GSSENCRequest
// ("Message Flow", SSL Session Encryption and GSSAPI Session Encryption),
// and the type byte of an ErrorResponse, which a server may send instead.
const (
	answerSSL   = 'S' // TLS follows
	answerNo    = 'N' // no encryption: go on in clear or close
	answerGSS   = 'G' // GSSAPI encryption follows (GSSENCRequest only)
	answerError = 'E' // an ErrorResponse
)

// errorResponse is an ErrorResponse's fields that say what happened
// ("Error and Notice Message Fields"), or the text of a protocol-2 error
// (an 'E' followed by a NUL-terminated string: what the postmaster sends
// when it cannot fork, and what servers older than 7.4 send).
type errorResponse struct {
	severity string // 'V' (non-localised, 9.6 and later), else 'S'
	code     string // 'C': the SQLSTATE
	message  string // 'M', or the protocol-2 text
	fields   int
}

// String renders the error for a reply: "FATAL 53300 sorry, too many
// clients already".
func (e errorResponse) String() string {
	return strings.Join(strings.Fields(strings.Join([]string{e.severity, e.code, e.message}, " ")), " ")
}

// throttled reports whether the error turns clients away for now: the
// SQLSTATE class 53 (insufficient resources: 53300 too_many_connections,
// 53200 out of memory …) or 57P03 (cannot_connect_now: "the database
// system is starting up", "… is shutting down", "… is in recovery
// mode"), or, for a protocol-2 error (no SQLSTATE), the postmaster's
// words for the same.
func (e errorResponse) throttled() bool {
	if strings.HasPrefix(e.code, "53") || e.code == "57P03" {
		return true
	}
	if e.code != "" {
		return false
	}
	m := strings.ToLower(e.message)
	for _, w := range []string{"too many clients", "could not fork", "starting up", "shutting down", "in recovery mode", "not yet accepting connections"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// parseErrorFields parses the body of an ErrorResponse (after its type
// byte and length word): fields of a type byte and a NUL-terminated
// string, ended by a zero byte ("Message Formats", ErrorResponse). ok is
// false when the body is not that, or has more than maxFields fields.
func parseErrorFields(body []byte, maxFields int) (e errorResponse, ok bool) {
	s := cryptobyte.String(body)
	var localSeverity string
	for {
		var typ uint8
		if !s.ReadUint8(&typ) {
			return e, false
		}
		if typ == 0 {
			// The terminator is the last byte.
			if !s.Empty() {
				return e, false
			}
			break
		}
		v, ok := readCString(&s)
		if !ok {
			return e, false
		}
		e.fields++
		if e.fields > maxFields {
			return e, false
		}
		switch typ {
		case 'S':
			localSeverity = v
		case 'V':
			e.severity = v
		case 'C':
			e.code = v
		case 'M':
			e.message = v
		}
	}
	if e.severity == "" {
		e.severity = localSeverity
	}
	return e, true
}

// readCString reads a NUL-terminated string ("Message Data Types":
// String(s)) and its terminator.
func readCString(s *cryptobyte.String) (string, bool) {
	i := bytes.IndexByte(*s, 0)
	var v []byte
	if i < 0 || !s.ReadBytes(&v, i) || !s.Skip(1) {
		return "", false
	}
	return string(v), true
}
