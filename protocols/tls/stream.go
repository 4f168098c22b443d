package tls

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
)

// ErrNeedMore is returned by Decoder.Next when no event is complete: write
// more bytes and call Next again. It wraps ErrTruncated (in a stream,
// truncation means "feed more"), so errors.Is(err, ErrTruncated) holds too.
var ErrNeedMore = fmt.Errorf("%w: need more input", ErrTruncated)

// DefaultMaxMessage is the handshake message size cap NewDecoder uses when
// given a non-positive one: 1 MiB, room for the largest certificate chains
// seen in captures (a 332 KiB one among them). A caller that needs only the
// hellos can pass far less.
const DefaultMaxMessage = 1 << 20

// EventKind is the kind of a decoded stream Event.
type EventKind uint8

// Event kinds.
const (
	// EventHandshake is one whole plaintext handshake message.
	EventHandshake EventKind = iota + 1
	// EventAlert is one plaintext alert.
	EventAlert
	// EventChangeCipherSpec is a change_cipher_spec record.
	EventChangeCipherSpec
	// EventEncrypted is a record whose payload is not decoded and not
	// kept: application_data and heartbeat records, and every record
	// protected after a change_cipher_spec (see Decoder).
	EventEncrypted
	// EventSSLv2 is one SSLv2 record (see Decoder).
	EventSSLv2
)

