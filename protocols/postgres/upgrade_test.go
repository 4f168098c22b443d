package postgres

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is PostgreSQL for the shared failure-mode table. The whole
// dialogue is the SSLRequest and its answer, so every failure is at
// protocols.StageSTARTTLS.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer,
	MaxLine: DefaultMaxLine, MaxLines: DefaultMaxLines,
	NoAnyway: "the answer 'N' to the SSLRequest is the server's only word on TLS",
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageSTARTTLS}, // 'N'
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // ErrorResponse 08P01
		fakemail.DelayGreeting: {Stage: protocols.StageSTARTTLS},
		fakemail.Tarpit:        {Stage: protocols.StageSTARTTLS},
		// A protocol-2 error text that never ends: one message too long.
		fakemail.Endless:  {Stage: protocols.StageSTARTTLS, Err: protocols.ErrLineTooLong},
		fakemail.LongLine: {Stage: protocols.StageSTARTTLS}, // an ErrorResponse claiming 1 MiB
		fakemail.CloseMid: {Stage: protocols.StageSTARTTLS},
		fakemail.Throttle: {Stage: protocols.StageSTARTTLS}, // 53300 too many clients
	},
	Normal: protocols.Dialogue{Protocol: Name, STARTTLSAdvertised: true, Attributes: map[string]string{AttrAnswer: "S"}},
	Said:   []string{"SSLRequest"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// TestUpgradeAnswers runs Upgrade against one-off answers real servers
// give that the canned modes do not cover.
func TestUpgradeAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		err          error
		temporary    bool
		reply        string
	}{
		{"starting-up", errorMessage("S", "FATAL", "V", "FATAL", "C", "57P03", "M", "the database system is starting up"), protocols.ErrThrottled, true, "FATAL 57P03 the database system is starting up"},
		{"out-of-memory", errorMessage("S", "FATAL", "C", "53200", "M", "out of memory"), protocols.ErrThrottled, true, "FATAL 53200 out of memory"},
		{"cannot-fork-v2", "Ecould not fork new process for connection: Resource temporarily unavailable\n\x00", protocols.ErrThrottled, true, "could not fork new process for connection: Resource temporarily unavailable"},
		{"v2-other", "EFATAL: unsupported frontend protocol\n\x00", protocols.ErrSTARTTLSRefused, false, "FATAL: unsupported frontend protocol"},
		{"localised-severity-only", errorMessage("S", "FATAL", "C", "28000", "M", "no pg_hba.conf entry"), protocols.ErrSTARTTLSRefused, false, "FATAL 28000 no pg_hba.conf entry"},
		{"short-length", "E\x00\x00\x00\x03", protocols.ErrMalformed, false, "ErrorResponse of length 3"},
		{"unterminated-fields", "E\x00\x00\x00\x08SFAT", protocols.ErrMalformed, false, "SFAT"},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n", protocols.ErrUnexpectedReply, false, "0x48"},
		{"closed", "", io.EOF, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakemail.Start(t, func(c *fakemail.Conn) {
				req := make([]byte, 8)
				if _, err := c.Reader().Read(req); err != nil {
					return
				}
				_ = c.Send(tc.answer)
			})
			conn := fakemail.Dial(t, srv.Addr)
			d, err := Upgrade(context.Background(), conn, protocols.Options{})
			var e *protocols.Error
			if !errors.As(err, &e) || !errors.Is(err, tc.err) || e.Temporary != tc.temporary || e.Reply != tc.reply || e.Stage != protocols.StageSTARTTLS {
				t.Fatalf("error %v (%+v), want %v temporary %v reply %q", err, e, tc.err, tc.temporary, tc.reply)
			}
			if d == nil || d.Protocol != Name || d.STARTTLSAdvertised {
				t.Errorf("dialogue %+v", d)
			}
		})
	}
}

// errorSeeds seed FuzzParseErrorFields: the bodies of the ErrorResponses
// above.
var errorSeeds = prototest.ParserSeeds{Target: "FuzzParseErrorFields", Seeds: map[string][]byte{
	"too-many-clients": []byte(tooManyClients[5:]),
	"unsupported":      []byte(unsupported[5:]),
	"starting-up":      []byte(errorMessage("S", "FATAL", "V", "FATAL", "C", "57P03", "M", "the database system is starting up")[5:]),
	"empty":            {0},
	"unterminated":     []byte("SFATAL"),
}}

func TestParseErrorFieldsCorpus(t *testing.T) { errorSeeds.TestCorpus(t) }

// FuzzParseErrorFields: the ErrorResponse parser never panics, and what
// it accepts ends with its terminator and renders without control bytes
// but those the fields carried.
func FuzzParseErrorFields(f *testing.F) {
	errorSeeds.Require(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		e, ok := parseErrorFields(b, DefaultMaxLines)
		if !ok {
			return
		}
		if len(b) == 0 || b[len(b)-1] != 0 || e.fields > DefaultMaxLines {
			t.Fatalf("accepted %q as %+v", b, e)
		}
		_ = e.String()
		_ = e.throttled()
	})
}
