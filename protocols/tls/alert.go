package tls

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Alert descriptions: every value of RFC 8446 §6, the TLS 1.0–1.2 ones it
// retired (RFC 5246 §7.2, RFC 2246 §7.2), SSLv3's no_certificate (RFC 6101
// §5.4.2), and those of later RFCs that a scanner meets.
const (
	AlertCloseNotify                  uint8 = 0   // RFC 8446 §6.1
	AlertUnexpectedMessage            uint8 = 10  // RFC 8446 §6.2
	AlertBadRecordMAC                 uint8 = 20  // RFC 8446 §6.2
	AlertDecryptionFailed             uint8 = 21  // RFC 5246 §7.2.2 (reserved in TLS 1.2+)
	AlertRecordOverflow               uint8 = 22  // RFC 8446 §6.2
	AlertDecompressionFailure         uint8 = 30  // RFC 5246 §7.2.2 (TLS ≤ 1.2)
	AlertHandshakeFailure             uint8 = 40  // RFC 8446 §6.2
	AlertNoCertificate                uint8 = 41  // RFC 6101 §5.4.2 (SSLv3 only)
	AlertBadCertificate               uint8 = 42  // RFC 8446 §6.2
	AlertUnsupportedCertificate       uint8 = 43  // RFC 8446 §6.2
	AlertCertificateRevoked           uint8 = 44  // RFC 8446 §6.2
	AlertCertificateExpired           uint8 = 45  // RFC 8446 §6.2
	AlertCertificateUnknown           uint8 = 46  // RFC 8446 §6.2
	AlertIllegalParameter             uint8 = 47  // RFC 8446 §6.2
	AlertUnknownCA                    uint8 = 48  // RFC 8446 §6.2
	AlertAccessDenied                 uint8 = 49  // RFC 8446 §6.2
	AlertDecodeError                  uint8 = 50  // RFC 8446 §6.2
	AlertDecryptError                 uint8 = 51  // RFC 8446 §6.2
	AlertExportRestriction            uint8 = 60  // RFC 2246 §7.2.2 (reserved in TLS 1.1+)
	AlertProtocolVersion              uint8 = 70  // RFC 8446 §6.2
	AlertInsufficientSecurity         uint8 = 71  // RFC 8446 §6.2
	AlertInternalError                uint8 = 80  // RFC 8446 §6.2
	AlertInappropriateFallback        uint8 = 86  // RFC 7507 §2, RFC 8446 §6.2
	AlertUserCanceled                 uint8 = 90  // RFC 8446 §6.1
	AlertNoRenegotiation              uint8 = 100 // RFC 5246 §7.2.2 (TLS ≤ 1.2)
	AlertMissingExtension             uint8 = 109 // RFC 8446 §6.2
	AlertUnsupportedExtension         uint8 = 110 // RFC 8446 §6.2
	AlertCertificateUnobtainable      uint8 = 111 // RFC 6066 §9 (reserved in TLS 1.3)
	AlertUnrecognizedName             uint8 = 112 // RFC 6066 §3, RFC 8446 §6.2
	AlertBadCertificateStatusResponse uint8 = 113 // RFC 6066 §8, RFC 8446 §6.2
	AlertBadCertificateHashValue      uint8 = 114 // RFC 6066 §9 (reserved in TLS 1.3)
	AlertUnknownPSKIdentity           uint8 = 115 // RFC 4279 §2, RFC 8446 §6.2
	AlertCertificateRequired          uint8 = 116 // RFC 8446 §6.2
	AlertNoApplicationProtocol        uint8 = 120 // RFC 7301 §3.2, RFC 8446 §6.2
	AlertECHRequired                  uint8 = 121 // IANA, TLS Encrypted Client Hello
)

