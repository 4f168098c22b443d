package tls

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
)

// ParseCertificate parses a Certificate handshake message, 4-byte header
// included, and returns the DER certificates in the order sent (the
// sender's own first). With tls13 false it reads the TLS ≤ 1.2 (and SSLv3)
// form, RFC 5246 §7.4.2; with tls13 true the TLS 1.3 form, RFC 8446 §4.4.2,
// whose request context and per-entry extensions are checked for syntax and
// dropped. An empty list parses (a client with no certificate sends one).
// The certificates are copied out of msg.
//
// Errors: another message type is ErrUnexpected, input shorter than the
// declared length ErrTruncated, inconsistent lengths, an empty certificate
// or a duplicate per-entry extension ErrMalformed.
func ParseCertificate(msg []byte, tls13 bool) ([][]byte, error) {
	const what = "Certificate"
	body, err := shBody(msg, TypeCertificate, what)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(bytes.Clone(body))
	if tls13 {
		// RFC 8446 §4.4.2: opaque certificate_request_context<0..2^8-1>.
		var ctx cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) {
			return nil, perr(what, "certificate_request_context", ErrMalformed)
		}
	}
	// RFC 5246 §7.4.2: ASN.1Cert certificate_list<0..2^24-1>;
	// RFC 8446 §4.4.2: CertificateEntry certificate_list<0..2^24-1>.
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil, perr(what, "certificate_list", ErrMalformed)
	}
	certs := [][]byte{}
	for !list.Empty() {
		// RFC 5246 §7.4.2: opaque ASN.1Cert<1..2^24-1>; RFC 8446 §4.4.2:
		// opaque cert_data<1..2^24-1> (or the RawPublicKey form of
		// RFC 7250, which has the same encoding).
		var cert cryptobyte.String
		if !list.ReadUint24LengthPrefixed(&cert) || cert.Empty() {
			return nil, perr(what, "cert_data", ErrMalformed)
		}
		if tls13 {
			// RFC 8446 §4.4.2: Extension extensions<0..2^16-1>, the
			// same syntax as in the hellos (§4.2).
			var exts cryptobyte.String
			if !list.ReadUint16LengthPrefixed(&exts) {
				return nil, perr(what, "extensions", ErrMalformed)
			}
			if _, err := shReadExtensions(exts, what); err != nil {
				return nil, err
			}
		}
		certs = append(certs, shClip(cert))
	}
	return certs, nil
}

// MarshalCertificate returns a TLS ≤ 1.2 Certificate handshake message
// (RFC 5246 §7.4.2), 4-byte header included, carrying certs in the order
// given. It returns nil when the certificates exceed the 24-bit length
// limits (about 16 MiB).
func MarshalCertificate(certs [][]byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(uint8(TypeCertificate))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range certs {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	return out
}

// MarshalCertificateTLS13 returns a TLS 1.3 Certificate handshake message
// (RFC 8446 §4.4.2) with the given certificate_request_context (empty in a
// server's handshake) and one CertificateEntry per certificate, each with
// an empty extension block. It returns nil when a length limit is exceeded.
func MarshalCertificateTLS13(context []byte, certs [][]byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddUint8(uint8(TypeCertificate))
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(context) })
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			for _, c := range certs {
				b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
				b.AddUint16LengthPrefixed(func(*cryptobyte.Builder) {})
			}
		})
	})
	out, err := b.Bytes()
	if err != nil {
		return nil
	}
	return out
}
