package rdp

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsmap/tlsmap/internal/fakemail"
	"github.com/tlsmap/tlsmap/protocols"
	"github.com/tlsmap/tlsmap/protocols/internal/prototest"
)

// upgrade is RDP for the shared failure-mode table. The whole dialogue is
// the Connection Request and its Confirm, so every failure is at
// protocols.StageSTARTTLS.
var upgrade = prototest.Upgrade{
	Protocol: Protocol, Server: fakeServer,
	MaxLine: DefaultMaxLine, MaxLines: 1,
	NoAnyway: "the Connection Confirm is the server's only word on TLS",
	Fails: map[fakemail.Mode]prototest.Failure{
		fakemail.NoSTARTTLS:    {Stage: protocols.StageSTARTTLS}, // a confirm without negotiation: standard RDP security
		fakemail.Refuse:        {Stage: protocols.StageSTARTTLS}, // SSL_CERT_NOT_ON_SERVER
		fakemail.RefuseBad:     {Stage: protocols.StageSTARTTLS}, // an X.224 Disconnect Request
		fakemail.DelayGreeting: {Stage: protocols.StageSTARTTLS},
		fakemail.Tarpit:        {Stage: protocols.StageSTARTTLS},
		// TPKT headers claiming 64 KiB, endlessly: too long before a
		// byte of the first is read (a TPKT holds at most 64 KiB).
		fakemail.Endless:  {Stage: protocols.StageSTARTTLS, Err: protocols.ErrLineTooLong},
		fakemail.LongLine: {Stage: protocols.StageSTARTTLS},
		fakemail.CloseMid: {Stage: protocols.StageSTARTTLS},
		fakemail.Throttle: {Absent: "RDP has no reply that asks a client to come back later: a busy server closes or resets the connection"},
	},
	Normal: protocols.Dialogue{Protocol: Name, STARTTLSAdvertised: true,
		Capabilities: []string{"EXTENDED_CLIENT_DATA_SUPPORTED", "DYNVC_GFX_PROTOCOL_SUPPORTED", "NEGRSP_FLAG_RESERVED",
			"RESTRICTED_ADMIN_MODE_SUPPORTED", "REDIRECTED_AUTHENTICATION_MODE_SUPPORTED"},
		Attributes: map[string]string{AttrSelected: "PROTOCOL_SSL"}},
	Said: []string{"request 0x00000003"},
}

func TestUpgrade(t *testing.T) { upgrade.Test(t) }

// dialer returns an Options.Dial for addr.
func dialer(addr string) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// TestUpgradeProbe: with Options.Probe the dialogue first asks, on a
// connection of its own, for standard RDP security only, and records the
// answer; the upgrade on conn is unchanged.
func TestUpgradeProbe(t *testing.T) {
	for _, tc := range []struct {
		name, answer, want string
	}{
		{"rdp-selected", selectRDP, "accepted (PROTOCOL_RDP selected)"},
		{"legacy", legacy, "accepted (no negotiation response)"},
		{"ssl-required", sslRequired, "refused (SSL_REQUIRED_BY_SERVER)"},
		{"disconnect", disconnect, "refused (X.224 Disconnect Request)"},
		{"ssl-selected-anyway", selectSSL, "refused (PROTOCOL_SSL selected though not requested)"},
		{"closed", "", "unknown (rdp: starttls: connection closed by the server)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakemail.Start(t, func(c *fakemail.Conn) {
				req, ok := readRequest(c)
				switch {
				case !ok:
				case req.requested == protocolRDP:
					_ = c.Send(tc.answer)
				case c.Send(selectSSL) == nil:
					_ = c.ServeTLS()
				}
			})
			conn := fakemail.Dial(t, srv.Addr)
			d, err := Upgrade(context.Background(), conn, protocols.Options{Probe: true, Dial: dialer(srv.Addr)})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Attributes[AttrStandardSecurity]; got != tc.want {
				t.Errorf("standard security %q, want %q", got, tc.want)
			}
			if _, err := fakemail.TLSHandshake(conn); err != nil {
				t.Fatalf("TLS after the probe: %v", err)
			}
			if l := srv.Lines(); !slices.Equal(l, []string{"request 0x00000000", "request 0x00000003"}) {
				t.Errorf("client said %q", l)
			}
		})
	}
	// Without Dial, or without Probe, no probe.
	srv := fakemail.Start(t, fakeServer(fakemail.Normal))
	for _, opts := range []protocols.Options{{Probe: true}, {Dial: dialer(srv.Addr)}} {
		d, err := Upgrade(context.Background(), fakemail.Dial(t, srv.Addr), opts)
		if _, probed := d.Attributes[AttrStandardSecurity]; err != nil || probed {
			t.Errorf("%+v: %v, probed %v", opts, err, probed)
		}
	}
	// A probe that hangs is bounded by the dialogue's timeout, which it
	// uses up: the dialogue times out, the probe learnt nothing.
	tarpit := fakemail.Start(t, func(c *fakemail.Conn) {
		if req, ok := readRequest(c); ok && req.requested != protocolRDP && c.Send(selectSSL) == nil {
			_ = c.ServeTLS()
		}
		time.Sleep(5 * time.Second)
	})
	start := time.Now()
	d, err := Upgrade(context.Background(), fakemail.Dial(t, tarpit.Addr), protocols.Options{Probe: true, Dial: dialer(tarpit.Addr), Timeout: time.Second})
	if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.HasPrefix(d.Attributes[AttrStandardSecurity], "unknown (") || time.Since(start) > 3*time.Second {
		t.Errorf("hanging probe: %v after %v, %q", err, time.Since(start), d.Attributes[AttrStandardSecurity])
	}
}

