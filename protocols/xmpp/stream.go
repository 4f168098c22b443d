package xmpp

import (
	"encoding/xml"
	"errors"
	"io"

	"github.com/tlsmap/tlsmap/protocols"
)

// tokenReader reads the server's XML stream one token at a time with
// encoding/xml over an io.ByteReader that reads the connection a byte at
// a time: the decoder then reads nothing beyond the token it returns (but
// the one byte after a text, which it keeps for the next token), so after
// <proceed/> the connection is at the server's first TLS byte. Each token
// is bounded by max bytes (protocols.ErrLineTooLong beyond).
type tokenReader struct {
	dec *xml.Decoder
	br  *boundedReader
}

func newTokenReader(r io.ByteReader, max int) *tokenReader {
	br := &boundedReader{r: r, max: max}
	dec := xml.NewDecoder(br)
	dec.Strict = true
	return &tokenReader{dec: dec, br: br}
}

// next returns the next token, copied (encoding/xml reuses its buffers).
// A DTD, which XMPP forbids (RFC 6120 §11.1), is ErrMalformed; the end
// of the stream inside a token io.ErrUnexpectedEOF.
func (t *tokenReader) next() (xml.Token, error) {
	t.br.n = 0
	tok, err := t.dec.Token()
	if err != nil {
		var se *xml.SyntaxError
		switch {
		case errors.Is(err, protocols.ErrLineTooLong):
			return nil, protocols.ErrLineTooLong
		case errors.As(err, &se) && se.Msg == "unexpected EOF":
			return nil, io.ErrUnexpectedEOF
		case errors.As(err, &se):
			return nil, protocols.ErrMalformed
		}
		return nil, err
	}
	if _, ok := tok.(xml.Directive); ok {
		return nil, protocols.ErrMalformed
	}
	return xml.CopyToken(tok), nil
}

// boundedReader counts the bytes of one token.
type boundedReader struct {
	r      io.ByteReader
	n, max int
}

func (b *boundedReader) ReadByte() (byte, error) {
	if b.n++; b.n > b.max {
		return 0, protocols.ErrLineTooLong
	}
	return b.r.ReadByte()
}

// Read is never called by encoding/xml on an io.ByteReader; it is there
// to make boundedReader an io.Reader.
func (b *boundedReader) Read(p []byte) (int, error) {
	for i := range p {
		c, err := b.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}

// attr returns the value of the attribute local (in no namespace) of a
// start element.
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == se.Name.Space) {
			return a.Value
		}
	}
	return ""
}

// is reports whether se is the element local of namespace ns.
func is(se xml.StartElement, ns, local string) bool {
	return se.Name.Space == ns && se.Name.Local == local
}
