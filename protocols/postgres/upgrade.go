package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"golang.org/x/crypto/cryptobyte"

	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/plaintext"
)

// Upgrade sends an SSLRequest on a fresh connection and reads the
// server's answer ("Message Flow", SSL Session Encryption): 'S' and the
// connection is positioned at the server's first TLS byte (the caller's
// ClientHello goes next); 'N' is protocols.ErrNoTLS (the server has no
// TLS; Options.StartTLSAnyway cannot change that answer); an
// ErrorResponse is protocols.ErrThrottled when it turns clients away for
// now ("too many clients", "the database system is starting up", a
// postmaster that cannot fork) and protocols.ErrSTARTTLSRefused
// otherwise (a server that does not know the request). Nothing past the
// answer is read; an ErrorResponse is read whole, within Options.MaxLine
// bytes.
//
// It keeps the contract of protocols.Protocol.Upgrade: bounded by ctx and
// Options.Timeout, a *protocols.Error naming the stage
// (protocols.StageSTARTTLS: the request is the whole dialogue), the
// Dialogue returned also on failure. A dialogue that will not upgrade
// ends without a word: the protocol has no goodbye before a
// StartupMessage.
func Upgrade(ctx context.Context, conn net.Conn, opts protocols.Options) (*protocols.Dialogue, error) {
	opts = opts.WithDefaults(defaults)
	return plaintext.Run(ctx, conn, Name, protocols.StageSTARTTLS, opts, func(s *plaintext.Session) (*protocols.Dialogue, error) {
		return sslRequestDialogue(s, opts)
	})
}

func sslRequestDialogue(s *plaintext.Session, opts protocols.Options) (*protocols.Dialogue, error) {
	info := &protocols.Dialogue{Protocol: Name}
	fail := func(reply string, temporary bool, err error) error {
		return &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Reply: reply, Temporary: temporary, Err: err}
	}
	if err := s.Write(sslRequest); err != nil {
		return info, fail("", false, s.IOError(err))
	}
	answer, err := s.R.ReadByte()
	if err != nil {
		return info, fail("", false, s.IOError(err))
	}
	switch answer {
	case answerSSL:
		info.Set(AttrAnswer, "S")
		info.STARTTLSAdvertised = true
		return info, nil
	case answerNo:
		info.Set(AttrAnswer, "N")
		return info, fail("N", false, protocols.ErrNoTLS)
	case answerError:
		info.Set(AttrAnswer, "E")
	default:
		return info, fail(fmt.Sprintf("0x%02x", answer), false, protocols.ErrUnexpectedReply)
	}
	e, err := readError(s, opts)
	if err != nil {
		var pe *protocols.Error
		if errors.As(err, &pe) {
			return info, err
		}
		return info, fail("", false, err)
	}
	info.Banner = e.String()
	if e.throttled() {
		return info, fail(e.String(), true, protocols.ErrThrottled)
	}
	return info, fail(e.String(), false, protocols.ErrSTARTTLSRefused)
}

// readError reads the rest of an ErrorResponse whose type byte has been
// read: a protocol-3 one (Int32 length, then the fields) when the next
// byte is a length's high byte, a protocol-2 one (a NUL-terminated text)
// when it is text. Either is read whole and no further, within
// opts.MaxLine bytes.
func readError(s *plaintext.Session, opts protocols.Options) (errorResponse, error) {
	first, err := s.R.ReadByte()
	if err != nil {
		return errorResponse{}, s.IOError(err)
	}
	if first >= 0x20 {
		// Protocol 2: "E" and a NUL-terminated message.
		text := []byte{first}
		for {
			c, err := s.R.ReadByte()
			if err != nil {
				return errorResponse{}, s.IOError(err)
			}
			if c == 0 {
				return errorResponse{message: string(text)}, nil
			}
			if len(text)+1 >= opts.MaxLine {
				return errorResponse{}, &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Err: protocols.ErrLineTooLong}
			}
			text = append(text, c)
		}
	}
	// Protocol 3: Int32 length (itself included), then the fields.
	hdr := [4]byte{first}
	if _, err := io.ReadFull(s.Conn(), hdr[1:]); err != nil {
		return errorResponse{}, s.IOError(err)
	}
	var n uint32
	length := cryptobyte.String(hdr[:])
	length.ReadUint32(&n)
	switch {
	case n < 5:
		return errorResponse{}, &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Reply: fmt.Sprintf("ErrorResponse of length %d", n), Err: protocols.ErrMalformed}
	case int64(n)-4 > int64(opts.MaxLine):
		return errorResponse{}, &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Reply: fmt.Sprintf("ErrorResponse of %d bytes", n), Err: protocols.ErrLineTooLong}
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(s.Conn(), body); err != nil {
		return errorResponse{}, s.IOError(err)
	}
	e, ok := parseErrorFields(body, opts.MaxLines)
	if !ok {
		return errorResponse{}, &protocols.Error{Protocol: Name, Stage: protocols.StageSTARTTLS, Reply: protocols.QuoteReply(string(body)), Err: protocols.ErrMalformed}
	}
	return e, nil
}