// String returns "handshake", "alert", "change_cipher_spec", "encrypted",
// "sslv2" or "event(N)".
func (k EventKind) String() string {
	switch k {
	case EventHandshake:
		return "handshake"
	case EventAlert:
		return "alert"
	case EventChangeCipherSpec:
		return "change_cipher_spec"
	case EventEncrypted:
		return "encrypted"
	case EventSSLv2:
		return "sslv2"
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is one unit decoded from a stream.
type Event struct {
	Kind EventKind
	// RecordType is the content type of the record (for EventHandshake,
	// ContentHandshake); 0 for EventSSLv2.
	RecordType ContentType
	// RecordVersion is the record-layer version: of the record in which a
	// handshake message began, or of the record itself; VersionSSL20 for
	// EventSSLv2.
	RecordVersion Version
	// HandshakeType is the msg_type of an EventHandshake.
	HandshakeType HandshakeType
	// Message is, for EventHandshake, the whole handshake message with its
	// 4-byte header (pass it to ParseServerHello, ParseClientHello …);
	// for EventSSLv2, the record body, message type first (pass it to
	// ParseSSLv2ClientHello …). It aliases the decoder's memory and is
	// valid until the next Write or Reset; the parsers copy what they
	// return.
	Message []byte
	// Alert is the alert of an EventAlert.
	Alert Alert
	// Length is the payload length of the record (for EventHandshake, of
	// the message including its header).
	Length int
}

// Decoder states.
const (
	decStart    = iota // nothing received: TLS or SSLv2?
	decHeader          // reading a TLS record header
	decV2Header        // reading an SSLv2 record header
	decPayload         // inside a record's payload
)

// What the decoder does with the payload of the current record.
const (
	decModeHandshake = iota // append to the handshake buffer
	decModeSkip             // drop (the event was queued at the header)
	decModeAlert            // collect, then parse alerts
	decModeCCS              // collect one byte
	decModeClassify         // collect, then plaintext hello or encrypted?
	decModeSSLv2            // collect into the handshake buffer as one event
)

// decQueued is a queued event; a message is kept as offsets into hs, which
// may move while events are queued.
type decQueued struct {
	ev       Event
	off, end int
}

// Decoder turns the bytes of one direction of a TLS connection into
// events. It is push-based: Write feeds bytes (any chunking, copied as
// needed), Next returns the decoded events in stream order, then
// ErrNeedMore. Scan feeds it from a net.Conn (see ReadEvent); sniff feeds
// it reassembled TCP payload, one decoder per direction.
//
// It reassembles handshake messages across records and writes, splits
// records holding several messages, and reports alerts, change_cipher_spec
// and protected records. Rules (RFC 8446 §5, RFC 5246 §6.2):
//
//   - A stream whose first byte has its high bit set is SSLv2-framed
//     (RFC 5246 Appendix E.2): its first record is returned as EventSSLv2.
//     If it is an SSLv2-compatible CLIENT-HELLO (message type 1, version
//     major 3), the rest of the stream is decoded as TLS records; otherwise
//     every further record is an EventSSLv2 too.
//   - After a change_cipher_spec from this side, records are protected: a
//     handshake, alert or application_data record becomes EventEncrypted
//     (content type and length only). Two exceptions, both unambiguous
//     since no cipher yields such ciphertexts: an alert record of exactly
//     two valid bytes is an EventAlert; and when this side's hello offered
//     or selected TLS 1.3 (or was a HelloRetryRequest) a handshake record
//     holding exactly one ClientHello or ServerHello is plaintext — the
//     middlebox-compatibility change_cipher_spec of RFC 8446 Appendix D.4
//     precedes the second ClientHello, and follows a HelloRetryRequest.
//     TLS 1.3 protected records are application_data on the wire (RFC 8446
//     §5.2), so they need no rule.
//   - A non-handshake record other than an alert in the middle of a
//     handshake message is ErrUnexpected (RFC 8446 §5.1).
//   - A handshake message longer than the cap given to NewDecoder, or an
//     SSLv2 record longer than it, is ErrTooLarge; record-header errors are
//     ErrMalformed or ErrTooLarge as in ParseRecord.
//
// Errors are sticky: once Write reports one, Next still returns the events
// decoded before it, then the error, forever. Memory stays bounded by one
// partial record header, one partial alert record, one partial message (≤
// the cap) and whatever the caller writes between two draining calls to
// Next; application data is never copied. A caller done with a connection
// (hellos parsed) may simply stop writing, or Reset the decoder for reuse.
type Decoder struct {
	maxMessage int
	err        error
	state      int

	hdr  [5]byte // partial record header
	hdrN int

	// The current record.
	recType ContentType
	recVer  Version
	remain  int // payload bytes still to come
	mode    int
	coll    []byte // collected payload (alert, change_cipher_spec, classify)

	// Handshake reassembly: hs[:hsDone] holds messages already queued,
	// hs[hsDone:] the beginning of the next one, which began in a record
	// of version msgVer.
	hs     []byte
	hsDone int
	msgVer Version

	queue []decQueued
	qHead int

	ccs      bool // change_cipher_spec seen: records are protected
	tls13    bool // this side's hello offered or selected TLS 1.3
	v2First  bool // the current SSLv2 record is the stream's first
	v2Stream bool // the stream stays SSLv2-framed
}

// NewDecoder returns a decoder that accepts handshake messages of up to
// maxMessage bytes (header included); maxMessage ≤ 0 means
// DefaultMaxMessage.
func NewDecoder(maxMessage int) *Decoder {
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessage
	}
	return &Decoder{maxMessage: maxMessage}
}

// Reset returns the decoder to its initial state for a new stream, keeping
// its buffers when they are small.
func (d *Decoder) Reset() {
	hs, coll, queue := d.hs[:0], d.coll[:0], d.queue[:0]
	if cap(hs) > 1<<16 {
		hs = nil
	}
	if cap(queue) > 1<<10 {
		queue = nil
	}
	*d = Decoder{maxMessage: d.maxMessage, hs: hs, coll: coll, queue: queue}
}

// Buffered returns the number of input bytes held for structures not yet
// complete: a partial record header, collected alert bytes and the
// beginning of a handshake message or SSLv2 record.
func (d *Decoder) Buffered() int {
	return d.hdrN + len(d.coll) + len(d.hs) - d.hsDone
}

// midRecord reports whether the input so far stops inside a record.
func (d *Decoder) midRecord() bool {
	return d.Buffered() > 0 || (d.state == decPayload && d.remain > 0)
}

// Next returns the next decoded event, ErrNeedMore when more input is
// needed, or the decoder's sticky error once the events before it are
// consumed.
func (d *Decoder) Next() (Event, error) {
	if d.qHead < len(d.queue) {
		q := &d.queue[d.qHead]
		d.qHead++
		ev := q.ev
		if q.end > q.off {
			ev.Message = d.hs[q.off:q.end:q.end]
		}
		return ev, nil
	}
	if d.err != nil {
		return Event{}, d.err
	}
	return Event{}, ErrNeedMore
}

// Write feeds p, the next bytes of the stream. It decodes as far as p
// allows and queues the events for Next; it never keeps p. It always
// consumes all of p unless the stream is invalid: then it returns how much
// it consumed and the error (ErrMalformed, ErrUnexpected or ErrTooLarge),
// which Next also returns after the events decoded before it. Write
// invalidates the Message of events returned earlier.
func (d *Decoder) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	d.compact()
	total := len(p)
	for len(p) > 0 && d.err == nil {
		switch d.state {
		case decStart:
			// RFC 5246 Appendix E.2: an SSLv2 CLIENT-HELLO starts with a
			// 2-byte header whose high bit is set; no TLS content type
			// has it.
			if p[0]&0x80 != 0 {
				d.state, d.v2First, d.v2Stream = decV2Header, true, true
			} else {
				d.state = decHeader
			}

		case decHeader:
			k := copy(d.hdr[d.hdrN:], p)
			d.hdrN += k
			p = p[k:]
			typ, ver, length, err := recParseHeader(d.hdr[:d.hdrN])
			if err != nil {
				if !errors.Is(err, ErrTruncated) {
					d.fail(err)
				}
				continue
			}
			d.hdrN = 0
			d.beginRecord(typ, ver, length)

		case decV2Header:
			// The 2-byte form (high bit set) needs 2 bytes, the 3-byte
			// form 3.
			if d.hdrN == 0 {
				d.hdr[0] = p[0]
				d.hdrN, p = 1, p[1:]
			}
			need := 2
			if d.hdr[0]&0x80 == 0 {
				need = 3
			}
			k := copy(d.hdr[d.hdrN:need], p)
			d.hdrN += k
			p = p[k:]
			if d.hdrN < need {
				continue
			}
			_, length, err := v2ParseHeader(d.hdr[:d.hdrN])
			d.hdrN = 0
			if err != nil {
				d.fail(err)
				continue
			}
			if length > d.maxMessage {
				d.fail(perr("SSLv2 record", "length", ErrTooLarge))
				continue
			}
			d.recType, d.recVer, d.remain, d.mode = 0, VersionSSL20, length, decModeSSLv2
			d.state = decPayload

		case decPayload:
			k := min(d.remain, len(p))
			chunk := p[:k]
			p = p[k:]
			d.remain -= k
			switch d.mode {
			case decModeHandshake:
				d.appendHandshake(chunk)
			case decModeSSLv2:
				d.hs = append(d.hs, chunk...)
			case decModeAlert, decModeCCS, decModeClassify:
				d.coll = append(d.coll, chunk...)
			}
			if d.remain == 0 && d.err == nil {
				d.endRecord()
			}
		}
	}
	if d.err != nil {
		return total - len(p), d.err
	}
	return total, nil
}