// TestUpgradeConfirms runs Upgrade against one-off confirms the canned
// modes do not cover.
func TestUpgradeConfirms(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		err          error
		selected     string
	}{
		{"hybrid", confirmPDU(typeNegRsp, 0, protocolHybrid), nil, "PROTOCOL_HYBRID"},
		{"hybrid-ex", confirmPDU(typeNegRsp, 0, protocolHybridEx), nil, "PROTOCOL_HYBRID_EX"},
		{"rdp-selected", selectRDP, protocols.ErrNoTLS, "PROTOCOL_RDP"},
		{"ssl-not-allowed", confirmPDU(typeNegFailure, 0, failSSLNotAllowed), protocols.ErrNoTLS, "SSL_NOT_ALLOWED_BY_SERVER"},
		{"user-auth-required", confirmPDU(typeNegFailure, 0, failSSLWithUserAuthReqd), protocols.ErrSTARTTLSRefused, "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"},
		{"tpdu-error", string(tpkt([]byte{4, tpduER, 0, 0, 0})), protocols.ErrSTARTTLSRefused, ""},
		{"not-tpkt", "HTTP/1.1 400 Bad Request\r\n\r\n", protocols.ErrMalformed, ""},
		{"bad-negotiation-length", string(tpkt([]byte{14, tpduCC, 0, 0, 0, 0, 0, typeNegRsp, 0, 9, 0, 1, 0, 0, 0})), protocols.ErrMalformed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakemail.Start(t, func(c *fakemail.Conn) {
				if _, ok := readRequest(c); ok {
					_ = c.Send(tc.answer)
					if tc.err == nil {
						_ = c.ServeTLS()
					}
				}
			})
			conn := fakemail.Dial(t, srv.Addr)
			d, err := Upgrade(context.Background(), conn, protocols.Options{})
			var e *protocols.Error
			if tc.err == nil && err != nil || tc.err != nil && (!errors.As(err, &e) || !errors.Is(err, tc.err) || e.Stage != protocols.StageSTARTTLS) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if d.Attributes[AttrSelected] != tc.selected || d.STARTTLSAdvertised != (tc.err == nil) {
				t.Errorf("dialogue %+v", d)
			}
			if tc.err == nil {
				if _, err := fakemail.TLSHandshake(conn); err != nil {
					t.Fatalf("TLS after %s: %v", tc.selected, err)
				}
			}
		})
	}
}

// TestConnectionRequest: the request is the 19-byte PDU Windows' client
// sends without a cookie: TPKT, X.224 CR, RDP_NEG_REQ.
func TestConnectionRequest(t *testing.T) {
	got := connectionRequest(protocolSSL | protocolHybrid)
	want := "\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00"
	if string(got) != want {
		t.Fatalf("% x, want % x", got, want)
	}
	r, ok := parseRequest(got[tpktHeader:])
	if !ok || !r.negotiated || r.requested != 3 {
		t.Errorf("parsed back as %+v %v", r, ok)
	}
}
