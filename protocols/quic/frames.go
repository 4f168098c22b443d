package quic

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
)

// Frame types that may appear in Initial packets (RFC 9000 §12.4, Table 3:
// PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE of type 0x1c).
const (
	FramePadding          uint64 = 0x00 // RFC 9000 §19.1
	FramePing             uint64 = 0x01 // §19.2
	FrameACK              uint64 = 0x02 // §19.3
	FrameACKECN           uint64 = 0x03 // §19.3
	FrameCrypto           uint64 = 0x06 // §19.6
	FrameConnectionClose  uint64 = 0x1c // §19.19, transport error
	FrameApplicationClose uint64 = 0x1d // §19.19, application error
)

// Frame is one frame of an Initial packet's payload. Data aliases the
// payload.
type Frame struct {
	Type uint64
	// Offset and Data are the stream offset and the bytes of a CRYPTO
	// frame.
	Offset uint64
	Data   []byte
	// ErrorCode is the error of a CONNECTION_CLOSE frame; Reason its
	// reason phrase (aliasing the payload).
	ErrorCode uint64
	Reason    []byte
}

// maxCryptoOffset bounds CRYPTO frame offsets (RFC 9000 §19.6: "The
// largest offset delivered on a stream ... cannot exceed 2^62-1").
const maxCryptoOffset = 1<<62 - 1

// ParseFrames reads the frames of a decrypted Initial payload in order
// and calls yield for each, PADDING runs excepted (RFC 9000 §19); it stops
// early when yield returns false. A frame that may not appear in an
// Initial packet (RFC 9000 §12.4) or that does not parse is ErrMalformed;
// the frames before it have been yielded.
func ParseFrames(payload []byte, yield func(Frame) bool) error {
	const what = "frame"
	s := cryptobyte.String(payload)
	var f Frame
	for !s.Empty() {
		f = Frame{}
		if !readVarint(&s, &f.Type) {
			return perr(what, "type", ErrMalformed)
		}
		switch f.Type {
		case FramePadding:
			// RFC 9000 §19.1: a single zero byte; runs are skipped here.
			n := 0
			for n < len(s) && s[n] == 0 {
				n++
			}
			s.Skip(n)
			continue
		case FramePing:
			// RFC 9000 §19.2: no content.
		case FrameACK, FrameACKECN:
			// RFC 9000 §19.3: Largest Acknowledged (i), ACK Delay (i),
			// ACK Range Count (i), First ACK Range (i), ACK Range (..)
			// ..., [ECN Counts (..)].
			var largest, delay, count, first uint64
			if !readVarint(&s, &largest) || !readVarint(&s, &delay) ||
				!readVarint(&s, &count) || !readVarint(&s, &first) {
				return perr(what, "ACK", ErrMalformed)
			}
			// Each range takes at least 2 bytes: a larger count cannot fit.
			if count > uint64(len(s))/2 {
				return perr(what, "ACK range count", ErrMalformed)
			}
			for range count {
				// RFC 9000 §19.3.1: Gap (i), ACK Range Length (i).
				var gap, n uint64
				if !readVarint(&s, &gap) || !readVarint(&s, &n) {
					return perr(what, "ACK range", ErrMalformed)
				}
			}
			if f.Type == FrameACKECN {
				// RFC 9000 §19.3.2: ECT0 Count (i), ECT1 Count (i),
				// ECN-CE Count (i).
				var a, b, c uint64
				if !readVarint(&s, &a) || !readVarint(&s, &b) || !readVarint(&s, &c) {
					return perr(what, "ACK ECN counts", ErrMalformed)
				}
			}
		case FrameCrypto:
			// RFC 9000 §19.6: Offset (i), Length (i), Crypto Data (..).
			var n uint64
			if !readVarint(&s, &f.Offset) || !readVarint(&s, &n) {
				return perr(what, "CRYPTO", ErrMalformed)
			}
			if n > uint64(len(s)) {
				return perr(what, "CRYPTO data", ErrMalformed)
			}
			if f.Offset+n > maxCryptoOffset {
				return perr(what, "CRYPTO offset", ErrMalformed)
			}
			var data []byte
			s.ReadBytes(&data, int(n))
			f.Data = data
		case FrameConnectionClose, FrameApplicationClose:
			// RFC 9000 §19.19: Error Code (i), [Frame Type (i)], Reason
			// Phrase Length (i), Reason Phrase (..). RFC 9000 §12.4 allows
			// only type 0x1c in Initial packets, but §10.2.3 has a
			// server send 0x1c in place of 0x1d there; both are read.
			var ft, n uint64
			if !readVarint(&s, &f.ErrorCode) {
				return perr(what, "CONNECTION_CLOSE", ErrMalformed)
			}
			if f.Type == FrameConnectionClose && !readVarint(&s, &ft) {
				return perr(what, "CONNECTION_CLOSE frame type", ErrMalformed)
			}
			if !readVarint(&s, &n) || n > uint64(len(s)) {
				return perr(what, "CONNECTION_CLOSE reason", ErrMalformed)
			}
			var reason []byte
			s.ReadBytes(&reason, int(n))
			f.Reason = reason
		default:
			return perr(what, fmt.Sprintf("type 0x%x in an Initial packet", f.Type), ErrMalformed)
		}
		if !yield(f) {
			return nil
		}
	}
	return nil
}

// CryptoErrorAlert returns the TLS alert carried by a CONNECTION_CLOSE
// error code: RFC 9001 §4.8 maps alert N to the CRYPTO_ERROR code 0x0100+N.
func CryptoErrorAlert(code uint64) (alert uint8, ok bool) {
	if code >= 0x0100 && code <= 0x01ff {
		return uint8(code), true
	}
	return 0, false
}