// compact drops the handshake bytes and events already delivered, when all
// are.
func (d *Decoder) compact() {
	if d.qHead < len(d.queue) {
		return
	}
	d.queue, d.qHead = d.queue[:0], 0
	if d.hsDone > 0 {
		n := copy(d.hs, d.hs[d.hsDone:])
		d.hs, d.hsDone = d.hs[:n], 0
	}
}

func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *Decoder) push(ev Event, off, end int) {
	d.queue = append(d.queue, decQueued{ev: ev, off: off, end: end})
}

// beginRecord chooses what to do with a record once its header is read.
func (d *Decoder) beginRecord(typ ContentType, ver Version, length int) {
	d.recType, d.recVer, d.remain = typ, ver, length
	d.state = decPayload
	partial := len(d.hs) > d.hsDone
	switch {
	// RFC 8446 §5.1: "Handshake messages MUST NOT be interleaved with
	// other record types." Alerts are let through: a peer aborting
	// mid-message is worth reporting.
	case partial && typ != ContentHandshake && typ != ContentAlert:
		d.fail(perr("record", "interleaved "+typ.String(), ErrUnexpected))
		return

	// RFC 8446 §5.1, RFC 5246 §6.2.1: handshake messages may span
	// records; the continuation of one goes on being reassembled.
	case typ == ContentHandshake && (!d.ccs || partial):
		d.mode = decModeHandshake

	// RFC 8446 Appendix D.4: after a middlebox-compatibility
	// change_cipher_spec, the second ClientHello (or the ServerHello after
	// a HelloRetryRequest) is still plaintext.
	case typ == ContentHandshake && d.tls13:
		d.mode = decModeClassify

	// RFC 8446 §6, RFC 5246 §7.2: plaintext alerts are two bytes each.
	case typ == ContentAlert && !d.ccs:
		if length == 0 || length%2 != 0 {
			d.fail(perr("alert record", "length", ErrMalformed))
			return
		}
		d.mode = decModeAlert
	case typ == ContentAlert && length == 2:
		d.mode = decModeAlert

	// RFC 5246 §7.1, RFC 8446 §5: ChangeCipherSpec is the single byte 1.
	case typ == ContentChangeCipherSpec && length == 1:
		d.mode = decModeCCS
	case typ == ContentChangeCipherSpec && !d.ccs:
		d.fail(perr("change_cipher_spec", "length", ErrMalformed))
		return

	// application_data, heartbeat (RFC 6520), and everything protected.
	default:
		d.mode = decModeSkip
		d.push(Event{Kind: EventEncrypted, RecordType: typ, RecordVersion: ver, Length: length}, 0, 0)
	}
	if length == 0 {
		d.endRecord()
	}
}