// alertNames maps descriptions to their RFC names.
var alertNames = map[uint8]string{
	AlertCloseNotify:                  "close_notify",
	AlertUnexpectedMessage:            "unexpected_message",
	AlertBadRecordMAC:                 "bad_record_mac",
	AlertDecryptionFailed:             "decryption_failed",
	AlertRecordOverflow:               "record_overflow",
	AlertDecompressionFailure:         "decompression_failure",
	AlertHandshakeFailure:             "handshake_failure",
	AlertNoCertificate:                "no_certificate",
	AlertBadCertificate:               "bad_certificate",
	AlertUnsupportedCertificate:       "unsupported_certificate",
	AlertCertificateRevoked:           "certificate_revoked",
	AlertCertificateExpired:           "certificate_expired",
	AlertCertificateUnknown:           "certificate_unknown",
	AlertIllegalParameter:             "illegal_parameter",
	AlertUnknownCA:                    "unknown_ca",
	AlertAccessDenied:                 "access_denied",
	AlertDecodeError:                  "decode_error",
	AlertDecryptError:                 "decrypt_error",
	AlertExportRestriction:            "export_restriction",
	AlertProtocolVersion:              "protocol_version",
	AlertInsufficientSecurity:         "insufficient_security",
	AlertInternalError:                "internal_error",
	AlertInappropriateFallback:        "inappropriate_fallback",
	AlertUserCanceled:                 "user_canceled",
	AlertNoRenegotiation:              "no_renegotiation",
	AlertMissingExtension:             "missing_extension",
	AlertUnsupportedExtension:         "unsupported_extension",
	AlertCertificateUnobtainable:      "certificate_unobtainable",
	AlertUnrecognizedName:             "unrecognized_name",
	AlertBadCertificateStatusResponse: "bad_certificate_status_response",
	AlertBadCertificateHashValue:      "bad_certificate_hash_value",
	AlertUnknownPSKIdentity:           "unknown_psk_identity",
	AlertCertificateRequired:          "certificate_required",
	AlertNoApplicationProtocol:        "no_application_protocol",
	AlertECHRequired:                  "ech_required",
}

// AlertDescriptionName returns the RFC name of an alert description
// ("handshake_failure"), or "alert(N)" for an unassigned value.
func AlertDescriptionName(d uint8) string {
	if name, ok := alertNames[d]; ok {
		return name
	}
	return fmt.Sprintf("alert(%d)", d)
}

// ParseAlert parses an alert record payload (RFC 8446 §6: level, then
// description). It must be exactly two bytes: fewer is ErrTruncated, more
// ErrMalformed. The level must be warning(1) or fatal(2), else ErrMalformed;
// any description is accepted. An encrypted alert (after
// change_cipher_spec, or any TLS 1.3 alert) cannot be parsed here.
func ParseAlert(payload []byte) (Alert, error) {
	s := cryptobyte.String(payload)
	var a Alert
	if !s.ReadUint8(&a.Level) {
		return Alert{}, perr("alert", "level", ErrTruncated)
	}
	// RFC 8446 §6: enum { warning(1), fatal(2), (255) } AlertLevel.
	if a.Level != AlertLevelWarning && a.Level != AlertLevelFatal {
		return Alert{}, perr("alert", "level", ErrMalformed)
	}
	// RFC 8446 §6: AlertDescription description.
	if !s.ReadUint8(&a.Description) {
		return Alert{}, perr("alert", "description", ErrTruncated)
	}
	if !s.Empty() {
		return Alert{}, perr("alert", "", ErrMalformed)
	}
	return a, nil
}

// String returns the level and the description's name, for example
// "fatal handshake_failure" or "warning close_notify".
func (a Alert) String() string {
	var level string
	switch a.Level {
	case AlertLevelWarning:
		level = "warning"
	case AlertLevelFatal:
		level = "fatal"
	default:
		level = fmt.Sprintf("level(%d)", a.Level)
	}
	return level + " " + AlertDescriptionName(a.Description)
}

// Marshal returns the two-byte alert payload (RFC 8446 §6). Frame it with
// AppendRecord(dst, ContentAlert, v, a.Marshal()).
func (a Alert) Marshal() []byte {
	return []byte{a.Level, a.Description}
}
