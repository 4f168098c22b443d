package scan

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/tlsmap/tlsmap/protocols"
)

// ProtoAuto is the scheme of a target whose protocol is to be found
// (--starttls auto, or auto://host:port): ScanTarget detects it
// (protocols.Detect) before the scan, scans with the scheme found, and
// says how it was found in Result.Detected. It needs a port.
const ProtoAuto Protocol = "auto"

// DefaultGreetingWait is how long the detection of an auto target waits
// for a server that speaks first (Options.GreetingWait).
const DefaultGreetingWait = 3 * time.Second

// Detection is how the protocol of an auto target was found.
type Detection struct {
	// Protocol is the scheme scanned (smtp, postgres, ldaps, tls …); ""
	// when none was found.
	Protocol Protocol `json:"protocol"`
	// Evidence says from what: "greeting \"220 mx ESMTP Postfix\"", "the
	// server is silent; the rdp dialogue of port 3389 answered" …
	Evidence string `json:"evidence"`
	// Connections is the number of connections the detection opened (not
	// counted in Handshakes, which count ClientHellos).
	Connections int `json:"connections"`
}

// detect finds the protocol of t (Protocol ProtoAuto) with
// protocols.Detect: its plain connections come from opts.Dialer as for
// implicit TLS, and a dialogue that confirms a protocol runs through
// opts.Dialer too (so that what it learnt is the endpoint's Dialogue).
func detect(ctx context.Context, opts Options, t Target) (*Detection, error) {
	raw := t
	raw.Protocol = ProtoTLS
	dial := func(ctx context.Context) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		return opts.Dialer.Dial(ctx, raw)
	}
	try := func(ctx context.Context, p *protocols.Protocol, s protocols.Scheme) error {
		tt := t
		tt.Protocol = Protocol(s.Name)
		ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		conn, err := opts.Dialer.Dial(ctx, tt)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	wait := opts.GreetingWait
	if wait <= 0 {
		wait = DefaultGreetingWait
	}
	d, err := protocols.Detect(ctx, dial, protocols.DetectOptions{Port: t.Port, GreetingWait: wait, Try: try})
	det := &Detection{Evidence: d.Evidence, Connections: d.Connections}
	if err != nil {
		if det.Evidence == "" {
			det.Evidence = err.Error()
		}
		return det, err
	}
	det.Protocol = ProtoTLS
	if d.Protocol != nil {
		det.Protocol = Protocol(d.Scheme.Name)
	}
	return det, nil
}

// detectFailure is the status and failure of an auto target whose
// protocol was not found.
func detectFailure(ctx context.Context, err error) (Status, Failure) {
	switch {
	case ctx.Err() != nil:
		return StatusInconclusive, cancelled
	case errors.Is(err, protocols.ErrNotDetected):
		return StatusUnreachable, Failure{Stage: StagePreamble, Reason: strings.TrimPrefix(err.Error(), "protocols: ")}
	}
	return endpointError(err)
}