// endRecord finishes the current record after its last payload byte.
func (d *Decoder) endRecord() {
	switch d.mode {
	case decModeAlert:
		s := cryptobyte.String(d.coll)
		for !s.Empty() {
			var pair []byte
			if !s.ReadBytes(&pair, 2) {
				d.fail(perr("alert record", "length", ErrMalformed))
				break
			}
			a, err := ParseAlert(pair)
			switch {
			case err == nil:
				d.push(Event{Kind: EventAlert, RecordType: d.recType, RecordVersion: d.recVer, Alert: a, Length: len(d.coll)}, 0, 0)
			case d.ccs:
				// Not a plaintext alert after all.
				d.push(Event{Kind: EventEncrypted, RecordType: d.recType, RecordVersion: d.recVer, Length: len(d.coll)}, 0, 0)
			default:
				d.fail(err)
			}
		}

	case decModeCCS:
		// RFC 5246 §7.1: enum { change_cipher_spec(1), (255) } type.
		s := cryptobyte.String(d.coll)
		var v uint8
		valid := s.ReadUint8(&v) && v == 1
		if !valid && !d.ccs {
			d.fail(perr("change_cipher_spec", "type", ErrMalformed))
			break
		}
		if !valid {
			d.push(Event{Kind: EventEncrypted, RecordType: d.recType, RecordVersion: d.recVer, Length: 1}, 0, 0)
			break
		}
		d.ccs = true
		d.push(Event{Kind: EventChangeCipherSpec, RecordType: d.recType, RecordVersion: d.recVer, Length: 1}, 0, 0)

	case decModeClassify:
		if decPlainHello(d.coll) {
			d.appendHandshake(d.coll)
		} else {
			d.push(Event{Kind: EventEncrypted, RecordType: d.recType, RecordVersion: d.recVer, Length: len(d.coll)}, 0, 0)
		}

	case decModeSSLv2:
		body := d.hs[d.hsDone:]
		if d.v2First {
			// The first record must be an SSLv2 message
			// (draft-hickman-netscape-ssl-00 message codes 0–8).
			s := cryptobyte.String(body)
			var msgType, major uint8
			if !s.ReadUint8(&msgType) || msgType > SSLv2MsgClientCertificate {
				d.fail(perr("SSLv2 record", "msg-type", ErrMalformed))
				break
			}
			// RFC 5246 Appendix E.2: after an SSLv2-compatible
			// CLIENT-HELLO the client goes on in TLS records.
			if msgType == SSLv2MsgClientHello && s.ReadUint8(&major) && major == 3 {
				d.v2Stream = false
			}
			d.v2First = false
		}
		d.push(Event{Kind: EventSSLv2, RecordVersion: VersionSSL20, Length: len(body)}, d.hsDone, len(d.hs))
		d.hsDone = len(d.hs)
	}
	d.coll = d.coll[:0]
	d.state = decHeader
	if d.v2Stream {
		d.state = decV2Header
	}
}

// appendHandshake adds record payload to the handshake buffer and queues
// every message it completes.
func (d *Decoder) appendHandshake(chunk []byte) {
	if len(d.hs) == d.hsDone {
		d.msgVer = d.recVer
	}
	d.hs = append(d.hs, chunk...)
	for {
		// RFC 8446 §4: HandshakeType msg_type; uint24 length; body.
		s := cryptobyte.String(d.hs[d.hsDone:])
		var typ uint8
		var length uint32
		if !s.ReadUint8(&typ) || !s.ReadUint24(&length) {
			return
		}
		size := 4 + int(length)
		if size > d.maxMessage {
			d.fail(perr("handshake", "length", ErrTooLarge))
			return
		}
		if len(s) < int(length) {
			return
		}
		end := d.hsDone + size
		msg := d.hs[d.hsDone:end]
		if (HandshakeType(typ) == TypeClientHello || HandshakeType(typ) == TypeServerHello) && decHelloTLS13(msg) {
			d.tls13 = true
		}
		d.push(Event{Kind: EventHandshake, RecordType: ContentHandshake, RecordVersion: d.msgVer,
			HandshakeType: HandshakeType(typ), Length: size}, d.hsDone, end)
		d.hsDone = end
		d.msgVer = d.recVer
	}
}

// decTLS13 reports whether v is TLS 1.3 or one of its drafts (0x7fNN).
func decTLS13(v uint16) bool {
	return v == uint16(VersionTLS13) || v&0xff00 == 0x7f00
}

// decHelloTLS13 reports whether msg, a whole ClientHello or ServerHello,
// offers (client) or selects (server) TLS 1.3 in supported_versions
// (RFC 8446 §4.2.1), or is a HelloRetryRequest (§4.1.3). Malformed hellos
// report false; the caller's parser will say why.
func decHelloTLS13(msg []byte) bool {
	s := cryptobyte.String(msg)
	var typ uint8
	var length uint32
	var version uint16
	var random []byte
	var sid, exts cryptobyte.String
	if !s.ReadUint8(&typ) || !s.ReadUint24(&length) || !s.ReadUint16(&version) || !s.ReadBytes(&random, 32) {
		return false
	}
	// Drafts of TLS 1.3 before 22 put their version in the ServerHello's
	// version field.
	if HandshakeType(typ) == TypeServerHello && decTLS13(version) {
		return true
	}
	if !s.ReadUint8LengthPrefixed(&sid) {
		return false
	}
	if HandshakeType(typ) == TypeServerHello {
		// RFC 8446 §4.1.3: cipher_suite, legacy_compression_method.
		if string(random) == HelloRetryRequestRandom {
			return true
		}
		if !s.Skip(3) {
			return false
		}
	} else {
		// RFC 8446 §4.1.2: cipher_suites<2..2^16-2>,
		// legacy_compression_methods<1..2^8-1>.
		var suites, comp cryptobyte.String
		if !s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) {
			return false
		}
	}
	if !s.ReadUint16LengthPrefixed(&exts) {
		return false
	}
	for !exts.Empty() {
		var et uint16
		var data cryptobyte.String
		if !exts.ReadUint16(&et) || !exts.ReadUint16LengthPrefixed(&data) {
			return false
		}
		if et != ExtSupportedVersions {
			continue
		}
		var v uint16
		if HandshakeType(typ) == TypeServerHello {
			return data.ReadUint16(&v) && decTLS13(v)
		}
		var list cryptobyte.String
		if !data.ReadUint8LengthPrefixed(&list) {
			return false
		}
		for list.ReadUint16(&v) {
			if decTLS13(v) {
				return true
			}
		}
		return false
	}
	return false
}

// decPlainHello reports whether a record payload received after
// change_cipher_spec is a plaintext ClientHello or ServerHello: a hello
// header whose length, with a version of major 3, fills the record exactly
// (or overflows a full 2^14-byte record). A ciphertext passes with a
// probability of about 2^-39.
func decPlainHello(p []byte) bool {
	s := cryptobyte.String(p)
	var typ, major uint8
	var length uint32
	if !s.ReadUint8(&typ) || !s.ReadUint24(&length) || !s.ReadUint8(&major) {
		return false
	}
	if HandshakeType(typ) != TypeClientHello && HandshakeType(typ) != TypeServerHello || major != 3 || length < 38 {
		return false
	}
	size := 4 + int(length)
	return size == len(p) || (size > len(p) && len(p) == MaxPlaintext)
}

// ReadEvent returns the next event of d, reading from r into buf as needed
// (a 4 KiB buffer is allocated when buf is empty). At the end of r it
// returns io.EOF, or io.ErrUnexpectedEOF when the stream stops inside a
// record. Other errors are the decoder's (see Decoder) or r's. The event's
// Message is valid until the next ReadEvent or Write on d.
func ReadEvent(r io.Reader, d *Decoder, buf []byte) (Event, error) {
	if len(buf) == 0 {
		buf = make([]byte, 4096)
	}
	for {
		ev, err := d.Next()
		if err != ErrNeedMore {
			return ev, err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			// A decoding error is reported by Next, after the events
			// before it.
			_, _ = d.Write(buf[:n])
			if ev, err := d.Next(); err != ErrNeedMore {
				return ev, err
			}
		}
		switch {
		case rerr == io.EOF && d.midRecord():
			return Event{}, io.ErrUnexpectedEOF
		case rerr != nil:
			return Event{}, rerr
		}
	}
}
